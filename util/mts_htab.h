/*
 * A chained hash table of nodes embedded in the caller's entries (intrusive, like the
 * <sys/queue.h> lists): the table allocates only its bucket array and never owns an entry.
 * The caller hashes its key (mts_fnv1a, say), stores the hash in the node and says how to
 * compare keys. The table doubles its buckets when it holds more nodes than buckets; when
 * that allocation fails it keeps the old buckets (longer chains, still correct).
 *
 * Errors are negative errno values. Not thread-safe.
 */
#ifndef MTS_HTAB_H
#define MTS_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The entry of type that holds member at ptr. */
#define MTS_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

struct mts_htab_node {
    struct mts_htab_node *next; /* the bucket's chain */
    uint64_t hash;              /* set by the caller before mts_htab_insert */
};

struct mts_htab {
    struct mts_htab_node **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;    /* nodes in the table */
};

/* An empty table of nbuckets buckets (a power of two, at least 1). Returns 0 or -ENOMEM. */
int mts_htab_init(struct mts_htab *t, size_t nbuckets);

/* The node of hash h for which same(node, key) is true, or NULL. */
struct mts_htab_node *mts_htab_find(const struct mts_htab *t, uint64_t h,
                                    bool (*same)(const struct mts_htab_node *node, const void *key),
                                    const void *key);

/* Adds node (its hash set; its key not yet in the table). */
void mts_htab_insert(struct mts_htab *t, struct mts_htab_node *node);

/* Takes node, which is in the table, out of it. */
void mts_htab_remove(struct mts_htab *t, struct mts_htab_node *node);

/* Calls release (unless NULL) on every node, then frees the buckets. */
void mts_htab_fini(struct mts_htab *t, void (*release)(struct mts_htab_node *node));

#endif
