/*
 * The result store: one LMDB environment (a directory) holding the raw records of one or
 * more scans. This header is the store handle and the reader API; records are written with
 * the batched writer in mts_writer.h. Design: docs/store.md.
 *
 * All functions return 0 or a negative code (see mts_store_strerror). Records are JSON
 * objects (jansson); every record handed out is a new reference owned by the caller.
 * Every function here may be called from any thread, concurrently with the store's writer
 * thread, except mts_store_close.
 */
#ifndef MTS_STORE_H
#define MTS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The store's own error codes (outside LMDB's -30799..-30780 and errno ranges). */
#define MTS_STORE_NOTFOUND (-32001) /* no such key (scan, domain, probe, policy) */
#define MTS_STORE_EFORMAT  (-32002) /* not a store, or a store format this code cannot read */
#define MTS_STORE_ERECORD  (-32003) /* a record to write is not an object with an integer "v" */
#define MTS_STORE_ECORRUPT (-32004) /* a stored record is not a JSON object */

/* mts_store_open flags. */
#define MTS_STORE_RDONLY 0x1u /* read only; the environment must exist */
#define MTS_STORE_CREATE 0x2u /* create the directory (mode 0755) if absent */
#define MTS_STORE_NOMETASYNC                                                                       \
    0x4u /* skip the meta-page fsync: a system crash may undo the                                  \
            last commit (docs/store.md, Durability) */

#define MTS_STORE_DEFAULT_MAPSIZE ((size_t)64 << 20)
#define MTS_STORE_SHA256_LEN      32
/* How records are encoded: compact, and reals with 15 significant digits, enough for a
   Unix time in milliseconds without binary noise (7.6, not 7.5999999999999996). */
#define MTS_STORE_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* Opaque store handle. */
struct mts_store;

/*
 * Open (and with MTS_STORE_CREATE create) the store in directory dir. initial_mapsize is
 * the LMDB map size to start with (0: the environment's current size, or
 * MTS_STORE_DEFAULT_MAPSIZE for a new one); a writable store grows it on demand. Opening
 * for writing initialises the databases and the format version.
 * On success *out is a new handle owned by the caller, freed with mts_store_close.
 * Returns 0, -ENOENT (no such directory and no MTS_STORE_CREATE), -EBUSY (this process
 * already has dir open), MTS_STORE_EFORMAT, or an LMDB/errno code.
 */
int mts_store_open(struct mts_store **out, const char *dir, unsigned flags, size_t initial_mapsize);

/*
 * Close the store and free the handle. The store's writer, if any, must have been stopped
 * (mts_writer_stop) and no other thread may be using the store. NULL is a no-op.
 */
void mts_store_close(struct mts_store *store);

/* The current map size in bytes (grows as the writer needs room). */
size_t mts_store_mapsize(struct mts_store *store);

/*
 * Decode the hex string hex (either case, even length) into out, at most cap bytes: how
 * records write bytes that are not text ({"hex": ...}) and policy digests. Returns the
 * number of bytes, or -1 for an odd length, a character that is not a hex digit, or more
 * than cap bytes.
 */
long mts_store_unhex(const char *hex, unsigned char *out, size_t cap);

/* A string naming code (0, an LMDB code, a negated errno or MTS_STORE_*); static storage. */
const char *mts_store_strerror(int code);

/*
 * Fetch the metadata record of scan into *out (new reference, caller owns).
 * Returns 0, MTS_STORE_NOTFOUND, MTS_STORE_ECORRUPT, or an LMDB/errno code.
 */
int mts_store_scan_get(struct mts_store *store, const char *scan, json_t **out);

/*
 * Fetch the record of domain in scan into *out (new reference, caller owns).
 * Returns 0, MTS_STORE_NOTFOUND, MTS_STORE_ECORRUPT, or an LMDB/errno code.
 */
int mts_store_domain_get(struct mts_store *store, const char *scan, const char *domain,
                         json_t **out);

/*
 * Whether the record of domain in scan is committed: what --resume trusts. One read
 * transaction and one lookup; safe on the event loop thread while the writer runs.
 * Any error (including a failing store) reads as false: the domain is scanned again.
 */
