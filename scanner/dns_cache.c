/*
 * The scan-wide DNS cache: many domains share MX hosts, so their A/AAAA (and negative)
 * answers are asked once per scan. Bounded in entries with CLOCK eviction (one reference
 * bit per entry, no list surgery on a hit); entries keep the reply's wire bytes, which are
 * small, and the observation is rebuilt from them on a hit.
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

int mts_dns_cache_new(struct mts_dns_cache **out, size_t entries)
{
    struct mts_dns_cache *c = calloc(1, sizeof(*c));
    size_t nb = 16;

    if (!c || entries == 0 || entries > UINT32_MAX / 2) {
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

/* The next victim: the first entry the hand finds with its reference bit clear. */
static struct entry *evict(struct mts_dns_cache *c)
{
    for (;;) {
        struct entry *e = &c->e[c->hand];
        c->hand = (c->hand + 1) % c->n;
        if (!e->ref) {
            unlink_entry(c, e);
            free(e->data);
            e->data = NULL;
            return e;
        }
        e->ref = false;
    }
}

int mts_dns_cache_put(struct mts_dns_cache *c, const struct mts_dns_cache_key *k, double now,
                      uint32_t ttl_s, const uint8_t *wire, size_t len,
                      const struct mts_dns_cache_meta *meta)
{
    struct entry *e = find(c, k);
    uint8_t *data;

    if (k->len > UINT16_MAX || len > UINT16_MAX)
        return MTS_DNS_EINVAL;
    data = malloc(k->len + len);
    if (!data)
        return MTS_DNS_ENOMEM;
    memcpy(data, k->name, k->len);
    memcpy(data + k->len, wire, len);
    if (e) {
        free(e->data);
    } else {
        e = c->used < c->n ? &c->e[c->used++] : evict(c);
        e->hash = k->hash;
        e->next = c->bucket[k->hash & c->mask];
        c->bucket[k->hash & c->mask] = (uint32_t)(e - c->e) + 1;
    }
    e->data = data;
    e->keylen = (uint16_t)k->len;
    e->wirelen = (uint16_t)len;
    e->qtype = k->qtype;
    e->dnssec_ok = k->dnssec_ok;
    e->expires = now + ttl_s;
    e->ref = false;
    e->meta = *meta;
    return 0;
}

size_t mts_dns_cache_used(const struct mts_dns_cache *c)
{
    return c->used;
}

size_t mts_dns_cache_fixed_bytes(const struct mts_dns_cache *c)
{
    return sizeof(*c) + c->n * sizeof(*c->e) + (c->mask + 1) * sizeof(*c->bucket);
}
