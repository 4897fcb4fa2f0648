/*
 * The per-domain pipeline: reads names from the inputs, drives each domain through its
 * DNS, HTTPS and SMTP stages on one event loop, and commits every finished domain to the
 * store. Design: docs/pipeline.md.
 */
#ifndef MTS_PIPELINE_H
#define MTS_PIPELINE_H

#include <stddef.h>

#include "mts_exclude.h"
#include "scan_config.h"
#include "smtp_probe.h"

/*
 * Runs the scan cfg describes until the input is exhausted or a signal stops it. ex (may
 * be NULL) is borrowed. Returns 0 when the scan ended cleanly (complete or interrupted by
 * SIGINT/SIGTERM; what was committed stays committed), or a negative code with a sentence
 * in err.
 */
int mts_pipeline_run(const struct mts_scan_config *cfg, const struct mts_exclude *ex, char *err,
                     size_t errlen);

/* The SMTP prober's options for the scan c describes, its slots from limit (borrowed):
   one place for the stage deadlines, shared by the one-stage scan and stage 2. */
struct mts_smtp_opts mts_pipeline_smtp_opts(const struct mts_scan_config *c,
                                            struct mts_conn_limit *limit);

#endif
