/*
 * MX host against policy mx patterns, as a sending MTA matches them (RFC 8461 §4.1).
 * Rules: docs/validation.md, section 3. No allocation.
 */
#ifndef MTS_MX_MATCH_H
#define MTS_MX_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether host matches pattern: ASCII case-insensitive, one trailing dot ignored on
 * either side, "*.suffix" matching exactly one extra left-most label. NUL-terminated
 * strings; NULL never matches.
 */
bool mts_mx_match(const char *host, const char *pattern);

/* Index of the first of patterns[0..n) that host matches, or -1. */
long mts_mx_match_any(const char *host, char *const *patterns, size_t n);

#endif
