/*
 * Every normalisation and validation rule of mts_name_normalize(), one row each, with the
 * exact normalised name or the exact reason; plus the stable reason vocabulary.
 */
#include "check.h"
#include "mts_input.h"
#include "mts_name.h"

static void expect(const char *in, const char *want, int want_reason)
{
    char out[MTS_NAME_MAX + 1];
    const char *detail = NULL;
    int rc = mts_name_normalize(in, strlen(in), 0, out, &detail);
    if (rc != want_reason)
        fprintf(stderr, "input \"%s\": reason %s, want %s\n", in, mts_reject_name(rc),
                mts_reject_name(want_reason));
    CHECK_INT(rc, want_reason);
    if (want && rc == 0)
        CHECK_STR(out, want);
}

static void test_rules(void)
{
    char buf[2048];
    /* Accepted, with their normal form. */
    expect("example.com", "example.com", 0);
    expect("Example.COM", "example.com", 0);
    expect("example.com.", "example.com", 0);
    expect("  \twww.example.org. \r\n", "www.example.org", 0);
    expect("a-b.c-d.example", "a-b.c-d.example", 0);
    expect("123.example", "123.example", 0);
    expect("example.xn--p1ai", "example.xn--p1ai", 0);
    expect("Bücher.example", "xn--bcher-kva.example", 0);
    expect("BÜCHER.EXAMPLE.", "xn--bcher-kva.example", 0);
    expect("faß.de", "xn--fa-hia.de", 0); /* non-transitional: ß is kept */
    expect("xn--BCHER-kva.example", "xn--bcher-kva.example", 0);
    expect("ＥＸＡＭＰＬＥ。ｃｏｍ", "example.com", 0); /* UTS #46 width mapping */
    expect("пример.рф", "xn--e1afmkfd.xn--p1ai", 0);
    expect("ab--cd.example", "ab--cd.example", 0); /* not checked, see docs */

    /* Rejected, one rule each. */
    memset(buf, 'a', 1025);
    memcpy(buf + 1025, ".com", 5);
    expect(buf, NULL, MTS_REJ_LINE_TOO_LONG);
    expect("", NULL, MTS_REJ_EMPTY_LABEL);
    expect(".", NULL, MTS_REJ_EMPTY_LABEL);
    expect("   ", NULL, MTS_REJ_EMPTY_LABEL);
    expect("a..example", NULL, MTS_REJ_EMPTY_LABEL);
    expect(".example.com", NULL, MTS_REJ_EMPTY_LABEL);
    expect("example.com..", NULL, MTS_REJ_EMPTY_LABEL);
    expect("192.0.2.1", NULL, MTS_REJ_IP_ADDRESS);
    expect("192.0.2.1.", NULL, MTS_REJ_IP_ADDRESS);
    expect("2001:db8::1", NULL, MTS_REJ_IP_ADDRESS);
    expect("[2001:db8::1]", NULL, MTS_REJ_IP_ADDRESS);
    expect("[192.0.2.1]", NULL, MTS_REJ_IP_ADDRESS);
    expect("::ffff:192.0.2.1", NULL, MTS_REJ_IP_ADDRESS);
    expect("xn--zz.example", NULL, MTS_REJ_IDN_INVALID);
    expect("bad\xff.example", NULL, MTS_REJ_IDN_INVALID);
    expect("_dmarc.example.com", NULL, MTS_REJ_UNDERSCORE);
    expect("under_score.example", NULL, MTS_REJ_UNDERSCORE);
    expect("ex ample.com", NULL, MTS_REJ_INVALID_CHAR);
    expect("http://example.com/", NULL, MTS_REJ_INVALID_CHAR);
    expect("user@example.com", NULL, MTS_REJ_INVALID_CHAR);
    expect("*.example.com", NULL, MTS_REJ_INVALID_CHAR);
    expect("example.com:25", NULL, MTS_REJ_INVALID_CHAR);
    expect("-bad.example", NULL, MTS_REJ_LABEL_HYPHEN);
    expect("bad-.example", NULL, MTS_REJ_LABEL_HYPHEN);
    expect("example.-com", NULL, MTS_REJ_LABEL_HYPHEN);
    expect("localhost", NULL, MTS_REJ_SINGLE_LABEL);
    expect("com.", NULL, MTS_REJ_SINGLE_LABEL);
    expect("example.123", NULL, MTS_REJ_NUMERIC_TLD);
    expect("1.2.3", NULL, MTS_REJ_NUMERIC_TLD);
    expect("999.1.1.1", NULL, MTS_REJ_NUMERIC_TLD);
}

