/*
 * Why: the policy parser reads bodies served by any web server that answers for an
 * mta-sts host. libFuzzer looks for inputs that crash it or read out of bounds, and for
 * verdicts that break what the analysis relies on: the verdict always renders as JSON,
 * valid means no error finding, and a valid policy has what RFC 8461 §3.2 requires
 * (version STSv1, a known mode, max_age within the limit, an mx line unless the mode is
 * none, and only mx patterns that the pattern check accepts).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mts_policy.h"
#include "mts_profiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fields_valid(const struct mts_policy *pol)
{
    if (!pol->version || strcmp(pol->version, "STSv1") != 0)
        return false;
    if (pol->mode != MTS_MODE_ENFORCE && pol->mode != MTS_MODE_TESTING &&
        pol->mode != MTS_MODE_NONE)
        return false;
    if (pol->max_age < 0 || pol->max_age > MTS_MAX_AGE_LIMIT)
        return false;
    if (pol->mode != MTS_MODE_NONE && pol->n_mx == 0)
        return false;
    for (size_t i = 0; i < pol->n_mx; i++) {
        const char *bad = mts_policy_mx_check(pol->mx[i], strlen(pol->mx[i]));
        if (bad && !strstr(bad, "-warning/"))
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mts_policy pol;
    if (mts_policy_parse(&pol, data, size) != 0)
        abort(); /* only ENOMEM may fail, and the fuzzer does not exhaust memory */
    json_t *j = mts_policy_json(&pol);
    if (!j)
        abort();
    json_decref(j);
    if (pol.valid == mts_findings_has_error(&pol.findings))
        abort();
    if (pol.valid && !fields_valid(&pol))
        abort();
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
