/*
 * Why: RFC 8460 §3 records that senders cannot read remove a domain's failure reports;
 * these cases cover the grammar, the URI schemes and the encoded characters, including
 * the bare "rua=postmaster@example.com" that crashed a report generator.
 */
#include <string.h>

#include "check.h"
#include "mts_tlsrpt.h"

static const char *verdict(const char *text)
{
    static char code[80];
    struct mts_tlsrpt r;
    CHECK_INT(mts_tlsrpt_parse_text(&r, text, strlen(text)), 0);
    code[0] = '\0';
    for (size_t i = 0; i < r.findings.n; i++)
        if (r.findings.v[i].severity == MTS_SEV_ERROR) {
            snprintf(code, sizeof code, "%s", r.findings.v[i].code);
            break;
        }
    CHECK(r.valid == (code[0] == '\0'));
    mts_tlsrpt_free(&r);
    return code;
}

/* The first finding of a record as "code: message", the way reports print it. */
static const char *first_finding(const char *text)
{
    static char line[200];
    struct mts_tlsrpt r;
    CHECK_INT(mts_tlsrpt_parse_text(&r, text, strlen(text)), 0);
    CHECK(r.findings.n > 0);
    snprintf(line, sizeof line, "%s: %s", r.findings.n ? r.findings.v[0].code : "",
             r.findings.n ? r.findings.v[0].message : "");
    mts_tlsrpt_free(&r);
    return line;
}

/* The tag-list faults judged in common with MTA-STS keep this record's codes and words. */
static void test_grammar_findings(void)
{
    CHECK_STR(first_finding("v=TLSRPTv1"), "tlsrpt-invalid/missing-rua: no field after v=TLSRPTv1");
    CHECK_STR(first_finding("v=TLSRPTv1; rua=mailto:\xc3\xa4@example.com"),
              "tlsrpt-invalid/non-ascii: a byte outside US-ASCII");
    CHECK_STR(first_finding("v=TLSRPTv1; rua=mailto:a@example.com; =x"),
              "tlsrpt-invalid/syntax: bad field name");
    CHECK_STR(first_finding("v=TLSRPTv1; rua=mailto:a@example.com; x=="),
              "tlsrpt-invalid/syntax: bad value for extension field x");
}

static void test_valid(void)
{
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:tlsrpt@example.com"), "");
    CHECK_STR(verdict("v=TLSRPTv1;rua=https://reports.example.com/tlsrpt"), "");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com, https://r.example.net/x;"), "");
    CHECK_STR(verdict("v=TLSRPTv1 ; rua=mailto:a@example.com,mailto:b@example.com ;"), "");
    CHECK_STR(verdict("v=TLSRPTv1; rua=MAILTO:a%2Cb@example.com"), "");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com; ext=1"), "");

    struct mts_tlsrpt r;
    const char *t = "v=TLSRPTv1; rua=mailto:a@example.com , https://r.example.net/";
    CHECK_INT(mts_tlsrpt_parse_text(&r, t, strlen(t)), 0);
    CHECK(r.valid);
    CHECK_INT(r.n_rua, 2);
    CHECK_STR(r.rua[0], "mailto:a@example.com");
    CHECK_STR(r.rua[1], "https://r.example.net/");
    mts_tlsrpt_free(&r);
}

static void test_invalid(void)
{
    CHECK_STR(verdict("v=TLSRPTv1; rua=postmaster@example.com"), "tlsrpt-invalid/bad-scheme");
    CHECK_STR(verdict("v=TLSRPTv1; rua=http://example.com/r"), "tlsrpt-invalid/bad-scheme");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:postmaster"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=https:///path"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a!b@example.com"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com%2"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com,"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com mailto:b@example.com"),
              "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com;mailto:b@example.com"),
              "tlsrpt-invalid/syntax");
    CHECK_STR(verdict("v=TLSRPTv1;"), "tlsrpt-invalid/missing-rua");
    CHECK_STR(verdict("v=TLSRPTv1; ruf=mailto:a@example.com"), "tlsrpt-invalid/missing-rua");
    CHECK_STR(verdict("v=TLSRPTv1 rua=mailto:a@example.com"), "tlsrpt-invalid/syntax");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:\xc3\xa4@example.com"), "tlsrpt-invalid/non-ascii");
}

