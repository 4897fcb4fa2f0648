/*
 * The per-domain pipeline. Each domain in flight is a job that walks through explicit
 * stages on the one event loop:
 *
 *   DNS      TXT _mta-sts.D, MX D, TXT _smtp._tls.D, A/AAAA mta-sts.D, in parallel
 *   MXADDR   A/AAAA (and TLSA with --dane) of every MX host, and MX/A/AAAA of the TLS-RPT
 *            report destinations, through the scan-wide cache; the policy fetch starts
 *            here too, beside it
 *   PROBES   one STARTTLS probe per (MX host, address), shared across the whole scan
 *   COMMIT   the raw record goes to the store's writer
 *
 * Back-pressure: at most cfg->concurrency jobs exist, and the input is read only when a
 * job ends, so memory stays flat however long the list. When the store's writer falls
 * behind, no new job starts until it signals that it drained: the loop never waits on the
 * disk, and the jobs in flight keep their timers. A domain is done when its record
 * is committed; every MX probe record and policy body it refers to is queued to the
 * writer before it, and the writer commits in order, so --resume may trust any domain
 * record it finds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "conn_limit.h"
#include "dns_engine.h"
#include "https_fetch.h"
#include "json_text.h"
#include "mts_exclude.h"
#include "mts_input.h"
#include "mts_special.h"
#include "mts_store.h"
#include "mts_vocab.h"
#include "mts_writer.h"
#include "mxprobe_cache.h"
#include "pipeline.h"
#include "progress.h"
#include "smtp_probe.h"
#include "tlsrpt_rua.h"

enum job_state { JOB_DNS, JOB_MXADDR, JOB_PROBES };

/* The domain's own queries, in the order the record lists them. */
enum dns_key { DNS_STS, DNS_MX, DNS_TLSRPT, DNS_POLICY_A, DNS_POLICY_AAAA, DNS_KEYS };
static const char *const dns_key_names[DNS_KEYS] = {"sts", "mx", "tlsrpt", "policy_a",
                                                    "policy_aaaa"};
/* An MX host's queries. */
enum mx_key { MX_A, MX_AAAA, MX_TLSA, MX_KEYS };
static const char *const mx_key_names[MX_KEYS] = {"a", "aaaa", "tlsa"};
/* A TLS-RPT report destination's queries (docs/record-schema.md, "tlsrpt_rua"). */
enum rua_key { RUA_MX, RUA_A, RUA_AAAA, RUA_KEYS };
static const char *const rua_key_names[RUA_KEYS] = {"mx", "a", "aaaa"};

struct rua_dest {
    struct mts_rua_target t;
    char *obs[RUA_KEYS]; /* DNSOBS texts, owned; NULL when not asked */
};

/* Addresses read off an A or AAAA reply, in answer order. */
struct addrs {
    char (*addr)[INET6_ADDRSTRLEN]; /* owned */
    size_t n;
    bool cname_excluded; /* the answer reached them through a CNAME to an opted-out name */
};

/* One (MX host, address) of the record: probed, or skipped for a reason. */
struct probe_entry {
    char addr[INET6_ADDRSTRLEN];
    const char *skip; /* static, or NULL when probed */
};

/* An MX host: what the record's "mx" array holds (MXHOST, docs/record-schema.md). */
struct mx_host {
    char *host; /* canonical, owned */
    long pref;
    bool implicit;
    char *obs[MX_KEYS]; /* DNSOBS texts, owned; NULL when not asked */
    struct addrs v4, v6;
    struct probe_entry *probes; /* owned */
    size_t n_probes;
    bool probed; /* the probe stage ran: the record gets a "probes" array */
};

struct scan;

/*
 * A domain in flight. Observations are kept as the JSON text the record will hold, and
 * what the pipeline itself needs from a reply (the record's v=STSv1, MX hosts, addresses)
 * is read off the reply when it arrives: no JSON tree is built per query.
 */
struct job {
    struct scan *scan;
    struct job *prev, *next; /* the scan's list of jobs in flight */
    char *domain;
    enum job_state state;
    unsigned pending;   /* DNS queries or probes of the current stage still out */
    bool https_pending; /* the policy fetch runs beside the MX stages */
    bool probe_mx;      /* the MX hosts are in scope for STARTTLS probes */
    double t_start;
    char *dns[DNS_KEYS];              /* DNSOBS texts, owned */
    const char *dns_result[DNS_KEYS]; /* their "result" (static), NULL without a reply */
    bool has_record;                  /* the _mta-sts TXT holds a v=STSv1 record */
    struct addrs policy_v4, policy_v6;
    struct mx_host *mx; /* owned, n_mx of them in preference order */
    size_t n_mx;
    struct mx_host *mx_found; /* the MX reply's hosts, before sorting (owned) */
    size_t n_found;
    json_t *policy;      /* FETCHOBS, owned, or NULL */
    unsigned char *body; /* policy body, owned, or NULL */
    size_t body_len;
    struct rua_dest rua[MTS_RUA_MAX]; /* TLS-RPT destinations, looked up in MXADDR */
    size_t n_rua;
};

/* One outstanding DNS query or probe of a job: which observation its answer fills. */
struct job_ref {
    struct job *job;
    int key;   /* enum dns_key, or enum mx_key when mx is set, or enum rua_key */
    size_t mx; /* index into job->mx (job->rua), or SIZE_MAX for the domain's own queries */
    bool rua;  /* a TLS-RPT destination's query */
};

