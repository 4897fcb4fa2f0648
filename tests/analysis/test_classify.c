/*
 * Why: the classifier is what researchers count and what operators read; these hand-built
 * raw records (docs/record-schema.md) cover each verdict and a few records per category
 * of docs/vocabulary.md, the two sender profiles, and the callbacks' ownership rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mts_classify.h"

/* The fake store: probes by "host addr", policy bodies by digest (the digest is a label). */
struct store {
    json_t *probes;
    json_t *bodies;
    int probe_calls;
};

static json_t *get_probe(void *ctx, const char *host, const char *addr)
{
    struct store *s = ctx;
    char key[300];
    snprintf(key, sizeof key, "%s %s", host, addr);
    json_t *p = json_object_get(s->probes, key);
    s->probe_calls++;
    return p ? json_incref(p) : NULL;
}

static int get_policy(void *ctx, const char *sha, const unsigned char **body, size_t *len)
{
    struct store *s = ctx;
    const char *b = json_string_value(json_object_get(s->bodies, sha));
    if (!b)
        return -ENOENT;
    *body = (const unsigned char *)b;
    *len = strlen(b);
    return 0;
}

static struct store st;
static struct mts_classify_env env = {get_probe, get_policy, &st};
static struct mts_classification cls;

#define TXT(s)   "{\"result\":\"answer\",\"answer\":[{\"type\":\"TXT\",\"txt\":[" s "]}]}"
#define NODATA   "{\"result\":\"nodata\",\"answer\":[]}"
#define NXDOMAIN "{\"result\":\"nxdomain\",\"answer\":[]}"
#define SERVFAIL "{\"result\":\"servfail\"}"
#define MXANS(h)                                                                                   \
    "{\"result\":\"answer\",\"answer\":[{\"type\":\"MX\",\"pref\":10,\"host\":\"" h "\"}]}"
#define HOST(h, addr) "{\"pref\":10,\"host\":\"" h "\",\"probes\":[{\"addr\":\"" addr "\"}]}"
#define FETCH_OK(sha, ct)                                                                          \
    "{\"why\":\"txt\",\"result\":\"ok\",\"http_status\":200,\"content_type\":\"" ct "\","          \
    "\"body\":{\"sha256\":\"" sha "\",\"len\":1}}"
#define GOOD_TXT TXT("\"v=STSv1; id=2024\"")
#define GOOD_RPT TXT("\"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\"")
#define PROBE_OK "{\"result\":\"ok\",\"tls\":{\"version\":\"TLSv1.3\",\"verify\":\"ok\"}}"
#define ENFORCE  "version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 1209600\n"

static void add_probe(const char *host_addr, const char *json)
{
    json_object_set_new(st.probes, host_addr, json_loads(json, 0, NULL));
}

static void add_body(const char *sha, const char *body)
{
    json_object_set_new(st.bodies, sha, json_string(body));
}

/* Build a record from fragments (NULL: field absent) and classify it. */
static int run(const char *sts, const char *mx, const char *hosts, const char *fetch,
               const char *rpt)
{
    json_t *rec =
        json_pack("{s:i, s:s, s:s, s:{}}", "v", 1, "scan", "t", "domain", "example.com", "dns");
    json_t *d = json_object_get(rec, "dns");
    if (sts)
        json_object_set_new(d, "sts", json_loads(sts, 0, NULL));
    if (mx)
        json_object_set_new(d, "mx", json_loads(mx, 0, NULL));
    if (rpt)
        json_object_set_new(d, "tlsrpt", json_loads(rpt, 0, NULL));
    json_object_set_new(rec, "mx", json_loads(hosts ? hosts : "[]", 0, NULL));
    if (fetch)
        json_object_set_new(rec, "policy", json_loads(fetch, 0, NULL));
    mts_classification_free(&cls);
    int rc = mts_classify(&cls, rec, &env);
    json_decref(rec);
    return rc;
}

static bool has_cat(const char *c)
{
    for (size_t i = 0; i < cls.n_categories; i++)
        if (strcmp(cls.categories[i], c) == 0)
            return true;
    return false;
}

