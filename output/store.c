/*
 * The store handle and the reader side. Why it looks like this: the scanner's writer thread
 * may double the LMDB map at any moment, which LMDB allows only while no transaction of the
 * process is open, so every read here is a short transaction under a shared lock, and
 * iteration copies a chunk of records out before running user code. The environment is
 * opened with MDB_NOTLS so any thread may run these reads. Design: docs/store.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "mts_util.h"
#include "store_internal.h"

#define DIGEST_PREFIX "sha256 " /* the host part of a probe key for a long name */

#define FORMAT_KEY     "format"
#define FORMAT_VERSION "1"
#define ITER_CHUNK     256

/* Open environments of this process, by directory identity: LMDB forbids opening one twice. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mts_store *registry;

static int registry_add(struct mts_store *store)
{
    int rc = 0;
    pthread_mutex_lock(&registry_mu);
    for (struct mts_store *s = registry; s; s = s->next_open) {
        if (s->dev == store->dev && s->ino == store->ino) {
            rc = -EBUSY;
            break;
        }
    }
    if (rc == 0) {
        store->next_open = registry;
        registry = store;
    }
    pthread_mutex_unlock(&registry_mu);
    return rc;
}

static void registry_remove(struct mts_store *store)
{
    pthread_mutex_lock(&registry_mu);
    for (struct mts_store **p = &registry; *p; p = &(*p)->next_open) {
        if (*p == store) {
            *p = store->next_open;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mu);
}

const char *mts_store_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
    case MTS_STORE_NOTFOUND:
        return "no such record";
    case MTS_STORE_EFORMAT:
        return "not a result store, or an unsupported store format version";
    case MTS_STORE_ERECORD:
        return "record is not a JSON object with an integer \"v\"";
    case MTS_STORE_ECORRUPT:
        return "stored record is not a JSON object";
    default:
        break;
    }
    if (code >= MDB_KEYEXIST && code <= MDB_LAST_ERRCODE)
        return mdb_strerror(code);
    if (code < 0)
        return strerror(-code);
    return "unknown error";
}

int mts_store__key(const struct mts_store *store, unsigned char *buf, size_t *len, const char *a,
                   const char *b, const char *c)
{
    const char *parts[3] = {a, b, c};
    size_t n = 0;
    if (a == NULL || *a == '\0')
        return -EINVAL;
    for (int i = 0; i < 3 && parts[i]; i++) {
        size_t plen = strlen(parts[i]);
        if (plen == 0)
            return -EINVAL;
        if (n + (i > 0) + plen > store->maxkey)
            return -ENAMETOOLONG;
        if (i > 0)
            buf[n++] = '\0';
        memcpy(buf + n, parts[i], plen);
        n += plen;
    }
    *len = n;
    return 0;
}

int mts_store__mxprobe_key(const struct mts_store *store, unsigned char *buf, size_t *len,
                           const char *scan, const char *host, const char *addr)
{
    int rc = mts_store__key(store, buf, len, scan, host, addr);
    if (rc != -ENAMETOOLONG || !host)
        return rc;
    /* A space never stands in a presentation form (ldns writes it \032): this form cannot
       be a name's. */
    unsigned char md[32];
    char name[sizeof DIGEST_PREFIX + 2 * sizeof md];
    if (!EVP_Digest(host, strlen(host), md, NULL, EVP_sha256(), NULL))
        return -ENOMEM;
    memcpy(name, DIGEST_PREFIX, sizeof DIGEST_PREFIX - 1);
    *mts_hex_encode(name + sizeof DIGEST_PREFIX - 1, md, sizeof md) = '\0';
    return mts_store__key(store, buf, len, scan, name, addr);
}

int mts_store__adopt_mapsize(struct mts_store *store)
{
    pthread_rwlock_wrlock(&store->maplock);
    int rc = mdb_env_set_mapsize(store->env, 0);
    pthread_rwlock_unlock(&store->maplock);
    return mts_store__err(rc);
}

int mts_store__grow(struct mts_store *store)
{
    MDB_envinfo info;
    pthread_rwlock_wrlock(&store->maplock);
    int rc = mdb_env_info(store->env, &info);
    if (rc == 0) {
        if (info.me_mapsize > SIZE_MAX / 2)
            rc = ENOMEM;
        else
            rc = mdb_env_set_mapsize(store->env, info.me_mapsize * 2);
    }
    pthread_rwlock_unlock(&store->maplock);
    return mts_store__err(rc);
}

