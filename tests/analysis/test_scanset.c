/*
 * mts_scanset_foreach on several threads: every domain visited once, in key order, with
 * the same classification whatever the number of threads; a visitor's non-zero value stops
 * the walk, with nothing visited after it. A damaged record, and a policy body missing
 * from the store, damaged in it or empty, are that domain's analysis error: the walk goes
 * on.
 * The pair walk (a scan beside its re-check) hands each domain over with its re-check
 * record, or none where the re-check lacks it. A walk asked for views hands each domain
 * over with the view of its classification; one not asked hands none. The walk reads
 * records without the members the analysis never looks at, and its views equal those of
 * the whole records.
 */
#include <stdio.h>
#include <string.h>

#include "../output/util.h"
#include "check.h"
#include "mts_view.h"
#include "mts_writer.h"
#include "scanset.h"

#define SCAN    "threads"
#define DOMAINS 1000 /* about four of the store's read batches */

struct seen {
    size_t n, stop_at, undecodable;
    unsigned flags;
    size_t wrong_view; /* a view where none was asked for, or none where one was */
    char last[64];
    bool in_order;
    unsigned long long digest; /* over the domains and their classifications, in order */
};

static void mix(unsigned long long *h, const char *s)
{
    for (; *s; s++)
        *h = (*h ^ (unsigned char)*s) * 1099511628211ull;
}

static int visit(void *arg, const struct mts_scanned *d)
{
    struct seen *s = arg;
    if (s->n && strcmp(s->last, d->domain) >= 0)
        s->in_order = false;
    snprintf(s->last, sizeof s->last, "%s", d->domain);
    /* The digest is over the view either way: the walk's, or one built here. */
    bool asked = s->flags & MTS_SCANSET_VIEWS;
    s->wrong_view += asked != (d->view != NULL);
    json_t *view = asked ? json_incref(d->view) : mts_view_json(&d->cls, d->raw);
    char *text = json_dumps(view, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(view);
    mix(&s->digest, d->domain);
    mix(&s->digest, text ? text : "");
    mix(&s->digest, json_string_value(json_object_get(d->raw, "domain")));
    for (size_t i = 0; i < d->cls.n_categories; i++)
        s->undecodable += strcmp(d->cls.categories[i], "analysis-error/undecodable") == 0;
    free(text);
    return ++s->n == s->stop_at ? 7 : 0;
}

static int walk(const char *dir, unsigned threads, size_t stop_at, unsigned flags, struct seen *s)
{
    struct mts_scanset set;
    char *dirs[] = {(char *)dir};
    const char *bad;
    memset(s, 0, sizeof *s);
    s->in_order = true;
    s->digest = 14695981039346656037ull;
    s->stop_at = stop_at;
    s->flags = flags;
    int rc = mts_scanset_open(&set, dirs, 1, &bad);
    if (rc)
        return rc;
    set.threads = threads;
    rc = mts_scanset_foreach(&set, SCAN, flags, visit, s);
    mts_scanset_close(&set);
    return rc;
}

struct paired {
    size_t n, with_other, wrong; /* wrong: a pair missing or extra, or without its views */
    unsigned long long digest;
};

/* Every third domain is missing from the re-check; the rest must come with their pair. */
static int visit_pair(void *arg, const struct mts_scanned *d, const struct mts_scanned *other)
{
    struct paired *s = arg;
    long i = strtol(d->domain + 1, NULL, 10);
    bool want = i % 3 != 0;
    if (want != (other != NULL) || !d->view || (other && !other->view) ||
        (other && strcmp(json_string_value(json_object_get(other->raw, "domain")), d->domain) != 0))
        s->wrong++;
    s->n++;
    s->with_other += other != NULL;
    mix(&s->digest, d->domain);
    mix(&s->digest, other ? "pair" : "alone");
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
    rc = mts_scanset_foreach_pair(&set, SCAN, &other, "recheck", MTS_SCANSET_VIEWS, visit_pair, s);
    mts_scanset_close(&other);
    mts_scanset_close(&set);
    return rc;
}

static int get_one(const char *dir, const char *domain, json_t **raw, json_t **cls)
{
    struct mts_scanset set;
    char *dirs[] = {(char *)dir};
    const char *bad;
    int rc = mts_scanset_open(&set, dirs, 1, &bad);
    if (rc == 0)
        rc = mts_scanset_get(&set, SCAN, domain, raw, cls);
    mts_scanset_close(&set);
    return rc;
}

/* What a walk handed over, kept to compare with the whole records afterwards. */
struct kept {
    char *domain[DOMAINS];
    char *view[DOMAINS];
    size_t n, pruned; /* pruned: records without the members the walk leaves out */
};

static char *view_text(const json_t *view)
{
    return json_dumps(view, JSON_SORT_KEYS | JSON_COMPACT);
}

static int keep(void *arg, const struct mts_scanned *d)
{
    struct kept *k = arg;
    const json_t *sts = json_object_get(json_object_get(d->raw, "dns"), "sts");
    k->pruned += sts && !json_object_get(sts, "qname") && !json_object_get(sts, "ms") &&
                 json_object_get(sts, "result");
    if (k->n < DOMAINS) {
        k->domain[k->n] = strdup(d->domain);
        k->view[k->n] = view_text(d->view);
        k->n++;
    }
    return 0;
}

/*
 * The walk leaves out of each record the members the analysis never reads; each domain's
 * view must be the one mts_scanset_get builds from the whole record.
 */
static void test_pruned_walk(const char *dir)
{
    struct mts_scanset set;
    char *dirs[] = {(char *)dir};
    const char *bad;
    static struct kept k;
    memset(&k, 0, sizeof k);
    CHECK_INT(mts_scanset_open(&set, dirs, 1, &bad), 0);
    set.threads = 2;
    CHECK_INT(mts_scanset_foreach(&set, SCAN, MTS_SCANSET_VIEWS, keep, &k), 0);
    CHECK_INT((long)k.n, DOMAINS);
    CHECK_INT((long)k.pruned, DOMAINS);
    size_t differ = 0;
    for (size_t i = 0; i < k.n; i++) {
        json_t *raw = NULL, *view = NULL;
        CHECK_INT(mts_scanset_get(&set, SCAN, k.domain[i], &raw, &view), 0);
        /* the whole record: what the walk left out is there */
        CHECK(json_object_get(json_object_get(json_object_get(raw, "dns"), "sts"), "qname"));
        char *whole = view_text(view);
        differ += !whole || !k.view[i] || strcmp(whole, k.view[i]) != 0;
        free(whole);
        json_decref(raw);
        json_decref(view);
        free(k.domain[i]);
        free(k.view[i]);
    }
    CHECK_INT((long)differ, 0);
    mts_scanset_close(&set);
}

/* The code of the i-th category of a classification view, or NULL. */
static const char *category(const json_t *cls, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(cls, "categories"), i), "code"));
}

