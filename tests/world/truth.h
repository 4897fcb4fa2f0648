/*
 * Ground truth: what a correct scanner observes and a correct analysis concludes, per domain,
 * as JSON Lines (schema in docs/world.md), and the plain domain list for the scanner.
 */
#ifndef MTS_WORLD_TRUTH_H
#define MTS_WORLD_TRUTH_H

#include "model.h"

#include <stdio.h>

/* One JSON object per domain, in index order, each followed by "\n". Streams: memory does not
 * depend on the number of domains. 0 or -WORLD_E_IO / -WORLD_E_NOMEM. */
int world_truth_write(const struct world *w, FILE *out);

/* One domain name per line, in index order. 0 or -WORLD_E_IO. */
int world_list_write(const struct world *w, FILE *out);

#endif
