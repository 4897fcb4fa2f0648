/*
 * Why: a few providers run most of the Internet's mail, so a scan of a million domains
 * reaches the same MX address from thousands of jobs at once. This limiter keeps the
 * scanner polite (a handful of connections per destination) without head-of-line
 * blocking: a waiter is "eligible" once its own address has room, and only eligible
 * waiters compete, in order, for the total bound. Grants are announced from one event
 * callback so that no caller is ever re-entered from inside acquire or release.
 *
 * Per address the limiter keeps active + eligible <= per_ip; further waiters of that
 * address wait in its own queue and move to the eligible queue one by one as slots free.
 * An address entry exists only while it has slots, so memory follows the concurrency,
 * not the number of addresses a scan ever touched.
 *
 * A waiter has a deadline (mts_conn_limit_set_wait_ms): one tarpit address shared by many
 * domains would otherwise keep its waiters, and the jobs behind them, forever. An expired
 * waiter leaves its queue and is told so through its ready callback.
 */
#include "conn_limit.h"
#include "mts_htab.h"
#include "mts_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

enum slot_state {
    SLOT_BLOCKED,  /* in its destination's queue: the address is at per_ip */
    SLOT_ELIGIBLE, /* in the eligible queue: waits for the total bound */
    SLOT_GRANTED,  /* counted as active, ready callback pending */
    SLOT_ACTIVE,   /* ready callback delivered */
    SLOT_EXPIRED   /* waited past the deadline; ready callback delivered, never granted */
};

struct dest;

struct mts_conn_slot {
    TAILQ_ENTRY(mts_conn_slot) link; /* in exactly one queue, by state */
    struct dest *dest;
    enum slot_state state;
    struct event *deadline; /* while waiting, when the limiter has a wait deadline */
    struct mts_conn_limit *lim;
    void (*ready)(void *arg, struct mts_conn_slot *slot);
    void *arg;
};

TAILQ_HEAD(slot_queue, mts_conn_slot);

struct dest {
    struct mts_htab_node node; /* in lim->dests, keyed by addr */
    unsigned active;           /* granted or active slots */
    unsigned eligible;         /* slots of this address in the eligible queue */
    struct slot_queue blocked;
    char addr[];
};

struct mts_conn_limit {
    struct event_base *base;
    struct event *notify;
    unsigned per_ip, total;
    unsigned active, waiting, max_active;
    unsigned long grants, expired;
    const struct timeval *wait_tv; /* a common timeout; NULL: waiters have no deadline */
    struct slot_queue eligible;    /* FIFO */
    struct slot_queue granted;     /* FIFO of pending ready callbacks */
    struct slot_queue held;        /* slots whose callback was delivered */
    unsigned ngranted;
    struct mts_htab dests; /* struct dest by address, while it has slots */
};

static bool dest_is(const struct mts_htab_node *node, const void *addr)
{
    return strcmp(MTS_CONTAINER_OF(node, struct dest, node)->addr, addr) == 0;
}

static struct dest *dest_get(struct mts_conn_limit *lim, const char *addr)
{
    size_t len = strlen(addr);
    uint64_t h = mts_fnv1a(MTS_FNV1A_BASIS, addr, len);
    struct mts_htab_node *found = mts_htab_find(&lim->dests, h, dest_is, addr);
    if (found)
        return MTS_CONTAINER_OF(found, struct dest, node);
    struct dest *d = calloc(1, sizeof *d + len + 1);
    if (d == NULL)
        return NULL;
    d->node.hash = h;
    TAILQ_INIT(&d->blocked);
    memcpy(d->addr, addr, len + 1);
    mts_htab_insert(&lim->dests, &d->node);
    return d;
}

static void dest_put(struct mts_conn_limit *lim, struct dest *d)
{
    if (d->active || d->eligible || !TAILQ_EMPTY(&d->blocked))
        return;
    mts_htab_remove(&lim->dests, &d->node);
    free(d);
}

