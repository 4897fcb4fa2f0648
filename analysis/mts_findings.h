/*
 * Findings: what a validator says about its input, one shared type for the TXT record,
 * policy and TLS-RPT validators. A finding's code is a name from docs/vocabulary.md with
 * static storage duration; its message is owned by the finding list.
 */
#ifndef MTS_FINDINGS_H
#define MTS_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum mts_severity {
    MTS_SEV_INFO,    /* bookkeeping */
    MTS_SEV_WARNING, /* valid, but trips some senders or was probably not meant */
    MTS_SEV_ERROR,   /* an RFC-strict sender would not use the input: effect "off" */
};

/* The most findings one list records; then one "too-many-findings" info is added. */
#define MTS_FINDINGS_MAX 64

struct mts_finding {
    const char *code; /* e.g. "sts-policy-invalid/max-age-too-large"; static storage */
    enum mts_severity severity;
    unsigned line;    /* 1-based line of the policy body; 0 when not applicable */
    char message[96]; /* short, for people; UTF-8, cut at a character boundary */
};

/* A growable list; zero-initialise before first use, release with mts_findings_free. */
struct mts_findings {
    struct mts_finding *v;
    size_t n;
    size_t cap;
    bool truncated; /* more findings were dropped after MTS_FINDINGS_MAX */
};

/* "info", "warning" or "error" (static storage). */
const char *mts_severity_name(enum mts_severity severity);

/*
 * Append a finding; the message is printf-formatted, cut to fit at a character boundary,
 * and bytes that are not UTF-8 become "?". code must have static storage duration. After
 * MTS_FINDINGS_MAX findings `truncated` is set and further findings are dropped, except an
 * error whose code is not listed yet: it takes the place of the last warning or info, else
 * of the last repeated error, so the list always tells whether there is an error and which.
 * Returns 0 or -ENOMEM (the list is unchanged).
 */
int mts_findings_add(struct mts_findings *list, const char *code, enum mts_severity severity,
                     unsigned line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Whether the list holds a finding of severity error. */
bool mts_findings_has_error(const struct mts_findings *list);

/* Whether the list holds a finding with this code. */
bool mts_findings_has(const struct mts_findings *list, const char *code);

/*
 * The list as a JSON array of {"code","severity","line"?,"message"} objects (line only when
 * non-zero), followed by an info entry when truncated. New reference, NULL on ENOMEM.
 */
json_t *mts_findings_json(const struct mts_findings *list);

/* Free the list's storage and zero it; safe on a zeroed list. */
void mts_findings_free(struct mts_findings *list);

#endif
