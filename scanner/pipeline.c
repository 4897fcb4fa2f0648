/*
 * The per-domain pipeline: the job and its stages. Each domain in flight is a job that
 * walks through explicit stages on the one event loop:
 *
 *   DNS      TXT _mta-sts.D, MX D, TXT _smtp._tls.D, A/AAAA mta-sts.D, in parallel
 *   MXADDR   A/AAAA (and TLSA with --dane) of every MX host, and MX/A/AAAA of the TLS-RPT
 *            report destinations, through the scan-wide cache; the policy fetch starts
 *            here too, beside it
 *   PROBES   one STARTTLS probe per (MX host, address), shared across the whole scan, and
 *            one TLS check per https: report host (rua_tls.c), shared the same way
 *   COMMIT   the raw record goes to the store's writer
 *
 * Back-pressure: at most cfg->concurrency jobs exist, and the input is read only when a
 * job ends, so memory stays flat however long the list. When the store's writer falls
 * behind, no new job starts until it signals that it drained: the loop never waits on the
 * disk, and the jobs in flight keep their timers. A domain is done when its record
 * is committed; every MX probe record and policy body it refers to is queued to the
 * writer before it, and the writer commits in order, so --resume may trust any domain
 * record it finds.
 *
 * The rooms around it: dns_reply.c reads the replies, addr_policy.c says which addresses
 * may be contacted, domain_record.c writes the record, scan.c runs the scan's lifecycle.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "domain_record.h"
#include "job.h"
#include "mts_vocab.h"
#include "rua_tls.h"
#include "scan.h"

static bool result_is(const char *result, enum mts_dns_result want)
{
    return mts_dns_result_parse(result) == want;
}

/* ---- jobs ---------------------------------------------------------------------------- */

/* One outstanding DNS query or probe of a job: which observation its answer fills. */
struct job_ref {
    struct job *job;
    int key;   /* enum dns_key, or enum mx_key when mx is set, or enum rua_key */
    size_t mx; /* index into job->mx (job->rua), or SIZE_MAX for the domain's own queries */
    bool rua;  /* a TLS-RPT destination's query */
};

static void job_step(struct job *job);

static void mx_host_clear(struct mx_host *m)
{
    free(m->host);
    for (size_t k = 0; k < MX_KEYS; k++)
        free(m->obs[k]);
    free(m->v4.addr);
    free(m->v6.addr);
    free(m->probes);
}

static void job_free(struct job *job)
{
    for (size_t k = 0; k < DNS_KEYS; k++)
        free(job->dns[k]);
    free(job->policy_v4.addr);
    free(job->policy_v6.addr);
    for (size_t i = 0; i < job->n_mx; i++)
        mx_host_clear(&job->mx[i]);
    free(job->mx);
    for (size_t i = 0; i < job->n_found; i++)
        free(job->mx_found[i].host);
    free(job->mx_found);
    json_decref(job->policy);
    free(job->body);
    for (size_t i = 0; i < job->n_rua; i++) {
        for (size_t k = 0; k < RUA_KEYS; k++)
            free(job->rua[i].obs[k]);
        free(job->rua[i].v4.addr);
        free(job->rua[i].v6.addr);
        free(job->rua[i].tls);
    }
    free(job->domain);
    free(job);
}

static void job_unlink(struct job *job)
{
    struct scan *s = job->scan;
    if (job->prev)
        job->prev->next = job->next;
    else
        s->jobs = job->next;
    if (job->next)
        job->next->prev = job->prev;
    s->inflight--;
}

static struct job_ref *job_ref_new(struct job *job, int key, size_t mx)
{
    struct job_ref *ref = malloc(sizeof *ref);
    if (!ref)
        return NULL;
    ref->job = job;
    ref->key = key;
    ref->mx = mx;
    ref->rua = false;
    job->pending++;
    return ref;
}

