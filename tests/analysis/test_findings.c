/*
 * Why: a finding's message is printed and rendered as JSON, and jansson refuses a string
 * that is not UTF-8, which made a whole verdict's JSON fail (the view then lost it
 * silently). A message cut at its byte bound must not end inside a character, and bytes
 * from the record that are not UTF-8 must not reach it.
 */
#include <string.h>

#include "check.h"
#include "mts_findings.h"

/* Whether s is UTF-8, as jansson judges it. */
static bool is_utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

static void test_cut_inside_a_character(void)
{
    size_t room = sizeof((struct mts_finding *)0)->message - 1;
    for (size_t pad = room - 4; pad <= room; pad++) {
        char text[256];
        memset(text, 'a', pad);
        strcpy(text + pad, "\xc2\xa7 and \xe2\x80\x94 and \xf0\x9f\x93\xa7");
        struct mts_findings list = {0};
        CHECK_INT(mts_findings_add(&list, "x/y", MTS_SEV_WARNING, 0, "%s", text), 0);
        const char *m = list.v[0].message;
        CHECK(is_utf8(m));
        CHECK(strlen(m) <= room);
        CHECK(strlen(m) + 3 >= (pad < room ? room : pad)); /* only the cut character goes */
        CHECK(!memcmp(m, text, strlen(m)));
        json_t *j = mts_findings_json(&list);
        CHECK(j != NULL);
        json_decref(j);
        mts_findings_free(&list);
    }
}

static void test_bytes_not_utf8(void)
{
    struct mts_findings list = {0};
    CHECK_INT(mts_findings_add(&list, "x/y", MTS_SEV_ERROR, 3, "value %s end",
                               "a\xff"
                               "b\xc0\xaf"
                               "c\xed\xa0\x80"
                               "d\xe2\x80"),
              0);
    CHECK_STR(list.v[0].message, "value a?b??c???d?? end");
    CHECK_INT(mts_findings_add(&list, "x/y", MTS_SEV_ERROR, 3, "kept: \xc2\xa7 caf\xc3\xa9"), 0);
    CHECK_STR(list.v[1].message, "kept: \xc2\xa7 caf\xc3\xa9");
    json_t *j = mts_findings_json(&list);
    CHECK(j != NULL);
    json_decref(j);
    mts_findings_free(&list);
}

/*
 * A full list keeps telling whether there is an error and which: a new error code takes
 * the place of a warning, else of a repeated error; a code already listed is not added.
 */
static void test_full_list_keeps_errors(void)
{
    struct mts_findings list = {0};
    for (int i = 0; i < MTS_FINDINGS_MAX; i++)
        CHECK_INT(mts_findings_add(&list, "w/one", MTS_SEV_WARNING, 0, "w"), 0);
    CHECK(!list.truncated);
    CHECK(!mts_findings_has_error(&list));
    CHECK_INT(mts_findings_add(&list, "i/two", MTS_SEV_INFO, 0, "i"), 0);
    CHECK(list.truncated);
    CHECK(!mts_findings_has(&list, "i/two"));
    for (int i = 0; i < 2 * MTS_FINDINGS_MAX; i++)
        CHECK_INT(mts_findings_add(&list, "e/a", MTS_SEV_ERROR, 0, "a"), 0);
    CHECK_INT(list.n, MTS_FINDINGS_MAX);
    CHECK(mts_findings_has_error(&list));
    CHECK_STR(list.v[MTS_FINDINGS_MAX - 1].code, "e/a");
    CHECK_STR(list.v[MTS_FINDINGS_MAX - 2].code, "w/one");
    CHECK_INT(mts_findings_add(&list, "e/b", MTS_SEV_ERROR, 0, "b"), 0);
    CHECK_STR(list.v[MTS_FINDINGS_MAX - 1].code, "e/b");
    CHECK_STR(list.v[MTS_FINDINGS_MAX - 2].code, "e/a");
    CHECK_STR(list.v[MTS_FINDINGS_MAX - 3].code, "w/one");
    mts_findings_free(&list);

    for (int i = 0; i < MTS_FINDINGS_MAX; i++)
        CHECK_INT(mts_findings_add(&list, "e/a", MTS_SEV_ERROR, (unsigned)i + 1, "a"), 0);
    CHECK_INT(mts_findings_add(&list, "e/b", MTS_SEV_ERROR, 0, "b"), 0);
    CHECK_INT(mts_findings_add(&list, "e/c", MTS_SEV_ERROR, 0, "c"), 0);
    CHECK_INT(mts_findings_add(&list, "w/late", MTS_SEV_WARNING, 0, "w"), 0);
    CHECK_INT(list.n, MTS_FINDINGS_MAX);
    CHECK(mts_findings_has(&list, "e/b") && mts_findings_has(&list, "e/c"));
    CHECK(!mts_findings_has(&list, "w/late"));
    CHECK_INT(list.v[0].line, 1); /* the first of the repeats stays */
    mts_findings_free(&list);
}

int main(void)
{
    test_cut_inside_a_character();
    test_bytes_not_utf8();
    test_full_list_keeps_errors();
    return check_exit();
}
