/*
 * Why: the classifier is what researchers count and what operators read; these hand-built
 * raw records (docs/record-schema.md) cover each verdict and a few records per category
 * of docs/vocabulary.md, the named sender profiles, and the callbacks' ownership rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mts_classify.h"
#include "mts_view.h"

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

/* The labels "damaged" and "store-fault" stand for a body that fails its digest and a
   store that cannot be read. */
static int get_policy(void *ctx, const char *sha, const unsigned char **body, size_t *len)
{
    struct store *s = ctx;
    const char *b = json_string_value(json_object_get(s->bodies, sha));
    if (strcmp(sha, "damaged") == 0)
        return MTS_CLASSIFY_BAD_BODY;
    if (strcmp(sha, "store-fault") == 0)
        return -EIO;
    if (!b)
        return MTS_CLASSIFY_NO_BODY;
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

static const char *rua; /* the record's "tlsrpt_rua" (NULL: absent) */
static json_t *last;    /* the record run classified last */

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
    if (rua)
        json_object_set_new(rec, "tlsrpt_rua", json_loads(rua, 0, NULL));
    if (fetch)
        json_object_set_new(rec, "policy", json_loads(fetch, 0, NULL));
    mts_classification_free(&cls);
    int rc = mts_classify(&cls, rec, &env);
    json_decref(last);
    last = rec;
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

    CHECK_INT(cls.mx[0].pattern, 0);
    CHECK_STR(cls.policy.mx[cls.mx[0].pattern], "*.example.net");

    /* The per-domain view the commands print (docs/analyze.md). */
    json_t *j = mts_view_json(&cls, last);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "verdict")), "valid-enforce");
    CHECK_INT((long)json_array_size(json_object_get(j, "categories")), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "record"), "id")), "2024");
    CHECK_STR(json_string_value(json_object_get(j, "record_id")), "2024");
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "policy"), "mode")), "enforce");
    CHECK_STR(json_string_value(json_object_get(j, "mode")), "enforce");
    CHECK_INT(json_integer_value(json_object_get(j, "max_age")), 1209600);
    CHECK_STR(json_string_value(json_object_get(j, "policy_sha256")), "enforce");
    CHECK_STR(json_string_value(json_object_get(j, "tlsrpt")), "valid");
    CHECK(json_object_get(j, "dane") == NULL); /* no TLSA in the record */
    CHECK(json_is_true(json_object_get(json_object_get(j, "fetch"), "media_type_ok")));
    const json_t *funnel = json_object_get(j, "funnel");
    CHECK_INT((long)json_object_size(funnel), MTS_VIEW_FUNNEL);
    for (size_t i = 0; i < MTS_VIEW_FUNNEL; i++)
        CHECK(json_is_true(json_object_get(funnel, mts_view_funnel_keys[i])));
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(j, "profiles"), "rfc8461"), "seen_as")),
              "enforce");
    CHECK(json_is_false(json_object_get(j, "would_bounce")));
    json_t *mx0 = json_array_get(json_object_get(j, "mx"), 0);
    CHECK_STR(json_string_value(json_object_get(mx0, "covered")), "yes");
    CHECK_STR(json_string_value(json_object_get(mx0, "status")), "pass");
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(mx0, "addresses"), 0), "outcome")),
              "pass");
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
}

