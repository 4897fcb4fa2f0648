/*
 * SipHash-2-4 against the reference vectors, K/N parsing, pinned shard values (the shard of
 * a name is a contract across versions and machines), the de-duplication set through its
 * growth and exact on millions of names within its memory bound, and the partition property: N
 * shards of a 100k-name list (N = 1, 2, 7, 16) are disjoint and their union is the list.
 */
#include "check.h"
#include "mts_hash.h"
#include "mts_input.h"

#include <stdlib.h>

#define NNAMES 100000

static void test_siphash(void)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    CHECK(mts_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
    CHECK(mts_siphash24(key, msg, 1) == 0x74f839c593dc67fdULL);
    CHECK(mts_siphash24(key, msg, 8) == 0x93f5f5799a932462ULL);
    CHECK(mts_siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

static void test_shard_parse(void)
{
    unsigned k = 99, n = 99;
    CHECK_INT(mts_shard_parse("0/1", &k, &n), 0);
    CHECK_INT(k, 0);
    CHECK_INT(n, 1);
    CHECK_INT(mts_shard_parse("6/7", &k, &n), 0);
    CHECK_INT(k, 6);
    CHECK_INT(n, 7);
    CHECK_INT(mts_shard_parse("65535/65536", &k, &n), 0);
    const char *bad[] = {"",     "1",    "/",   "1/",   "/2",   "7/7",  "8/7",     "0/0",
                         "-1/2", "1/-2", "a/2", "1/2x", " 1/2", "1/ 2", "0/65537", NULL};
    for (int i = 0; bad[i]; i++) {
        k = n = 99;
        CHECK_INT(mts_shard_parse(bad[i], &k, &n), MTS_IN_EINVAL);
        CHECK(k == 99 && n == 99);
    }
    CHECK_INT(mts_shard_parse(NULL, &k, &n), MTS_IN_EINVAL);
}

static void test_shard_pinned(void)
{
    /* Published values: if these change, every existing sharded run changes meaning. */
    CHECK_INT(mts_shard_of("example.com", 11, 1), 0);
    CHECK_INT(mts_shard_of("example.com", 11, 1000), 615);
    CHECK_INT(mts_shard_of("xn--bcher-kva.example", 21, 16), 3);
}

static void test_dedupe(void)
{
    struct mts_dedupe *set;
    char name[64];
    CHECK_INT(mts_dedupe_new(&set), 0);
    for (int i = 0; i < NNAMES; i++) {
        int len = snprintf(name, sizeof name, "n%d.example", i);
        CHECK_INT(mts_dedupe_add(set, name, (size_t)len), 1);
    }
    int again = 0;
    for (int i = 0; i < NNAMES; i++) {
        int len = snprintf(name, sizeof name, "n%d.example", i);
        again += mts_dedupe_add(set, name, (size_t)len);
    }
    CHECK_INT(again, 0);
    CHECK_INT(mts_dedupe_count(set), NNAMES);
    CHECK_INT(mts_dedupe_add(set, "", 0), 1);
    CHECK_INT(mts_dedupe_add(set, "", 0), 0);
    mts_dedupe_free(set);
}

/*
 * Exactness on millions of names: every 5th name comes again 1,000 names later and every
 * 7th again at the end; each first occurrence is new, each repeat is not. The memory must
 * stay within 6 to 10 bytes per name: 6-byte slots at most 9/10 full, but at 4M names a
 * small table is only 2 to 3 blocks of 32 slots, so block rounding and the fixed 1 MiB of
 * headers still show (about 9.1; 7.8 at 10M). The key is fixed: the same on every run.
 */
static void test_dedupe_millions(void)
{
    enum { N = 4000000, LAG = 1000 };
    struct mts_dedupe *set;
    char name[64];
    long fresh = 0, repeats = 0, bad_fresh = 0, bad_repeat = 0;
    CHECK_INT(mts_dedupe_new(&set), 0);
    for (int i = 0; i < N + LAG; i++) {
        if (i < N) {
            int len = snprintf(name, sizeof name, "d%d.example", i);
            int r = mts_dedupe_add(set, name, (size_t)len);
            bad_fresh += r != 1;
            fresh += r == 1;
        }
        if (i >= LAG && (i - LAG) % 5 == 0) {
            int len = snprintf(name, sizeof name, "d%d.example", i - LAG);
            int r = mts_dedupe_add(set, name, (size_t)len);
            bad_repeat += r != 0;
            repeats++;
        }
    }
    for (int i = 0; i < N; i += 7) {
        int len = snprintf(name, sizeof name, "d%d.example", i);
        bad_repeat += mts_dedupe_add(set, name, (size_t)len) != 0;
        repeats++;
    }
    CHECK_INT(bad_fresh, 0);
    CHECK_INT(bad_repeat, 0);
    CHECK_INT(fresh, N);
    CHECK_INT(repeats, N / 5 + (N + 6) / 7);
    CHECK_INT(mts_dedupe_count(set), N);
    size_t bytes = mts_dedupe_bytes(set);
    CHECK(bytes >= (size_t)N * 6);
    CHECK(bytes <= (size_t)N * 10);
    mts_dedupe_free(set);
}

static void test_partition(void)
{
    static const char path[] = "shard_names.txt";
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    for (int i = 0; i < NNAMES; i++)
        fprintf(f, "n%d.example%d.com\n", i, i % 13);
    fclose(f);

    static const unsigned ns[] = {1, 2, 7, 16};
    unsigned char *seen = malloc(NNAMES);
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        unsigned n = ns[t];
        uint64_t total = 0, out = 0;
        memset(seen, 0, NNAMES);
        for (unsigned k = 0; k < n; k++) {
            const char *paths[] = {path};
            struct mts_input_opts opts = {.paths = paths, .npaths = 1, .shard_k = k, .shard_n = n};
            struct mts_input *in;
            const char *name;
            int rc;
            CHECK_INT(mts_input_open(&in, &opts, NULL, 0), 0);
            uint64_t here = 0;
            while ((rc = mts_input_next(in, &name)) == 1) {
                int i = atoi(name + 1);
                CHECK(i >= 0 && i < NNAMES);
                if (i >= 0 && i < NNAMES)
                    seen[i]++;
                here++;
            }
            CHECK_INT(rc, 0);
            struct mts_input_stats st;
            mts_input_get_stats(in, &st);
            CHECK_INT(st.accepted, here);
            out += st.out_of_shard;
            total += here;
            /* Roughly even: within 10% of the mean. */
            CHECK(here * 10 * n > 9ULL * NNAMES && here * 10 * n < 11ULL * NNAMES);
            mts_input_free(in);
        }
        int once = 0;
        for (int i = 0; i < NNAMES; i++)
            once += seen[i] == 1;
        CHECK_INT(once, NNAMES);
        CHECK_INT(total, NNAMES);
        CHECK_INT(out, (uint64_t)(n - 1) * NNAMES);
    }
    free(seen);
    remove(path);
}

int main(void)
{
    test_siphash();
    test_shard_parse();
    test_shard_pinned();
    test_dedupe();
    test_dedupe_millions();
    test_partition();
    return check_exit();
}
