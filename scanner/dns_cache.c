/*
 * The scan-wide DNS cache: many domains share MX hosts, so their A/AAAA (and negative)
 * answers are asked once per scan. Bounded in entries and in payload bytes with CLOCK
 * eviction (one reference bit per entry, no list surgery on a hit); entries keep the
 * reply's wire bytes, usually small, for the caller's parsed reply, and the observation
 * after its qname, which every hit shares.
 * A hostile zone's replies can be 64 KiB each (TCP), so the entry bound alone would allow
 * gigabytes: an entry larger than an eighth of the byte bound is not cached at all.
 */
#include "dns_internal.h"
#include "dns_engine.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    uint8_t *data; /* key name, the reply, then the observation's tail */
    double expires;
    uint32_t hash;
    uint32_t next; /* index + 1 of the next entry in the bucket; 0 ends */
    uint16_t keylen;
    uint16_t wirelen;
    uint16_t taillen;
    uint16_t qtype;
    bool dnssec_ok;
    bool ref;
    uint16_t resolver; /* the lookup's, as mts_dns_cache_meta */
    uint8_t tries;
    bool tcp;
};

struct mts_dns_cache {
    struct entry *e;
    uint32_t *bucket; /* index + 1 of the first entry; 0 = empty */
    size_t n, used, mask, hand;
    uint32_t free_head;      /* index + 1 of an entry emptied for bytes; chained by next */
    size_t live;             /* entries holding a reply */
    size_t bytes, max_bytes; /* payload (name + reply + tail) held, and its bound */
};

uint32_t mts_dns_key_hash(const struct mts_dns_cache_key *k)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < k->len; i++)
        h = (h ^ k->name[i]) * 16777619u;
    h = (h ^ (k->qtype & 0xff)) * 16777619u;
    h = (h ^ (k->qtype >> 8)) * 16777619u;
    return (h ^ k->dnssec_ok) * 16777619u;
}

int mts_dns_cache_new(struct mts_dns_cache **out, size_t entries, size_t max_bytes)
{
    struct mts_dns_cache *c = calloc(1, sizeof *c);
    size_t nb = 16;

    if (!c || entries == 0 || entries > UINT32_MAX / 2 || max_bytes == 0) {
        free(c);
        return c ? MTS_DNS_EINVAL : MTS_DNS_ENOMEM;
    }
    while (nb < entries)
        nb <<= 1;
    c->e = calloc(entries, sizeof *c->e);
    c->bucket = calloc(nb, sizeof *c->bucket);
    if (!c->e || !c->bucket) {
        mts_dns_cache_free(c);
        return MTS_DNS_ENOMEM;
    }
    c->n = entries;
    c->max_bytes = max_bytes;
    c->mask = nb - 1;
    *out = c;
    return 0;
}

void mts_dns_cache_free(struct mts_dns_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->used; i++)
        free(c->e[i].data);
    free(c->e);
    free(c->bucket);
    free(c);
}

static struct entry *find(struct mts_dns_cache *c, const struct mts_dns_cache_key *k)
{
    for (uint32_t i = c->bucket[k->hash & c->mask]; i; i = c->e[i - 1].next) {
        struct entry *e = &c->e[i - 1];
        if (e->hash == k->hash && e->qtype == k->qtype && e->dnssec_ok == k->dnssec_ok &&
            e->keylen == k->len && memcmp(e->data, k->name, k->len) == 0)
            return e;
    }
    return NULL;
}

bool mts_dns_cache_get(struct mts_dns_cache *c, const struct mts_dns_cache_key *k, double now,
                       const uint8_t **wire, size_t *len, struct mts_dns_cache_meta *meta)
{
    struct entry *e = find(c, k);

    if (!e || e->expires <= now)
        return false;
    e->ref = true;
    *wire = e->data + e->keylen;
    *len = e->wirelen;
    meta->resolver = e->resolver;
    meta->tries = e->tries;
    meta->tcp = e->tcp;
    meta->obs_tail = e->taillen ? (const char *)e->data + e->keylen + e->wirelen : NULL;
    meta->obs_tail_len = e->taillen;
    return true;
}

