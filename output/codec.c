/*
 * How a record is stored. A domain record is about 2 KB of JSON: just over what LMDB keeps
 * inside a leaf page, so each would take a 4 KB overflow page of its own. Compressed (zlib
 * format, fastest level: about a quarter of the size) it fits in the leaf, and the store
 * shrinks fourfold. Small records stay plain JSON. A stored value is either JSON, which
 * always starts with '{', or 'Z', the JSON's length (4 bytes, little-endian) and a zlib
 * stream. Both directions use libdeflate with one compressor or decompressor kept per
 * thread: zlib set up a new stream for every record written, and inflated in three times
 * libdeflate's instructions (the analysis inflates every record).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>

#include "json_fast.h"
#include "mts_util.h"
#include "store_internal.h"

#define COMPRESS_FROM  256         /* bytes of JSON; below this compression gains nothing */
#define COMPRESS_LEVEL 1           /* the fastest: the writer thread shares a core */
#define RECORD_MAX     (64u << 20) /* a decoded record larger than this is corrupt */
#define TAG_ZLIB       'Z'

int mts_store__encode(const json_t *rec, char **val, size_t *len)
{
    char *json = json_dumps(rec, MTS_STORE_JSON_FLAGS);
    if (!json)
        return -ENOMEM;
    return mts_store__encode_text(json, strlen(json), val, len);
}

static pthread_key_t deflater_key;
static pthread_once_t deflater_once = PTHREAD_ONCE_INIT;

static void free_deflater(void *arg)
{
    libdeflate_free_compressor(arg);
}

static void make_deflater_key(void)
{
    if (pthread_key_create(&deflater_key, free_deflater) != 0)
        abort(); /* only when the process is out of keys: a fault of the process */
}

/* This thread's compressor, or NULL when out of memory. */
static struct libdeflate_compressor *thread_deflater(void)
{
    pthread_once(&deflater_once, make_deflater_key);
    struct libdeflate_compressor *c = pthread_getspecific(deflater_key);
    if (c)
        return c;
    if (!(c = libdeflate_alloc_compressor(COMPRESS_LEVEL)))
        return NULL;
    if (pthread_setspecific(deflater_key, c) != 0) {
        libdeflate_free_compressor(c);
        return NULL;
    }
    return c;
}

int mts_store__encode_text(char *json, size_t n, char **val, size_t *len)
{
    if (n < COMPRESS_FROM || n > RECORD_MAX) {
        *val = json;
        *len = n;
        return 0;
    }
    struct libdeflate_compressor *c = thread_deflater();
    char *out = c ? malloc(5 + libdeflate_zlib_compress_bound(c, n)) : NULL;
    if (!out) {
        free(json);
        return -ENOMEM;
    }
    out[0] = TAG_ZLIB;
    for (int i = 0; i < 4; i++)
        out[1 + i] = (char)((n >> (8 * i)) & 0xff);
    size_t zlen =
        libdeflate_zlib_compress(c, json, n, out + 5, libdeflate_zlib_compress_bound(c, n));
    free(json);
    if (zlen == 0) { /* cannot happen with the bound's room */
        free(out);
        return -ENOMEM;
    }
    *val = out;
    *len = 5 + zlen;
    return 0;
}

#define KEEP_MAX (64u << 10) /* a thread keeps an output buffer up to this size */

/* What one thread reuses from record to record: allocating a decompressor costs as much as
   inflating a record, and a fresh output buffer per record sent jemalloc to its slow path. */
struct inflater {
    struct libdeflate_decompressor *d;
    char *buf;
    size_t cap;
};

static pthread_key_t inflater_key;
static pthread_once_t inflater_once = PTHREAD_ONCE_INIT;

static void free_inflater(void *arg)
{
    struct inflater *in = arg;
    libdeflate_free_decompressor(in->d);
    free(in->buf);
    free(in);
}

static void make_inflater_key(void)
{
    if (pthread_key_create(&inflater_key, free_inflater) != 0)
        abort(); /* only when the process is out of keys: a fault of the process */
}

/* This thread's inflater, or NULL when out of memory. */
static struct inflater *thread_inflater(void)
{
    pthread_once(&inflater_once, make_inflater_key);
    struct inflater *in = pthread_getspecific(inflater_key);
    if (in)
        return in;
    if (!(in = calloc(1, sizeof *in)) || !(in->d = libdeflate_alloc_decompressor()) ||
        pthread_setspecific(inflater_key, in) != 0) {
        if (in)
            libdeflate_free_decompressor(in->d);
        free(in);
        return NULL;
    }
    return in;
}

/* A buffer of n bytes for the inflated text: the thread's own when it is small enough. */
static char *out_buffer(struct inflater *in, size_t n)
{
    if (n > KEEP_MAX)
        return malloc(n);
    if (n > in->cap) {
        char *b = realloc(in->buf, KEEP_MAX);
        if (!b)
            return NULL;
        in->buf = b;
        in->cap = KEEP_MAX;
    }
    return in->buf;
}

/* The fast reader for the plain text the store writes, jansson for anything else; the
   members named in drop left out either way. */
static json_t *parse(const char *json, size_t len, const char *const *drop)
{
    json_t *rec = mts_json_fast_parse_pruned(json, len, drop);
    if (rec)
        return rec;
    if ((rec = json_loadb(json, len, 0, NULL)) != NULL && drop)
        mts_json_prune(rec, drop);
    return rec;
}

int mts_store__decode(const void *data, size_t len, json_t **out)
{
    return mts_store__decode_pruned(data, len, NULL, out);
}

int mts_store__decode_pruned(const void *data, size_t len, const char *const *drop, json_t **out)
{
    const unsigned char *p = data;
    json_t *rec = NULL;
    if (len > 5 && p[0] == TAG_ZLIB) {
        size_t n = (size_t)p[1] | (size_t)p[2] << 8 | (size_t)p[3] << 16 | (size_t)p[4] << 24;
        struct inflater *in = n && n <= RECORD_MAX ? thread_inflater() : NULL;
        char *json = in ? out_buffer(in, n) : NULL;
        size_t got = 0;
        if (json &&
            libdeflate_zlib_decompress(in->d, p + 5, len - 5, json, n, &got) == LIBDEFLATE_SUCCESS)
            rec = parse(json, got, drop);
        if (in && json != in->buf)
            free(json);
    } else {
        rec = parse(data, len, drop);
    }
    if (!json_is_object(rec)) {
        json_decref(rec);
        return MTS_STORE_ECORRUPT;
    }
    *out = rec;
    return 0;
}

long mts_store_unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t len = strlen(hex);
    if (len % 2 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = mts_hex_value(hex[2 * i]), lo = mts_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(len / 2);
}
