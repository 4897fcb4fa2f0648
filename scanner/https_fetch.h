/*
 * The HTTPS policy fetcher (RFC 8461 §3.3): GET https://mta-sts.<domain>/.well-known/
 * mta-sts.txt from addresses the scanner's DNS already found, on the caller's libevent
 * loop, with Web PKI verification recorded rather than enforced by the TLS library, and
 * one FETCHOBS (docs/record-schema.md) per fetch. Design: docs/https-fetch.md.
 *
 * Errors are negative errno values: -EINVAL (bad argument), -ENOMEM, -ENOENT (ca_file
 * could not be loaded), -EIO (libcurl or libevent refused a setup call).
 */
#ifndef MTS_HTTPS_FETCH_H
#define MTS_HTTPS_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "mts_vocab.h" /* FETCHOBS "result" (enum mts_fetch_result) and "why" */

struct mts_conn_limit;
struct mts_https;

/* Zero (NULL) in a field means its default (mts_defaults.h). */
struct mts_https_opts {
    const char *ca_file;               /* PEM trust store; NULL: the system's. Read in _new only. */
    uint16_t port;                     /* port dialled on each address */
    unsigned connect_timeout_ms;       /* TCP connect plus TLS handshake */
    unsigned total_timeout_ms;         /* whole transfer, per address tried */
    unsigned low_speed_bytes;          /* fail a transfer slower than this many bytes/s ... */
    unsigned low_speed_secs;           /* ... for this long */
    size_t max_body;                   /* body bound */
    unsigned max_transfers;            /* concurrent transfers */
    const char *user_agent;            /* copied */
    bool fetch_unauthenticated;        /* research: finish the request despite a bad certificate */
    struct mts_conn_limit *conn_limit; /* per-address connection bound: borrowed, may be NULL,
                                          must outlive the fetcher */
};

/*
 * Called once per fetch, always from the event loop (never from inside mts_https_fetch()
 * or another done callback). obs is a FETCHOBS object: the callee owns the reference.
 * body is the response body as kept (at most max_body bytes; the unauthenticated body when
 * only that exists; NULL when none arrived), borrowed until the callback returns: store it
 * under obs.body.sha256 (or obs.unauthenticated.body.sha256). The callback may start new
 * fetches but must not call mts_https_free().
 */
typedef void (*mts_https_done_fn)(void *arg, json_t *obs, const unsigned char *body,
                                  size_t body_len);

/*
 * Creates a fetcher on base (borrowed; must outlive it). opts is copied (the pointers in
 * it as documented above). Initialises libcurl's global state (reference-counted; paired
 * with mts_https_free()). Returns 0 and sets *out, or a negative error.
 */
int mts_https_new(struct mts_https **out, struct event_base *base,
                  const struct mts_https_opts *opts);

/*
 * Queues a fetch of https://<policy_host>/.well-known/mta-sts.txt. policy_host is the
 * normalised "mta-sts.<domain>"; addrs are numeric IPv4/IPv6 addresses (naddrs >= 1),
 * tried IPv4 first and otherwise in the given order, moving to the next only when the
 * connection could not be made; why is what the observation says made it fetch. All
 * strings are copied.
 * No name is ever resolved. Returns 0 (done will be called exactly once) or a negative
 * error (done will not be called).
 */
int mts_https_fetch(struct mts_https *h, const char *policy_host, const char *const *addrs,
                    size_t naddrs, enum mts_fetch_why why, mts_https_done_fn done, void *arg);

/*
 * Queues a TLS check of a TLS-RPT https: report host (RFC 8460 §3): TCP and a TLS
 * handshake with SNI host, the certificate verified against host and recorded, and then
 * the connection is dropped before any request is written, so no report and no HTTP byte
 * ever reaches the host. port 0 means the fetcher's port. addrs, done and the result
 * values as for mts_https_fetch (why "tlsrpt"; "ok" = handshake done with a valid
 * certificate, "cert-invalid" = done with one that fails verification).
 */
int mts_https_handshake(struct mts_https *h, const char *host, uint16_t port,
                        const char *const *addrs, size_t naddrs, mts_https_done_fn done, void *arg);

struct mts_https_stats {
    unsigned queued;    /* accepted, not yet transferring */
    unsigned transfers; /* in curl now */
    unsigned max_transfers_seen;
    unsigned long started;  /* transfers handed to curl (one per address tried) */
    unsigned long finished; /* fetches whose observation was delivered */
    unsigned long by_result[MTS_FETCH_RESULT_COUNT]; /* the pipeline's own results stay 0 */
};

void mts_https_get_stats(const struct mts_https *h, struct mts_https_stats *out);

/* Cancels every unfinished fetch without calling its done, then frees. NULL is a no-op. */
void mts_https_free(struct mts_https *h);

/*
 * The response part of an observation from a finished transfer, exposed for tests/fuzz:
 * "http_status", and "content_type" and "location" when the response has them (peer bytes
 * as in docs/record-schema.md). Returns 1 when there was a response, 0 when none (nothing
 * added), -1 when out of memory.
 */
int mts_https_response_headers(CURL *easy, json_t *o);

#endif