struct scan {
    const struct mts_scan_config *cfg;
    const struct mts_exclude *ex;
    struct event_base *base;
    struct mts_store *store;
    struct mts_writer *writer;
    struct mts_input *input;
    struct mts_dns *dns;
    struct mts_https *https;
    struct mts_conn_limit *https_limit, *smtp_limit;
    struct mts_smtp *smtp;
    struct mts_mxprobe_cache *probes;
    struct mts_progress *progress;
    struct event *sigint_ev, *sigterm_ev, *grace_ev;
    int drained_fd; /* eventfd: the writer drained after falling behind */
    struct event *drained_ev;
    struct event *lag_ev; /* a steady tick that measures how late the loop runs timers */
    double lag_due, lag_max_ms;

    struct job *jobs; /* in flight */
    unsigned inflight;
    bool input_done, stopping, abandoned;
    int signals;
    int err; /* first fatal error; stops the scan */
    char errmsg[256];

    struct mts_dns_stats dns_final; /* the engine's counters, kept when it is freed */
    uint64_t resumed, finished, policy_fetches;
    uint64_t local_errors, queue_timeouts; /* probes and fetches this scan could not make */
    _Atomic uint64_t committed_domains;
};

static double now_seconds(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double round_ms(double t)
{
    return floor(t * 1000.0 + 0.5) / 1000.0;
}

static void scan_fail(struct scan *s, int err, const char *what)
{
    if (s->err)
        return;
    s->err = err ? err : -EIO;
    snprintf(s->errmsg, sizeof s->errmsg, "%s", what);
    s->stopping = true;
    event_base_loopbreak(s->base);
}

/* ---- reading replies ----------------------------------------------------------------- */

static bool result_is(const char *result, enum mts_dns_result want)
{
    return mts_dns_result_parse(result) == want;
}

/* A name from an answer in canonical form: lower case, no trailing dot. */
static char *canonical_name(const char *name)
{
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '.')
        n--;
    char *out = strndup(name, n);
    for (char *p = out; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* Whether the reply's answer holds a TXT record that starts with v=STSv1 (RFC 8461 §3.1):
   its character-strings joined, of which only the first bytes matter here. */
static bool has_sts_record(const ldns_pkt *reply)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
            continue;
        char buf[63];
        size_t len = 0, k;
        for (k = 0; k < ldns_rr_rd_count(rr); k++) {
            const ldns_rdf *rdf = ldns_rr_rdf(rr, k);
            const uint8_t *d = ldns_rdf_data(rdf);
            size_t n = ldns_rdf_size(rdf);
            if (n < 1 || (size_t)d[0] + 1 != n)
                break; /* not a character-string: the observation keeps it as rdata */
            size_t take = d[0] < sizeof buf - len ? d[0] : sizeof buf - len;
            memcpy(buf + len, d + 1, take);
            len += take;
        }
        if (k == ldns_rr_rd_count(rr) && len >= 7 && memcmp(buf, "v=STSv1", 7) == 0)
            return true;
    }
    return false;
}

/* 1 when a CNAME in the reply's answer names a host on the opt-out list (a host reached
   through an alias is as excluded as one named directly), 0 when none does, -1 on ENOMEM. */
static int cname_excluded(const struct mts_exclude *ex, const ldns_pkt *reply)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    for (size_t i = 0; ex && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) != 1)
            continue;
        char *text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        char *canon = text ? canonical_name(text) : NULL;
        int hit = canon ? mts_exclude_name(ex, canon) : -1;
        free(text);
        free(canon);
        if (hit != 0)
            return hit;
    }
    return 0;
}

/* Appends the reply's addresses of type (A or AAAA) to out, noting a CNAME to an excluded
   name. False on ENOMEM. */
static bool collect_addrs(const struct mts_exclude *ex, const ldns_pkt *reply, ldns_rr_type type,
                          struct addrs *out)
{
    int excluded = cname_excluded(ex, reply);
    if (excluded < 0)
        return false;
    out->cname_excluded = out->cname_excluded || excluded;
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        char buf[INET6_ADDRSTRLEN];
        if (!mts_dns_obs_addr(ldns_rr_list_rr(an, i), type, buf, sizeof buf))
            continue;
        void *grown = realloc(out->addr, (out->n + 1) * sizeof *out->addr);
        if (!grown)
            return false;
        out->addr = grown;
        memcpy(out->addr[out->n++], buf, sizeof buf);
    }
    return true;
}

static void mx_host_clear(struct mx_host *m)
{
    free(m->host);
    for (size_t k = 0; k < MX_KEYS; k++)
        free(m->obs[k]);
    free(m->v4.addr);
    free(m->v6.addr);
    free(m->probes);
}

/* Reads the MX hosts of the reply (as the observation writes them) into job->mx_found. */
static bool collect_mx(struct job *job, const ldns_pkt *reply)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_MX || ldns_rr_rd_count(rr) != 2 ||
            ldns_rdf_size(ldns_rr_rdf(rr, 0)) != 2)
            continue;
        char *text = ldns_rdf2str(ldns_rr_rdf(rr, 1));
        char *canon = text && strcmp(text, ".") != 0 ? canonical_name(text) : NULL;
        bool failed = !text;
        free(text);
        if (!canon) {
            if (failed)
                return false;
            continue;
        }
        void *grown = realloc(job->mx_found, (job->n_found + 1) * sizeof *job->mx_found);
        if (!grown) {
            free(canon);
            return false;
        }
        job->mx_found = grown;
        job->mx_found[job->n_found++] =
            (struct mx_host){.host = canon, .pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0))};
    }
    return true;
}

