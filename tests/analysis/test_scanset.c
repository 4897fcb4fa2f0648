/*
 * mts_scanset_foreach on several threads: every domain visited once, in key order, with
 * the same classification whatever the number of threads; a damaged record stops the walk
 * at that record, and so does a visitor's non-zero value, with nothing visited after it.
 * The pair walk (a scan beside its re-check) hands each domain over with its re-check
 * record, or none where the re-check lacks it.
 */
#include <stdio.h>
#include <string.h>

#include "../output/util.h"
#include "check.h"
#include "mts_writer.h"
#include "scanset.h"

#define SCAN    "threads"
#define DOMAINS 1000 /* about four of the store's read batches */

struct seen {
    size_t n, stop_at;
    char last[64];
    bool in_order;
    unsigned long long digest; /* over the domains and their classifications, in order */
};

static void mix(unsigned long long *h, const char *s)
{
    for (; *s; s++)
        *h = (*h ^ (unsigned char)*s) * 1099511628211ull;
}

static int visit(void *arg, const char *domain, json_t *raw, json_t *cls)
{
    struct seen *s = arg;
    if (s->n && strcmp(s->last, domain) >= 0)
        s->in_order = false;
    snprintf(s->last, sizeof s->last, "%s", domain);
    char *text = json_dumps(cls, JSON_SORT_KEYS | JSON_COMPACT);
    mix(&s->digest, domain);
    mix(&s->digest, text ? text : "");
    mix(&s->digest, json_string_value(json_object_get(raw, "domain")));
    free(text);
    return ++s->n == s->stop_at ? 7 : 0;
}

static int walk(const char *dir, unsigned threads, size_t stop_at, struct seen *s)
{
    struct mts_scanset set;
    char *dirs[] = {(char *)dir};
    const char *bad;
    memset(s, 0, sizeof *s);
    s->in_order = true;
    s->digest = 14695981039346656037ull;
    s->stop_at = stop_at;
    int rc = mts_scanset_open(&set, dirs, 1, &bad);
    if (rc)
        return rc;
    set.threads = threads;
    rc = mts_scanset_foreach(&set, SCAN, visit, s);
    mts_scanset_close(&set);
    return rc;
}

struct paired {
    size_t n, with_other, wrong;
    unsigned long long digest;
};

/* Every third domain is missing from the re-check; the rest must come with their pair. */
static int visit_pair(void *arg, const char *domain, json_t *raw, json_t *cls, json_t *oraw,
                      json_t *ocls)
{
    struct paired *s = arg;
    long i = strtol(domain + 1, NULL, 10);
    bool want = i % 3 != 0;
    (void)raw;
    (void)cls;
    if (want != (ocls != NULL) || (oraw != NULL) != (ocls != NULL) ||
        (oraw && strcmp(json_string_value(json_object_get(oraw, "domain")), domain) != 0))
        s->wrong++;
    s->n++;
    s->with_other += ocls != NULL;
    mix(&s->digest, domain);
    mix(&s->digest, ocls ? "pair" : "alone");
    return 0;
}

static int walk_pair(const char *dir, const char *dir2, unsigned threads, struct paired *s)
{
    struct mts_scanset set, other;
    char *dirs[] = {(char *)dir}, *dirs2[] = {(char *)dir2};
    const char *bad;
    memset(s, 0, sizeof *s);
    s->digest = 14695981039346656037ull;
    int rc = mts_scanset_open(&set, dirs, 1, &bad);
    if (rc)
        return rc;
    if ((rc = mts_scanset_open(&other, dirs2, 1, &bad)) != 0) {
        mts_scanset_close(&set);
        return rc;
    }
    set.threads = threads;
    rc = mts_scanset_foreach_pair(&set, SCAN, &other, "recheck", visit_pair, s);
    mts_scanset_close(&other);
    mts_scanset_close(&set);
    return rc;
}

