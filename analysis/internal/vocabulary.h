/*
 * The names a user may give mtasts-analyze: the overall verdicts and the categories a
 * classification can hold (docs/vocabulary.md; the diff-only change/ names are not here),
 * and the closest known name to a misspelt one.
 */
#ifndef MTS_VOCABULARY_H
#define MTS_VOCABULARY_H

#include <stdbool.h>
#include <stddef.h>

extern const char *const mts_verdict_names[];
extern const size_t mts_n_verdict_names;
extern const char *const mts_category_names[];
extern const size_t mts_n_category_names;

/* Whether the selector sel picks the category code: code itself, its type
   ("sts-policy-invalid") or a prefix of it that ends at "/" ("sts-policy-invalid/"). */
bool mts_category_selects(const char *sel, const char *code);

/* Whether sel picks at least one known category (mts_category_selects). */
bool mts_category_selector_ok(const char *sel);

/* Whether name is one of names[0..n). */
bool mts_name_known(const char *name, const char *const *names, size_t n);

/* The name of names[0..n) that word is a prefix of, when only one is; else the nearest by
   edit distance when near enough to be a slip (at most 3 edits and a third of word);
   else NULL. */
const char *mts_name_closest(const char *word, const char *const *names, size_t n);

/* The category type, else the category name, nearest to word (mts_name_closest), or NULL. */
const char *mts_category_closest(const char *word);

#endif
