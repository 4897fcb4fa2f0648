/*
 * The record encoding as it lands in LMDB: a large record is stored compressed (tag 'Z'),
 * a small one as plain JSON, both read back equal (so does one larger than the buffer a
 * reading thread keeps); a plain JSON value written by other
 * means is read; a damaged compressed value (not zlib, a flipped checksum byte, a cut
 * stream, a length field shorter than the text) is reported as corrupt, not parsed; a record
 * handed to the writer as text is stored and read back like one handed over as a tree. The
 * stream is a standard zlib stream (zlib's own uncompress reads it), and a value that zlib
 * wrote (the stores of earlier versions) reads back too.
 */
#include <errno.h>
#include <string.h>

#include <lmdb.h>
#include <zlib.h>

#include "check.h"
#include "mts_store.h"
#include "mts_writer.h"
#include "util.h"

#define SCAN "codec"

/* The raw stored value of domain, copied into buf; returns its length or -1. */
static long raw_value(const char *dir, const char *domain, char *buf, size_t cap)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    long n = -1;
    char key[128];
    size_t klen = (size_t)snprintf(key, sizeof key, "%s%c%s", SCAN, 0, domain);
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
        mdb_env_open(env, dir, MDB_RDONLY, 0644))
        return -1;
    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
        MDB_val k = {klen, key}, v;
        if (mdb_dbi_open(txn, "domains", 0, &dbi) == 0 && mdb_get(txn, dbi, &k, &v) == 0 &&
            v.mv_size <= cap) {
            memcpy(buf, v.mv_data, v.mv_size);
            n = (long)v.mv_size;
        }
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return n;
}