/* What the analysis cannot read is that domain's analysis error, never a failed call. */
static void test_analysis_errors(void)
{
    const char *hosts = "[" HOST("mx1.example.net", "192.0.2.1") "]";
    /* The record says fetched, the store lacks the body: the rest is still classified. */
    CHECK_INT(run("{\"result\":\"answer\",\"answer\":[{\"type\":\"TXT\",\"txt\":[\"v=STSv1\"]}]}",
                  MXANS("mx1.example.net."), hosts, FETCH_OK("missing", "text/plain"), GOOD_RPT),
              0);
    CHECK(has_cat("analysis-error/body-missing"));
    CHECK(has_cat("sts-txt-invalid/missing-id"));
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK_STR(cls.analysis_error, "policy body missing is in no store");
    CHECK(!cls.has_policy);
    CHECK_INT(cls.funnel.policy_fetched, MTS_TRI_UNKNOWN);
    CHECK_INT(mts_category_effect("analysis-error/body-missing"), MTS_EFFECT_UNKNOWN);

    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts, FETCH_OK("damaged", "text/plain"),
                  GOOD_RPT),
              0);
    CHECK(has_cat("analysis-error/body-damaged"));
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK_STR(cls.analysis_error, "policy body damaged does not match its SHA-256");

    /* "ok" without a body digest. */
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts,
                  "{\"why\":\"txt\",\"result\":\"ok\",\"http_status\":200}", GOOD_RPT),
              0);
    CHECK(has_cat("analysis-error/body-missing"));

    /* A store that cannot be read is the analysis' fault: returned, not a category. */
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts, FETCH_OK("store-fault", "text/plain"),
                  GOOD_RPT),
              -EIO);

    /* Fields of the wrong type: the record is not read further. */
    static const struct {
        const char *sts, *hosts, *fetch, *why;
    } bad[] = {
        {"[]", "[]", NULL, "field \"dns.sts\" has the wrong type"},
        {"{\"result\":3}", "[]", NULL, "field \"dns.sts.result\" has the wrong type"},
        {"{\"result\":\"answer\",\"answer\":{}}", "[]", NULL,
         "field \"dns.sts.answer\" has the wrong type"},
        {TXT("7"), "[]", NULL, "field \"dns.sts.answer[].txt[]\" has the wrong type"},
        {TXT("{\"hex\":1}"), "[]", NULL, "field \"dns.sts.answer[].txt[]\" has the wrong type"},
        {TXT("{\"hex\":\"7g\"}"), "[]", NULL,
         "field \"dns.sts.answer[].txt[].hex\" has the wrong type"},
        {TXT("{\"hex\":\"763\"}"), "[]", NULL,
         "field \"dns.sts.answer[].txt[].hex\" has the wrong type"},
        {GOOD_TXT, "{}", NULL, "field \"mx\" has the wrong type"},
        {GOOD_TXT, "[" HOST("mx1.example.net", "192.0.2.1") ",{\"host\":5}]", NULL,
         "field \"mx[1].host\" has the wrong type"},
        {GOOD_TXT, "[{\"host\":\"mx1\",\"a\":{\"answer\":\"x\"}}]", NULL,
         "field \"mx[0].a.answer\" has the wrong type"},
        {GOOD_TXT, "[{\"host\":\"mx1\",\"probes\":[{\"addr\":[]}]}]", NULL,
         "field \"mx[0].probes[].addr\" has the wrong type"},
        {GOOD_TXT, "[]", "[]", "field \"policy\" has the wrong type"},
        {GOOD_TXT, "[]", "{\"result\":\"ok\",\"body\":{\"sha256\":1}}",
         "field \"policy.body.sha256\" has the wrong type"},
        {GOOD_TXT, "[]", "{\"result\":\"ok\",\"content_type\":null}",
         "field \"policy.content_type\" has the wrong type"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(run(bad[i].sts, MXANS("mx1.example.net."), bad[i].hosts, bad[i].fetch, GOOD_RPT),
                  0);
        CHECK_INT((long)cls.n_categories, 1);
        CHECK(has_cat("analysis-error/bad-field"));
        CHECK_STR(cls.verdict, "indeterminate");
        CHECK_STR(cls.analysis_error, bad[i].why);
        CHECK_INT(cls.funnel.resolvable, MTS_TRI_UNKNOWN);
        CHECK_INT(cls.funnel.has_record, MTS_TRI_UNKNOWN);
    }

    /* Another record version, a missing version, a record without a domain. */
    static const struct {
        const char *json, *category, *why;
    } whole[] = {
        {"{\"v\":2,\"domain\":\"example.com\",\"dns\":{}}", "analysis-error/unknown-version",
         "record version 2; this analysis reads version 1"},
        {"{\"domain\":\"example.com\",\"dns\":{}}", "analysis-error/bad-field",
         "field \"v\" (the record version) is not an integer"},
        {"{\"v\":\"1\",\"domain\":\"example.com\"}", "analysis-error/bad-field",
         "field \"v\" (the record version) is not an integer"},
        {"{\"v\":1,\"domain\":[\"example.com\"]}", "analysis-error/bad-field",
         "field \"domain\" has the wrong type"},
        {"{\"v\":1,\"domain\":\"example.com\",\"dns\":[]}", "analysis-error/bad-field",
         "field \"dns\" has the wrong type"},
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        json_t *rec = json_loads(whole[i].json, 0, NULL);
        CHECK(rec != NULL);
        mts_classification_free(&cls);
        CHECK_INT(mts_classify(&cls, rec, &env), 0);
        CHECK_INT((long)cls.n_categories, 1);
        CHECK(has_cat(whole[i].category));
        CHECK_STR(cls.verdict, "indeterminate");
        CHECK_STR(cls.analysis_error, whole[i].why);
        json_t *j = mts_view_json(&cls, rec);
        CHECK_STR(json_string_value(json_object_get(j, "analysis_error")), whole[i].why);
        CHECK_STR(json_string_value(
                      json_object_get(json_array_get(json_object_get(j, "categories"), 0), "code")),
                  whole[i].category);
        CHECK_STR(json_string_value(json_object_get(j, "verdict")), "indeterminate");
        json_decref(j);
        json_decref(rec);
    }

    mts_classification_free(&cls);
    CHECK_INT(mts_classify_undecodable(&cls, "example.com", "bad zlib"), 0);
    CHECK_INT((long)cls.n_categories, 1);
    CHECK(has_cat("analysis-error/undecodable"));
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK_STR(cls.analysis_error, "bad zlib");
    CHECK_STR(cls.domain, "example.com");
}

static const struct mts_profile_result *profile(size_t i)
{
    return &cls.profiles[i];
}

static void check_no_mta_sts(void)
{
    CHECK(!profile(MTS_PROFILE_NO_MTA_STS)->policy_used);
    CHECK_INT(profile(MTS_PROFILE_NO_MTA_STS)->seen_as, MTS_MODE_ABSENT);
    CHECK(!profile(MTS_PROFILE_NO_MTA_STS)->would_bounce);
}

