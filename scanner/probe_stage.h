/*
 * Stage 2 of a two-stage scan (docs/sharding.md): reads the domain records of a scan from
 * its stage-1 stores, collects the distinct (MX host, address) pairs they list as to be
 * probed whose address falls in this run's --shard, probes each once and stores the probe
 * records under the same scan id in its own store.
 */
#ifndef MTS_PROBE_STAGE_H
#define MTS_PROBE_STAGE_H

#include <stddef.h>

#include "scan_config.h"

/* The shard (0..n-1) of an address as a record writes it; n >= 1. */
unsigned mts_probe_stage_shard_of(const char *addr, unsigned n);

/*
 * Runs stage 2 as cfg says (cfg->probe_from, cfg->scan_id, cfg->db, cfg->shard_k/n and the
 * SMTP options). Returns 0 when it ended cleanly (complete, or interrupted by
 * SIGINT/SIGTERM), or a negative code with a sentence in err.
 */
int mts_probe_stage_run(const struct mts_scan_config *cfg, char *err, size_t errlen);

#endif
