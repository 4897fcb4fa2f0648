/*
 * Why a pool of its own: decoding and classifying records is nearly all of an analysis
 * and records are independent, but every command wants them in key order, one at a time.
 * Every thread, the caller's included, takes the next TAKE untaken items of the batch,
 * prepares them, and when every item before them has been handed on, hands them on
 * itself: the order holds whatever the number of threads, and an item's memory never
 * leaves the thread (and the allocator cache) that built it, which halved the cost of a
 * second thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "workpool.h"

#define TAKE 16 /* items a thread takes at once: one hand-over per run, not per item */

struct item {
    unsigned owner; /* the thread that took it: 0 the caller, 1.. the workers */
    bool done;
};

struct worker_arg {
    struct mts_workpool *pool;
    unsigned self;
};

struct mts_workpool {
    struct mts_workpool_ops ops;
    pthread_mutex_t mu;
    pthread_cond_t work, turn;
    struct item *items; /* the current batch, one per item */
    size_t n, next, handed;
    unsigned long batch; /* counts batches, so a worker sees each one once */
    unsigned waiting;    /* threads waiting for their turn */
    int rc;              /* the first non-zero value of the hand-overs, in item order */
    bool quit;
    unsigned started;
    pthread_t tids[MTS_WORKPOOL_MAX_THREADS];
    struct worker_arg args[MTS_WORKPOOL_MAX_THREADS];
};

/*
 * Hand on the items that are self's turn, and take new ones while any are left; called
 * and returns with p->mu held. Returns when self can do nothing more until another thread
 * hands an item on.
 */
static void run(struct mts_workpool *p, unsigned self)
{
    for (;;) {
        size_t from = p->handed, to = from;
        while (to < p->n && p->items[to].done && p->items[to].owner == self)
            to++;
        if (to > from) {
            int rc = p->rc;
            pthread_mutex_unlock(&p->mu);
            for (size_t i = from; i < to; i++)
                rc = p->ops.hand_on(p->ops.ctx, i, rc);
            pthread_mutex_lock(&p->mu);
            p->rc = rc;
            p->handed = to;
            if (p->waiting)
                pthread_cond_broadcast(&p->turn);
        } else if (p->next < p->n) {
            size_t first = p->next, last = p->n - first > TAKE ? first + TAKE : p->n;
            p->next = last;
            for (size_t i = first; i < last; i++)
                p->items[i].owner = self;
            pthread_mutex_unlock(&p->mu);
            for (size_t i = first; i < last; i++)
                p->ops.prepare(p->ops.ctx, self, i);
            pthread_mutex_lock(&p->mu);
            for (size_t i = first; i < last; i++)
                p->items[i].done = true;
        } else {
            return;
        }
    }
}

/* Whether self holds an item not yet handed on; called with p->mu held. */
static bool holds_unhanded(const struct mts_workpool *p, unsigned self)
{
    for (size_t i = p->handed; i < p->next; i++)
        if (p->items[i].owner == self)
            return true;
    return false;
}

/* Wait for another thread's hand-over; called and returns with p->mu held. */
static void wait_turn(struct mts_workpool *p)
{
    p->waiting++;
    pthread_cond_wait(&p->turn, &p->mu);
    p->waiting--;
}

static void *worker(void *arg)
{
    struct worker_arg *w = arg;
    struct mts_workpool *p = w->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->batch == seen)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->quit)
            break;
        seen = p->batch;
        for (run(p, w->self); holds_unhanded(p, w->self); run(p, w->self))
            wait_turn(p);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int mts_workpool_start(struct mts_workpool **out, unsigned threads,
                       const struct mts_workpool_ops *ops)
{
    struct mts_workpool *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->ops = *ops;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->turn, NULL);
    if (threads > MTS_WORKPOOL_MAX_THREADS)
        threads = MTS_WORKPOOL_MAX_THREADS;
    while (p->started + 1 < threads) {
        struct worker_arg *a = &p->args[p->started];
        *a = (struct worker_arg){p, p->started + 1};
        if (pthread_create(&p->tids[p->started], NULL, worker, a) != 0)
            break;
        p->started++;
    }
    *out = p;
    return 0;
}

int mts_workpool_run(struct mts_workpool *p, size_t n)
{
    struct item *items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return -ENOMEM;
    pthread_mutex_lock(&p->mu);
    p->items = items;
    p->n = n;
    p->next = p->handed = 0;
    p->batch++;
    pthread_cond_broadcast(&p->work);
    for (run(p, 0); p->handed < n; run(p, 0))
        wait_turn(p);
    int rc = p->rc;
    p->items = NULL; /* handed == next == n: no thread looks at an item again */
    pthread_mutex_unlock(&p->mu);
    free(items);
    return rc;
}

void mts_workpool_stop(struct mts_workpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->tids[i], NULL);
    pthread_cond_destroy(&p->turn);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

unsigned mts_workpool_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MTS_WORKPOOL_MAX_THREADS ? MTS_WORKPOOL_MAX_THREADS : (unsigned)n;
}