static void test_profile_table(void)
{
    const char *names[MTS_N_PROFILES] = {"rfc8461", "postfix-mta-sts-resolver",
                                         "postfix-mta-sts-resolver-strict-testing", "maddy",
                                         "no-mta-sts"};
    for (size_t i = 0; i < MTS_N_PROFILES; i++) {
        CHECK_STR(mts_sender_profiles[i].name, names[i]);
        CHECK(mts_sender_profiles[i].source && *mts_sender_profiles[i].source);
    }
    CHECK_INT(mts_sender_profiles[MTS_PROFILE_RESOLVER].testing, MTS_TESTING_IGNORED);
    CHECK_INT(mts_sender_profiles[MTS_PROFILE_RESOLVER_STRICT_TESTING].testing,
              MTS_TESTING_ENFORCE);
    CHECK_INT(mts_sender_profiles[MTS_PROFILE_NO_MTA_STS].reader, MTS_READ_NOTHING);
}

/* maddy's reader: strict line syntax, lenient values. */
static void test_maddy_reader(void)
{
    enum mts_mode mode;
    const char *neg = "version: STSv1\r\nmode: enforce\nmx: a.example\nmax_age: -5\nx: y";
    CHECK(mts_maddy_policy_read((const unsigned char *)neg, strlen(neg), &mode));
    CHECK_INT(mode, MTS_MODE_ENFORCE); /* no max_age range check; unknown keys ignored */
    const char *blank = "version: STSv1\nmode: none\nmax_age: 5\n\n";
    CHECK(!mts_maddy_policy_read((const unsigned char *)blank, strlen(blank), &mode));
    CHECK_INT(mode, MTS_MODE_ABSENT);
    const char *colons = "version: STSv1\nmode: none\nmax_age: 5 # note: x\n";
    CHECK(!mts_maddy_policy_read((const unsigned char *)colons, strlen(colons), &mode));
    const char *under = "version: STSv1\nmode: none\nmax_age: 1_0\n";
    CHECK(!mts_maddy_policy_read((const unsigned char *)under, strlen(under), &mode));
    const char *big = "version: STSv1\nmode: none\nmax_age: 9223372036854775808\n";
    CHECK(!mts_maddy_policy_read((const unsigned char *)big, strlen(big), &mode));
    const char *nomx = "version: STSv1\nmode: testing\nmax_age: 5\n";
    CHECK(!mts_maddy_policy_read((const unsigned char *)nomx, strlen(nomx), &mode));
    CHECK(mts_maddy_media_type(" TEXT/plain ; charset=utf-8"));
    CHECK(!mts_maddy_media_type("text/plain; charset"));
    CHECK(!mts_maddy_media_type("text/html"));

    /* The record: exactly one TXT record of any kind; no blank inside a part. */
    struct mts_txt_string a = {(const unsigned char *)"v=STSv1; id=1;", 14},
                          b = {(const unsigned char *)"other", 5},
                          c = {(const unsigned char *)"v=STSv1; id = 1", 15};
    struct mts_txt_record one = {&a, 1}, two[2] = {{&a, 1}, {&b, 1}}, spaced = {&c, 1};
    bool ok;
    CHECK_INT(mts_maddy_record_ok(&one, 1, &ok), 0);
    CHECK(ok);
    CHECK_INT(mts_maddy_record_ok(two, 2, &ok), 0);
    CHECK(!ok);
    CHECK_INT(mts_maddy_record_ok(&spaced, 1, &ok), 0);
    CHECK(!ok);
}

/* The resolver's reader on bytes the corpus lacks: Python line breaks and charsets. */
static void test_resolver_reader(void)
{
    struct mts_resolver_policy p;
    const char *nel = "version: STSv1\xc2\x85mode: none\xc2\x85max_age: +1_0";
    CHECK_INT(mts_resolver_policy_read(&p, (const unsigned char *)nel, strlen(nel), true), 0);
    CHECK(p.valid);
    CHECK_INT(p.mode, MTS_MODE_NONE);
    CHECK_INT(p.max_age, 10);
    mts_resolver_policy_free(&p);
    /* Without a charset the body is ASCII: the same bytes do not decode. */
    CHECK_INT(mts_resolver_policy_read(&p, (const unsigned char *)nel, strlen(nel), false), 0);
    CHECK(!p.valid);
    mts_resolver_policy_free(&p);
    const char *vt = "version: STSv1\vmode: enforce\r\nmx:\x1cmax_age: 1__0\n";
    CHECK_INT(mts_resolver_policy_read(&p, (const unsigned char *)vt, strlen(vt), false), 0);
    CHECK(!p.valid); /* "1__0" is no int() */
    CHECK_INT((long)p.n_mx, 1);
    CHECK_STR(p.mx[0], "");
    mts_resolver_policy_free(&p);
    const char *empty_mx = "version: STSv1\nmode: enforce\nmx:\nmax_age: 0\n";
    CHECK_INT(
        mts_resolver_policy_read(&p, (const unsigned char *)empty_mx, strlen(empty_mx), false), 0);
    CHECK(p.valid); /* a list holding one empty pattern is not empty */
    mts_resolver_policy_free(&p);
    /* Records: a non-ASCII one is dropped before counting; a NUL cuts its string. */
    struct mts_txt_string good = {(const unsigned char *)"v=STSv1; id=", 12},
                          umlaut = {(const unsigned char *)"v=STSv1; id=\xc3\xa4", 14},
                          nul[2] = {{(const unsigned char *)"v=STSv1\0; id=1", 15},
                                    {(const unsigned char *)"", 0}};
    struct mts_txt_record two[2] = {{&good, 1}, {&umlaut, 1}}, cut = {nul, 2};
    bool ok;
    CHECK_INT(mts_resolver_record_ok(two, 2, &ok), 0);
    CHECK(ok);
    CHECK_INT(mts_resolver_record_ok(&cut, 1, &ok), 0);
    CHECK(!ok); /* "v=STSv1" alone: no id */
    bool utf8;
    CHECK(mts_resolver_media_type(" Text/Plain ; charset=\"UTF-8\"", &utf8));
    CHECK(utf8);
    CHECK(mts_resolver_media_type("text/plain", &utf8));
    CHECK(!utf8);
    CHECK(!mts_resolver_media_type("text/plainx", &utf8));
    CHECK(!mts_resolver_media_type(NULL, &utf8));
}