static void check_sorted_unique(void)
{
    for (size_t i = 1; i < cls.n_categories; i++)
        CHECK(strcmp(cls.categories[i - 1], cls.categories[i]) < 0);
}

static void test_no_mta_sts(void)
{
    CHECK_INT(run(NXDOMAIN, MXANS("mx1.example.net."), "[" HOST("mx1.example.net", "192.0.2.1") "]",
                  NULL, NXDOMAIN),
              0);
    CHECK_STR(cls.verdict, "no-mta-sts");
    CHECK(has_cat("tlsrpt/absent"));
    CHECK_INT(cls.n_categories, 1);
    CHECK_INT(cls.funnel.resolvable, MTS_TRI_YES);
    CHECK_INT(cls.funnel.has_mx, MTS_TRI_YES);
    CHECK_INT(cls.funnel.has_record, MTS_TRI_NO);
    CHECK_INT(cls.funnel.policy_fetched, MTS_TRI_NO);
    CHECK_INT(cls.funnel.enforce_working, MTS_TRI_NO);
    CHECK(!cls.would_bounce);
    /* Unrelated TXT records only: still not deployed. */
    CHECK_INT(run(TXT("\"v=spf1 -all\""), NODATA, NULL, NULL, NULL), 0);
    CHECK_STR(cls.verdict, "no-mta-sts");
    CHECK(has_cat("mx-info/implicit-mx"));
    CHECK_INT(cls.funnel.has_mx, MTS_TRI_NO);
}

static void test_valid_enforce(void)
{
    add_probe("mx1.example.net 192.0.2.1", PROBE_OK);
    add_body("enforce", ENFORCE);
    const char *hosts = "[" HOST("mx1.example.net", "192.0.2.1") "]";
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts, FETCH_OK("enforce", "text/plain"),
                  GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "valid-enforce");
    CHECK_INT(cls.n_categories, 0);
    CHECK(cls.strict.policy_used);
    CHECK_INT(cls.strict.mode, MTS_MODE_ENFORCE);
    CHECK(!cls.would_bounce);
    CHECK_INT(cls.n_mx, 1);
    CHECK_INT(cls.mx[0].covered, MTS_TRI_YES);
    CHECK_INT(cls.mx[0].status, MTS_MX_PASS);
    const struct mts_funnel *f = &cls.funnel;
    CHECK(f->resolvable == MTS_TRI_YES && f->has_mx == MTS_TRI_YES &&
          f->has_record == MTS_TRI_YES && f->valid_record == MTS_TRI_YES &&
          f->policy_fetched == MTS_TRI_YES && f->valid_policy == MTS_TRI_YES &&
          f->mx_covered == MTS_TRI_YES && f->mx_tls_valid == MTS_TRI_YES &&
          f->enforce_working == MTS_TRI_YES);

    json_t *j = mts_classification_json(&cls);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "verdict")), "valid-enforce");
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "sts_record"), "id")), "2024");
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "policy"), "mode")), "enforce");
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "funnel"), "enforce_working")),
              "yes");
    json_t *mx0 = json_array_get(json_object_get(j, "mx"), 0);
    CHECK_STR(json_string_value(json_object_get(mx0, "pattern")), "*.example.net");
    CHECK_STR(json_string_value(json_object_get(mx0, "status")), "pass");
    json_decref(j);

    /* The same with "v=STSv1 ; id=1": white space before ";" is valid. */
    CHECK_INT(run(TXT("\"v=STSv1 ; id=1\""), MXANS("mx1.example.net."), hosts,
                  FETCH_OK("enforce", "text/plain; charset=utf-8"), GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "valid-enforce");
}

