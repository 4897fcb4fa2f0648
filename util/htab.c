/*
 * Why: the connection limiter and the MX-probe cache each kept a table of live keys with
 * its own chains and its own grow(); one table serves both. Chains rather than open
 * addressing because entries are removed as often as added and must not move.
 */
#include "mts_htab.h"

#include <errno.h>
#include <stdlib.h>

int mts_htab_init(struct mts_htab *t, size_t nbuckets)
{
    t->buckets = calloc(nbuckets, sizeof *t->buckets);
    t->nbuckets = nbuckets;
    t->count = 0;
    return t->buckets ? 0 : -ENOMEM;
}

static struct mts_htab_node **bucket(const struct mts_htab *t, uint64_t h)
{
    return &t->buckets[h & (t->nbuckets - 1)];
}

struct mts_htab_node *mts_htab_find(const struct mts_htab *t, uint64_t h,
                                    bool (*same)(const struct mts_htab_node *node, const void *key),
                                    const void *key)
{
    struct mts_htab_node *n = *bucket(t, h);
    while (n && (n->hash != h || !same(n, key)))
        n = n->next;
    return n;
}

static void grow(struct mts_htab *t)
{
    struct mts_htab bigger;
    if (mts_htab_init(&bigger, 2 * t->nbuckets) != 0)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct mts_htab_node *n = t->buckets[i], *next;
        for (; n; n = next) {
            next = n->next;
            n->next = *bucket(&bigger, n->hash);
            *bucket(&bigger, n->hash) = n;
        }
    }
    free(t->buckets);
    t->buckets = bigger.buckets;
    t->nbuckets = bigger.nbuckets;
}

void mts_htab_insert(struct mts_htab *t, struct mts_htab_node *node)
{
    struct mts_htab_node **head = bucket(t, node->hash);
    node->next = *head;
    *head = node;
    if (++t->count > t->nbuckets)
        grow(t);
}

void mts_htab_remove(struct mts_htab *t, struct mts_htab_node *node)
{
    struct mts_htab_node **pp = bucket(t, node->hash);
    while (*pp != node)
        pp = &(*pp)->next;
    *pp = node->next;
    t->count--;
}

void mts_htab_fini(struct mts_htab *t, void (*release)(struct mts_htab_node *node))
{
    for (size_t i = 0; t->buckets && release && i < t->nbuckets; i++) {
        struct mts_htab_node *n = t->buckets[i], *next;
        for (; n; n = next) {
            next = n->next;
            release(n);
        }
    }
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = t->count = 0;
}
