/*
 * Why: the store's fast JSON reader must never accept what jansson refuses, and where it
 * accepts, build jansson's tree. libFuzzer looks for an input that breaks either (abort),
 * or that makes it crash or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "json_fast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *fast = mts_json_fast_parse((const char *)data, size);
    if (!fast)
        return 0;
    json_t *ref = json_loadb((const char *)data, size, 0, NULL);
    if (!ref || !json_equal(fast, ref))
        abort();
    json_decref(ref);
    json_decref(fast);
    return 0;
}