static void test_valid_testing_none(void)
{
    add_body("testing", "version: STSv1\nmode: testing\nmx: *.example.net\nmax_age: 604800");
    add_body("none", "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n");
    const char *hosts = "[" HOST("mx1.example.net", "192.0.2.1") "]";
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts, FETCH_OK("testing", "text/plain"),
                  GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "valid-testing");
    CHECK(has_cat("weak/mode-testing"));
    CHECK_INT(cls.funnel.enforce_working, MTS_TRI_NO);
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx1.example.net."), hosts, FETCH_OK("none", "text/plain"), GOOD_RPT),
        0);
    CHECK_STR(cls.verdict, "valid-none");
    CHECK_INT(cls.mx[0].covered, MTS_TRI_NO); /* no patterns, but mode none judges nothing */
    CHECK(!has_cat("validation-failure/mx-not-covered"));
}

static void test_bounce(void)
{
    add_probe("mx.other.org 192.0.2.9", PROBE_OK);
    add_probe("mx2.example.net 192.0.2.2",
              "{\"result\":\"ok\",\"tls\":{\"version\":\"TLSv1.2\",\"verify\":\"expired\"}}");
    add_probe("mx3.example.net 192.0.2.3", "{\"result\":\"no-starttls\",\"injection\":5}");
    add_probe("mx4.example.net 192.0.2.4",
              "{\"result\":\"ok\",\"tls\":{\"version\":\"TLSv1.1\",\"verify\":\"self-signed\"}}");
    add_probe("mx5.example.net 192.0.2.5", "{\"result\":\"connect-timeout\"}");

    /* The only MX is not covered: mail is lost under enforce. */
    CHECK_INT(run(GOOD_TXT, MXANS("mx.other.org."), "[" HOST("mx.other.org", "192.0.2.9") "]",
                  FETCH_OK("enforce", "text/plain"), GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "misconfigured");
    CHECK(has_cat("validation-failure/mx-not-covered"));
    CHECK(has_cat("mx-info/pattern-unused"));
    CHECK(cls.would_bounce);
    CHECK_STR(cls.mx[0].reason, "validation-failure/mx-not-covered");
    CHECK_INT(cls.funnel.mx_covered, MTS_TRI_NO);

    /* Expired certificate at the only MX. */
    CHECK_INT(run(GOOD_TXT, MXANS("mx2.example.net."), "[" HOST("mx2.example.net", "192.0.2.2") "]",
                  FETCH_OK("enforce", "text/plain"), GOOD_RPT),
              0);
    CHECK(has_cat("certificate-expired/mx"));
    CHECK(cls.would_bounce);
    CHECK_INT(cls.funnel.mx_tls_valid, MTS_TRI_NO);

    /* One good MX among bad ones: categories, but no bounce. */
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx1.example.net."),
            "[" HOST("mx1.example.net", "192.0.2.1") "," HOST(
                "mx3.example.net", "192.0.2.3") "," HOST("mx4.example.net",
                                                         "192.0.2.4") "," HOST("mx5.example.net",
                                                                               "192.0.2.5") "]",
            FETCH_OK("enforce", "text/plain"), GOOD_RPT),
        0);
    CHECK_STR(cls.verdict, "misconfigured");
    CHECK(has_cat("starttls-not-supported/not-offered"));
    CHECK(has_cat("certificate-not-trusted/self-signed"));
    CHECK(has_cat("weak/tls-below-1.2"));
    CHECK(has_cat("mx-info/starttls-injection"));
    CHECK(has_cat("mx-info/unreachable"));
    CHECK(!cls.would_bounce);
    CHECK_INT(cls.mx[3].status, MTS_MX_UNKNOWN);
    CHECK_INT(cls.mx[1].status, MTS_MX_REFUSED);
    check_sorted_unique();

    /* Testing mode: the same faults are categories, never a bounce. */
    CHECK_INT(run(GOOD_TXT, MXANS("mx2.example.net."), "[" HOST("mx2.example.net", "192.0.2.2") "]",
                  FETCH_OK("testing", "text/plain"), GOOD_RPT),
              0);
    CHECK(has_cat("certificate-expired/mx"));
    CHECK(!cls.would_bounce);
}

