/*
 * conn_limit on an event loop without sockets: per-address and total bounds, FIFO order,
 * no callback from inside acquire or release, cancellation of waiting and of granted but
 * not yet announced slots, freeing with slots outstanding (leaks show under ASan), and the
 * wait deadline that keeps a tarpit address from holding its waiters forever.
 */
#include "check.h"
#include "conn_limit.h"

#include <errno.h>

#include <event2/event.h>

struct waiter {
    char name[8];
    struct mts_conn_slot *slot;
    int called;
};

static char order[64];
static struct mts_conn_limit *lim;

static void ready(void *arg, struct mts_conn_slot *slot)
{
    struct waiter *w = arg;
    CHECK(slot == w->slot);
    w->called++;
    strcat(order, w->name);
}

static void run(struct event_base *base)
{
    event_base_loop(base, EVLOOP_NONBLOCK);
}

static void acquire(struct waiter *w, const char *name, const char *addr)
{
    snprintf(w->name, sizeof(w->name), "%s", name);
    w->called = 0;
    w->slot = mts_conn_acquire(lim, addr, ready, w);
    CHECK(w->slot != NULL);
}

static void test_bounds(struct event_base *base)
{
    CHECK_INT(mts_conn_limit_new(&lim, base, 2, 3), 0);
    struct waiter a[5], b[2];
    order[0] = 0;
    acquire(&a[0], "a0", "192.0.2.1");
    acquire(&a[1], "a1", "192.0.2.1");
    acquire(&a[2], "a2", "192.0.2.1");
    acquire(&a[3], "a3", "192.0.2.1");
    acquire(&a[4], "a4", "192.0.2.1");
    acquire(&b[0], "b0", "192.0.2.2");
    acquire(&b[1], "b1", "192.0.2.2");
    CHECK_STR(order, ""); /* never from inside acquire */
    run(base);
    CHECK_STR(order, "a0a1b0"); /* per_ip 2 for a, total 3 */
    struct mts_conn_limit_stats st;
    mts_conn_limit_stats(lim, &st);
    CHECK_INT(st.active, 3);
    CHECK_INT(st.waiting, 4);

    mts_conn_release(lim, a[3].slot); /* cancel a blocked waiter */
    mts_conn_release(lim, a[0].slot);
    CHECK_STR(order, "a0a1b0"); /* never from inside release */
    run(base);
    CHECK_STR(order, "a0a1b0b1"); /* b1 was eligible before a2 */
    mts_conn_release(lim, b[0].slot);
    run(base);
    CHECK_STR(order, "a0a1b0b1a2");
    mts_conn_release(lim, b[1].slot);
    run(base);
    CHECK_STR(order, "a0a1b0b1a2"); /* a is at per_ip */
    mts_conn_release(lim, a[1].slot);
    run(base);
    CHECK_STR(order, "a0a1b0b1a2a4");
    CHECK_INT(a[3].called, 0);
    mts_conn_limit_stats(lim, &st);
    CHECK_INT(st.active, 2);
    CHECK_INT(st.waiting, 0);
    CHECK_INT(st.max_active, 3);
    CHECK_INT(st.grants, 6);
    mts_conn_release(lim, a[2].slot);
    mts_conn_release(lim, a[4].slot);
    mts_conn_release(lim, NULL);
    mts_conn_limit_free(lim);
}

/* Many waiters for one address are served strictly in order, per_ip at a time. */
static void test_fifo(struct event_base *base)
{
    CHECK_INT(mts_conn_limit_new(&lim, base, 1, 100), 0);
    struct waiter w[8];
    order[0] = 0;
    for (int i = 0; i < 8; i++) {
        char n[4] = {(char)('0' + i), 0};
        acquire(&w[i], n, "2001:db8::1");
    }
    for (int i = 0; i < 8; i++) {
        run(base);
        CHECK_INT(w[i].called, 1);
        for (int j = i + 1; j < 8; j++)
            CHECK_INT(w[j].called, 0);
        mts_conn_release(lim, w[i].slot);
    }
    CHECK_STR(order, "01234567");
    mts_conn_limit_free(lim);
}

