/*
 * Why: the policy body decides mode, lifetime and accepted MX hosts. These cases pin
 * down RFC 8461 §3.2 as docs/validation.md reads it: LF and CRLF both valid, the last
 * terminator optional, and each layout fault (BOM, lone CR, control characters, empty
 * lines, white space) its own finding with a line number and severity.
 */
#include <string.h>

#include "check.h"
#include "mts_policy.h"

static struct mts_policy pol;

static void parse(const char *body)
{
    mts_policy_free(&pol);
    CHECK_INT(mts_policy_parse(&pol, (const unsigned char *)body, strlen(body)), 0);
}

/* The line of the finding with this code, -1 when absent. */
static long line_of(const char *code)
{
    for (size_t i = 0; i < pol.findings.n; i++)
        if (strcmp(pol.findings.v[i].code, code) == 0)
            return pol.findings.v[i].line;
    return -1;
}

static enum mts_severity severity_of(const char *code)
{
    for (size_t i = 0; i < pol.findings.n; i++)
        if (strcmp(pol.findings.v[i].code, code) == 0)
            return pol.findings.v[i].severity;
    return (enum mts_severity) - 1;
}

#define GOOD                                                                                       \
    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800"

static void test_valid(void)
{
    parse(GOOD "\n");
    CHECK(pol.valid);
    CHECK_INT(pol.findings.n, 0);
    CHECK_STR(pol.version, "STSv1");
    CHECK_INT(pol.mode, MTS_MODE_ENFORCE);
    CHECK_INT(pol.max_age, 604800);
    CHECK_INT(pol.n_mx, 2);
    CHECK_STR(pol.mx[1], "*.example.net");

    parse(GOOD); /* no final terminator */
    CHECK(pol.valid);
    parse("version: STSv1\r\nmode: testing\r\nmx: a.example.com\r\nmax_age: 86400\r\n");
    CHECK(pol.valid);
    CHECK_INT(pol.mode, MTS_MODE_TESTING);
    parse("version: STSv1\r\nmode: testing\nmx: a.example.com\r\nmax_age: 86400"); /* mixed */
    CHECK(pol.valid);
    parse("mode: none\nmax_age: 0\nversion: STSv1\n"); /* no mx with none, any order */
    CHECK(pol.valid);
    CHECK_INT(pol.mode, MTS_MODE_NONE);
    CHECK_INT(pol.max_age, 0);
    parse("version:STSv1\nmode:\tenforce\nmx:  mx.example.com\nmax_age: 31557600\n");
    CHECK(pol.valid);
    CHECK_INT(pol.max_age, 31557600);
    parse(GOOD "\nid: 2024\nx-note: any text, with spaces\nlayout: ok\n"); /* extensions */
    CHECK(pol.valid);
    parse(GOOD "\nnote: caf\xc3\xa9\n"); /* UTF-8 in an extension value */
    CHECK(pol.valid);
    parse("version: STSv1\nmode: enforce\nmx: xn--mnchen-3ya.example\nmx: 1mx.example.com\n"
          "max_age: 0000604800\n");
    CHECK(pol.valid);
    CHECK_INT(pol.max_age, 604800);
}

static void test_layout(void)
{
    parse("\xef\xbb\xbf" GOOD);
    CHECK(!pol.valid);
    CHECK_INT(line_of("sts-policy-invalid/bom"), 1);
    CHECK_STR(pol.version,
              "STSv1"); /* still read: the classifier tells a policy without a record */

    parse("version: STSv1\rmode: enforce\nmx: a.example.com\nmax_age: 86400\n");
    CHECK(!pol.valid);
    CHECK_INT(line_of("sts-policy-invalid/lone-cr"), 1);
    CHECK_INT(pol.mode, MTS_MODE_ENFORCE);
    parse(GOOD "\r");
    CHECK_INT(line_of("sts-policy-invalid/lone-cr"), 5);

    parse("version: STSv1\nmode: enforce\x0b\nmx: a.example.com\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/control-char"), 2);
    parse("version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 86400\nx: a\x01z\n");
    CHECK_INT(line_of("sts-policy-invalid/control-char"), 5);
    CHECK(!pol.valid);

    parse(GOOD "\nnote: \xc3\x28\n");
    CHECK_INT(line_of("sts-policy-invalid/bad-utf8"), 6);

    parse("version: STSv1\n\nmode: enforce\nmx: a.example.com\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/empty-line"), 2);
    CHECK_INT(severity_of("sts-policy-invalid/empty-line"), MTS_SEV_ERROR);
    parse("\n" GOOD);
    CHECK_INT(line_of("sts-policy-invalid/empty-line"), 1);
    parse("version: STSv1\n  \t\nmode: enforce\nmx: a.example.com\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/empty-line"), 2);
    parse(GOOD "\n\n");
    CHECK_INT(line_of("sts-policy-invalid/trailing-empty-lines"), 6);
    CHECK_INT(line_of("sts-policy-invalid/empty-line"), -1);
    parse(GOOD "\r\n\r\n");
    CHECK_INT(line_of("sts-policy-invalid/trailing-empty-lines"), 6);

    parse("  version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/leading-whitespace"), 1);
    CHECK_STR(pol.version, "STSv1");
    CHECK(!pol.valid);

    parse("version: STSv1 \nmode: enforce\t\nmx: a.example.com\nmax_age: 86400\n");
    CHECK(pol.valid); /* §3.2 allows *WSP after a field */
    CHECK_INT(line_of("sts-policy-warning/trailing-whitespace"), 1);
    CHECK_INT(severity_of("sts-policy-warning/trailing-whitespace"), MTS_SEV_WARNING);
    CHECK_STR(pol.mode_text, "enforce");

    parse(GOOD "\nthis is not a field\n");
    CHECK_INT(line_of("sts-policy-invalid/bad-line"), 6);
    parse("version : STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/space-before-colon"), 1);
    parse(GOOD "\n{\\rtf1: x\n");
    CHECK_INT(line_of("sts-policy-invalid/bad-key"), 6);
    parse(GOOD "\nx:\n");
    CHECK_INT(line_of("sts-policy-invalid/bad-extension"), 6);
    parse(GOOD "\nx: a\tb\n");
    CHECK_INT(line_of("sts-policy-invalid/bad-extension"), 6);
}

