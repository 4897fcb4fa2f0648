/*
 * The batched writer. Why a thread: an LMDB commit ends in fsync, which can take
 * milliseconds to seconds, and the scanner's event loop must never wait on the disk. Why
 * batches: one durable commit costs the same two syncs for one record or ten thousand.
 * Records wait in one FIFO (so "n records committed" names exactly the first n submitted),
 * are serialised on this thread, and are kept until their transaction commits, so a full
 * map can be grown and the batch written again. Design: docs/store.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mts_writer.h"
#include "store_internal.h"

#define DEFAULT_BATCH_MAX   1000
#define DEFAULT_LATENCY_MS  200
#define DEFAULT_QUEUE_RATIO 4

enum item_kind { ITEM_SCAN, ITEM_DOMAIN, ITEM_MXPROBE, ITEM_POLICY };

struct item {
    struct item *next;
    enum item_kind kind;
    json_t *rec; /* owned until serialised into val; NULL for policies and text */
    char *val;   /* owned: serialised record, policy body copy, or JSON text to encode */
    size_t vlen;
    bool text;          /* val is JSON text still to be encoded */
    struct timespec at; /* when it was queued (CLOCK_MONOTONIC) */
    size_t klen;
    unsigned char key[];
};

struct mts_writer {
    struct mts_store *store; /* borrowed */
    struct mts_writer_opts opts;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* to the writer thread: records queued, flush, stop */
    pthread_cond_t done; /* to put/flush callers: a commit or an error */
    /* Everything below is protected by mu. */
    struct item *head, **tailp;
    size_t queued;
    uint64_t submitted, committed, committed_domains, commits, growths;
    uint64_t flush_target; /* commit at once while committed < flush_target */
    bool stopping;
    bool behind;             /* mts_writer_behind() said so; on_drained is owed */
    unsigned test_delay_ms;  /* MTS_WRITER_TEST_DELAY_ENV: a slow disk, for tests */
    int err;                 /* sticky */
    size_t written_unmapped; /* writer thread only: bytes committed since the last release */
};

static void item_free(struct item *it)
{
    json_decref(it->rec);
    free(it->val);
    free(it);
}

static void list_free(struct item *it)
{
    while (it) {
        struct item *next = it->next;
        item_free(it);
        it = next;
    }
}

static MDB_dbi item_dbi(const struct mts_store *s, enum item_kind kind)
{
    switch (kind) {
    case ITEM_SCAN:
        return s->dbi_scans;
    case ITEM_DOMAIN:
        return s->dbi_domains;
    case ITEM_MXPROBE:
        return s->dbi_mxprobes;
    case ITEM_POLICY:
        return s->dbi_policies;
    }
    abort();
}

/* Write the batch in one transaction; grows the map and retries on MDB_MAP_FULL. */
static int write_batch(struct mts_writer *w, struct item *batch, uint64_t *growths)
{
    struct mts_store *s = w->store;
    for (struct item *it = batch; it; it = it->next) {
        int rc = 0;
        if (it->text) {
            char *json = it->val;
            it->val = NULL;
            it->text = false;
            rc = mts_store__encode_text(json, it->vlen, &it->val, &it->vlen);
        } else if (it->rec) {
            rc = mts_store__encode(it->rec, &it->val, &it->vlen);
            json_decref(it->rec);
            it->rec = NULL;
        }
        if (rc)
            return rc;
    }
    for (;;) {
        MDB_txn *txn;
        int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        if (rc == MDB_MAP_RESIZED) {
            if ((rc = mts_store__adopt_mapsize(s)) != 0)
                return rc;
            continue;
        }
        if (rc)
            return mts_store__err(rc);
        for (struct item *it = batch; it && rc == 0; it = it->next) {
            MDB_val k = {it->klen, it->key}, v = {it->vlen, it->val};
            unsigned flags = it->kind == ITEM_POLICY ? MDB_NOOVERWRITE : 0;
            rc = mdb_put(txn, item_dbi(s, it->kind), &k, &v, flags);
            if (rc == MDB_KEYEXIST)
                rc = 0; /* that body is already stored */
        }
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc != MDB_MAP_FULL)
            return mts_store__err(rc);
        if ((rc = mts_store__grow(s)) != 0)
            return rc;
        (*growths)++;
    }
}

/* Writing reads LMDB's map, and the pages it touched would count as the scanner's memory
   for the rest of the scan; they are handed back after this many bytes of records. */
#define RELEASE_EVERY ((size_t)16 << 20)

