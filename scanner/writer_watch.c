/*
 * Why: the loop must never wait for the disk, yet must stop admitting work while the
 * writer is behind and resume when it has caught up. The writer runs on its own thread, so
 * its "drained" signal crosses to the loop through an eventfd; both scan stages need it.
 */
#include "writer_watch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct mts_writer_watch {
    struct mts_writer *writer; /* owned */
    int fd;                    /* eventfd the writer thread writes to, owned */
    struct event *ev;          /* owned */
    void (*on_drained)(void *arg);
    void *arg;
};

/* Writer thread: wakes the loop. */
static void on_writer_thread_drained(void *arg)
{
    struct mts_writer_watch *w = arg;
    uint64_t one = 1;
    /* Cannot fail: one wake per drain never overflows the eventfd's counter. */
    ssize_t n = write(w->fd, &one, sizeof one);
    (void)n;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct mts_writer_watch *w = arg;
    uint64_t n;
    (void)what;
    if (read(fd, &n, sizeof n) == sizeof n)
        w->on_drained(w->arg);
}

int mts_writer_watch_start(struct mts_writer_watch **out, struct event_base *base,
                           struct mts_store *store, const struct mts_writer_watch_opts *o,
                           char *err, size_t errlen)
{
    struct mts_writer_watch *w = calloc(1, sizeof *w);
    *out = w;
    if (!w) {
        snprintf(err, errlen, "cannot watch the store writer: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    w->on_drained = o->on_drained;
    w->arg = o->arg;
    w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->ev = w->fd < 0 ? NULL : event_new(base, w->fd, EV_READ | EV_PERSIST, on_wake, w);
    if (!w->ev || event_add(w->ev, NULL) < 0) {
        snprintf(err, errlen, "cannot watch the store writer: %s", strerror(errno));
        return -EIO;
    }
    /* Never blocks in put: admission stops at the backlog instead, so the queue holds at
       most that plus the records of the work in flight. */
    struct mts_writer_opts wo = {.on_commit = o->on_commit,
                                 .on_commit_arg = o->on_commit_arg,
                                 .queue_max = SIZE_MAX,
                                 .high_mark = o->backlog,
                                 .low_mark = o->backlog / 4,
                                 .on_drained = on_writer_thread_drained,
                                 .on_drained_arg = w};
    int rc = mts_writer_start(&w->writer, store, &wo);
    if (rc != 0) {
        w->writer = NULL;
        snprintf(err, errlen, "cannot start the store writer: %s", mts_store_strerror(rc));
    }
    return rc;
}

struct mts_writer *mts_writer_watch_writer(const struct mts_writer_watch *w)
{
    return w ? w->writer : NULL;
}

int mts_writer_watch_stop(struct mts_writer_watch *w)
{
    if (!w)
        return 0;
    /* The writer first: its thread may still write to the eventfd until it has stopped. */
    int rc = w->writer ? mts_writer_stop(w->writer) : 0;
    if (w->ev)
        event_free(w->ev);
    if (w->fd >= 0)
        close(w->fd);
    free(w);
    return rc;
}
