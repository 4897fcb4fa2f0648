/*
 * An ordered work pool: the items of a batch are prepared on several threads and handed
 * on one at a time in index order, each by the thread that prepared it (docs/analyze.md,
 * "Threads"). The pool knows nothing of records: the caller's two functions do the work.
 */
#ifndef MTS_WORKPOOL_H
#define MTS_WORKPOOL_H

#include <stddef.h>

#define MTS_WORKPOOL_MAX_THREADS 64

struct mts_workpool_ops {
    /* Prepare item i of the current batch on thread self (0: the caller's, 1..: the
       workers); runs on any thread, beside other prepares. */
    void (*prepare)(void *ctx, unsigned self, size_t i);
    /* Hand item i on and release it, on the thread that prepared it, after every item
       before it; rc is the walk's value so far (non-zero: only release). Returns the new
       value. Never beside another hand-over. */
    int (*hand_on)(void *ctx, size_t i, int rc);
    void *ctx;
};

struct mts_workpool; /* opaque */

/*
 * Start a pool of threads threads, the caller's included (1..MTS_WORKPOOL_MAX_THREADS;
 * should a worker fail to start, fewer do the work). ops is copied. Returns 0 or -ENOMEM.
 */
int mts_workpool_start(struct mts_workpool **out, unsigned threads,
                       const struct mts_workpool_ops *ops);

/*
 * Run one batch of n items on the pool, the calling thread taking part; returns when
 * every item has been handed on, with the first non-zero value of the hand-overs (in item
 * order; the value carries over from batch to batch), or -ENOMEM.
 */
int mts_workpool_run(struct mts_workpool *p, size_t n);

/* Stop and join the workers and free the pool; safe on NULL. */
void mts_workpool_stop(struct mts_workpool *p);

/* Online processors, 1..MTS_WORKPOOL_MAX_THREADS: the default number of threads. */
unsigned mts_workpool_online_cpus(void);

#endif