int mts_store__rdtxn_begin(struct mts_store *store, MDB_txn **txn)
{
    for (;;) {
        pthread_rwlock_rdlock(&store->maplock);
        int rc = mdb_txn_begin(store->env, NULL, MDB_RDONLY, txn);
        if (rc == 0)
            return 0;
        pthread_rwlock_unlock(&store->maplock);
        if (rc != MDB_MAP_RESIZED)
            return mts_store__err(rc);
        rc = mts_store__adopt_mapsize(store);
        if (rc)
            return rc;
    }
}

void mts_store__rdtxn_end(struct mts_store *store, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&store->maplock);
}

/* Open the named databases and check (or, writable, set) the format version. */
static int open_databases(struct mts_store *store)
{
    static const char *const names[] = {"meta", "scans", "domains", "mxprobes", "policies"};
    MDB_dbi *dbis[] = {&store->dbi_meta, &store->dbi_scans, &store->dbi_domains,
                       &store->dbi_mxprobes, &store->dbi_policies};
    MDB_txn *txn;
    int rc = mdb_txn_begin(store->env, NULL, store->rdonly ? MDB_RDONLY : 0, &txn);
    if (rc)
        return mts_store__err(rc);
    for (size_t i = 0; i < sizeof names / sizeof names[0] && rc == 0; i++)
        rc = mdb_dbi_open(txn, names[i], store->rdonly ? 0 : MDB_CREATE, dbis[i]);
    if (rc == MDB_NOTFOUND) {
        rc = MTS_STORE_EFORMAT;
        goto fail;
    }
    if (rc)
        goto fail;
    MDB_val key = {strlen(FORMAT_KEY), FORMAT_KEY}, val;
    rc = mdb_get(txn, store->dbi_meta, &key, &val);
    if (rc == MDB_NOTFOUND && !store->rdonly) {
        val.mv_size = strlen(FORMAT_VERSION);
        val.mv_data = FORMAT_VERSION;
        rc = mdb_put(txn, store->dbi_meta, &key, &val, 0);
    } else if (rc == MDB_NOTFOUND) {
        rc = MTS_STORE_EFORMAT;
    } else if (rc == 0 && (val.mv_size != strlen(FORMAT_VERSION) ||
                           memcmp(val.mv_data, FORMAT_VERSION, val.mv_size) != 0)) {
        rc = MTS_STORE_EFORMAT;
    }
    if (rc)
        goto fail;
    /* Committing keeps the database handles open for the environment's lifetime. */
    return mts_store__err(mdb_txn_commit(txn));
fail:
    mdb_txn_abort(txn);
    return mts_store__err(rc);
}