static void unlink_entry(struct mts_dns_cache *c, struct entry *e)
{
    uint32_t self = (uint32_t)(e - c->e) + 1;
    uint32_t *p = &c->bucket[e->hash & c->mask];

    while (*p != self)
        p = &c->e[*p - 1].next;
    *p = e->next;
}

/* Unlinks a live entry and frees its payload; the entry itself stays for reuse. */
static void drop(struct mts_dns_cache *c, struct entry *e)
{
    unlink_entry(c, e);
    free(e->data);
    e->data = NULL;
    c->bytes -= (size_t)e->keylen + e->wirelen + e->taillen;
    c->live--;
}

/* The next victim: the first live entry the hand finds with its reference bit clear. The
   hand only sweeps entries in use, and at least one of them is live when called. */
static struct entry *evict(struct mts_dns_cache *c)
{
    for (;;) {
        struct entry *e = &c->e[c->hand];
        c->hand = (c->hand + 1) % c->used;
        if (e->data && !e->ref) {
            drop(c, e);
            return e;
        }
        e->ref = false;
    }
}

static void free_push(struct mts_dns_cache *c, struct entry *e)
{
    e->next = c->free_head;
    c->free_head = (uint32_t)(e - c->e) + 1;
}

/* An empty entry for need more payload bytes: the byte bound is made room for first, then
   an emptied entry, a never used one, or the CLOCK victim is taken. */
static struct entry *take_entry(struct mts_dns_cache *c, size_t need)
{
    while (c->bytes + need > c->max_bytes && c->live > 0)
        free_push(c, evict(c));
    if (c->free_head) {
        struct entry *e = &c->e[c->free_head - 1];
        c->free_head = e->next;
        return e;
    }
    return c->used < c->n ? &c->e[c->used++] : evict(c);
}

int mts_dns_cache_put(struct mts_dns_cache *c, const struct mts_dns_cache_key *k, double now,
                      uint32_t ttl_s, const uint8_t *wire, size_t len,
                      const struct mts_dns_cache_meta *meta)
{
    struct entry *e = find(c, k);
    size_t tail = meta->obs_tail ? meta->obs_tail_len : 0, need = k->len + len + tail;
    uint8_t *data = NULL;

    if (k->len > UINT16_MAX || len > UINT16_MAX || tail > UINT16_MAX)
        return MTS_DNS_EINVAL;
    /* Copied before the old entry goes: meta may point into it. */
    if (need <= c->max_bytes / 8) {
        if (!(data = malloc(need)))
            return MTS_DNS_ENOMEM;
        memcpy(data, k->name, k->len);
        memcpy(data + k->len, wire, len);
        if (tail)
            memcpy(data + k->len + len, meta->obs_tail, tail);
    }
    if (e) {
        drop(c, e);
        free_push(c, e);
    }
    if (!data)
        return 0; /* too big to be worth a share of the cache: asked again when needed */
    e = take_entry(c, need);
    e->hash = k->hash;
    e->next = c->bucket[k->hash & c->mask];
    c->bucket[k->hash & c->mask] = (uint32_t)(e - c->e) + 1;
    e->data = data;
    e->keylen = (uint16_t)k->len;
    e->wirelen = (uint16_t)len;
    e->taillen = (uint16_t)tail;
    e->qtype = k->qtype;
    e->dnssec_ok = k->dnssec_ok;
    e->expires = now + ttl_s;
    e->ref = false;
    e->resolver = meta->resolver;
    e->tries = meta->tries;
    e->tcp = meta->tcp;
    c->bytes += need;
    c->live++;
    return 0;
}

size_t mts_dns_cache_used(const struct mts_dns_cache *c)
{
    return c->live;
}

size_t mts_dns_cache_bytes(const struct mts_dns_cache *c)
{
    return c->bytes;
}

size_t mts_dns_cache_fixed_bytes(const struct mts_dns_cache *c)
{
    return sizeof *c + c->n * sizeof *c->e + (c->mask + 1) * sizeof *c->bucket;
}
