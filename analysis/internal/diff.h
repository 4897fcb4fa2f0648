/*
 * The re-check after disclosure: two scans compared domain by domain (only domains present
 * in both), per category fixed / still broken / broke anew (and not re-checked), and the changes of
 * verdict, mode, record id and policy body.
 */
#ifndef MTS_DIFF_H
#define MTS_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

struct mts_diff; /* opaque */

/* A new comparison into *out (mts_diff_free). With keep_lists the domain names behind each
 * number are kept (memory grows with the changed domains). Without not_rechecked the
 * category rows have no not_rechecked count (a diff of the re-checked domains only, which
 * never classifies the others). Returns 0 or -ENOMEM. */
int mts_diff_new(struct mts_diff **out, bool keep_lists, bool not_rechecked);
void mts_diff_free(struct mts_diff *d);

/* Compare one domain present in both scans (views borrowed). Returns 0 or -ENOMEM. */
int mts_diff_add(struct mts_diff *d, const char *domain, const json_t *old_cls,
                 const json_t *new_cls);

/* Count a domain of the old scan that the new one did not re-check (a partial re-check):
 * per category of its old view (borrowed), apart from fixed / still / new. 0 or -ENOMEM. */
int mts_diff_not_rechecked(struct mts_diff *d, const char *domain, const json_t *old_cls);

/* Count domains present only in the old (in_old) or only in the new scan. */
void mts_diff_only(struct mts_diff *d, bool in_old, unsigned long long n);

/* The comparison as JSON (docs/analyze.md, "diff"); new reference, NULL on ENOMEM. */
json_t *mts_diff_json(const struct mts_diff *d, const char *old_scan, const char *new_scan);

/* The comparison as text, with the domain lists when the JSON holds them. 0 or -EIO. */
int mts_diff_text(const json_t *diff, FILE *out);

#endif