int main(void)
{
    char dir[256];
    struct mts_store *st;
    struct mts_writer *w;
    util_tmpdir(dir, sizeof dir, "scanset");
    CHECK_INT(mts_store_open(&st, dir, MTS_STORE_CREATE, 0), 0);
    CHECK_INT(mts_writer_start(&w, st, NULL), 0);
    CHECK_INT(
        mts_writer_put_scan(
            w, SCAN, json_pack("{s:i, s:s, s:f}", "v", 1, "scan", SCAN, "t_start", 1764414000.0)),
        0);
    /* The body util_domain_record's policy fetch names (the SHA-256 of "test"). */
    unsigned char sha[MTS_STORE_SHA256_LEN];
    CHECK_INT(
        (int)mts_store_unhex("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                             sha, sizeof sha),
        MTS_STORE_SHA256_LEN);
    CHECK_INT(mts_writer_put_policy(w, sha, "test", 4), 0);
    for (long i = 0; i < DOMAINS; i++) {
        char name[64];
        snprintf(name, sizeof name, "d%04ld.example", i);
        CHECK_INT(
            mts_writer_put_domain(w, SCAN, name, util_domain_record(SCAN, name, i, i % 7 == 0)), 0);
    }
    CHECK_INT(mts_writer_stop(w), 0);
    mts_store_close(st);

    struct seen one, many;
    CHECK_INT(walk(dir, 1, 0, &one), 0);
    CHECK_INT((long)one.n, DOMAINS);
    CHECK(one.in_order);
    CHECK_STR(one.last, "d0999.example");
    for (unsigned t = 2; t <= 5; t += 3) {
        CHECK_INT(walk(dir, t, 0, &many), 0);
        CHECK_INT((long)many.n, DOMAINS);
        CHECK(many.in_order);
        CHECK(many.digest == one.digest);
    }

    /* A re-check of two thirds of the domains, walked beside the scan. */
    char dir2[256];
    util_tmpdir(dir2, sizeof dir2, "scanset2");
    CHECK_INT(mts_store_open(&st, dir2, MTS_STORE_CREATE, 0), 0);
    CHECK_INT(mts_writer_start(&w, st, NULL), 0);
    CHECK_INT(mts_writer_put_policy(w, sha, "test", 4), 0);
    for (long i = 0; i < DOMAINS; i++) {
        char name[64];
        snprintf(name, sizeof name, "d%04ld.example", i);
        if (i % 3)
            CHECK_INT(mts_writer_put_domain(w, "recheck", name,
                                            util_domain_record("recheck", name, i, 0)),
                      0);
    }
    CHECK_INT(mts_writer_stop(w), 0);
    mts_store_close(st);
    struct paired p1, pn;
    CHECK_INT(walk_pair(dir, dir2, 1, &p1), 0);
    CHECK_INT((long)p1.n, DOMAINS);
    CHECK_INT((long)p1.with_other, 666);
    CHECK_INT((long)p1.wrong, 0);
    for (unsigned t = 2; t <= 4; t += 2) {
        CHECK_INT(walk_pair(dir, dir2, t, &pn), 0);
        CHECK_INT((long)pn.n, DOMAINS);
        CHECK_INT((long)pn.wrong, 0);
        CHECK(pn.digest == p1.digest);
    }
    util_rmtree(dir2);

    /* The visitor stops at the 300th domain: nothing after it is visited. */
    for (unsigned t = 1; t <= 4; t++) {
        CHECK_INT(walk(dir, t, 300, &many), 7);
        CHECK_INT((long)many.n, 300);
        CHECK_STR(many.last, "d0299.example");
    }

    /* A damaged record: the walk visits every domain before it and then fails. */
    static const char damaged[] = "Z\x10\x00\x00\x00not a zlib stream";
    CHECK_INT(util_put_raw(dir, SCAN, "d0600.example", damaged, sizeof damaged - 1), 0);
    for (unsigned t = 1; t <= 4; t++) {
        CHECK_INT(walk(dir, t, 0, &many), MTS_STORE_ECORRUPT);
        CHECK_INT((long)many.n, 600);
        CHECK_STR(many.last, "d0599.example");
        CHECK(many.in_order);
    }

    util_rmtree(dir);
    return check_exit();
}