static struct timespec deadline_after(struct timespec t, unsigned ms)
{
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void *writer_main(void *arg)
{
    struct mts_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->mu);
        if (!w->head)
            break;
        /* Collect: until the batch is full, the oldest record is old enough, or asked. */
        struct timespec deadline = deadline_after(w->head->at, w->opts.max_latency_ms);
        while (w->queued < w->opts.batch_max && !w->stopping && w->committed >= w->flush_target) {
            if (pthread_cond_timedwait(&w->wake, &w->mu, &deadline) == ETIMEDOUT)
                break;
        }
        struct item *batch = w->head, *last = w->head;
        struct mts_writer_commit info = {0};
        for (size_t n = 1; n < w->opts.batch_max && last->next; n++)
            last = last->next;
        w->head = last->next;
        last->next = NULL;
        if (!w->head)
            w->tailp = &w->head;
        for (struct item *it = batch; it; it = it->next) {
            info.records++;
            info.scans += it->kind == ITEM_SCAN;
            info.domains += it->kind == ITEM_DOMAIN;
            info.mxprobes += it->kind == ITEM_MXPROBE;
            info.policies += it->kind == ITEM_POLICY;
        }
        w->queued -= info.records;
        pthread_mutex_unlock(&w->mu);

        if (w->test_delay_ms) {
            struct timespec d = {w->test_delay_ms / 1000,
                                 (long)(w->test_delay_ms % 1000) * 1000000L};
            nanosleep(&d, NULL);
        }
        uint64_t growths = 0;
        int rc = write_batch(w, batch, &growths);
        for (struct item *it = batch; it; it = it->next)
            w->written_unmapped += it->klen + it->vlen;
        list_free(batch);
        if (rc == 0 && w->written_unmapped >= RELEASE_EVERY) {
            mts_store__release_map_pages(w->store);
            w->written_unmapped = 0;
        }

        /* Notify before waking flush/stop: when they return, the callbacks have run. Only
           this thread changes the counters, so reading them unlocked here is safe. */
        if (rc == 0) {
            info.total = w->committed + info.records;
            info.total_domains = w->committed_domains + info.domains;
        } else {
            info = (struct mts_writer_commit){
                .total = w->committed, .total_domains = w->committed_domains, .err = rc};
        }
        if (w->opts.on_commit)
            w->opts.on_commit(w->opts.on_commit_arg, &info);

        pthread_mutex_lock(&w->mu);
        w->growths += growths;
        if (rc == 0) {
            w->committed = info.total;
            w->committed_domains = info.total_domains;
            w->commits++;
        } else {
            /* Sticky: refuse from now on and drop what waits; committed data is intact. */
            w->err = rc;
            list_free(w->head);
            w->head = NULL;
            w->tailp = &w->head;
            w->queued = 0;
        }
        if (w->behind && (rc != 0 || w->submitted - w->committed <= w->opts.low_mark)) {
            w->behind = false;
            if (w->opts.on_drained)
                w->opts.on_drained(w->opts.on_drained_arg);
        }
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int mts_writer_start(struct mts_writer **out, struct mts_store *store,
                     const struct mts_writer_opts *opts)
{
    *out = NULL;
    if (store->rdonly)
        return -EROFS;
    bool expected = false;
    if (!atomic_compare_exchange_strong(&store->has_writer, &expected, true))
        return -EBUSY;
    struct mts_writer *w = calloc(1, sizeof *w);
    if (!w) {
        atomic_store(&store->has_writer, false);
        return -ENOMEM;
    }
    w->store = store;
    if (opts)
        w->opts = *opts;
    if (w->opts.batch_max == 0)
        w->opts.batch_max = DEFAULT_BATCH_MAX;
    if (w->opts.max_latency_ms == 0)
        w->opts.max_latency_ms = DEFAULT_LATENCY_MS;
    if (w->opts.queue_max == 0)
        w->opts.queue_max = DEFAULT_QUEUE_RATIO * w->opts.batch_max;
    if (w->opts.queue_max < w->opts.batch_max)
        w->opts.queue_max = w->opts.batch_max;
    if (w->opts.high_mark == 0 || w->opts.high_mark > w->opts.queue_max)
        w->opts.high_mark = w->opts.queue_max;
    if (w->opts.low_mark == 0 || w->opts.low_mark >= w->opts.high_mark)
        w->opts.low_mark = w->opts.high_mark / 4;
    const char *delay = getenv(MTS_WRITER_TEST_DELAY_ENV);
    if (delay)
        w->test_delay_ms = (unsigned)strtoul(delay, NULL, 10);
    w->tailp = &w->head;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, &ca);
    pthread_cond_init(&w->done, NULL);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc) {
        pthread_cond_destroy(&w->done);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->mu);
        free(w);
        atomic_store(&store->has_writer, false);
        return -rc;
    }
    *out = w;
    return 0;
}

/* Queue it (taking ownership), blocking while the queue is full. */
static int enqueue(struct mts_writer *w, struct item *it)
{
    clock_gettime(CLOCK_MONOTONIC, &it->at);
    pthread_mutex_lock(&w->mu);
    while (!w->err && w->submitted - w->committed >= w->opts.queue_max)
        pthread_cond_wait(&w->done, &w->mu);
    int rc = w->err;
    if (rc == 0) {
        it->next = NULL;
        *w->tailp = it;
        w->tailp = &it->next;
        w->queued++;
        w->submitted++;
        /* The writer needs waking only to start a batch's deadline or to take a full
           batch; a wake per record would cost the scanner a system call per domain. */
        if (w->queued == 1 || w->queued >= w->opts.batch_max)
            pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->mu);
    if (rc)
        item_free(it);
    return rc;
}

