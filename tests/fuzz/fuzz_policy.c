/*
 * Why: the policy parser reads bodies served by any web server that answers for an
 * mta-sts host; libFuzzer looks for inputs that crash it, read out of bounds, or make the
 * JSON rendering fail on bytes that are not UTF-8.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mts_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mts_policy pol;
    if (mts_policy_parse(&pol, data, size) == 0) {
        json_t *j = mts_policy_json(&pol);
        if (!j)
            abort(); /* only ENOMEM may fail, and the fuzzer does not exhaust memory */
        json_decref(j);
    }
    mts_policy_free(&pol);
    return 0;
}
