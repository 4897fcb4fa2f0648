/*
 * `disclose --category C`: one entry per domain holding a selected category, for the
 * operators to be told: what was observed, the effect and the fix of each selected
 * category, and the contact candidates the record gives. CSV for the campaign's
 * spreadsheet, text ready to send (docs/analyze.md, "disclose").
 */
#ifndef MTS_DISCLOSE_H
#define MTS_DISCLOSE_H

#include <stdio.h>

#include <jansson.h>

/* Write the CSV header line. Returns 0 or -EIO. */
int mts_disclose_csv_header(FILE *out);

/* One domain's entry (export object of mts_export_domain, borrowed), covering the
 * categories that selector picks (mts_category_selects). Returns 0, -ENOMEM or -EIO. */
int mts_disclose_csv_row(const json_t *exp, const char *selector, FILE *out);
int mts_disclose_text(const json_t *exp, const char *selector, FILE *out);

#endif