int mts_store_open(struct mts_store **out, const char *dir, unsigned flags, size_t initial_mapsize)
{
    struct stat st;
    bool rdonly = flags & MTS_STORE_RDONLY;
    *out = NULL;
    if ((flags & MTS_STORE_CREATE) && rdonly)
        return -EINVAL;
    if ((flags & MTS_STORE_CREATE) && mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -errno;
    if (stat(dir, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;

    struct mts_store *store = calloc(1, sizeof *store);
    if (!store)
        return -ENOMEM;
    store->rdonly = rdonly;
    store->dev = st.st_dev;
    store->ino = st.st_ino;
    atomic_init(&store->has_writer, false);
    int rc = registry_add(store);
    if (rc) {
        free(store);
        return rc;
    }
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* The writer must not starve behind a stream of short reads when the map is full. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&store->maplock, &attr);
    pthread_rwlockattr_destroy(&attr);

    rc = mdb_env_create(&store->env);
    if (rc)
        goto fail_noenv;
    if (initial_mapsize == 0) {
        /* A new environment starts at the default; an existing one keeps its own size. */
        char path[4096];
        struct stat dst;
        int n = snprintf(path, sizeof path, "%s/data.mdb", dir);
        if (n < 0 || (size_t)n >= sizeof path) {
            rc = -ENAMETOOLONG;
            goto fail;
        }
        if (stat(path, &dst) != 0)
            initial_mapsize = MTS_STORE_DEFAULT_MAPSIZE;
    }
    if (initial_mapsize && (rc = mdb_env_set_mapsize(store->env, initial_mapsize)) != 0)
        goto fail;
    if ((rc = mdb_env_set_maxdbs(store->env, 8)) != 0)
        goto fail;
    unsigned envflags = MDB_NOTLS;
    if (rdonly)
        envflags |= MDB_RDONLY;
    if (flags & MTS_STORE_NOMETASYNC)
        envflags |= MDB_NOMETASYNC;
    if ((rc = mdb_env_open(store->env, dir, envflags, 0644)) != 0)
        goto fail;
    int dead;
    /* Free the reader slots of processes that died with a read transaction open. */
    if ((rc = mdb_reader_check(store->env, &dead)) != 0)
        goto fail;
    mdb_filehandle_t fd;
    struct stat fst;
    if (mdb_env_get_fd(store->env, &fd) == 0 && fstat(fd, &fst) == 0)
        store->data_ino = fst.st_ino;
    store->maxkey = (size_t)mdb_env_get_maxkeysize(store->env);
    if (store->maxkey > MTS_KEY_MAX - 1) /* room for the separator iteration appends */
        store->maxkey = MTS_KEY_MAX - 1;
    if ((rc = open_databases(store)) != 0)
        goto fail;
    *out = store;
    return 0;
fail:
    mdb_env_close(store->env);
fail_noenv:
    pthread_rwlock_destroy(&store->maplock);
    registry_remove(store);
    free(store);
    return mts_store__err(rc);
}

void mts_store_close(struct mts_store *store)
{
    if (!store)
        return;
    mdb_env_close(store->env);
    pthread_rwlock_destroy(&store->maplock);
    registry_remove(store);
    free(store);
}

void mts_store__release_map_pages(struct mts_store *store)
{
    /* The map is a read-only shared file mapping (no MDB_WRITEMAP): dropping its pages only
       empties page tables; the next access faults the same bytes back from the page cache,
       so readers that are inside the map meanwhile are unaffected. LMDB does not tell
       where it mapped the file (mdb_env_info's address is only set with MDB_FIXEDMAP), so
       the mapping is found by the data file's inode; the map lock keeps it from moving. */
    if (!store->data_ino)
        return;
    FILE *maps = fopen("/proc/self/maps", "re");
    if (!maps)
        return;
    char line[512];
    pthread_rwlock_rdlock(&store->maplock);
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi, off, ino;
        unsigned major, minor;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &major, &minor,
                   &ino) == 7 &&
            ino == store->data_ino && strstr(line, "data.mdb"))
            madvise((void *)lo, hi - lo, MADV_DONTNEED);
    }
    pthread_rwlock_unlock(&store->maplock);
    fclose(maps);
}

size_t mts_store_mapsize(struct mts_store *store)
{
    MDB_envinfo info;
    pthread_rwlock_rdlock(&store->maplock);
    int rc = mdb_env_info(store->env, &info);
    pthread_rwlock_unlock(&store->maplock);
    return rc == 0 ? info.me_mapsize : 0;
}

/* Look up key in dbi and parse it as a record. */
/* Each lookup touches at least a leaf page of 4 KiB: this many cover the 16 MiB after which
   the iterations hand the map's pages back (a diff looks up every domain of a scan). */
#define RELEASE_EVERY_LOOKUPS 4096

static int get_record(struct mts_store *store, MDB_dbi dbi, const unsigned char *key, size_t klen,
                      json_t **out)
{
    MDB_txn *txn;
    MDB_val k = {klen, (void *)key}, v;
    *out = NULL;
    int rc = mts_store__rdtxn_begin(store, &txn);
    if (rc)
        return rc;
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0)
        rc = mts_store__decode(v.mv_data, v.mv_size, out);
    else if (rc == MDB_NOTFOUND)
        rc = MTS_STORE_NOTFOUND;
    mts_store__rdtxn_end(store, txn);
    if (atomic_fetch_add(&store->lookups, 1) % RELEASE_EVERY_LOOKUPS == RELEASE_EVERY_LOOKUPS - 1)
        mts_store__release_map_pages(store);
    return mts_store__err(rc);
}

int mts_store_scan_get(struct mts_store *store, const char *scan, json_t **out)
{
    unsigned char key[MTS_KEY_MAX];
    size_t klen;
    *out = NULL;
    int rc = mts_store__key(store, key, &klen, scan, NULL, NULL);
    return rc ? rc : get_record(store, store->dbi_scans, key, klen, out);
}