/* Keeps the observation and reads what the next stages need off the reply. */
static bool take_domain_obs(struct job *job, enum dns_key key, char *obs,
                            const struct mts_dns_reply *reply)
{
    static const ldns_rr_type types[DNS_KEYS] = {
        LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
    job->dns[key] = obs;
    if (!reply)
        return true;
    job->dns_result[key] = mts_dns_obs_result(reply, types[key]);
    switch (key) {
    case DNS_STS:
        job->has_record = mts_reply_has_sts_record(reply);
        return true;
    case DNS_TLSRPT: {
        struct mts_rua_target t[MTS_RUA_MAX];
        job->n_rua = mts_rua_from_reply(reply, t, MTS_RUA_MAX);
        for (size_t i = 0; i < job->n_rua; i++)
            job->rua[i].t = t[i];
        return true;
    }
    case DNS_MX:
        return mts_reply_mx(reply, &job->mx_found, &job->n_found);
    case DNS_POLICY_A:
        return mts_reply_addrs(reply, LDNS_RR_TYPE_A, job->scan->ex, &job->policy_v4);
    case DNS_POLICY_AAAA:
        return mts_reply_addrs(reply, LDNS_RR_TYPE_AAAA, job->scan->ex, &job->policy_v6);
    default:
        return true;
    }
}

static bool take_mx_obs(const struct mts_exclude *ex, struct mx_host *m, enum mx_key key, char *obs,
                        const struct mts_dns_reply *reply)
{
    m->obs[key] = obs;
    if (!reply || key == MX_TLSA)
        return true;
    return key == MX_A ? mts_reply_addrs(reply, LDNS_RR_TYPE_A, ex, &m->v4)
                       : mts_reply_addrs(reply, LDNS_RR_TYPE_AAAA, ex, &m->v6);
}

static bool take_rua_obs(const struct mts_exclude *ex, struct rua_dest *d, enum rua_key key,
                         char *obs, const struct mts_dns_reply *reply)
{
    d->obs[key] = obs;
    if (!reply || key == RUA_MX)
        return true;
    return key == RUA_A ? mts_reply_addrs(reply, LDNS_RR_TYPE_A, ex, &d->v4)
                        : mts_reply_addrs(reply, LDNS_RR_TYPE_AAAA, ex, &d->v6);
}

static void on_dns(void *arg, char *obs, const struct mts_dns_reply *reply)
{
    struct job_ref *ref = arg;
    struct job *job = ref->job;
    /* No observation: memory ran out, which is this process's fault, not the domain's. */
    bool ok = obs != NULL;
    if (ok && ref->rua)
        ok = take_rua_obs(job->scan->ex, &job->rua[ref->mx], ref->key, obs, reply);
    else if (ok && ref->mx == SIZE_MAX)
        ok = take_domain_obs(job, ref->key, obs, reply);
    else if (ok)
        ok = take_mx_obs(job->scan->ex, &job->mx[ref->mx], ref->key, obs, reply);
    free(ref);
    if (!ok)
        mts_scan_fail(job->scan, -ENOMEM, "out of memory");
    if (--job->pending == 0)
        job_step(job);
}

/* Records a query that cannot be asked (its name passes 255 octets): a fact about the
   domain, MX host or report destination that ref names, kept in its record. */
static void job_query_skipped(struct job *job, const struct job_ref *ref, const char *qname,
                              ldns_rr_type type)
{
    char *obs = mts_dns_obs_skipped(qname, type, mts_skip_name(MTS_SKIP_NAME_TOO_LONG));
    if (!obs)
        mts_scan_fail(job->scan, -ENOMEM, "out of memory");
    else if (ref->rua)
        take_rua_obs(job->scan->ex, &job->rua[ref->mx], ref->key, obs, NULL);
    else if (ref->mx == SIZE_MAX)
        take_domain_obs(job, ref->key, obs, NULL);
    else
        take_mx_obs(job->scan->ex, &job->mx[ref->mx], ref->key, obs, NULL);
}

/* Sends one query whose answer ref says where to keep (ref NULL: out of memory), or records
   why it cannot be asked. The caller holds a pending count while it issues a stage's
   queries, so a name recorded here never ends the stage early. */
static void job_send(struct job *job, struct job_ref *ref, const char *qname, ldns_rr_type type,
                     unsigned flags)
{
    struct scan *s = job->scan;
    if (!ref) {
        mts_scan_fail(s, -ENOMEM, "out of memory");
        return;
    }
    int rc = mts_dns_query(s->dns, qname, type, flags, on_dns, ref);
    if (rc == 0)
        return;
    job->pending--;
    if (rc == MTS_DNS_ENAME)
        job_query_skipped(job, ref, qname, type);
    else
        mts_scan_fail(s, rc == MTS_DNS_ENOMEM ? -ENOMEM : -EINVAL, mts_dns_strerror(rc));
    free(ref);
}

static void job_query(struct job *job, int key, size_t mx, const char *qname, ldns_rr_type type,
                      unsigned flags)
{
    job_send(job, job_ref_new(job, key, mx), qname, type, flags);
}

/* Asks prefix + name (a name derived from a domain or MX host). */
static void job_query_under(struct job *job, int key, size_t mx, const char *prefix,
                            const char *name, ldns_rr_type type, unsigned flags)
{
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *qname = malloc(n);
    if (!qname) {
        mts_scan_fail(job->scan, -ENOMEM, "out of memory");
        return;
    }
    snprintf(qname, n, "%s%s", prefix, name);
    job_query(job, key, mx, qname, type, flags);
    free(qname);
}

/* Where TLS reports would go: a mailto: domain needs an MX or (implicit MX) an address,
   an https: host an address. Shared names go through the scan-wide cache. */
static void job_query_rua(struct job *job)
{
    static const ldns_rr_type types[RUA_KEYS] = {LDNS_RR_TYPE_MX, LDNS_RR_TYPE_A,
                                                 LDNS_RR_TYPE_AAAA};
    for (size_t i = 0; i < job->n_rua; i++)
        for (int k = job->rua[i].t.mailto ? RUA_MX : RUA_A; k < RUA_KEYS; k++) {
            struct job_ref *ref = job_ref_new(job, k, i);
            if (ref)
                ref->rua = true;
            job_send(job, ref, job->rua[i].t.host, types[k], MTS_DNS_CACHE);
        }
}

void mts_job_start(struct scan *s, const char *domain)
{
    struct job *job = calloc(1, sizeof *job);
    if (!job || !(job->domain = strdup(domain))) {
        if (job)
            job_free(job);
        mts_scan_fail(s, -ENOMEM, "out of memory");
        return;
    }
    job->scan = s;
    job->t_start = mts_record_now();
    job->next = s->jobs;
    if (s->jobs)
        s->jobs->prev = job;
    s->jobs = job;
    s->inflight++;

    job->state = JOB_DNS;
    job->pending = 1; /* held while the queries are issued, so none can finish the stage */
    job_query_under(job, DNS_STS, SIZE_MAX, "_mta-sts.", domain, LDNS_RR_TYPE_TXT, 0);
    job_query(job, DNS_MX, SIZE_MAX, domain, LDNS_RR_TYPE_MX, 0);
    job_query_under(job, DNS_TLSRPT, SIZE_MAX, "_smtp._tls.", domain, LDNS_RR_TYPE_TXT, 0);
    job_query_under(job, DNS_POLICY_A, SIZE_MAX, "mta-sts.", domain, LDNS_RR_TYPE_A, 0);
    job_query_under(job, DNS_POLICY_AAAA, SIZE_MAX, "mta-sts.", domain, LDNS_RR_TYPE_AAAA, 0);
    if (--job->pending == 0)
        job_step(job);
}

/* A FETCHOBS for a fetch that never reached the network. */
static json_t *fetch_not_attempted(const char *host, enum mts_fetch_why why,
                                   enum mts_fetch_result result)
{
    char url[400];
    snprintf(url, sizeof url, "https://%s/.well-known/mta-sts.txt", host);
    return json_pack("{s:s, s:s, s:s}", "url", url, "why", mts_fetch_why_name(why), "result",
                     mts_fetch_result_name(result));
}

/* The FETCHOBS result of a policy host whose addresses were all skipped for why. */
static enum mts_fetch_result fetch_skipped(enum mts_skip why)
{
    switch (why) {
    case MTS_SKIP_EXCLUDED:
        return MTS_FETCH_EXCLUDED;
    case MTS_SKIP_SPECIAL_ADDRESS:
        return MTS_FETCH_SPECIAL_ADDRESS;
    case MTS_SKIP_IPV6_DISABLED:
        return MTS_FETCH_IPV6_DISABLED;
    default:
        return MTS_FETCH_ERROR;
    }
}

static void on_policy(void *arg, json_t *obs, const unsigned char *body, size_t body_len)
{
    struct job *job = arg;
    enum mts_fetch_result r =
        mts_fetch_result_parse(json_string_value(json_object_get(obs, "result")));
    mts_scan_count_unmade(job->scan, r == MTS_FETCH_LOCAL_ERROR, r == MTS_FETCH_QUEUE_TIMEOUT);
    job->policy = obs;
    /* An empty body is a body: the record names its digest, so the store must hold it. */
    bool has_body = json_object_get(obs, "body") ||
                    json_object_get(json_object_get(obs, "unauthenticated"), "body");
    if (body || has_body) {
        job->body = malloc(body_len ? body_len : 1);
        if (job->body) {
            if (body_len)
                memcpy(job->body, body, body_len);
            job->body_len = body_len;
        }
    }
    job->https_pending = false;
    job->scan->policy_fetches++;
    if (job->pending == 0)
        job_step(job);
}

/* Starts the policy fetch when the domain publishes a record or its policy host resolves. */
static void job_start_https(struct job *job, bool has_record)
{
    struct scan *s = job->scan;
    bool resolves = job->policy_v4.n + job->policy_v6.n > 0;
    if (s->cfg->no_https || (!has_record && !resolves))
        return;
    enum mts_fetch_why why = has_record ? MTS_FETCH_WHY_TXT : MTS_FETCH_WHY_POLICY_ONLY;
    char host[300];
    snprintf(host, sizeof host, "mta-sts.%s", job->domain);
    if (s->ex && (mts_exclude_name(s->ex, host) || job->policy_v4.cname_excluded ||
                  job->policy_v6.cname_excluded)) {
        job->policy = fetch_not_attempted(host, why, MTS_FETCH_EXCLUDED);
        return;
    }

    struct mts_addr_pick pick;
    mts_addr_pick(&s->addr_policy, &job->policy_v4, &job->policy_v6, &pick);
    if (pick.n == 0) {
        enum mts_fetch_result result =
            pick.skipped_addr ? fetch_skipped(pick.skip) : MTS_FETCH_NO_ADDRESS;
        const char *a = job->dns_result[DNS_POLICY_A];
        if (!resolves && !result_is(a, MTS_DNS_RESULT_NXDOMAIN) &&
            !result_is(a, MTS_DNS_RESULT_NODATA))
            result = MTS_FETCH_DNS_FAILURE;
        job->policy = fetch_not_attempted(host, why, result);
        if (pick.skipped_addr)
            json_object_set_new(job->policy, "addr", json_string(pick.skipped_addr));
        return;
    }
    job->https_pending = true;
    int rc = mts_https_fetch(s->https, host, pick.usable, pick.n, why, on_policy, job);
    if (rc == 0)
        return;
    job->https_pending = false;
    if (rc == -ENOMEM) {
        mts_scan_fail(s, rc, "out of memory");
        return;
    }
    /* The fetcher refused this host or its addresses: the domain's fact, not the scan's. */
    job->policy = fetch_not_attempted(host, why, MTS_FETCH_ERROR);
    json_object_set_new(job->policy, "curl_error", json_string("fetch refused: invalid argument"));
}

/* Orders the MX reply's hosts into job->mx by preference, without duplicates, at most
   max_mx; no MX at all (RFC 5321 §5.1) makes the domain itself the implicit MX. */
static bool job_collect_mx(struct job *job)
{
    struct scan *s = job->scan;
    size_t cap = job->n_found ? job->n_found : 1;
    if (!(job->mx = calloc(cap, sizeof *job->mx)))
        return false;
    if (result_is(job->dns_result[DNS_MX], MTS_DNS_RESULT_NODATA)) {
        if (!(job->mx[0].host = strdup(job->domain)))
            return false;
        job->mx[0].implicit = true;
        job->n_mx = 1;
        return true;
    }
    for (size_t i = 0; i < job->n_found; i++) {
        struct mts_mx_name *f = &job->mx_found[i];
        /* Insertion sort by preference: MX sets are small and bounded by max_mx. */
        size_t pos = job->n_mx;
        bool dup = false;
        for (size_t j = 0; j < job->n_mx; j++) {
            if (strcmp(job->mx[j].host, f->host) == 0)
                dup = true;
            if (pos == job->n_mx && job->mx[j].pref > f->pref)
                pos = j;
        }
        if (dup || job->n_mx >= s->cfg->max_mx)
            continue;
        memmove(&job->mx[pos + 1], &job->mx[pos], (job->n_mx - pos) * sizeof *job->mx);
        job->mx[pos] = (struct mx_host){.host = f->host, .pref = f->pref};
        f->host = NULL; /* moved */
        job->n_mx++;
    }
    return true;
}

static void job_start_mxaddr(struct job *job)
{
    struct scan *s = job->scan;
    job_start_https(job, job->has_record);
    job->probe_mx = !s->cfg->no_smtp &&
                    (s->cfg->smtp_all || job->has_record || job->policy || job->https_pending);
    if (!job_collect_mx(job)) {
        mts_scan_fail(s, -ENOMEM, "out of memory");
        return;
    }

    job->state = JOB_MXADDR;
    job->pending++;
    for (size_t i = 0; i < job->n_mx; i++) {
        const char *host = job->mx[i].host;
        job_query(job, MX_A, i, host, LDNS_RR_TYPE_A, MTS_DNS_CACHE);
        job_query(job, MX_AAAA, i, host, LDNS_RR_TYPE_AAAA, MTS_DNS_CACHE);
        if (s->cfg->dane)
            job_query_under(job, MX_TLSA, i, "_25._tcp.", host, LDNS_RR_TYPE_TLSA,
                            MTS_DNS_CACHE | MTS_DNS_DO);
    }
    job_query_rua(job);
    if (--job->pending == 0)
        job_step(job);
}

static void on_probe(void *arg, const json_t *probe)
{
    /* Stored once by the cache's on_finished hook; the domain record refers to it. */
    (void)probe;
    struct job_ref *ref = arg;
    struct job *job = ref->job;
    free(ref);
    if (--job->pending == 0)
        job_step(job);
}

static void on_rua_tls(void *arg, const char *text)
{
    struct job_ref *ref = arg;
    struct job *job = ref->job;
    if (!text || !(job->rua[ref->mx].tls = strdup(text)))
        mts_scan_fail(job->scan, -ENOMEM, "out of memory");
    free(ref);
    if (--job->pending == 0)
        job_step(job);
}

/* Keeps a RUATLS text that no check produced ({"result":"<result>"}). */
static void rua_tls_result(struct job *job, struct rua_dest *d, enum mts_fetch_result result)
{
    char text[64];
    snprintf(text, sizeof text, "{\"result\":\"%s\"}", mts_fetch_result_name(result));
    if (!(d->tls = strdup(text)))
        mts_scan_fail(job->scan, -ENOMEM, "out of memory");
}

/* The TLS check of each https: report host that has an address (docs/record-schema.md,
   RUATLS), one per host and port in the whole scan; the addresses picked as for the
   policy host, the opt-out list first. */
static void job_start_rua_tls(struct job *job)
{
    struct scan *s = job->scan;
    for (size_t i = 0; s->rua_tls && i < job->n_rua; i++) {
        struct rua_dest *d = &job->rua[i];
        if (d->t.mailto || d->v4.n + d->v6.n == 0)
            continue;
        if (s->ex &&
            (mts_exclude_name(s->ex, d->t.host) || d->v4.cname_excluded || d->v6.cname_excluded)) {
            rua_tls_result(job, d, MTS_FETCH_EXCLUDED);
            continue;
        }
        struct mts_addr_pick pick;
        mts_addr_pick(&s->addr_policy, &d->v4, &d->v6, &pick);
        if (pick.n == 0) {
            rua_tls_result(job, d, fetch_skipped(pick.skip));
            continue;
        }
        struct job_ref *ref = job_ref_new(job, 0, i);
        int rc = ref ? mts_rua_tls_request(s->rua_tls, d->t.host, d->t.port, pick.usable, pick.n,
                                           on_rua_tls, ref)
                     : -ENOMEM;
        if (rc == 0)
            continue;
        if (ref) {
            job->pending--;
            free(ref);
        }
        if (rc == -ENOMEM)
            mts_scan_fail(s, rc, "out of memory");
        else
            rua_tls_result(job, d, MTS_FETCH_ERROR); /* the fetcher refused the host */
    }
}

static void job_start_probes(struct job *job)
{
    struct scan *s = job->scan;
    job->state = JOB_PROBES;
    job->pending++;
    for (size_t i = 0; i < job->n_mx; i++) {
        struct mx_host *m = &job->mx[i];
        size_t n = m->v4.n + m->v6.n, per_family[2] = {0, 0};
        bool excluded = s->ex && (mts_exclude_name(s->ex, m->host) || m->v4.cname_excluded ||
                                  m->v6.cname_excluded);
        m->probed = true;
        if (n && !(m->probes = calloc(n, sizeof *m->probes))) {
            mts_scan_fail(s, -ENOMEM, "out of memory");
            break;
        }
        /* IPv4 first, then IPv6; each family bounded by max_addrs. */
        for (size_t j = 0; j < n; j++) {
            const char *text = j < m->v4.n ? m->v4.addr[j] : m->v6.addr[j - m->v4.n];
            bool v6addr = strchr(text, ':') != NULL;
            struct probe_entry *p = &m->probes[m->n_probes++];
            memcpy(p->addr, text, sizeof p->addr);
            enum mts_skip why = MTS_SKIP_UNKNOWN;
            if (!job->probe_mx)
                why = s->cfg->no_smtp ? MTS_SKIP_SMTP_DISABLED : MTS_SKIP_OUT_OF_SCOPE;
            else if (excluded)
                why = MTS_SKIP_EXCLUDED;
            else if (per_family[v6addr] >= s->cfg->max_addrs)
                why = MTS_SKIP_LIMIT;
            else if (!mts_addr_skipped(&s->addr_policy, text, &why))
                why = MTS_SKIP_UNKNOWN;
            if ((p->skip = mts_skip_name(why)) != NULL)
                continue;
            per_family[v6addr]++;
            if (!mts_store_mxprobe_key_fits(s->store, s->cfg->scan_id, m->host, text)) {
                p->skip = mts_skip_name(MTS_SKIP_NAME_TOO_LONG);
                continue;
            }
            if (s->cfg->defer_probes)
                continue; /* listed for stage 2, which probes it (docs/sharding.md) */
            struct job_ref *ref = job_ref_new(job, 0, i);
            if (!ref) {
                mts_scan_fail(s, -ENOMEM, "out of memory");
                break;
            }
            int rc = mts_mxprobe_request(s->probes, m->host, text, on_probe, ref);
            if (rc != 0) {
                job->pending--;
                free(ref);
                if (rc == -ENOMEM) {
                    mts_scan_fail(s, rc, "out of memory");
                    break;
                }
                p->skip = mts_skip_name(MTS_SKIP_PROBE_REFUSED); /* the prober would not take it */
            }
        }
    }
    job_start_rua_tls(job);
    if (--job->pending == 0)
        job_step(job);
}

/* Hands the finished record to the writer; the job ends here. After a fault of the
   process nothing more is committed: --resume must be able to trust every record. */
static void job_commit(struct job *job)
{
    struct scan *s = job->scan;
    int rc = 0;
    if (s->err) {
        job_unlink(job);
        job_free(job);
        return;
    }
    if (job->body && job->policy) {
        unsigned char digest[32];
        unsigned int dlen = 0;
        EVP_Digest(job->body, job->body_len, digest, &dlen, EVP_sha256(), NULL);
        rc = mts_writer_put_policy(s->writer, digest, job->body, job->body_len);
    }
    size_t len = 0;
    char *rec = rc ? NULL : mts_domain_record(job, s->cfg->scan_id, &len);
    if (rc == 0)
        rc = rec ? mts_writer_put_domain_text(s->writer, s->cfg->scan_id, job->domain, rec, len)
                 : -ENOMEM;
    job_unlink(job);
    job_free(job);
    s->finished++;
    if (rc != 0)
        mts_scan_fail(s, rc, mts_store_strerror(rc));
    else
        mts_scan_fill(s);
}

/* Called whenever the current stage has nothing outstanding: enter the next one. */
static void job_step(struct job *job)
{
    switch (job->state) {
    case JOB_DNS:
        job_start_mxaddr(job);
        break;
    case JOB_MXADDR:
        job_start_probes(job);
        break;
    case JOB_PROBES:
        if (!job->https_pending)
            job_commit(job); /* frees the job */
        break;
    }
}

void mts_jobs_free(struct scan *s)
{
    while (s->jobs) {
        struct job *job = s->jobs;
        job_unlink(job);
        job_free(job);
    }
}
