/*
 * Why: a few large providers receive the mail of most domains, so a per-domain prober
 * would open the same SMTP session thousands of times, which is impolite and slow, and
 * would store thousands of copies of one observation. Keys live as long as the byte bound
 * allows (in a scan of ordinary size, the whole scan), and an entry shrinks to its key
 * once its record has been handed to the store and to the requests that waited for it.
 * Past the bound the oldest finished keys go first; a key with answers still queued stays
 * until they are delivered.
 */
#include "mxprobe_cache.h"
#include "mts_htab.h"
#include "mts_util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <ldns/ldns.h>

struct request {
    STAILQ_ENTRY(request) link;
    struct entry *entry;
    void (*done)(void *arg, const json_t *record);
    void *arg;
};
STAILQ_HEAD(request_list, request);

struct entry {
    struct mts_htab_node node;   /* in c->entries, keyed by (host, addr) */
    TAILQ_ENTRY(entry) age;      /* c->finished, oldest first, once finished */
    struct request_list waiters; /* while running */
    unsigned answers;            /* requests queued in c->answers for this entry */
    struct mts_mxprobe_cache *cache;
    bool running;
    size_t hostlen; /* key = host \0 addr \0 */
    char key[];
};

struct key {
    const char *host, *addr;
};

struct mts_mxprobe_cache {
    struct event_base *base;
    struct mts_smtp *smtp;
    void (*on_finished)(void *arg, const char *host, const char *addr, json_t *record);
    void *arg;
    struct mts_htab entries;
    struct request_list answers; /* requests for finished keys, answered from the loop */
    struct event *answer_ev;
    TAILQ_HEAD(, entry) finished; /* oldest first: the eviction order */
    size_t max_bytes;             /* 0: no bound */
    struct mts_mxprobe_cache_stats stats;
};

static size_t entry_bytes(const struct entry *e)
{
    return sizeof *e + e->hostlen + strlen(e->key + e->hostlen + 1) + 2;
}

static struct entry *entry_of(const struct mts_htab_node *node)
{
    return MTS_CONTAINER_OF(node, struct entry, node);
}

/* FNV-1a over host \0 addr: the key as the entry holds it. */
static uint64_t hash_key(const struct key *k)
{
    return mts_fnv1a(mts_fnv1a(MTS_FNV1A_BASIS, k->host, strlen(k->host) + 1), k->addr,
                     strlen(k->addr));
}

static bool entry_is(const struct mts_htab_node *node, const void *key)
{
    const struct entry *e = entry_of(node);
    const struct key *k = key;
    return strcmp(e->key, k->host) == 0 && strcmp(e->key + e->hostlen + 1, k->addr) == 0;
}

/* Takes the entry out of the table: a later request for its key starts a new probe. */
static void unlink_entry(struct mts_mxprobe_cache *c, struct entry *e)
{
    mts_htab_remove(&c->entries, &e->node);
    c->stats.bytes -= entry_bytes(e);
}

/* Forgets the oldest finished keys while the entries pass the byte bound. */
static void evict(struct mts_mxprobe_cache *c)
{
    struct entry *e;
    while (c->max_bytes && c->stats.bytes > c->max_bytes &&
           (e = TAILQ_FIRST(&c->finished)) != NULL && e->answers == 0) {
        TAILQ_REMOVE(&c->finished, e, age);
        unlink_entry(c, e);
        c->stats.evicted++;
        free(e);
    }
}

static void probe_done(void *arg, json_t *rec)
{
    struct entry *e = arg;
    struct mts_mxprobe_cache *c = e->cache;
    e->running = false;
    c->stats.running--;
    /* A probe this machine could not make says nothing about the key: the next request
       for it probes again (its record then replaces this one in the store). */
    bool forget = mts_smtp_result_parse(json_string_value(json_object_get(rec, "result"))) ==
                  MTS_SMTP_LOCAL_ERROR;
    if (forget)
        unlink_entry(c, e);
    else
        TAILQ_INSERT_TAIL(&c->finished, e, age);
    if (c->on_finished)
        c->on_finished(c->arg, e->key, e->key + e->hostlen + 1, json_incref(rec));
    /* Detach first: callbacks may make new requests, which now see a finished entry. */
    struct request_list waiters = STAILQ_HEAD_INITIALIZER(waiters);
    STAILQ_CONCAT(&waiters, &e->waiters);
    struct request *r;
    while ((r = STAILQ_FIRST(&waiters)) != NULL) {
        STAILQ_REMOVE_HEAD(&waiters, link);
        r->done(r->arg, rec);
        free(r);
    }
    json_decref(rec);
    if (forget)
        free(e);
}

