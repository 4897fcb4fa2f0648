/*
 * Why: a disclosure goes to the provider behind many broken domains, so the aggregate
 * must name that provider for each category (MX registrable domain, policy host and TXT
 * CNAME targets, certificate issuers), count a domain once per provider and category, and
 * count every sender profile's would-bounce. Hand-built raw records and classifications
 * (mts_classify.h) go in; the report object comes out.
 */
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "check.h"

#define CNAME(t) "{\"result\":\"answer\",\"answer\":[{\"type\":\"CNAME\",\"target\":\"" t "\"}]}"

/* A domain whose two MX hosts at one provider fail their certificate (issuer Bad CA) and
   whose policy host, a CNAME to a hosting provider, serves an untrusted certificate. */
static const char *RAW = "{\"dns\":{\"policy_a\":" CNAME("sts.Host-Co.example.") ",\"sts\":" CNAME(
    "_mta-sts.dns-co.example.") "},\"policy\":{\"result\":\"webpki-invalid\",\"tls\":{\"leaf\":{"
                                "\"issuer\":\"CN=Policy CA\"}}}}";

static const char *const CATEGORIES[] = {"certificate-expired/mx", "sts-txt-invalid/bad-id",
                                         "sts-webpki-invalid/untrusted"};
static struct mts_mx_addr MX1_ADDRS[] = {
    {.addr = "192.0.2.1", .outcome = "certificate-expired/mx", .issuer = "CN=Bad CA"},
    {.addr = "192.0.2.2", .outcome = "pass"},
};
static struct mts_mx_addr MX2_ADDRS[] = {
    {.addr = "192.0.2.3", .outcome = "certificate-expired/mx", .issuer = "CN=Bad CA"},
};
static struct mts_mx_result MXS[] = {
    {.host = "mx1.mail-co.example.", .addrs = MX1_ADDRS, .n_addrs = 2},
    {.host = "MX2.mail-co.example", .addrs = MX2_ADDRS, .n_addrs = 1},
};

/* The classification of that domain: misconfigured, would bounce for the senders that read
   its policy as enforce (maddy reads none here). */
static struct mts_classification broken(void)
{
    struct mts_classification c = {
        .verdict = "misconfigured",
        .categories = (const char **)CATEGORIES,
        .n_categories = 3,
        .would_bounce = true,
        .funnel = {.resolvable = MTS_TRI_YES, .has_mx = MTS_TRI_YES, .has_record = MTS_TRI_YES},
        .mx = MXS,
        .n_mx = 2,
    };
    c.profiles[MTS_PROFILE_RFC8461] = (struct mts_profile_result){
        .policy_used = true, .seen_as = MTS_MODE_ENFORCE, .would_bounce = true};
    c.profiles[MTS_PROFILE_RESOLVER_STRICT_TESTING] = c.profiles[MTS_PROFILE_RFC8461];
    c.strict = c.profiles[MTS_PROFILE_RFC8461];
    return c;
}

/* The domains of the fault row (by, provider, category), or -1 when there is none. */
static long long fault(const json_t *r, const char *by, const char *provider, const char *cat)
{
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(json_object_get(r, "faults_by_provider"), "top"), i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "by")), by) == 0 &&
            strcmp(json_string_value(json_object_get(row, "provider")), provider) == 0 &&
            strcmp(json_string_value(json_object_get(row, "category")), cat) == 0)
            return json_integer_value(json_object_get(row, "domains"));
    }
    return -1;
}

