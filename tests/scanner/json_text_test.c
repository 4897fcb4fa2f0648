/*
 * The scanner's JSON text builder: what it writes parses with jansson to exactly the
 * values given (every control character, quotes, backslashes, bytes above 0x7f kept),
 * commas land where they belong at any nesting, reals keep a decimal point; a jansson
 * tree is written byte for byte as the store's json_dumps writes it.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "json_text.h"
#include "mts_store.h"

/* A tree written by mts_jt_json, after a key, equals json_dumps with the store's flags. */
static void check_tree(json_t *v)
{
    CHECK(v != NULL);
    if (!v)
        return;
    char *want = json_dumps(v, MTS_STORE_JSON_FLAGS | JSON_ENCODE_ANY);
    struct mts_jt t;
    mts_jt_init(&t);
    mts_jt_open(&t, '{');
    mts_jt_key(&t, "k");
    mts_jt_json(&t, v);
    mts_jt_close(&t, '}');
    char *got = mts_jt_take(&t, NULL);
    CHECK(want != NULL && got != NULL);
    if (want && got) {
        size_t n = strlen(got);
        CHECK(n == strlen(want) + 6 && strncmp(got, "{\"k\":", 5) == 0 &&
              strncmp(got + 5, want, n - 6) == 0 && got[n - 1] == '}');
        if (n != strlen(want) + 6 || strncmp(got + 5, want, n - 6) != 0)
            fprintf(stderr, "want %s\ngot  %s\n", want, got);
    }
    free(want);
    free(got);
    json_decref(v);
}

/* Trees as the HTTPS fetcher builds them: every byte, reals of every magnitude, nesting. */
static void check_trees(const char *all)
{
    static const double reals[] = {0.0,     -0.0,  0.1,     12.0,     1795956533.053,
                                   1e21,    1e-7,  2.5e-5,  1e15,     123456.789012345678,
                                   5e-324,  1e308, -3.75,   0.000123, 100.0,
                                   4.94e-7, 1e100, 1.5e300, 99999.99, 1.0 / 3.0};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        check_tree(json_real(reals[i]));
    check_tree(json_integer(-9223372036854775807LL - 1));
    check_tree(json_stringn(all, 0x7f)); /* 0x01..0x7f */
    check_tree(json_string("caf\xc3\xa9 \xf0\x9f\x94\x92 \"q\" \\ /"));
    check_tree(json_pack("{}"));
    check_tree(json_pack("[]"));
    check_tree(json_pack("[n, b, b, [], {}, [[i]]]", 1, 0, 1));
    json_t *keys = json_object();
    json_object_set_new(keys, "a\"b\\c\n\x01", json_string("v"));
    json_object_set_new(keys, "caf\xc3\xa9", json_null());
    check_tree(keys);
    check_tree(json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:i, s:s, s:{s:s, s:I, s:b, s:s}, "
                         "s:{s:s, s:[s, s]}, s:{s:f, s:f, s:f, s:f}}",
                         "url", "https://mta-sts.example/.well-known/mta-sts.txt", "why", "txt",
                         "result", "ok", "addr", "192.0.2.1", "port", 443, "curl_code", 0,
                         "curl_error", "", "http_status", 200, "content_type", "text/plain\x1b[0m",
                         "body", "sha256", "00", "len", (json_int_t)81, "truncated", 0, "text",
                         "version: STSv1\r\nmode: enforce\n", "tls", "version", "TLSv1.3", "chain",
                         "MIIB", "MIIC", "ms", "connect", 0.123, "tls", 12.5, "first_byte", 678.888,
                         "total", 1000.0));
}

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

    check_trees(all);
    return check_exit();
}
