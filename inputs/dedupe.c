/*
 * Why: a 100-million-name list must be de-duplicated in under 8 bytes per name, so the set
 * keeps only a 64-bit SipHash of each name (fixed key: stable runs), and not even all of
 * it: the top 16 bits choose one of 65,536 small open-addressing tables (linear probing)
 * and only the other 48 bits are stored, in 6 bytes. Each small table grows by 1/5 when it
 * would pass 9/10 full, so it stays about 3/4 to 9/10 full. Its slots live in blocks of 32
 * taken from one pool of equal blocks, so the blocks a resize frees are the next ones a
 * resize takes: no allocator holds freed pieces of every size. Two different names
 * sharing a hash (probability ~n^2/2^65) would drop the second one; that risk is
 * documented in docs/inputs.md rather than paid for with the names themselves.
 */
#include "mts_hash.h"
#include "mts_input.h"

#include <stdlib.h>
#include <string.h>

#define PART_BITS   16u
#define NPARTS      (1u << PART_BITS)
#define REST_BITS   (64u - PART_BITS)
#define SLOT_BYTES  (REST_BITS / 8u)
#define BLOCK_SHIFT 5u
#define BLOCK_SLOTS (1u << BLOCK_SHIFT)
#define BLOCK_BYTES (BLOCK_SLOTS * SLOT_BYTES)
#define SLAB_SHIFT  14u /* 16,384 blocks of 192 bytes: 3 MiB slabs */
#define SLAB_BLOCKS (1u << SLAB_SHIFT)
#define NO_BLOCK    UINT32_MAX

static const uint8_t dedupe_key[16] = {'m', 't', 's', '-', 'd', 'e', 'd', 'u',
                                       'p', 'e', '-', 'k', 'e', 'y', '-', '1'};

/* One small table: nblocks blocks of BLOCK_SLOTS slots, slot value 0 = empty. */
struct part {
    uint32_t *blocks; /* pool block numbers */
    uint32_t nblocks;
    uint32_t count;
};

struct mts_dedupe {
    struct part parts[NPARTS];
    size_t count;
    uint8_t **slabs; /* the pool: block b is at slabs[b >> SLAB_SHIFT] */
    uint32_t nslabs;
    uint32_t used_blocks; /* blocks ever handed out */
    uint32_t free_block;  /* head of the freed blocks, linked through their first bytes */
    size_t bytes;         /* slabs, slab array and block lists */
};

int mts_dedupe_new(struct mts_dedupe **out)
{
    struct mts_dedupe *set = calloc(1, sizeof *set);
    if (!set)
        return MTS_IN_ENOMEM;
    set->free_block = NO_BLOCK;
    set->bytes = sizeof *set;
    *out = set;
    return 0;
}

void mts_dedupe_free(struct mts_dedupe *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < NPARTS; i++)
        free(set->parts[i].blocks);
    for (uint32_t i = 0; i < set->nslabs; i++)
        free(set->slabs[i]);
    free(set->slabs);
    free(set);
}

static uint8_t *block_at(const struct mts_dedupe *set, uint32_t b)
{
    return set->slabs[b >> SLAB_SHIFT] + (size_t)(b & (SLAB_BLOCKS - 1)) * BLOCK_BYTES;
}

static uint8_t *slot_at(const struct mts_dedupe *set, const struct part *part, uint32_t i)
{
    return block_at(set, part->blocks[i >> BLOCK_SHIFT]) + (i & (BLOCK_SLOTS - 1)) * SLOT_BYTES;
}

/* Returns a zeroed block number from the pool in *out, or MTS_IN_ENOMEM. */
static int take_block(struct mts_dedupe *set, uint32_t *out)
{
    uint32_t b = set->free_block;
    if (b != NO_BLOCK) {
        memcpy(&set->free_block, block_at(set, b), sizeof set->free_block);
    } else {
        if (set->used_blocks == (uint32_t)set->nslabs << SLAB_SHIFT) {
            if (set->nslabs == UINT32_MAX >> SLAB_SHIFT)
                return MTS_IN_ENOMEM;
            uint8_t **slabs = realloc(set->slabs, (set->nslabs + 1) * sizeof *slabs);
            if (!slabs)
                return MTS_IN_ENOMEM;
            set->slabs = slabs;
            if (!(slabs[set->nslabs] = malloc((size_t)SLAB_BLOCKS * BLOCK_BYTES)))
                return MTS_IN_ENOMEM;
            set->nslabs++;
            set->bytes += (size_t)SLAB_BLOCKS * BLOCK_BYTES + sizeof *slabs;
        }
        b = set->used_blocks++;
    }
    memset(block_at(set, b), 0, BLOCK_BYTES);
    *out = b;
    return 0;
}

static void release_block(struct mts_dedupe *set, uint32_t b)
{
    memcpy(block_at(set, b), &set->free_block, sizeof set->free_block);
    set->free_block = b;
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

/* Returns the slot number holding rest, or the empty slot where it belongs. */
static uint32_t find(const struct mts_dedupe *set, const struct part *part, uint64_t rest)
{
    uint32_t nslots = part->nblocks << BLOCK_SHIFT;
    /* Multiply-shift maps the low 32 bits onto 0..nslots-1 without a power-of-two size. */
    uint32_t i = (uint32_t)(((rest & 0xffffffffu) * nslots) >> 32);
    for (;;) {
        uint64_t v = load_slot(slot_at(set, part, i));
        if (v == 0 || v == rest)
            return i;
        if (++i == nslots)
            i = 0;
    }
}

/* Moves the part to 1/5 more blocks (at least one more) and gives the old ones back. */
static int grow(struct mts_dedupe *set, struct part *part)
{
    struct part fresh = {.nblocks = part->nblocks + (part->nblocks / 5 ? part->nblocks / 5 : 1),
                         .count = part->count};
    if (!(fresh.blocks = malloc(fresh.nblocks * sizeof *fresh.blocks)))
        return MTS_IN_ENOMEM;
    for (uint32_t k = 0; k < fresh.nblocks; k++) {
        int rc = take_block(set, &fresh.blocks[k]);
        if (rc) {
            while (k > 0)
                release_block(set, fresh.blocks[--k]);
            free(fresh.blocks);
            return rc;
        }
    }
    for (uint32_t i = 0; i < part->nblocks << BLOCK_SHIFT; i++) {
        uint64_t v = load_slot(slot_at(set, part, i));
        if (v)
            store_slot(slot_at(set, &fresh, find(set, &fresh, v)), v);
    }
    for (uint32_t k = 0; k < part->nblocks; k++)
        release_block(set, part->blocks[k]);
    free(part->blocks);
    set->bytes += ((size_t)fresh.nblocks - part->nblocks) * sizeof *fresh.blocks;
    *part = fresh;
    return 0;
}

int mts_dedupe_add(struct mts_dedupe *set, const char *name, size_t len)
{
    uint64_t h = mts_siphash24(dedupe_key, name, len);
    struct part *part = &set->parts[h >> REST_BITS];
    uint64_t rest = h & ((UINT64_C(1) << REST_BITS) - 1);
    if (rest == 0)
        rest = 1;
    if (part->nblocks && load_slot(slot_at(set, part, find(set, part, rest))) == rest)
        return 0;
    if (((uint64_t)part->count + 1) * 10 > ((uint64_t)part->nblocks << BLOCK_SHIFT) * 9) {
        int rc = grow(set, part);
        if (rc)
            return rc;
    }
    store_slot(slot_at(set, part, find(set, part, rest)), rest);
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
    return set->bytes;
}
