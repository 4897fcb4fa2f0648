/*
 * The record vocabulary: every string value the scanner writes into an observation and the
 * analysis reads back (docs/record-schema.md), as enums with their stable names. The store
 * owns the record schema, so the one table lives here, below both the scanner and the
 * analysis: the scanner writes through the _name functions, the analysis reads through
 * the _parse functions, and no observation string is spelled anywhere else.
 *
 * Each vocabulary ends with an explicit _UNKNOWN value, which _parse returns for NULL or
 * for a string it does not know (a record of another version, or hostile bytes); _COUNT
 * equals it and bounds arrays indexed by the known values. _name returns NULL for
 * _UNKNOWN and anything out of range. Names are static strings.
 */
#ifndef MTS_VOCAB_H
#define MTS_VOCAB_H

/* DNSOBS "result". */
enum mts_dns_result {
    MTS_DNS_RESULT_ANSWER,
    MTS_DNS_RESULT_NODATA,
    MTS_DNS_RESULT_NXDOMAIN,
    MTS_DNS_RESULT_SERVFAIL,
    MTS_DNS_RESULT_REFUSED,
    MTS_DNS_RESULT_TIMEOUT,
    MTS_DNS_RESULT_ERROR,
    MTS_DNS_RESULT_LOCAL_ERROR,   /* a TCP fallback this machine could not open */
    MTS_DNS_RESULT_QUEUE_TIMEOUT, /* a TCP fallback that waited past its deadline */
    MTS_DNS_RESULT_SKIPPED,       /* not asked; "why" is an mts_skip name */
    MTS_DNS_RESULT_UNKNOWN,
    MTS_DNS_RESULT_COUNT = MTS_DNS_RESULT_UNKNOWN
};

/* Why something was not asked or not probed: DNSOBS "why", MXHOST probes[] "skip". */
enum mts_skip {
    MTS_SKIP_EXCLUDED,
    MTS_SKIP_SPECIAL_ADDRESS,
    MTS_SKIP_IPV6_DISABLED,
    MTS_SKIP_SMTP_DISABLED,
    MTS_SKIP_OUT_OF_SCOPE,
    MTS_SKIP_LIMIT,
    MTS_SKIP_NAME_TOO_LONG,
    MTS_SKIP_PROBE_REFUSED,
    MTS_SKIP_BAD_ADDRESS, /* an address that is not an IP literal */
    MTS_SKIP_UNKNOWN,
    MTS_SKIP_COUNT = MTS_SKIP_UNKNOWN
};

/* Scan metadata "state". */
enum mts_scan_state {
    MTS_SCAN_RUNNING,
    MTS_SCAN_INTERRUPTED,
    MTS_SCAN_COMPLETE,
    MTS_SCAN_STATE_UNKNOWN
};

/* Scan metadata "stage" of a two-stage scan (absent in a one-stage scan). */
enum mts_scan_stage { MTS_SCAN_STAGE_DNS, MTS_SCAN_STAGE_PROBES, MTS_SCAN_STAGE_UNKNOWN };

/* RUADEST "scheme": where TLS reports would go. */
enum mts_rua_scheme { MTS_RUA_MAILTO, MTS_RUA_HTTPS, MTS_RUA_SCHEME_UNKNOWN };

/* FETCHOBS "why": what made the scanner fetch the policy, or (RUATLS) check a report host. */
enum mts_fetch_why {
    MTS_FETCH_WHY_TXT,
    MTS_FETCH_WHY_POLICY_ONLY,
    MTS_FETCH_WHY_TLSRPT, /* the TLS check of an https: TLS-RPT report host */
    MTS_FETCH_WHY_UNKNOWN
};

/* FETCHOBS and RUATLS "result" (also indexes the fetcher's statistics). */
enum mts_fetch_result {
    MTS_FETCH_OK,
    MTS_FETCH_CONNECT_REFUSED,
    MTS_FETCH_CONNECT_TIMEOUT,
    MTS_FETCH_TLS_FAILURE,
    MTS_FETCH_CERT_INVALID,
    MTS_FETCH_TIMEOUT,
    MTS_FETCH_RESET,
    MTS_FETCH_HTTP_STATUS,
    MTS_FETCH_REDIRECT,
    MTS_FETCH_TOO_LARGE,
    MTS_FETCH_ERROR,
    MTS_FETCH_LOCAL_ERROR,   /* this machine could not open the connection (descriptors, ports) */
    MTS_FETCH_QUEUE_TIMEOUT, /* no connection slot to any address within the admission deadline */
    /* Written by the pipeline for a fetch that never reached the network. */
    MTS_FETCH_NO_ADDRESS,
    MTS_FETCH_DNS_FAILURE,
    MTS_FETCH_EXCLUDED,
    MTS_FETCH_SPECIAL_ADDRESS,
    MTS_FETCH_IPV6_DISABLED,
    MTS_FETCH_LIMIT, /* RUATLS only: the scan-wide table of checked report hosts is full */
    MTS_FETCH_RESULT_UNKNOWN,
    MTS_FETCH_RESULT_COUNT = MTS_FETCH_RESULT_UNKNOWN
};