/* Grants eligible waiters while the total bound allows, and schedules their callbacks. */
static void pump(struct mts_conn_limit *lim)
{
    struct mts_conn_slot *s;
    while (lim->active < lim->total && (s = TAILQ_FIRST(&lim->eligible)) != NULL) {
        TAILQ_REMOVE(&lim->eligible, s, link);
        s->dest->eligible--;
        s->dest->active++;
        lim->waiting--;
        lim->active++;
        lim->grants++;
        if (lim->active > lim->max_active)
            lim->max_active = lim->active;
        s->state = SLOT_GRANTED;
        if (s->deadline)
            evtimer_del(s->deadline);
        TAILQ_INSERT_TAIL(&lim->granted, s, link);
        lim->ngranted++;
    }
    if (lim->ngranted)
        event_active(lim->notify, EV_TIMEOUT, 1);
}

static void notify_cb(evutil_socket_t fd, short what, void *arg)
{
    struct mts_conn_limit *lim = arg;
    (void)fd;
    (void)what;
    /* Only the grants present now: callbacks that acquire again wait for the next round. */
    for (unsigned n = lim->ngranted; n > 0 && !TAILQ_EMPTY(&lim->granted); n--) {
        struct mts_conn_slot *s = TAILQ_FIRST(&lim->granted);
        TAILQ_REMOVE(&lim->granted, s, link);
        lim->ngranted--;
        s->state = SLOT_ACTIVE;
        TAILQ_INSERT_TAIL(&lim->held, s, link);
        s->ready(s->arg, s);
    }
    if (lim->ngranted)
        event_active(lim->notify, EV_TIMEOUT, 1);
}

int mts_conn_limit_new(struct mts_conn_limit **out, struct event_base *base, unsigned per_ip,
                       unsigned total)
{
    if (out == NULL || base == NULL || per_ip == 0 || total == 0)
        return -EINVAL;
    struct mts_conn_limit *lim = calloc(1, sizeof *lim);
    if (lim == NULL)
        return -ENOMEM;
    lim->base = base;
    lim->per_ip = per_ip;
    lim->total = total;
    TAILQ_INIT(&lim->eligible);
    TAILQ_INIT(&lim->granted);
    TAILQ_INIT(&lim->held);
    int rc = mts_htab_init(&lim->dests, 64);
    lim->notify = event_new(base, -1, 0, notify_cb, lim);
    if (rc != 0 || lim->notify == NULL) {
        mts_conn_limit_free(lim);
        return -ENOMEM;
    }
    *out = lim;
    return 0;
}

static void promote(struct mts_conn_limit *lim, struct dest *d);

/* A waiter's deadline passed: it leaves its queue, its place goes to the next one. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct mts_conn_slot *s = arg;
    struct mts_conn_limit *lim = s->lim;
    struct dest *d = s->dest;
    (void)fd;
    (void)what;
    if (s->state == SLOT_BLOCKED) {
        TAILQ_REMOVE(&d->blocked, s, link);
    } else if (s->state == SLOT_ELIGIBLE) {
        TAILQ_REMOVE(&lim->eligible, s, link);
        d->eligible--;
    } else {
        return; /* granted meanwhile */
    }
    lim->waiting--;
    lim->expired++;
    s->state = SLOT_EXPIRED;
    s->dest = NULL; /* the address entry may go before the caller releases the slot */
    TAILQ_INSERT_TAIL(&lim->held, s, link);
    promote(lim, d);
    dest_put(lim, d);
    pump(lim);
    s->ready(s->arg, s);
}

