/*
 * Why: the "_mta-sts" TXT record decides whether a sender looks for a policy at all; these
 * cases pin down RFC 8461 §3.1 and the traps public tools fell into (white space before
 * ";", base64 ids, several records, strings split anywhere).
 */
#include <string.h>

#include "check.h"
#include "mts_sts_record.h"

/* Parse one record given as a C string; return the first error code or "" when valid. */
static const char *verdict(const char *text, char *id, size_t idlen)
{
    static char code[80];
    struct mts_sts_record r;
    CHECK_INT(mts_sts_record_parse_text(&r, text, strlen(text)), 0);
    code[0] = '\0';
    for (size_t i = 0; i < r.findings.n; i++)
        if (r.findings.v[i].severity == MTS_SEV_ERROR) {
            snprintf(code, sizeof code, "%s", r.findings.v[i].code);
            break;
        }
    CHECK(r.valid == (code[0] == '\0'));
    if (id)
        snprintf(id, idlen, "%s", r.id ? r.id : "");
    mts_sts_record_free(&r);
    return code;
}

/* The first finding of a record as "code: message", the way reports print it. */
static const char *first_finding(const char *text)
{
    static char line[200];
    struct mts_sts_record r;
    CHECK_INT(mts_sts_record_parse_text(&r, text, strlen(text)), 0);
    CHECK(r.findings.n > 0);
    snprintf(line, sizeof line, "%s: %s", r.findings.n ? r.findings.v[0].code : "",
             r.findings.n ? r.findings.v[0].message : "");
    mts_sts_record_free(&r);
    return line;
}

/* The tag-list faults judged in common with TLS-RPT keep this record's codes and words. */
static void test_grammar_findings(void)
{
    CHECK_STR(first_finding("v=STSv1"), "sts-txt-invalid/missing-id: no field after v=STSv1");
    CHECK_STR(first_finding("v=STSv1; id=1; \xc3\xa4=1"),
              "sts-txt-invalid/non-ascii: a byte outside US-ASCII");
    CHECK_STR(first_finding("v=STSv1; id=1; =x"), "sts-txt-invalid/syntax: bad field name");
    CHECK_STR(first_finding("v=STSv1; id=1; x=="),
              "sts-txt-invalid/syntax: bad value for extension field x");
}

static void test_valid(void)
{
    char id[64];
    CHECK_STR(verdict("v=STSv1; id=20240101T000000", id, sizeof id), "");
    CHECK_STR(id, "20240101T000000");
    CHECK_STR(verdict("v=STSv1;id=1", id, sizeof id), "");
    CHECK_STR(verdict("v=STSv1 ; id=1", id, sizeof id), ""); /* WSP before ";" is legal */
    CHECK_STR(id, "1");
    CHECK_STR(verdict("v=STSv1;\tid=abc;", NULL, 0), "");  /* optional final ";" */
    CHECK_STR(verdict("v=STSv1; id=abc ; ", NULL, 0), ""); /* final delimiter with WSP */
    CHECK_STR(verdict("v=STSv1; id=abc; ext.x-y_z=v!:<>", NULL, 0), ""); /* extension */
    CHECK_STR(verdict("v=STSv1; id=12345678901234567890123456789012", NULL, 0), "");
}

