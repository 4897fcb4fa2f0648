/*
 * Why a table here: the classifier builds category names in many places, while their
 * effect, their fix and the names a user may ask for belong together: each category is
 * listed once, beside the others, where a reviewer can check the whole vocabulary against
 * docs/vocabulary.md (and the test vocabulary_doc does).
 */
#include "vocabulary.h"

#include <string.h>

const char *const mts_verdict_names[] = {
    "no-mta-sts",    "valid-enforce", "valid-testing", "valid-none",
    "misconfigured", "indeterminate", "no-mail",
};
const size_t mts_n_verdict_names = sizeof mts_verdict_names / sizeof mts_verdict_names[0];

/* Each effect's name and what it means for mail, in words (explain, disclose). */
static const struct {
    const char *name, *meaning;
} effects[] = {
    [MTS_EFFECT_INFO] = {"info", "info: no effect on delivery"},
    [MTS_EFFECT_WEAK] = {"weak", "weak: valid, but weaker than intended"},
    [MTS_EFFECT_UNKNOWN] = {"unknown", "unknown: the scan could not observe this, or the "
                                       "analysis could not read it"},
    [MTS_EFFECT_BOUNCE] = {"bounce", "bounce: senders in enforce mode refuse this MX; if every "
                                     "MX is refused, mail is lost"},
    [MTS_EFFECT_OFF] = {"off", "off: senders treat the domain as having no policy (protection "
                               "silently lost)"},
};

const char *mts_effect_name(enum mts_effect effect)
{
    return effects[effect].name;
}

const char *mts_effect_meaning(const char *name)
{
    for (size_t i = 0; i < sizeof effects / sizeof effects[0]; i++)
        if (name && strcmp(effects[i].name, name) == 0)
            return effects[i].meaning;
    return effects[MTS_EFFECT_INFO].meaning;
}

/* The operator's fix for each category (docs/analyze.md, explain): one sentence, shared by
   the categories of a type when one fix covers them all. */
static const char fix_dns_failure[] = "Make the authoritative DNS servers answer reliably (this "
                                      "scan got a SERVFAIL or timeout), then re-check.";
static const char fix_sts_txt_invalid_multiple_records[] =
    "Keep exactly one TXT record starting with v=STSv1 at _mta-sts.<domain>; delete the others.";
static const char fix_sts_txt_invalid_missing_id[] =
    "Add an id field: \"v=STSv1; id=20240101T000000;\".";
static const char fix_sts_txt_invalid_bad_id[] =
    "Use an id of 1 to 32 letters and digits only (no dashes, dots or spaces).";
static const char fix_sts_txt_invalid_syntax[] = "Write the record as \"v=STSv1; id=<letters and "
                                                 "digits>;\" with fields separated by semicolons.";
static const char fix_sts_txt_invalid_non_ascii[] =
    "Remove the non-ASCII characters from the TXT record.";
static const char fix_sts_txt_invalid_cname_dangling[] =
    "Point the _mta-sts CNAME at a name that exists and holds the TXT record, or publish the TXT "
    "directly.";
static const char fix_sts_policy_only_no_txt_record[] =
    "Publish the TXT record \"v=STSv1; id=...;\" at _mta-sts.<domain>: without it senders never "
    "fetch the policy.";
static const char fix_sts_policy_fetch_error_host_unresolvable[] =
    "Publish A/AAAA records for mta-sts.<domain> pointing at the web server of the policy.";
static const char fix_sts_policy_fetch_error_special_address[] =
    "Point mta-sts.<domain> at a public address, not a private or reserved one.";
static const char fix_sts_policy_fetch_error[] =
    "Make https://mta-sts.<domain>/.well-known/mta-sts.txt reachable on port 443 and answering "
    "promptly.";
static const char fix_sts_policy_fetch_error_http_status[] =
    "Make /.well-known/mta-sts.txt on mta-sts.<domain> answer 200 with the policy.";
static const char fix_sts_policy_fetch_error_redirect[] =
    "Serve the policy directly with status 200 at "
    "https://mta-sts.<domain>/.well-known/mta-sts.txt: senders do not follow redirects.";
