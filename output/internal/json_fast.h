/*
 * A fast path for reading the store's records into jansson trees. jansson's own reader
 * took three quarters of an analysis run (a lexer fed one byte at a time); this one scans
 * the buffer directly and builds the same tree through jansson's constructors. It takes
 * only plain input: ASCII text, the short escapes, numbers that fit. Anything else (\u
 * escapes, other bytes, deep nesting, any error) makes it give up, and the caller hands
 * the text to jansson, which decides. So it never accepts what jansson would refuse, and
 * where it accepts, the tree equals jansson's (tests/output/test_json_fast.c).
 */
#ifndef MTS_JSON_FAST_H
#define MTS_JSON_FAST_H

#include <stddef.h>

#include <jansson.h>

/* The object or array in buf[0..len) as a new tree, or NULL: give it to jansson. */
json_t *mts_json_fast_parse(const char *buf, size_t len);

/*
 * The same, without the object members named in drop (NULL-terminated, at most 32 names;
 * NULL drops none) at any depth: their values are checked by the same rules but nothing is built
 * for them. It gives up exactly where mts_json_fast_parse does, and where it does not, its tree is
 * that one after mts_json_prune.
 */
json_t *mts_json_fast_parse_pruned(const char *buf, size_t len, const char *const *drop);

/* Remove the object members named in drop from the tree v, at any depth. */
void mts_json_prune(json_t *v, const char *const *drop);

#endif
