/*
 * Why a set of stores: a sharded scan writes one LMDB environment per shard, and a re-check
 * may live in its own environment; the analysis reads them as one scan after checking that
 * their metadata agree. MX probe records are looked up in every store because an MX host
 * may have been probed by another shard than the domain's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mts_classify.h"
#include "mts_view.h"
#include "mts_vocab.h"
#include "scanset.h"
#include "workpool.h"

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

/* Classify d->raw into d->cls (cache: the thread's probe records, or NULL). */
static int classify(const struct mts_scanset *set, const char *scan, struct probe_cache *cache,
                    struct mts_scanned *d)
{
    struct env_ctx e = {set, scan, cache, NULL};
    struct mts_classify_env env = {get_probe, get_policy, &e};
    int rc = mts_classify(&d->cls, d->raw, &env);
    free(e.body);
    return rc;
}

/*
 * A stored record that does not decode is that domain's analysis error, not the end of
 * the walk: raw becomes {"domain": domain}, cls its analysis-error/undecodable one.
 */
static int classify_undecodable(struct mts_scanned *d)
{
    int rc = mts_classify_undecodable(
        &d->cls, d->domain, "the stored record is not a JSON object (a damaged store value)");
    if (rc == 0 && !(d->raw = json_pack("{s:s}", "domain", d->domain)))
        rc = -ENOMEM;
    return rc;
}

/* Classify the record that mts_store_decode or mts_store_domain_get answered with rc, and
   build its view when flags ask for it. */
static int finish_scanned(const struct mts_scanset *set, const char *scan,
                          struct probe_cache *cache, unsigned flags, int rc, struct mts_scanned *d)
{
    if (rc == MTS_STORE_ECORRUPT)
        rc = classify_undecodable(d);
    else if (rc == 0)
        rc = classify(set, scan, cache, d);
    if (rc == 0 && (flags & MTS_SCANSET_VIEWS) && !(d->view = mts_view_json(&d->cls, d->raw)))
        rc = -ENOMEM;
    return rc;
}

static void scanned_free(struct mts_scanned *d)
{
    json_decref(d->view);
    mts_classification_free(&d->cls);
    json_decref(d->raw);
    memset(d, 0, sizeof *d);
}

/* Fetch and classify domain from set into *d (d->domain borrows domain). Returns 0,
   MTS_STORE_NOTFOUND, -ENOMEM or a store read error; *d is to be freed in every case. */
static int scanned_get(const struct mts_scanset *set, const char *scan, const char *domain,
                       unsigned flags, struct mts_scanned *d)
{
    memset(d, 0, sizeof *d);
    d->domain = domain;
    for (size_t i = 0; i < set->n; i++) {
        int rc = mts_store_domain_get(set->stores[i], scan, domain, &d->raw);
        if (rc != MTS_STORE_NOTFOUND)
            return finish_scanned(set, scan, NULL, flags, rc, d);
    }
    return MTS_STORE_NOTFOUND;
}

/*
 * The record members that nothing in the analysis reads (docs/analyze.md, Threads): how a
 * DNS query was asked and answered, and a fetch's certificate chain. The walks leave them
 * out of the trees they build; a single domain's record (explain) is read whole.
 */
static const char *const unread_members[] = {
    "qname",  "qtype", "rcode", "tcp", "resolver", "tries",
    "cached", "ms",    "name",  "ttl", "chain",    NULL,
};

/* One domain of a batch, decoded and classified by whichever thread took it. */
struct slot {
    struct mts_scanned d;
    struct mts_scanned other; /* the same domain in the other scan (pair walks) */
    bool has_other;
    int rc;
};

/* One walk: the records of the current batch and what the threads made of them
   (workpool.h). */
struct walk {
    const struct mts_scanset *set, *other; /* other: the second scan of a pair walk */
    const char *scan, *other_scan;
    unsigned flags;
    mts_scanset_cb *cb;
    mts_scanset_pair_cb *pair_cb;
    void *arg;
    struct mts_workpool *pool;
    const struct mts_store_raw *recs; /* the current batch (borrowed) */
    /* One per record of the batch, kept from batch to batch: a slot holds two
       classifications, and allocating a batch's anew each time made the allocator hand
       the pages back and fault them in again (a tenth of the summary's CPU). */
    struct slot *slots;
    size_t n_slots;
    struct probe_cache *caches; /* one per thread */
};