bool mts_store_domain_done(struct mts_store *store, const char *scan, const char *domain);

/*
 * Count the domain records of scan into *count (walks the scan's key range).
 * Returns 0 or an LMDB/errno code.
 */
int mts_store_count_domains(struct mts_store *store, const char *scan, uint64_t *count);

/* Whether the key of the probe record of (host, addr) in scan is within the store's key
   bound (LMDB's maximum key size): a writer put of a longer one fails. */
bool mts_store_mxprobe_key_fits(const struct mts_store *store, const char *scan, const char *host,
                                const char *addr);

/*
 * Fetch the probe record of (host, addr) in scan into *out (new reference, caller owns).
 * Returns 0, MTS_STORE_NOTFOUND, MTS_STORE_ECORRUPT, or an LMDB/errno code.
 */
int mts_store_mxprobe_get(struct mts_store *store, const char *scan, const char *host,
                          const char *addr, json_t **out);

/*
 * Fetch the policy body stored under sha256 (32 raw bytes). On success *body is a new
 * malloc'd copy (caller frees; NUL-terminated for convenience, the NUL not counted) and
 * *len its length. Returns 0, MTS_STORE_NOTFOUND, -ENOMEM, or an LMDB/errno code.
 */
int mts_store_policy_get(struct mts_store *store, const unsigned char sha256[MTS_STORE_SHA256_LEN],
                         unsigned char **body, size_t *len);

/*
 * Iteration callbacks. The strings are borrowed: valid only during the call. rec is a new
 * reference owned by the callback (it must json_decref it, or keep it). Return 0 to go on;
 * any other value stops the iteration and is returned by the foreach function.
 */
typedef int mts_store_scan_cb(void *arg, const char *scan, json_t *rec);
typedef int mts_store_domain_cb(void *arg, const char *domain, json_t *rec);
typedef int mts_store_mxprobe_cb(void *arg, const char *host, const char *addr, json_t *rec);

/*
 * Visit every scan, every domain of scan, or every MX probe of scan, in key order (byte
 * order of the names). Records are read in chunks, each in its own read transaction, and
 * the callback runs outside any transaction: it may call any store or writer function.
 * The iteration is not one snapshot: each key is visited at most once; records committed
 * meanwhile after the current position may or may not be visited.
 * Returns 0 at the end, the callback's non-zero value, MTS_STORE_ECORRUPT, or an
 * LMDB/errno code.
 */
int mts_store_foreach_scan(struct mts_store *store, mts_store_scan_cb *cb, void *arg);
int mts_store_foreach_domain(struct mts_store *store, const char *scan, mts_store_domain_cb *cb,
                             void *arg);
int mts_store_foreach_mxprobe(struct mts_store *store, const char *scan, mts_store_mxprobe_cb *cb,
                              void *arg);

/*
 * A domain record as stored, not yet decoded: for callers that decode on several threads.
 * Everything is borrowed from the iteration and valid only during the batch callback.
 */
struct mts_store_raw {
    const char *domain;
    const void *val;
    size_t vlen;
};
typedef int mts_store_domain_batch_cb(void *arg, const struct mts_store_raw *recs, size_t n);

/*
 * Like mts_store_foreach_domain, but hands over the records undecoded, a batch (at most a
 * few hundred, in key order) per call. Returns 0, the callback's non-zero value, or an
 * LMDB/errno code.
 */
int mts_store_foreach_domain_batch(struct mts_store *store, const char *scan,
                                   mts_store_domain_batch_cb *cb, void *arg);

/* Decode one such record: *rec a new reference. Returns 0 or MTS_STORE_ECORRUPT. Any thread. */
int mts_store_decode(const struct mts_store_raw *raw, json_t **rec);

/*
 * The same record without the object members named in drop (NULL-terminated), at any
 * depth: for a reader that never looks at them, which then costs nothing to build
 * (docs/store.md). A value that mts_store_decode refuses, this refuses too.
 */
int mts_store_decode_pruned(const struct mts_store_raw *raw, const char *const *drop, json_t **rec);

#endif
