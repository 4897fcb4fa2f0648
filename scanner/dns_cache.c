/*
 * The scan-wide DNS cache: many domains share MX hosts, so their A/AAAA (and negative)
 * answers are asked once per scan. Bounded in entries and in payload bytes with CLOCK
 * eviction (one reference bit per entry, no list surgery on a hit); entries keep the
 * reply's wire bytes, usually small, and the observation is rebuilt from them on a hit.
 * A hostile zone's replies can be 64 KiB each (TCP), so the entry bound alone would allow
 * gigabytes: an entry larger than an eighth of the byte bound is not cached at all.
 */
#include "dns_internal.h"
#include "dns_engine.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    uint8_t *data; /* key name, then the reply */
    double expires;
    uint32_t hash;
    uint32_t next; /* index + 1 of the next entry in the bucket; 0 ends */
    uint16_t keylen;
    uint16_t wirelen;
    uint16_t qtype;
    bool dnssec_ok;
    bool ref;
    struct mts_dns_cache_meta meta;
};

struct mts_dns_cache {
    struct entry *e;
    uint32_t *bucket; /* index + 1 of the first entry; 0 = empty */
    size_t n, used, mask, hand;
    uint32_t free_head;      /* index + 1 of an entry emptied for bytes; chained by next */
    size_t live;             /* entries holding a reply */
    size_t bytes, max_bytes; /* payload (name + reply) held, and its bound */
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
    struct mts_dns_cache *c = calloc(1, sizeof(*c));
    size_t nb = 16;

    if (!c || entries == 0 || entries > UINT32_MAX / 2 || max_bytes == 0) {
        free(c);
        return c ? MTS_DNS_EINVAL : MTS_DNS_ENOMEM;
    }
    while (nb < entries)
        nb <<= 1;
    c->e = calloc(entries, sizeof(*c->e));
    c->bucket = calloc(nb, sizeof(*c->bucket));
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
    *meta = e->meta;
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
    c->bytes -= (size_t)e->keylen + e->wirelen;
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
    size_t need = k->len + len;
    uint8_t *data;

    if (k->len > UINT16_MAX || len > UINT16_MAX)
        return MTS_DNS_EINVAL;
    if (e) {
        drop(c, e);
        free_push(c, e);
    }
    if (need > c->max_bytes / 8)
        return 0; /* too big to be worth a share of the cache: asked again when needed */
    if (!(data = malloc(need)))
        return MTS_DNS_ENOMEM;
    memcpy(data, k->name, k->len);
    memcpy(data + k->len, wire, len);
    e = take_entry(c, need);
    e->hash = k->hash;
    e->next = c->bucket[k->hash & c->mask];
    c->bucket[k->hash & c->mask] = (uint32_t)(e - c->e) + 1;
    e->data = data;
    e->keylen = (uint16_t)k->len;
    e->wirelen = (uint16_t)len;
    e->qtype = k->qtype;
    e->dnssec_ok = k->dnssec_ok;
    e->expires = now + ttl_s;
    e->ref = false;
    e->meta = *meta;
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
    return sizeof(*c) + c->n * sizeof(*c->e) + (c->mask + 1) * sizeof(*c->bucket);
}