/* RFC 8460 §3 wants "!" encoded, so a trailing "!" 1*DIGIT [kmgt] is a DMARC size limit. */
static void test_size_suffix(void)
{
    struct mts_tlsrpt r;
    const char *t = "v=TLSRPTv1; rua=mailto:tlsrpt@example.com!10m, https://r.example.net/x!2K,"
                    "mailto:b@example.com, mailto:c@example.com!512";
    CHECK_INT(mts_tlsrpt_parse_text(&r, t, strlen(t)), 0);
    CHECK(r.valid);
    CHECK_INT(r.n_rua, 4);
    CHECK_STR(r.rua[0], "mailto:tlsrpt@example.com");
    CHECK_STR(r.rua[1], "https://r.example.net/x");
    CHECK_STR(r.rua[3], "mailto:c@example.com");
    CHECK(r.rua_size_limit[0] == 10 * 1024 * 1024);
    CHECK(r.rua_size_limit[1] == 2 * 1024);
    CHECK(r.rua_size_limit[2] == -1);
    CHECK(r.rua_size_limit[3] == 512);
    size_t warnings = 0;
    for (size_t i = 0; i < r.findings.n; i++)
        warnings += strcmp(r.findings.v[i].code, "tlsrpt-warning/size-suffix") == 0;
    CHECK_INT(warnings, 3);
    json_t *j = mts_tlsrpt_json(&r);
    CHECK(j != NULL);
    json_t *lim = json_object_get(j, "rua_size_limit");
    CHECK_INT(json_array_size(lim), 4);
    CHECK(json_integer_value(json_array_get(lim, 0)) == 10485760);
    CHECK(json_is_null(json_array_get(lim, 2)));
    CHECK_STR(json_string_value(json_array_get(json_object_get(j, "rua"), 0)),
              "mailto:tlsrpt@example.com");
    json_decref(j);
    mts_tlsrpt_free(&r);

    t = "v=TLSRPTv1; rua=mailto:a@example.com";
    CHECK_INT(mts_tlsrpt_parse_text(&r, t, strlen(t)), 0);
    j = mts_tlsrpt_json(&r);
    CHECK(j != NULL && json_object_get(j, "rua_size_limit") == NULL);
    json_decref(j);
    mts_tlsrpt_free(&r);

    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com!1t"), "");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com!10x"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com!m"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com!"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com!10m!5"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:a@example.com!99999999999t"),
              "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=mailto:postmaster!10m"), "tlsrpt-invalid/bad-uri");
    CHECK_STR(verdict("v=TLSRPTv1; rua=postmaster@example.com!10m"), "tlsrpt-invalid/bad-scheme");
}

/*
 * A size-limit warning names the URI, and its message was cut at its byte bound inside the
 * "§" that follows: the verdict's JSON then failed, and the view lost the record.
 */
static void test_size_suffix_long_uri(void)
{
    for (size_t len = 10; len <= 90; len++) {
        char t[160] = "v=TLSRPTv1; rua=mailto:";
        size_t at = strlen(t);
        memset(t + at, 'r', len);
        strcpy(t + at + len, "@example.com!10m");
        struct mts_tlsrpt r;
        CHECK_INT(mts_tlsrpt_parse_text(&r, t, strlen(t)), 0);
        CHECK(r.valid);
        json_t *j = mts_tlsrpt_json(&r);
        CHECK(j != NULL);
        json_decref(j);
        mts_tlsrpt_free(&r);
    }
}

static void test_rrset(void)
{
    struct mts_txt_string a[] = {{(const unsigned char *)"v=TLSRPTv1; rua=mai", 19},
                                 {(const unsigned char *)"lto:a@example.com", 17}};
    struct mts_txt_string b[] = {{(const unsigned char *)"v=TLSRPTv1; rua=mailto:b@x.org", 30}};
    struct mts_txt_string c[] = {{(const unsigned char *)"google-site-verification=x", 26}};
    struct mts_txt_record set[] = {{c, 1}, {a, 2}, {b, 1}};
    struct mts_tlsrpt r;
    CHECK_INT(mts_tlsrpt_parse(&r, set, 2), 0);
    CHECK(r.valid);
    CHECK_STR(r.n_rua ? r.rua[0] : NULL, "mailto:a@example.com");
    mts_tlsrpt_free(&r);
    CHECK_INT(mts_tlsrpt_parse(&r, set, 3), 0);
    CHECK(!r.valid);
    CHECK_INT(r.records, 2);
    CHECK(mts_findings_has(&r.findings, "tlsrpt-invalid/multiple-records"));
    mts_tlsrpt_free(&r);
    CHECK_INT(mts_tlsrpt_parse(&r, set, 1), 0);
    CHECK_INT(r.records, 0);
    CHECK(!r.valid);
    mts_tlsrpt_free(&r);
}

int main(void)
{
    test_valid();
    test_invalid();
    test_grammar_findings();
    test_size_suffix();
    test_size_suffix_long_uri();
    test_rrset();
    return check_exit();
}
