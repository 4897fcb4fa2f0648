/*
 * Round trip of every record kind through the writer and the readers: what goes in comes
 * out, in key order, with the right counts; two scans in one environment stay apart; several
 * stores are open at once; commit notifications count exactly; misuse is refused.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "check.h"
#include "mts_store.h"
#include "mts_writer.h"
#include "util.h"

#define NDOMAINS 500

static atomic_ullong notified_total, notified_domains;
static atomic_int notified_calls;

static void on_commit(void *arg, const struct mts_writer_commit *info)
{
    (void)arg;
    CHECK_INT(info->err, 0);
    CHECK_INT(info->records, info->scans + info->domains + info->mxprobes + info->policies);
    atomic_store(&notified_total, info->total);
    atomic_store(&notified_domains, info->total_domains);
    atomic_fetch_add(&notified_calls, 1);
}

struct iter_state {
    int n;
    char last[256];
    const char *scan;
};

static int count_domain(void *arg, const char *domain, json_t *rec)
{
    struct iter_state *st = arg;
    CHECK(strcmp(st->last, domain) < 0); /* strictly increasing key order */
    CHECK_STR(json_string_value(json_object_get(rec, "domain")), domain);
    CHECK_STR(json_string_value(json_object_get(rec, "scan")), st->scan);
    snprintf(st->last, sizeof st->last, "%s", domain);
    st->n++;
    json_decref(rec);
    return 0;
}

static int stop_at_three(void *arg, const char *domain, json_t *rec)
{
    int *n = arg;
    (void)domain;
    json_decref(rec);
    return ++*n == 3 ? 42 : 0;
}

static int count_probe(void *arg, const char *host, const char *addr, json_t *rec)
{
    int *n = arg;
    CHECK_STR(json_string_value(json_object_get(rec, "host")), host);
    CHECK_STR(json_string_value(json_object_get(rec, "addr")), addr);
    (*n)++;
    json_decref(rec);
    return 0;
}

static int count_scan(void *arg, const char *scan, json_t *rec)
{
    int *n = arg;
    CHECK_STR(json_string_value(json_object_get(rec, "scan")), scan);
    (*n)++;
    json_decref(rec);
    return 0;
}

static void write_scan(struct mts_writer *w, const char *scan, int ndomains)
{
    char domain[64];
    CHECK_INT(mts_writer_put_scan(
                  w, scan, json_pack("{s:i,s:s,s:s}", "v", 1, "scan", scan, "state", "running")),
              0);
    /* Submitted in reverse order: the store must hand them back sorted. */
    for (int i = ndomains - 1; i >= 0; i--) {
        snprintf(domain, sizeof domain, "d%05d.example", i);
        CHECK_INT(
            mts_writer_put_domain(w, scan, domain, util_domain_record(scan, domain, i, i % 7 == 0)),
            0);
    }
    CHECK_INT(
        mts_writer_put_mxprobe(w, scan, "mx1.example.net", "192.0.2.25",
                               json_pack("{s:i,s:s,s:s,s:s}", "v", 1, "host", "mx1.example.net",
                                         "addr", "192.0.2.25", "scan", scan)),
        0);
    CHECK_INT(
        mts_writer_put_mxprobe(w, scan, "mx1.example.net", "2001:db8::25",
                               json_pack("{s:i,s:s,s:s,s:s}", "v", 1, "host", "mx1.example.net",
                                         "addr", "2001:db8::25", "scan", scan)),
        0);
    /* The metadata is an upsert: the last one wins. */
    CHECK_INT(mts_writer_put_scan(
                  w, scan, json_pack("{s:i,s:s,s:s}", "v", 1, "scan", scan, "state", "complete")),
              0);
}

