/*
 * The domain record writer: a job assembled by hand comes out as exactly the record text
 * docs/record-schema.md gives (key order, missing observations left out, "probes" only
 * for a probed host, "tlsrpt_rua" only with destinations), and the policy tree is written
 * byte for byte as the store's json_dumps writes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "domain_record.h"
#include "mts_store.h"

/* The record without its t_end (the writer's clock), which must be a rounded time. */
static char *record_without_t_end(const struct job *job)
{
    size_t len = 0;
    char *rec = mts_domain_record(job, "s1", &len);
    CHECK(rec != NULL && len == strlen(rec));
    if (!rec)
        return NULL;
    char *t_end = strstr(rec, ",\"t_end\":");
    char *after = t_end ? strchr(t_end + 1, ',') : NULL;
    CHECK(after != NULL);
    if (after) {
        const char *dot = memchr(t_end, '.', (size_t)(after - t_end));
        CHECK(dot != NULL && after - dot == 4); /* three decimals */
        memmove(t_end, after, strlen(after) + 1);
    }
    return rec;
}

int main(void)
{
    struct probe_entry probes[2] = {{.addr = "192.0.2.1"},
                                    {.addr = "2001:db8::1", .skip = "ipv6-disabled"}};
    struct mx_host mx[2] = {
        {.host = "mx1.example",
         .pref = 10,
         .obs = {"{\"a\":1}", NULL, "{\"t\":3}"},
         .probes = probes,
         .n_probes = 2,
         .probed = true},
        {.host = "example", .pref = 0, .implicit = true, .obs = {"{\"a\":2}"}},
    };
    struct job job = {.domain = "example",
                      .t_start = 1795956533.053,
                      .mx = mx,
                      .n_mx = 2,
                      .dns = {"{\"sts\":0}", "{\"mx\":0}", NULL, "{\"pa\":0}", "{\"paaaa\":0}"}};

    char *rec = record_without_t_end(&job);
    CHECK_STR(rec, "{\"v\":1,\"scan\":\"s1\",\"domain\":\"example\",\"t_start\":1795956533.053,"
                   "\"dns\":{\"sts\":{\"sts\":0},\"mx\":{\"mx\":0},\"policy_a\":{\"pa\":0},"
                   "\"policy_aaaa\":{\"paaaa\":0}},\"mx\":[{\"pref\":10,\"host\":\"mx1.example\","
                   "\"implicit\":false,\"a\":{\"a\":1},\"tlsa\":{\"t\":3},\"probes\":[{\"addr\":"
                   "\"192.0.2.1\"},{\"addr\":\"2001:db8::1\",\"skip\":\"ipv6-disabled\"}]},"
                   "{\"pref\":0,\"host\":\"example\",\"implicit\":true,\"a\":{\"a\":2}}]}");
    free(rec);

    /* With report destinations and a policy observation. */
    job.n_mx = 0;
    job.n_rua = 1;
    job.rua[0] = (struct rua_dest){.t = {.mailto = true, .host = "reports.example"},
                                   .obs = {"{\"r\":1}", NULL, "{\"r\":3}"}};
    job.policy = json_pack("{s:s, s:s, s:{s:f, s:f}, s:i}", "url", "https://x/\x01\"", "ct",
                           "text/plain\x1b", "ms", "connect", 0.25, "total", 1e21, "port", 443);
    CHECK(job.policy != NULL);
    char *policy = json_dumps(job.policy, MTS_STORE_JSON_FLAGS);
    rec = record_without_t_end(&job);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"v\":1,\"scan\":\"s1\",\"domain\":\"example\",\"t_start\":1795956533.053,"
             "\"dns\":{\"sts\":{\"sts\":0},\"mx\":{\"mx\":0},\"policy_a\":{\"pa\":0},"
             "\"policy_aaaa\":{\"paaaa\":0}},\"mx\":[],\"tlsrpt_rua\":[{\"scheme\":\"mailto\","
             "\"host\":\"reports.example\",\"mx\":{\"r\":1},\"aaaa\":{\"r\":3}}],\"policy\":%s}",
             policy);
    CHECK_STR(rec, want);
    free(rec);
    free(policy);
    json_decref(job.policy);
    return check_exit();
}
