/*
 * The per-domain pipeline. Each domain in flight is a job that walks through explicit
 * stages on the one event loop:
 *
 *   DNS      TXT _mta-sts.D, MX D, TXT _smtp._tls.D, A/AAAA mta-sts.D, in parallel
 *   MXADDR   A/AAAA (and TLSA with --dane) of every MX host, through the scan-wide cache;
 *            the policy fetch starts here too, beside it
 *   PROBES   one STARTTLS probe per (MX host, address), shared across the whole scan
 *   COMMIT   the raw record goes to the store's writer
 *
 * Back-pressure: at most cfg->concurrency jobs exist, and the input is read only when a
 * job ends, so memory stays flat however long the list. A domain is done when its record
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
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "conn_limit.h"
#include "dns_engine.h"
#include "https_fetch.h"
#include "mts_exclude.h"
#include "mts_input.h"
#include "mts_special.h"
#include "mts_store.h"
#include "mts_writer.h"
#include "mxprobe_cache.h"
#include "pipeline.h"
#include "progress.h"
#include "smtp_probe.h"

enum job_state { JOB_DNS, JOB_MXADDR, JOB_PROBES };

struct scan;

struct job {
    struct scan *scan;
    struct job *prev, *next; /* the scan's list of jobs in flight */
    char *domain;
    enum job_state state;
    unsigned pending;   /* DNS queries or probes of the current stage still out */
    bool https_pending; /* the policy fetch runs beside the MX stages */
    bool probe_mx;      /* the MX hosts are in scope for STARTTLS probes */
    double t_start;
    json_t *dns;         /* DNSOBS by key, owned */
    json_t *mx;          /* array of MXHOST, owned */
    json_t *policy;      /* FETCHOBS, owned, or NULL */
    unsigned char *body; /* policy body, owned, or NULL */
    size_t body_len;
};

/* One outstanding DNS query or probe of a job: which slot its answer fills. */
struct job_ref {
    struct job *job;
    json_t *slot;    /* the object that receives the observation (borrowed from the job) */
    const char *key; /* field name within slot */
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

    struct job *jobs; /* in flight */
    unsigned inflight;
    bool input_done, stopping, abandoned;
    int signals;
    int err; /* first fatal error; stops the scan */
    char errmsg[256];

    struct mts_dns_stats dns_final; /* the engine's counters, kept when it is freed */
    uint64_t resumed, finished, policy_fetches;
    _Atomic uint64_t committed_domains;
};

