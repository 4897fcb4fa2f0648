/*
 * The opt-out list: suffixes match on label boundaries only; CIDR ranges include both ends
 * and nothing outside, for IPv4 and IPv6, merged when they overlap; IPv4-mapped addresses
 * hit IPv4 ranges; bad lines are rejected with file:line.
 */
#include "check.h"
#include "mts_exclude.h"
#include "mts_input.h"

#include <arpa/inet.h>

static struct mts_exclude *ex;

static int addr(const char *text)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
        int r = mts_exclude_in4(ex, &sin.sin_addr);
        CHECK_INT(mts_exclude_addr(ex, (struct sockaddr *)&sin), r);
        return r;
    }
    if (inet_pton(AF_INET6, text, &sin6.sin6_addr) == 1) {
        int r = mts_exclude_in6(ex, &sin6.sin6_addr);
        CHECK_INT(mts_exclude_addr(ex, (struct sockaddr *)&sin6), r);
        return r;
    }
    fprintf(stderr, "bad test address %s\n", text);
    CHECK(0);
    return -1;
}

static void expect_addr(const char *text, int want)
{
    int got = addr(text);
    if (got != want)
        fprintf(stderr, "address %s\n", text);
    CHECK_INT(got, want);
}

static void expect_name(const char *name, int want)
{
    int got = mts_exclude_name(ex, name);
    if (got != want)
        fprintf(stderr, "name %s\n", name);
    CHECK_INT(got, want);
}

static void test_entries(void)
{
    const char *entries[] = {"example.com",
                             "*.Wild.Example.",
                             "Bücher.example",
                             "mil",
                             "192.0.2.0/24",
                             "198.51.100.7",
                             "10.0.0.0/8",
                             "10.1.0.0/16",
                             "203.0.113.5/30",
                             "2001:db8::/32",
                             "2001:db8:1::/48",
                             "fe80::1",
                             "2001:db9:0:0:8000::/65",
                             "0.0.0.0/0"};
    CHECK_INT(mts_exclude_new(&ex), 0);
    for (size_t i = 0; i + 1 < sizeof entries / sizeof entries[0]; i++) {
        const char *reason = NULL;
        int rc = mts_exclude_add(ex, entries[i], &reason);
        if (rc)
            fprintf(stderr, "entry %s: %s\n", entries[i], reason);
        CHECK_INT(rc, 0);
    }

    expect_name("example.com", 1);
    expect_name("www.example.com", 1);
    expect_name("a.b.c.example.com", 1);
    expect_name("badexample.com", 0);
    expect_name("example.com.au", 0);
    expect_name("com", 0);
    expect_name("wild.example", 1);
    expect_name("x.wild.example", 1);
    expect_name("xn--bcher-kva.example", 1);
    expect_name("www.xn--bcher-kva.example", 1);
    expect_name("army.mil", 1);
    expect_name("mil.example", 0);
    expect_name("example.net", 0);

    expect_addr("192.0.1.255", 0);
    expect_addr("192.0.2.0", 1);
    expect_addr("192.0.2.255", 1);
    expect_addr("192.0.3.0", 0);
    expect_addr("198.51.100.6", 0);
    expect_addr("198.51.100.7", 1);
    expect_addr("198.51.100.8", 0);
    expect_addr("9.255.255.255", 0);
    expect_addr("10.0.0.0", 1);
    expect_addr("10.1.2.3", 1);
    expect_addr("10.255.255.255", 1);
    expect_addr("11.0.0.0", 0);
    expect_addr("203.0.113.3", 0);
    expect_addr("203.0.113.4", 1); /* host bits of .5/30 ignored: .4 - .7 */
    expect_addr("203.0.113.7", 1);
    expect_addr("203.0.113.8", 0);
    expect_addr("::ffff:192.0.2.1", 1);
    expect_addr("::ffff:192.0.3.1", 0);
    /* IPv4 ranges also hold for the address embedded in NAT64 (64:ff9b::/96) and 6to4
       (2002::/16, bytes 2-5) addresses */
    expect_addr("64:ff9b::192.0.2.1", 1);
    expect_addr("64:ff9b::10.1.2.3", 1);
    expect_addr("64:ff9b::192.0.3.1", 0);
    expect_addr("64:ff9b:0:0:1::c000:201", 0); /* not the /96 */
    expect_addr("2002:c000:201::1", 1);
    expect_addr("2002:a01:203:4::", 1);
    expect_addr("2002:c000:301::1", 0);
    expect_addr("2003:c000:201::1", 0);
    expect_addr("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0);
    expect_addr("2001:db8::", 1);
    expect_addr("2001:db8:1::1", 1);
    expect_addr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1);
    expect_addr("2001:db9::", 0);
    expect_addr("2001:db9:0:0:7fff:ffff:ffff:ffff", 0);
    expect_addr("2001:db9:0:0:8000::", 1);
    expect_addr("2001:db9:0:0:ffff:ffff:ffff:ffff", 1);
    expect_addr("2001:db9:0:1::", 0);
    expect_addr("fe80::", 0);
    expect_addr("fe80::1", 1);
    expect_addr("fe80::2", 0);
    expect_addr("8.8.8.8", 0);

    /* The last entry excludes every IPv4 address, and no IPv6 one. */
    CHECK_INT(mts_exclude_add(ex, entries[sizeof entries / sizeof entries[0] - 1], NULL), 0);
    expect_addr("8.8.8.8", 1);
    expect_addr("0.0.0.0", 1);
    expect_addr("255.255.255.255", 1);
    expect_addr("2a00::1", 0);
    struct sockaddr other = {.sa_family = AF_UNIX};
    CHECK_INT(mts_exclude_addr(ex, &other), 0);
    mts_exclude_free(ex);
}