static void test_profiles(void)
{
    const char *hosts = "[" HOST("mx.other.org", "192.0.2.9") "]";
    const size_t R = MTS_PROFILE_RESOLVER, RS = MTS_PROFILE_RESOLVER_STRICT_TESTING;
    /* text/html: neither the RFC nor the resolver (is_plaintext) reads the policy. */
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx.other.org."), hosts, FETCH_OK("enforce", "text/html"), GOOD_RPT),
        0);
    CHECK(has_cat("sts-policy-fetch-error/media-type"));
    CHECK(!cls.strict.policy_used);
    CHECK(!profile(R)->policy_used);
    CHECK(!cls.would_bounce);
    CHECK(!profile(R)->would_bounce);
    check_no_mta_sts();

    /* Blank lines: off for the RFC, read by the resolver, which bounces. */
    add_body("blank", "version: STSv1\n\nmode: enforce\nmx: *.example.net\nmax_age: 604800\n\n");
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx.other.org."), hosts, FETCH_OK("blank", "text/plain"), GOOD_RPT), 0);
    CHECK(has_cat("sts-policy-invalid/empty-line"));
    CHECK_INT(cls.funnel.valid_policy, MTS_TRI_NO);
    CHECK(!cls.strict.policy_used);
    CHECK(!profile(MTS_PROFILE_RFC8461)->policy_used);
    CHECK(profile(R)->policy_used);
    CHECK_INT(profile(R)->seen_as, MTS_MODE_ENFORCE);
    CHECK(profile(R)->would_bounce);
    CHECK(profile(RS)->would_bounce);
    CHECK(!profile(MTS_PROFILE_MADDY)->policy_used); /* a blank line fails readPolicy */
    check_no_mta_sts();

    /* Testing with an uncovered MX: reported by the RFC, no policy for the resolver by
       default, enforced (bouncing) with strict_testing. */
    add_body("testing", "version: STSv1\nmode: testing\nmx: *.example.net\nmax_age: 604800\n");
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx.other.org."), hosts, FETCH_OK("testing", "text/plain"), GOOD_RPT),
        0);
    CHECK_INT(profile(MTS_PROFILE_RFC8461)->seen_as, MTS_MODE_TESTING);
    CHECK(!cls.would_bounce);
    CHECK(profile(R)->policy_used);
    CHECK_INT(profile(R)->mode, MTS_MODE_TESTING);
    CHECK_INT(profile(R)->seen_as, MTS_MODE_ABSENT);
    CHECK(!profile(R)->would_bounce);
    CHECK_INT(profile(RS)->seen_as, MTS_MODE_ENFORCE);
    CHECK(profile(RS)->would_bounce);
    CHECK_INT(profile(MTS_PROFILE_MADDY)->seen_as, MTS_MODE_TESTING);
    CHECK(!profile(MTS_PROFILE_MADDY)->would_bounce);

    /* A later duplicate overwrites for the resolver; a line with leading whitespace is a
       different key to it. */
    add_body("dup", "version: STSv1\nmode: testing\nmode: enforce\nmx: *.example.net\n"
                    "max_age: 604800\n");
    CHECK_INT(run(GOOD_TXT, MXANS("mx.other.org."), hosts, FETCH_OK("dup", "text/plain"), GOOD_RPT),
              0);
    CHECK_INT(profile(R)->seen_as, MTS_MODE_ENFORCE);
    add_body("indent", "version: STSv1\n mode: enforce\nmx: *.example.net\nmax_age: 604800\n");
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx.other.org."), hosts, FETCH_OK("indent", "text/plain"), GOOD_RPT),
        0);
    CHECK(!profile(R)->policy_used);

    /* A bad mode is off for both. */
    add_body("badmode", "version: STSv1\nmode: enforced\nmx: *.example.net\nmax_age: 604800\n");
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx.other.org."), hosts, FETCH_OK("badmode", "text/plain"), GOOD_RPT),
        0);
    CHECK(has_cat("sts-policy-invalid/bad-mode"));
    CHECK(!cls.strict.policy_used);
    CHECK(!profile(R)->policy_used);

    /* An empty id: invalid for the RFC, enough for the resolver. */
    CHECK_INT(run(TXT("\"v=STSv1; id=\""), MXANS("mx.other.org."), hosts,
                  FETCH_OK("enforce", "text/plain"), GOOD_RPT),
              0);
    CHECK(!cls.strict.policy_used);
    CHECK(profile(R)->policy_used);
    CHECK(profile(R)->would_bounce);
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
    CHECK_STR(cls.verdict, "no-mail");

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

