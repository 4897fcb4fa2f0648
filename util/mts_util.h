/*
 * Why: a few helpers that several rooms need and that must behave the same in each: bytes
 * spelled in hex one way in every record, one monotonic clock, one string hash. This is the
 * lowest floor of the house: it needs libc alone and knows nothing of DNS, HTTP or records.
 */
#ifndef MTS_UTIL_H
#define MTS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes the 2 * len lower-case hex digits of data to out and returns out + 2 * len (no NUL
 * is written): every record and digest spells bytes in the same case.
 */
char *mts_hex_encode(char *out, const void *data, size_t len);

/* The value of the hex digit c (either case), or -1: every reader of hex agrees on digits. */
int mts_hex_value(int c);

/* Milliseconds on CLOCK_MONOTONIC: deadlines and durations that a wall-clock step cannot bend. */
double mts_now_ms(void);

/* The FNV-1a offset basis: where a hash with mts_fnv1a starts. */
#define MTS_FNV1A_BASIS 14695981039346656037ULL

/*
 * 64-bit FNV-1a of len bytes, continued from h (MTS_FNV1A_BASIS for a fresh hash): cheap
 * and good enough to spread in-memory keys over buckets; not for anything an attacker
 * must not predict.
 */
uint64_t mts_fnv1a(uint64_t h, const void *data, size_t len);

#endif