/* The special-purpose classes --allow-private opens (test worlds, lab networks): unicast
   addresses a host can really own. Unspecified, multicast, broadcast and reserved
   addresses stay closed whatever the options. */
static bool private_unicast(const char *special_class)
{
    static const char *const open[] = {"loopback",   "private",      "cgnat",
                                       "link-local", "unique-local", "site-local"};
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
        if (strcmp(special_class, open[i]) == 0)
            return true;
    return false;
}

/* Whether an address must not be contacted, and why (*why). */
static bool addr_skipped(const struct scan *s, const char *addr, enum mts_skip *why)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        *why = MTS_SKIP_IPV6_DISABLED;
        if (!s->cfg->ipv6)
            return true;
    } else {
        *why = MTS_SKIP_BAD_ADDRESS;
        return true;
    }
    *why = MTS_SKIP_EXCLUDED;
    if (s->ex && mts_exclude_addr(s->ex, (struct sockaddr *)&ss))
        return true;
    *why = MTS_SKIP_SPECIAL_ADDRESS;
    const char *special = mts_special_addr((struct sockaddr *)&ss);
    return special && !(s->cfg->allow_private && private_unicast(special));
}

/* ---- jobs ---------------------------------------------------------------------------- */

static void scan_fill(struct scan *s);
static void job_step(struct job *job);

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
        mx_host_clear(&job->mx_found[i]);
    free(job->mx_found);
    json_decref(job->policy);
    free(job->body);
    for (size_t i = 0; i < job->n_rua; i++)
        for (size_t k = 0; k < RUA_KEYS; k++)
            free(job->rua[i].obs[k]);
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
static bool take_domain_obs(struct job *job, enum dns_key key, char *obs, const ldns_pkt *reply)
{
    static const ldns_rr_type types[DNS_KEYS] = {
        LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
    job->dns[key] = obs;
    if (!reply)
        return true;
    job->dns_result[key] = mts_dns_obs_result(reply, types[key]);
    switch (key) {
    case DNS_STS:
        job->has_record = has_sts_record(reply);
        return true;
    case DNS_TLSRPT: {
        struct mts_rua_target t[MTS_RUA_MAX];
        job->n_rua = mts_rua_from_reply(reply, t, MTS_RUA_MAX);
        for (size_t i = 0; i < job->n_rua; i++)
            job->rua[i].t = t[i];
        return true;
    }
    case DNS_MX:
        return collect_mx(job, reply);
    case DNS_POLICY_A:
        return collect_addrs(job->scan->ex, reply, LDNS_RR_TYPE_A, &job->policy_v4);
    case DNS_POLICY_AAAA:
        return collect_addrs(job->scan->ex, reply, LDNS_RR_TYPE_AAAA, &job->policy_v6);
    default:
        return true;
    }
}

static bool take_mx_obs(const struct mts_exclude *ex, struct mx_host *m, enum mx_key key, char *obs,
                        const ldns_pkt *reply)
{
    m->obs[key] = obs;
    if (!reply || key == MX_TLSA)
        return true;
    return key == MX_A ? collect_addrs(ex, reply, LDNS_RR_TYPE_A, &m->v4)
                       : collect_addrs(ex, reply, LDNS_RR_TYPE_AAAA, &m->v6);
}

static void on_dns(void *arg, char *obs, const ldns_pkt *reply)
{
    struct job_ref *ref = arg;
    struct job *job = ref->job;
    /* No observation: memory ran out, which is this process's fault, not the domain's. */
    bool ok = obs != NULL;
    if (ok && ref->rua)
        job->rua[ref->mx].obs[ref->key] = obs;
    else if (ok && ref->mx == SIZE_MAX)
        ok = take_domain_obs(job, ref->key, obs, reply);
    else if (ok)
        ok = take_mx_obs(job->scan->ex, &job->mx[ref->mx], ref->key, obs, reply);
    free(ref);
    if (!ok)
        scan_fail(job->scan, -ENOMEM, "out of memory");
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
        scan_fail(job->scan, -ENOMEM, "out of memory");
    else if (ref->rua)
        job->rua[ref->mx].obs[ref->key] = obs;
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
        scan_fail(s, -ENOMEM, "out of memory");
        return;
    }
    int rc = mts_dns_query(s->dns, qname, type, flags, on_dns, ref);
    if (rc == 0)
        return;
    job->pending--;
    if (rc == MTS_DNS_ENAME)
        job_query_skipped(job, ref, qname, type);
    else
        scan_fail(s, rc == MTS_DNS_ENOMEM ? -ENOMEM : -EINVAL, mts_dns_strerror(rc));
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
        scan_fail(job->scan, -ENOMEM, "out of memory");
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

static void job_start(struct scan *s, const char *domain)
{
    struct job *job = calloc(1, sizeof *job);
    if (!job || !(job->domain = strdup(domain))) {
        if (job)
            job_free(job);
        scan_fail(s, -ENOMEM, "out of memory");
        return;
    }
    job->scan = s;
    job->t_start = now_seconds();
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

/* Counts a probe or fetch that this machine or the admission deadline kept from the net. */
static void count_unmade(struct scan *s, bool local_error, bool queue_timeout)
{
    s->local_errors += local_error;
    s->queue_timeouts += queue_timeout;
}

static void on_policy(void *arg, json_t *obs, const unsigned char *body, size_t body_len)
{
    struct job *job = arg;
    enum mts_fetch_result r =
        mts_fetch_result_parse(json_string_value(json_object_get(obs, "result")));
    count_unmade(job->scan, r == MTS_FETCH_LOCAL_ERROR, r == MTS_FETCH_QUEUE_TIMEOUT);
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
    size_t n = job->policy_v4.n + job->policy_v6.n;
    bool resolves = n > 0;
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

    const char *usable[16];
    size_t nusable = 0;
    const char *skipped_addr = NULL, *v6_addr = NULL;
    enum mts_skip skip = MTS_SKIP_UNKNOWN, why_not;
    for (size_t i = 0; i < n; i++) {
        const char *text = i < job->policy_v4.n ? job->policy_v4.addr[i]
                                                : job->policy_v6.addr[i - job->policy_v4.n];
        bool skipped = addr_skipped(s, text, &why_not);
        if (skipped && why_not == MTS_SKIP_IPV6_DISABLED) {
            if (!v6_addr)
                v6_addr = text;
        } else if (skipped && !skipped_addr) {
            skip = why_not;
            skipped_addr = text;
        }
        if (!skipped && nusable < sizeof usable / sizeof usable[0])
            usable[nusable++] = text;
    }
    /* Only an IPv6 address was left to try, and this scan does not use IPv6: its choice,
       not the host's fault. An operator's exclusion still wins. */
    if (nusable == 0 && v6_addr && skip != MTS_SKIP_EXCLUDED) {
        skip = MTS_SKIP_IPV6_DISABLED;
        skipped_addr = v6_addr;
    }
    if (nusable == 0) {
        enum mts_fetch_result result = skipped_addr ? fetch_skipped(skip) : MTS_FETCH_NO_ADDRESS;
        const char *a = job->dns_result[DNS_POLICY_A];
        if (!resolves && !result_is(a, MTS_DNS_RESULT_NXDOMAIN) &&
            !result_is(a, MTS_DNS_RESULT_NODATA))
            result = MTS_FETCH_DNS_FAILURE;
        job->policy = fetch_not_attempted(host, why, result);
        if (skipped_addr)
            json_object_set_new(job->policy, "addr", json_string(skipped_addr));
        return;
    }
    job->https_pending = true;
    int rc = mts_https_fetch(s->https, host, usable, nusable, why, on_policy, job);
    if (rc == 0)
        return;
    job->https_pending = false;
    if (rc == -ENOMEM) {
        scan_fail(s, rc, "out of memory");
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
        struct mx_host *f = &job->mx_found[i];
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
        job->mx[pos] = *f;
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
        scan_fail(s, -ENOMEM, "out of memory");
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

static void on_probe(void *arg, const struct mts_mxprobe_summary *summary, const json_t *probe)
{
    /* Stored once by the cache's on_finished hook; the domain record refers to it. */
    (void)summary;
    (void)probe;
    struct job_ref *ref = arg;
    struct job *job = ref->job;
    free(ref);
    if (--job->pending == 0)
        job_step(job);
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
            scan_fail(s, -ENOMEM, "out of memory");
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
            else if (!addr_skipped(s, text, &why))
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
                scan_fail(s, -ENOMEM, "out of memory");
                break;
            }
            int rc = mts_mxprobe_request(s->probes, m->host, text, on_probe, ref);
            if (rc != 0) {
                job->pending--;
                free(ref);
                if (rc == -ENOMEM) {
                    scan_fail(s, rc, "out of memory");
                    break;
                }
                p->skip = mts_skip_name(MTS_SKIP_PROBE_REFUSED); /* the prober would not take it */
            }
        }
    }
    if (--job->pending == 0)
        job_step(job);
}

/* An observation's text, or nothing when it is missing (no memory when it came). */
static void put_obs(struct mts_jt *t, const char *key, const char *obs)
{
    if (!obs)
        return;
    mts_jt_key(t, key);
    mts_jt_raw(t, obs, strlen(obs));
}

/* The domain record (docs/record-schema.md) as JSON text; NULL on ENOMEM. */
static char *job_record(const struct job *job, size_t *len)
{
    const struct scan *s = job->scan;
    struct mts_jt t;
    mts_jt_init(&t);
    mts_jt_open(&t, '{');
    mts_jt_key(&t, "v");
    mts_jt_int(&t, 1);
    mts_jt_key(&t, "scan");
    mts_jt_cstr(&t, s->cfg->scan_id);
    mts_jt_key(&t, "domain");
    mts_jt_cstr(&t, job->domain);
    mts_jt_key(&t, "t_start");
    mts_jt_real(&t, round_ms(job->t_start), 3);
    mts_jt_key(&t, "t_end");
    mts_jt_real(&t, round_ms(now_seconds()), 3);
    mts_jt_key(&t, "dns");
    mts_jt_open(&t, '{');
    for (size_t k = 0; k < DNS_KEYS; k++)
        put_obs(&t, dns_key_names[k], job->dns[k]);
    mts_jt_close(&t, '}');
    mts_jt_key(&t, "mx");
    mts_jt_open(&t, '[');
    for (size_t i = 0; i < job->n_mx; i++) {
        const struct mx_host *m = &job->mx[i];
        mts_jt_open(&t, '{');
        mts_jt_key(&t, "pref");
        mts_jt_int(&t, m->pref);
        mts_jt_key(&t, "host");
        mts_jt_cstr(&t, m->host);
        mts_jt_key(&t, "implicit");
        mts_jt_bool(&t, m->implicit);
        for (size_t k = 0; k < MX_KEYS; k++)
            put_obs(&t, mx_key_names[k], m->obs[k]);
        if (m->probed) {
            mts_jt_key(&t, "probes");
            mts_jt_open(&t, '[');
            for (size_t j = 0; j < m->n_probes; j++) {
                mts_jt_open(&t, '{');
                mts_jt_key(&t, "addr");
                mts_jt_cstr(&t, m->probes[j].addr);
                if (m->probes[j].skip) {
                    mts_jt_key(&t, "skip");
                    mts_jt_cstr(&t, m->probes[j].skip);
                }
                mts_jt_close(&t, '}');
            }
            mts_jt_close(&t, ']');
        }
        mts_jt_close(&t, '}');
    }
    mts_jt_close(&t, ']');
    if (job->n_rua) {
        mts_jt_key(&t, "tlsrpt_rua");
        mts_jt_open(&t, '[');
        for (size_t i = 0; i < job->n_rua; i++) {
            mts_jt_open(&t, '{');
            mts_jt_key(&t, "scheme");
            mts_jt_cstr(&t,
                        mts_rua_scheme_name(job->rua[i].t.mailto ? MTS_RUA_MAILTO : MTS_RUA_HTTPS));
            mts_jt_key(&t, "host");
            mts_jt_cstr(&t, job->rua[i].t.host);
            for (size_t k = 0; k < RUA_KEYS; k++)
                put_obs(&t, rua_key_names[k], job->rua[i].obs[k]);
            mts_jt_close(&t, '}');
        }
        mts_jt_close(&t, ']');
    }
    if (job->policy) {
        char *policy = json_dumps(job->policy, MTS_STORE_JSON_FLAGS);
        if (!policy) {
            mts_jt_free(&t);
            return NULL;
        }
        mts_jt_key(&t, "policy");
        mts_jt_raw(&t, policy, strlen(policy));
        free(policy);
    }
    mts_jt_close(&t, '}');
    return mts_jt_take(&t, len);
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
    char *rec = rc ? NULL : job_record(job, &len);
    if (rc == 0)
        rc = rec ? mts_writer_put_domain_text(s->writer, s->cfg->scan_id, job->domain, rec, len)
                 : -ENOMEM;
    job_unlink(job);
    job_free(job);
    s->finished++;
    if (rc != 0)
        scan_fail(s, rc, mts_store_strerror(rc));
    else
        scan_fill(s);
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

/* ---- the scan ------------------------------------------------------------------------ */

static void scan_finish_if_idle(struct scan *s)
{
    if (s->inflight == 0 && (s->input_done || s->stopping))
        event_base_loopbreak(s->base);
}

/* Starts jobs until the concurrency bound is reached, the input ends or the writer is
   behind (on_writer_drained calls again). */
static void scan_fill(struct scan *s)
{
    while (!s->stopping && !s->input_done && s->inflight < s->cfg->concurrency &&
           !mts_writer_behind(s->writer)) {
        const char *name;
        int rc = mts_input_next(s->input, &name);
        if (rc == 0) {
            s->input_done = true;
            break;
        }
        if (rc < 0) {
            scan_fail(s, rc, mts_input_message(s->input));
            return;
        }
        if (s->cfg->resume && mts_store_domain_done(s->store, s->cfg->scan_id, name)) {
            s->resumed++;
            continue;
        }
        job_start(s, name);
    }
    scan_finish_if_idle(s);
}

static void on_grace_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct scan *s = arg;
    s->abandoned = true;
    event_base_loopbreak(s->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct scan *s = arg;
    s->signals++;
    if (s->signals > 1) {
        s->abandoned = s->inflight > 0;
        event_base_loopbreak(s->base);
        return;
    }
    mts_progress_note(s->progress, "%s: finishing %u domains in flight (again to stop now)",
                      strsignal((int)sig), s->inflight);
    s->stopping = true;
    if (s->inflight == 0) {
        event_base_loopbreak(s->base);
        return;
    }
    struct timeval tv = {s->cfg->grace_ms / 1000, (s->cfg->grace_ms % 1000) * 1000};
    s->grace_ev = evtimer_new(s->base, on_grace_over, s);
    if (s->grace_ev)
        evtimer_add(s->grace_ev, &tv);
}

#define LAG_TICK_MS 100

/* Every measured timeout is only as good as the loop's punctuality: the scan records the
   worst lateness of a steady tick (a loop blocked on the disk would show here). */
static void on_lag_tick(evutil_socket_t fd, short what, void *arg)
{
    struct scan *s = arg;
    (void)fd;
    (void)what;
    double now = monotonic_ms();
    if (now - s->lag_due > s->lag_max_ms)
        s->lag_max_ms = now - s->lag_due;
    s->lag_due = now + LAG_TICK_MS;
}

/* Writer thread: wakes the loop, which admits domains again. */
static void on_drained(void *arg)
{
    struct scan *s = arg;
    uint64_t one = 1;
    /* Cannot fail: one wake per drain never overflows the eventfd's counter. */
    ssize_t n = write(s->drained_fd, &one, sizeof one);
    (void)n;
}

static void on_writer_drained(evutil_socket_t fd, short what, void *arg)
{
    struct scan *s = arg;
    uint64_t n;
    (void)what;
    if (read(fd, &n, sizeof n) == sizeof n)
        scan_fill(s);
}

static void on_commit(void *arg, const struct mts_writer_commit *info)
{
    struct scan *s = arg;
    atomic_store(&s->committed_domains, info->total_domains);
}

static void on_probe_finished(void *arg, const char *host, const char *addr, json_t *record)
{
    struct scan *s = arg;
    if (s->err) {
        json_decref(record);
        return;
    }
    enum mts_smtp_result r =
        mts_smtp_result_parse(json_string_value(json_object_get(record, "result")));
    count_unmade(s, r == MTS_SMTP_LOCAL_ERROR, r == MTS_SMTP_QUEUE_TIMEOUT);
    int rc = mts_writer_put_mxprobe(s->writer, s->cfg->scan_id, host, addr, record);
    if (rc != 0)
        scan_fail(s, rc, mts_store_strerror(rc));
}

static void fill_progress(struct scan *s, struct mts_progress_counts *pc)
{
    struct mts_dns_stats ds = s->dns_final;
    if (s->dns)
        mts_dns_stats(s->dns, &ds);
    pc->done = atomic_load(&s->committed_domains) + s->resumed;
    pc->inflight = s->inflight;
    pc->dns_queries = ds.sent;
    pc->dns_timeouts = ds.timeouts;
    pc->policy_fetches = s->policy_fetches;
}

static void on_progress(void *arg, struct mts_progress_counts *pc)
{
    fill_progress(arg, pc);
}

/* Writes the scan's metadata record. */
static int put_scan_meta(struct scan *s, json_t *prev, enum mts_scan_state state)
{
    const struct mts_scan_config *c = s->cfg;
    json_t *meta = json_pack("{s:i, s:s, s:s, s:s, s:s}", "v", 1, "scan", c->scan_id, "state",
                             mts_scan_state_name(state), "version", MTS_VERSION, "openssl",
                             OpenSSL_version(OPENSSL_VERSION));
    if (!meta)
        return -ENOMEM;
    json_t *t0 = json_object_get(prev, "t_start");
    json_object_set_new(meta, "t_start", t0 ? json_copy(t0) : json_real(round_ms(now_seconds())));
    if (state != MTS_SCAN_RUNNING)
        json_object_set_new(meta, "t_end", json_real(round_ms(now_seconds())));
    json_t *argv = json_array(), *inputs = json_array(), *resolvers = json_array();
    for (int i = 0; i < c->argc; i++)
        json_array_append_new(argv, json_string(c->argv[i]));
    for (size_t i = 0; i < c->ninputs; i++)
        json_array_append_new(inputs, json_string(c->inputs[i]));
    for (size_t i = 0; i < c->nresolvers; i++)
        json_array_append_new(resolvers, json_string(c->resolvers[i]));
    json_object_set_new(meta, "argv", argv);
    json_object_set_new(meta, "inputs", inputs);
    json_object_set_new(meta, "resolvers", resolvers);
    char shard[32];
    snprintf(shard, sizeof shard, "%u/%u", c->shard_k, c->shard_n);
    json_object_set_new(meta, "shard", json_string(shard));
    if (c->defer_probes)
        json_object_set_new(meta, "stage", json_string(mts_scan_stage_name(MTS_SCAN_STAGE_DNS)));
    /* The limits the scan really ran with: main.c may have lowered them to fit this
       machine, and they bound what could be observed. */
    json_object_set_new(meta, "limits",
                        json_pack("{s:I, s:i, s:i, s:i, s:i, s:i}", "open_files",
                                  (json_int_t)c->open_files, "concurrency", (int)c->concurrency,
                                  "https_max", (int)c->https_max, "smtp_max", (int)c->smtp_max,
                                  "dns_tcp_max", (int)c->dns_tcp_max, "queue_timeout_ms",
                                  (int)c->queue_ms));
    char digest[65];
    if (s->input_done && mts_input_digest(s->input, digest) == 0) {
        char text[80];
        snprintf(text, sizeof text, "sha256:%s", digest);
        json_object_set_new(meta, "input_digest", json_string(text));
    }
    if (state != MTS_SCAN_RUNNING) {
        struct mts_progress_counts pc = {0};
        fill_progress(s, &pc);
        struct mts_input_stats is;
        mts_input_get_stats(s->input, &is);
        json_object_set_new(
            meta, "counts",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "domains",
                      (json_int_t)(s->finished + s->resumed), "resumed", (json_int_t)s->resumed,
                      "rejected", (json_int_t)is.rejected, "duplicates", (json_int_t)is.duplicates,
                      "excluded", (json_int_t)is.excluded, "dns_queries",
                      (json_int_t)pc.dns_queries, "policy_fetches", (json_int_t)s->policy_fetches,
                      "local_errors", (json_int_t)s->local_errors, "queue_timeouts",
                      (json_int_t)s->queue_timeouts));
        json_object_set_new(meta, "loop_lag_ms", json_real(floor(s->lag_max_ms + 0.5)));
    }
    return mts_writer_put_scan(s->writer, c->scan_id, meta);
}

static int scan_open_store(struct scan *s, json_t **prev, char *err, size_t errlen)
{
    const struct mts_scan_config *c = s->cfg;
    int rc = mts_store_open(&s->store, c->db, MTS_STORE_CREATE, 0);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open store %s: %s", c->db, mts_store_strerror(rc));
        return rc;
    }
    rc = mts_store_scan_get(s->store, c->scan_id, prev);
    if (c->resume && rc == MTS_STORE_NOTFOUND) {
        snprintf(err, errlen, "no scan '%s' in %s to resume", c->scan_id, c->db);
        return rc;
    }
    char shard[32];
    snprintf(shard, sizeof shard, "%u/%u", c->shard_k, c->shard_n);
    const char *was = json_string_value(json_object_get(*prev, "shard"));
    if (c->resume && rc == 0 && was && strcmp(was, shard) != 0) {
        snprintf(err, errlen, "scan '%s' is shard %s, not %s: resume it with --shard %s",
                 c->scan_id, was, shard, was);
        return -EINVAL;
    }
    if (!c->resume && rc == 0) {
        snprintf(err, errlen, "scan '%s' already exists in %s: use --resume or another --scan-id",
                 c->scan_id, c->db);
        return -EEXIST;
    }
    s->drained_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->drained_ev = s->drained_fd < 0 ? NULL
                                      : event_new(s->base, s->drained_fd, EV_READ | EV_PERSIST,
                                                  on_writer_drained, s);
    if (!s->drained_ev || event_add(s->drained_ev, NULL) < 0) {
        snprintf(err, errlen, "cannot watch the store writer: %s", strerror(errno));
        return -EIO;
    }
    /* Never blocks in put: admission stops at --writer-backlog pending records instead, so
       the queue holds at most that plus the records of the jobs in flight. */
    struct mts_writer_opts wo = {.on_commit = on_commit,
                                 .on_commit_arg = s,
                                 .queue_max = SIZE_MAX,
                                 .high_mark = c->writer_backlog,
                                 .low_mark = c->writer_backlog / 4,
                                 .on_drained = on_drained,
                                 .on_drained_arg = s};
    rc = mts_writer_start(&s->writer, s->store, &wo);
    if (rc != 0)
        snprintf(err, errlen, "cannot start the store writer: %s", mts_store_strerror(rc));
    return rc;
}