/* Every MX outcome of an enforce domain, alone and beside a passing MX (docs/vocabulary.md):
   a mail-less MX (no session reached TLS) never makes "valid-enforce" on its own. */
/* The funnel's last stages follow the verdict's MX rule (docs/vocabulary.md): working when
   the verdict is valid-enforce, not when an MX is refused, open otherwise. */
static enum mts_tri working_for(const char *verdict)
{
    return strcmp(verdict, "valid-enforce") == 0   ? MTS_TRI_YES
           : strcmp(verdict, "misconfigured") == 0 ? MTS_TRI_NO
                                                   : MTS_TRI_UNKNOWN;
}

static void test_mx_outcomes(void)
{
    static const struct {
        const char *probe;     /* the probe record of mx6.example.net 192.0.2.6 */
        const char *category;  /* the category it gives */
        const char *alone;     /* the verdict with it as the only MX */
        const char *with_pass; /* ... and beside mx1, which passes */
    } rows[] = {
        {"{\"result\":\"connect-refused\",\"stage\":\"connect\"}", "mx-info/unreachable",
         "indeterminate", "valid-enforce"},
        {"{\"result\":\"connect-timeout\",\"stage\":\"connect\"}", "mx-info/unreachable",
         "indeterminate", "valid-enforce"},
        {"{\"result\":\"timeout\",\"stage\":\"banner\"}", "mx-info/smtp-error", "indeterminate",
         "valid-enforce"},
        {"{\"result\":\"banner-4xx\",\"stage\":\"banner\"}", "mx-info/smtp-error", "indeterminate",
         "valid-enforce"},
        {"{\"result\":\"banner-5xx\",\"stage\":\"banner\"}", "mx-info/smtp-error", "indeterminate",
         "valid-enforce"},
        {"{\"result\":\"banner-malformed\",\"stage\":\"banner\"}", "mx-info/smtp-error",
         "indeterminate", "valid-enforce"},
        {"{\"result\":\"ehlo-rejected\",\"stage\":\"ehlo\"}", "mx-info/smtp-error", "indeterminate",
         "valid-enforce"},
        {"{\"result\":\"reset\",\"stage\":\"banner\"}", "mx-info/smtp-error", "indeterminate",
         "valid-enforce"},
        {"{\"result\":\"reset\",\"stage\":\"ehlo\"}", "mx-info/smtp-error", "indeterminate",
         "valid-enforce"},
        {"{\"result\":\"no-starttls\",\"stage\":\"ehlo\"}", "starttls-not-supported/not-offered",
         "misconfigured", "misconfigured"},
        {"{\"result\":\"starttls-rejected\",\"stage\":\"starttls\"}",
         "starttls-not-supported/rejected", "misconfigured", "misconfigured"},
        {"{\"result\":\"handshake-failed\",\"stage\":\"handshake\"}",
         "validation-failure/tls-handshake", "misconfigured", "misconfigured"},
        {"{\"result\":\"ok\",\"tls\":{\"version\":\"TLSv1.3\",\"verify\":\"name-mismatch\"}}",
         "certificate-host-mismatch/mx", "misconfigured", "misconfigured"},
        {PROBE_OK, NULL, "valid-enforce", "valid-enforce"},
    };
    add_probe("mx1.example.net 192.0.2.1", PROBE_OK);
    add_body("enforce", ENFORCE);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        add_probe("mx6.example.net 192.0.2.6", rows[i].probe);
        CHECK_INT(run(GOOD_TXT, MXANS("mx6.example.net."),
                      "[" HOST("mx6.example.net", "192.0.2.6") "]",
                      FETCH_OK("enforce", "text/plain"), GOOD_RPT),
                  0);
        CHECK_STR(cls.verdict, rows[i].alone);
        CHECK(rows[i].category ? has_cat(rows[i].category) : cls.n_categories == 0);
        CHECK_INT(cls.n_categories, rows[i].category ? 1 : 0);
        bool refuses = strcmp(rows[i].alone, "misconfigured") == 0;
        CHECK(cls.would_bounce == refuses);
        CHECK_INT(cls.funnel.mx_tls_valid, working_for(rows[i].alone));
        CHECK_INT(cls.funnel.enforce_working, working_for(rows[i].alone));
        CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."),
                      "[" HOST("mx1.example.net", "192.0.2.1") "," HOST("mx6.example.net",
                                                                        "192.0.2.6") "]",
                      FETCH_OK("enforce", "text/plain"), GOOD_RPT),
                  0);
        CHECK_STR(cls.verdict, rows[i].with_pass);
        CHECK(!cls.would_bounce);
        CHECK_INT(cls.funnel.mx_tls_valid, working_for(rows[i].with_pass));
        CHECK_INT(cls.funnel.enforce_working, working_for(rows[i].with_pass));
        if (strcmp(cls.verdict, rows[i].with_pass) != 0)
            fprintf(stderr, "  probe %s\n", rows[i].probe);
    }

    /* mx: 127.25.0.1 is a name (RFC 5321 labels may be all digits): the MX named
       "127.25.0.1." matches it and, once its TLS passes, the policy works. */
    add_body("numeric", "version: STSv1\nmode: enforce\nmx: 127.25.0.1\nmax_age: 1209600\n");
    add_probe("127.25.0.1 192.0.2.25", PROBE_OK);
    CHECK_INT(run(GOOD_TXT, MXANS("127.25.0.1."), "[" HOST("127.25.0.1", "192.0.2.25") "]",
                  FETCH_OK("numeric", "text/plain"), GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "valid-enforce");
    CHECK_INT(cls.n_categories, 0);
    CHECK(cls.policy.valid);
    CHECK_INT(cls.mx[0].covered, MTS_TRI_YES);
    /* ... and an MX with another name is not covered by it. */
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), "[" HOST("mx1.example.net", "192.0.2.1") "]",
                  FETCH_OK("numeric", "text/plain"), GOOD_RPT),
              0);
    CHECK(has_cat("validation-failure/mx-not-covered"));
    CHECK(!has_cat("sts-policy-invalid/mx-ip-address"));

    /* Mail-less at one address, not probed at the other: open. */
    add_probe("mx6.example.net 192.0.2.6", "{\"result\":\"connect-refused\"}");
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."),
                  "[" HOST("mx1.example.net",
                           "192.0.2.1") ",{\"pref\":20,\"host\":\"mx6.example.net\","
                                        "\"probes\":[{\"addr\":\"192.0.2.6\"},{\"addr\":\"192.0.2."
                                        "7\",\"skip\":\"excluded\"}]}]",
                  FETCH_OK("enforce", "text/plain"), GOOD_RPT),
              0);
    CHECK_STR(cls.verdict, "indeterminate");

    /* A null MX beside a record: the domain takes no mail, whatever the policy's mode. */
    const char *null_mx =
        "{\"result\":\"answer\",\"answer\":[{\"type\":\"MX\",\"pref\":0,\"host\":\".\"}]}";
    CHECK_INT(run(GOOD_TXT, null_mx, "[]", FETCH_OK("enforce", "text/plain"), GOOD_RPT), 0);
    CHECK_STR(cls.verdict, "no-mail");
    CHECK(has_cat("mx-info/null-mx"));
    CHECK(!cls.would_bounce);
    CHECK_INT(run(GOOD_TXT, null_mx, "[]", FETCH_OK("none", "text/plain"), GOOD_RPT), 0);
    CHECK_STR(cls.verdict, "no-mail");
    /* No record: not deployed; a broken policy: still misconfigured. */
    CHECK_INT(run(NXDOMAIN, null_mx, "[]", NULL, GOOD_RPT), 0);
    CHECK_STR(cls.verdict, "no-mta-sts");
    CHECK_INT(
        run(GOOD_TXT, null_mx, "[]", "{\"why\":\"txt\",\"result\":\"connect-refused\"}", GOOD_RPT),
        0);
    CHECK_STR(cls.verdict, "misconfigured");
}