static double now_seconds(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
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

/* ---- reading observations ------------------------------------------------------------ */

static bool obs_result_is(const json_t *obs, const char *result)
{
    const char *r = json_string_value(json_object_get(obs, "result"));
    return r && strcmp(r, result) == 0;
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

/* Appends to buf as much of one TXT character-string (stored as text or {"hex": ...}) as
   fits: only a record's first bytes matter here. */
static void append_txt_string(char *buf, size_t cap, size_t *len, const json_t *s)
{
    size_t room = cap - 1 - *len;
    const char *text = json_string_value(s);
    if (text) {
        size_t n = strlen(text);
        memcpy(buf + *len, text, n < room ? n : room);
        *len += n < room ? n : room;
        return;
    }
    const char *hex = json_string_value(json_object_get(s, "hex"));
    char head[2 * 64 + 1];
    size_t want = hex ? strlen(hex) / 2 : 0;
    if (want > room)
        want = room;
    if (want > 64)
        want = 64;
    if (!hex || want == 0)
        return;
    memcpy(head, hex, 2 * want);
    head[2 * want] = '\0';
    long n = mts_store_unhex(head, (unsigned char *)buf + *len, room);
    if (n > 0)
        *len += (size_t)n;
}

/* Whether the TXT observation holds a record that starts with v=STSv1 (RFC 8461 §3.1). */
static bool has_sts_record(const json_t *obs)
{
    size_t i;
    json_t *rr;
    json_array_foreach(json_object_get(obs, "answer"), i, rr)
    {
        const char *type = json_string_value(json_object_get(rr, "type"));
        if (!type || strcmp(type, "TXT") != 0)
            continue;
        char buf[64];
        size_t len = 0, j;
        json_t *str;
        json_array_foreach(json_object_get(rr, "txt"), j, str)
        {
            append_txt_string(buf, sizeof buf, &len, str);
        }
        if (len >= 7 && memcmp(buf, "v=STSv1", 7) == 0)
            return true;
    }
    return false;
}

/* Collects the addresses of type A or AAAA in obs into out (a JSON array of strings). */
static void collect_addrs(const json_t *obs, const char *type, json_t *out)
{
    size_t i;
    json_t *rr;
    json_array_foreach(json_object_get(obs, "answer"), i, rr)
    {
        const char *t = json_string_value(json_object_get(rr, "type"));
        const char *addr = json_string_value(json_object_get(rr, "addr"));
        if (t && addr && strcmp(t, type) == 0)
            json_array_append_new(out, json_string(addr));
    }
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

/* Why an address must not be contacted, or NULL when it may be. */
static const char *addr_skip_reason(const struct scan *s, const char *addr)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        if (!s->cfg->ipv6)
            return "ipv6-disabled";
    } else {
        return "bad-address";
    }
    if (s->ex && mts_exclude_addr(s->ex, (struct sockaddr *)&ss))
        return "excluded";
    const char *special = mts_special_addr((struct sockaddr *)&ss);
    if (special && !(s->cfg->allow_private && private_unicast(special)))
        return "special-address";
    return NULL;
}

/* ---- jobs ---------------------------------------------------------------------------- */

static void scan_fill(struct scan *s);
static void job_step(struct job *job);

static void job_free(struct job *job)
{
    json_decref(job->dns);
    json_decref(job->mx);
    json_decref(job->policy);
    free(job->body);
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

static struct job_ref *job_ref_new(struct job *job, json_t *slot, const char *key)
{
    struct job_ref *ref = malloc(sizeof *ref);
    if (!ref)
        return NULL;
    ref->job = job;
    ref->slot = slot;
    ref->key = key;
    job->pending++;
    return ref;
}

static void on_dns(void *arg, json_t *obs, const ldns_pkt *reply)
{
    (void)reply;
    struct job_ref *ref = arg;
    struct job *job = ref->job;
    json_object_set_new(ref->slot, ref->key, obs);
    free(ref);
    if (--job->pending == 0)
        job_step(job);
}

static void job_query(struct job *job, json_t *slot, const char *key, const char *qname,
                      ldns_rr_type type, unsigned flags)
{
    struct scan *s = job->scan;
    struct job_ref *ref = job_ref_new(job, slot, key);
    if (!ref) {
        scan_fail(s, -ENOMEM, "out of memory");
        return;
    }
    int rc = mts_dns_query(s->dns, qname, type, flags, on_dns, ref);
    if (rc != 0) {
        job->pending--;
        free(ref);
        scan_fail(s, rc, mts_dns_strerror(rc));
    }
}

static void job_start(struct scan *s, const char *domain)
{
    struct job *job = calloc(1, sizeof *job);
    if (!job || !(job->domain = strdup(domain)) || !(job->dns = json_object()) ||
        !(job->mx = json_array())) {
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

    char name[300];
    job->state = JOB_DNS;
    job->pending = 1; /* held while the queries are issued, so none can finish the stage */
    snprintf(name, sizeof name, "_mta-sts.%s", domain);
    job_query(job, job->dns, "sts", name, LDNS_RR_TYPE_TXT, 0);
    job_query(job, job->dns, "mx", domain, LDNS_RR_TYPE_MX, 0);
    snprintf(name, sizeof name, "_smtp._tls.%s", domain);
    job_query(job, job->dns, "tlsrpt", name, LDNS_RR_TYPE_TXT, 0);
    snprintf(name, sizeof name, "mta-sts.%s", domain);
    job_query(job, job->dns, "policy_a", name, LDNS_RR_TYPE_A, 0);
    job_query(job, job->dns, "policy_aaaa", name, LDNS_RR_TYPE_AAAA, 0);
    if (--job->pending == 0)
        job_step(job);
}

/* A FETCHOBS for a fetch that never reached the network. */
static json_t *fetch_not_attempted(const char *host, const char *why, const char *result)
{
    char url[400];
    snprintf(url, sizeof url, "https://%s/.well-known/mta-sts.txt", host);
    return json_pack("{s:s, s:s, s:s}", "url", url, "why", why, "result", result);
}

static void on_policy(void *arg, json_t *obs, const unsigned char *body, size_t body_len)
{
    struct job *job = arg;
    job->policy = obs;
    if (body && body_len) {
        job->body = malloc(body_len);
        if (job->body) {
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
    json_t *a = json_object_get(job->dns, "policy_a");
    json_t *aaaa = json_object_get(job->dns, "policy_aaaa");
    json_t *addrs = json_array();
    collect_addrs(a, "A", addrs);
    collect_addrs(aaaa, "AAAA", addrs);
    bool resolves = json_array_size(addrs) > 0;
    if (s->cfg->no_https || (!has_record && !resolves)) {
        json_decref(addrs);
        return;
    }
    const char *why = has_record ? "txt" : "policy-only";
    char host[300];
    snprintf(host, sizeof host, "mta-sts.%s", job->domain);

    const char *usable[16];
    size_t nusable = 0, i;
    const char *skip = NULL, *skipped_addr = NULL;
    json_t *addr;
    json_array_foreach(addrs, i, addr)
    {
        const char *text = json_string_value(addr);
        const char *why_not = addr_skip_reason(s, text);
        if (why_not && strcmp(why_not, "ipv6-disabled") != 0 && !skip) {
            skip = why_not;
            skipped_addr = text;
        }
        if (!why_not && nusable < sizeof usable / sizeof usable[0])
            usable[nusable++] = text;
    }
    if (nusable == 0) {
        const char *result = skip ? skip : "no-address";
        if (!resolves && (!obs_result_is(a, "nxdomain") && !obs_result_is(a, "nodata")))
            result = "dns-failure";
        job->policy = fetch_not_attempted(host, why, result);
        if (skip)
            json_object_set_new(job->policy, "addr", json_string(skipped_addr));
        json_decref(addrs);
        return;
    }
    job->https_pending = true;
    int rc = mts_https_fetch(s->https, host, usable, nusable, why, on_policy, job);
    json_decref(addrs);
    if (rc != 0) {
        job->https_pending = false;
        scan_fail(s, rc, "policy fetch could not start");
    }
}

/* Reads the MX hosts from dns.mx into job->mx, in preference order, without duplicates. */
static void job_collect_mx(struct job *job)
{
    struct scan *s = job->scan;
    json_t *obs = json_object_get(job->dns, "mx");
    if (obs_result_is(obs, "nodata")) {
        /* RFC 5321 §5.1: no MX means the domain itself is the implicit MX. */
        json_array_append_new(
            job->mx, json_pack("{s:i, s:s, s:b}", "pref", 0, "host", job->domain, "implicit", 1));
        return;
    }
    size_t i;
    json_t *rr;
    json_array_foreach(json_object_get(obs, "answer"), i, rr)
    {
        const char *type = json_string_value(json_object_get(rr, "type"));
        const char *host = json_string_value(json_object_get(rr, "host"));
        if (!type || strcmp(type, "MX") != 0 || !host || strcmp(host, ".") == 0)
            continue;
        char *canon = canonical_name(host);
        if (!canon)
            continue;
        json_int_t pref = json_integer_value(json_object_get(rr, "pref"));
        /* Insertion sort by preference: MX sets are small and bounded by max_mx. */
        size_t pos = json_array_size(job->mx), j;
        bool dup = false;
        json_t *m;
        json_array_foreach(job->mx, j, m)
        {
            if (strcmp(json_string_value(json_object_get(m, "host")), canon) == 0)
                dup = true;
            if (pos == json_array_size(job->mx) &&
                json_integer_value(json_object_get(m, "pref")) > pref)
                pos = j;
        }
        if (!dup && json_array_size(job->mx) < s->cfg->max_mx)
            json_array_insert_new(
                job->mx, pos,
                json_pack("{s:I, s:s, s:b}", "pref", pref, "host", canon, "implicit", 0));
        free(canon);
    }
}

static void job_start_mxaddr(struct job *job)
{
    struct scan *s = job->scan;
    bool has_record = has_sts_record(json_object_get(job->dns, "sts"));
    job_start_https(job, has_record);
    job->probe_mx =
        !s->cfg->no_smtp && (s->cfg->smtp_all || has_record || job->policy || job->https_pending);
    job_collect_mx(job);

    job->state = JOB_MXADDR;
    job->pending++;
    size_t i;
    json_t *m;
    json_array_foreach(job->mx, i, m)
    {
        const char *host = json_string_value(json_object_get(m, "host"));
        job_query(job, m, "a", host, LDNS_RR_TYPE_A, MTS_DNS_CACHE);
        job_query(job, m, "aaaa", host, LDNS_RR_TYPE_AAAA, MTS_DNS_CACHE);
        if (s->cfg->dane) {
            char name[300];
            snprintf(name, sizeof name, "_25._tcp.%s", host);
            job_query(job, m, "tlsa", name, LDNS_RR_TYPE_TLSA, MTS_DNS_CACHE | MTS_DNS_DO);
        }
    }
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
    size_t i;
    json_t *m;
    json_array_foreach(job->mx, i, m)
    {
        const char *host = json_string_value(json_object_get(m, "host"));
        json_t *probes = json_array();
        json_object_set_new(m, "probes", probes);
        json_t *addrs = json_array();
        json_t *v4 = json_array(), *v6 = json_array();
        collect_addrs(json_object_get(m, "a"), "A", v4);
        collect_addrs(json_object_get(m, "aaaa"), "AAAA", v6);
        /* IPv4 first, then IPv6; each family bounded by max_addrs. */
        for (size_t f = 0; f < 2; f++) {
            json_t *fam = f ? v6 : v4;
            for (size_t k = 0; k < json_array_size(fam); k++)
                json_array_append(addrs, json_array_get(fam, k));
        }
        json_decref(v4);
        json_decref(v6);
        size_t j, per_family[2] = {0, 0};
        json_t *addr;
        json_array_foreach(addrs, j, addr)
        {
            const char *text = json_string_value(addr);
            bool v6addr = strchr(text, ':') != NULL;
            json_t *p = json_pack("{s:s}", "addr", text);
            json_array_append_new(probes, p);
            const char *skip = NULL;
            if (!job->probe_mx)
                skip = s->cfg->no_smtp ? "smtp-disabled" : "out-of-scope";
            else if (per_family[v6addr] >= s->cfg->max_addrs)
                skip = "limit";
            else
                skip = addr_skip_reason(s, text);
            if (skip) {
                json_object_set_new(p, "skip", json_string(skip));
                continue;
            }
            per_family[v6addr]++;
            struct job_ref *ref = job_ref_new(job, p, "probe");
            if (!ref) {
                scan_fail(s, -ENOMEM, "out of memory");
                break;
            }
            int rc = mts_mxprobe_request(s->probes, host, text, on_probe, ref);
            if (rc != 0) {
                job->pending--;
                free(ref);
                scan_fail(s, rc, "MX probe could not start");
                break;
            }
        }
        json_decref(addrs);
    }
    if (--job->pending == 0)
        job_step(job);
}

/* Hands the finished record to the writer; the job ends here. */
static void job_commit(struct job *job)
{
    struct scan *s = job->scan;
    int rc = 0;
    if (job->body && job->policy) {
        unsigned char digest[32];
        unsigned int dlen = 0;
        EVP_Digest(job->body, job->body_len, digest, &dlen, EVP_sha256(), NULL);
        rc = mts_writer_put_policy(s->writer, digest, job->body, job->body_len);
    }
    json_t *rec = json_pack("{s:i, s:s, s:s, s:f, s:f, s:O, s:O}", "v", 1, "scan", s->cfg->scan_id,
                            "domain", job->domain, "t_start", round_ms(job->t_start), "t_end",
                            round_ms(now_seconds()), "dns", job->dns, "mx", job->mx);
    if (rec && job->policy)
        json_object_set(rec, "policy", job->policy);
    if (rc == 0)
        rc = rec ? mts_writer_put_domain(s->writer, s->cfg->scan_id, job->domain, rec) : -ENOMEM;
    else
        json_decref(rec);
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

/* Starts jobs until the concurrency bound is reached or the input ends. */
static void scan_fill(struct scan *s)
{
    while (!s->stopping && !s->input_done && s->inflight < s->cfg->concurrency) {
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

static void on_commit(void *arg, const struct mts_writer_commit *info)
{
    struct scan *s = arg;
    atomic_store(&s->committed_domains, info->total_domains);
}

static void on_probe_finished(void *arg, const char *host, const char *addr, json_t *record)
{
    struct scan *s = arg;
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

/* Writes the scan's metadata record; state is running, interrupted or complete. */
static int put_scan_meta(struct scan *s, json_t *prev, const char *state)
{
    const struct mts_scan_config *c = s->cfg;
    json_t *meta =
        json_pack("{s:i, s:s, s:s, s:s, s:s}", "v", 1, "scan", c->scan_id, "state", state,
                  "version", MTS_VERSION, "openssl", OpenSSL_version(OPENSSL_VERSION));
    if (!meta)
        return -ENOMEM;
    json_t *t0 = json_object_get(prev, "t_start");
    json_object_set_new(meta, "t_start", t0 ? json_copy(t0) : json_real(round_ms(now_seconds())));
    if (strcmp(state, "running") != 0)
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
    char digest[65];
    if (s->input_done && mts_input_digest(s->input, digest) == 0) {
        char text[80];
        snprintf(text, sizeof text, "sha256:%s", digest);
        json_object_set_new(meta, "input_digest", json_string(text));
    }
    if (strcmp(state, "running") != 0) {
        struct mts_progress_counts pc = {0};
        fill_progress(s, &pc);
        struct mts_input_stats is;
        mts_input_get_stats(s->input, &is);
        json_object_set_new(
            meta, "counts",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "domains",
                      (json_int_t)(s->finished + s->resumed), "resumed", (json_int_t)s->resumed,
                      "rejected", (json_int_t)is.rejected, "duplicates", (json_int_t)is.duplicates,
                      "excluded", (json_int_t)is.excluded, "dns_queries",
                      (json_int_t)pc.dns_queries, "policy_fetches", (json_int_t)s->policy_fetches));
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
    struct mts_writer_opts wo = {.on_commit = on_commit, .on_commit_arg = s};
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
        .cache_entries = 1u << 16,
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
    unsigned stage_ms = c->timeout_smtp_ms;
    struct mts_smtp_opts sopts = {
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
        .conn_limit = s->smtp_limit,
    };
    if ((rc = mts_smtp_new(&s->smtp, s->base, &sopts)) != 0) {
        snprintf(err, errlen, "SMTP prober: %s", mts_smtp_strerror(rc));
        return rc;
    }
    rc = mts_mxprobe_cache_new(&s->probes, s->smtp, on_probe_finished, s);
    if (rc != 0)
        snprintf(err, errlen, "MX probe cache: out of memory");
    return rc;
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

int mts_pipeline_run(const struct mts_scan_config *cfg, const struct mts_exclude *ex, char *err,
                     size_t errlen)
{
    struct scan s = {.cfg = cfg, .ex = ex};
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
    if ((rc = put_scan_meta(&s, prev, "running")) != 0 || (rc = mts_writer_flush(s.writer)) != 0) {
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

    scan_fill(&s);
    if (!s.err && (s.inflight > 0 || !s.input_done))
        event_base_dispatch(s.base);

    bool complete = s.input_done && !s.abandoned && s.inflight == 0 && !s.err;
    scan_close_engines(&s);
    int mrc = put_scan_meta(&s, prev, complete ? "complete" : "interrupted");
    int frc = mts_writer_flush(s.writer);
    if (s.err) {
        rc = s.err;
        snprintf(err, errlen, "%s", s.errmsg);
    } else if (mrc || frc) {
        rc = mrc ? mrc : frc;
        snprintf(err, errlen, "cannot record the scan: %s", mts_store_strerror(rc));
    }
    struct mts_progress_counts pc = {.done = atomic_load(&s.committed_domains) + s.resumed};
    mts_progress_final(s.progress, &pc, complete ? "complete" : "interrupted");

out:
    mts_progress_free(s.progress);
    if (s.sigint_ev)
        event_free(s.sigint_ev);
    if (s.sigterm_ev)
        event_free(s.sigterm_ev);
    if (s.grace_ev)
        event_free(s.grace_ev);
    scan_close_engines(&s);
    if (s.writer) {
        int wrc = mts_writer_stop(s.writer);
        if (!rc && wrc) {
            rc = wrc;
            snprintf(err, errlen, "store: %s", mts_store_strerror(wrc));
        }
    }
    mts_store_close(s.store);
    event_base_free(s.base);
    mts_input_free(s.input);
    json_decref(prev);
    return rc;
}
