/*
 * Exports of the store for other tools. The raw JSON Lines export writes one object per
 * domain of a scan: the stored domain record, with the MX probe records and policy bodies
 * it references inlined, so a line is self-contained.
 */
#ifndef MTS_EXPORT_H
#define MTS_EXPORT_H

#include <stdio.h>

#include "mts_store.h"

/*
 * Write every domain of scan to out, one compact JSON object per line, in key order.
 * For each mx[].probes[] element with an "addr", the probe record stored for (mx[].host,
 * addr) is added as "probe". For "policy"."body" and "policy"."unauthenticated"."body" with
 * a "sha256" (64 hex digits), the stored body is added as "text" when it is UTF-8 without
 * NUL, otherwise as "hex" (record-schema.md's convention for bytes). Absent fields,
 * records and bodies are skipped silently. store and out are borrowed.
 * Returns 0, -EIO (writing to out failed), -ENOMEM, or a store error.
 */
int mts_export_raw_jsonl(struct mts_store *store, const char *scan, FILE *out);

#endif
