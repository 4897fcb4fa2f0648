/*
 * Report renderers: each draws the same report object (mts_agg_report) in one format.
 * All return 0 or -EIO when writing to out fails; out and report are borrowed.
 */
#ifndef MTS_REPORT_H
#define MTS_REPORT_H

#include <stdio.h>

#include <jansson.h>

int mts_report_text(const json_t *report, FILE *out);
int mts_report_markdown(const json_t *report, FILE *out);
int mts_report_json(const json_t *report, FILE *out);
int mts_report_html(const json_t *report, FILE *out);

#endif
