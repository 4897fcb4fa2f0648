/*
 * The TLS-RPT record at "_smtp._tls.<domain>" (RFC 8460 §3): from the TXT RRset to "is
 * there exactly one valid record, and where do reports go". Rules and codes:
 * docs/validation.md, section 5.
 */
#ifndef MTS_TLSRPT_H
#define MTS_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mts_findings.h"
#include "mts_txt.h"

struct mts_tlsrpt {
    size_t records; /* how many records begin with "v=TLSRPTv1" */
    bool valid;     /* exactly one, and it has no error finding */
    char **rua;     /* the URIs of the first rua field (owned), in order, without a size suffix */
    int64_t *rua_size_limit; /* per URI: its "!10m" size limit in bytes, or -1 (owned) */
    size_t n_rua;
    struct mts_findings findings;
};

/*
 * Judge a TXT RRset (records[0..n)). *out is overwritten; release it with
 * mts_tlsrpt_free, also after an error. Returns 0 (the verdict is in *out) or -ENOMEM.
 */
int mts_tlsrpt_parse(struct mts_tlsrpt *out, const struct mts_txt_record *records, size_t n);

/* Judge one record given as its concatenated text, as the only candidate. */
int mts_tlsrpt_parse_text(struct mts_tlsrpt *out, const char *text, size_t len);

/*
 * {"records": N, "valid": bool, "rua": [...], "findings": [...]}, plus "rua_size_limit"
 * (bytes or null per URI) when a URI has a size suffix; new reference or NULL.
 */
json_t *mts_tlsrpt_json(const struct mts_tlsrpt *rpt);

/* Free what *rpt owns and zero it; safe on a zeroed struct. */
void mts_tlsrpt_free(struct mts_tlsrpt *rpt);

#endif
