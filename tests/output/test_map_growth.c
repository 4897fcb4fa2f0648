/*
 * A store that starts with a 1 MiB map and receives about 20 MiB of records must grow its
 * map (several doublings) without losing or refusing anything, while another thread keeps
 * reading: the map lock must keep readers and mdb_env_set_mapsize apart.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "mts_store.h"
#include "mts_writer.h"
#include "util.h"

#define NRECORDS 12000 /* about 1.7 KB each on average: about 20 MiB */
#define SCAN     "grow"

static atomic_bool stop_reader;
static atomic_long reader_ops, reader_hits, reader_bad;
static atomic_ullong committed_domains;

static void on_commit(void *arg, const struct mts_writer_commit *info)
{
    (void)arg;
    atomic_store(&committed_domains, info->total_domains);
}

static void *reader(void *arg)
{
    struct mts_store *s = arg;
    char domain[64];
    unsigned seed = 1;
    while (!atomic_load(&stop_reader)) {
        unsigned long long done = atomic_load(&committed_domains);
        if (done == 0)
            continue;
        long i = (long)(rand_r(&seed) % done);
        snprintf(domain, sizeof domain, "g%06ld.example", i);
        json_t *rec;
        /* A domain reported committed is always there, whatever the map is doing.
           (check.h's counters are not thread-safe: failures are tallied here.) */
        if (!mts_store_domain_done(s, SCAN, domain))
            atomic_fetch_add(&reader_bad, 1);
        if (mts_store_domain_get(s, SCAN, domain, &rec) == 0) {
            if (json_integer_value(json_object_get(rec, "seq")) != i)
                atomic_fetch_add(&reader_bad, 1);
            json_decref(rec);
            atomic_fetch_add(&reader_hits, 1);
        } else {
            atomic_fetch_add(&reader_bad, 1);
        }
        atomic_fetch_add(&reader_ops, 1);
    }
    return NULL;
}

static int verify(void *arg, const char *domain, json_t *rec)
{
    long *n = arg;
    char want[64];
    snprintf(want, sizeof want, "g%06ld.example", *n);
    CHECK_STR(domain, want);
    CHECK_INT(json_integer_value(json_object_get(rec, "seq")), *n);
    (*n)++;
    json_decref(rec);
    return 0;
}

int main(void)
{
    char dir[256];
    struct mts_store *s;
    struct mts_writer *w;
    pthread_t rt;
    util_tmpdir(dir, sizeof dir, "grow");
    CHECK_INT(mts_store_open(&s, dir, 0, 1 << 20), 0);
    CHECK_INT(mts_store_mapsize(s), 1 << 20);
    struct mts_writer_opts opts = {.batch_max = 500, .max_latency_ms = 50, .on_commit = on_commit};
    CHECK_INT(mts_writer_start(&w, s, &opts), 0);
    CHECK_INT(pthread_create(&rt, NULL, reader, s), 0);
    char domain[64];
    for (long i = 0; i < NRECORDS; i++) {
        snprintf(domain, sizeof domain, "g%06ld.example", i);
        int rc = mts_writer_put_domain(w, SCAN, domain, util_domain_record(SCAN, domain, i, i % 2));
        CHECK_INT(rc, 0);
        if (rc)
            break;
    }
    CHECK_INT(mts_writer_flush(w), 0);
    atomic_store(&stop_reader, true);
    pthread_join(rt, NULL);
    struct mts_writer_stats st;
    mts_writer_stats(w, &st);
    CHECK_INT(st.committed, NRECORDS);
    CHECK(st.map_growths >= 4); /* 1 MiB -> at least 16 MiB */
    CHECK(mts_store_mapsize(s) >= (size_t)20 << 20);
    CHECK_INT(mts_writer_stop(w), 0);
    printf("map %zu MiB after %llu growths; reader %ld lookups, %ld hits\n",
           mts_store_mapsize(s) >> 20, (unsigned long long)st.map_growths, atomic_load(&reader_ops),
           atomic_load(&reader_hits));
    CHECK(atomic_load(&reader_ops) > 0);
    CHECK_INT(atomic_load(&reader_bad), 0);
    mts_store_close(s);

    /* Reopened (taking the grown size from the environment), everything reads back. */
    CHECK_INT(mts_store_open(&s, dir, MTS_STORE_RDONLY, 0), 0);
    CHECK(mts_store_mapsize(s) >= (size_t)20 << 20);
    uint64_t count;
    CHECK_INT(mts_store_count_domains(s, SCAN, &count), 0);
    CHECK_INT(count, NRECORDS);
    long n = 0;
    CHECK_INT(mts_store_foreach_domain(s, SCAN, verify, &n), 0);
    CHECK_INT(n, NRECORDS);
    mts_store_close(s);
    util_rmtree(dir);
    return check_exit();
}