int mts_store_domain_get(struct mts_store *store, const char *scan, const char *domain,
                         json_t **out)
{
    unsigned char key[MTS_KEY_MAX];
    size_t klen;
    *out = NULL;
    int rc = mts_store__key(store, key, &klen, scan, domain, NULL);
    return rc ? rc : get_record(store, store->dbi_domains, key, klen, out);
}

bool mts_store_mxprobe_key_fits(const struct mts_store *store, const char *scan, const char *host,
                                const char *addr)
{
    unsigned char key[MTS_KEY_MAX];
    size_t klen;
    return mts_store__mxprobe_key(store, key, &klen, scan, host, addr) == 0;
}

int mts_store_mxprobe_get(struct mts_store *store, const char *scan, const char *host,
                          const char *addr, json_t **out)
{
    unsigned char key[MTS_KEY_MAX];
    size_t klen;
    *out = NULL;
    int rc = mts_store__mxprobe_key(store, key, &klen, scan, host, addr);
    return rc ? rc : get_record(store, store->dbi_mxprobes, key, klen, out);
}

bool mts_store_domain_done(struct mts_store *store, const char *scan, const char *domain)
{
    unsigned char key[MTS_KEY_MAX];
    size_t klen;
    MDB_txn *txn;
    if (mts_store__key(store, key, &klen, scan, domain, NULL) != 0)
        return false;
    if (mts_store__rdtxn_begin(store, &txn) != 0)
        return false;
    MDB_val k = {klen, key}, v;
    bool done = mdb_get(txn, store->dbi_domains, &k, &v) == 0;
    mts_store__rdtxn_end(store, txn);
    return done;
}

int mts_store_policy_get(struct mts_store *store, const unsigned char sha256[MTS_STORE_SHA256_LEN],
                         unsigned char **body, size_t *len)
{
    MDB_txn *txn;
    MDB_val k = {MTS_STORE_SHA256_LEN, (void *)sha256}, v;
    *body = NULL;
    *len = 0;
    int rc = mts_store__rdtxn_begin(store, &txn);
    if (rc)
        return rc;
    rc = mdb_get(txn, store->dbi_policies, &k, &v);
    if (rc == 0) {
        unsigned char *copy = malloc(v.mv_size + 1);
        if (copy) {
            memcpy(copy, v.mv_data, v.mv_size);
            copy[v.mv_size] = '\0';
            *body = copy;
            *len = v.mv_size;
        } else {
            rc = -ENOMEM;
        }
    } else if (rc == MDB_NOTFOUND) {
        rc = MTS_STORE_NOTFOUND;
    }
    mts_store__rdtxn_end(store, txn);
    return mts_store__err(rc);
}

/* One record copied out of a read transaction: key suffix (NUL-terminated) and value. */
struct chunk_entry {
    char *key;
    size_t klen;
    char *val;
    size_t vlen;
};

/* Called with each chunk of copied records; keys are the part after the prefix. */
typedef int range_visit(void *ctx, const struct chunk_entry *e, size_t n);

static void chunk_clear(struct chunk_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].key);
        free(e[i].val);
    }
}

/*
 * Copy up to ITER_CHUNK records of dbi whose keys start with prefix and come after *last
 * (or from the start of the range when *lastlen is 0). Updates last/lastlen.
 */
static int read_chunk(struct mts_store *store, MDB_dbi dbi, const unsigned char *prefix,
                      size_t plen, unsigned char *last, size_t *lastlen, struct chunk_entry *e,
                      size_t *n)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    *n = 0;
    int rc = mts_store__rdtxn_begin(store, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        goto out_txn;
    MDB_val k, v;
    if (*lastlen) {
        k.mv_size = *lastlen;
        k.mv_data = last;
    } else {
        k.mv_size = plen;
        k.mv_data = (void *)prefix;
    }
    rc = plen || *lastlen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
                          : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0 && *lastlen && k.mv_size == *lastlen && memcmp(k.mv_data, last, *lastlen) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    while (rc == 0 && *n < ITER_CHUNK) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0 || k.mv_size > MTS_KEY_MAX)
            break;
        struct chunk_entry *c = &e[*n];
        c->klen = k.mv_size - plen;
        c->key = malloc(c->klen + 1);
        c->val = malloc(v.mv_size ? v.mv_size : 1);
        if (!c->key || !c->val) {
            free(c->key);
            free(c->val);
            rc = -ENOMEM;
            break;
        }
        memcpy(c->key, (char *)k.mv_data + plen, c->klen);
        c->key[c->klen] = '\0';
        memcpy(c->val, v.mv_data, v.mv_size);
        c->vlen = v.mv_size;
        memcpy(last, k.mv_data, k.mv_size);
        *lastlen = k.mv_size;
        (*n)++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    mdb_cursor_close(cur);
