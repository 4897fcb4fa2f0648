/*
 * TLS observation shared by the HTTPS policy fetcher and the SMTP STARTTLS prober: a client
 * SSL_CTX that verifies against a trust store but never aborts a handshake because of the
 * certificate (the scanner observes; the analysis judges), and the TLSOBS record of
 * docs/record-schema.md built from a finished (or failed) handshake.
 *
 * Errors are negative errno values (-ENOMEM, -EINVAL, -ENOENT); use strerror(-err).
 */
#ifndef MTS_TLS_OBSERVE_H
#define MTS_TLS_OBSERVE_H

#include <jansson.h>
#include <openssl/ssl.h>

#include "mts_vocab.h"

/* Most certificates kept in TLSOBS "chain", and most names in "leaf.san". */
#define MTS_TLS_MAX_CHAIN 10
#define MTS_TLS_MAX_SAN   256

/*
 * A new client SSL_CTX trusting ca_file (PEM; NULL: the system's default paths), with
 * mts_tls_ctx_install_verify() applied, TLS 1.0 and later enabled and security level 0 so
 * that old servers can still be observed. The caller owns the result (SSL_CTX_free). On
 * failure returns NULL and, when err is not NULL, stores -ENOMEM or -ENOENT (ca_file could
 * not be loaded) in *err.
 */
SSL_CTX *mts_tls_client_ctx_new(const char *ca_file, int *err);

/*
 * Installs the observing verify callback on an existing SSL_CTX (for example the one
 * libcurl hands to CURLOPT_SSL_CTX_FUNCTION): SSL_VERIFY_PEER with a callback that records
 * the first verification error of each SSL and lets the handshake continue. Returns 0 or
 * -ENOMEM.
 */
int mts_tls_ctx_install_verify(SSL_CTX *ctx);

/*
 * Sets SNI to host and asks verification to check the certificate against host (RFC 6125:
 * no partial wildcards, a wildcard only as the whole left-most label). host is copied.
 * Call before the handshake. Returns 0, -EINVAL (empty or over-long host) or -ENOMEM.
 */
int mts_tls_expect_host(SSL *ssl, const char *host);

/*
 * The same host check on an SSL_CTX, for callers that only see the context before their
 * library creates the SSL from it (libcurl: one SSL_CTX per connection; curl sets SNI
 * itself). Returns 0, -EINVAL or -ENOMEM.
 */
int mts_tls_ctx_expect_host(SSL_CTX *ctx, const char *host);

/*
 * The first X509_V_ERR_* recorded by the verify callback during ssl's handshake, or
 * X509_V_OK when none was. For an SSL whose verification did not run through the callback
 * (a resumed session), OpenSSL's own SSL_get_verify_result().
 */
long mts_tls_verify_result(const SSL *ssl);

/*
 * A new TLSOBS object (reference owned by the caller) describing ssl: version, cipher,
 * SNI, verification verdict, the peer chain (base64 DER, at most MTS_TLS_MAX_CHAIN) and
 * the leaf's subject, issuer, validity and DNS SANs. Fields that were not observed (no
 * peer certificate after a failed handshake, no cipher yet) are absent. NULL only when
 * memory runs out.
 */
json_t *mts_tls_observe(const SSL *ssl);

/*
 * n bytes from the network as a record keeps them (docs/record-schema.md): a JSON string
 * when they are UTF-8 without NUL, otherwise {"hex": "..."}. NULL only on ENOMEM. Shared
 * by every record writer (TLS facts, SMTP replies, HTTP headers).
 */
json_t *mts_json_bytes(const void *bytes, size_t n);

/* The TLSOBS "verify" class of an X509_V_ERR_* code (never MTS_CERT_UNKNOWN). */
enum mts_cert_verdict mts_tls_verify_class(long verify_code);

#endif