/* A slot granted but not yet announced can be released: its callback never runs. */
static void test_cancel_granted(struct event_base *base)
{
    CHECK_INT(mts_conn_limit_new(&lim, base, 1, 1), 0);
    struct waiter x, y;
    order[0] = 0;
    acquire(&x, "x", "192.0.2.9");
    acquire(&y, "y", "192.0.2.9");
    mts_conn_release(lim, x.slot);
    run(base);
    CHECK_STR(order, "y");
    /* Freed with y held and z waiting: no callback, no leak. */
    struct waiter z;
    acquire(&z, "z", "192.0.2.9");
    mts_conn_limit_free(lim);
    run(base);
    CHECK_STR(order, "y");
}

/* Many distinct addresses: the address table grows and shrinks back. */
static void test_many(struct event_base *base)
{
    CHECK_INT(mts_conn_limit_new(&lim, base, 1, 1000), 0);
    static struct waiter w[500];
    order[0] = 0;
    for (int i = 0; i < 500; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 256, i % 256);
        w[i].slot = mts_conn_acquire(lim, addr, ready, &w[i]);
        w[i].name[0] = 0;
    }
    run(base);
    int called = 0;
    for (int i = 0; i < 500; i++)
        called += w[i].called;
    CHECK_INT(called, 500);
    for (int i = 0; i < 500; i++)
        mts_conn_release(lim, w[i].slot);
    struct mts_conn_limit_stats st;
    mts_conn_limit_stats(lim, &st);
    CHECK_INT(st.active, 0);
    mts_conn_limit_free(lim);
}

/* Runs the loop for ms milliseconds of real time. */
static void run_for(struct event_base *base, unsigned ms)
{
    struct timeval tv = {0, (suseconds_t)ms * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static void test_wait_deadline(struct event_base *base)
{
    CHECK_INT(mts_conn_limit_new(&lim, base, 1, 2), 0);
    mts_conn_limit_set_wait_ms(lim, 100);
    struct waiter tarpit[3], other[2];
    order[0] = 0;
    acquire(&tarpit[0], "t0", "192.0.2.66"); /* granted, then held forever */
    acquire(&tarpit[1], "t1", "192.0.2.66"); /* blocked behind it */
    acquire(&tarpit[2], "t2", "192.0.2.66");
    acquire(&other[0], "o0", "192.0.2.7"); /* granted: total 2 */
    acquire(&other[1], "o1", "192.0.2.8"); /* eligible, waits for the total bound */
    run(base);
    CHECK_STR(order, "t0o0");
    run_for(base, 300);
    /* Every waiter was told within its deadline; granted slots never expire. */
    CHECK_STR(order, "t0o0t1t2o1");
    CHECK(!mts_conn_slot_expired(tarpit[0].slot));
    CHECK(!mts_conn_slot_expired(other[0].slot));
    CHECK(mts_conn_slot_expired(tarpit[1].slot));
    CHECK(mts_conn_slot_expired(tarpit[2].slot));
    CHECK(mts_conn_slot_expired(other[1].slot));
    struct mts_conn_limit_stats st;
    mts_conn_limit_stats(lim, &st);
    CHECK_INT(st.active, 2);
    CHECK_INT(st.waiting, 0);
    CHECK_INT(st.expired, 3);
    /* Expired slots are released like any other and leave the bounds as they were. */
    mts_conn_release(lim, tarpit[1].slot);
    mts_conn_release(lim, tarpit[2].slot);
    mts_conn_release(lim, other[1].slot);
    mts_conn_release(lim, other[0].slot);
    acquire(&other[1], "o2", "192.0.2.8");
    run(base);
    CHECK_STR(order, "t0o0t1t2o1o2");
    CHECK(!mts_conn_slot_expired(other[1].slot));
    mts_conn_limit_stats(lim, &st);
    CHECK_INT(st.active, 2);
    /* A waiter released before its deadline is never called. */
    acquire(&tarpit[1], "t3", "192.0.2.66");
    mts_conn_release(lim, tarpit[1].slot);
    run_for(base, 200);
    CHECK_STR(order, "t0o0t1t2o1o2");
    mts_conn_limit_free(lim); /* with a granted slot and the tarpit's slot outstanding */
}

int main(void)
{
    struct event_base *base = event_base_new();
    CHECK_INT(mts_conn_limit_new(&lim, base, 0, 1), -EINVAL);
    test_bounds(base);
    test_fifo(base);
    test_cancel_granted(base);
    test_many(base);
    test_wait_deadline(base);
    event_base_free(base);
    return check_exit();
}
