/*
 * The stores one mtasts-analyze run reads: one or more LMDB environments (shards of one
 * scan, or a scan and its re-check), the choice of scan, and the per-domain pipeline from
 * a raw record to the classifier's verdict. Everything above this (aggregation, reports,
 * diff, exports, explanations) sees a domain as its raw record and classification, and
 * the commands that print one also as its per-domain view (mts_view.h).
 */
#ifndef MTS_SCANSET_H
#define MTS_SCANSET_H

#include <stddef.h>

#include <jansson.h>

#include "mts_classify.h"
#include "mts_store.h"
#include "workpool.h"

/* Extra error codes (beside mts_store_strerror's). */
#define MTS_SCANSET_ESCAN   (-32101) /* no such scan, no scan at all, or an ambiguous choice */
#define MTS_SCANSET_ESHARDS (-32102) /* the stores' scan metadata disagree */

#define MTS_SCANSET_MAX_THREADS MTS_WORKPOOL_MAX_THREADS

/* The opened stores; zero-initialise, then mts_scanset_open. */
struct mts_scanset {
    struct mts_store **stores; /* owned */
    size_t n;
    unsigned threads; /* mts_scanset_foreach's threads; 0 (the default): one per online CPU */
};

/*
 * Open each of dirs[0..n) read-only. On error the already-opened ones are closed and *err
 * names the directory at fault (borrowed from dirs). Returns 0 or a store error.
 */
int mts_scanset_open(struct mts_scanset *set, char *const *dirs, size_t n, const char **err);

/* Close every store; safe on a zeroed set. */
void mts_scanset_close(struct mts_scanset *set);

/*
 * Choose the scan: want when non-NULL, else the only scan, or the one with the latest
 * t_start, of the first store. Every store must hold it; with several stores their "shard"
 * fields must be distinct and of the same N ("K/N"), and all N given. The stage-2 stores of
 * a two-stage scan ("stage": "probes", docs/sharding.md) form their own such group, which
 * must be given when the domain stores say stage 1 left the probes to it. *scan is a new
 * malloc'd string.
 * why (static or written into whybuf of whylen bytes) says what went wrong.
 * Returns 0, MTS_SCANSET_ESCAN, MTS_SCANSET_ESHARDS, -ENOMEM or a store error.
 */
int mts_scanset_select(const struct mts_scanset *set, const char *want, char **scan, char *whybuf,
                       size_t whylen);

/* One domain as a walk hands it over. */
struct mts_scanned {
    const char *domain;            /* the store's key */
    json_t *raw;                   /* the stored record; {"domain": ...} when it did not decode */
    struct mts_classification cls; /* the classifier's conclusions */
    json_t *view;                  /* the per-domain view (mts_view.h) with MTS_SCANSET_VIEWS,
                                      else NULL */
};

/* A walk's flags. */
#define MTS_SCANSET_VIEWS 0x1u /* build each domain's view, on the walk's threads */

/*
 * Visit one domain (borrowed for the call). Return 0 to go on, anything else to stop
 * (returned by the walk).
 */
typedef int mts_scanset_cb(void *arg, const struct mts_scanned *d);

/*
 * Classify every domain of scan in every store and visit them in key order, store after
 * store. Records are decoded and classified on set->threads threads, a batch of a few
 * hundred at a time (memory does not grow with the scan, workpool.h); the visitor runs one
 * domain at a time, on the thread that classified it. A record that does not decode, or
 * that the classifier cannot read, is visited with its analysis-error classification (raw
 * is then {"domain": ...} when it did not decode). flags: 0 or MTS_SCANSET_VIEWS.
 * Returns 0, the callback's value, -ENOMEM or a store read error.
 */
int mts_scanset_foreach(const struct mts_scanset *set, const char *scan, unsigned flags,
                        mts_scanset_cb *cb, void *arg);

/*
 * The same walk over scan, with each domain also fetched and classified from other_scan
 * in other (a re-check), on the walk's threads: the visitor gets that as other, NULL when
 * the domain is not in the other scan. Same flags and returns.
 */
typedef int mts_scanset_pair_cb(void *arg, const struct mts_scanned *d,
                                const struct mts_scanned *other);
int mts_scanset_foreach_pair(const struct mts_scanset *set, const char *scan,
                             const struct mts_scanset *other, const char *other_scan,
                             unsigned flags, mts_scanset_pair_cb *cb, void *arg);

/*
 * Fetch and classify one domain: *raw and *view (its per-domain view) are new references
 * (caller owns); a record that does not decode gets its analysis-error classification, as
 * in the walks.
 * Returns 0, MTS_STORE_NOTFOUND, -ENOMEM or a store read error.
 */
int mts_scanset_get(const struct mts_scanset *set, const char *scan, const char *domain,
                    json_t **raw, json_t **view);

/* Count the domains of scan over all stores. */
int mts_scanset_count(const struct mts_scanset *set, const char *scan, unsigned long long *n);

/* A message for a code of this module or of the store (static storage). */
const char *mts_scanset_strerror(int code);

#endif
