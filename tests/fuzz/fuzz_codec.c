/*
 * Why: a damaged store (a full disk, a copied file, another program) hands the readers any
 * bytes as a record. The codec decodes plain JSON or 'Z' + length + zlib. libFuzzer looks
 * for values that crash the decoder, or decode to a record that, once stored, does not come
 * back unchanged from another encoding and decoding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mts_store.h"
#include "store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The record encoded and decoded again (a new reference). */
static json_t *round_trip(const json_t *rec)
{
    char *val;
    size_t len;
    json_t *again = NULL;
    if (mts_store__encode(rec, &val, &len) != 0 || mts_store__decode(val, len, &again) != 0)
        abort();
    free(val);
    return again;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *rec = NULL;
    if (mts_store__decode(data, size, &rec) != 0)
        return 0;
    if (!rec)
        abort();
    /* Reals are stored with 15 significant digits (MTS_STORE_JSON_FLAGS), so the first
       round may round them; from then on a record must come back unchanged. */
    json_t *once = round_trip(rec), *twice = round_trip(once);
    if (!json_equal(once, twice))
        abort();
    json_decref(twice);
    json_decref(once);
    json_decref(rec);
    return 0;
}