static void test_fields(void)
{
    parse("mode: enforce\nmx: a.example.com\nmax_age: 86400\n");
    CHECK(line_of("sts-policy-invalid/missing-version") == 0);
    parse("version: STSv2\nmode: enforce\nmx: a.example.com\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/bad-version"), 1);
    parse("version: stsv1\nmode: enforce\nmx: a.example.com\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/bad-version"), 1);

    parse("version: STSv1\nmx: a.example.com\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/missing-mode"), 0);
    CHECK_INT(pol.mode, MTS_MODE_ABSENT);
    const char *bad_modes[] = {"enforced", "Enforce", "[testing]", "enforce\\", "test", ""};
    for (size_t i = 0; i < sizeof bad_modes / sizeof *bad_modes; i++) {
        char body[128];
        snprintf(body, sizeof body, "version: STSv1\nmode: %s\nmx: a.example.com\nmax_age: 1\n",
                 bad_modes[i]);
        parse(body);
        CHECK_INT(line_of("sts-policy-invalid/bad-mode"), 2);
        CHECK_INT(pol.mode, MTS_MODE_INVALID);
    }

    parse("version: STSv1\nmode: enforce\nmx: a.example.com\n");
    CHECK_INT(line_of("sts-policy-invalid/missing-max-age"), 0);
    const char *bad_ages[] = {"-1", "+5", "1d", "12345678901", "1 000", "0x10", ""};
    for (size_t i = 0; i < sizeof bad_ages / sizeof *bad_ages; i++) {
        char body[128];
        snprintf(body, sizeof body,
                 "version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: %s\n", bad_ages[i]);
        parse(body);
        CHECK_INT(line_of("sts-policy-invalid/bad-max-age"), 4);
        CHECK_INT(pol.max_age, -1);
    }
    parse("version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 31557601\n");
    CHECK_INT(line_of("sts-policy-invalid/max-age-too-large"), 4);
    CHECK_INT(pol.max_age, 31557601);
    parse("version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 9999999999\n");
    CHECK_INT(line_of("sts-policy-invalid/max-age-too-large"), 4);

    parse("version: STSv1\nmode: enforce\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/missing-mx"), 0);
    parse("version: STSv1\nmode: testing\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/missing-mx"), 0);

    /* Repeated non-mx keys: the first wins, with a warning. */
    parse("version: STSv1\nmode: testing\nmode: enforce\nmx: a.example.com\nmax_age: 1\n"
          "max_age: 2\n");
    CHECK(pol.valid);
    CHECK_INT(pol.mode, MTS_MODE_TESTING);
    CHECK_INT(pol.max_age, 1);
    CHECK_INT(line_of("sts-policy-warning/duplicate-key"), 3);
    parse("version: STSv1\nMode: enforce\nmx: a.example.com\nmax_age: 1\n");
    CHECK_INT(line_of("sts-policy-warning/key-case"), 2);
    CHECK_INT(line_of("sts-policy-invalid/missing-mode"), 0);
}

static void check_mx(const char *pattern, const char *want)
{
    const char *got = mts_policy_mx_check(pattern, strlen(pattern));
    CHECK_STR(got, want);
    if ((got == NULL) != (want == NULL))
        fprintf(stderr, "  pattern \"%s\"\n", pattern);
}

