/*
 * The "_mta-sts" TXT record (RFC 8461 §3.1): from the TXT RRset to "is there exactly one
 * valid record, and what is its id". Rules and codes: docs/validation.md, section 1.
 */
#ifndef MTS_STS_RECORD_H
#define MTS_STS_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "mts_findings.h"
#include "mts_txt.h"

struct mts_sts_record {
    size_t records; /* how many records begin with "v=STSv1" */
    bool valid;     /* exactly one, and it has no error finding */
    char *id;       /* the first id field's value as written (owned), NULL if none */
    bool id_valid;  /* id is 1*32(ALPHA / DIGIT) */
    struct mts_findings findings;
};

/*
 * Judge a TXT RRset (records[0..n), each a list of character-strings). *out is
 * overwritten; release it with mts_sts_record_free, also after an error.
 * Returns 0 (the verdict is in *out) or -ENOMEM.
 */
int mts_sts_record_parse(struct mts_sts_record *out, const struct mts_txt_record *records,
                         size_t n);

/*
 * Judge one record given as its concatenated text (len bytes, any bytes), as if it were
 * the only record in the RRset that begins with "v=STSv1". A text not beginning with
 * "v=STSv1" gives records = 0. Same return and ownership as mts_sts_record_parse.
 */
int mts_sts_record_parse_text(struct mts_sts_record *out, const char *text, size_t len);

/*
 * {"records": N, "valid": bool, "id": "..."?, "findings": [...]}. New reference, NULL on
 * ENOMEM.
 */
json_t *mts_sts_record_json(const struct mts_sts_record *rec);

/* Free what *rec owns and zero it; safe on a zeroed struct. */
void mts_sts_record_free(struct mts_sts_record *rec);

#endif