/* Decode and classify record i into its slot (and its pair from the other scan). */
static void prepare(void *arg, unsigned self, size_t i)
{
    struct walk *w = arg;
    struct slot *s = &w->slots[i];
    const struct mts_store_raw *rec = &w->recs[i];
    *s = (struct slot){.d.domain = rec->domain};
    s->rc = finish_scanned(w->set, w->scan, &w->caches[self], w->flags,
                           mts_store_decode_pruned(rec, unread_members, &s->d.raw), &s->d);
    if (s->rc == 0 && w->other) {
        s->rc = scanned_get(w->other, w->other_scan, rec->domain, w->flags, &s->other);
        s->has_other = s->rc == 0;
        if (s->rc == MTS_STORE_NOTFOUND)
            s->rc = 0;
    }
}

/* Hand slot i to the visitor (unless rc already stopped the walk) and free it. */
static int hand_on(void *arg, size_t i, int rc)
{
    struct walk *w = arg;
    struct slot *s = &w->slots[i];
    if (rc == 0 && s->rc)
        rc = s->rc;
    else if (rc == 0)
        rc = w->pair_cb ? w->pair_cb(w->arg, &s->d, s->has_other ? &s->other : NULL)
                        : w->cb(w->arg, &s->d);
    scanned_free(&s->other);
    scanned_free(&s->d);
    return rc;
}

static int batch_cb(void *arg, const struct mts_store_raw *recs, size_t n)
{
    struct walk *w = arg;
    if (n > w->n_slots) {
        struct slot *slots = realloc(w->slots, n * sizeof *slots);
        if (!slots)
            return -ENOMEM;
        w->slots = slots;
        w->n_slots = n;
    }
    w->recs = recs;
    return mts_workpool_run(w->pool, n);
}

static int walk(struct walk *w)
{
    const struct mts_scanset *set = w->set;
    unsigned threads = set->threads ? set->threads : mts_workpool_online_cpus();
    if (threads > MTS_SCANSET_MAX_THREADS)
        threads = MTS_SCANSET_MAX_THREADS;
    const struct mts_workpool_ops ops = {prepare, hand_on, w};
    if (!(w->caches = calloc(threads, sizeof *w->caches)))
        return -ENOMEM;
    int rc = mts_workpool_start(&w->pool, threads, &ops);
    for (size_t i = 0; rc == 0 && i < set->n; i++)
        rc = mts_store_foreach_domain_batch(set->stores[i], w->scan, batch_cb, w);
    mts_workpool_stop(w->pool);
    for (unsigned i = 0; i < threads; i++)
        probe_cache_clear(&w->caches[i]);
    free(w->caches);
    free(w->slots);
    return rc;
}

int mts_scanset_foreach(const struct mts_scanset *set, const char *scan, unsigned flags,
                        mts_scanset_cb *cb, void *arg)
{
    struct walk w = {.set = set, .scan = scan, .flags = flags, .cb = cb, .arg = arg};
    return walk(&w);
}

int mts_scanset_foreach_pair(const struct mts_scanset *set, const char *scan,
                             const struct mts_scanset *other, const char *other_scan,
                             unsigned flags, mts_scanset_pair_cb *cb, void *arg)
{
    struct walk w = {.set = set,
                     .scan = scan,
                     .other = other,
                     .other_scan = other_scan,
                     .flags = flags,
                     .pair_cb = cb,
                     .arg = arg};
    return walk(&w);
}

int mts_scanset_get(const struct mts_scanset *set, const char *scan, const char *domain,
                    json_t **raw, json_t **view)
{
    struct mts_scanned d;
    int rc = scanned_get(set, scan, domain, MTS_SCANSET_VIEWS, &d);
    if (rc == 0) {
        *raw = json_incref(d.raw);
        *view = json_incref(d.view);
    }
    scanned_free(&d);
    return rc;
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