/* A policy host or MX with only IPv6 addresses, scanned without --ipv6: not probed, never
   "unresolvable" (it has AAAA records) and never a fault of the domain. */
static void test_ipv6_not_probed(void)
{
    add_body("enforce", ENFORCE);
    add_probe("mx1.example.net 192.0.2.1", PROBE_OK);
    const char *hosts = "[" HOST("mx1.example.net", "192.0.2.1") "]";
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts,
                  "{\"why\":\"txt\",\"result\":\"ipv6-disabled\",\"addr\":\"2001:db8::80\"}",
                  GOOD_RPT),
              0);
    CHECK(has_cat("not-probed/policy-host-ipv6"));
    CHECK(!has_cat("sts-policy-fetch-error/host-unresolvable"));
    CHECK_INT(mts_category_effect("not-probed/policy-host-ipv6"), MTS_EFFECT_UNKNOWN);
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK_INT(cls.funnel.policy_fetched, MTS_TRI_UNKNOWN);
    /* No AAAA either: the host does not resolve, which is the domain's fault. */
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), hosts,
                  "{\"why\":\"txt\",\"result\":\"no-address\"}", GOOD_RPT),
              0);
    CHECK(has_cat("sts-policy-fetch-error/host-unresolvable"));
    CHECK_STR(cls.verdict, "misconfigured");

    const char *v6_only = "[{\"pref\":10,\"host\":\"mx1.example.net\",\"probes\":["
                          "{\"addr\":\"2001:db8::25\",\"skip\":\"ipv6-disabled\"}]}]";
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), v6_only, FETCH_OK("enforce", "text/plain"),
                  GOOD_RPT),
              0);
    CHECK(has_cat("not-probed/mx-ipv6"));
    CHECK_STR(cls.verdict, "indeterminate");
    CHECK(!cls.would_bounce);
    /* Beside a passing MX: still open, the unprobed one may refuse. */
    CHECK_INT(
        run(GOOD_TXT, MXANS("mx1.example.net."),
            "[" HOST("mx1.example.net", "192.0.2.1") ",{\"pref\":20,\"host\":\"mx2.example.net\","
                                                     "\"probes\":[{\"addr\":\"2001:db8::26\","
                                                     "\"skip\":\"ipv6-disabled\"}]}]",
            FETCH_OK("enforce", "text/plain"), GOOD_RPT),
        0);
    CHECK(has_cat("not-probed/mx-ipv6"));
    CHECK_STR(cls.verdict, "indeterminate");
    /* Without a policy in effect the MX is no MTA-STS matter. */
    CHECK_INT(run(NXDOMAIN, MXANS("mx1.example.net."), v6_only, NULL, GOOD_RPT), 0);
    CHECK(!has_cat("not-probed/mx-ipv6"));
    CHECK_STR(cls.verdict, "no-mta-sts");
}