static void check_scan(struct mts_store *s, const char *scan, int ndomains)
{
    json_t *rec;
    uint64_t count;
    CHECK_INT(mts_store_count_domains(s, scan, &count), 0);
    CHECK_INT(count, ndomains);
    struct iter_state st = {.scan = scan};
    CHECK_INT(mts_store_foreach_domain(s, scan, count_domain, &st), 0);
    CHECK_INT(st.n, ndomains);
    int n = 0;
    CHECK_INT(mts_store_foreach_mxprobe(s, scan, count_probe, &n), 0);
    CHECK_INT(n, 2);
    CHECK_INT(mts_store_scan_get(s, scan, &rec), 0);
    CHECK_STR(json_string_value(json_object_get(rec, "state")), "complete");
    json_decref(rec);
    CHECK_INT(mts_store_domain_get(s, scan, "d00007.example", &rec), 0);
    CHECK_INT(json_integer_value(json_object_get(rec, "seq")), 7);
    CHECK(json_object_get(rec, "policy") != NULL); /* 7 % 7 == 0: the big shape */
    json_t *want = util_domain_record(scan, "d00007.example", 7, 1);
    CHECK(json_equal(rec, want));
    json_decref(want);
    json_decref(rec);
    CHECK_INT(mts_store_mxprobe_get(s, scan, "mx1.example.net", "2001:db8::25", &rec), 0);
    CHECK_STR(json_string_value(json_object_get(rec, "addr")), "2001:db8::25");
    json_decref(rec);
    CHECK(mts_store_domain_done(s, scan, "d00000.example"));
    CHECK(!mts_store_domain_done(s, scan, "nope.example"));
    CHECK_INT(mts_store_domain_get(s, scan, "nope.example", &rec), MTS_STORE_NOTFOUND);
    CHECK(rec == NULL);
    CHECK_INT(mts_store_mxprobe_get(s, scan, "mx1.example.net", "192.0.2.99", &rec),
              MTS_STORE_NOTFOUND);
}

static int long_probe_key(void *arg, const char *host, const char *addr, json_t *rec)
{
    int *n = arg;
    /* The key holds the name's digest; the record holds the name. */
    CHECK(strncmp(host, "sha256 ", 7) == 0 && strlen(host) == 7 + 64);
    CHECK_STR(addr, "192.0.2.1");
    CHECK_INT(strlen(json_string_value(json_object_get(rec, "host"))), 4 * 180 + 12);
    (*n)++;
    json_decref(rec);
    return 0;
}

/* An MX name of escaped bytes whose presentation form passes the key bound (180 octets of
   0x01 and ".evil.test": 730 characters) is stored and found again by that form. */
static void test_long_probe_key(const char *dir)
{
    struct mts_store *s;
    struct mts_writer *w;
    char host[4 * 180 + 13] = "", other[sizeof host];
    json_t *rec = NULL;
    for (int i = 0; i < 180; i++)
        strcat(host, i && i % 60 == 0 ? ".\\001" : "\\001");
    strcat(host, ".evil.test");
    CHECK_INT(strlen(host), 4 * 180 + 2 + 10);
    memcpy(other, host, sizeof host);
    other[3] = '2'; /* \\002...: another name */
    CHECK_INT(mts_store_open(&s, dir, MTS_STORE_CREATE, 0), 0);
    CHECK(mts_store_mxprobe_key_fits(s, "scan", host, "192.0.2.1"));
    CHECK_INT(mts_writer_start(&w, s, NULL), 0);
    CHECK_INT(mts_writer_put_mxprobe(w, "scan", host, "192.0.2.1",
                                     json_pack("{s:i,s:s,s:s,s:s}", "v", 1, "host", host, "addr",
                                               "192.0.2.1", "scan", "scan")),
              0);
    CHECK_INT(mts_writer_stop(w), 0);
    CHECK_INT(mts_store_mxprobe_get(s, "scan", host, "192.0.2.1", &rec), 0);
    CHECK_STR(json_string_value(json_object_get(rec, "host")), host);
    json_decref(rec);
    CHECK_INT(mts_store_mxprobe_get(s, "scan", other, "192.0.2.1", &rec), MTS_STORE_NOTFOUND);
    int n = 0;
    CHECK_INT(mts_store_foreach_mxprobe(s, "scan", long_probe_key, &n), 0);
    CHECK_INT(n, 1);
    mts_store_close(s);
}