int main(void)
{
    char dir[256];
    struct mts_store *s;
    struct mts_writer *w;
    util_tmpdir(dir, sizeof dir, "codec");
    CHECK_INT(mts_store_open(&s, dir, MTS_STORE_CREATE, 0), 0);
    CHECK_INT(mts_writer_start(&w, s, NULL), 0);
    json_t *big = util_domain_record(SCAN, "big.example", 1, 1);
    json_t *small = json_pack("{s:i, s:s}", "v", 1, "domain", "small.example");
    /* Larger than the buffer a reading thread keeps (64 KiB): inflated into its own. */
    static char filler[100000];
    memset(filler, 'x', sizeof filler - 1);
    json_t *huge = json_pack("{s:i, s:s, s:s}", "v", 1, "domain", "huge.example", "x", filler);
    CHECK_INT(mts_writer_put_domain(w, SCAN, "huge.example", json_incref(huge)), 0);
    CHECK_INT(mts_writer_put_domain(w, SCAN, "big.example", json_incref(big)), 0);
    CHECK_INT(mts_writer_put_domain(w, SCAN, "small.example", json_incref(small)), 0);
    /* The same record handed over as text (the scanner's way): stored the same way. */
    char *text = json_dumps(big, MTS_STORE_JSON_FLAGS);
    CHECK_INT(mts_writer_put_domain_text(w, SCAN, "text.example", text, strlen(text)), 0);
    CHECK_INT(mts_writer_put_domain_text(w, SCAN, NULL, strdup("{\"v\":1}"), 7), -EINVAL);
    CHECK_INT(mts_writer_stop(w), 0);
    mts_store_close(s);

    char buf[65536];
    char *json = json_dumps(big, MTS_STORE_JSON_FLAGS);
    long n = raw_value(dir, "big.example", buf, sizeof buf);
    CHECK(n > 5 && buf[0] == 'Z');
    CHECK(n < (long)strlen(json)); /* it did shrink */
    long zlen = n;
    static char flipped[65536], cut[65536], short_len[65536];
    memcpy(flipped, buf, (size_t)zlen);
    flipped[zlen - 1] ^= 0x01; /* the last byte of the Adler-32 checksum */
    memcpy(cut, buf, (size_t)zlen);
    memcpy(short_len, buf, (size_t)zlen);
    for (int i = 0; i < 4; i++) /* one byte less than the text */
        short_len[1 + i] = (char)(((strlen(json) - 1) >> (8 * i)) & 0xff);
    /* zlib reads what the writer compressed. */
    static char inflated[65536];
    uLongf ilen = sizeof inflated;
    CHECK_INT(uncompress((Bytef *)inflated, &ilen, (const Bytef *)buf + 5, (uLong)zlen - 5), Z_OK);
    CHECK(ilen == strlen(json) && memcmp(inflated, json, ilen) == 0);
    /* and the writer's reader reads what zlib compresses */
    static char by_zlib[65536];
    uLongf blen = sizeof by_zlib - 5;
    CHECK_INT(compress2((Bytef *)by_zlib + 5, &blen, (const Bytef *)json, (uLong)strlen(json),
                        Z_BEST_SPEED),
              Z_OK);
    memcpy(by_zlib, buf, 5); /* the tag and the text's length */
    n = raw_value(dir, "text.example", buf, sizeof buf);
    CHECK(n > 5 && buf[0] == 'Z');
    n = raw_value(dir, "small.example", buf, sizeof buf);
    CHECK(n > 0 && buf[0] == '{');

    /* A plain JSON value under a large record's key (what a store without compression
       holds) is read as it is. */
    CHECK_INT(util_put_raw(dir, SCAN, "plain.example", json, strlen(json)), 0);
    static const char damaged[] = "Z\x10\x00\x00\x00not a zlib stream";
    CHECK_INT(util_put_raw(dir, SCAN, "damaged.example", damaged, sizeof damaged - 1), 0);
    CHECK_INT(util_put_raw(dir, SCAN, "flipped.example", flipped, (size_t)zlen), 0);
    CHECK_INT(util_put_raw(dir, SCAN, "cut.example", cut, (size_t)zlen - 8), 0);
    CHECK_INT(util_put_raw(dir, SCAN, "short.example", short_len, (size_t)zlen), 0);
    CHECK_INT(util_put_raw(dir, SCAN, "zlib.example", by_zlib, 5 + (size_t)blen), 0);

    CHECK_INT(mts_store_open(&s, dir, MTS_STORE_RDONLY, 0), 0);
    json_t *got = NULL;
    CHECK_INT(mts_store_domain_get(s, SCAN, "big.example", &got), 0);
    CHECK(json_equal(got, big));
    json_decref(got);
    CHECK_INT(mts_store_domain_get(s, SCAN, "text.example", &got), 0);
    CHECK(json_equal(got, big));
    json_decref(got);
    CHECK_INT(mts_store_domain_get(s, SCAN, "huge.example", &got), 0);
    CHECK(json_equal(got, huge));
    json_decref(got);
    CHECK_INT(mts_store_domain_get(s, SCAN, "big.example", &got), 0); /* the kept buffer again */
    CHECK(json_equal(got, big));
    json_decref(got);
    CHECK_INT(mts_store_domain_get(s, SCAN, "small.example", &got), 0);
    CHECK(json_equal(got, small));
    json_decref(got);
    CHECK_INT(mts_store_domain_get(s, SCAN, "plain.example", &got), 0);
    CHECK(json_equal(got, big));
    json_decref(got);
    CHECK_INT(mts_store_domain_get(s, SCAN, "zlib.example", &got), 0);
    CHECK(json_equal(got, big));
    json_decref(got);
    CHECK_INT(mts_store_domain_get(s, SCAN, "damaged.example", &got), MTS_STORE_ECORRUPT);
    CHECK_INT(mts_store_domain_get(s, SCAN, "flipped.example", &got), MTS_STORE_ECORRUPT);
    CHECK_INT(mts_store_domain_get(s, SCAN, "cut.example", &got), MTS_STORE_ECORRUPT);
    CHECK_INT(mts_store_domain_get(s, SCAN, "short.example", &got), MTS_STORE_ECORRUPT);
    mts_store_close(s);

    free(json);
    json_decref(big);
    json_decref(small);
    json_decref(huge);
    util_rmtree(dir);
    return check_exit();
}
