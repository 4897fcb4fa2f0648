/*
 * Aggregation of one scan into the report: counters and bounded tables fed one classified
 * domain at a time, then rendered as one JSON object that every report format (text,
 * Markdown, JSON, HTML) is drawn from. Memory does not depend on the number of domains:
 * the provider tables grow with distinct providers only, up to MTS_AGG_PROVIDER_CAP each.
 */
#ifndef MTS_AGGREGATE_H
#define MTS_AGGREGATE_H

#include <jansson.h>

#include "mts_classify.h"

#define MTS_AGG_PROVIDER_CAP 200000 /* distinct registrable domains kept per provider table */
#define MTS_AGG_TOP          20     /* providers listed in the report */
#define MTS_AGG_EXAMPLES     10     /* example names of the would-bounce set */
#define MTS_AGG_CATEGORY_CAP 512    /* distinct categories kept; more are counted as dropped */

struct mts_agg; /* opaque */

/* A new, empty aggregate into *out (mts_agg_free). Returns 0, -ENOMEM, or -ENOENT when no
 * public suffix list could be loaded. */
int mts_agg_new(struct mts_agg **out);
void mts_agg_free(struct mts_agg *agg);

/* Count one domain (raw record and classification, both borrowed): the classification is
 * read as it is, not through its JSON view. Returns 0 or -ENOMEM. */
int mts_agg_add(struct mts_agg *agg, const char *domain, const json_t *raw,
                const struct mts_classification *cls);

/*
 * The report as JSON (new reference, NULL on ENOMEM). scan and stores describe the input.
 * Layout: docs/analyze.md, "report --format json".
 */
json_t *mts_agg_report(const struct mts_agg *agg, const char *scan, size_t stores);

#endif
