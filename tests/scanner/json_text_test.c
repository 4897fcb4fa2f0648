/*
 * The scanner's JSON text builder: what it writes parses with jansson to exactly the
 * values given (every control character, quotes, backslashes, bytes above 0x7f kept),
 * commas land where they belong at any nesting, reals keep a decimal point.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "json_text.h"

int main(void)
{
    struct mts_jt t;
    char all[256];
    for (int i = 0; i < 255; i++)
        all[i] = (char)(i + 1); /* every byte but NUL */
    all[255] = '\0';
    const char utf8[] = "caf\xc3\xa9 \"q\" \\ /";

    mts_jt_init(&t);
    mts_jt_open(&t, '{');
    mts_jt_key(&t, "ctl");
    mts_jt_str(&t, all, 0x7f); /* 0x01..0x7f */
    mts_jt_key(&t, "utf8");
    mts_jt_cstr(&t, utf8);
    mts_jt_key(&t, "none");
    mts_jt_cstr(&t, NULL);
    mts_jt_key(&t, "n");
    mts_jt_int(&t, -9223372036854775807LL - 1);
    mts_jt_key(&t, "ms");
    mts_jt_real(&t, 12.0, 1);
    mts_jt_key(&t, "t");
    mts_jt_real(&t, 1795956533.053, 3);
    mts_jt_key(&t, "nested");
    mts_jt_open(&t, '[');
    mts_jt_open(&t, '{');
    mts_jt_close(&t, '}');
    mts_jt_open(&t, '[');
    mts_jt_bool(&t, true);
    mts_jt_bool(&t, false);
    mts_jt_close(&t, ']');
    mts_jt_raw(&t, "{\"x\":[1,2]}", 11);
    mts_jt_int(&t, 7);
    mts_jt_close(&t, ']');
    mts_jt_key(&t, "empty");
    mts_jt_str(&t, "", 0);
    mts_jt_close(&t, '}');
    size_t len = 0;
    char *text = mts_jt_take(&t, &len);
    CHECK(text != NULL);
    CHECK_INT((long)len, (long)strlen(text));

    json_error_t err;
    json_t *got = json_loads(text, 0, &err);
    if (!got)
        fprintf(stderr, "%s: %s\n", text, err.text);
    CHECK(got != NULL);
    json_t *want =
        json_pack("{s:s%, s:s, s:n, s:I, s:f, s:f, s:[{}, [b, b], {s:[i, i]}, i], s:s}", "ctl", all,
                  (size_t)0x7f, "utf8", utf8, "none", "n", (json_int_t)(-9223372036854775807LL - 1),
                  "ms", 12.0, "t", 1795956533.053, "nested", 1, 0, "x", 1, 2, 7, "empty", "");
    CHECK(want != NULL);
    CHECK(json_equal(got, want));
    CHECK(json_is_real(json_object_get(got, "ms"))); /* "12.0", not "12" */
    CHECK(strstr(text, "\"ms\":12.0,") != NULL);
    CHECK(strstr(text, "\\u001f") != NULL && strstr(text, "\\n") != NULL);
    json_decref(got);
    json_decref(want);
    free(text);

    /* The builder is empty again after take, and an empty text is "". */
    text = mts_jt_take(&t, &len);
    CHECK(text != NULL && len == 0 && text[0] == '\0');
    free(text);
    return check_exit();
}