struct mts_conn_slot *mts_conn_acquire(struct mts_conn_limit *lim, const char *addr,
                                       void (*ready)(void *arg, struct mts_conn_slot *slot),
                                       void *arg)
{
    struct mts_conn_slot *s = calloc(1, sizeof *s);
    struct dest *d = s ? dest_get(lim, addr) : NULL;
    if (d == NULL) {
        free(s);
        return NULL;
    }
    s->dest = d;
    s->lim = lim;
    s->ready = ready;
    s->arg = arg;
    if (lim->wait_tv && (!(s->deadline = evtimer_new(lim->base, on_deadline, s)) ||
                         evtimer_add(s->deadline, lim->wait_tv) < 0)) {
        if (s->deadline)
            event_free(s->deadline);
        free(s);
        dest_put(lim, d);
        return NULL;
    }
    lim->waiting++;
    if (d->active + d->eligible < lim->per_ip) {
        s->state = SLOT_ELIGIBLE;
        d->eligible++;
        TAILQ_INSERT_TAIL(&lim->eligible, s, link);
        pump(lim);
    } else {
        s->state = SLOT_BLOCKED;
        TAILQ_INSERT_TAIL(&d->blocked, s, link);
    }
    return s;
}

static void slot_free(struct mts_conn_slot *s)
{
    if (s->deadline)
        event_free(s->deadline);
    free(s);
}

/* The address lost a slot or an eligible waiter: its next blocked waiter becomes eligible. */
static void promote(struct mts_conn_limit *lim, struct dest *d)
{
    struct mts_conn_slot *s = TAILQ_FIRST(&d->blocked);
    if (s == NULL || d->active + d->eligible >= lim->per_ip)
        return;
    TAILQ_REMOVE(&d->blocked, s, link);
    s->state = SLOT_ELIGIBLE;
    d->eligible++;
    TAILQ_INSERT_TAIL(&lim->eligible, s, link);
}

void mts_conn_release(struct mts_conn_limit *lim, struct mts_conn_slot *s)
{
    if (s == NULL)
        return;
    if (s->state == SLOT_EXPIRED) {
        TAILQ_REMOVE(&lim->held, s, link);
        slot_free(s);
        return;
    }
    struct dest *d = s->dest;
    switch (s->state) {
    case SLOT_BLOCKED:
        TAILQ_REMOVE(&d->blocked, s, link);
        lim->waiting--;
        break;
    case SLOT_ELIGIBLE:
        TAILQ_REMOVE(&lim->eligible, s, link);
        d->eligible--;
        lim->waiting--;
        break;
    case SLOT_GRANTED:
        TAILQ_REMOVE(&lim->granted, s, link);
        lim->ngranted--;
        d->active--;
        lim->active--;
        break;
    case SLOT_ACTIVE:
        TAILQ_REMOVE(&lim->held, s, link);
        d->active--;
        lim->active--;
        break;
    case SLOT_EXPIRED: /* handled above */
        break;
    }
    slot_free(s);
    promote(lim, d);
    dest_put(lim, d);
    pump(lim);
}

void mts_conn_limit_set_wait_ms(struct mts_conn_limit *lim, unsigned ms)
{
    struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
    lim->wait_tv = ms ? event_base_init_common_timeout(lim->base, &tv) : NULL;
}

bool mts_conn_slot_expired(const struct mts_conn_slot *slot)
{
    return slot->state == SLOT_EXPIRED;
}

void mts_conn_limit_stats(const struct mts_conn_limit *lim, struct mts_conn_limit_stats *st)
{
    st->active = lim->active;
    st->expired = lim->expired;
    st->waiting = lim->waiting;
    st->max_active = lim->max_active;
    st->grants = lim->grants;
}

static void free_queue(struct slot_queue *q)
{
    struct mts_conn_slot *s;
    while ((s = TAILQ_FIRST(q)) != NULL) {
        TAILQ_REMOVE(q, s, link);
        slot_free(s);
    }
}

static void dest_free(struct mts_htab_node *node)
{
    struct dest *d = MTS_CONTAINER_OF(node, struct dest, node);
    free_queue(&d->blocked);
    free(d);
}

void mts_conn_limit_free(struct mts_conn_limit *lim)
{
    if (lim == NULL)
        return;
    free_queue(&lim->eligible);
    free_queue(&lim->granted);
    free_queue(&lim->held);
    mts_htab_fini(&lim->dests, dest_free);
    if (lim->notify)
        event_free(lim->notify);
    free(lim);
}
