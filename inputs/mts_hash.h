/*
 * Hashing for the input stream: SipHash-2-4, the stable shard assignment (--shard K/N) and
 * the de-duplication set of 64-bit name hashes. See docs/inputs.md for the contracts.
 */
#ifndef MTS_HASH_H
#define MTS_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The largest N accepted by mts_shard_parse(). */
#define MTS_SHARD_MAX 65536u

/* SipHash-2-4 of len bytes under a 16-byte key; the same value on every machine. */
uint64_t mts_siphash24(const uint8_t key[16], const void *data, size_t len);

/*
 * Parses "K/N" (decimal, 0-based: 0 <= K < N <= MTS_SHARD_MAX, nothing else on the line).
 * Returns 0 and sets *k, *n, or MTS_IN_EINVAL leaving them untouched.
 */
int mts_shard_parse(const char *spec, unsigned *k, unsigned *n);

/* The shard (0..n-1) of a normalised name of len bytes; n must be >= 1. */
unsigned mts_shard_of(const char *name, size_t len, unsigned n);

/* A set of names kept as 64-bit hashes (first occurrence wins). Opaque. */
struct mts_dedupe;

/* Returns 0 and a new empty set in *out (free with mts_dedupe_free), or MTS_IN_ENOMEM. */
int mts_dedupe_new(struct mts_dedupe **out);
void mts_dedupe_free(struct mts_dedupe *set);
/* Returns 1 when the name was not in the set (it is now), 0 when it was, or MTS_IN_ENOMEM. */
int mts_dedupe_add(struct mts_dedupe *set, const char *name, size_t len);
/* Distinct names added so far. */
size_t mts_dedupe_count(const struct mts_dedupe *set);
/* Bytes held by the set: its fixed 1 MiB of table headers, the block pool and lists. */
size_t mts_dedupe_bytes(const struct mts_dedupe *set);

#endif
