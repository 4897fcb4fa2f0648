/*
 * Nothing committed is lost when the process is killed. A child writes records in small
 * batches and reports each commit's cumulative count through a pipe; the parent kills it
 * with SIGKILL at a random moment (the writer is almost always mid-batch), reopens the
 * environment, and checks that every record reported committed is present and intact, and
 * that whatever is present is intact JSON. Several rounds hit the same environment.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "mts_store.h"
#include "mts_writer.h"
#include "util.h"

#define ROUNDS 5

static void report(void *arg, const struct mts_writer_commit *info)
{
    int fd = *(int *)arg;
    uint64_t total = info->total;
    if (info->err == 0 && write(fd, &total, sizeof total) != (ssize_t)sizeof total)
        _exit(3);
}

/* Record i of a round: a domain record, with a policy body every tenth record. */
static const char *name_of(char *buf, size_t cap, long i)
{
    snprintf(buf, cap, "k%08ld.example", i);
    return buf;
}

static void child(const char *dir, const char *scan, int fd)
{
    struct mts_store *s;
    struct mts_writer *w;
    char domain[64];
    if (mts_store_open(&s, dir, MTS_STORE_CREATE, 1 << 20) != 0)
        _exit(4);
    struct mts_writer_opts opts = {.batch_max = 7,
                                   .max_latency_ms = 2,
                                   .queue_max = 64,
                                   .on_commit = report,
                                   .on_commit_arg = &fd};
    if (mts_writer_start(&w, s, &opts) != 0)
        _exit(5);
    for (long i = 0;; i++) {
        name_of(domain, sizeof domain, i);
        if (mts_writer_put_domain(w, scan, domain, util_domain_record(scan, domain, i, i % 3 == 0)))
            _exit(6);
    }
}

struct present {
    long n;
    long bad;
};

static int check_present(void *arg, const char *domain, json_t *rec)
{
    struct present *p = arg;
    char want[64];
    /* Commits are FIFO: what is present is exactly the first n records. */
    if (strcmp(domain, name_of(want, sizeof want, p->n)) != 0 ||
        json_integer_value(json_object_get(rec, "seq")) != p->n)
        p->bad++;
    p->n++;
    json_decref(rec);
    return 0;
}

int main(void)
{
    char dir[256];
    util_tmpdir(dir, sizeof dir, "kill");
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    printf("seed %u\n", seed);
    srand(seed);
    for (int round = 0; round < ROUNDS; round++) {
        char scan[32];
        int fds[2];
        snprintf(scan, sizeof scan, "round%d", round);
        CHECK_INT(pipe(fds), 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child(dir, scan, fds[1]);
        }
        close(fds[1]);
        /* Let it run 50..300 ms, reading its reports, then kill it. */
        /* The random moment is counted from the first commit, so that a slow start (a
           sanitizer build on a busy machine) cannot leave nothing to check. */
        int delay_ms = rand() % 250;
        struct timespec t0, now;
        uint64_t reported = 0, v;
        struct pollfd first = {fds[0], POLLIN, 0};
        if (poll(&first, 1, 30000) > 0 && read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
            reported = v;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long elapsed = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
            if (elapsed >= delay_ms)
                break;
            struct pollfd pfd = {fds[0], POLLIN, 0};
            if (poll(&pfd, 1, (int)(delay_ms - elapsed)) > 0 &&
                read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
                reported = v;
        }
        kill(pid, SIGKILL);
        /* Reports written before the kill are still in the pipe. */
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
            reported = v;
        close(fds[0]);
        int status;
        CHECK_INT(waitpid(pid, &status, 0), pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        /* It opens cleanly (for writing too: the writer mutex of the dead process is free). */
        struct mts_store *s;
        CHECK_INT(mts_store_open(&s, dir, 0, 0), 0);
        struct present p = {0};
        CHECK_INT(mts_store_foreach_domain(s, scan, check_present, &p), 0);
        CHECK_INT(p.bad, 0);
        CHECK(p.n >= (long)reported);
        printf("round %d: killed %d ms after the first commit, %llu reported committed, %ld "
               "present\n",
               round, delay_ms, (unsigned long long)reported, p.n);
        CHECK(reported > 0);
        for (long i = 0; i < (long)reported; i++) {
            char domain[64];
            json_t *rec;
            name_of(domain, sizeof domain, i);
            int rc = mts_store_domain_get(s, scan, domain, &rec);
            CHECK_INT(rc, 0);
            if (rc)
                break;
            json_t *want = util_domain_record(scan, domain, i, i % 3 == 0);
            CHECK(json_equal(rec, want));
            json_decref(want);
            json_decref(rec);
        }
        mts_store_close(s);
    }
    util_rmtree(dir);
    return check_exit();
}