#define RUA_TLS_DEST(host, result)                                                                 \
    "{\"scheme\":\"https\",\"host\":\"" host "\",\"a\":{\"result\":\"answer\",\"answer\":[{"       \
    "\"type\":\"A\",\"addr\":\"192.0.2.9\"}]},\"aaaa\":" NODATA ",\"tls\":{\"why\":\"tlsrpt\","    \
    "\"result\":\"" result "\"}}"
#define RUA_TLS(result) "[" RUA_TLS_DEST("r.example", result) "]"

/* TLS-RPT readiness: where reports would go, from the scan's lookups of each destination. */
static void test_tlsrpt_rua(void)
{
    static const struct {
        const char *rua;
        const char *category; /* NULL: ready */
    } rows[] = {
        {"[{\"scheme\":\"mailto\",\"host\":\"r.example\",\"mx\":" MXANS("mx.r.example.") "}]",
         NULL},
        {"[{\"scheme\":\"mailto\",\"host\":\"r.example\",\"mx\":" NXDOMAIN "}]",
         "tlsrpt/rua-undeliverable"},
        {"[{\"scheme\":\"mailto\",\"host\":\"r.example\",\"mx\":{\"result\":\"answer\","
         "\"answer\":[{\"type\":\"MX\",\"pref\":0,\"host\":\".\"}]}}]",
         "tlsrpt/rua-undeliverable"},
        /* No MX: the implicit MX needs an address. */
        {"[{\"scheme\":\"mailto\",\"host\":\"r.example\",\"mx\":" NODATA ",\"a\":" NODATA
         ",\"aaaa\":" NODATA "}]",
         "tlsrpt/rua-undeliverable"},
        {"[{\"scheme\":\"mailto\",\"host\":\"r.example\",\"mx\":" NODATA
         ",\"a\":{\"result\":\"answer\",\"answer\":[{\"type\":\"A\",\"addr\":\"192.0.2.7\"}]},"
         "\"aaaa\":" NODATA "}]",
         NULL},
        {"[{\"scheme\":\"mailto\",\"host\":\"r.example\",\"mx\":" SERVFAIL "}]", NULL},
        {"[{\"scheme\":\"https\",\"host\":\"r.example\",\"a\":" NXDOMAIN ",\"aaaa\":" NXDOMAIN "}]",
         "tlsrpt/rua-unresolvable"},
        {"[{\"scheme\":\"https\",\"host\":\"r.example\",\"a\":" SERVFAIL ",\"aaaa\":" NODATA "}]",
         NULL},
        /* The TLS check of an https: host (RUATLS): what the host did decides; what this
           machine could not or would not check decides nothing. */
        {RUA_TLS("ok"), NULL},
        {RUA_TLS("cert-invalid"), "tlsrpt/rua-cert-invalid"},
        {RUA_TLS("connect-refused"), "tlsrpt/rua-tls-failure"},
        {RUA_TLS("connect-timeout"), "tlsrpt/rua-tls-failure"},
        {RUA_TLS("tls-failure"), "tlsrpt/rua-tls-failure"},
        {RUA_TLS("timeout"), "tlsrpt/rua-tls-failure"},
        {RUA_TLS("reset"), "tlsrpt/rua-tls-failure"},
        {RUA_TLS("local-error"), NULL},
        {RUA_TLS("queue-timeout"), NULL},
        {RUA_TLS("limit"), NULL},
        {RUA_TLS("excluded"), NULL},
        {RUA_TLS("special-address"), NULL},
        {RUA_TLS("error"), NULL},
        /* Two report hosts that fail: the category once. */
        {"[" RUA_TLS_DEST("a.example", "reset") "," RUA_TLS_DEST("b.example", "tls-failure") "]",
         "tlsrpt/rua-tls-failure"},
    };
    add_body("enforce", ENFORCE);
    add_probe("mx1.example.net 192.0.2.1", PROBE_OK);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rua = rows[i].rua;
        CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."),
                      "[" HOST("mx1.example.net", "192.0.2.1") "]",
                      FETCH_OK("enforce", "text/plain"), GOOD_RPT),
                  0);
        CHECK(rows[i].category ? has_cat(rows[i].category) : cls.n_categories == 0);
        CHECK_INT(cls.n_categories, rows[i].category ? 1 : 0);
        /* Each failing destination counts for readiness (the last row has two). */
        size_t failing = rows[i].category ? 1 + (i + 1 == sizeof rows / sizeof rows[0]) : 0;
        CHECK_INT(cls.rua_failing, failing);
        CHECK_STR(cls.verdict, "valid-enforce"); /* reports are not mail delivery */
        CHECK_INT(mts_category_effect("tlsrpt/rua-undeliverable"), MTS_EFFECT_INFO);
    }
    CHECK_INT(mts_category_effect("tlsrpt/rua-tls-failure"), MTS_EFFECT_INFO);
    CHECK_INT(mts_category_effect("tlsrpt/rua-cert-invalid"), MTS_EFFECT_INFO);
    /* Only a valid record's destinations are judged. */
    rua = rows[1].rua;
    CHECK_INT(run(GOOD_TXT, MXANS("mx1.example.net."), "[" HOST("mx1.example.net", "192.0.2.1") "]",
                  FETCH_OK("enforce", "text/plain"), TXT("\"v=TLSRPTv1;\"")),
              0);
    CHECK(has_cat("tlsrpt/invalid"));
    CHECK(!has_cat("tlsrpt/rua-undeliverable"));
    rua = NULL;
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
    CHECK(has_cat("not-probed/mx-name"));
    CHECK_INT(mts_category_effect("not-probed/mx-name"), MTS_EFFECT_UNKNOWN);
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