/* A domain whose policy fetch names the body with SHA-256 sha (hex). */
static json_t *fetched(const char *name, const char *sha, size_t len)
{
    json_t *rec = util_domain_record(SCAN, name, 0, 1);
    json_t *body = json_object_get(json_object_get(rec, "policy"), "body");
    json_object_set_new(body, "sha256", json_string(sha));
    json_object_set_new(body, "len", json_integer((json_int_t)len));
    json_object_set_new(json_object_get(rec, "policy"), "content_type", json_string("text/plain"));
    return rec;
}

/* Missing, damaged and empty policy bodies, each a domain's own outcome. */
static void test_bodies(void)
{
    static const char empty_sha[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    static const char test_sha[] =
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    unsigned char sha[MTS_STORE_SHA256_LEN];
    char dir[256];
    struct mts_store *st;
    struct mts_writer *w;
    util_tmpdir(dir, sizeof dir, "bodies");
    CHECK_INT(mts_store_open(&st, dir, MTS_STORE_CREATE, 0), 0);
    CHECK_INT(mts_writer_start(&w, st, NULL), 0);
    CHECK_INT(mts_writer_put_scan(w, SCAN, json_pack("{s:i, s:s}", "v", 1, "scan", SCAN)), 0);
    /* the body of "test" stored as other bytes: a damaged store */
    mts_store_unhex(test_sha, sha, sizeof sha);
    CHECK_INT(mts_writer_put_policy(w, sha, "tost", 4), 0);
    CHECK_INT(
        mts_writer_put_domain(w, SCAN, "damaged.example", fetched("damaged.example", test_sha, 4)),
        0);
    CHECK_INT(
        mts_writer_put_domain(w, SCAN, "missing.example", fetched("missing.example", empty_sha, 0)),
        0);
    CHECK_INT(mts_writer_stop(w), 0);
    mts_store_close(st);

    json_t *raw = NULL, *cls = NULL;
    CHECK_INT(get_one(dir, "damaged.example", &raw, &cls), 0);
    CHECK_STR(category(cls, 0), "analysis-error/body-damaged");
    CHECK_STR(json_string_value(json_object_get(cls, "verdict")), "indeterminate");
    json_decref(raw);
    json_decref(cls);
    CHECK_INT(get_one(dir, "missing.example", &raw, &cls), 0);
    CHECK_STR(category(cls, 0), "analysis-error/body-missing");
    CHECK(strstr(json_string_value(json_object_get(cls, "analysis_error")), empty_sha) != NULL);
    json_decref(raw);
    json_decref(cls);

    /* The empty body stored: a policy like any other, and an invalid one. */
    CHECK_INT(mts_store_open(&st, dir, 0, 0), 0);
    CHECK_INT(mts_writer_start(&w, st, NULL), 0);
    mts_store_unhex(empty_sha, sha, sizeof sha);
    CHECK_INT(mts_writer_put_policy(w, sha, "", 0), 0);
    CHECK_INT(mts_writer_stop(w), 0);
    mts_store_close(st);
    CHECK_INT(get_one(dir, "missing.example", &raw, &cls), 0);
    CHECK_STR(category(cls, 0), "sts-policy-invalid/missing-max-age");
    CHECK_STR(category(cls, 1), "sts-policy-invalid/missing-mode");
    CHECK_STR(category(cls, 2), "sts-policy-invalid/missing-version");
    CHECK_STR(json_string_value(json_object_get(cls, "verdict")), "misconfigured");
    CHECK(json_object_get(cls, "analysis_error") == NULL);
    json_decref(raw);
    json_decref(cls);
    util_rmtree(dir);
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
    CHECK_INT(walk(dir, 1, 0, 0, &one), 0);
    CHECK_INT((long)one.n, DOMAINS);
    CHECK(one.in_order);
    CHECK_INT((long)one.wrong_view, 0);
    CHECK_STR(one.last, "d0999.example");
    for (unsigned t = 2; t <= 5; t += 3) {
        CHECK_INT(walk(dir, t, 0, 0, &many), 0);
        CHECK_INT((long)many.n, DOMAINS);
        CHECK(many.in_order);
        CHECK(many.digest == one.digest);
        /* The views the walk builds on its threads are those of the classifications. */
        CHECK_INT(walk(dir, t, 0, MTS_SCANSET_VIEWS, &many), 0);
        CHECK_INT((long)many.n, DOMAINS);
        CHECK_INT((long)many.wrong_view, 0);
        CHECK(many.digest == one.digest);
    }

    test_pruned_walk(dir);

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
        CHECK_INT(walk(dir, t, 300, 0, &many), 7);
        CHECK_INT((long)many.n, 300);
        CHECK_STR(many.last, "d0299.example");
    }

    /* A damaged record is that domain's analysis error: the walk goes on to the end. */
    static const char damaged[] = "Z\x10\x00\x00\x00not a zlib stream";
    CHECK_INT(util_put_raw(dir, SCAN, "d0600.example", damaged, sizeof damaged - 1), 0);
    for (unsigned t = 1; t <= 4; t++) {
        CHECK_INT(walk(dir, t, 0, t % 2 ? MTS_SCANSET_VIEWS : 0, &many), 0);
        CHECK_INT((long)many.n, DOMAINS);
        CHECK_INT((long)many.undecodable, 1);
        CHECK_STR(many.last, "d0999.example");
        CHECK(many.in_order);
    }
    json_t *raw = NULL, *cls = NULL;
    CHECK_INT(get_one(dir, "d0600.example", &raw, &cls), 0);
    CHECK_STR(category(cls, 0), "analysis-error/undecodable");
    CHECK_STR(json_string_value(json_object_get(cls, "verdict")), "indeterminate");
    CHECK_STR(json_string_value(json_object_get(raw, "domain")), "d0600.example");
    json_decref(raw);
    json_decref(cls);
    test_bodies();

    util_rmtree(dir);
    return check_exit();
}
