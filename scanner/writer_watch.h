/*
 * The store's writer started with back-pressure the event loop can wait for without
 * blocking: past backlog uncommitted records mts_writer_behind() turns true, and when the
 * writer has drained to a quarter of it, its thread wakes the loop through an eventfd and
 * on_drained runs on the loop. Used by the one-stage scan and by stage 2 alike.
 */
#ifndef MTS_WRITER_WATCH_H
#define MTS_WRITER_WATCH_H

#include <stddef.h>

#include <event2/event.h>

#include "mts_store.h"
#include "mts_writer.h"

struct mts_writer_watch;

struct mts_writer_watch_opts {
    size_t backlog;                  /* --writer-backlog */
    void (*on_drained)(void *arg);   /* on the loop thread: admit work again */
    void *arg;                       /* borrowed */
    mts_writer_commit_cb *on_commit; /* optional, on the writer thread */
    void *on_commit_arg;             /* borrowed */
};

/*
 * Starts a writer on store (borrowed) watched on base (borrowed). Returns 0 with *out set,
 * or an error with a sentence in err; *out is then NULL or a watch to stop all the same.
 */
int mts_writer_watch_start(struct mts_writer_watch **out, struct event_base *base,
                           struct mts_store *store, const struct mts_writer_watch_opts *o,
                           char *err, size_t errlen);

/* The writer, owned by the watch; NULL when it did not start. */
struct mts_writer *mts_writer_watch_writer(const struct mts_writer_watch *w);

/* Stops the writer (committing what it holds), then the watch; w may be NULL. Returns the
   writer's mts_writer_stop code (0 without a writer). */
int mts_writer_watch_stop(struct mts_writer_watch *w);

#endif