static const char fix_sts_policy_fetch_error_media_type[] =
    "Serve mta-sts.txt with \"Content-Type: text/plain\".";
static const char fix_sts_policy_fetch_error_too_large[] = "Keep the policy file under 64 KiB.";
static const char fix_sts_webpki_invalid[] =
    "Install a certificate for mta-sts.<domain> from a public CA, valid now, with that exact name "
    "(a wildcard for the parent also works).";
static const char fix_sts_policy_invalid[] =
    "Correct the policy file: \"version: STSv1\", \"mode: enforce|testing|none\", \"max_age: "
    "<seconds, at most 31557600>\", and one \"mx:\" line per mail server, CRLF or LF line endings.";
static const char fix_weak_max_age_below_day[] =
    "Raise max_age to at least a week (604800); senders forget the policy after max_age seconds.";
static const char fix_weak_max_age_below_week_enforce[] =
    "Raise max_age to at least a week (604800), commonly several months, once enforce works.";
static const char fix_weak_mode_testing[] =
    "When TLS-RPT reports show no failures, switch the policy to \"mode: enforce\" and change the "
    "record's id.";
static const char fix_weak_tls_below_1_2[] = "Enable TLS 1.2 or 1.3 on the mail server.";
static const char fix_validation_failure_mx_not_covered[] =
    "Add an \"mx:\" line matching this MX host to the policy (and change the record's id), or fix "
    "the MX record.";
static const char fix_starttls_not_supported[] = "Enable STARTTLS on the mail server.";
static const char fix_validation_failure_tls_handshake[] =
    "Fix the mail server's TLS configuration so a STARTTLS handshake completes.";
static const char fix_certificate_expired[] = "Renew the mail server's certificate.";
static const char fix_certificate_host_mismatch[] =
    "Install a certificate on the mail server whose name matches the MX host name.";
static const char fix_certificate_not_trusted[] =
    "Install a mail server certificate issued by a public CA, with its intermediate certificates.";
static const char fix_mx_info_pattern_unused[] =
    "Remove the \"mx:\" lines that match none of the current MX hosts.";
static const char fix_tlsrpt_absent[] =
    "Publish \"v=TLSRPTv1; rua=mailto:tls-reports@<domain>\" at _smtp._tls.<domain> to receive "
    "reports of delivery failures.";
static const char fix_tlsrpt_invalid[] =
    "Correct the TLS-RPT record: \"v=TLSRPTv1; rua=mailto:<address>\" (the mailto: or https: "
    "scheme is required).";
static const char fix_tlsrpt_multiple_records[] =
    "Keep exactly one TXT record starting with v=TLSRPTv1.";
static const char fix_tlsrpt_rua_undeliverable[] =
    "Send TLS reports to an address whose domain takes mail: it needs an MX record (not the null "
    "MX) or an address.";
static const char fix_tlsrpt_rua_unresolvable[] =
    "Point the https: report URI at a host with A/AAAA records.";
static const char fix_tlsrpt_rua_tls_failure[] =
    "Make the https: report host accept TLS connections on the URI's port (443 unless the URI "
    "names one).";
static const char fix_tlsrpt_rua_cert_invalid[] =
    "Give the https: report host a certificate from a public CA for its name, current and with "
    "its intermediates.";
static const char fix_not_probed[] =
    "Nothing to fix on the domain's side: this host has only IPv6 addresses and the scan did not "
    "use IPv6; re-scan with --ipv6 to judge it.";
static const char fix_local_error[] =
    "Nothing to fix on the domain: the scanning machine ran out of descriptors or local ports for "
    "this connection; scan again with more.";
static const char fix_queue_timeout[] =
    "Nothing to fix on the domain, unless its server is very slow: the scanner waited too long for "
    "a connection slot to this address (many domains share it); scan again.";
static const char fix_analysis_error[] =
    "Nothing to fix at the domain: the analysis could not read what the scan stored (see "
    "\"analysis error\" above); scan the domain again.";

/*
 * The categories a classification can hold (docs/vocabulary.md, in its order): name,
 * effect and fix. The test vocabulary_doc checks the page against this list.
 */
