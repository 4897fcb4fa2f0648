/*
 * The SMTP STARTTLS prober: one session per (MX host, address): connect, banner, EHLO,
 * STARTTLS when offered, a TLS handshake on the same connection with SNI and certificate
 * check for the MX host (never aborted on a bad certificate), QUIT, and one MX probe record
 * (docs/record-schema.md) per session. Design, limits and state machine: docs/smtp-probe.md.
 *
 * Errors are negative errno values (-EINVAL, -ENOMEM, -ENOENT). Not thread-safe: one event
 * loop owns a prober.
 */
#ifndef MTS_SMTP_PROBE_H
#define MTS_SMTP_PROBE_H

#include <jansson.h>
#include <openssl/ssl.h>

#include "mts_vocab.h" /* the record's "result" and "stage" (enum mts_smtp_result, _stage) */

struct event_base;
struct mts_conn_limit;
struct mts_smtp;

struct mts_smtp_opts {
    const char *ehlo_name; /* required: the scanner's identifying EHLO name; copied */
    const char *scan_id;   /* the records' "scan" field; NULL: absent; copied */
    unsigned port;         /* destination port */
    /* Per-stage timeouts and the whole-session deadline (from connect), in ms. A field left
       0 takes its default (mts_defaults.h): connect --timeout-connect's, quit its own, the
       other stages --timeout-smtp's, the session MTS_DEFAULT_SMTP_SESSION_STAGES of those. */
    unsigned connect_ms, banner_ms, ehlo_ms, starttls_ms, handshake_ms, quit_ms, session_ms;
    unsigned max_line, max_lines; /* reply bounds; 0: default */
    /* Client TLS context, borrowed (must outlive the prober); NULL: the prober makes its
       own with mts_tls_client_ctx_new(ca_file). */
    SSL_CTX *ssl_ctx;
    const char *ca_file;
    /* Politeness limiter, borrowed (must outlive the prober); NULL: the prober makes its
       own with per_ip (0: MTS_DEFAULT_PER_IP) per address and no total bound. */
    struct mts_conn_limit *conn_limit;
    unsigned per_ip;
    /* Optional trace of state transitions, one line per call (borrowed during the call). */
    void (*trace)(void *arg, const char *line);
    void *trace_arg;
};

/*
 * Creates a prober on base (borrowed; must outlive the prober). opts is read during the
 * call only. Returns 0 and stores the prober in *out, or -EINVAL (no or bad EHLO name),
 * -ENOENT (ca_file unusable) or -ENOMEM.
 */
int mts_smtp_new(struct mts_smtp **out, struct event_base *base, const struct mts_smtp_opts *opts);

/*
 * Starts one session to addr (IPv4 or IPv6 literal) for the MX host whose name is given in
 * DNS wire form (name_len octets, uncompressed, ending with the root label): a name is a
 * byte string, and any byte may be in a label. The record's "host" is the name in
 * presentation form; when every label is a host name label (letters, digits, '-', '_') it
 * is sent as SNI and the certificate is checked against it, otherwise neither happens and
 * the record says "hostname": false. Both arguments are copied. done(arg, record) is
 * called exactly once, later, from the event loop (never from inside this call), with a
 * new MX probe record the callback owns (json_decref). done may start new probes and may
 * free the prober. Returns 0, or -EINVAL (bad address or malformed name) / -ENOMEM, and
 * then done is never called.
 */
int mts_smtp_probe(struct mts_smtp *smtp, const unsigned char *name, size_t name_len,
                   const char *addr, void (*done)(void *arg, json_t *record), void *arg);

struct mts_smtp_stats {
    unsigned sessions;     /* sessions now, including those waiting for a connection slot */
    unsigned max_sessions; /* peak of sessions */
    unsigned long started, finished;
    unsigned long by_result[MTS_SMTP_RESULT_COUNT];
};
void mts_smtp_stats(const struct mts_smtp *smtp, struct mts_smtp_stats *st);

/* The event loop the prober runs on (borrowed). */
struct event_base *mts_smtp_base(const struct mts_smtp *smtp);

/* A static description of an error code returned by this module (negative errno). */
const char *mts_smtp_strerror(int err);

/* Aborts every session without calling its done callback, then frees the prober. */
void mts_smtp_free(struct mts_smtp *smtp);

/*
 * The reply reader's two parsers of peer bytes (exposed for tests/fuzz). A reply line
 * (without its line end) is three digits, then '-', ' ' or the end (RFC 5321 4.2):
 * mts_smtp_reply_line returns 1 for the last line of a reply, 0 for a continuation, -1 for
 * a malformed line or a code other than *code (0 before the first line; then set).
 * mts_smtp_capability writes the upper-cased keyword of an EHLO line ("250-SIZE 1000" ->
 * "SIZE"), at most cap - 1 bytes and a NUL, into buf; returns its length (0: none).
 */
int mts_smtp_reply_line(int *code, const char *line, size_t len);
size_t mts_smtp_capability(const char *line, size_t len, char *buf, size_t cap);

#endif