static int scan_open_engines(struct scan *s, char *err, size_t errlen)
{
    const struct mts_scan_config *c = s->cfg;
    struct mts_dns_opts dopts = {
        .resolvers = c->nresolvers ? c->resolvers : NULL,
        .nresolvers = c->nresolvers,
        .timeout_ms = c->timeout_dns_ms,
        .tries = c->dns_tries,
        .max_inflight = c->dns_inflight,
        .rate_qps = c->rate,
        .max_tcp = c->dns_tcp_max,
        .cache_entries = 1u << 16,
        .cache_bytes = c->dns_cache_bytes,
    };
    int rc = mts_dns_new(&s->dns, s->base, &dopts);
    if (rc != 0) {
        snprintf(err, errlen, "DNS engine: %s", mts_dns_strerror(rc));
        return rc;
    }
    if ((rc = mts_conn_limit_new(&s->https_limit, s->base, c->per_ip, c->https_max)) != 0 ||
        (rc = mts_conn_limit_new(&s->smtp_limit, s->base, c->per_ip, c->smtp_max)) != 0) {
        snprintf(err, errlen, "connection limits: out of memory");
        return rc;
    }
    mts_conn_limit_set_wait_ms(s->https_limit, c->queue_ms);
    mts_conn_limit_set_wait_ms(s->smtp_limit, c->queue_ms);
    struct mts_https_opts hopts = {
        .ca_file = c->ca_file,
        .port = c->https_port,
        .connect_timeout_ms = c->timeout_connect_ms,
        .total_timeout_ms = c->timeout_https_ms,
        .max_body = c->max_body,
        .max_transfers = c->https_max,
        .user_agent = c->user_agent,
        .fetch_unauthenticated = c->fetch_unauthenticated,
        .conn_limit = s->https_limit,
    };
    if ((rc = mts_https_new(&s->https, s->base, &hopts)) != 0) {
        snprintf(err, errlen, "HTTPS fetcher: cannot start (error %d)", rc);
        return rc;
    }
    struct mts_smtp_opts sopts = mts_pipeline_smtp_opts(c, s->smtp_limit);
    if ((rc = mts_smtp_new(&s->smtp, s->base, &sopts)) != 0) {
        snprintf(err, errlen, "SMTP prober: %s", mts_smtp_strerror(rc));
        return rc;
    }
    rc = mts_mxprobe_cache_new(&s->probes, s->smtp, on_probe_finished, s);
    if (rc != 0) {
        snprintf(err, errlen, "MX probe cache: out of memory");
        return rc;
    }
    mts_mxprobe_cache_set_max_bytes(s->probes, c->mx_cache_bytes);
    return 0;
}

