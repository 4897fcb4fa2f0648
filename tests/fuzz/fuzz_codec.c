/*
 * Why: a damaged store (a full disk, a copied file, another program) hands the readers any
 * bytes as a record. The codec decodes plain JSON or 'Z' + length + zlib. libFuzzer looks
 * for values that crash the decoder, or decode to a record that does not survive encoding
 * and decoding again unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mts_store.h"
#include "store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *rec = NULL;
    if (mts_store__decode(data, size, &rec) != 0)
        return 0;
    if (!rec)
        abort();
    char *val;
    size_t len;
    if (mts_store__encode(rec, &val, &len) != 0)
        abort();
    json_t *again = NULL;
    if (mts_store__decode(val, len, &again) != 0 || !json_equal(rec, again))
        abort();
    json_decref(again);
    free(val);
    json_decref(rec);
    return 0;
}
