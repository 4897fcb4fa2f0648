/*
 * tls_observe against every kind of certificate the scanner meets: an in-memory handshake
 * (BIO pair, no sockets) between a client context from mts_tls_client_ctx_new() and a
 * server presenting one of the leaves made by tls_make_certs.sh, checking that the
 * handshake always completes and that TLSOBS carries the right verdict and certificate.
 * Usage: tls_observe_test CERT_DIR
 */
#include "check.h"
#include "tls_observe.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/err.h>

#define MX "mx1.example.test"

static const char *dir;

static SSL_CTX *server_ctx(const char *leaf)
{
    char cert[512], key[512];
    snprintf(cert, sizeof(cert), "%s/%s", dir, leaf);
    snprintf(key, sizeof(key), "%s/leaf-key.pem", dir);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    CHECK(ctx != NULL);
    CHECK_INT(SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM), 1);
    CHECK_INT(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
    return ctx;
}

/* Runs a handshake to completion in memory; returns the client SSL (caller frees). */
static SSL *handshake(SSL_CTX *cctx, const char *leaf, const char *host, int *done)
{
    SSL_CTX *sctx = server_ctx(leaf);
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    BIO *cb, *sb;
    CHECK_INT(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    if (host)
        CHECK_INT(mts_tls_expect_host(c, host), 0);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    int rc = 0, rs = 0;
    for (int i = 0; i < 50 && (rc != 1 || rs != 1); i++) {
        if (rc != 1)
            rc = SSL_do_handshake(c);
        if (rs != 1)
            rs = SSL_do_handshake(s);
    }
    *done = rc == 1 && rs == 1;
    SSL_free(s);
    SSL_CTX_free(sctx);
    return c;
}

static void expect(SSL_CTX *cctx, const char *leaf, const char *host, const char *cls, long code)
{
    int done;
    SSL *c = handshake(cctx, leaf, host, &done);
    fprintf(stderr, "-- %s\n", leaf);
    CHECK(done);
    CHECK_INT(mts_tls_verify_result(c), code);
    json_t *obs = mts_tls_observe(c);
    CHECK(obs != NULL);
    CHECK_STR(json_string_value(json_object_get(obs, "verify")), cls);
    CHECK_INT(json_integer_value(json_object_get(obs, "verify_code")), code);
    CHECK_STR(json_string_value(json_object_get(obs, "verify_text")),
              X509_verify_cert_error_string(code));
    CHECK_STR(json_string_value(json_object_get(obs, "version")), "TLSv1.3");
    CHECK_STR(json_string_value(json_object_get(obs, "cipher")),
              SSL_CIPHER_standard_name(SSL_get_current_cipher(c)));
    CHECK_STR(json_string_value(json_object_get(obs, "sni")), host);
    CHECK_INT(json_array_size(json_object_get(obs, "chain")), 1);
    json_t *leafobs = json_object_get(obs, "leaf");
    CHECK(json_is_string(json_object_get(leafobs, "subject")));
    CHECK(json_is_integer(json_object_get(leafobs, "not_before")));
    CHECK(json_is_array(json_object_get(leafobs, "san")));
    json_decref(obs);
    SSL_free(c);
}

static void test_kinds(SSL_CTX *cctx)
{
    expect(cctx, "valid.pem", MX, "ok", X509_V_OK);
    expect(cctx, "expired.pem", MX, "expired", X509_V_ERR_CERT_HAS_EXPIRED);
    expect(cctx, "not-yet-valid.pem", MX, "not-yet-valid", X509_V_ERR_CERT_NOT_YET_VALID);
    expect(cctx, "wrong-name.pem", MX, "name-mismatch", X509_V_ERR_HOSTNAME_MISMATCH);
    expect(cctx, "self-signed.pem", MX, "self-signed", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    expect(cctx, "untrusted.pem", MX, "untrusted", X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    expect(cctx, "wildcard.pem", MX, "ok", X509_V_OK);
    /* RFC 6125 6.4.3: "mx*.example.test" must not match, although OpenSSL would allow it. */
    expect(cctx, "partial-wildcard.pem", MX, "name-mismatch", X509_V_ERR_HOSTNAME_MISMATCH);
    /* A wildcard covers exactly one label. */
    expect(cctx, "wildcard.pem", "a." MX, "name-mismatch", X509_V_ERR_HOSTNAME_MISMATCH);
}

static void test_leaf_fields(SSL_CTX *cctx)
{
    int done;
    SSL *c = handshake(cctx, "expired.pem", MX, &done);
    json_t *obs = mts_tls_observe(c);
    json_t *leaf = json_object_get(obs, "leaf");
    CHECK_STR(json_string_value(json_object_get(leaf, "subject")), "CN=" MX);
    CHECK_STR(json_string_value(json_object_get(leaf, "issuer")), "CN=Test CA");
    CHECK(json_integer_value(json_object_get(leaf, "not_after")) < (json_int_t)time(NULL));
    CHECK(json_integer_value(json_object_get(leaf, "not_before")) <
          json_integer_value(json_object_get(leaf, "not_after")));
    CHECK_STR(json_string_value(json_array_get(json_object_get(leaf, "san"), 0)), MX);
    const char *b64 = json_string_value(json_array_get(json_object_get(obs, "chain"), 0));
    CHECK(b64 != NULL && strncmp(b64, "MII", 3) == 0);
    json_decref(obs);
    SSL_free(c);
}

/* The libcurl path: host check configured on the context, no SNI from us. */
static void test_ctx_host(const char *ca)
{
    SSL_CTX *cctx = mts_tls_client_ctx_new(ca, NULL);
    CHECK_INT(mts_tls_ctx_expect_host(cctx, "other.example.test"), 0);
    int done;
    SSL *c = handshake(cctx, "valid.pem", NULL, &done);
    CHECK(done);
    CHECK_INT(mts_tls_verify_result(c), X509_V_ERR_HOSTNAME_MISMATCH);
    json_t *obs = mts_tls_observe(c);
    CHECK(json_object_get(obs, "sni") == NULL);
    CHECK_STR(json_string_value(json_object_get(obs, "verify")), "name-mismatch");
    json_decref(obs);
    SSL_free(c);
    SSL_CTX_free(cctx);
    CHECK_INT(mts_tls_ctx_expect_host(cctx = SSL_CTX_new(TLS_client_method()), ""), -EINVAL);
    SSL_CTX_free(cctx);
}

static void test_no_handshake(SSL_CTX *cctx)
{
    SSL *c = SSL_new(cctx);
    CHECK_INT(mts_tls_verify_result(c), X509_V_OK);
    json_t *obs = mts_tls_observe(c);
    CHECK_INT(json_object_size(obs), 0);
    json_decref(obs);
    CHECK_INT(mts_tls_expect_host(c, NULL), -EINVAL);
    SSL_free(c);
}

static void test_classes(void)
{
    CHECK_STR(mts_cert_verdict_name(mts_tls_verify_class(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)),
              "untrusted");
    CHECK_STR(
        mts_cert_verdict_name(mts_tls_verify_class(X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)),
        "untrusted");
    CHECK_STR(mts_cert_verdict_name(mts_tls_verify_class(X509_V_ERR_CERT_SIGNATURE_FAILURE)),
              "other");
    CHECK_STR(mts_cert_verdict_name(mts_tls_verify_class(X509_V_ERR_CERT_REVOKED)), "other");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CERT_DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    char ca[512];
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    int err = 0;
    SSL_CTX *cctx = mts_tls_client_ctx_new(ca, &err);
    CHECK(cctx != NULL);
    test_kinds(cctx);
    test_leaf_fields(cctx);
    test_ctx_host(ca);
    test_no_handshake(cctx);
    test_classes();
    CHECK(mts_tls_client_ctx_new("/nonexistent/ca.pem", &err) == NULL);
    CHECK_INT(err, -ENOENT);
    SSL_CTX_free(cctx);
    return check_exit();
}
