/*
 * Scan-wide TLS checks of TLS-RPT https: report hosts (RFC 8460 §3): each distinct
 * (host, port) gets one handshake per scan (mts_https_handshake: TCP, TLS, the certificate
 * verified and recorded, no request written), however many domains send reports there.
 * The first request starts the check; requests while it runs join it; later requests get
 * the stored result. The result is a RUATLS text (docs/record-schema.md): the fetcher's
 * observation without the certificate chain.
 *
 * Bounds: entries (keys and texts) are held within max_bytes; a new host past
 * the bound is not checked (result "limit"). A check that ended in local-error or
 * queue-timeout (this machine's shortage or its admission deadline, never the host's
 * fault) is not kept: the next request checks again.
 *
 * Errors are negative errno values. Not thread-safe: one event loop owns the table.
 */
#ifndef MTS_RUA_TLS_H
#define MTS_RUA_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "https_fetch.h"

struct mts_rua_tls;

/*
 * Called exactly once per request, from the event loop (never from inside
 * mts_rua_tls_request), with the RUATLS text, borrowed for the call; NULL only when
 * memory ran out.
 */
typedef void (*mts_rua_tls_done_fn)(void *arg, const char *text);

/* A table that checks with https and answers on base (both borrowed, outliving it). */
int mts_rua_tls_new(struct mts_rua_tls **out, struct event_base *base, struct mts_https *https,
                    size_t max_bytes);

/*
 * Asks for the check of host (normalised, as the record writes it) on port (0: the
 * fetcher's port) at addrs (numeric, usable; naddrs >= 1; used only when the check starts
 * here). Returns 0 (done will be called), -EINVAL (the fetcher refuses the host) or
 * -ENOMEM (done will not be called).
 */
int mts_rua_tls_request(struct mts_rua_tls *t, const char *host, uint16_t port,
                        const char *const *addrs, size_t naddrs, mts_rua_tls_done_fn done,
                        void *arg);

struct mts_rua_tls_stats {
    unsigned long checks;   /* handshakes started */
    unsigned long requests; /* requests made */
    unsigned long limited;  /* requests answered "limit" (the byte bound) */
    size_t bytes;           /* bytes of the entries held now */
};
void mts_rua_tls_stats(const struct mts_rua_tls *t, struct mts_rua_tls_stats *st);

/* Frees the table and drops pending requests without calling them. Free it before the
 * fetcher, or when no check is running. NULL is a no-op. */
void mts_rua_tls_free(struct mts_rua_tls *t);

#endif
