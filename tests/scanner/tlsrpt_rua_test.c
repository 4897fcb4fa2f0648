/*
 * Tests of the TLS-RPT destinations the scan looks up (scanner/tlsrpt_rua.h): which names
 * a rua= field yields, and that nothing a hostile record holds becomes a name the DNS
 * engine would refuse (which would stop the scan).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tlsrpt_rua.h"

static struct mts_rua_target t[MTS_RUA_MAX];

static size_t parse(const char *record)
{
    memset(t, 0, sizeof t);
    return mts_rua_parse(record, strlen(record), t, MTS_RUA_MAX);
}

static void test_destinations(void)
{
    CHECK_INT(parse("v=TLSRPTv1; rua=mailto:tlsrpt@Example.COM"), 1);
    CHECK(t[0].mailto);
    CHECK_STR(t[0].host, "example.com");

    CHECK_INT(parse("v=TLSRPTv1;rua=mailto:a@r.example!10m, https://Reports.example:8443/x?y,"
                    "mailto:b@r.example"),
              2);
    CHECK_STR(t[0].host, "r.example");
    CHECK(!t[1].mailto);
    CHECK_STR(t[1].host, "reports.example"); /* the duplicate r.example was dropped */
    CHECK_INT(t[1].port, 8443);
    CHECK_INT(t[0].port, 0);

    CHECK_INT(parse("v=TLSRPTv1; RUA=https://x.example."), 1);
    CHECK_STR(t[0].host, "x.example");
    CHECK_INT(t[0].port, 0);
    /* The same host on two ports is two destinations (two TLS checks). */
    CHECK_INT(parse("v=TLSRPTv1; rua=https://r.example/a,https://r.example:8443/b,"
                    "https://r.example:443/c,https://r.example/d"),
              3);
    CHECK_INT(t[0].port, 0);
    CHECK_INT(t[1].port, 8443);
    CHECK_INT(t[2].port, 443);
    /* A local part with "@" in quotes: the domain is after the last "@". */
    CHECK_INT(parse("v=TLSRPTv1; rua=mailto:\"a@b\"@c.example"), 1);
    CHECK_STR(t[0].host, "c.example");
    /* At most MTS_RUA_MAX. */
    CHECK_INT(parse("v=TLSRPTv1; rua=mailto:a@1.example,mailto:a@2.example,mailto:a@3.example,"
                    "mailto:a@4.example,mailto:a@5.example"),
              MTS_RUA_MAX);
}

static void test_unusable(void)
{
    CHECK_INT(parse("v=TLSRPTv1;"), 0);
    CHECK_INT(parse("v=TLSRPTv1; rua=postmaster@example.com"), 0); /* no scheme */
    CHECK_INT(parse("v=TLSRPTv1; rua=mailto:postmaster"), 0);      /* no domain */
    CHECK_INT(parse("v=TLSRPTv1; rua=http://example.com/"), 0);    /* not https */
    CHECK_INT(parse("v=TLSRPTv1; rua=mailto:a@b..example"), 0);
    CHECK_INT(parse("v=TLSRPTv1; rua=mailto:a@.example"), 0);
    CHECK_INT(parse("v=TLSRPTv1; rua=mailto:a@\xc3\xa4.example"), 0);
    CHECK_INT(parse("v=TLSRPTv1; rua=https://a b.example/"), 0);
    CHECK_INT(parse("v=TLSRPTv1; rua=https://a.example:0/"), 0);
    CHECK_INT(parse("v=TLSRPTv1; rua=https://a.example:65536/"), 0);
    CHECK_INT(parse("v=TLSRPTv1; rua=https://a.example:/"), 0);
    CHECK_INT(parse("v=TLSRPTv1; rua=https://a.example:44x/"), 0);
    CHECK_INT(parse("v=TLSRPTv1; xrua=mailto:a@b.example"), 0);
    char rec[600] = "v=TLSRPTv1; rua=mailto:a@";
    memset(rec + strlen(rec), 'a', 64); /* a 64-octet label */
    strcat(rec, ".example");
    CHECK_INT(parse(rec), 0);
    strcpy(rec, "v=TLSRPTv1; rua=mailto:a@");
    for (int i = 0; i < 5; i++)
        strcat(rec, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."); /* 255 octets */
    strcat(rec, "x");
    CHECK_INT(parse(rec), 0);
}

/* Random records from the pieces that matter: whatever comes out, ldns takes as a name
   (so the DNS engine accepts the query), and nothing is read past the record. */
static void test_random(void)
{
    static const char *const pieces[] = {"mailto:", "https://", "a", "@", ".", ",",
                                         "!",       "10m",      " ", "_", "-", "\xc3",
                                         ":",       "/",        "B", "0", ";", "x.y"};
    unsigned seed = 12345, bad = 0, found = 0;
    for (int round = 0; round < 20000; round++) {
        char rec[256];
        size_t len = 16;
        memcpy(rec, "v=TLSRPTv1; rua=", len);
        size_t n = (seed = seed * 1103515245u + 12345u) >> 16 & 31;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
            memcpy(rec + len, p, strlen(p));
            len += strlen(p);
        }
        char *exact = malloc(len); /* no NUL, no slack: a read past the end is caught */
        if (!exact)
            break;
        memcpy(exact, rec, len);
        size_t got = mts_rua_parse(exact, len, t, MTS_RUA_MAX);
        free(exact);
        for (size_t i = 0; i < got; i++) {
            ldns_rdf *d = NULL;
            found++;
            if (ldns_str2rdf_dname(&d, t[i].host) != LDNS_STATUS_OK)
                bad++;
            ldns_rdf_deep_free(d);
        }
    }
    CHECK_INT(bad, 0);
    CHECK(found > 100); /* the pieces do make destinations */
}

int main(void)
{
    test_destinations();
    test_unusable();
    test_random();
    return check_exit();
}
