/*
 * Why: a 100-million-name list must be de-duplicated in a few bytes per name, so the set
 * keeps only a 64-bit SipHash of each name (fixed key: stable runs) in an open-addressing
 * table with linear probing that doubles at 3/4 load: 10.7 to 21.3 bytes per name. Two
 * different names sharing a hash (probability ~n^2/2^65) would drop the second one; that
 * risk is documented in docs/inputs.md rather than paid for with the names themselves.
 */
#include "mts_hash.h"
#include "mts_input.h"

#include <stdlib.h>

#define INITIAL_SLOTS 1024u

static const uint8_t dedupe_key[16] = {'m', 't', 's', '-', 'd', 'e', 'd', 'u',
                                       'p', 'e', '-', 'k', 'e', 'y', '-', '1'};

struct mts_dedupe {
    uint64_t *slots; /* 0 = empty; a hash of 0 is stored as 1 */
    size_t mask;     /* slots - 1, slots a power of two */
    size_t count;
};

int mts_dedupe_new(struct mts_dedupe **out)
{
    struct mts_dedupe *set = malloc(sizeof *set);
    if (!set)
        return MTS_IN_ENOMEM;
    set->slots = calloc(INITIAL_SLOTS, sizeof *set->slots);
    if (!set->slots) {
        free(set);
        return MTS_IN_ENOMEM;
    }
    set->mask = INITIAL_SLOTS - 1;
    set->count = 0;
    *out = set;
    return 0;
}

void mts_dedupe_free(struct mts_dedupe *set)
{
    if (!set)
        return;
    free(set->slots);
    free(set);
}

/* Returns the slot holding h, or the empty slot where it belongs. */
static size_t find(const uint64_t *slots, size_t mask, uint64_t h)
{
    size_t i = (size_t)h & mask;
    while (slots[i] != 0 && slots[i] != h)
        i = (i + 1) & mask;
    return i;
}

static int grow(struct mts_dedupe *set)
{
    size_t nslots = (set->mask + 1) * 2;
    uint64_t *fresh = calloc(nslots, sizeof *fresh);
    if (!fresh)
        return MTS_IN_ENOMEM;
    for (size_t i = 0; i <= set->mask; i++)
        if (set->slots[i])
            fresh[find(fresh, nslots - 1, set->slots[i])] = set->slots[i];
    free(set->slots);
    set->slots = fresh;
    set->mask = nslots - 1;
    return 0;
}

int mts_dedupe_add(struct mts_dedupe *set, const char *name, size_t len)
{
    uint64_t h = mts_siphash24(dedupe_key, name, len);
    if (h == 0)
        h = 1;
    size_t i = find(set->slots, set->mask, h);
    if (set->slots[i] == h)
        return 0;
    if ((set->count + 1) * 4 > (set->mask + 1) * 3) {
        int rc = grow(set);
        if (rc)
            return rc;
        i = find(set->slots, set->mask, h);
    }
    set->slots[i] = h;
    set->count++;
    return 1;
}

size_t mts_dedupe_count(const struct mts_dedupe *set)
{
    return set->count;
}

size_t mts_dedupe_bytes(const struct mts_dedupe *set)
{
    return (set->mask + 1) * sizeof *set->slots;
}
