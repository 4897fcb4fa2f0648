/*
 * How fast the writer commits realistic records at each batch size: durable commits cost
 * two fsyncs each, so records/s should grow with the batch until serialisation and B-tree
 * work dominate. Also times mts_store_domain_done, the lookup --resume does per domain.
 * Usage: bench_store [N [DIR]] (N records per batch size, default 20000; DIR default $TMPDIR).
 * Batch size 1 writes min(N, 2000) records: one fsync pair per record is slow by design.
 */
#include <time.h>

#include "mts_store.h"
#include "mts_writer.h"
#include "util.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int bench(const char *base, size_t batch, long n, double *rate, size_t *bytes)
{
    char dir[512], domain[64], scan[32];
    struct mts_store *s;
    struct mts_writer *w;
    snprintf(dir, sizeof dir, "%s/b%zu", base, batch);
    snprintf(scan, sizeof scan, "bench%zu", batch);
    int rc = mts_store_open(&s, dir, MTS_STORE_CREATE, 0);
    if (rc)
        return rc;
    struct mts_writer_opts opts = {.batch_max = batch, .max_latency_ms = 1000};
    if ((rc = mts_writer_start(&w, s, &opts)) != 0)
        return rc;
    *bytes = 0;
    double t0 = now_s();
    for (long i = 0; i < n && rc == 0; i++) {
        snprintf(domain, sizeof domain, "%08lx.example", (unsigned long)i * 2654435761u);
        /* One in five carries a policy fetch with a certificate chain (~3 KB). */
        json_t *rec = util_domain_record(scan, domain, i, i % 5 == 0);
        if (i < 100) {
            char *txt = json_dumps(rec, JSON_COMPACT);
            *bytes += strlen(txt);
            free(txt);
        }
        rc = mts_writer_put_domain(w, scan, domain, rec);
    }
    if (rc == 0)
        rc = mts_writer_flush(w);
    *rate = (double)n / (now_s() - t0);
    *bytes /= (size_t)(n < 100 ? n : 100);
    int src = mts_writer_stop(w);
    mts_store_close(s);
    return rc ? rc : src;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    char base[256];
    if (argc > 2)
        snprintf(base, sizeof base, "%s/mts-bench-XXXXXX", argv[2]);
    else
        snprintf(base, sizeof base, "%s/mts-bench-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    static const size_t batches[] = {1, 10, 100, 1000, 10000};
    /* Baseline: building the records alone (the bench's own cost, on the caller's thread). */
    double tb = now_s();
    for (long i = 0; i < n; i++)
        json_decref(util_domain_record("bench", "00000000.example", i, i % 5 == 0));
    printf("building records alone: %.0f records/s\n\n", (double)n / (now_s() - tb));
    printf("| batch | records | records/s | avg record bytes |\n|---:|---:|---:|---:|\n");
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        long count = batches[b] == 1 && n > 2000 ? 2000 : n;
        double rate;
        size_t bytes;
        int rc = bench(base, batches[b], count, &rate, &bytes);
        if (rc) {
            fprintf(stderr, "batch %zu: %s\n", batches[b], mts_store_strerror(rc));
            return 1;
        }
        printf("| %zu | %ld | %.0f | %zu |\n", batches[b], count, rate, bytes);
        fflush(stdout);
    }

    /* The resume lookup, on the largest store written above, hits and misses alternating. */
    char dir[512], domain[64];
    struct mts_store *s;
    snprintf(dir, sizeof dir, "%s/b10000", base);
    if (mts_store_open(&s, dir, MTS_STORE_RDONLY, 0) == 0) {
        long hits = 0, lookups = 200000;
        double t0 = now_s();
        for (long i = 0; i < lookups; i++) {
            long k = i % 2 ? i % n : n + i;
            snprintf(domain, sizeof domain, "%08lx.example", (unsigned long)k * 2654435761u);
            hits += mts_store_domain_done(s, "bench10000", domain);
        }
        double dt = now_s() - t0;
        printf("\nmts_store_domain_done: %.0f lookups/s (%.2f us each, %ld hits)\n",
               (double)lookups / dt, dt / (double)lookups * 1e6, hits);
        mts_store_close(s);
    }
    util_rmtree(base);
    return 0;
}
