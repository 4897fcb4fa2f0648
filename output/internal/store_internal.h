/*
 * What the store, the writer and the exporter share inside the output module: the handle's
 * layout, the key encoding and the read-transaction discipline around map growth. Not
 * installed; outside output/ only its tests include it (mts_output_internal).
 */
#ifndef MTS_STORE_INTERNAL_H
#define MTS_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include <lmdb.h>

#include "mts_store.h"

/* Large enough for any key LMDB accepts (its maximum is 511 bytes by default). */
#define MTS_KEY_MAX 512

struct mts_store {
    MDB_env *env;
    MDB_dbi dbi_meta, dbi_scans, dbi_domains, dbi_mxprobes, dbi_policies;
    /* Held shared by every read transaction, exclusively around mdb_env_set_mapsize. */
    pthread_rwlock_t maplock;
    size_t maxkey; /* mdb_env_get_maxkeysize */
    bool rdonly;
    atomic_bool has_writer;
    atomic_size_t lookups; /* single-record reads, for handing map pages back (store.c) */
    /* The registry of open environments of this process (see mts_store_open). */
    dev_t dev;
    ino_t ino;
    ino_t data_ino; /* data.mdb's inode: finds LMDB's map in /proc/self/maps */
    struct mts_store *next_open;
};

/* LMDB returns its own negative codes and positive errno values: make all negative. */
static inline int mts_store__err(int rc)
{
    return rc > 0 ? -rc : rc;
}

/*
 * Begin a read transaction with the map lock held shared; adopts a map grown by another
 * process. On success end it with mts_store__rdtxn_end. Returns 0 or a negative code.
 */
int mts_store__rdtxn_begin(struct mts_store *store, MDB_txn **txn);
void mts_store__rdtxn_end(struct mts_store *store, MDB_txn *txn);

/* Double the map size (no transaction of this process may be active). */
int mts_store__grow(struct mts_store *store);

/* Adopt the map size another process set (after MDB_MAP_RESIZED). */
int mts_store__adopt_mapsize(struct mts_store *store);

/*
 * Build the key of a record from up to three NUL-separated parts (NULL parts are left
 * out) into buf (MTS_KEY_MAX bytes); *len gets its length. Returns 0, -EINVAL (a NULL or
 * empty first part, or an empty later part) or -ENAMETOOLONG (longer than store->maxkey).
 */
int mts_store__key(const struct mts_store *store, unsigned char *buf, size_t *len, const char *a,
                   const char *b, const char *c);

/*
 * The key of the probe record of (host, addr) in scan: scan \0 host \0 addr, or, when the
 * host's presentation form makes that too long (a name of escaped bytes can pass 1,000
 * characters), scan \0 "sha256 " + the hex SHA-256 of host \0 addr. Same returns.
 */
int mts_store__mxprobe_key(const struct mts_store *store, unsigned char *buf, size_t *len,
                           const char *scan, const char *host, const char *addr);

/*
 * Record encoding (codec.c). encode: *val is a new malloc'd buffer of *len bytes, JSON or
 * tagged zlib; returns 0 or -ENOMEM. decode: the record in a stored value, a new reference
 * in *out; returns 0 or MTS_STORE_ECORRUPT.
 */
int mts_store__encode(const json_t *rec, char **val, size_t *len);
/* The same from n bytes of JSON text (malloc'd; ownership passes, also on error). */
int mts_store__encode_text(char *json, size_t n, char **val, size_t *len);
int mts_store__decode(const void *data, size_t len, json_t **out);
/* The same without the members named in drop (mts_store_decode_pruned). */
int mts_store__decode_pruned(const void *data, size_t len, const char *const *drop, json_t **out);

/* Drop the map's pages from this process's memory (they stay in the page cache). Any
   thread; other readers and the writer may run meanwhile. */
void mts_store__release_map_pages(struct mts_store *store);

#endif
