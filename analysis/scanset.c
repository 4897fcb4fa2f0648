/*
 * Why a set of stores: a sharded scan writes one LMDB environment per shard, and a re-check
 * may live in its own environment; the analysis reads them as one scan after checking that
 * their metadata agree. MX probe records are looked up in every store because an MX host
 * may have been probed by another shard than the domain's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mts_classify.h"
#include "mts_vocab.h"
#include "scanset.h"

int mts_scanset_open(struct mts_scanset *set, char *const *dirs, size_t n, const char **err)
{
    memset(set, 0, sizeof *set);
    if (!(set->stores = calloc(n ? n : 1, sizeof *set->stores)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = mts_store_open(&set->stores[i], dirs[i], MTS_STORE_RDONLY, 0);
        if (rc) {
            *err = dirs[i];
            mts_scanset_close(set);
            return rc;
        }
        set->n++;
    }
    return 0;
}

void mts_scanset_close(struct mts_scanset *set)
{
    for (size_t i = 0; i < set->n; i++)
        mts_store_close(set->stores[i]);
    free(set->stores);
    memset(set, 0, sizeof *set);
}

const char *mts_scanset_strerror(int code)
{
    switch (code) {
    case MTS_SCANSET_ESCAN:
        return "no such scan";
    case MTS_SCANSET_ESHARDS:
        return "the stores are not shards of one scan";
    default:
        return mts_store_strerror(code);
    }
}

struct latest {
    char *scan; /* owned */
    double t_start;
    size_t n;
};

static int latest_cb(void *arg, const char *scan, json_t *rec)
{
    struct latest *l = arg;
    double t = json_number_value(json_object_get(rec, "t_start"));
    json_decref(rec);
    if (l->n++ == 0 || t > l->t_start || (t == l->t_start && strcmp(scan, l->scan) > 0)) {
        free(l->scan);
        if (!(l->scan = strdup(scan)))
            return -ENOMEM;
        l->t_start = t;
    }
    return 0;
}

/* Parse "K/N"; false when malformed. */
static bool parse_shard(const char *s, unsigned long *k, unsigned long *n)
{
    char *end;
    if (!s)
        return false;
    *k = strtoul(s, &end, 10);
    if (*end != '/')
        return false;
    *n = strtoul(end + 1, &end, 10);
    return *end == '\0' && *n > 0 && *k < *n;
}

/* The stores of one kind in a set: a scan's domain stores, or its stage-2 probe stores
   (docs/sharding.md). Several of a kind must be distinct shards "K/N" of one N, all N. */
struct shard_group {
    const char *what; /* "shard", "probe shard" */
    unsigned long n_of, *seen_k;
    size_t count;
    bool whole;    /* must be all N even alone: a probe shard alone misses probes */
    bool deferred; /* a store of stage 1 that left its MX probes to stage 2 */
};

static int group_add(struct shard_group *g, size_t i, const json_t *meta, size_t in_set,
                     char *whybuf, size_t whylen)
{
    const char *stage = json_string_value(json_object_get(meta, "stage"));
    g->deferred |= mts_scan_stage_parse(stage) == MTS_SCAN_STAGE_DNS;
    size_t pos = g->count++;
    if (in_set < 2 && !g->whole)
        return 0;
    unsigned long k = 0, n = 0;
    const char *shard = json_string_value(json_object_get(meta, "shard"));
    if (!parse_shard(shard, &k, &n) || (pos > 0 && n != g->n_of)) {
        snprintf(whybuf, whylen, "store %zu: %s \"%s\" does not fit the others", i + 1, g->what,
                 shard ? shard : "(none)");
        return MTS_SCANSET_ESHARDS;
    }
    for (size_t j = 0; j < pos; j++)
        if (g->seen_k[j] == k) {
            snprintf(whybuf, whylen, "store %zu holds %s %s a second time", i + 1, g->what, shard);
            return MTS_SCANSET_ESHARDS;
        }
    g->seen_k[pos] = k;
    g->n_of = n;
    return 0;
}

/* Several stores of a kind must be the whole scan: a missing shard would shrink every
   count without a word. (One store alone may be one shard, looked at by itself.) */
static int group_check(const struct shard_group *g, const char *scan, char *whybuf, size_t whylen)
{
    if ((g->count > 1 || g->whole) && g->count && g->count != g->n_of) {
        snprintf(whybuf, whylen, "scan \"%s\" has %lu %ss, %zu given", scan, g->n_of, g->what,
                 g->count);
        return MTS_SCANSET_ESHARDS;
    }
    return 0;
}

