/*
 * Why: a record outlives the program that wrote it, so each observation value is spelled
 * once, here, for the writer and every reader (mts_vocab.h, docs/record-schema.md).
 */
#include "mts_vocab.h"

#include <string.h>

static const char *const dns_results[MTS_DNS_RESULT_COUNT] = {
    [MTS_DNS_RESULT_ANSWER] = "answer",
    [MTS_DNS_RESULT_NODATA] = "nodata",
    [MTS_DNS_RESULT_NXDOMAIN] = "nxdomain",
    [MTS_DNS_RESULT_SERVFAIL] = "servfail",
    [MTS_DNS_RESULT_REFUSED] = "refused",
    [MTS_DNS_RESULT_TIMEOUT] = "timeout",
    [MTS_DNS_RESULT_ERROR] = "error",
    [MTS_DNS_RESULT_LOCAL_ERROR] = "local-error",
    [MTS_DNS_RESULT_QUEUE_TIMEOUT] = "queue-timeout",
    [MTS_DNS_RESULT_SKIPPED] = "skipped",
};

static const char *const skips[MTS_SKIP_COUNT] = {
    [MTS_SKIP_EXCLUDED] = "excluded",           [MTS_SKIP_SPECIAL_ADDRESS] = "special-address",
    [MTS_SKIP_IPV6_DISABLED] = "ipv6-disabled", [MTS_SKIP_SMTP_DISABLED] = "smtp-disabled",
    [MTS_SKIP_OUT_OF_SCOPE] = "out-of-scope",   [MTS_SKIP_LIMIT] = "limit",
    [MTS_SKIP_NAME_TOO_LONG] = "name-too-long", [MTS_SKIP_PROBE_REFUSED] = "probe-refused",
    [MTS_SKIP_BAD_ADDRESS] = "bad-address",
};

static const char *const scan_states[MTS_SCAN_STATE_UNKNOWN] = {
    [MTS_SCAN_RUNNING] = "running",
    [MTS_SCAN_INTERRUPTED] = "interrupted",
    [MTS_SCAN_COMPLETE] = "complete",
};

static const char *const scan_stages[MTS_SCAN_STAGE_UNKNOWN] = {
    [MTS_SCAN_STAGE_DNS] = "dns",
    [MTS_SCAN_STAGE_PROBES] = "probes",
};

static const char *const rua_schemes[MTS_RUA_SCHEME_UNKNOWN] = {
    [MTS_RUA_MAILTO] = "mailto",
    [MTS_RUA_HTTPS] = "https",
};

static const char *const fetch_whys[MTS_FETCH_WHY_UNKNOWN] = {
    [MTS_FETCH_WHY_TXT] = "txt",
    [MTS_FETCH_WHY_POLICY_ONLY] = "policy-only",
    [MTS_FETCH_WHY_TLSRPT] = "tlsrpt",
};

static const char *const fetch_results[MTS_FETCH_RESULT_COUNT] = {
    [MTS_FETCH_OK] = "ok",
    [MTS_FETCH_CONNECT_REFUSED] = "connect-refused",
    [MTS_FETCH_CONNECT_TIMEOUT] = "connect-timeout",
    [MTS_FETCH_TLS_FAILURE] = "tls-failure",
    [MTS_FETCH_CERT_INVALID] = "cert-invalid",
    [MTS_FETCH_TIMEOUT] = "timeout",
    [MTS_FETCH_RESET] = "reset",
    [MTS_FETCH_HTTP_STATUS] = "http-status",
    [MTS_FETCH_REDIRECT] = "redirect",
    [MTS_FETCH_TOO_LARGE] = "too-large",
    [MTS_FETCH_ERROR] = "error",
    [MTS_FETCH_LOCAL_ERROR] = "local-error",
    [MTS_FETCH_QUEUE_TIMEOUT] = "queue-timeout",
    [MTS_FETCH_NO_ADDRESS] = "no-address",
    [MTS_FETCH_DNS_FAILURE] = "dns-failure",
    [MTS_FETCH_EXCLUDED] = "excluded",
    [MTS_FETCH_SPECIAL_ADDRESS] = "special-address",
    [MTS_FETCH_IPV6_DISABLED] = "ipv6-disabled",
    [MTS_FETCH_LIMIT] = "limit",
};