static void scan_close_engines(struct scan *s)
{
    /* Engines cancel what they still hold without calling back: jobs can go afterwards. */
    mts_mxprobe_cache_free(s->probes);
    mts_smtp_free(s->smtp);
    mts_https_free(s->https);
    mts_conn_limit_free(s->smtp_limit);
    mts_conn_limit_free(s->https_limit);
    if (s->dns)
        mts_dns_stats(s->dns, &s->dns_final);
    mts_dns_free(s->dns);
    s->probes = NULL;
    s->smtp = NULL;
    s->https = NULL;
    s->smtp_limit = s->https_limit = NULL;
    s->dns = NULL;
    while (s->jobs) {
        struct job *job = s->jobs;
        job_unlink(job);
        job_free(job);
    }
}

struct mts_smtp_opts mts_pipeline_smtp_opts(const struct mts_scan_config *c,
                                            struct mts_conn_limit *limit)
{
    unsigned stage_ms = c->timeout_smtp_ms;
    return (struct mts_smtp_opts){
        .ehlo_name = c->ehlo,
        .scan_id = c->scan_id,
        .port = c->smtp_port,
        .connect_ms = c->timeout_connect_ms,
        .banner_ms = stage_ms,
        .ehlo_ms = stage_ms,
        .starttls_ms = stage_ms,
        .handshake_ms = stage_ms,
        .session_ms = 6 * stage_ms,
        .ca_file = c->ca_file,
        .conn_limit = limit,
    };
}