/* The record and probe mutated below, and what the mutations came to. */
static json_t *mut_rec;
static size_t mutations, unreadable;

static bool known_verdict(const char *v)
{
    static const char *const verdicts[] = {"no-mta-sts", "valid-enforce", "valid-testing",
                                           "valid-none", "misconfigured", "indeterminate"};
    for (size_t i = 0; v && i < sizeof verdicts / sizeof verdicts[0]; i++)
        if (strcmp(v, verdicts[i]) == 0)
            return true;
    return false;
}

/* Classify mut_rec as it is now: always an answer, never a failed call. */
static void classify_mutated(void)
{
    mts_classification_free(&cls);
    int rc = mts_classify(&cls, mut_rec, &env);
    mutations++;
    unreadable += cls.analysis_error != NULL;
    if (rc != 0 || !known_verdict(cls.verdict)) {
        char *text = json_dumps(mut_rec, JSON_COMPACT);
        fprintf(stderr, "mutation %zu: rc %d, verdict %s: %s\n", mutations, rc,
                cls.verdict ? cls.verdict : "(none)", text ? text : "");
        free(text);
        CHECK(false);
    }
}

/* Every value below node replaced by every kind of JSON value, one at a time. */
static void mutate_below(json_t *node)
{
    static const char *const kinds[] = {"null", "true", "-3",  "0.5",        "\"x\"",
                                        "[]",   "{}",   "[1]", "[\"x\",{}]", "{\"a\":1}"};
    size_t n = json_is_object(node) ? json_object_size(node) : json_array_size(node);
    const char **keys = calloc(n + 1, sizeof *keys);
    const char *key;
    json_t *v;
    size_t i = 0;
    json_object_foreach(node, key, v)
    {
        keys[i++] = key;
    }
    for (i = 0; i < n; i++) {
        json_t *orig =
            json_incref(keys[i] ? json_object_get(node, keys[i]) : json_array_get(node, i));
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            json_t *alt = json_loads(kinds[k], JSON_DECODE_ANY, NULL);
            if (keys[i])
                json_object_set_new(node, keys[i], alt);
            else
                json_array_set_new(node, i, alt);
            classify_mutated();
        }
        if (keys[i])
            json_object_set(node, keys[i], orig);
        else
            json_array_set(node, i, orig);
        if (json_is_object(orig) || json_is_array(orig))
            mutate_below(orig);
        json_decref(orig);
    }
    free(keys);
}

/* Each field of a full record, and of its MX probe records, given each JSON type. */
static void test_every_field_every_type(void)
{
    add_probe("mx1.example.net 192.0.2.1", PROBE_OK);
    add_probe("mx1.example.net 2001:db8::1", PROBE_OK);
    add_body("enforce", ENFORCE);
    mut_rec = json_loads(
        "{\"v\":1,\"scan\":\"t\",\"domain\":\"example.com\",\"dns\":{\"sts\":" GOOD_TXT
        ",\"mx\":" MXANS(
            "mx1.example.net.") ",\"tlsrpt\":"
                                "{\"result\":\"answer\",\"answer\":[{\"type\":\"TXT\",\"txt\":["
                                "{"
                                "\"hex\":\"763d544c5352"
                                "5076313b207275613d6d61696c746f3a6140622e6e6574\"}]}]}},"
                                "\"mx\":[{\"pref\":10,\"host\":\"mx1.example.net\","
                                "\"implicit\":"
                                "false,\"a\":{\"result\":"
                                "\"answer\",\"answer\":[{\"type\":\"A\",\"addr\":\"192.0.2.1\"}"
                                "]},"
                                "\"probes\":[{\"addr\":"
                                "\"192.0.2.1\"},{\"addr\":\"2001:db8::1\"}]}],"
                                "\"policy\":" FETCH_OK("enforce", "text/plain") "}",
        0, NULL);
    CHECK(mut_rec != NULL);
    classify_mutated();
    CHECK_STR(cls.verdict, "valid-enforce");
    mutations = unreadable = 0;
    mutate_below(mut_rec);
    CHECK(mutations >= 500); /* 50 values, 10 kinds each */
    CHECK(unreadable > 100);
    /* the probe records, which the classifier reads through the store */
    size_t before = mutations;
    mutate_below(json_object_get(st.probes, "mx1.example.net 192.0.2.1"));
    CHECK(mutations > before + 20);
    json_decref(mut_rec);
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
    test_profile_table();
    test_resolver_reader();
    test_maddy_reader();
    test_profiles();
    test_weak_mx_info_tlsrpt();
    test_mx_outcomes();
    test_ipv6_not_probed();
    test_tlsrpt_rua();
    test_hostile_records();
    test_effects();
    test_analysis_errors();
    test_every_field_every_type();
    test_scanner_could_not_look();
    mts_classification_free(&cls);
    json_decref(last);
    json_decref(st.probes);
    json_decref(st.bodies);
    return check_exit();
}
