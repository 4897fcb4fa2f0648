/*
 * The result vocabulary of the analysis (docs/vocabulary.md): the overall verdicts, the
 * category table (name, effect, fix), the names a user may give mtasts-analyze, and the
 * closest known name to a misspelt one.
 */
#ifndef MTS_VOCABULARY_H
#define MTS_VOCABULARY_H

#include <stdbool.h>
#include <stddef.h>

#include "mts_classify.h" /* enum mts_effect */

struct mts_category {
    const char *name; /* type/detail */
    enum mts_effect effect;
    const char *fix; /* one sentence for the operator; NULL when there is nothing to fix */
};

/* Every category: those a classification can hold, then the diff-only change/ ones. */
extern const struct mts_category mts_categories[];
extern const size_t mts_n_categories;

/* The sentence explaining an effect given by its name ("off: senders treat ..."); that of
   info for a name that is none. Static storage. */
const char *mts_effect_meaning(const char *name);

/* The row of a category, or NULL for a name not in the table. */
const struct mts_category *mts_category_find(const char *name);

extern const char *const mts_verdict_names[];
extern const size_t mts_n_verdict_names;
/* The names of the categories a classification can hold (without the change/ ones). */
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
