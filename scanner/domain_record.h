/*
 * The domain record (docs/record-schema.md) a finished job commits: written as JSON text
 * around the observations the job kept, in the key order the schema gives.
 */
#ifndef MTS_DOMAIN_RECORD_H
#define MTS_DOMAIN_RECORD_H

#include <stddef.h>

#include "job.h"

/* Now as a record writes times: seconds since the epoch, rounded to the millisecond. */
double mts_record_now(void);

/* The record of job under scan_id, ended now, as JSON text (caller frees; *len without the
   NUL); NULL on ENOMEM. */
char *mts_domain_record(const struct job *job, const char *scan_id, size_t *len);

#endif