int mts_pipeline_run(const struct mts_scan_config *cfg, const struct mts_exclude *ex, char *err,
                     size_t errlen)
{
    struct scan s = {.cfg = cfg, .ex = ex, .drained_fd = -1};
    json_t *prev = NULL;
    int rc;
    char msg[512] = "";

    struct mts_input_opts io = {
        .paths = cfg->inputs,
        .npaths = cfg->ninputs,
        .strict = cfg->strict,
        .shard_k = cfg->shard_k,
        .shard_n = cfg->shard_n,
        .exclude = ex,
    };
    if ((rc = mts_input_open(&s.input, &io, msg, sizeof msg)) != 0) {
        snprintf(err, errlen, "%s", msg[0] ? msg : mts_input_strerror(rc));
        return rc;
    }
    if (!(s.base = event_base_new())) {
        snprintf(err, errlen, "cannot create the event loop");
        mts_input_free(s.input);
        return -ENOMEM;
    }
    if ((rc = scan_open_store(&s, &prev, err, errlen)) != 0 ||
        (rc = scan_open_engines(&s, err, errlen)) != 0)
        goto out;
    if ((rc = put_scan_meta(&s, prev, MTS_SCAN_RUNNING)) != 0 ||
        (rc = mts_writer_flush(s.writer)) != 0) {
        snprintf(err, errlen, "cannot record the scan: %s", mts_store_strerror(rc));
        goto out;
    }

    bool show = cfg->progress || (!cfg->quiet && isatty(STDERR_FILENO));
    bool plain = !cfg->quiet && !show;
    s.progress =
        mts_progress_new(s.base, cfg->inputs, cfg->ninputs, show, plain, stderr, on_progress, &s);
    s.sigint_ev = evsignal_new(s.base, SIGINT, on_signal, &s);
    s.sigterm_ev = evsignal_new(s.base, SIGTERM, on_signal, &s);
    if (!s.sigint_ev || !s.sigterm_ev || evsignal_add(s.sigint_ev, NULL) ||
        evsignal_add(s.sigterm_ev, NULL)) {
        snprintf(err, errlen, "cannot install signal handlers");
        rc = -ENOMEM;
        goto out;
    }

    struct timeval tick = {0, LAG_TICK_MS * 1000};
    s.lag_ev = event_new(s.base, -1, EV_PERSIST, on_lag_tick, &s);
    s.lag_due = monotonic_ms() + LAG_TICK_MS;
    if (s.lag_ev)
        event_add(s.lag_ev, &tick);
    scan_fill(&s);
    if (!s.err && (s.inflight > 0 || !s.input_done))
        event_base_dispatch(s.base);

    bool complete = s.input_done && !s.abandoned && s.inflight == 0 && !s.err;
    scan_close_engines(&s);
    enum mts_scan_state end = complete ? MTS_SCAN_COMPLETE : MTS_SCAN_INTERRUPTED;
    int mrc = put_scan_meta(&s, prev, end);
    int frc = mts_writer_flush(s.writer);
    if (s.err) {
        rc = s.err;
        snprintf(err, errlen, "%s", s.errmsg);
    } else if (mrc || frc) {
        rc = mrc ? mrc : frc;
        snprintf(err, errlen, "cannot record the scan: %s", mts_store_strerror(rc));
    }
    struct mts_progress_counts pc = {.done = atomic_load(&s.committed_domains) + s.resumed,
                                     .resumed = s.resumed};
    if (s.local_errors || s.queue_timeouts)
        mts_progress_note(s.progress,
                          "%llu probes could not be made on this machine (local-error) and %llu "
                          "waited past --queue-timeout (queue-timeout): not facts about the "
                          "servers, their domains are indeterminate",
                          (unsigned long long)s.local_errors, (unsigned long long)s.queue_timeouts);
    mts_progress_final(s.progress, &pc, mts_scan_state_name(end), cfg->resume);

out:
    mts_progress_free(s.progress);
    if (s.sigint_ev)
        event_free(s.sigint_ev);
    if (s.sigterm_ev)
        event_free(s.sigterm_ev);
    if (s.grace_ev)
        event_free(s.grace_ev);
    if (s.lag_ev)
        event_free(s.lag_ev);
    scan_close_engines(&s);
    if (s.writer) {
        int wrc = mts_writer_stop(s.writer);
        if (!rc && wrc) {
            rc = wrc;
            snprintf(err, errlen, "store: %s", mts_store_strerror(wrc));
        }
    }
    if (s.drained_ev)
        event_free(s.drained_ev);
    if (s.drained_fd >= 0)
        close(s.drained_fd);
    mts_store_close(s.store);
    event_base_free(s.base);
    mts_input_free(s.input);
    json_decref(prev);
    return rc;
}
