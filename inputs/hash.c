/*
 * Why: shards and de-duplication must give the same answer on every machine and every run,
 * so both use SipHash-2-4 (a keyed hash defined on bytes, little endian by definition) under
 * fixed, published keys, one per purpose so that the shard of a name says nothing about its
 * slot in the de-duplication table. This file holds SipHash and the shard assignment.
 */
#include "mts_hash.h"
#include "mts_input.h"

#include <stdlib.h>
#include <string.h>

/* The shard key is a contract (docs/inputs.md): changing it reshuffles every shard. */
static const uint8_t shard_key[16] = {'m', 't', 's', '-', 's', 'h', 'a', 'r',
                                      'd', '-', 'k', 'e', 'y', '-', 'v', '1'};

static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

uint64_t mts_siphash24(const uint8_t key[16], const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    size_t whole = len - len % 8;

    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < len % 8; i++)
        b |= (uint64_t)p[whole + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static int parse_uint(const char *s, const char *end, unsigned long *out)
{
    unsigned long v = 0;
    if (s == end || end - s > 7)
        return -1;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    *out = v;
    return 0;
}

int mts_shard_parse(const char *spec, unsigned *k, unsigned *n)
{
    const char *slash = spec ? strchr(spec, '/') : NULL;
    unsigned long kk, nn;
    if (!slash || parse_uint(spec, slash, &kk) || parse_uint(slash + 1, strchr(slash, 0), &nn))
        return MTS_IN_EINVAL;
    if (nn == 0 || nn > MTS_SHARD_MAX || kk >= nn)
        return MTS_IN_EINVAL;
    *k = (unsigned)kk;
    *n = (unsigned)nn;
    return 0;
}

unsigned mts_shard_of(const char *name, size_t len, unsigned n)
{
    return (unsigned)(mts_siphash24(shard_key, name, len) % n);
}