/* Overlapping and adjacent ranges added in every order still answer exactly. */
static void test_merge(void)
{
    const char *ranges[] = {"10.0.5.0/24", "10.0.0.0/22", "10.0.4.0/23",
                            "10.0.2.0/24", "10.0.9.9",    "10.0.8.0/21"};
    for (int rot = 0; rot < 6; rot++) {
        CHECK_INT(mts_exclude_new(&ex), 0);
        for (int i = 0; i < 6; i++)
            CHECK_INT(mts_exclude_add(ex, ranges[(i + rot) % 6], NULL), 0);
        expect_addr("9.255.255.255", 0);
        expect_addr("10.0.0.0", 1);
        expect_addr("10.0.3.255", 1);
        expect_addr("10.0.4.0", 1);
        expect_addr("10.0.5.255", 1);
        expect_addr("10.0.6.0", 0);
        expect_addr("10.0.7.255", 0);
        expect_addr("10.0.8.0", 1);
        expect_addr("10.0.15.255", 1);
        expect_addr("10.0.16.0", 0);
        mts_exclude_free(ex);
    }
}

static void test_syntax(void)
{
    const char *bad[] = {"192.0.2.0/33", "2001:db8::/129", "192.0.2.0/",          "192.0.2.0/x",
                         "300.1.2.3",    "2001:db8:::1",   "under_score.example", "a..b",
                         "-x.example",   "1.2.3",          "exa mple.com",        NULL};
    CHECK_INT(mts_exclude_new(&ex), 0);
    for (int i = 0; bad[i]; i++) {
        const char *reason = NULL;
        int rc = mts_exclude_add(ex, bad[i], &reason);
        if (rc != MTS_IN_ESYNTAX)
            fprintf(stderr, "entry %s accepted\n", bad[i]);
        CHECK_INT(rc, MTS_IN_ESYNTAX);
        CHECK(reason != NULL);
    }
    const char *reason = NULL;
    CHECK_INT(mts_exclude_add(ex, "192.0.2.0/33", &reason), MTS_IN_ESYNTAX);
    CHECK_STR(reason, "bad prefix length");
    CHECK_INT(mts_exclude_add(ex, "under_score.example", &reason), MTS_IN_ESYNTAX);
    CHECK_STR(reason, "underscore");
    mts_exclude_free(ex);
}

static void test_load(void)
{
    char msg[256] = "";
    CHECK_INT(mts_exclude_new(&ex), 0);
    CHECK_INT(mts_exclude_load(ex, MTS_INPUTS_DATA "/exclude.txt", msg, sizeof msg), 0);
    expect_name("www.example.org", 1);
    expect_name("a.optout.example", 1);
    expect_name("facebook.com", 1);
    expect_name("example.com", 0);
    expect_addr("192.0.2.200", 1);
    expect_addr("198.51.100.7", 1);
    expect_addr("2001:db8::25", 1);

    FILE *f = fopen("exclude_bad.txt", "w");
    CHECK(f != NULL);
    if (f) {
        fputs("# comment\n\nok.example  # trailing comment\r\n10.0.0.0/8\nbad_name.example\n", f);
        fclose(f);
    }
    CHECK_INT(mts_exclude_load(ex, "exclude_bad.txt", msg, sizeof msg), MTS_IN_ESYNTAX);
    CHECK_STR(msg, "exclude_bad.txt:5: underscore");
    expect_name("ok.example", 1); /* lines before the bad one stay added */
    expect_addr("10.9.9.9", 1);
    remove("exclude_bad.txt");

    CHECK_INT(mts_exclude_load(ex, "no-such-file.txt", msg, sizeof msg), MTS_IN_EOPEN);
    CHECK_STR(msg, "no-such-file.txt: No such file or directory");
    mts_exclude_free(ex);
}

int main(void)
{
    test_entries();
    test_merge();
    test_syntax();
    test_load();
    return check_exit();
}
