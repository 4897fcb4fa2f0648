/*
 * Politeness limiter: at most per_ip concurrent connections to one destination address and
 * at most total overall. A connection first acquires a slot; the slot's ready callback
 * runs from the event loop (never from inside mts_conn_acquire or mts_conn_release) once
 * both bounds allow it. Waiters for one address are served in arrival order; across
 * addresses, in the order in which they became blocked by the total bound only.
 *
 * Errors are negative errno values. Not thread-safe: one event loop owns a limiter.
 */
#ifndef MTS_CONN_LIMIT_H
#define MTS_CONN_LIMIT_H

#include <stdbool.h>

struct event_base;
struct mts_conn_limit;
struct mts_conn_slot; /* opaque; owned by the limiter */

/*
 * Creates a limiter on base (borrowed; must outlive the limiter). per_ip and total must be
 * at least 1. Returns 0 and stores the limiter in *out, or -EINVAL / -ENOMEM.
 */
int mts_conn_limit_new(struct mts_conn_limit **out, struct event_base *base, unsigned per_ip,
                       unsigned total);

/*
 * Gives every later waiter a deadline of ms (0: none, the default). A waiter still waiting
 * then leaves its queue: its ready callback runs with a slot for which
 * mts_conn_slot_expired() is true, and the caller releases it as usual without connecting.
 * When the event loop cannot make the timeout, waiters keep no deadline.
 */
void mts_conn_limit_set_wait_ms(struct mts_conn_limit *lim, unsigned ms);

/* Whether the slot handed to ready expired waiting (never granted) instead of being granted. */
bool mts_conn_slot_expired(const struct mts_conn_slot *slot);

/*
 * Asks for a slot to addr (a destination address in any stable textual form; copied).
 * ready(arg, slot) is called once, later, from the event loop, when the slot is granted;
 * the caller then holds it until mts_conn_release(). Returns the slot (valid until
 * released), or NULL when memory runs out (ready is then never called).
 */
struct mts_conn_slot *mts_conn_acquire(struct mts_conn_limit *lim, const char *addr,
                                       void (*ready)(void *arg, struct mts_conn_slot *slot),
                                       void *arg);

/*
 * Gives a slot back, granted or still waiting (a waiting slot is cancelled and its ready
 * callback never runs). The slot pointer is invalid afterwards. NULL is ignored.
 */
void mts_conn_release(struct mts_conn_limit *lim, struct mts_conn_slot *slot);

/* Current and peak usage, for progress and tests. */
struct mts_conn_limit_stats {
    unsigned active;       /* granted slots now */
    unsigned waiting;      /* slots waiting now */
    unsigned max_active;   /* peak of active */
    unsigned long grants;  /* slots granted so far */
    unsigned long expired; /* waiters whose deadline passed */
};
void mts_conn_limit_stats(const struct mts_conn_limit *lim, struct mts_conn_limit_stats *st);

/* Frees the limiter and every slot still held or waiting, without calling back. */
void mts_conn_limit_free(struct mts_conn_limit *lim);

#endif
