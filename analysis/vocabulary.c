/*
 * Why a table here: the classifier builds category names in many places, so the names a
 * user may ask for are listed once, against docs/vocabulary.md (analyze_cli checks that
 * every category of that page is accepted).
 */
#include "vocabulary.h"

#include <string.h>

const char *const mts_verdict_names[] = {
    "no-mta-sts",    "valid-enforce", "valid-testing", "valid-none",
    "misconfigured", "indeterminate", "no-mail",
};
const size_t mts_n_verdict_names = sizeof mts_verdict_names / sizeof mts_verdict_names[0];

const char *const mts_category_names[] = {
    "dns-failure/sts-txt",
    "dns-failure/mx",
    "dns-failure/policy-host",
    "dns-failure/mx-address",
    "dns-failure/tlsrpt",
    "sts-txt-invalid/multiple-records",
    "sts-txt-invalid/missing-id",
    "sts-txt-invalid/bad-id",
    "sts-txt-invalid/syntax",
    "sts-txt-invalid/non-ascii",
    "sts-txt-invalid/cname-dangling",
    "sts-policy-only/no-txt-record",
    "sts-policy-fetch-error/host-unresolvable",
    "sts-policy-fetch-error/special-address",
    "sts-policy-fetch-error/connect-refused",
    "sts-policy-fetch-error/connect-timeout",
    "sts-policy-fetch-error/tls-failure",
    "sts-policy-fetch-error/timeout",
    "sts-policy-fetch-error/reset",
    "sts-policy-fetch-error/http-status",
    "sts-policy-fetch-error/redirect",
    "sts-policy-fetch-error/media-type",
    "sts-policy-fetch-error/too-large",
    "sts-policy-fetch-error/other",
    "sts-webpki-invalid/expired",
    "sts-webpki-invalid/name-mismatch",
    "sts-webpki-invalid/self-signed",
    "sts-webpki-invalid/untrusted",
    "sts-webpki-invalid/other",
    "sts-policy-invalid/bom",
    "sts-policy-invalid/lone-cr",
    "sts-policy-invalid/control-char",
    "sts-policy-invalid/bad-utf8",
    "sts-policy-invalid/empty-line",
    "sts-policy-invalid/trailing-empty-lines",
    "sts-policy-invalid/leading-whitespace",
    "sts-policy-invalid/bad-line",
    "sts-policy-invalid/space-before-colon",
    "sts-policy-invalid/bad-key",
    "sts-policy-invalid/bad-extension",
    "sts-policy-invalid/missing-version",
    "sts-policy-invalid/bad-version",
    "sts-policy-invalid/missing-mode",
    "sts-policy-invalid/bad-mode",
    "sts-policy-invalid/missing-max-age",
    "sts-policy-invalid/bad-max-age",
    "sts-policy-invalid/max-age-too-large",
    "sts-policy-invalid/missing-mx",
    "sts-policy-invalid/bad-mx",
    "sts-policy-invalid/mx-trailing-dot",
    "sts-policy-invalid/mx-ip-address",
    "weak/max-age-below-day",
    "weak/max-age-below-week-enforce",
    "weak/mode-testing",
    "weak/tls-below-1.2",
    "validation-failure/mx-not-covered",
    "starttls-not-supported/not-offered",
    "starttls-not-supported/rejected",
    "validation-failure/tls-handshake",
    "certificate-expired/mx",
    "certificate-host-mismatch/mx",
    "certificate-not-trusted/self-signed",
    "certificate-not-trusted/untrusted",
    "validation-failure/certificate-other",
    "mx-info/unreachable",
    "mx-info/null-mx",
    "mx-info/implicit-mx",
    "mx-info/smtp-error",
    "mx-info/pattern-unused",
    "mx-info/starttls-injection",
    "tlsrpt/absent",
    "tlsrpt/invalid",
    "tlsrpt/multiple-records",
    "tlsrpt/rua-undeliverable",
    "tlsrpt/rua-unresolvable",
    "tlsrpt/rua-tls-failure",
    "tlsrpt/rua-cert-invalid",
    "not-probed/policy-host-ipv6",
    "not-probed/mx-ipv6",
    "not-probed/mx-name",
    "local-error/policy-fetch",
    "local-error/mx-probe",
    "queue-timeout/policy-fetch",
    "queue-timeout/mx-probe",
    "dns-info/name-too-long",
    "analysis-error/undecodable",
    "analysis-error/unknown-version",
    "analysis-error/bad-field",
    "analysis-error/body-missing",
    "analysis-error/body-damaged",
};
const size_t mts_n_category_names = sizeof mts_category_names / sizeof mts_category_names[0];

/* The part of each name before its "/", once each. */
static const char *const category_types[] = {
    "dns-failure",
    "sts-txt-invalid",
    "sts-policy-only",
    "sts-policy-fetch-error",
    "sts-webpki-invalid",
    "sts-policy-invalid",
    "weak",
    "validation-failure",
    "starttls-not-supported",
    "certificate-expired",
    "certificate-host-mismatch",
    "certificate-not-trusted",
    "mx-info",
    "tlsrpt",
};

bool mts_name_known(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

bool mts_category_selects(const char *sel, const char *code)
{
    size_t len = strlen(sel);
    return len > 0 && strncmp(code, sel, len) == 0 &&
           (code[len] == '\0' || code[len] == '/' || sel[len - 1] == '/');
}

bool mts_category_selector_ok(const char *sel)
{
    for (size_t i = 0; i < mts_n_category_names; i++)
        if (mts_category_selects(sel, mts_category_names[i]))
            return true;
    return false;
}

/* Longer words are no one's misspelling of a name. */
#define WORD_MAX 64

/* Levenshtein distance of a and b (both at most WORD_MAX bytes), one row at a time. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[WORD_MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *mts_name_closest(const char *word, const char *const *names, size_t n)
{
    size_t len = strlen(word);
    if (len == 0 || len > WORD_MAX)
        return NULL;
    const char *prefixed = NULL, *best = NULL;
    size_t n_prefixed = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(names[i], word, len) == 0) {
            prefixed = names[i];
            n_prefixed++;
        }
    if (n_prefixed == 1)
        return prefixed;
    /* A slip of a key or two, not a different word: at most 3 edits and a third of it. */
    size_t limit = len / 3 < 3 ? len / 3 : 3;
    for (size_t i = 0; i < n; i++) {
        if (strlen(names[i]) > WORD_MAX)
            continue;
        size_t d = edit_distance(word, names[i]);
        if (d <= limit) {
            best = names[i];
            limit = d == 0 ? 0 : d - 1;
        }
    }
    return best;
}

const char *mts_category_closest(const char *word)
{
    const char *type =
        mts_name_closest(word, category_types, sizeof category_types / sizeof category_types[0]);
    return type ? type : mts_name_closest(word, mts_category_names, mts_n_category_names);
}
