/* Tests of util/: the hex helpers, the clock, FNV-1a against its published vectors, and the
   chained hash table under growth, removal and colliding hashes. */
#include "check.h"
#include "mts_htab.h"
#include "mts_util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

static void test_hex_encode(void)
{
    const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof bytes + 1];
    char *end = mts_hex_encode(out, bytes, sizeof bytes);
    CHECK(end == out + 2 * sizeof bytes);
    *end = '\0';
    CHECK_STR(out, "00017f80abff");
    CHECK(mts_hex_encode(out, bytes, 0) == out);
}

static void test_hex_value(void)
{
    int digits = 0;
    for (int c = -1; c < 256; c++) {
        int v = mts_hex_value(c);
        if (v < 0)
            continue;
        digits++;
        char s[2] = {(char)c, '\0'};
        CHECK_INT(v, strtol(s, NULL, 16));
    }
    CHECK_INT(digits, 22); /* 0-9, a-f, A-F */
    CHECK_INT(mts_hex_value('g'), -1);
    CHECK_INT(mts_hex_value('F'), 15);
}

static void test_now_ms(void)
{
    struct timespec ts;
    double a = mts_now_ms();
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double b = mts_now_ms();
    double direct = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    CHECK(a <= direct && direct <= b);
}

static void test_fnv1a(void)
{
    /* Vectors of the FNV reference (draft-eastlake-fnv). */
    CHECK(mts_fnv1a(MTS_FNV1A_BASIS, "", 0) == 0xcbf29ce484222325ULL);
    CHECK(mts_fnv1a(MTS_FNV1A_BASIS, "a", 1) == 0xaf63dc4c8601ec8cULL);
    CHECK(mts_fnv1a(MTS_FNV1A_BASIS, "foobar", 6) == 0x85944171f73967e8ULL);
    CHECK(mts_fnv1a(mts_fnv1a(MTS_FNV1A_BASIS, "foo", 3), "bar", 3) ==
          mts_fnv1a(MTS_FNV1A_BASIS, "foobar", 6));
}

struct item {
    int key;
    struct mts_htab_node node;
    bool in;
};

static int released;

static bool same_key(const struct mts_htab_node *n, const void *key)
{
    return MTS_CONTAINER_OF(n, struct item, node)->key == *(const int *)key;
}

static void count_release(struct mts_htab_node *n)
{
    (void)n;
    released++;
}

static struct item *find(const struct mts_htab *t, int key, uint64_t h)
{
    struct mts_htab_node *n = mts_htab_find(t, h, same_key, &key);
    return n ? MTS_CONTAINER_OF(n, struct item, node) : NULL;
}

/* Inserts n items, removes every other one, and checks what the table finds; hash(key)
   chooses the hashes, so colliding hashes go through the same checks. */
static void exercise_table(size_t n, uint64_t (*hash)(int key))
{
    struct item *items = calloc(n, sizeof *items);
    struct mts_htab t;
    CHECK(items != NULL);
    CHECK_INT(mts_htab_init(&t, 4), 0);
    for (size_t i = 0; i < n; i++) {
        items[i].key = (int)i;
        items[i].node.hash = hash(items[i].key);
        mts_htab_insert(&t, &items[i].node);
        items[i].in = true;
    }
    CHECK_INT(t.count, n);
    CHECK(t.nbuckets >= n);
    for (size_t i = 0; i < n; i += 2) {
        mts_htab_remove(&t, &items[i].node);
        items[i].in = false;
    }
    size_t right = 0;
    for (size_t i = 0; i < n; i++) {
        struct item *it = find(&t, (int)i, hash((int)i));
        right += items[i].in ? it == &items[i] : it == NULL;
    }
    CHECK_INT(right, n);
    CHECK(find(&t, (int)n, hash((int)n)) == NULL);
    CHECK_INT(t.count, n / 2);
    released = 0;
    mts_htab_fini(&t, count_release);
    CHECK_INT(released, n / 2);
    CHECK(t.buckets == NULL);
    free(items);
}

static uint64_t spread(int key)
{
    return mts_fnv1a(MTS_FNV1A_BASIS, &key, sizeof key);
}

static uint64_t collide(int key)
{
    (void)key;
    return 7;
}

int main(void)
{
    test_hex_encode();
    test_hex_value();
    test_now_ms();
    test_fnv1a();
    exercise_table(10000, spread);
    exercise_table(300, collide);
    return check_exit();
}
