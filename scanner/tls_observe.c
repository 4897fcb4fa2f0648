/*
 * Why: a scanner that aborted handshakes on bad certificates would record "handshake
 * failed" where the interesting fact is *which* certificate a server presents and why it
 * does not verify. So verification runs as usual (trust store, RFC 6125 host check), but
 * the verify callback only writes down the first error, per SSL, in ex_data, and lets the
 * handshake finish; the TLSOBS record then carries both the verdict and the certificate.
 * Both engines (HTTPS through libcurl's OpenSSL backend, SMTP through libevent's filter)
 * share this file so that their verdicts are comparable.
 */
#include "tls_observe.h"
#include "mts_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The SSL ex_data slot holding (first error + 1); NULL when the callback never ran. */
static int verify_index = -1;
static pthread_once_t verify_index_once = PTHREAD_ONCE_INIT;

static void verify_index_init(void)
{
    verify_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int verify_index_get(void)
{
    pthread_once(&verify_index_once, verify_index_init);
    return verify_index;
}

static int observe_verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    int idx = verify_index_get();
    if (ssl == NULL || idx < 0)
        return 1;
    intptr_t seen = (intptr_t)SSL_get_ex_data(ssl, idx);
    if (!preverify_ok && seen <= 1) {
        long code = X509_STORE_CTX_get_error(store);
        SSL_set_ex_data(ssl, idx, (void *)(intptr_t)(code + 1));
    } else if (seen == 0) {
        SSL_set_ex_data(ssl, idx, (void *)(intptr_t)1);
    }
    return 1; /* never abort: the observer wants the certificate */
}

int mts_tls_ctx_install_verify(SSL_CTX *ctx)
{
    if (verify_index_get() < 0)
        return -ENOMEM;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, observe_verify_cb);
    return 0;
}

SSL_CTX *mts_tls_client_ctx_new(const char *ca_file, int *err)
{
    int e = -ENOMEM;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        goto fail;
    /* Observe old servers too: TLS 1.0+ and no key-size floor (level 0). */
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION))
        goto fail;
    SSL_CTX_set_security_level(ctx, 0);
    if (mts_tls_ctx_install_verify(ctx) < 0)
        goto fail;
    int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                     : SSL_CTX_set_default_verify_paths(ctx);
    if (!ok) {
        e = -ENOENT;
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    if (err)
        *err = e;
    return NULL;
}

static int host_ok(const char *host)
{
    size_t n = host ? strlen(host) : 0;
    return n > 0 && n <= 253;
}

int mts_tls_expect_host(SSL *ssl, const char *host)
{
    if (!host_ok(host))
        return -EINVAL;
    if (!SSL_set_tlsext_host_name(ssl, host))
        return -ENOMEM;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return X509_VERIFY_PARAM_set1_host(param, host, 0) ? 0 : -ENOMEM;
}

int mts_tls_ctx_expect_host(SSL_CTX *ctx, const char *host)
{
    if (!host_ok(host))
        return -EINVAL;
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return X509_VERIFY_PARAM_set1_host(param, host, 0) ? 0 : -ENOMEM;
}

long mts_tls_verify_result(const SSL *ssl)
{
    int idx = verify_index_get();
    intptr_t seen = idx >= 0 ? (intptr_t)SSL_get_ex_data(ssl, idx) : 0;
    if (seen == 0)
        return SSL_get_verify_result(ssl);
    return (long)(seen - 1);
}

enum mts_cert_verdict mts_tls_verify_class(long code)
{
    switch (code) {
    case X509_V_OK:
        return MTS_CERT_OK;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return MTS_CERT_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return MTS_CERT_NOT_YET_VALID;
    case X509_V_ERR_HOSTNAME_MISMATCH:
        return MTS_CERT_NAME_MISMATCH;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        return MTS_CERT_SELF_SIGNED;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return MTS_CERT_UNTRUSTED;
    default:
        return MTS_CERT_OTHER;
    }
}