static void test_invalid(void)
{
    char id[64];
    CHECK_STR(verdict("v=STSv1;", NULL, 0), "sts-txt-invalid/missing-id");
    CHECK_STR(verdict("v=STSv1", NULL, 0), "sts-txt-invalid/missing-id");
    CHECK_STR(verdict("v=STSv1; foo=bar", NULL, 0), "sts-txt-invalid/missing-id");
    CHECK_STR(verdict("v=STSv1; ID=1", NULL, 0), "sts-txt-invalid/missing-id");
    CHECK_STR(verdict("v=STSv1; id=", NULL, 0), "sts-txt-invalid/bad-id");
    CHECK_STR(verdict("v=STSv1; id=abc+def", id, sizeof id), "sts-txt-invalid/bad-id");
    CHECK_STR(id, "abc+def");
    CHECK_STR(verdict("v=STSv1; id=abc/def", NULL, 0), "sts-txt-invalid/bad-id");
    CHECK_STR(verdict("v=STSv1; id=2024-01-01", NULL, 0), "sts-txt-invalid/bad-id");
    CHECK_STR(verdict("v=STSv1; id=123456789012345678901234567890123", NULL, 0),
              "sts-txt-invalid/bad-id");
    CHECK_STR(verdict("v=STSv1 id=1", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv1; id=1 x=2", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv1; id=1;;", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv1; id=1 ", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv1;; id=1", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv10; id=1", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv1; id=1; x=a=b", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv1; id=1; _x=1", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv1; id=1; x", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv1; id=1\n", NULL, 0), "sts-txt-invalid/syntax");
    CHECK_STR(verdict("v=STSv1; id=1; \xc3\xa4=1", NULL, 0), "sts-txt-invalid/non-ascii");
}

static void test_first_wins(void)
{
    struct mts_sts_record r;
    const char *t = "v=STSv1; id=first; id=second";
    CHECK_INT(mts_sts_record_parse_text(&r, t, strlen(t)), 0);
    CHECK(r.valid);
    CHECK_STR(r.id, "first");
    CHECK(mts_findings_has(&r.findings, "sts-txt-warning/duplicate-field"));
    mts_sts_record_free(&r);
}

static void test_rrset(void)
{
    /* One record split into strings at awkward places, beside unrelated TXT records. */
    struct mts_txt_string spf[] = {{(const unsigned char *)"v=spf1 -all", 11}};
    struct mts_txt_string split[] = {{(const unsigned char *)"v=ST", 4},
                                     {(const unsigned char *)"Sv1; i", 6},
                                     {(const unsigned char *)"", 0},
                                     {(const unsigned char *)"d=2024", 6}};
    struct mts_txt_string other[] = {{(const unsigned char *)"v=STSv1; id=2", 13}};
    struct mts_txt_record set[] = {{spf, 1}, {split, 4}, {other, 1}};
    struct mts_sts_record r;

    CHECK_INT(mts_sts_record_parse(&r, set, 2), 0);
    CHECK_INT(r.records, 1);
    CHECK(r.valid);
    CHECK_STR(r.id, "2024");
    mts_sts_record_free(&r);

    CHECK_INT(mts_sts_record_parse(&r, set, 3), 0);
    CHECK_INT(r.records, 2);
    CHECK(!r.valid);
    CHECK(mts_findings_has(&r.findings, "sts-txt-invalid/multiple-records"));
    mts_sts_record_free(&r);

    CHECK_INT(mts_sts_record_parse(&r, set, 1), 0); /* only SPF: no record, no finding */
    CHECK_INT(r.records, 0);
    CHECK(!r.valid);
    CHECK_INT(r.findings.n, 0);
    mts_sts_record_free(&r);

    /* Strings joined with no separator: "v=STSv1;" + " id=1" keeps its one space. */
    struct mts_txt_string two[] = {{(const unsigned char *)"v=STSv1;", 8},
                                   {(const unsigned char *)" id=1", 5}};
    struct mts_txt_record one[] = {{two, 2}};
    CHECK_INT(mts_sts_record_parse(&r, one, 1), 0);
    CHECK(r.valid);
    mts_sts_record_free(&r);

    json_t *j;
    CHECK_INT(mts_sts_record_parse_text(&r, "v=STSv1; id=x", 13), 0);
    j = mts_sts_record_json(&r);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "id")), "x");
    CHECK(json_is_true(json_object_get(j, "valid")));
    json_decref(j);
    mts_sts_record_free(&r);
}

int main(void)
{
    test_valid();
    test_invalid();
    test_grammar_findings();
    test_first_wins();
    test_rrset();
    return check_exit();
}
