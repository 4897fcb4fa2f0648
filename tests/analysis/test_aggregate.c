/*
 * Why: a disclosure goes to the provider behind many broken domains, so the aggregate
 * must name that provider for each category (MX registrable domain, policy host and TXT
 * CNAME targets, certificate issuers), count a domain once per provider and category, and
 * count every sender profile's would-bounce. Hand-built raw records and per-domain views
 * (docs/analyze.md) go in; the report object comes out.
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

static const char *VIEW =
    "{\"verdict\":\"misconfigured\",\"would_bounce\":true,\"funnel\":{\"record\":true},"
    "\"categories\":[{\"code\":\"sts-webpki-invalid/untrusted\"},{\"code\":\"sts-txt-invalid/"
    "bad-id\"},{\"code\":\"certificate-expired/mx\"}],"
    "\"mx\":[{\"host\":\"mx1.mail-co.example.\",\"addresses\":[{\"outcome\":\"certificate-expired/"
    "mx\",\"issuer\":\"CN=Bad CA\"},{\"outcome\":\"pass\"}]},"
    "{\"host\":\"MX2.mail-co.example\",\"addresses\":[{\"outcome\":\"certificate-expired/mx\","
    "\"issuer\":\"CN=Bad CA\"}]}],"
    "\"profiles\":{\"rfc8461\":{\"seen_as\":\"enforce\",\"would_bounce\":true},"
    "\"postfix-mta-sts-resolver\":{\"seen_as\":\"absent\",\"would_bounce\":false},"
    "\"postfix-mta-sts-resolver-strict-testing\":{\"seen_as\":\"enforce\",\"would_bounce\":true},"
    "\"no-mta-sts\":{\"seen_as\":\"absent\",\"would_bounce\":false}}}";

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
    json_t *raw = json_loads(RAW, 0, NULL), *view = json_loads(VIEW, 0, NULL);
    CHECK(raw && view);
    CHECK_INT(mts_agg_add(a, "one.example", raw, view), 0);
    CHECK_INT(mts_agg_add(a, "two.example", raw, view), 0);
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
    /* maddy is not in the view: it counts as no policy, no bounce. */
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
    json_t *odd = json_loads("{\"verdict\":\"misconfigured\",\"funnel\":{\"record\":true},"
                             "\"mx\":[{\"host\":\"mx.a\\u001fb.example\",\"reason\":"
                             "\"validation-failure/mx-not-covered\",\"addresses\":[]}]}",
                             0, NULL);
    CHECK(odd != NULL);
    CHECK_INT(mts_agg_add(a, "three.example", raw, odd), 0);
    r = mts_agg_report(a, "s1", 1);
    CHECK_INT(
        json_integer_value(json_object_get(json_object_get(r, "faults_by_provider"), "distinct")),
        5);
    json_decref(r);
    json_decref(odd);
    json_decref(raw);
    json_decref(view);
    mts_agg_free(a);
    return check_exit();
}