/* A queue item for the key (a, b, c), its payload still to be set; NULL with *rc set. */
static struct item *item_new(struct mts_writer *w, enum item_kind kind, const char *a,
                             const char *b, const char *c, int *rc)
{
    unsigned char key[MTS_KEY_MAX];
    size_t klen;
    *rc = kind == ITEM_MXPROBE ? mts_store__mxprobe_key(w->store, key, &klen, a, b, c)
                               : mts_store__key(w->store, key, &klen, a, b, c);
    if (*rc != 0)
        return NULL;
    struct item *it = malloc(sizeof *it + klen);
    if (!it) {
        *rc = -ENOMEM;
        return NULL;
    }
    *it = (struct item){.kind = kind, .klen = klen};
    memcpy(it->key, key, klen);
    return it;
}

static int put_record(struct mts_writer *w, enum item_kind kind, const char *a, const char *b,
                      const char *c, json_t *rec)
{
    int rc;
    struct item *it = item_new(w, kind, a, b, c, &rc);
    if (it && !(json_is_object(rec) && json_is_integer(json_object_get(rec, "v")))) {
        free(it);
        it = NULL;
        rc = MTS_STORE_ERECORD;
    }
    if (!it) {
        json_decref(rec);
        return rc;
    }
    it->rec = rec;
    return enqueue(w, it);
}

int mts_writer_put_scan(struct mts_writer *w, const char *scan, json_t *rec)
{
    return put_record(w, ITEM_SCAN, scan, NULL, NULL, rec);
}

int mts_writer_put_domain(struct mts_writer *w, const char *scan, const char *domain, json_t *rec)
{
    if (!domain) {
        json_decref(rec);
        return -EINVAL;
    }
    return put_record(w, ITEM_DOMAIN, scan, domain, NULL, rec);
}

int mts_writer_put_domain_text(struct mts_writer *w, const char *scan, const char *domain,
                               char *json, size_t len)
{
    int rc = -EINVAL;
    struct item *it = domain ? item_new(w, ITEM_DOMAIN, scan, domain, NULL, &rc) : NULL;
    if (!it) {
        free(json);
        return rc;
    }
    it->val = json;
    it->vlen = len;
    it->text = true;
    return enqueue(w, it);
}

int mts_writer_put_mxprobe(struct mts_writer *w, const char *scan, const char *host,
                           const char *addr, json_t *rec)
{
    if (!host || !addr) {
        json_decref(rec);
        return -EINVAL;
    }
    return put_record(w, ITEM_MXPROBE, scan, host, addr, rec);
}

int mts_writer_put_policy(struct mts_writer *w, const unsigned char sha256[MTS_STORE_SHA256_LEN],
                          const void *body, size_t len)
{
    struct item *it = malloc(sizeof *it + MTS_STORE_SHA256_LEN);
    char *copy = malloc(len ? len : 1);
    if (!it || !copy) {
        free(it);
        free(copy);
        return -ENOMEM;
    }
    if (len)
        memcpy(copy, body, len);
    *it =
        (struct item){.kind = ITEM_POLICY, .val = copy, .vlen = len, .klen = MTS_STORE_SHA256_LEN};
    memcpy(it->key, sha256, MTS_STORE_SHA256_LEN);
    return enqueue(w, it);
}

int mts_writer_flush(struct mts_writer *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t target = w->submitted;
    if (w->flush_target < target)
        w->flush_target = target;
    pthread_cond_signal(&w->wake);
    while (!w->err && w->committed < target)
        pthread_cond_wait(&w->done, &w->mu);
    int rc = w->err;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

bool mts_writer_behind(struct mts_writer *w)
{
    pthread_mutex_lock(&w->mu);
    if (!w->err && w->submitted - w->committed >= w->opts.high_mark)
        w->behind = true;
    bool behind = w->behind && !w->err;
    pthread_mutex_unlock(&w->mu);
    return behind;
}

void mts_writer_stats(struct mts_writer *w, struct mts_writer_stats *stats)
{
    pthread_mutex_lock(&w->mu);
    *stats = (struct mts_writer_stats){.submitted = w->submitted,
                                       .committed = w->committed,
                                       .pending = w->submitted - w->committed,
                                       .commits = w->commits,
                                       .map_growths = w->growths,
                                       .err = w->err};
    pthread_mutex_unlock(&w->mu);
}

int mts_writer_stop(struct mts_writer *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    w->flush_target = w->submitted;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    int rc = w->err;
    atomic_store(&w->store->has_writer, false);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return rc;
}
