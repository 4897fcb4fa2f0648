/*
 * Per-domain exports of the analysis (docs/export-schema.md): one JSON object per domain
 * (JSON Lines) or one CSV row per domain, observations and verdicts side by side.
 */
#ifndef MTS_AN_EXPORT_H
#define MTS_AN_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* The export object of one domain (raw record and per-domain view borrowed); new
 * reference, NULL on ENOMEM. */
json_t *mts_export_domain(const char *scan, const char *domain, const json_t *raw,
                          const json_t *cls);

/* Write the CSV header line. Returns 0 or -EIO. */
int mts_export_csv_header(FILE *out);

/* Write one export object (from mts_export_domain) as a JSON line or a CSV row. Returns 0,
 * -ENOMEM or -EIO. */
int mts_export_jsonl_row(const json_t *obj, FILE *out);
int mts_export_csv_row(const json_t *obj, FILE *out);

/* One CSV field (RFC 4180 quoting), preceded by a comma unless first; a text cell that a
 * spreadsheet could run as a formula is neutralised with a leading '. s may be NULL
 * (empty field). */
void mts_export_csv_field(FILE *out, const char *s, bool text, bool first);

#endif