// clang-format off
#define CLASSIFIER_CATEGORIES(X) \
    X("dns-failure/sts-txt", UNKNOWN, fix_dns_failure) \
    X("dns-failure/mx", UNKNOWN, fix_dns_failure) \
    X("dns-failure/policy-host", UNKNOWN, fix_dns_failure) \
    X("dns-failure/mx-address", UNKNOWN, fix_dns_failure) \
    X("dns-failure/tlsrpt", UNKNOWN, fix_dns_failure) \
    X("sts-txt-invalid/multiple-records", OFF, fix_sts_txt_invalid_multiple_records) \
    X("sts-txt-invalid/missing-id", OFF, fix_sts_txt_invalid_missing_id) \
    X("sts-txt-invalid/bad-id", OFF, fix_sts_txt_invalid_bad_id) \
    X("sts-txt-invalid/syntax", OFF, fix_sts_txt_invalid_syntax) \
    X("sts-txt-invalid/non-ascii", OFF, fix_sts_txt_invalid_non_ascii) \
    X("sts-txt-invalid/cname-dangling", OFF, fix_sts_txt_invalid_cname_dangling) \
    X("sts-policy-only/no-txt-record", OFF, fix_sts_policy_only_no_txt_record) \
    X("sts-policy-fetch-error/host-unresolvable", OFF, fix_sts_policy_fetch_error_host_unresolvable) \
    X("sts-policy-fetch-error/special-address", OFF, fix_sts_policy_fetch_error_special_address) \
    X("sts-policy-fetch-error/connect-refused", OFF, fix_sts_policy_fetch_error) \
    X("sts-policy-fetch-error/connect-timeout", OFF, fix_sts_policy_fetch_error) \
    X("sts-policy-fetch-error/tls-failure", OFF, fix_sts_policy_fetch_error) \
    X("sts-policy-fetch-error/timeout", OFF, fix_sts_policy_fetch_error) \
    X("sts-policy-fetch-error/reset", OFF, fix_sts_policy_fetch_error) \
    X("sts-policy-fetch-error/http-status", OFF, fix_sts_policy_fetch_error_http_status) \
    X("sts-policy-fetch-error/redirect", OFF, fix_sts_policy_fetch_error_redirect) \
    X("sts-policy-fetch-error/media-type", OFF, fix_sts_policy_fetch_error_media_type) \
    X("sts-policy-fetch-error/too-large", OFF, fix_sts_policy_fetch_error_too_large) \
    X("sts-policy-fetch-error/other", OFF, fix_sts_policy_fetch_error) \
    X("sts-webpki-invalid/expired", OFF, fix_sts_webpki_invalid) \
    X("sts-webpki-invalid/name-mismatch", OFF, fix_sts_webpki_invalid) \
    X("sts-webpki-invalid/self-signed", OFF, fix_sts_webpki_invalid) \
    X("sts-webpki-invalid/untrusted", OFF, fix_sts_webpki_invalid) \
    X("sts-webpki-invalid/other", OFF, fix_sts_webpki_invalid) \
    X("sts-policy-invalid/bom", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/lone-cr", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/control-char", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/bad-utf8", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/empty-line", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/trailing-empty-lines", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/leading-whitespace", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/bad-line", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/space-before-colon", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/bad-key", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/bad-extension", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/missing-version", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/bad-version", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/missing-mode", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/bad-mode", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/missing-max-age", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/bad-max-age", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/max-age-too-large", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/missing-mx", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/bad-mx", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/mx-trailing-dot", OFF, fix_sts_policy_invalid) \
    X("sts-policy-invalid/mx-ip-address", OFF, fix_sts_policy_invalid) \
    X("weak/max-age-below-day", WEAK, fix_weak_max_age_below_day) \
    X("weak/max-age-below-week-enforce", WEAK, fix_weak_max_age_below_week_enforce) \
    X("weak/mode-testing", WEAK, fix_weak_mode_testing) \
    X("weak/tls-below-1.2", WEAK, fix_weak_tls_below_1_2) \
    X("validation-failure/mx-not-covered", BOUNCE, fix_validation_failure_mx_not_covered) \
    X("starttls-not-supported/not-offered", BOUNCE, fix_starttls_not_supported) \
    X("starttls-not-supported/rejected", BOUNCE, fix_starttls_not_supported) \
    X("validation-failure/tls-handshake", BOUNCE, fix_validation_failure_tls_handshake) \
    X("certificate-expired/mx", BOUNCE, fix_certificate_expired) \
    X("certificate-host-mismatch/mx", BOUNCE, fix_certificate_host_mismatch) \
    X("certificate-not-trusted/self-signed", BOUNCE, fix_certificate_not_trusted) \
    X("certificate-not-trusted/untrusted", BOUNCE, fix_certificate_not_trusted) \
    X("validation-failure/certificate-other", BOUNCE, NULL) \
    X("mx-info/unreachable", INFO, NULL) \
    X("mx-info/null-mx", INFO, NULL) \
    X("mx-info/implicit-mx", INFO, NULL) \
    X("mx-info/smtp-error", INFO, NULL) \
    X("mx-info/pattern-unused", INFO, fix_mx_info_pattern_unused) \
    X("mx-info/starttls-injection", INFO, NULL) \
    X("tlsrpt/absent", INFO, fix_tlsrpt_absent) \
    X("tlsrpt/invalid", INFO, fix_tlsrpt_invalid) \
    X("tlsrpt/multiple-records", INFO, fix_tlsrpt_multiple_records) \
    X("tlsrpt/rua-undeliverable", INFO, fix_tlsrpt_rua_undeliverable) \
    X("tlsrpt/rua-unresolvable", INFO, fix_tlsrpt_rua_unresolvable) \
    X("tlsrpt/rua-tls-failure", INFO, fix_tlsrpt_rua_tls_failure) \
    X("tlsrpt/rua-cert-invalid", INFO, fix_tlsrpt_rua_cert_invalid) \
    X("not-probed/policy-host-ipv6", UNKNOWN, fix_not_probed) \
    X("not-probed/mx-ipv6", UNKNOWN, fix_not_probed) \
    X("not-probed/mx-name", UNKNOWN, fix_not_probed) \
    X("local-error/policy-fetch", UNKNOWN, fix_local_error) \
    X("local-error/mx-probe", UNKNOWN, fix_local_error) \
    X("queue-timeout/policy-fetch", UNKNOWN, fix_queue_timeout) \
    X("queue-timeout/mx-probe", UNKNOWN, fix_queue_timeout) \
    X("dns-info/name-too-long", INFO, NULL) \
    X("analysis-error/undecodable", UNKNOWN, fix_analysis_error) \
    X("analysis-error/unknown-version", UNKNOWN, fix_analysis_error) \
    X("analysis-error/bad-field", UNKNOWN, fix_analysis_error) \
    X("analysis-error/body-missing", UNKNOWN, fix_analysis_error) \
    X("analysis-error/body-damaged", UNKNOWN, fix_analysis_error)

/* The categories only diff gives, comparing two scans. */
#define DIFF_CATEGORIES(X) \
    X("change/body-changed-id-unchanged", WEAK, NULL) \
    X("change/id-changed-body-unchanged", INFO, NULL)
// clang-format on

#define ROW(name, effect, fix) {name, MTS_EFFECT_##effect, fix},
const struct mts_category mts_categories[] = {CLASSIFIER_CATEGORIES(ROW) DIFF_CATEGORIES(ROW)};
#undef ROW
const size_t mts_n_categories = sizeof mts_categories / sizeof mts_categories[0];

#define NAME(name, effect, fix) name,
const char *const mts_category_names[] = {CLASSIFIER_CATEGORIES(NAME)};
#undef NAME
const size_t mts_n_category_names = sizeof mts_category_names / sizeof mts_category_names[0];

const struct mts_category *mts_category_find(const char *name)
{
    for (size_t i = 0; i < mts_n_categories; i++)
        if (strcmp(mts_categories[i].name, name) == 0)
            return &mts_categories[i];
    return NULL;
}

enum mts_effect mts_category_effect(const char *name)
{
    const struct mts_category *c = mts_category_find(name);
    return c ? c->effect : MTS_EFFECT_INFO;
}

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