int main(void)
{
    struct mts_agg *a;
    CHECK_INT(mts_agg_new(&a), 0);
    json_t *raw = json_loads(RAW, 0, NULL);
    CHECK(raw != NULL);
    struct mts_classification cls = broken();
    CHECK_INT(mts_agg_add(a, "one.example", raw, &cls), 0);
    CHECK_INT(mts_agg_add(a, "two.example", raw, &cls), 0);
    json_t *r = mts_agg_report(a, "s1", 1);
    CHECK(r != NULL);
    /* Both MX hosts are one provider: one count per domain. */
    CHECK_INT(fault(r, "mx", "mail-co.example", "certificate-expired/mx"), 2);
    CHECK_INT(fault(r, "issuer", "CN=Bad CA", "certificate-expired/mx"), 2);
    CHECK_INT(fault(r, "policy-host", "host-co.example", "sts-webpki-invalid/untrusted"), 2);
    CHECK_INT(fault(r, "issuer", "CN=Policy CA", "sts-webpki-invalid/untrusted"), 2);
    CHECK_INT(fault(r, "txt-host", "dns-co.example", "sts-txt-invalid/bad-id"), 2);
    /* A TXT fault is not the policy host's, an MX fault not the policy CA's. */
    CHECK_INT(fault(r, "policy-host", "host-co.example", "sts-txt-invalid/bad-id"), -1);
    CHECK_INT(fault(r, "issuer", "CN=Policy CA", "certificate-expired/mx"), -1);
    CHECK_INT(
        json_integer_value(json_object_get(json_object_get(r, "faults_by_provider"), "distinct")),
        5);

    const json_t *sp = json_object_get(r, "sender_profiles");
    const json_t *profiles = json_object_get(sp, "profiles");
    /* maddy reads no policy: it counts as no policy, no bounce. */
    CHECK_INT((long)json_array_size(profiles), 5);
    long long bounce[5], want[5] = {2, 0, 2, 0, 0};
    for (size_t i = 0; i < 5; i++) {
        bounce[i] =
            json_integer_value(json_object_get(json_array_get(profiles, i), "would_bounce"));
        CHECK_INT(bounce[i], want[i]);
    }
    CHECK_INT(json_integer_value(json_object_get(json_object_get(sp, "differ"), "count")), 2);
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(json_array_get(profiles, 3), "seen_as"), "no-policy")),
              2);
    json_decref(r);

    /* A host name holding the key separator is not counted as a provider, and breaks
       nothing. */
    struct mts_mx_result odd_mx = {.host = "mx.a\x1f"
                                           "b.example",
                                   .status = MTS_MX_REFUSED,
                                   .reason = "validation-failure/mx-not-covered"};
    struct mts_classification odd = {
        .verdict = "misconfigured",
        .funnel = {.resolvable = MTS_TRI_YES, .has_mx = MTS_TRI_YES, .has_record = MTS_TRI_YES},
        .mx = &odd_mx,
        .n_mx = 1};
    CHECK_INT(mts_agg_add(a, "three.example", raw, &odd), 0);
    r = mts_agg_report(a, "s1", 1);
    CHECK_INT(
        json_integer_value(json_object_get(json_object_get(r, "faults_by_provider"), "distinct")),
        5);
    json_decref(r);
    mts_agg_free(a);

    /* The funnel, modes and max_age read from the classification: a valid testing policy
       of one week, MX not covered; and a domain with no record at all. */
    CHECK_INT(mts_agg_new(&a), 0);
    struct mts_classification valid = {
        .verdict = "valid-testing",
        .funnel = {MTS_TRI_YES, MTS_TRI_YES, MTS_TRI_YES, MTS_TRI_YES, MTS_TRI_YES, MTS_TRI_YES,
                   MTS_TRI_NO, MTS_TRI_YES, MTS_TRI_NO},
        .has_policy = true,
        .policy = {.mode = MTS_MODE_TESTING, .max_age = 604800},
    };
    struct mts_classification none = {.verdict = "no-mta-sts",
                                      .funnel = {.resolvable = MTS_TRI_YES}};
    json_t *empty = json_object();
    CHECK_INT(mts_agg_add(a, "valid.example", empty, &valid), 0);
    CHECK_INT(mts_agg_add(a, "none.example", empty, &none), 0);
    r = mts_agg_report(a, "s1", 1);
    const long long funnel[] = {2, 2, 1, 1, 1, 1, 1, 0, 0, 0};
    for (size_t i = 0; i < sizeof funnel / sizeof funnel[0]; i++)
        CHECK_INT(json_integer_value(
                      json_object_get(json_array_get(json_object_get(r, "funnel"), i), "count")),
                  funnel[i]);
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(r, "funnel"), 7), "stage")),
              "mx_covered");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "verdicts"), "valid-testing")),
              1);
    CHECK_INT(json_integer_value(
                  json_object_get(json_array_get(json_object_get(r, "modes"), 1), "count")),
              1);
    CHECK_INT(json_integer_value(
                  json_object_get(json_array_get(json_object_get(r, "max_age"), 2), "count")),
              1); /* "1 week - < 30 days" */
    CHECK_INT(json_integer_value(json_object_get(r, "deployed")), 1);
    CHECK_INT(json_integer_value(
                  json_object_get(json_array_get(json_object_get(r, "tlsrpt"), 3), "count")),
              2); /* "absent" */
    json_decref(r);
    mts_agg_free(a);

    /* TLS-RPT readiness in the paper table: a valid record whose one destination the scan
       found unable to take reports is valid, not deliverable. */
    CHECK_INT(mts_agg_new(&a), 0);
    char *one_uri[] = {"mailto:r@example.org"};
    struct mts_classification ready = {
        .verdict = "valid-enforce",
        .funnel = {MTS_TRI_YES, MTS_TRI_YES, MTS_TRI_YES},
        .has_tlsrpt = true,
        .tlsrpt = {.records = 1, .valid = true, .rua = one_uri, .n_rua = 1},
    };
    struct mts_classification failing = ready;
    failing.rua_failing = 1;
    CHECK_INT(mts_agg_add(a, "ready.example", empty, &ready), 0);
    CHECK_INT(mts_agg_add(a, "failing.example", empty, &failing), 0);
    r = mts_agg_report(a, "s1", 1);
    long long valid_rows = -1, ready_rows = -1;
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(r, "paper"), i, row)
    {
        const char *key = json_string_value(json_object_get(row, "key"));
        long long n = json_integer_value(json_object_get(row, "count"));
        if (key && strcmp(key, "tlsrpt_record") == 0)
            valid_rows = n;
        if (key && strcmp(key, "tlsrpt_ready") == 0)
            ready_rows = n;
    }
    CHECK_INT(valid_rows, 2);
    CHECK_INT(ready_rows, 1);
    json_decref(r);
    json_decref(empty);
    json_decref(raw);
    mts_agg_free(a);
    return check_exit();
}