static bool is_probe_store(const json_t *meta)
{
    const char *stage = json_string_value(json_object_get(meta, "stage"));
    return mts_scan_stage_parse(stage) == MTS_SCAN_STAGE_PROBES;
}

/* Reads every store's metadata of scan into metas (new references). */
static int read_metas(const struct mts_scanset *set, const char *scan, json_t **metas, char *whybuf,
                      size_t whylen)
{
    for (size_t i = 0; i < set->n; i++) {
        int rc = mts_store_scan_get(set->stores[i], scan, &metas[i]);
        if (rc == MTS_STORE_NOTFOUND) {
            snprintf(whybuf, whylen, "store %zu has no scan \"%s\"", i + 1, scan);
            return MTS_SCANSET_ESCAN;
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int check_shards(const struct mts_scanset *set, const char *scan, json_t **metas,
                        unsigned long *seen, char *whybuf, size_t whylen)
{
    size_t nprobe = 0;
    for (size_t i = 0; i < set->n; i++)
        nprobe += is_probe_store(metas[i]);
    struct shard_group domains = {.what = "shard", .seen_k = seen};
    struct shard_group probes = {.what = "probe shard", .seen_k = seen + set->n, .whole = true};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < set->n; i++)
        rc = is_probe_store(metas[i])
                 ? group_add(&probes, i, metas[i], nprobe, whybuf, whylen)
                 : group_add(&domains, i, metas[i], set->n - nprobe, whybuf, whylen);
    if (rc == 0 && domains.count == 0) {
        snprintf(whybuf, whylen, "scan \"%s\": only stage-2 (probe) stores given", scan);
        rc = MTS_SCANSET_ESHARDS;
    }
    if (rc == 0 && domains.deferred && probes.count == 0) {
        snprintf(whybuf, whylen,
                 "scan \"%s\" probed its MX hosts in stage 2: give its probe stores too", scan);
        rc = MTS_SCANSET_ESHARDS;
    }
    if (rc == 0)
        rc = group_check(&domains, scan, whybuf, whylen);
    if (rc == 0)
        rc = group_check(&probes, scan, whybuf, whylen);
    return rc;
}

int mts_scanset_select(const struct mts_scanset *set, const char *want, char **scan, char *whybuf,
                       size_t whylen)
{
    struct latest l = {0};
    if (!want) {
        int rc = mts_store_foreach_scan(set->stores[0], latest_cb, &l);
        if (rc) {
            free(l.scan);
            return rc;
        }
        if (!l.scan) {
            snprintf(whybuf, whylen, "the store holds no scan");
            return MTS_SCANSET_ESCAN;
        }
        want = l.scan;
    }
    json_t **metas = calloc(set->n, sizeof *metas);
    unsigned long *seen = calloc(2 * set->n, sizeof *seen);
    int rc = metas && seen ? read_metas(set, want, metas, whybuf, whylen) : -ENOMEM;
    if (rc == 0)
        rc = check_shards(set, want, metas, seen, whybuf, whylen);
    for (size_t i = 0; metas && i < set->n; i++)
        json_decref(metas[i]);
    free(metas);
    free(seen);
    if (rc == 0 && !(*scan = strdup(want)))
        rc = -ENOMEM;
    free(l.scan);
    return rc;
}

/*
 * The MX probe records one walk thread has decoded, by (host, address): MX hosts are shared
 * by many domains (a provider's by thousands), and fetching and decoding the same probe
 * record again for each of them was a tenth of the analysis. Two ways per set, the most
 * recently fetched first; at most PROBE_SETS * 2 records, only records found, and each kept
 * only by the thread that uses it.
 */
#define PROBE_SETS 512

struct probe_entry {
    char *host, *addr;
    json_t *rec;
};

struct probe_cache {
    struct probe_entry e[PROBE_SETS][2];
};

static size_t probe_set(const char *host, const char *addr)
{
    uint32_t h = 2166136261u; /* FNV-1a over host, a separator and addr */
    for (const char *q = host; *q; q++)
        h = (h ^ (unsigned char)*q) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (const char *q = addr; *q; q++)
        h = (h ^ (unsigned char)*q) * 16777619u;
    return h % PROBE_SETS;
}

static void probe_entry_free(struct probe_entry *e)
{
    free(e->host);
    free(e->addr);
    json_decref(e->rec);
    memset(e, 0, sizeof *e);
}

static void probe_cache_clear(struct probe_cache *c)
{
    for (size_t i = 0; i < PROBE_SETS; i++) {
        probe_entry_free(&c->e[i][0]);
        probe_entry_free(&c->e[i][1]);
    }
}

static bool probe_entry_is(const struct probe_entry *e, const char *host, const char *addr)
{
    return e->rec && strcmp(e->host, host) == 0 && strcmp(e->addr, addr) == 0;
}

/* Keep rec (a new reference of its own) as the first way of its set, unless out of memory. */
static void probe_cache_put(struct probe_entry *set, const char *host, const char *addr,
                            json_t *rec)
{
    struct probe_entry e = {strdup(host), strdup(addr), rec};
    if (!e.host || !e.addr) {
        free(e.host);
        free(e.addr);
        return;
    }
    probe_entry_free(&set[1]);
    set[1] = set[0];
    set[0] = e;
    json_incref(rec);
}

/* The classifier's view of the stores: the callbacks of struct mts_classify_env. */
struct env_ctx {
    const struct mts_scanset *set;
    const char *scan;
    struct probe_cache *cache; /* this thread's, or NULL */
    unsigned char *body;       /* the last body handed out (owned) */
};

static json_t *fetch_probe(const struct env_ctx *e, const char *host, const char *addr)
{
    for (size_t i = 0; i < e->set->n; i++) {
        json_t *rec = NULL;
        int rc = mts_store_mxprobe_get(e->set->stores[i], e->scan, host, addr, &rec);
        if (rc == 0)
            return rec;
    }
    return NULL;
}

static json_t *get_probe(void *arg, const char *host, const char *addr)
{
    struct env_ctx *e = arg;
    if (!e->cache)
        return fetch_probe(e, host, addr);
    struct probe_entry *set = e->cache->e[probe_set(host, addr)];
    for (int w = 0; w < 2; w++)
        if (probe_entry_is(&set[w], host, addr))
            return json_incref(set[w].rec);
    json_t *rec = fetch_probe(e, host, addr);
    if (rec)
        probe_cache_put(set, host, addr, rec);
    return rec;
}

/* 0 when body hashes to digest, MTS_CLASSIFY_BAD_BODY when not (a damaged store must not
   pass for the server's policy), -ENOMEM when the digest cannot be computed. */
static int check_body(const unsigned char *body, size_t len,
                      const unsigned char digest[MTS_STORE_SHA256_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL))
        return -ENOMEM;
    return mdlen == MTS_STORE_SHA256_LEN && memcmp(md, digest, mdlen) == 0 ? 0
                                                                           : MTS_CLASSIFY_BAD_BODY;
}

static int get_policy(void *arg, const char *hex, const unsigned char **body, size_t *len)
{
    struct env_ctx *e = arg;
    unsigned char digest[MTS_STORE_SHA256_LEN];
    if (mts_store_unhex(hex, digest, sizeof digest) != MTS_STORE_SHA256_LEN)
        return MTS_CLASSIFY_NO_BODY;
    free(e->body);
    e->body = NULL;
    for (size_t i = 0; i < e->set->n; i++) {
        int rc = mts_store_policy_get(e->set->stores[i], digest, &e->body, len);
        if (rc == MTS_STORE_NOTFOUND)
            continue;
        if (rc == 0)
            rc = check_body(e->body, *len, digest);
        *body = e->body;
        return rc;
    }
    return MTS_CLASSIFY_NO_BODY;
}

static bool is_yes(enum mts_tri t)
{
    return t == MTS_TRI_YES;
}

/* "valid", "invalid", "multiple", "absent" or "indeterminate" for the TLS-RPT record. */
static const char *tlsrpt_status(const struct mts_classification *c)
{
    for (size_t i = 0; i < c->n_categories; i++)
        if (strcmp(c->categories[i], "dns-failure/tlsrpt") == 0)
            return "indeterminate";
    if (!c->has_tlsrpt || c->tlsrpt.records == 0)
        return "absent";
    if (c->tlsrpt.records > 1)
        return "multiple";
    return c->tlsrpt.valid ? "valid" : "invalid";
}

/*
 * DANE beside MTA-STS (only when the scan asked for TLSA): "all-mx" when every MX host has
 * an authenticated (AD) TLSA answer, "some-mx", "none", or "indeterminate" on a DNS
 * failure; NULL when TLSA was not scanned.
 */
static const char *dane_status(const json_t *raw)
{
    size_t i, hosts = 0, with = 0, failed = 0;
    json_t *mx;
    json_array_foreach(json_object_get(raw, "mx"), i, mx)
    {
        const json_t *tlsa = json_object_get(mx, "tlsa");
        if (!tlsa)
            continue;
        hosts++;
        enum mts_dns_result res =
            mts_dns_result_parse(json_string_value(json_object_get(tlsa, "result")));
        if (res == MTS_DNS_RESULT_ANSWER && json_is_true(json_object_get(tlsa, "ad")))
            with++;
        else if (res == MTS_DNS_RESULT_SERVFAIL || res == MTS_DNS_RESULT_TIMEOUT ||
                 res == MTS_DNS_RESULT_LOCAL_ERROR || res == MTS_DNS_RESULT_QUEUE_TIMEOUT)
            failed++; /* the last two: the scanner could not look, not a zone without TLSA */
    }
    if (hosts == 0)
        return NULL;
    if (with == hosts)
        return "all-mx";
    if (with)
        return "some-mx";
    return failed ? "indeterminate" : "none";
}

/*
 * The view is built with jansson's unchecked setters (its keys are literals) instead of
 * json_pack, whose format parsing and key checks took a third of the view's instructions.
 * A value that is NULL or not UTF-8 fails as it did with json_pack.
 */
static bool set(json_t *o, const char *key, json_t *value)
{
    return json_object_set_new_nocheck(o, key, value) == 0;
}

/* {k1: s1, k2: s2}, or NULL when a value is NULL or not UTF-8. */
static json_t *two_strings(const char *k1, const char *s1, const char *k2, const char *s2)
{
    json_t *o = json_object();
    if (o && !(set(o, k1, json_string(s1)) && set(o, k2, json_string(s2)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* One MX host of the view; takes addrs. NULL when a value cannot be set. */
static json_t *mx_host_json(const struct mts_mx_result *m, json_t *addrs)
{
    json_t *o = json_object();
    bool ok = o && set(o, "host", json_string(m->host)) &&
              set(o, "pref", json_integer((json_int_t)m->pref)) &&
              set(o, "implicit", json_boolean(m->implicit)) &&
              set(o, "covered", json_string(mts_tri_name(m->covered))) &&
              set(o, "status", json_string(mts_mx_status_name(m->status)));
    if (!ok || !set(o, "addresses", addrs)) {
        if (!ok)
            json_decref(addrs);
        json_decref(o);
        return NULL;
    }
    if (m->reason)
        set(o, "reason", json_string(m->reason));
    return o;
}

static json_t *mx_json(const struct mts_classification *c)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < c->n_mx; i++) {
        const struct mts_mx_result *m = &c->mx[i];
        json_t *addrs = json_array();
        for (size_t k = 0; addrs && k < m->n_addrs; k++) {
            json_t *a = two_strings("addr", m->addrs[k].addr, "outcome", m->addrs[k].outcome);
            if (a && m->addrs[k].tls_version)
                set(a, "tls_version", json_string(m->addrs[k].tls_version));
            if (a && m->addrs[k].issuer)
                set(a, "issuer", json_string(m->addrs[k].issuer));
            json_array_append_new(addrs, a);
        }
        json_t *o = mx_host_json(m, addrs);
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* {"result": ..., "media_type_ok": ...}, or NULL when the result is not UTF-8. */
static json_t *fetch_json(const struct mts_classification *c)
{
    json_t *o = json_object();
    if (o && !(set(o, "result", json_string(c->fetch_result)) &&
               set(o, "media_type_ok", json_boolean(c->media_type_ok)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The classification as the commands read it (docs/analyze.md, "Per-domain view"). */
static json_t *view(const struct mts_classification *c, const json_t *raw)
{
    json_t *cats = json_array(), *funnel = json_object(), *mx = mx_json(c);
    json_t *v = json_object();
    if (!cats || !funnel || !mx || !v)
        goto fail;
    for (size_t i = 0; i < c->n_categories; i++)
        json_array_append_new(cats,
                              two_strings("code", c->categories[i], "effect",
                                          mts_effect_name(mts_category_effect(c->categories[i]))));
    const struct {
        const char *key;
        enum mts_tri t;
    } stages[] = {
        {"resolvable", c->funnel.resolvable},
        {"mx", c->funnel.has_mx},
        {"record", c->funnel.has_record},
        {"record_valid", c->funnel.valid_record},
        {"policy_fetched", c->funnel.policy_fetched},
        {"policy_valid", c->funnel.valid_policy},
        {"mx_covered", c->funnel.mx_covered},
        {"mx_tls_valid", c->funnel.mx_tls_valid},
        {"enforce_working", c->funnel.enforce_working},
    };
    bool all = true;
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        all = all && is_yes(stages[i].t);
        json_object_set_new_nocheck(funnel, stages[i].key, json_boolean(all));
    }
    json_object_set_new_nocheck(v, "verdict", json_string(c->verdict));
    if (c->analysis_error)
        json_object_set_new_nocheck(v, "analysis_error", json_string(c->analysis_error));
    json_object_set_new_nocheck(v, "categories", cats);
    json_object_set_new_nocheck(v, "would_bounce", json_boolean(c->would_bounce));
    json_object_set_new_nocheck(v, "would_bounce_lenient",
                                json_boolean(c->profiles[MTS_PROFILE_RESOLVER].would_bounce));
    json_object_set_new_nocheck(v, "profiles", mts_classification_profiles_json(c));
    json_object_set_new_nocheck(v, "funnel", funnel);
    if (c->has_policy) {
        json_object_set_new_nocheck(v, "mode", json_string(mts_mode_name(c->policy.mode)));
        if (c->policy.max_age >= 0)
            json_object_set_new_nocheck(v, "max_age", json_integer(c->policy.max_age));
    }
    if (c->has_record && c->record.id)
        json_object_set_new_nocheck(v, "record_id", json_string(c->record.id));
    /* The hash of a policy, not of whatever body came (a 404 page is hashed too): the
       diff's body drift compares policies fetched in both scans. */
    const char *sha = json_string_value(
        json_object_get(json_object_get(json_object_get(raw, "policy"), "body"), "sha256"));
    if (sha && c->has_policy)
        json_object_set_new_nocheck(v, "policy_sha256", json_string(sha));
    json_object_set_new_nocheck(v, "tlsrpt", json_string(tlsrpt_status(c)));
    const char *dane = dane_status(raw);
    if (dane)
        json_object_set_new_nocheck(v, "dane", json_string(dane));
    if (c->has_record)
        json_object_set_new_nocheck(v, "record", mts_sts_record_json(&c->record));
    if (c->fetch_result)
        json_object_set_new_nocheck(v, "fetch", fetch_json(c));
    if (c->has_policy)
        json_object_set_new_nocheck(v, "policy", mts_policy_json(&c->policy));
    if (c->has_tlsrpt)
        json_object_set_new_nocheck(v, "tlsrpt_record", mts_tlsrpt_json(&c->tlsrpt));
    json_object_set_new_nocheck(v, "mx", mx);
    return v;
fail:
    json_decref(cats);
    json_decref(funnel);
    json_decref(mx);
    json_decref(v);
    return NULL;
}

static int classify(const struct mts_scanset *set, const char *scan, struct probe_cache *cache,
                    const json_t *raw, json_t **cls)
{
    struct env_ctx e = {set, scan, cache, NULL};
    struct mts_classify_env env = {get_probe, get_policy, &e};
    struct mts_classification c;
    int rc = mts_classify(&c, raw, &env);
    if (rc == 0 && !(*cls = view(&c, raw)))
        rc = -ENOMEM;
    mts_classification_free(&c);
    free(e.body);
    return rc;
}

/*
 * A stored record that does not decode is that domain's analysis error, not the end of
 * the walk: raw becomes {"domain": domain}, cls its analysis-error/undecodable view.
 */
static int classify_undecodable(const char *domain, json_t **raw, json_t **cls)
{
    struct mts_classification c;
    int rc = mts_classify_undecodable(
        &c, domain, "the stored record is not a JSON object (a damaged store value)");
    if (rc == 0 && !(*raw = json_pack("{s:s}", "domain", domain)))
        rc = -ENOMEM;
    if (rc == 0 && !(*cls = view(&c, *raw)))
        rc = -ENOMEM;
    mts_classification_free(&c);
    return rc;
}

/* Decode and classify one stored record (cache: the thread's probe records, or NULL). */
static int decode_classify(const struct mts_scanset *set, const char *scan,
                           struct probe_cache *cache, const struct mts_store_raw *rec, json_t **raw,
                           json_t **cls)
{
    int rc = mts_store_decode(rec, raw);
    if (rc == MTS_STORE_ECORRUPT)
        return classify_undecodable(rec->domain, raw, cls);
    return rc ? rc : classify(set, scan, cache, *raw, cls);
}

/* One domain of a batch, decoded and classified by whichever thread took it. */
struct slot {
    json_t *raw, *cls;
    json_t *oraw, *ocls; /* the same domain in the other scan (pair walks), or NULL */
    int rc;
    unsigned owner; /* the thread that took it: 0 the caller, 1.. the workers */
    bool done;
};

/*
 * The threads of one mts_scanset_foreach. Every thread, the caller's included, takes the
 * next TAKE untaken records of the current batch, decodes and classifies them, and when
 * every record before them has been visited, visits them and frees them: the visits keep key order
 * whatever the number of threads, and a record's trees never leave the thread (and the
 * cache) that built them, which halved the cost of a second thread.
 */
struct pool {
    const struct mts_scanset *set, *other; /* other: the second scan of a pair walk */
    const char *scan, *other_scan;
    mts_scanset_cb *cb;
    mts_scanset_pair_cb *pair_cb;
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t work, turn;
    const struct mts_store_raw *recs; /* the current batch (borrowed) */
    struct slot *slots;               /* one per record of the batch */
    struct probe_cache *caches;       /* one per thread */
    size_t n, next, visited;
    unsigned long batch; /* counts batches, so a worker sees each one once */
    unsigned waiting;    /* threads waiting for their turn */
    int rc;              /* the first error or visitor's stop value, in key order */
    bool quit;
};

#define TAKE 16 /* records a thread takes at once: one hand-over per run, not per record */

/* Hand slot i to the visitor (unless rc already stopped the walk) and free its trees. */
static int visit(struct pool *p, size_t i, int rc)
{
    struct slot *s = &p->slots[i];
    if (rc == 0 && s->rc)
        rc = s->rc;
    else if (rc == 0)
        rc = p->pair_cb ? p->pair_cb(p->arg, p->recs[i].domain, s->raw, s->cls, s->oraw, s->ocls)
                        : p->cb(p->arg, p->recs[i].domain, s->raw, s->cls);
    json_decref(s->ocls);
    json_decref(s->oraw);
    json_decref(s->cls);
    json_decref(s->raw);
    return rc;
}

/* Decode and classify record i into its slot (and its pair from the other scan). */
static void prepare(struct pool *p, unsigned self, size_t i)
{
    struct slot *s = &p->slots[i];
    s->rc = decode_classify(p->set, p->scan, &p->caches[self], &p->recs[i], &s->raw, &s->cls);
    if (s->rc == 0 && p->other) {
        s->rc = mts_scanset_get(p->other, p->other_scan, p->recs[i].domain, &s->oraw, &s->ocls);
        if (s->rc == MTS_STORE_NOTFOUND)
            s->rc = 0;
    }
}

/*
 * Visit the records that are self's turn, and take new ones while any are left; called
 * and returns with p->mu held. Returns when self can do nothing more until another thread
 * visits a record.
 */
static void run(struct pool *p, unsigned self)
{
    for (;;) {
        size_t from = p->visited, to = from;
        while (to < p->n && p->slots[to].done && p->slots[to].owner == self)
            to++;
        if (to > from) {
            int rc = p->rc;
            pthread_mutex_unlock(&p->mu);
            for (size_t i = from; i < to; i++)
                rc = visit(p, i, rc);
            pthread_mutex_lock(&p->mu);
            p->rc = rc;
            p->visited = to;
            if (p->waiting)
                pthread_cond_broadcast(&p->turn);
        } else if (p->next < p->n) {
            size_t first = p->next, last = p->n - first > TAKE ? first + TAKE : p->n;
            p->next = last;
            for (size_t i = first; i < last; i++)
                p->slots[i].owner = self;
            pthread_mutex_unlock(&p->mu);
            for (size_t i = first; i < last; i++)
                prepare(p, self, i);
            pthread_mutex_lock(&p->mu);
            for (size_t i = first; i < last; i++)
                p->slots[i].done = true;
        } else {
            return;
        }
    }
}

/* Whether self holds a record not yet visited; called with p->mu held. */
static bool holds_unvisited(const struct pool *p, unsigned self)
{
    for (size_t i = p->visited; i < p->next; i++)
        if (p->slots[i].owner == self)
            return true;
    return false;
}

/* Wait for another thread's visit; called and returns with p->mu held. */
static void wait_turn(struct pool *p)
{
    p->waiting++;
    pthread_cond_wait(&p->turn, &p->mu);
    p->waiting--;
}

struct worker_arg {
    struct pool *pool;
    unsigned self;
};

static void *worker(void *arg)
{
    struct worker_arg *w = arg;
    struct pool *p = w->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->batch == seen)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->quit)
            break;
        seen = p->batch;
        for (run(p, w->self); holds_unvisited(p, w->self); run(p, w->self))
            wait_turn(p);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int batch_cb(void *arg, const struct mts_store_raw *recs, size_t n)
{
    struct pool *p = arg;
    struct slot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    pthread_mutex_lock(&p->mu);
    p->recs = recs;
    p->slots = slots;
    p->n = n;
    p->next = p->visited = 0;
    p->batch++;
    pthread_cond_broadcast(&p->work);
    for (run(p, 0); p->visited < n; run(p, 0))
        wait_turn(p);
    int rc = p->rc;
    pthread_mutex_unlock(&p->mu);
    free(slots);
    return rc;
}

/* Online processors, at least 1: the default number of threads. */
static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MTS_SCANSET_MAX_THREADS ? MTS_SCANSET_MAX_THREADS : (unsigned)n;
}

static int walk(struct pool *p)
{
    const struct mts_scanset *set = p->set;
    pthread_t tids[MTS_SCANSET_MAX_THREADS];
    unsigned want = set->threads ? set->threads : online_cpus(), started = 0;
    if (want > MTS_SCANSET_MAX_THREADS)
        want = MTS_SCANSET_MAX_THREADS;
    if (!(p->caches = calloc(want, sizeof *p->caches)))
        return -ENOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->turn, NULL);
    /* The caller's thread is one of them; should a thread fail to start, fewer do the work. */
    struct worker_arg args[MTS_SCANSET_MAX_THREADS];
    while (started + 1 < want) {
        args[started] = (struct worker_arg){p, started + 1};
        if (pthread_create(&tids[started], NULL, worker, &args[started]) != 0)
            break;
        started++;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < set->n; i++)
        rc = mts_store_foreach_domain_batch(set->stores[i], p->scan, batch_cb, p);
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_cond_destroy(&p->turn);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    for (unsigned i = 0; i < want; i++)
        probe_cache_clear(&p->caches[i]);
    free(p->caches);
    return rc;
}

int mts_scanset_foreach(const struct mts_scanset *set, const char *scan, mts_scanset_cb *cb,
                        void *arg)
{
    struct pool p = {.set = set, .scan = scan, .cb = cb, .arg = arg};
    return walk(&p);
}

int mts_scanset_foreach_pair(const struct mts_scanset *set, const char *scan,
                             const struct mts_scanset *other, const char *other_scan,
                             mts_scanset_pair_cb *cb, void *arg)
{
    struct pool p = {.set = set,
                     .scan = scan,
                     .other = other,
                     .other_scan = other_scan,
                     .pair_cb = cb,
                     .arg = arg};
    return walk(&p);
}

int mts_scanset_get(const struct mts_scanset *set, const char *scan, const char *domain,
                    json_t **raw, json_t **cls)
{
    for (size_t i = 0; i < set->n; i++) {
        int rc = mts_store_domain_get(set->stores[i], scan, domain, raw);
        if (rc == MTS_STORE_NOTFOUND)
            continue;
        if (rc == MTS_STORE_ECORRUPT)
            rc = classify_undecodable(domain, raw, cls);
        else if (rc == 0)
            rc = classify(set, scan, NULL, *raw, cls);
        if (rc) {
            json_decref(*raw);
            *raw = NULL;
        }
        return rc;
    }
    return MTS_STORE_NOTFOUND;
}

int mts_scanset_count(const struct mts_scanset *set, const char *scan, unsigned long long *n)
{
    *n = 0;
    for (size_t i = 0; i < set->n; i++) {
        uint64_t c;
        int rc = mts_store_count_domains(set->stores[i], scan, &c);
        if (rc)
            return rc;
        *n += c;
    }
    return 0;
}