static void test_txt_faults(void)
{
    CHECK_INT(run("{\"result\":\"answer\",\"answer\":[{\"type\":\"TXT\",\"txt\":[\"v=STSv1; "
                  "id=1\"]},{\"type\":\"TXT\",\"txt\":[\"v=STSv1; id=2\"]}]}",
                  NODATA, NULL, NULL, NULL),
              0);
    CHECK_STR(cls.verdict, "misconfigured");
    CHECK(has_cat("sts-txt-invalid/multiple-records"));
    CHECK_INT(cls.funnel.valid_record, MTS_TRI_NO);
    CHECK_INT(run(TXT("\"v=STSv1; id=abc+/=\""), NODATA, NULL, NULL, NULL), 0);
    CHECK(has_cat("sts-txt-invalid/bad-id"));
    CHECK_INT(run(TXT("\"v=STSv1;\""), NODATA, NULL, NULL, NULL), 0);
    CHECK(has_cat("sts-txt-invalid/missing-id"));
    CHECK_INT(run(TXT("{\"hex\":\"763d53545376313b2069643d31c3a4\"}"), NODATA, NULL, NULL, NULL),
              0);
    CHECK(has_cat("sts-txt-invalid/non-ascii"));
    CHECK_INT(run(TXT("\"v=STSv1;\", \" id=1\""), NODATA, NULL, NULL, NULL), 0);
    CHECK(cls.record.valid);
    CHECK_INT(run("{\"result\":\"nxdomain\",\"answer\":[{\"type\":\"CNAME\",\"target\":\"x.\"}]}",
                  NODATA, NULL, NULL, NULL),
              0);
    CHECK(has_cat("sts-txt-invalid/cname-dangling"));
    CHECK_STR(cls.verdict, "misconfigured");

    CHECK_INT(run(SERVFAIL, MXANS("mx1.example.net."), NULL, NULL, NXDOMAIN), 0);
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK(has_cat("dns-failure/sts-txt"));
    CHECK_INT(cls.funnel.has_record, MTS_TRI_UNKNOWN);
    /* No record: failing MX and TLS-RPT lookups cannot hide a deployment. */
    CHECK_INT(run(NXDOMAIN, SERVFAIL, NULL, NULL, SERVFAIL), 0);
    CHECK(has_cat("dns-failure/mx"));
    CHECK(has_cat("dns-failure/tlsrpt"));
    CHECK_STR(cls.verdict, "no-mta-sts");
    /* With a record they can: whether mail would flow under the policy is unknown. */
    CHECK_INT(run("{\"result\":\"answer\",\"answer\":[{\"type\":\"TXT\",\"txt\":[\"v=STSv1; "
                  "id=1\"]}]}",
                  SERVFAIL, NULL, NULL, NXDOMAIN),
              0);
    CHECK(has_cat("dns-failure/mx"));
    CHECK_STR(cls.verdict, "indeterminate");
}

static void test_fetch_faults(void)
{
    const char *hosts = "[" HOST("mx1.example.net", "192.0.2.1") "]";
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts,
                  "{\"why\":\"txt\",\"result\":\"redirect\",\"http_status\":301,"
                  "\"location\":\"https://www.example.com/\"}",
                  GOOD_RPT),
              0);
    CHECK(has_cat("sts-policy-fetch-error/redirect"));
    CHECK_STR(cls.verdict, "misconfigured");
    CHECK_INT(cls.funnel.policy_fetched, MTS_TRI_NO);
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx1.example.net."), hosts,
            "{\"why\":\"txt\",\"result\":\"cert-invalid\",\"tls\":{\"verify\":\"name-mismatch\"}}",
            GOOD_RPT),
        0);
    CHECK(has_cat("sts-webpki-invalid/name-mismatch"));
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts,
                  "{\"why\":\"txt\",\"result\":\"no-address\"}", GOOD_RPT),
              0);
    CHECK(has_cat("sts-policy-fetch-error/host-unresolvable"));
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts,
                  "{\"why\":\"txt\",\"result\":\"http-status\",\"http_status\":404}", GOOD_RPT),
              0);
    CHECK(has_cat("sts-policy-fetch-error/http-status"));

    /* A failed fetch without any TXT record is just "not deployed". */
    CHECK_INT(run(NXDOMAIN, MXANS("mx1.example.net."), hosts,
                  "{\"why\":\"policy-only\",\"result\":\"connect-refused\"}", GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "no-mta-sts");

    /* A policy served with no TXT record. */
    CHECK_INT(run(NXDOMAIN, MXANS("mx1.example.net."), hosts, FETCH_OK("enforce", "text/plain"),
                  GOOD_RPT),
              0);
    CHECK(has_cat("sts-policy-only/no-txt-record"));
    CHECK_STR(cls.verdict, "misconfigured");
    CHECK(!cls.strict.policy_used);

    /* The record says fetched, the store lacks the body. */
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts, FETCH_OK("missing", "text/plain"),
                  GOOD_RPT),
              -ENOENT);
}