static void test_lengths(void)
{
    char name[400], out[MTS_NAME_MAX + 1];
    /* A 63-byte label is fine, 64 is not. */
    memset(name, 'a', 63);
    strcpy(name + 63, ".example");
    CHECK_INT(mts_name_normalize(name, strlen(name), 0, out, NULL), 0);
    memset(name, 'a', 64);
    strcpy(name + 64, ".example");
    CHECK_INT(mts_name_normalize(name, strlen(name), 0, out, NULL), MTS_REJ_LABEL_TOO_LONG);
    /* 253 bytes total is fine (with or without a trailing dot), 254 is not. */
    memset(name, 'b', 253);
    for (int i = 63; i < 253; i += 64)
        name[i] = '.';
    name[253] = '\0'; /* 63.63.63.61 */
    CHECK_INT(mts_name_normalize(name, 253, 0, out, NULL), 0);
    CHECK_INT((long long)strlen(out), 253);
    name[253] = '.';
    CHECK_INT(mts_name_normalize(name, 254, 0, out, NULL), 0);
    name[253] = 'b';
    CHECK_INT(mts_name_normalize(name, 254, 0, out, NULL), MTS_REJ_NAME_TOO_LONG);
    /* A name of 237 bytes that only grows too long as A-labels (5 x 46 + 7). */
    name[0] = '\0';
    for (int i = 0; i < 5; i++)
        strcat(name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaü.");
    strcat(name, "example");
    CHECK_INT((long long)strlen(name), 237);
    CHECK_INT(mts_name_normalize(name, strlen(name), 0, out, NULL), MTS_REJ_NAME_TOO_LONG);
    /* A 62-byte label that becomes a 69-byte A-label. */
    strcpy(name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaü.example");
    CHECK_INT(mts_name_normalize(name, strlen(name), 0, out, NULL), MTS_REJ_LABEL_TOO_LONG);
}

static void test_flags_and_details(void)
{
    char out[MTS_NAME_MAX + 1];
    const char *detail = NULL;
    CHECK_INT(mts_name_normalize("mil", 3, MTS_NAME_ALLOW_SINGLE_LABEL, out, NULL), 0);
    CHECK_STR(out, "mil");
    CHECK_INT(mts_name_normalize("xn--zz.example", 14, 0, out, &detail), MTS_REJ_IDN_INVALID);
    CHECK_STR(detail, "IDN2_PUNYCODE_BAD_INPUT");
    CHECK_INT(mts_name_normalize("localhost", 9, 0, out, &detail), MTS_REJ_SINGLE_LABEL);
    CHECK(detail == NULL);
    /* Not NUL-terminated input: only len bytes are read. */
    CHECK_INT(mts_name_normalize("example.comXYZ", 11, 0, out, NULL), 0);
    CHECK_STR(out, "example.com");
}

static void test_vocabulary(void)
{
    static const char *const want[MTS_REJ_COUNT] = {
        "none",          "line-too-long", "csv-format", "empty-label",    "ip-address",
        "idn-invalid",   "invalid-char",  "underscore", "label-too-long", "label-hyphen",
        "name-too-long", "single-label",  "numeric-tld"};
    for (int r = 0; r < MTS_REJ_COUNT; r++)
        CHECK_STR(mts_reject_name(r), want[r]);
    CHECK_STR(mts_reject_name(-1), "?");
    CHECK_STR(mts_reject_name(MTS_REJ_COUNT), "?");
}

int main(void)
{
    test_rules();
    test_lengths();
    test_flags_and_details();
    test_vocabulary();
    return check_exit();
}
