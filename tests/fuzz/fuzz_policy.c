/*
 * Why: the policy parser reads bodies served by any web server that answers for an
 * mta-sts host; libFuzzer looks for inputs that crash it, read out of bounds, or make the
 * JSON rendering fail on bytes that are not UTF-8.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mts_policy.h"
#include "mts_profiles.h"

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
    /* The sender profiles' own readers take the same bytes. */
    struct mts_resolver_policy r;
    for (int utf8 = 0; utf8 < 2; utf8++) {
        mts_resolver_policy_read(&r, data, size, utf8);
        mts_resolver_policy_free(&r);
    }
    enum mts_mode mode;
    mts_maddy_policy_read(data, size, &mode);
    return 0;
}