static void test_profiles(void)
{
    const char *hosts = "[" HOST("mx.other.org", "192.0.2.9") "]";
    /* text/html: strict senders have no policy, lenient ones enforce it and bounce. */
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx.other.org."), hosts, FETCH_OK("enforce", "text/html"), GOOD_RPT),
        0);
    CHECK(has_cat("sts-policy-fetch-error/media-type"));
    CHECK(!cls.strict.policy_used);
    CHECK(cls.lenient.policy_used);
    CHECK(!cls.would_bounce);
    CHECK(!cls.strict.would_bounce);
    CHECK(cls.lenient.would_bounce);

    /* Blank lines: off for strict senders, read by lenient ones. */
    add_body("blank", "version: STSv1\n\nmode: enforce\nmx: *.example.net\nmax_age: 604800\n\n");
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx.other.org."), hosts, FETCH_OK("blank", "text/plain"), GOOD_RPT), 0);
    CHECK(has_cat("sts-policy-invalid/empty-line"));
    CHECK(has_cat("sts-policy-invalid/trailing-empty-lines"));
    CHECK_INT(cls.funnel.valid_policy, MTS_TRI_NO);
    CHECK(!cls.strict.policy_used);
    CHECK(cls.lenient.policy_used);
    CHECK(cls.lenient.would_bounce);

    /* A bad mode is off for both. */
    add_body("badmode", "version: STSv1\nmode: enforced\nmx: *.example.net\nmax_age: 604800\n");
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx.other.org."), hosts, FETCH_OK("badmode", "text/plain"), GOOD_RPT),
        0);
    CHECK(has_cat("sts-policy-invalid/bad-mode"));
    CHECK(!cls.lenient.policy_used);
}

static void test_weak_mx_info_tlsrpt(void)
{
    add_body("short", "version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 3600\n");
    const char *hosts = "[" HOST("mx1.example.net", "192.0.2.1") "]";
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts, FETCH_OK("short", "text/plain"),
                  TXT("\"v=TLSRPTv1; rua=postmaster@example.com\"")),
              0);
    CHECK(has_cat("weak/max-age-below-day"));
    CHECK(has_cat("weak/max-age-below-week-enforce"));
    CHECK(has_cat("tlsrpt/invalid"));
    CHECK_STR(cls.verdict, "valid-enforce");

    CHECK_INT(
        run(GOOD_TXT,
            "{\"result\":\"answer\",\"answer\":[{\"type\":\"MX\",\"pref\":0,\"host\":\".\"}]}",
            "[]", FETCH_OK("none", "text/plain"), GOOD_RPT),
        0);
    CHECK(has_cat("mx-info/null-mx"));
    CHECK_INT(cls.funnel.has_mx, MTS_TRI_NO);
    CHECK_STR(cls.verdict, "valid-none");

    CHECK_INT(run(NXDOMAIN, MXANS("mx1.example.net."), hosts, NULL,
                  "{\"result\":\"answer\",\"answer\":[{\"type\":\"TXT\",\"txt\":[\"v=TLSRPTv1; "
                  "rua=mailto:a@example.com\"]},{\"type\":\"TXT\",\"txt\":[\"v=TLSRPTv1; "
                  "rua=mailto:b@example.com\"]}]}"),
              0);
    CHECK(has_cat("tlsrpt/multiple-records"));

    /* Probes skipped or missing: the host is unknown, never "pass". */
    CHECK_INT(run(GOOD_TXT, MXANS("mx9.example.net."),
                  "[{\"host\":\"mx9.example.net\",\"probes\":[{\"addr\":\"192.0.2.99\"},"
                  "{\"addr\":\"2001:db8::1\",\"skip\":\"ipv6-disabled\"}]}]",
                  FETCH_OK("enforce", "text/plain"), GOOD_RPT),
              0);
    CHECK_INT(cls.mx[0].status, MTS_MX_UNKNOWN);
    CHECK_STR(cls.mx[0].addrs[0].outcome, "no-probe");
    CHECK_STR(cls.mx[0].addrs[1].outcome, "skipped");
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK_INT(cls.funnel.enforce_working, MTS_TRI_UNKNOWN);
}

