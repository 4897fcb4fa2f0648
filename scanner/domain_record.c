/*
 * Why: the record is the scan's only product, read by the analysis years later; its bytes
 * (key order, number formatting, escaping) must not depend on how the stages happened to
 * run. One writer (json_text.c) makes every domain record, from the texts the job kept and
 * the policy fetch's tree, written straight into the record's buffer.
 */
#include "domain_record.h"

#include <math.h>
#include <string.h>
#include <sys/time.h>

#include "json_text.h"
#include "mts_vocab.h"

static const char *const dns_key_names[DNS_KEYS] = {"sts", "mx", "tlsrpt", "policy_a",
                                                    "policy_aaaa"};
static const char *const mx_key_names[MX_KEYS] = {"a", "aaaa", "tlsa"};
static const char *const rua_key_names[RUA_KEYS] = {"mx", "a", "aaaa"};

double mts_record_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    double t = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
    return floor(t * 1000.0 + 0.5) / 1000.0;
}

/* An observation's text, or nothing when it is missing (no memory when it came). */
static void put_obs(struct mts_jt *t, const char *key, const char *obs)
{
    if (!obs)
        return;
    mts_jt_key(t, key);
    mts_jt_raw(t, obs, strlen(obs));
}

static void put_probes(struct mts_jt *t, const struct mx_host *m)
{
    mts_jt_key(t, "probes");
    mts_jt_open(t, '[');
    for (size_t j = 0; j < m->n_probes; j++) {
        mts_jt_open(t, '{');
        mts_jt_key(t, "addr");
        mts_jt_cstr(t, m->probes[j].addr);
        if (m->probes[j].skip) {
            mts_jt_key(t, "skip");
            mts_jt_cstr(t, m->probes[j].skip);
        }
        mts_jt_close(t, '}');
    }
    mts_jt_close(t, ']');
}

static void put_mx(struct mts_jt *t, const struct job *job)
{
    mts_jt_key(t, "mx");
    mts_jt_open(t, '[');
    for (size_t i = 0; i < job->n_mx; i++) {
        const struct mx_host *m = &job->mx[i];
        mts_jt_open(t, '{');
        mts_jt_key(t, "pref");
        mts_jt_int(t, m->pref);
        mts_jt_key(t, "host");
        mts_jt_cstr(t, m->host);
        mts_jt_key(t, "implicit");
        mts_jt_bool(t, m->implicit);
        for (size_t k = 0; k < MX_KEYS; k++)
            put_obs(t, mx_key_names[k], m->obs[k]);
        if (m->probed)
            put_probes(t, m);
        mts_jt_close(t, '}');
    }
    mts_jt_close(t, ']');
}

static void put_rua(struct mts_jt *t, const struct job *job)
{
    if (!job->n_rua)
        return;
    mts_jt_key(t, "tlsrpt_rua");
    mts_jt_open(t, '[');
    for (size_t i = 0; i < job->n_rua; i++) {
        mts_jt_open(t, '{');
        mts_jt_key(t, "scheme");
        mts_jt_cstr(t, mts_rua_scheme_name(job->rua[i].t.mailto ? MTS_RUA_MAILTO : MTS_RUA_HTTPS));
        mts_jt_key(t, "host");
        mts_jt_cstr(t, job->rua[i].t.host);
        if (job->rua[i].t.port) {
            mts_jt_key(t, "port");
            mts_jt_int(t, job->rua[i].t.port);
        }
        for (size_t k = 0; k < RUA_KEYS; k++)
            put_obs(t, rua_key_names[k], job->rua[i].obs[k]);
        put_obs(t, "tls", job->rua[i].tls);
        mts_jt_close(t, '}');
    }
    mts_jt_close(t, ']');
}

char *mts_domain_record(const struct job *job, const char *scan_id, size_t *len)
{
    struct mts_jt t;
    mts_jt_init(&t);
    mts_jt_open(&t, '{');
    mts_jt_key(&t, "v");
    mts_jt_int(&t, 1);
    mts_jt_key(&t, "scan");
    mts_jt_cstr(&t, scan_id);
    mts_jt_key(&t, "domain");
    mts_jt_cstr(&t, job->domain);
    mts_jt_key(&t, "t_start");
    mts_jt_real(&t, job->t_start, 3);
    mts_jt_key(&t, "t_end");
    mts_jt_real(&t, mts_record_now(), 3);
    mts_jt_key(&t, "dns");
    mts_jt_open(&t, '{');
    for (size_t k = 0; k < DNS_KEYS; k++)
        put_obs(&t, dns_key_names[k], job->dns[k]);
    mts_jt_close(&t, '}');
    put_mx(&t, job);
    put_rua(&t, job);
    if (job->policy) {
        mts_jt_key(&t, "policy");
        mts_jt_json(&t, job->policy);
    }
    mts_jt_close(&t, '}');
    return mts_jt_take(&t, len);
}
