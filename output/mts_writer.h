/*
 * The batched writer: the event loop hands finished records to it, and its own thread
 * commits them in batches, so no fsync ever blocks the network. Design and durability
 * rules: docs/store.md.
 *
 * Records commit in submission order. All functions return 0 or a negative code (see
 * mts_store_strerror). put, flush and stats may be called from any thread.
 */
#ifndef MTS_WRITER_H
#define MTS_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mts_store.h"

/* Opaque writer handle. */
struct mts_writer;

/* What one commit made durable, passed to on_commit. */
struct mts_writer_commit {
    size_t records;         /* records in this commit (sum of the four below) */
    size_t scans;           /* scan metadata records in this commit */
    size_t domains;         /* domain records in this commit */
    size_t mxprobes;        /* MX probe records in this commit */
    size_t policies;        /* policy bodies in this commit (including ones already stored) */
    uint64_t total;         /* records committed since the writer started */
    uint64_t total_domains; /* domain records committed since the writer started */
    int err;                /* 0; or, in the one call made when the writer fails, the sticky error
                               (then the counts are 0) */
};

/*
 * Runs on the writer thread after each durable commit, and once when the writer fails,
 * before flush/stop callers waiting for that commit are woken.
 * info is borrowed for the call. It must be short and must not call mts_writer_put_*,
 * mts_writer_flush or mts_writer_stop.
 */
typedef void mts_writer_commit_cb(void *arg, const struct mts_writer_commit *info);

/*
 * Runs on the writer thread when the writer, found behind by mts_writer_behind(), has
 * drained to low_mark pending records (or has failed): the producer may admit work again.
 * Same rules as mts_writer_commit_cb.
 */
typedef void mts_writer_drained_cb(void *arg);

struct mts_writer_opts {
    size_t batch_max;                /* records per commit at most (0: 1000) */
    unsigned max_latency_ms;         /* commit a partial batch this long after its first record
                                        arrived (0: 200) */
    size_t queue_max;                /* uncommitted records before put blocks (0: 4 * batch_max;
                                        raised to batch_max if smaller) */
    mts_writer_commit_cb *on_commit; /* optional */
    void *on_commit_arg;             /* passed to on_commit, borrowed */
    /* Back-pressure without blocking: mts_writer_behind() turns true at high_mark pending
       records (0: queue_max) and false again at low_mark (0: high_mark / 4). */
    size_t high_mark, low_mark;
    mts_writer_drained_cb *on_drained; /* optional */
    void *on_drained_arg;              /* passed to on_drained, borrowed */
};

/*
 * For tests only: the environment variable MTS_WRITER_TEST_DELAY_MS=N, read by
 * mts_writer_start, makes the writer sleep N ms before every commit (a slow disk).
 */
#define MTS_WRITER_TEST_DELAY_ENV "MTS_WRITER_TEST_DELAY_MS"

/* Counters readable from any thread. */
struct mts_writer_stats {
    uint64_t submitted;   /* records accepted by put */
    uint64_t committed;   /* records durably committed */
    uint64_t pending;     /* submitted - committed (while no error) */
    uint64_t commits;     /* write transactions committed */
    uint64_t map_growths; /* times the map was doubled */
    int err;              /* the sticky error, or 0 */
};

/*
 * Start the writer thread of store (writable, at most one writer per store). opts may be
 * NULL for defaults; it is copied. store is borrowed and must outlive the writer.
 * On success *out is a new handle, freed by mts_writer_stop.
 * Returns 0, -EBUSY (the store already has a writer), -EROFS (read-only store), -ENOMEM,
 * or a pthread error negated.
 */
int mts_writer_start(struct mts_writer **out, struct mts_store *store,
                     const struct mts_writer_opts *opts);

/*
 * Queue a record. Every put takes ownership of rec (a reference the caller gives up) in all
 * cases, success or error; key strings are copied. Blocks while queue_max records are
 * uncommitted. Returns 0, MTS_STORE_ERECORD (rec is not an object with an integer "v"),
 * -EINVAL (empty or NULL key part), -ENAMETOOLONG (key longer than LMDB allows), -ENOMEM,
 * or the writer's sticky error.
 */
int mts_writer_put_scan(struct mts_writer *w, const char *scan, json_t *rec); /* upsert */
int mts_writer_put_domain(struct mts_writer *w, const char *scan, const char *domain, json_t *rec);
int mts_writer_put_mxprobe(struct mts_writer *w, const char *scan, const char *host,
                           const char *addr, json_t *rec);
/*
 * Queue a domain record given as JSON text (len bytes, malloc'd; ownership passes in all
 * cases): for a producer that writes its records as text. The text is not parsed or
 * checked here; it must be one JSON object with an integer "v". Same returns as above.
 */
int mts_writer_put_domain_text(struct mts_writer *w, const char *scan, const char *domain,
                               char *json, size_t len);

/*
 * Queue a policy body under its SHA-256 (32 raw bytes, computed by the caller and not
 * checked). body is copied. A body already stored is left as it is. Same returns as above
 * (no MTS_STORE_ERECORD).
 */
int mts_writer_put_policy(struct mts_writer *w, const unsigned char sha256[MTS_STORE_SHA256_LEN],
                          const void *body, size_t len);

/*
 * Block until every record submitted before the call is committed (the partial batch is
 * committed at once). Returns 0 or the sticky error.
 */
int mts_writer_flush(struct mts_writer *w);

/*
 * Whether the producer should stop admitting new work: true from the moment high_mark
 * records are pending until the writer drains to low_mark (then on_drained runs once).
 * False after the writer failed (the next put reports the error). Any thread.
 */
bool mts_writer_behind(struct mts_writer *w);

/* Fill *stats with a consistent snapshot of the counters. */
void mts_writer_stats(struct mts_writer *w, struct mts_writer_stats *stats);

/*
 * Commit everything queued, stop and join the thread, and free w. No other thread may use
 * w during or after the call. Returns 0 or the sticky error (committed records stay).
 */
int mts_writer_stop(struct mts_writer *w);

#endif
