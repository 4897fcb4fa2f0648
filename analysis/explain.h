/*
 * `explain DOMAIN`: one domain in plain words for its operator: what was observed, what is
 * wrong, the effect of each problem and how to fix it.
 */
#ifndef MTS_EXPLAIN_H
#define MTS_EXPLAIN_H

#include <stdio.h>

#include <jansson.h>

/* The fix sentence for a category (the category table, vocabulary.c), or NULL when none
 * is needed. Static storage. */
const char *mts_explain_fix(const char *category);

/* Write the explanation of one domain (export object of mts_export_domain, borrowed).
 * Returns 0 or -EIO. */
int mts_explain(const json_t *exp, FILE *out);

#endif
