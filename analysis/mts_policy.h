/*
 * The MTA-STS policy body (RFC 8461 §3.2): from the bytes served at
 * /.well-known/mta-sts.txt to version, mode, max_age, mx patterns and findings. The parse
 * is best-effort (what the operator meant) and the findings say what a strict sender
 * would reject. Rules and codes: docs/validation.md, section 2.
 */
#ifndef MTS_POLICY_H
#define MTS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mts_findings.h"

#define MTS_MAX_AGE_LIMIT 31557600 /* RFC 8461 §3.2 */

enum mts_mode {
    MTS_MODE_ABSENT,  /* no mode line */
    MTS_MODE_INVALID, /* a mode line with another value */
    MTS_MODE_ENFORCE,
    MTS_MODE_TESTING,
    MTS_MODE_NONE,
};

struct mts_policy {
    bool valid;      /* no finding of severity error */
    char *version;   /* first version value as written (owned), NULL if absent */
    char *mode_text; /* first mode value as written (owned), NULL if absent */
    enum mts_mode mode;
    char *max_age_text; /* first max_age value as written (owned), NULL if absent */
    int64_t max_age;    /* its value when 1*10DIGIT, else -1 (may exceed the limit) */
    char **mx;          /* every mx value as written, in order (owned) */
    size_t n_mx;
    struct mts_findings findings;
};

/* "enforce", "testing", "none", "invalid" or "absent" (static storage). */
const char *mts_mode_name(enum mts_mode mode);

/*
 * Parse a policy body of len bytes (any bytes; NUL-terminated or not). *out is
 * overwritten; release it with mts_policy_free, also after an error.
 * Returns 0 (the verdict is in *out) or -ENOMEM.
 */
int mts_policy_parse(struct mts_policy *out, const unsigned char *body, size_t len);

/*
 * Check one mx pattern (["*."] Domain): NULL when valid, else the finding code: an error
 * ("sts-policy-invalid/bad-mx", ".../mx-trailing-dot" or ".../mx-ip-address" for an address
 * literal) or the warning "sts-policy-warning/mx-numeric" (valid, all-numeric last label).
 */
const char *mts_policy_mx_check(const char *pattern, size_t len);

/*
 * {"valid", "version"?, "mode"?, "max_age"?, "mx": [...], "findings": [...]} where mode is
 * the value as written and max_age a number when it is 1*10DIGIT (else the text). Strings
 * that are not valid UTF-8 are rendered with U+FFFD replacements. New reference, NULL on
 * ENOMEM.
 */
json_t *mts_policy_json(const struct mts_policy *policy);

/* Free what *policy owns and zero it; safe on a zeroed struct. */
void mts_policy_free(struct mts_policy *policy);

#endif