static void answer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct mts_mxprobe_cache *c = arg;
    (void)fd;
    (void)what;
    /* Only the answers queued now; those queued by the callbacks go in the next round. */
    struct request_list now = STAILQ_HEAD_INITIALIZER(now);
    STAILQ_CONCAT(&now, &c->answers);
    struct request *r;
    while ((r = STAILQ_FIRST(&now)) != NULL) {
        STAILQ_REMOVE_HEAD(&now, link);
        r->entry->answers--;
        r->done(r->arg, NULL);
        free(r);
    }
    evict(c);
}

/* Starts the probe of e: the prober takes the host's name in wire form. */
static int start_probe(struct mts_mxprobe_cache *c, struct entry *e)
{
    ldns_rdf *name = NULL;
    ldns_status st = ldns_str2rdf_dname(&name, e->key);
    if (st != LDNS_STATUS_OK)
        return st == LDNS_STATUS_MEM_ERR ? -ENOMEM : -EINVAL;
    int rc = mts_smtp_probe(c->smtp, ldns_rdf_data(name), ldns_rdf_size(name),
                            e->key + e->hostlen + 1, probe_done, e);
    ldns_rdf_deep_free(name);
    return rc;
}

int mts_mxprobe_request(struct mts_mxprobe_cache *c, const char *host, const char *addr,
                        void (*done)(void *arg, const json_t *record), void *arg)
{
    if (host == NULL || addr == NULL || done == NULL)
        return -EINVAL;
    struct key k = {host, addr};
    uint64_t h = hash_key(&k);
    struct mts_htab_node *found = mts_htab_find(&c->entries, h, entry_is, &k);
    struct request *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    r->done = done;
    r->arg = arg;
    c->stats.requests++;
    struct entry *e = found ? entry_of(found) : NULL;
    if (e && e->running) {
        c->stats.joined++;
        r->entry = e;
        STAILQ_INSERT_TAIL(&e->waiters, r, link);
        return 0;
    }
    if (e) {
        c->stats.hits++;
        r->entry = e;
        e->answers++;
        STAILQ_INSERT_TAIL(&c->answers, r, link);
        event_active(c->answer_ev, EV_TIMEOUT, 1);
        return 0;
    }
    size_t hl = strlen(host), al = strlen(addr);
    e = calloc(1, sizeof *e + hl + al + 2);
    if (e == NULL) {
        free(r);
        c->stats.requests--;
        return -ENOMEM;
    }
    e->node.hash = h;
    e->cache = c;
    e->hostlen = hl;
    memcpy(e->key, host, hl + 1);
    memcpy(e->key + hl + 1, addr, al + 1);
    STAILQ_INIT(&e->waiters);
    int rc = start_probe(c, e);
    if (rc < 0) {
        free(e);
        free(r);
        c->stats.requests--;
        return rc;
    }
    e->running = true;
    r->entry = e;
    STAILQ_INSERT_TAIL(&e->waiters, r, link);
    mts_htab_insert(&c->entries, &e->node);
    c->stats.running++;
    c->stats.bytes += entry_bytes(e);
    c->stats.keys++;
    evict(c);
    return 0;
}

void mts_mxprobe_cache_set_max_bytes(struct mts_mxprobe_cache *c, size_t max_bytes)
{
    c->max_bytes = max_bytes;
    evict(c);
}

int mts_mxprobe_cache_new(struct mts_mxprobe_cache **out, struct mts_smtp *smtp,
                          void (*on_finished)(void *arg, const char *host, const char *addr,
                                              json_t *record),
                          void *arg)
{
    if (out == NULL || smtp == NULL)
        return -EINVAL;
    struct event_base *base = mts_smtp_base(smtp);
    struct mts_mxprobe_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->base = base;
    c->smtp = smtp;
    c->on_finished = on_finished;
    c->arg = arg;
    STAILQ_INIT(&c->answers);
    TAILQ_INIT(&c->finished);
    int rc = mts_htab_init(&c->entries, 1024);
    c->answer_ev = event_new(base, -1, 0, answer_cb, c);
    if (rc != 0 || c->answer_ev == NULL) {
        mts_mxprobe_cache_free(c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

void mts_mxprobe_cache_stats(const struct mts_mxprobe_cache *c, struct mts_mxprobe_cache_stats *st)
{
    *st = c->stats;
}

static void free_requests(struct request_list *l)
{
    struct request *r;
    while ((r = STAILQ_FIRST(l)) != NULL) {
        STAILQ_REMOVE_HEAD(l, link);
        free(r);
    }
}

static void entry_free(struct mts_htab_node *node)
{
    struct entry *e = entry_of(node);
    free_requests(&e->waiters);
    free(e);
}

void mts_mxprobe_cache_free(struct mts_mxprobe_cache *c)
{
    if (c == NULL)
        return;
    free_requests(&c->answers);
    mts_htab_fini(&c->entries, entry_free);
    if (c->answer_ev)
        event_free(c->answer_ev);
    free(c);
}
