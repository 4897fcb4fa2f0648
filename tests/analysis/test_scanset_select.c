/*
 * mts_scanset_select over the stores of sharded scans: one-stage shards, and the two
 * stages of a two-stage scan (docs/sharding.md), whose stage-2 ("probes") stores form a
 * group of their own. A set is accepted only when each group is all of its shards, once
 * each, and a stage 1 that left its probes to stage 2 comes with its probe stores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../output/util.h"
#include "check.h"
#include "mts_writer.h"
#include "scanset.h"

#define SCAN     "two"
#define MAX_DIRS 11

/* A store holding only the scan's metadata record: stage NULL (one stage), "dns", "probes". */
static void make_store(char *dir, size_t cap, const char *tag, const char *stage, const char *shard)
{
    struct mts_store *st;
    struct mts_writer *w;
    util_tmpdir(dir, cap, tag);
    CHECK_INT(mts_store_open(&st, dir, MTS_STORE_CREATE, 0), 0);
    CHECK_INT(mts_writer_start(&w, st, NULL), 0);
    json_t *meta = json_pack("{s:i, s:s, s:s}", "v", 1, "scan", SCAN, "shard", shard);
    if (stage)
        json_object_set_new(meta, "stage", json_string(stage));
    CHECK_INT(mts_writer_put_scan(w, SCAN, meta), 0);
    CHECK_INT(mts_writer_stop(w), 0);
    mts_store_close(st);
}

/* Selects SCAN over the stores named by the indexes in which[0..n) of dirs. */
static int select_over(char dirs[][256], const int *which, size_t n)
{
    char *list[MAX_DIRS];
    for (size_t i = 0; i < n; i++)
        list[i] = dirs[which[i]];
    struct mts_scanset set;
    const char *bad = NULL;
    CHECK_INT(mts_scanset_open(&set, list, n, &bad), 0);
    char *scan = NULL, why[256] = "";
    int rc = mts_scanset_select(&set, SCAN, &scan, why, sizeof why);
    if (rc == 0)
        CHECK_STR(scan, SCAN);
    else
        CHECK(why[0] != '\0');
    free(scan);
    mts_scanset_close(&set);
    return rc;
}

int main(void)
{
    /* 0-1: stage 1 of 2 shards; 2-3: stage 2 of 2; 4-6: stage 2 of 3; 7-8: one stage;
       9-10: second copies of shards 8 and 3 (one process opens a store only once). */
    static const struct {
        const char *tag, *stage, *shard;
    } stores[] = {
        {"s1-0", "dns", "0/2"},    {"s1-1", "dns", "1/2"},     {"p2-0", "probes", "0/2"},
        {"p2-1", "probes", "1/2"}, {"p3-0", "probes", "0/3"},  {"p3-1", "probes", "1/3"},
        {"p3-2", "probes", "2/3"}, {"one-0", NULL, "0/2"},     {"one-1", NULL, "1/2"},
        {"one-1b", NULL, "1/2"},   {"p2-1b", "probes", "1/2"},
    };
    enum { NSTORES = sizeof stores / sizeof stores[0] };
    char dirs[NSTORES][256];
    for (size_t i = 0; i < NSTORES; i++)
        make_store(dirs[i], sizeof dirs[i], stores[i].tag, stores[i].stage, stores[i].shard);

    /* Accepted: both stages whole, in any order; M probe shards need not equal N. */
    CHECK_INT(select_over(dirs, (int[]){0, 1, 2, 3}, 4), 0);
    CHECK_INT(select_over(dirs, (int[]){2, 0, 3, 1}, 4), 0);
    CHECK_INT(select_over(dirs, (int[]){0, 1, 4, 5, 6}, 5), 0);
    /* One-stage shards as before. */
    CHECK_INT(select_over(dirs, (int[]){7, 8}, 2), 0);
    CHECK_INT(select_over(dirs, (int[]){7, 8, 9}, 3), MTS_SCANSET_ESHARDS);

    /* Refused: stage 1 without its probes, a probe shard missing or twice, probes alone,
       probe shards of two different M. */
    CHECK_INT(select_over(dirs, (int[]){0, 1}, 2), MTS_SCANSET_ESHARDS);
    CHECK_INT(select_over(dirs, (int[]){0, 1, 2}, 3), MTS_SCANSET_ESHARDS);
    CHECK_INT(select_over(dirs, (int[]){0, 1, 3, 10}, 4), MTS_SCANSET_ESHARDS);
    CHECK_INT(select_over(dirs, (int[]){0, 1, 2, 3, 10}, 5), MTS_SCANSET_ESHARDS);
    CHECK_INT(select_over(dirs, (int[]){0, 1, 4, 5}, 4), MTS_SCANSET_ESHARDS);
    CHECK_INT(select_over(dirs, (int[]){2, 3}, 2), MTS_SCANSET_ESHARDS);
    CHECK_INT(select_over(dirs, (int[]){0, 1, 2, 3, 4, 5, 6}, 7), MTS_SCANSET_ESHARDS);
    /* One stage-1 shard with the probe stores: one shard looked at by itself, as with one
       store alone; but one probe shard alone is refused even with one stage-1 store. */
    CHECK_INT(select_over(dirs, (int[]){0, 2, 3}, 3), 0);
    CHECK_INT(select_over(dirs, (int[]){0, 2}, 2), MTS_SCANSET_ESHARDS);

    for (size_t i = 0; i < NSTORES; i++)
        util_rmtree(dirs[i]);
    return check_exit();
}
