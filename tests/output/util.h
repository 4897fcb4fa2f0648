/*
 * Helpers shared by the output tests and benchmark: a fresh temporary directory per test
 * (removed at the end), records shaped like record-schema.md's so sizes are realistic, and
 * a raw write under a domain's key for tests that damage a store.
 */
#ifndef MTS_TESTS_OUTPUT_UTIL_H
#define MTS_TESTS_OUTPUT_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdint.h>

#include <jansson.h>
#include <lmdb.h>

/* Exit status ctest reads as "skipped" (SKIP_RETURN_CODE in CMakeLists.txt). */
#define TEST_SKIP 77

static inline int util_rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything under it (does not cross into mounts: FTW_MOUNT). */
static inline void util_rmtree(const char *dir)
{
    nftw(dir, util_rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Make a new directory under $TMPDIR (or /tmp) into buf; exits on failure. */
static inline void util_tmpdir(char *buf, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, cap, "%s/mts-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        exit(2);
    }
}

/* A path dir/name into buf. */
static inline const char *util_path(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

/*
 * A domain record like the scanner's: about 600 bytes of JSON, or about 3 KB with
 * big = 1 (a policy fetch with a certificate chain). i makes it unique and checkable.
 */
static inline json_t *util_domain_record(const char *scan, const char *domain, long i, int big)
{
    json_t *rec = json_pack(
        "{s:i, s:s, s:s, s:f, s:f, s:{s:{s:s, s:s, s:s, s:s, s:b, s:f, s:[{s:s, s:s, s:i, "
        "s:[s]}]}, s:{s:s, s:s, s:s, s:s, s:f, s:[{s:s, s:s, s:i, s:i, s:s}]}}, "
        "s:[{s:i, s:s, s:b, s:[{s:s}]}], s:I}",
        "v", 1, "scan", scan, "domain", domain, "t_start", 1764414000.123, "t_end", 1764414000.981,
        "dns", "sts", "qname", "_mta-sts.example.com", "qtype", "TXT", "result", "answer", "rcode",
        "NOERROR", "ad", 0, "ms", 12.4, "answer", "name", "_mta-sts.example.com.", "type", "TXT",
        "ttl", 300, "txt", "v=STSv1; id=20240101T000000;", "mx", "qname", domain, "qtype", "MX",
        "result", "answer", "rcode", "NOERROR", "ms", 8.1, "answer", "name", "example.com.", "type",
        "MX", "ttl", 300, "pref", 10, "host", "mx1.example.net.", "mx", "pref", 10, "host",
        "mx1.example.net", "implicit", 0, "probes", "addr", "192.0.2.25", "seq", (json_int_t)i);
    if (big) {
        /* Base64 of random bytes, like a real certificate: it does not compress away. */
        char pem[2400];
        uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        for (size_t k = 0; k < sizeof pem - 1; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            pem[k] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[x % 64];
        }
        pem[sizeof pem - 1] = '\0';
        json_object_set_new(
            rec, "policy",
            json_pack("{s:s, s:s, s:s, s:i, s:{s:s, s:s, s:[s]}, s:{s:s, s:i, s:b}}", "url",
                      "https://mta-sts.example.com/.well-known/mta-sts.txt", "why", "txt", "result",
                      "ok", "http_status", 200, "tls", "version", "TLSv1.3", "verify", "ok",
                      "chain", pem, "body", "sha256",
                      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "len",
                      142, "truncated", 0));
    }
    return rec;
}

/* Overwrites the stored value of (scan, domain) in the store at dir with len bytes. */
static inline int util_put_raw(const char *dir, const char *scan, const char *domain,
                               const void *data, size_t len)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    char key[128];
    size_t klen = (size_t)snprintf(key, sizeof key, "%s%c%s", scan, 0, domain);
    int rc = mdb_env_create(&env);
    if (rc || (rc = mdb_env_set_maxdbs(env, 8)) || (rc = mdb_env_open(env, dir, 0, 0644)))
        return rc;
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
        MDB_val k = {klen, key}, v = {len, (void *)data};
        if ((rc = mdb_dbi_open(txn, "domains", 0, &dbi)) == 0 &&
            (rc = mdb_put(txn, dbi, &k, &v, 0)) == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

#endif