out_txn:
    mts_store__rdtxn_end(store, txn);
    return mts_store__err(rc);
}

/* Keys and values read between two hand-backs of the map's pages (see
   mts_store__release_map_pages): leaf pages are about two-thirds full and each node has
   a header, so this is about 6 MiB of the map. */
#define RELEASE_EVERY_READ ((size_t)4 << 20)
#define NODE_HEADER        8 /* bytes of an LMDB leaf node besides its key and value */

/* Visit every record of dbi under prefix in key order, a chunk per read transaction. */
static int foreach_range(struct mts_store *store, MDB_dbi dbi, const unsigned char *prefix,
                         size_t plen, range_visit *visit, void *ctx)
{
    unsigned char last[MTS_KEY_MAX];
    size_t lastlen = 0;
    struct chunk_entry *e = malloc(ITER_CHUNK * sizeof *e);
    if (!e)
        return -ENOMEM;
    int rc;
    size_t read_since_release = 0;
    for (;;) {
        size_t n;
        rc = read_chunk(store, dbi, prefix, plen, last, &lastlen, e, &n);
        for (size_t i = 0; i < n; i++)
            read_since_release += e[i].klen + e[i].vlen + NODE_HEADER;
        if (rc == 0 && n)
            rc = visit(ctx, e, n);
        chunk_clear(e, n);
        /* A walk over the whole store would otherwise keep every page it read resident. */
        if (read_since_release >= RELEASE_EVERY_READ) {
            mts_store__release_map_pages(store);
            read_since_release = 0;
        }
        if (rc || n < ITER_CHUNK)
            break;
    }
    free(e);
    return rc;
}

/* Called for each decoded record of a chunk; key is the part after the prefix. */
typedef int record_visit(void *ctx, const char *key, size_t klen, json_t *rec);

struct each_ctx {
    record_visit *visit;
    void *ctx;
};

static int decode_each(void *ctx, const struct chunk_entry *e, size_t n)
{
    struct each_ctx *c = ctx;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *rec;
        rc = mts_store__decode(e[i].val, e[i].vlen, &rec);
        if (rc == 0)
            rc = c->visit(c->ctx, e[i].key, e[i].klen, rec);
    }
    return rc;
}

struct scan_ctx {
    mts_store_scan_cb *cb;
    void *arg;
};

static int visit_scan(void *ctx, const char *key, size_t klen, json_t *rec)
{
    struct scan_ctx *c = ctx;
    (void)klen;
    return c->cb(c->arg, key, rec);
}

int mts_store_foreach_scan(struct mts_store *store, mts_store_scan_cb *cb, void *arg)
{
    struct scan_ctx c = {cb, arg};
    struct each_ctx each = {visit_scan, &c};
    return foreach_range(store, store->dbi_scans, (const unsigned char *)"", 0, decode_each, &each);
}

/* The key prefix of scan's records in the domains and mxprobes tables. */
static int scan_prefix(struct mts_store *store, const char *scan, unsigned char *prefix,
                       size_t *plen)
{
    int rc = mts_store__key(store, prefix, plen, scan, NULL, NULL);
    if (rc == 0)
        prefix[(*plen)++] = '\0'; /* the separator: scan "a" must not match scan "ab" */
    return rc;
}

struct domain_ctx {
    mts_store_domain_cb *cb;
    void *arg;
};

static int visit_domain(void *ctx, const char *key, size_t klen, json_t *rec)
{
    struct domain_ctx *c = ctx;
    (void)klen;
    return c->cb(c->arg, key, rec);
}

int mts_store_foreach_domain(struct mts_store *store, const char *scan, mts_store_domain_cb *cb,
                             void *arg)
{
    unsigned char prefix[MTS_KEY_MAX];
    size_t plen;
    struct domain_ctx c = {cb, arg};
    struct each_ctx each = {visit_domain, &c};
    int rc = scan_prefix(store, scan, prefix, &plen);
    if (rc)
        return rc;
    return foreach_range(store, store->dbi_domains, prefix, plen, decode_each, &each);
}

