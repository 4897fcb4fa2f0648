/*
 * The simulated Internet's certificate authority: one test root (ECDSA P-256) that the
 * scanner, curl and the real servers trust through `ca.pem`, and leaf certificates minted
 * on demand for any host name in any of the broken ways real policy hosts and MX hosts
 * are broken. Not thread-safe: one event loop owns it.
 */
#ifndef WORLD_CA_H
#define WORLD_CA_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "model.h"

struct world_ca;

/*
 * Creates the CA. With dir != NULL the root is loaded from dir/ca.pem and dir/ca-key.pem
 * when both exist, otherwise generated and written there (dir is created if missing), so
 * a scanner can be given dir/ca.pem as --ca-file; with dir == NULL it lives in memory only.
 * Returns NULL on failure with a message in err (errlen bytes, may be 0).
 */
struct world_ca *world_ca_new(const char *dir, char *err, size_t errlen);
void world_ca_free(struct world_ca *ca);

/* Path of the trusted root's PEM file, or NULL for an in-memory CA. Borrowed until free. */
const char *world_ca_pem_path(const struct world_ca *ca);

/*
 * Makes `ssl` present a certificate of `kind` issued to `name` (a host name or a "*.zone"
 * wildcard; case-insensitive) with the shared leaf key. As in the model, `name` is the
 * name in the certificate: for WORLD_CERT_WRONG_NAME the caller passes the other name. Meant for a
 * servername callback: switching the certificate on the SSL is far cheaper than an SSL_CTX per
 * name. Minted certificates are cached by (name, kind) in a bounded cache. Returns 0, or -1 for an
 * unusable name or an OpenSSL failure.
 */
int world_ca_use(struct world_ca *ca, SSL *ssl, const char *name, enum world_cert kind);

/*
 * A server SSL_CTX without a certificate, for servers that configure each connection from
 * a client_hello callback with world_ca_client_hello_sni() and world_ca_apply(). The
 * caller owns it (SSL_CTX_free). NULL on failure.
 */
SSL_CTX *world_ca_server_ctx_new(void);

/*
 * Inside a client_hello callback: the server name the client asked for, lower-cased into
 * buf. Returns 0, or -1 when there is no usable host name (absent, malformed, too long).
 */
int world_ca_client_hello_sni(SSL *ssl, char *buf, size_t len);

/*
 * Inside a client_hello callback (before the version is chosen): configures ssl as the
 * model's tls says: certificate kind and name (`name` overrides tls->cert_name when not
 * NULL), and a capped TLS version (below 1.2 also lowers the security level so OpenSSL 3
 * agrees to speak it). Returns 0, or -1 when the handshake must be aborted with a
 * handshake_failure alert (tls->alert, or no certificate could be made).
 */
int world_ca_apply(struct world_ca *ca, SSL *ssl, const struct world_tls *tls, const char *name);

/*
 * Writes a certificate of `kind` for `name` and its private key as PEM files (for nginx,
 * postfix). Returns 0, or -1 with errno set.
 */
int world_ca_write_pem(struct world_ca *ca, const char *name, enum world_cert kind,
                       const char *cert_path, const char *key_path);

/* "valid", "expired", ... (command lines, logs); NULL for an out-of-range kind. */
const char *world_ca_kind_name(enum world_cert kind);

/* Parses a name from world_ca_kind_name(); -1 when unknown. */
int world_ca_kind_parse(const char *s);

/* Counters for the benchmark notes: certificates minted, cache hits and evictions. */
struct world_ca_stats {
    unsigned long minted, hits, evicted;
};
void world_ca_get_stats(const struct world_ca *ca, struct world_ca_stats *out);

#endif
