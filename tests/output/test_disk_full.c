/*
 * A full disk never loses committed records. On a 2 MiB tmpfs the writer runs until a
 * commit fails; the error must become sticky (put, flush and stop return it), and after a
 * clean stop the environment reopens read-only with every record the writer reported
 * committed present and intact. Needs root for mount(2): skipped otherwise.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/mount.h>

#include "check.h"
#include "mts_store.h"
#include "mts_writer.h"
#include "util.h"

#define SCAN "full"

static atomic_ullong committed;
static atomic_int failed_err, failed_calls;

static void on_commit(void *arg, const struct mts_writer_commit *info)
{
    (void)arg;
    if (info->err) {
        atomic_store(&failed_err, info->err);
        atomic_fetch_add(&failed_calls, 1);
    } else {
        atomic_store(&committed, info->total);
    }
}

int main(void)
{
    char dir[256], env[300], domain[64];
    if (geteuid() != 0) {
        printf("SKIP: mounting a tmpfs needs root\n");
        return TEST_SKIP;
    }
    util_tmpdir(dir, sizeof dir, "full");
    if (mount("tmpfs", dir, "tmpfs", 0, "size=2m") != 0) {
        printf("SKIP: mount tmpfs: %s\n", strerror(errno));
        rmdir(dir);
        return TEST_SKIP;
    }
    util_path(env, sizeof env, dir, "env");

    struct mts_store *s;
    struct mts_writer *w;
    CHECK_INT(mts_store_open(&s, env, MTS_STORE_CREATE, 256 << 10), 0);
    struct mts_writer_opts opts = {.batch_max = 50, .max_latency_ms = 5, .on_commit = on_commit};
    CHECK_INT(mts_writer_start(&w, s, &opts), 0);
    long i, puts_ok = 0;
    int rc = 0;
    for (i = 0; i < 100000 && rc == 0; i++) {
        snprintf(domain, sizeof domain, "f%06ld.example", i);
        rc = mts_writer_put_domain(w, SCAN, domain, util_domain_record(SCAN, domain, i, i % 2));
        puts_ok += rc == 0;
    }
    printf("first error after %ld puts: %s\n", puts_ok, mts_store_strerror(rc));
    /* LMDB reports a short write (the disk filled mid-page) as EIO. */
    CHECK(rc == -ENOSPC || rc == -EIO);
    CHECK_INT(atomic_load(&failed_calls), 1);
    CHECK_INT(atomic_load(&failed_err), rc);
    /* Sticky: every later call says the same, and frees what it is given. */
    CHECK_INT(mts_writer_put_domain(w, SCAN, "late.example", json_pack("{s:i}", "v", 1)), rc);
    CHECK_INT(
        mts_writer_put_policy(w, (const unsigned char *)"0123456789abcdef0123456789abcdef", "x", 1),
        rc);
    CHECK_INT(mts_writer_flush(w), rc);
    struct mts_writer_stats st;
    mts_writer_stats(w, &st);
    CHECK_INT(st.err, rc);
    CHECK_INT(st.committed, atomic_load(&committed));
    CHECK(st.committed > 0 && st.committed < (uint64_t)puts_ok);
    CHECK_INT(mts_writer_stop(w), rc);
    mts_store_close(s);

    /* Everything reported committed is there and intact. */
    uint64_t n = atomic_load(&committed), count;
    CHECK_INT(mts_store_open(&s, env, MTS_STORE_RDONLY, 0), 0);
    CHECK_INT(mts_store_count_domains(s, SCAN, &count), 0);
    CHECK_INT(count, n);
    for (uint64_t k = 0; k < n; k++) {
        json_t *rec;
        snprintf(domain, sizeof domain, "f%06llu.example", (unsigned long long)k);
        rc = mts_store_domain_get(s, SCAN, domain, &rec);
        CHECK_INT(rc, 0);
        if (rc)
            break;
        json_t *want = util_domain_record(SCAN, domain, (long)k, k % 2);
        CHECK(json_equal(rec, want));
        json_decref(want);
        json_decref(rec);
    }
    printf("%llu records committed before the disk filled, all read back\n", (unsigned long long)n);
    mts_store_close(s);
    CHECK_INT(umount2(dir, 0), 0);
    rmdir(dir);
    return check_exit();
}
