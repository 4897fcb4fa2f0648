/*
 * The input stream the scanner pulls domain names from, one at a time: several files
 * (plain or gzip, "-" for stdin), plain lists and "rank,domain" CSV, normalised,
 * validated, shard-selected, filtered by the opt-out list and de-duplicated. Nothing here
 * prints except mts_input_dry_run(), which prints to the streams it is given.
 * Design and rules: docs/inputs.md.
 */
#ifndef MTS_INPUT_H
#define MTS_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mts_name.h"

/* Error codes of the whole inputs module (0 is success). */
enum {
    MTS_IN_ENOMEM = -1,    /* out of memory */
    MTS_IN_EOPEN = -2,     /* an input file could not be opened */
    MTS_IN_EREAD = -3,     /* read error, or a corrupt or truncated gzip stream */
    MTS_IN_EREJECTED = -4, /* strict mode: a line was rejected */
    MTS_IN_EINVAL = -5,    /* invalid argument (options, shard spec) */
    MTS_IN_ESYNTAX = -6,   /* a bad line in an opt-out list */
    MTS_IN_EWRITE = -7,    /* mts_input_dry_run could not write the names */
};

/* A static description of an MTS_IN_E* code. */
const char *mts_input_strerror(int err);

struct mts_exclude;

struct mts_input_opts {
    const char *const *paths; /* npaths >= 1 file names, "-" is stdin; borrowed until free */
    size_t npaths;
    bool strict;                       /* the first rejected line is fatal */
    unsigned shard_k, shard_n;         /* keep shard K of N (0-based); N = 0 means 1 */
    const struct mts_exclude *exclude; /* opt-out list or NULL; borrowed until free */
    /* Called for each rejected line (not in strict mode) with "file:line: reason: \"text\"";
     * the message is borrowed for the call. May be NULL. */
    void (*on_reject)(void *ctx, const char *message);
    void *on_reject_ctx;
};

struct mts_input_stats {
    uint64_t lines;                      /* non-blank, non-comment, non-header lines read */
    uint64_t accepted;                   /* names returned by mts_input_next */
    uint64_t duplicates;                 /* valid, in shard, not excluded, seen before */
    uint64_t excluded;                   /* valid, in shard, matched by the opt-out list */
    uint64_t out_of_shard;               /* valid, belonging to another shard */
    uint64_t rejected;                   /* invalid lines, the sum of rejected_by */
    uint64_t rejected_by[MTS_REJ_COUNT]; /* by enum mts_reject */
    size_t dedupe_bytes;                 /* memory of the de-duplication table */
};

struct mts_input;

/*
 * Checks the options, opens the first file and checks that the others are readable.
 * Returns 0 and a stream in *out (free with mts_input_free), or MTS_IN_EINVAL, MTS_IN_EOPEN
 * (with *out set to NULL; no stream is kept), MTS_IN_ENOMEM. On MTS_IN_EOPEN and
 * MTS_IN_EINVAL, when msg is not NULL, a message of at most msglen bytes is written to it.
 */
int mts_input_open(struct mts_input **out, const struct mts_input_opts *opts, char *msg,
                   size_t msglen);

/*
 * The next accepted name: returns 1 and sets *name (normalised, NUL-terminated, borrowed
 * until the next call or mts_input_free), 0 at the end of the last file, or a negative code
 * (MTS_IN_EREJECTED, MTS_IN_EOPEN, MTS_IN_EREAD, MTS_IN_ENOMEM) with the reason in
 * mts_input_message(). Errors are sticky: every later call returns the same code.
 */
int mts_input_next(struct mts_input *in, const char **name);

/* The last rejection or error message ("file:line: reason: \"text\""), "" if none; borrowed
 * until the next call on the stream. */
const char *mts_input_message(const struct mts_input *in);

/* Copies the counters so far into *st. */
void mts_input_get_stats(const struct mts_input *in, struct mts_input_stats *st);

/*
 * SHA-256 of the names accepted so far, each followed by '\n', as 64 lower-case hex digits
 * and a NUL in hex. Can be called at any time. Returns 0 or MTS_IN_ENOMEM.
 */
int mts_input_digest(const struct mts_input *in, char hex[65]);

void mts_input_free(struct mts_input *in);

/*
 * Reads the whole input: each accepted name and '\n' to out; each rejection message to err,
 * then the summary of docs/inputs.md. Returns 0, or the negative code (MTS_IN_EWRITE when
 * out fails, or any code of mts_input_open/mts_input_next) after printing
 * "inputs: error: <message>" to err. opts->on_reject is ignored.
 */
int mts_input_dry_run(const struct mts_input_opts *opts, FILE *out, FILE *err);

#endif