/* MX probe record "result". */
enum mts_smtp_result {
    MTS_SMTP_OK,
    MTS_SMTP_CONNECT_REFUSED,
    MTS_SMTP_CONNECT_TIMEOUT,
    MTS_SMTP_RESET,
    MTS_SMTP_TIMEOUT,
    MTS_SMTP_BANNER_4XX,
    MTS_SMTP_BANNER_5XX,
    MTS_SMTP_BANNER_MALFORMED,
    MTS_SMTP_TOO_LONG,
    MTS_SMTP_EHLO_REJECTED,
    MTS_SMTP_NO_STARTTLS,
    MTS_SMTP_STARTTLS_REJECTED,
    MTS_SMTP_HANDSHAKE_FAILED,
    MTS_SMTP_ERROR,
    MTS_SMTP_LOCAL_ERROR,   /* this machine could not open the connection (descriptors, ports) */
    MTS_SMTP_QUEUE_TIMEOUT, /* the connection slot did not come within the admission deadline */
    MTS_SMTP_RESULT_UNKNOWN,
    MTS_SMTP_RESULT_COUNT = MTS_SMTP_RESULT_UNKNOWN
};

/* MX probe record "stage": where the session ended. */
enum mts_smtp_stage {
    MTS_SMTP_STAGE_CONNECT,
    MTS_SMTP_STAGE_BANNER,
    MTS_SMTP_STAGE_EHLO,
    MTS_SMTP_STAGE_STARTTLS,
    MTS_SMTP_STAGE_HANDSHAKE,
    MTS_SMTP_STAGE_QUIT,
    MTS_SMTP_STAGE_DONE,
    MTS_SMTP_STAGE_UNKNOWN,
    MTS_SMTP_STAGE_COUNT = MTS_SMTP_STAGE_UNKNOWN
};

/* TLSOBS "verify": the class of the certificate verdict. */
enum mts_cert_verdict {
    MTS_CERT_OK,
    MTS_CERT_EXPIRED,
    MTS_CERT_NOT_YET_VALID,
    MTS_CERT_NAME_MISMATCH,
    MTS_CERT_SELF_SIGNED,
    MTS_CERT_UNTRUSTED, /* no path to a trusted root */
    MTS_CERT_OTHER,
    MTS_CERT_UNKNOWN,
    MTS_CERT_COUNT = MTS_CERT_UNKNOWN
};

/* TLSOBS "version": OpenSSL's name of the protocol version agreed. */
enum mts_tls_version {
    MTS_TLS_SSLV3,
    MTS_TLS_V1,
    MTS_TLS_V1_1,
    MTS_TLS_V1_2,
    MTS_TLS_V1_3,
    MTS_TLS_VERSION_UNKNOWN,
    MTS_TLS_VERSION_COUNT = MTS_TLS_VERSION_UNKNOWN
};

const char *mts_dns_result_name(enum mts_dns_result v);
enum mts_dns_result mts_dns_result_parse(const char *name);
const char *mts_skip_name(enum mts_skip v);
enum mts_skip mts_skip_parse(const char *name);
const char *mts_scan_state_name(enum mts_scan_state v);
enum mts_scan_state mts_scan_state_parse(const char *name);
const char *mts_scan_stage_name(enum mts_scan_stage v);
enum mts_scan_stage mts_scan_stage_parse(const char *name);
const char *mts_rua_scheme_name(enum mts_rua_scheme v);
enum mts_rua_scheme mts_rua_scheme_parse(const char *name);
const char *mts_fetch_why_name(enum mts_fetch_why v);
enum mts_fetch_why mts_fetch_why_parse(const char *name);
const char *mts_fetch_result_name(enum mts_fetch_result v);
enum mts_fetch_result mts_fetch_result_parse(const char *name);
const char *mts_smtp_result_name(enum mts_smtp_result v);
enum mts_smtp_result mts_smtp_result_parse(const char *name);
const char *mts_smtp_stage_name(enum mts_smtp_stage v);
enum mts_smtp_stage mts_smtp_stage_parse(const char *name);
const char *mts_tls_version_name(enum mts_tls_version v);
enum mts_tls_version mts_tls_version_parse(const char *name);
const char *mts_cert_verdict_name(enum mts_cert_verdict v);
enum mts_cert_verdict mts_cert_verdict_parse(const char *name);

#endif