static const char *const smtp_results[MTS_SMTP_RESULT_COUNT] = {
    [MTS_SMTP_OK] = "ok",
    [MTS_SMTP_CONNECT_REFUSED] = "connect-refused",
    [MTS_SMTP_CONNECT_TIMEOUT] = "connect-timeout",
    [MTS_SMTP_RESET] = "reset",
    [MTS_SMTP_TIMEOUT] = "timeout",
    [MTS_SMTP_BANNER_4XX] = "banner-4xx",
    [MTS_SMTP_BANNER_5XX] = "banner-5xx",
    [MTS_SMTP_BANNER_MALFORMED] = "banner-malformed",
    [MTS_SMTP_TOO_LONG] = "too-long",
    [MTS_SMTP_EHLO_REJECTED] = "ehlo-rejected",
    [MTS_SMTP_NO_STARTTLS] = "no-starttls",
    [MTS_SMTP_STARTTLS_REJECTED] = "starttls-rejected",
    [MTS_SMTP_HANDSHAKE_FAILED] = "handshake-failed",
    [MTS_SMTP_ERROR] = "error",
    [MTS_SMTP_LOCAL_ERROR] = "local-error",
    [MTS_SMTP_QUEUE_TIMEOUT] = "queue-timeout",
};

static const char *const smtp_stages[MTS_SMTP_STAGE_COUNT] = {
    [MTS_SMTP_STAGE_CONNECT] = "connect",     [MTS_SMTP_STAGE_BANNER] = "banner",
    [MTS_SMTP_STAGE_EHLO] = "ehlo",           [MTS_SMTP_STAGE_STARTTLS] = "starttls",
    [MTS_SMTP_STAGE_HANDSHAKE] = "handshake", [MTS_SMTP_STAGE_QUIT] = "quit",
    [MTS_SMTP_STAGE_DONE] = "done",
};

static const char *const cert_verdicts[MTS_CERT_COUNT] = {
    [MTS_CERT_OK] = "ok",
    [MTS_CERT_EXPIRED] = "expired",
    [MTS_CERT_NOT_YET_VALID] = "not-yet-valid",
    [MTS_CERT_NAME_MISMATCH] = "name-mismatch",
    [MTS_CERT_SELF_SIGNED] = "self-signed",
    [MTS_CERT_UNTRUSTED] = "untrusted",
    [MTS_CERT_OTHER] = "other",
};

static const char *const tls_versions[MTS_TLS_VERSION_COUNT] = {
    [MTS_TLS_SSLV3] = "SSLv3",  [MTS_TLS_V1] = "TLSv1",     [MTS_TLS_V1_1] = "TLSv1.1",
    [MTS_TLS_V1_2] = "TLSv1.2", [MTS_TLS_V1_3] = "TLSv1.3",
};

static const char *name_of(const char *const *names, unsigned count, unsigned v)
{
    return v < count ? names[v] : NULL;
}

/* The index of name in names[0..count), or count (the vocabulary's UNKNOWN). */
static unsigned parse(const char *const *names, unsigned count, const char *name)
{
    for (unsigned i = 0; name && i < count; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return count;
}

#define VOCAB(fn, type, names, count)                                                              \
    const char *mts_##fn##_name(type v)                                                            \
    {                                                                                              \
        return name_of(names, count, (unsigned)v);                                                 \
    }                                                                                              \
    type mts_##fn##_parse(const char *name)                                                        \
    {                                                                                              \
        return (type)parse(names, count, name);                                                    \
    }

VOCAB(dns_result, enum mts_dns_result, dns_results, MTS_DNS_RESULT_COUNT)
VOCAB(skip, enum mts_skip, skips, MTS_SKIP_COUNT)
VOCAB(scan_state, enum mts_scan_state, scan_states, MTS_SCAN_STATE_UNKNOWN)
VOCAB(scan_stage, enum mts_scan_stage, scan_stages, MTS_SCAN_STAGE_UNKNOWN)
VOCAB(rua_scheme, enum mts_rua_scheme, rua_schemes, MTS_RUA_SCHEME_UNKNOWN)
VOCAB(fetch_why, enum mts_fetch_why, fetch_whys, MTS_FETCH_WHY_UNKNOWN)
VOCAB(fetch_result, enum mts_fetch_result, fetch_results, MTS_FETCH_RESULT_COUNT)
VOCAB(smtp_result, enum mts_smtp_result, smtp_results, MTS_SMTP_RESULT_COUNT)
VOCAB(smtp_stage, enum mts_smtp_stage, smtp_stages, MTS_SMTP_STAGE_COUNT)
VOCAB(tls_version, enum mts_tls_version, tls_versions, MTS_TLS_VERSION_COUNT)
VOCAB(cert_verdict, enum mts_cert_verdict, cert_verdicts, MTS_CERT_COUNT)