/* What the scanner records for hostile names and header bytes (docs/record-schema.md). */
static void test_hostile_records(void)
{
#define TOO_LONG                                                                                   \
    "{\"qname\":\"_mta-sts.x\",\"qtype\":\"TXT\",\"result\":\"skipped\",\"why\":\"name-too-"       \
    "long\"}"
    /* _mta-sts.D passes 255 octets: it cannot exist, so no sender finds a record. */
    CHECK_INT(run(TOO_LONG, MXANS("mx1.example.net."), "[" HOST("mx1.example.net", "192.0.2.1") "]",
                  NULL, TOO_LONG),
              0);
    CHECK_STR(cls.verdict, "no-mta-sts");
    CHECK(has_cat("dns-info/name-too-long"));
    CHECK(has_cat("tlsrpt/absent"));
    CHECK_INT(cls.n_categories, 2);
    CHECK_INT(cls.funnel.has_record, MTS_TRI_NO);
    CHECK_INT(mts_category_effect("dns-info/name-too-long"), MTS_EFFECT_INFO);

    /* An MX host the scanner could not probe: unknown, never a pass. */
    add_body("enforce", ENFORCE);
    const char *unprobed = "[{\"pref\":10,\"host\":\"mx9.example.net\",\"probes\":"
                           "[{\"addr\":\"192.0.2.9\",\"skip\":\"name-too-long\"}]}]";
    CHECK_INT(run(GOOD_TXT, MXANS("mx9.example.net."), unprobed, FETCH_OK("enforce", "text/plain"),
                  GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK(has_cat("scan-error/mx-not-probed"));
    CHECK_INT(mts_category_effect("scan-error/mx-not-probed"), MTS_EFFECT_UNKNOWN);
    CHECK_INT(cls.mx[0].status, MTS_MX_UNKNOWN);

    /* A name that is not a host name: no certificate can match it. */
    add_probe("mx8.example.net 192.0.2.8",
              "{\"result\":\"ok\",\"hostname\":false,\"tls\":{\"version\":\"TLSv1.3\","
              "\"verify\":\"ok\"}}");
    CHECK_INT(run(GOOD_TXT, MXANS("mx8.example.net."), "[" HOST("mx8.example.net", "192.0.2.8") "]",
                  FETCH_OK("enforce", "text/plain"), GOOD_RPT),
              0);
    CHECK(has_cat("certificate-host-mismatch/mx"));
    CHECK(cls.would_bounce);

    /* A Content-Type kept as hex (not UTF-8) is read as the bytes it is. */
    add_probe("mx1.example.net 192.0.2.1", PROBE_OK);
    const char *hosts = "[" HOST("mx1.example.net", "192.0.2.1") "]";
    const char *hex_plain = "{\"why\":\"txt\",\"result\":\"ok\",\"http_status\":200,"
                            "\"content_type\":{\"hex\":\"746578742f706c61696e3b20633dff\"},"
                            "\"body\":{\"sha256\":\"enforce\",\"len\":1}}";
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts, hex_plain, GOOD_RPT), 0);
    CHECK_STR(cls.verdict, "valid-enforce");
    CHECK(cls.media_type_ok);
    const char *hex_html = "{\"why\":\"txt\",\"result\":\"ok\",\"http_status\":200,"
                           "\"content_type\":{\"hex\":\"746578742f68746d6cff\"},"
                           "\"body\":{\"sha256\":\"enforce\",\"len\":1}}";
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts, hex_html, GOOD_RPT), 0);
    CHECK(has_cat("sts-policy-fetch-error/media-type"));
