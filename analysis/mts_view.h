/*
 * The per-domain view: a classification (mts_classify.h) as the commands that print one
 * read it (export, explain, disclose, diff; docs/analyze.md, "Per-domain view"), and the
 * few facts derived from a classification that the view and the aggregation share. The
 * aggregation reads the classification itself, not this JSON.
 */
#ifndef MTS_VIEW_H
#define MTS_VIEW_H

#include <stdbool.h>

#include <jansson.h>

#include "mts_classify.h"

/* The adoption funnel's stages after "scanned", in order (the view's "funnel" keys). */
enum { MTS_VIEW_FUNNEL = 9 };
extern const char *const mts_view_funnel_keys[MTS_VIEW_FUNNEL];

/* reached[k]: every funnel stage up to k is "yes" (struct mts_funnel), so each stage is a
   subset of the one before. */
void mts_view_funnel(const struct mts_classification *c, bool reached[MTS_VIEW_FUNNEL]);

/* "valid", "invalid", "multiple", "absent" or "indeterminate" for the TLS-RPT record
   (static storage). */
const char *mts_view_tlsrpt(const struct mts_classification *c);

/*
 * DANE beside MTA-STS, from the raw record (only when the scan asked for TLSA): "all-mx"
 * when every MX host has an authenticated (AD) TLSA answer, "some-mx", "none", or
 * "indeterminate" on a DNS failure; NULL when TLSA was not scanned (static storage).
 */
const char *mts_view_dane(const json_t *raw);

/* The view of classification c of raw record raw (both borrowed). New reference, NULL on
   ENOMEM. */
json_t *mts_view_json(const struct mts_classification *c, const json_t *raw);

#endif
