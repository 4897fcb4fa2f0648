/*
 * Why: a 100-million-name list must be de-duplicated in under 8 bytes per name, so the set
 * keeps only a 64-bit SipHash of each name (fixed key: stable runs), and not even all of
 * it: the top 16 bits choose one of 65,536 small open-addressing tables (linear probing)
 * and only the other 48 bits are stored, in 6 bytes. Each small table grows by 1/5 when
 * it would pass 9/10 full, so it stays 3/4 to 9/10 full (6.7 to 8 bytes per name) and a
 * resize copies one small table, never the whole set. Two different names sharing a hash
 * (probability ~n^2/2^65) would drop the second one; that risk is documented in
 * docs/inputs.md rather than paid for with the names themselves.
 */
#include "mts_hash.h"
#include "mts_input.h"

#include <stdlib.h>

#define PART_BITS   16u
#define NPARTS      (1u << PART_BITS)
#define REST_BITS   (64u - PART_BITS)
#define SLOT_BYTES  (REST_BITS / 8u)
#define FIRST_SLOTS 8u

static const uint8_t dedupe_key[16] = {'m', 't', 's', '-', 'd', 'e', 'd', 'u',
                                       'p', 'e', '-', 'k', 'e', 'y', '-', '1'};

/* One small table: nslots slots of SLOT_BYTES little-endian bytes, 0 = empty. */
struct part {
    uint8_t *slots;
    uint32_t nslots;
    uint32_t count;
};

struct mts_dedupe {
    struct part parts[NPARTS];
    size_t count;
    size_t slot_bytes; /* sum of the parts' slot arrays */
};

int mts_dedupe_new(struct mts_dedupe **out)
{
    struct mts_dedupe *set = calloc(1, sizeof *set);
    if (!set)
        return MTS_IN_ENOMEM;
    *out = set;
    return 0;
}

void mts_dedupe_free(struct mts_dedupe *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < NPARTS; i++)
        free(set->parts[i].slots);
    free(set);
}

static uint64_t load_slot(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned b = 0; b < SLOT_BYTES; b++)
        v |= (uint64_t)p[b] << (8 * b);
    return v;
}

static void store_slot(uint8_t *p, uint64_t v)
{
    for (unsigned b = 0; b < SLOT_BYTES; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

/* Returns the slot holding rest, or the empty slot where it belongs. */
static uint32_t find(const uint8_t *slots, uint32_t nslots, uint64_t rest)
{
    /* Multiply-shift maps the low 32 bits onto 0..nslots-1 without a power-of-two size. */
    uint32_t i = (uint32_t)(((rest & 0xffffffffu) * nslots) >> 32);
    for (;;) {
        uint64_t v = load_slot(slots + (size_t)i * SLOT_BYTES);
        if (v == 0 || v == rest)
            return i;
        if (++i == nslots)
            i = 0;
    }
}

static int grow(struct part *part, size_t *slot_bytes)
{
    uint32_t nslots = part->nslots ? part->nslots + part->nslots / 5 : FIRST_SLOTS;
    uint8_t *fresh = calloc(nslots, SLOT_BYTES);
    if (!fresh)
        return MTS_IN_ENOMEM;
    for (uint32_t i = 0; i < part->nslots; i++) {
        uint64_t v = load_slot(part->slots + (size_t)i * SLOT_BYTES);
        if (v)
            store_slot(fresh + (size_t)find(fresh, nslots, v) * SLOT_BYTES, v);
    }
    free(part->slots);
    *slot_bytes += ((size_t)nslots - part->nslots) * SLOT_BYTES;
    part->slots = fresh;
    part->nslots = nslots;
    return 0;
}

int mts_dedupe_add(struct mts_dedupe *set, const char *name, size_t len)
{
    uint64_t h = mts_siphash24(dedupe_key, name, len);
    struct part *part = &set->parts[h >> REST_BITS];
    uint64_t rest = h & ((UINT64_C(1) << REST_BITS) - 1);
    if (rest == 0)
        rest = 1;
    if (part->nslots) {
        uint32_t i = find(part->slots, part->nslots, rest);
        if (load_slot(part->slots + (size_t)i * SLOT_BYTES) == rest)
            return 0;
    }
    if (((uint64_t)part->count + 1) * 10 > (uint64_t)part->nslots * 9) {
        int rc = grow(part, &set->slot_bytes);
        if (rc)
            return rc;
    }
    store_slot(part->slots + (size_t)find(part->slots, part->nslots, rest) * SLOT_BYTES, rest);
    part->count++;
    set->count++;
    return 1;
}

size_t mts_dedupe_count(const struct mts_dedupe *set)
{
    return set->count;
}

size_t mts_dedupe_bytes(const struct mts_dedupe *set)
{
    return sizeof *set + set->slot_bytes;
}