#undef TOO_LONG
}

static void test_effects(void)
{
    CHECK_INT(mts_category_effect("sts-policy-invalid/bom"), MTS_EFFECT_OFF);
    CHECK_INT(mts_category_effect("certificate-expired/mx"), MTS_EFFECT_BOUNCE);
    CHECK_INT(mts_category_effect("dns-failure/mx"), MTS_EFFECT_UNKNOWN);
    CHECK_INT(mts_category_effect("weak/mode-testing"), MTS_EFFECT_WEAK);
    CHECK_INT(mts_category_effect("tlsrpt/absent"), MTS_EFFECT_INFO);
    json_t *bad = json_array();
    mts_classification_free(&cls); /* mts_classify overwrites *out */
    CHECK_INT(mts_classify(&cls, bad, &env), -EINVAL);
    json_decref(bad);
}

/* A probe or fetch the scanner could not make (this machine's limits, an admission queue)
   says nothing about the domain: effect unknown, never unreachable or misconfigured. */
static void test_scanner_could_not_look(void)
{
    add_probe("mx6.example.net 192.0.2.6", "{\"result\":\"local-error\"}");
    add_probe("mx7.example.net 192.0.2.7", "{\"result\":\"queue-timeout\"}");
    CHECK_INT(run(GOOD_TXT, MXANS("mx6.example.net."), "[" HOST("mx6.example.net", "192.0.2.6") "]",
                  FETCH_OK("enforce", "text/plain"), GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK(has_cat("local-error/mx-probe"));
    CHECK(!has_cat("mx-info/unreachable"));
    CHECK(!has_cat("mx-info/smtp-error"));
    CHECK_INT(cls.mx[0].status, MTS_MX_UNKNOWN);
    CHECK(!cls.would_bounce);
    CHECK_INT(run(GOOD_TXT, MXANS("mx7.example.net."), "[" HOST("mx7.example.net", "192.0.2.7") "]",
                  FETCH_OK("enforce", "text/plain"), GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK(has_cat("queue-timeout/mx-probe"));

    CHECK_INT(run(GOOD_TXT, NODATA, NULL, "{\"why\":\"txt\",\"result\":\"local-error\"}", GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK(has_cat("local-error/policy-fetch"));
    CHECK(!has_cat("sts-policy-fetch-error/other"));
    CHECK_INT(cls.funnel.policy_fetched, MTS_TRI_UNKNOWN);
    CHECK_INT(
        run(GOOD_TXT, NODATA, NULL, "{\"why\":\"txt\",\"result\":\"queue-timeout\"}", GOOD_RPT), 0);
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK(has_cat("queue-timeout/policy-fetch"));
    CHECK_INT(mts_category_effect("local-error/policy-fetch"), MTS_EFFECT_UNKNOWN);
    CHECK_INT(mts_category_effect("queue-timeout/mx-probe"), MTS_EFFECT_UNKNOWN);

    /* A DNS lookup this machine could not finish hides the deployment like a SERVFAIL. */
    CHECK_INT(run("{\"result\":\"local-error\"}", NODATA, NULL, NULL, GOOD_RPT), 0);
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK(has_cat("dns-failure/sts-txt"));
}

int main(void)
{
    st.probes = json_object();
    st.bodies = json_object();
    test_no_mta_sts();
    test_valid_enforce();
    test_valid_testing_none();
    test_bounce();
    test_txt_faults();
    test_fetch_faults();
    test_profiles();
    test_weak_mx_info_tlsrpt();
    test_hostile_records();
    test_effects();
    test_scanner_could_not_look();
    mts_classification_free(&cls);
    json_decref(st.probes);
    json_decref(st.bodies);
    return check_exit();
}