int main(void)
{
    char dir[256], dir2[256], path[512];
    struct mts_store *s, *s2;
    struct mts_writer *w, *w2;
    json_t *rec;
    unsigned char digest[32], digest2[32], *body;
    size_t len;
    util_tmpdir(dir, sizeof dir, "rt");
    util_tmpdir(dir2, sizeof dir2, "rt2");
    memset(digest, 0xab, sizeof digest);
    memset(digest2, 0x01, sizeof digest2);

    /* Misuse and errors that need no data. */
    CHECK_INT(mts_store_open(&s, util_path(path, sizeof path, dir, "absent"), 0, 0), -ENOENT);
    CHECK_INT(mts_store_open(&s, util_path(path, sizeof path, dir, "absent"),
                             MTS_STORE_RDONLY | MTS_STORE_CREATE, 0),
              -EINVAL);
    CHECK_INT(mts_store_open(&s, dir, MTS_STORE_RDONLY, 0), -ENOENT); /* no data.mdb yet */

    CHECK_INT(mts_store_open(&s, util_path(path, sizeof path, dir, "env"), MTS_STORE_CREATE, 0), 0);
    CHECK_INT(mts_store_mapsize(s), MTS_STORE_DEFAULT_MAPSIZE);
    CHECK_INT(mts_store_open(&s2, path, 0, 0), -EBUSY);                 /* same environment twice */
    CHECK_INT(mts_store_open(&s2, dir2, MTS_STORE_CREATE, 1 << 20), 0); /* a second store */

    struct mts_writer_opts opts = {
        .batch_max = 64, .max_latency_ms = 20, .queue_max = 100, .on_commit = on_commit};
    CHECK_INT(mts_writer_start(&w, s, &opts), 0);
    CHECK_INT(mts_writer_start(&w2, s, NULL), -EBUSY); /* one writer per store */
    CHECK_INT(mts_writer_start(&w2, s2, NULL), 0);

    CHECK_INT(mts_writer_put_domain(w, "a", "x.example", json_pack("{s:s}", "v", "1")),
              MTS_STORE_ERECORD);
    CHECK_INT(mts_writer_put_domain(w, "a", "x.example", json_pack("{s:i}", "nov", 1)),
              MTS_STORE_ERECORD);
    CHECK_INT(mts_writer_put_domain(w, "a", "x.example", json_pack("[i]", 1)), MTS_STORE_ERECORD);
    CHECK_INT(mts_writer_put_domain(w, "", "x.example", json_pack("{s:i}", "v", 1)), -EINVAL);
    CHECK_INT(mts_writer_put_domain(w, "a", NULL, json_pack("{s:i}", "v", 1)), -EINVAL);
    char longname[600];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK_INT(mts_writer_put_domain(w, "a", longname, json_pack("{s:i}", "v", 1)), -ENAMETOOLONG);

    /* Two scans in one environment (one a prefix of the other), a third scan elsewhere. */
    write_scan(w, "scan", NDOMAINS);
    write_scan(w, "scan2", 30);
    write_scan(w2, "other", 10);
    CHECK_INT(mts_writer_put_policy(w, digest, "version: STSv1\r\n", 15), 0);
    CHECK_INT(mts_writer_put_policy(w, digest, "a different body", 16), 0); /* stored once */
    CHECK_INT(mts_writer_put_policy(w, digest2, "", 0), 0);
    CHECK_INT(mts_writer_flush(w), 0);

    struct mts_writer_stats stats;
    mts_writer_stats(w, &stats);
    uint64_t want_total = (NDOMAINS + 4) + (30 + 4) + 3;
    CHECK_INT(stats.submitted, want_total);
    CHECK_INT(stats.committed, want_total);
    CHECK_INT(stats.pending, 0);
    CHECK_INT(stats.err, 0);
    CHECK(stats.commits >= want_total / 64);
    CHECK_INT(atomic_load(&notified_total), want_total);
    CHECK_INT(atomic_load(&notified_domains), NDOMAINS + 30);
    CHECK_INT(atomic_load(&notified_calls), stats.commits);

    /* Readers work while the writer is alive. */
    check_scan(s, "scan", NDOMAINS);
    check_scan(s, "scan2", 30);
    uint64_t count;
    CHECK_INT(mts_store_count_domains(s, "other", &count), 0);
    CHECK_INT(count, 0);
    CHECK_INT(mts_store_count_domains(s, "sca", &count), 0);
    CHECK_INT(count, 0);
    int n = 0;
    CHECK_INT(mts_store_foreach_domain(s, "scan", stop_at_three, &n), 42);
    CHECK_INT(n, 3);
    n = 0;
    CHECK_INT(mts_store_foreach_scan(s, count_scan, &n), 0);
    CHECK_INT(n, 2);

    CHECK_INT(mts_store_policy_get(s, digest, &body, &len), 0);
    CHECK_INT(len, 15);
    CHECK(memcmp(body, "version: STSv1\r\n", 15) == 0);
    free(body);
    CHECK_INT(mts_store_policy_get(s, digest2, &body, &len), 0);
    CHECK_INT(len, 0);
    free(body);
    digest2[0] = 2;
    CHECK_INT(mts_store_policy_get(s, digest2, &body, &len), MTS_STORE_NOTFOUND);
    CHECK(body == NULL);

    CHECK_INT(mts_writer_stop(w), 0);
    CHECK_INT(mts_writer_stop(w2), 0);
    mts_store_close(s);

    /* Reopen read-only, next to the still-open second store. */
    CHECK_INT(mts_store_open(&s, path, MTS_STORE_RDONLY, 0), 0);
    CHECK_INT(mts_writer_start(&w, s, NULL), -EROFS);
    check_scan(s, "scan", NDOMAINS);
    check_scan(s, "scan2", 30);
    check_scan(s2, "other", 10);
    CHECK_INT(mts_store_count_domains(s2, "scan", &count), 0);
    CHECK_INT(count, 0);
    CHECK_INT(mts_store_domain_get(s, "scan", "", &rec), -EINVAL);
    mts_store_close(s);
    mts_store_close(s2);

    /* Counting spans several read transactions (16,384 keys each): none lost or counted
       twice at their seams, and neighbouring scans stay apart. */
    CHECK_INT(mts_store_open(&s, util_path(path, sizeof path, dir, "count"), MTS_STORE_CREATE, 0),
              0);
    CHECK_INT(mts_writer_start(&w, s, NULL), 0);
    for (long i = 0; i < 40000; i++) {
        char name[32];
        snprintf(name, sizeof name, "d%06ld.example", i);
        CHECK_INT(mts_writer_put_domain(w, "big", name, json_pack("{s:i}", "v", 1)), 0);
        if (i < 5)
            CHECK_INT(mts_writer_put_domain(w, "big2", name, json_pack("{s:i}", "v", 1)), 0);
        if (i < 3)
            CHECK_INT(mts_writer_put_domain(w, "bi", name, json_pack("{s:i}", "v", 1)), 0);
    }
    CHECK_INT(mts_writer_stop(w), 0);
    CHECK_INT(mts_store_count_domains(s, "big", &count), 0);
    CHECK_INT(count, 40000);
    CHECK_INT(mts_store_count_domains(s, "big2", &count), 0);
    CHECK_INT(count, 5);
    CHECK_INT(mts_store_count_domains(s, "bi", &count), 0);
    CHECK_INT(count, 3);
    mts_store_close(s);

    /* An LMDB environment with another format version is refused. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {6, "format"}, v = {1, "9"};
    CHECK_INT(mts_store_open(&s, util_path(path, sizeof path, dir, "foreign"), MTS_STORE_CREATE, 0),
              0);
    mts_store_close(s);
    CHECK_INT(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    CHECK_INT(mdb_env_open(env, path, 0, 0644), 0);
    CHECK_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    CHECK_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    CHECK_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
    CHECK_INT(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    CHECK_INT(mts_store_open(&s, path, MTS_STORE_RDONLY, 0), MTS_STORE_EFORMAT);
    CHECK_INT(mts_store_open(&s, path, 0, 0), MTS_STORE_EFORMAT);
    CHECK_STR(mts_store_strerror(MTS_STORE_EFORMAT),
              "not a result store, or an unsupported store format version");
    CHECK_STR(mts_store_strerror(-ENOSPC), strerror(ENOSPC));
    CHECK(strstr(mts_store_strerror(-30792), "MDB_MAP_FULL") != NULL);

    test_long_probe_key(util_path(path, sizeof path, dir2, "long"));
    util_rmtree(dir);
    util_rmtree(dir2);
    return check_exit();
}
