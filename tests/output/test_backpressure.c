/*
 * The loop never waits for the disk: an event loop feeds a deliberately slow writer
 * (MTS_WRITER_TEST_DELAY_MS) the way the scanner does, admitting work only while
 * mts_writer_behind() is false and resuming on on_drained, and a periodic timer measures
 * how late it fires. A producer that ignores the back-pressure and blocks in put is the
 * control: its timer is late by about a commit, so the measurement can see lateness.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "check.h"
#include "mts_store.h"
#include "mts_util.h"
#include "mts_writer.h"
#include "util.h"

#define COMMIT_DELAY_MS "600"
#define TOTAL           500
#define BURST           10 /* records put per producer tick */
#define HIGH_MARK       100
#define TICK_MS         10

struct run {
    struct event_base *base;
    struct mts_writer *w;
    bool obey; /* check mts_writer_behind before each burst */
    int drained_fd;
    long put;
    double last_tick, max_late_ms;
    uint64_t max_pending;
    int behind_seen, drained_seen;
    struct event *producer;
};

static void on_drained(void *arg)
{
    struct run *r = arg;
    uint64_t one = 1;
    CHECK(write(r->drained_fd, &one, sizeof one) == sizeof one);
}

static void produce(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    (void)fd, (void)what;
    for (int i = 0; i < BURST && r->put < TOTAL; i++) {
        if (r->obey && mts_writer_behind(r->w)) {
            r->behind_seen++;
            event_del(r->producer); /* on_drained brings it back */
            return;
        }
        char domain[32];
        snprintf(domain, sizeof domain, "d%05ld.example", r->put);
        CHECK_INT(
            mts_writer_put_domain(r->w, "bp", domain, util_domain_record("bp", domain, r->put, 0)),
            0);
        r->put++;
    }
    struct mts_writer_stats st;
    mts_writer_stats(r->w, &st);
    if (st.pending > r->max_pending)
        r->max_pending = st.pending;
}

static void resume(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    uint64_t n;
    (void)what;
    if (read(fd, &n, sizeof n) == sizeof n) {
        r->drained_seen++;
        struct timeval every = {0, 1000};
        event_add(r->producer, &every);
    }
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    (void)fd, (void)what;
    double t = mts_now_ms();
    double late = t - r->last_tick - TICK_MS;
    if (r->last_tick > 0 && late > r->max_late_ms)
        r->max_late_ms = late;
    r->last_tick = t;
    struct mts_writer_stats st;
    mts_writer_stats(r->w, &st);
    if (r->put == TOTAL && st.committed == TOTAL)
        event_base_loopbreak(r->base);
}

/* Runs one producer to the end; returns the timer's worst lateness in ms. */
static double run_producer(const char *dir, bool obey, struct run *r)
{
    struct mts_store *s;
    CHECK_INT(mts_store_open(&s, dir, MTS_STORE_CREATE, 0), 0);
    memset(r, 0, sizeof *r);
    r->obey = obey;
    r->base = event_base_new();
    r->drained_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct mts_writer_opts o = {.batch_max = 50,
                                .max_latency_ms = 20,
                                .queue_max = obey ? SIZE_MAX : HIGH_MARK,
                                .high_mark = HIGH_MARK,
                                .low_mark = HIGH_MARK / 4,
                                .on_drained = on_drained,
                                .on_drained_arg = r};
    CHECK_INT(mts_writer_start(&r->w, s, &o), 0);
    struct event *t = event_new(r->base, -1, EV_PERSIST, tick, r);
    struct event *d = event_new(r->base, r->drained_fd, EV_READ | EV_PERSIST, resume, r);
    r->producer = event_new(r->base, -1, EV_PERSIST, produce, r);
    struct timeval every_tick = {0, TICK_MS * 1000}, every = {0, 1000}, limit = {60, 0};
    event_add(t, &every_tick);
    event_add(d, NULL);
    event_add(r->producer, &every);
    event_base_loopexit(r->base, &limit);
    event_base_dispatch(r->base);
    CHECK_INT(mts_writer_stop(r->w), 0);
    CHECK_INT(r->put, TOTAL);
    uint64_t stored = 0;
    CHECK_INT(mts_store_count_domains(s, "bp", &stored), 0);
    CHECK_INT(stored, TOTAL);
    event_free(t);
    event_free(d);
    event_free(r->producer);
    event_base_free(r->base);
    close(r->drained_fd);
    mts_store_close(s);
    return r->max_late_ms;
}

int main(void)
{
    char dir[256], a[300], b[300];
    util_tmpdir(dir, sizeof dir, "backpressure");
    setenv(MTS_WRITER_TEST_DELAY_ENV, COMMIT_DELAY_MS, 1);
    CHECK(mkdir(util_path(a, sizeof a, dir, "obey"), 0700) == 0);
    CHECK(mkdir(util_path(b, sizeof b, dir, "block"), 0700) == 0);

    struct run r;
    double late = run_producer(a, true, &r);
    fprintf(stderr,
            "back-pressure: timer at most %.1f ms late, %d pauses, %d resumes, "
            "at most %llu pending\n",
            late, r.behind_seen, r.drained_seen, (unsigned long long)r.max_pending);
    CHECK(late < 300.0); /* generous on a loaded machine; a commit here takes 600 ms */
    CHECK(r.behind_seen > 0);
    CHECK(r.drained_seen > 0);
    CHECK(r.max_pending <= HIGH_MARK + BURST);

    double blocked = run_producer(b, false, &r);
    fprintf(stderr, "blocking put: timer at most %.1f ms late\n", blocked);
    CHECK(blocked > 400.0);

    util_rmtree(dir);
    return check_exit();
}