struct batch_ctx {
    mts_store_domain_batch_cb *cb;
    void *arg;
};

static int visit_batch(void *ctx, const struct chunk_entry *e, size_t n)
{
    struct batch_ctx *c = ctx;
    struct mts_store_raw raw[ITER_CHUNK];
    for (size_t i = 0; i < n; i++)
        raw[i] = (struct mts_store_raw){e[i].key, e[i].val, e[i].vlen};
    return c->cb(c->arg, raw, n);
}

int mts_store_foreach_domain_batch(struct mts_store *store, const char *scan,
                                   mts_store_domain_batch_cb *cb, void *arg)
{
    unsigned char prefix[MTS_KEY_MAX];
    size_t plen;
    struct batch_ctx c = {cb, arg};
    int rc = scan_prefix(store, scan, prefix, &plen);
    if (rc)
        return rc;
    return foreach_range(store, store->dbi_domains, prefix, plen, visit_batch, &c);
}

int mts_store_decode(const struct mts_store_raw *raw, json_t **rec)
{
    return mts_store__decode(raw->val, raw->vlen, rec);
}

int mts_store_decode_pruned(const struct mts_store_raw *raw, const char *const *drop, json_t **rec)
{
    return mts_store__decode_pruned(raw->val, raw->vlen, drop, rec);
}

struct mxprobe_ctx {
    mts_store_mxprobe_cb *cb;
    void *arg;
};

static int visit_mxprobe(void *ctx, const char *key, size_t klen, json_t *rec)
{
    struct mxprobe_ctx *c = ctx;
    size_t hlen = strnlen(key, klen);
    if (hlen == klen) { /* no separator: not a key this store wrote */
        json_decref(rec);
        return MTS_STORE_ECORRUPT;
    }
    return c->cb(c->arg, key, key + hlen + 1, rec);
}

int mts_store_foreach_mxprobe(struct mts_store *store, const char *scan, mts_store_mxprobe_cb *cb,
                              void *arg)
{
    unsigned char prefix[MTS_KEY_MAX];
    size_t plen;
    struct mxprobe_ctx c = {cb, arg};
    struct each_ctx each = {visit_mxprobe, &c};
    int rc = scan_prefix(store, scan, prefix, &plen);
    if (rc)
        return rc;
    return foreach_range(store, store->dbi_mxprobes, prefix, plen, decode_each, &each);
}

/* Domains counted per read transaction: between two, the map's pages are handed back. */
#define COUNT_CHUNK 16384

int mts_store_count_domains(struct mts_store *store, const char *scan, uint64_t *count)
{
    unsigned char prefix[MTS_KEY_MAX], last[MTS_KEY_MAX];
    size_t plen, lastlen;
    *count = 0;
    int rc = scan_prefix(store, scan, prefix, &plen);
    if (rc)
        return rc;
    memcpy(last, prefix, plen);
    lastlen = plen;
    for (bool more = true; more && rc == 0;) {
        MDB_txn *txn;
        MDB_cursor *cur;
        size_t n = 0;
        more = false;
        if ((rc = mts_store__rdtxn_begin(store, &txn)) != 0)
            return rc;
        if ((rc = mdb_cursor_open(txn, store->dbi_domains, &cur)) == 0) {
            MDB_val k = {lastlen, last}, v;
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
            /* After the first chunk, the range starts at the last key counted. */
            if (rc == 0 && *count && k.mv_size == lastlen && memcmp(k.mv_data, last, lastlen) == 0)
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                if (k.mv_size < plen || k.mv_size > MTS_KEY_MAX ||
                    memcmp(k.mv_data, prefix, plen) != 0)
                    break;
                (*count)++;
                if (++n == COUNT_CHUNK) {
                    memcpy(last, k.mv_data, k.mv_size);
                    lastlen = k.mv_size;
                    more = true;
                    break;
                }
            }
            if (rc == MDB_NOTFOUND)
                rc = 0;
            mdb_cursor_close(cur);
        }
        mts_store__rdtxn_end(store, txn);
        mts_store__release_map_pages(store);
    }
    return mts_store__err(rc);
}
