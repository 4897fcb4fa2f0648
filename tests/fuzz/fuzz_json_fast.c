/*
 * Why: the store's fast JSON reader must never accept what jansson refuses, and where it
 * accepts, build jansson's tree; its pruned read (members left out, as the analysis walks
 * read records) must give up exactly where it does and build jansson's tree less those
 * members. libFuzzer looks for an input that breaks either (abort), or that makes it
 * crash or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "json_fast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const drop[] = {"ms", "answer", "name", "a", NULL};
    json_t *fast = mts_json_fast_parse((const char *)data, size);
    json_t *pruned = mts_json_fast_parse_pruned((const char *)data, size, drop);
    if ((fast == NULL) != (pruned == NULL))
        abort();
    if (!fast)
        return 0;
    json_t *ref = json_loadb((const char *)data, size, 0, NULL);
    if (!ref || !json_equal(fast, ref))
        abort();
    mts_json_prune(ref, drop);
    if (!json_equal(pruned, ref))
        abort();
    json_decref(ref);
    json_decref(pruned);
    json_decref(fast);
    return 0;
}