static void test_mx(void)
{
    check_mx("mail.example.com", NULL);
    check_mx("*.example.com", NULL);
    check_mx("MX1.Example.COM", NULL);
    check_mx("xn--bcher-kva.example", NULL);
    check_mx("localhost", NULL);
    check_mx("mail.example.com.", "sts-policy-invalid/mx-trailing-dot");
    check_mx("*.example.com.", "sts-policy-invalid/mx-trailing-dot");
    /* RFC 5321 Domain labels may be all digits: a valid name that looks like an address. */
    check_mx("192.0.2.25", "sts-policy-warning/mx-numeric");
    check_mx("127.25.0.1", "sts-policy-warning/mx-numeric");
    check_mx("*.0.2.25", "sts-policy-warning/mx-numeric");
    check_mx("mail.123", "sts-policy-warning/mx-numeric");
    check_mx("192.0.2.25.", "sts-policy-invalid/mx-trailing-dot");
    check_mx("[192.0.2.25]", "sts-policy-invalid/mx-ip-address");
    check_mx("2001:db8::25", "sts-policy-invalid/mx-ip-address");
    check_mx(".example.com", "sts-policy-invalid/bad-mx");
    check_mx("*.*.example.com", "sts-policy-invalid/bad-mx");
    check_mx("mail.*.example.com", "sts-policy-invalid/bad-mx");
    check_mx("*mail.example.com", "sts-policy-invalid/bad-mx");
    check_mx("*", "sts-policy-invalid/bad-mx");
    check_mx("*.", "sts-policy-invalid/bad-mx");
    check_mx("", "sts-policy-invalid/bad-mx");
    check_mx("_dc-mx.example.com", "sts-policy-invalid/bad-mx");
    check_mx("-mx.example.com", "sts-policy-invalid/bad-mx");
    check_mx("mx-.example.com", "sts-policy-invalid/bad-mx");
    check_mx("a..example.com", "sts-policy-invalid/bad-mx");
    check_mx("://google.com", "sts-policy-invalid/bad-mx");
    check_mx("m\xc3\xbcnchen.example", "sts-policy-invalid/bad-mx"); /* U-label */
    check_mx("mail.example.com:25", "sts-policy-invalid/bad-mx");
    check_mx("mail example.com", "sts-policy-invalid/bad-mx");
    char label[80];
    memset(label, 'a', 64);
    strcpy(label + 64, ".example");
    check_mx(label, "sts-policy-invalid/bad-mx");

    parse("version: STSv1\nmode: enforce\nmx: mail.example.com.\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/mx-trailing-dot"), 3);
    CHECK(!pol.valid);
    CHECK_STR(pol.n_mx ? pol.mx[0] : NULL, "mail.example.com.");
    parse("version: STSv1\nmode: enforce\nmx:\nmax_age: 86400\n");
    CHECK_INT(line_of("sts-policy-invalid/bad-mx"), 3);
    parse("version: STSv1\nmode: enforce\nmx: 127.25.0.1\nmax_age: 86400\n");
    CHECK(pol.valid);
    CHECK_INT(line_of("sts-policy-warning/mx-numeric"), 3);
    CHECK_INT(severity_of("sts-policy-warning/mx-numeric"), MTS_SEV_WARNING);
    CHECK_STR(pol.n_mx ? pol.mx[0] : NULL, "127.25.0.1");
}

static void test_json(void)
{
    parse("version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 86400\nmx: \xff.example\n");
    json_t *j = mts_policy_json(&pol);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "mode")), "enforce");
    CHECK_INT(json_integer_value(json_object_get(j, "max_age")), 86400);
    CHECK_INT(json_array_size(json_object_get(j, "mx")), 2);
    CHECK_STR(json_string_value(json_array_get(json_object_get(j, "mx"), 1)),
              "\xef\xbf\xbd.example");
    CHECK(json_array_size(json_object_get(j, "findings")) >= 1);
    json_decref(j);

    /* A big non-policy: findings are bounded. */
    static char big[8192];
    for (size_t i = 0; i + 2 < sizeof big; i += 2)
        memcpy(big + i, "x\n", 2);
    parse(big);
    CHECK_INT(pol.findings.n, MTS_FINDINGS_MAX);
    CHECK(pol.findings.truncated);
}

/*
 * The findings list is bounded, and 64 warnings (here mx-numeric) used to fill it before
 * the checks made at the end of the body: "mode: bogus" then passed as a valid policy.
 */
static void test_errors_after_full_list(void)
{
    static char body[4096];
    size_t n = (size_t)snprintf(body, sizeof body, "version: STSv1\nmode: bogus\nmax_age: 86400\n");
    for (int i = 0; i < MTS_FINDINGS_MAX + 6; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "mx: mx%d.123\n", i);
    parse(body);
    CHECK(!pol.valid);
    CHECK(pol.findings.truncated);
    CHECK_INT(pol.findings.n, MTS_FINDINGS_MAX);
    CHECK_INT(severity_of("sts-policy-invalid/bad-mode"), MTS_SEV_ERROR);

    /* Without the bad mode the same policy is valid: only warnings were dropped. */
    n = (size_t)snprintf(body, sizeof body, "version: STSv1\nmode: enforce\nmax_age: 86400\n");
    for (int i = 0; i < MTS_FINDINGS_MAX + 6; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "mx: mx%d.123\n", i);
    parse(body);
    CHECK(pol.valid);
    CHECK(pol.findings.truncated);
}

int main(void)
{
    test_valid();
    test_layout();
    test_fields();
    test_mx();
    test_json();
    test_errors_after_full_list();
    mts_policy_free(&pol);
    return check_exit();
}