json_t *mts_json_bytes(const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    if (memchr(p, 0, n) == NULL) {
        json_t *s = json_stringn((const char *)p, n);
        if (s)
            return s;
    }
    char *hex = malloc(2 * n + 1);
    if (hex == NULL)
        return NULL;
    mts_hex_encode(hex, p, n);
    json_t *o = json_pack("{s:s%}", "hex", hex, 2 * n);
    free(hex);
    return o;
}

static json_t *name_json(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return NULL;
    json_t *out = NULL;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *data;
        long n = BIO_get_mem_data(bio, &data);
        out = mts_json_bytes((const unsigned char *)data, n > 0 ? (size_t)n : 0);
    }
    BIO_free(bio);
    return out;
}

static json_t *time_json(const ASN1_TIME *t)
{
    struct tm tm;
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return NULL;
    return json_integer((json_int_t)timegm(&tm));
}

static json_t *san_json(X509 *cert, int *truncated)
{
    json_t *arr = json_array();
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    *truncated = 0;
    for (int i = 0; arr && names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != GEN_DNS)
            continue;
        if (json_array_size(arr) == MTS_TLS_MAX_SAN) {
            *truncated = 1;
            break;
        }
        const ASN1_IA5STRING *s = gn->d.dNSName;
        json_array_append_new(
            arr, mts_json_bytes(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(names);
    return arr;
}

static json_t *leaf_json(X509 *cert)
{
    json_t *leaf = json_object();
    if (leaf == NULL)
        return NULL;
    int truncated;
    json_object_set_new(leaf, "subject", name_json(X509_get_subject_name(cert)));
    json_object_set_new(leaf, "issuer", name_json(X509_get_issuer_name(cert)));
    json_object_set_new(leaf, "not_before", time_json(X509_get0_notBefore(cert)));
    json_object_set_new(leaf, "not_after", time_json(X509_get0_notAfter(cert)));
    json_object_set_new(leaf, "san", san_json(cert, &truncated));
    if (truncated)
        json_object_set_new(leaf, "san_truncated", json_true());
    return leaf;
}

static json_t *der_base64(X509 *cert)
{
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    if (n <= 0)
        return NULL;
    size_t cap = 4 * (((size_t)n + 2) / 3) + 1;
    unsigned char *b64 = malloc(cap);
    json_t *out = NULL;
    if (b64) {
        int m = EVP_EncodeBlock(b64, der, n);
        out = json_stringn((const char *)b64, (size_t)m);
        free(b64);
    }
    OPENSSL_free(der);
    return out;
}

static json_t *chain_json(const SSL *ssl, X509 *leaf)
{
    json_t *arr = json_array();
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    if (arr == NULL)
        return NULL;
    if (chain == NULL || sk_X509_num(chain) == 0) {
        json_array_append_new(arr, der_base64(leaf));
        return arr;
    }
    for (int i = 0; i < sk_X509_num(chain) && i < MTS_TLS_MAX_CHAIN; i++)
        json_array_append_new(arr, der_base64(sk_X509_value(chain, i)));
    return arr;
}

json_t *mts_tls_observe(const SSL *ssl)
{
    json_t *obs = json_object();
    if (obs == NULL)
        return NULL;
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    if (cipher) {
        json_object_set_new(obs, "version", json_string(SSL_get_version(ssl)));
        json_object_set_new(obs, "cipher", json_string(SSL_CIPHER_standard_name(cipher)));
    }
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (sni)
        json_object_set_new(obs, "sni", json_string(sni));
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (cert) {
        long code = mts_tls_verify_result(ssl);
        json_object_set_new(obs, "verify",
                            json_string(mts_cert_verdict_name(mts_tls_verify_class(code))));
        json_object_set_new(obs, "verify_code", json_integer(code));
        json_object_set_new(obs, "verify_text", json_string(X509_verify_cert_error_string(code)));
        json_object_set_new(obs, "chain", chain_json(ssl, cert));
        json_object_set_new(obs, "leaf", leaf_json(cert));
    }
    return obs;
}
