/*
 * Running this process out of descriptors for the tests of this machine's limits: the
 * soft RLIMIT_NOFILE is lowered under the next free descriptor, so the next socket() fails
 * with EMFILE, until restore_descriptors (an event callback, so a test can schedule it)
 * puts the limit back. Include after check.h.
 */
#ifndef MTS_TESTS_FD_STARVE_H
#define MTS_TESTS_FD_STARVE_H

#include <errno.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

static struct rlimit saved_nofile;

/* base (may be NULL) first runs once without blocking, closing what finished transfers
   and sessions left to close. */
static inline void starve_descriptors(struct event_base *loop)
{
    if (loop)
        event_base_loop(loop, EVLOOP_NONBLOCK);
    getrlimit(RLIMIT_NOFILE, &saved_nofile);
    int lowest = dup(0); /* the next descriptor socket() would get */
    close(lowest);
    struct rlimit rl = {(rlim_t)lowest, saved_nofile.rlim_max};
    CHECK_INT(setrlimit(RLIMIT_NOFILE, &rl), 0);
    CHECK(socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EMFILE);
}

static inline void restore_descriptors(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    setrlimit(RLIMIT_NOFILE, &saved_nofile);
}

#endif
