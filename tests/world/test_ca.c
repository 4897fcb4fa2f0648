/*
 * Why: every certificate verdict of the record schema (ok, expired, not-yet-valid,
 * name-mismatch, self-signed, untrusted) is provoked by a certificate the world's CA mints;
 * this checks each kind against OpenSSL's own verifier with the strict X.509 profile, that
 * the root survives a reload from --ca-dir, that wildcards follow RFC 6125, and that the
 * cache is bounded and hit.
 */
#include "ca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "check.h"

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

/* OpenSSL's verdict on the certificate in cert_path for host, trusting only ca_path. */
static int verify(const char *ca_path, const char *cert_path, const char *host)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *leaf = read_cert(cert_path);
    int rc = -1;
    if (store == NULL || ctx == NULL || leaf == NULL || X509_STORE_load_file(store, ca_path) != 1 ||
        X509_STORE_CTX_init(ctx, store, leaf, NULL) != 1)
        goto out;
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
    X509_VERIFY_PARAM_set1_host(param, host, 0);
    rc = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
out:
    X509_free(leaf);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

static int pem_verdict(struct world_ca *ca, const char *dir, const char *name, enum world_cert kind,
                       const char *host)
{
    char cert[512], key[512];
    snprintf(cert, sizeof cert, "%s/leaf.pem", dir);
    snprintf(key, sizeof key, "%s/leaf.key", dir);
    if (world_ca_write_pem(ca, name, kind, cert, key) != 0)
        return -2;
    return verify(world_ca_pem_path(ca), cert, host);
}

int main(void)
{
    char dir[] = "/tmp/world-ca-test-XXXXXX";
    char err[256] = "";
    CHECK(mkdtemp(dir) != NULL);

    struct world_ca *ca = world_ca_new(dir, err, sizeof err);
    CHECK(ca != NULL);
    if (ca == NULL) {
        fprintf(stderr, "world_ca_new: %s\n", err);
        return check_exit();
    }
    const char *h = "mta-sts.a.test";
    CHECK_INT(pem_verdict(ca, dir, h, WORLD_CERT_VALID, h), X509_V_OK);
    CHECK_INT(pem_verdict(ca, dir, h, WORLD_CERT_EXPIRED, h), X509_V_ERR_CERT_HAS_EXPIRED);
    CHECK_INT(pem_verdict(ca, dir, h, WORLD_CERT_NOT_YET_VALID, h), X509_V_ERR_CERT_NOT_YET_VALID);
    CHECK_INT(pem_verdict(ca, dir, "www.a.test", WORLD_CERT_WRONG_NAME, h),
              X509_V_ERR_HOSTNAME_MISMATCH);
    CHECK_INT(pem_verdict(ca, dir, h, WORLD_CERT_SELF_SIGNED, h),
              X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    CHECK_INT(pem_verdict(ca, dir, h, WORLD_CERT_UNTRUSTED_CA, h),
              X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    /* Wildcards: exactly one extra left-most label. */
    CHECK_INT(pem_verdict(ca, dir, "*.provider.test", WORLD_CERT_VALID, "mx1.provider.test"),
              X509_V_OK);
    CHECK_INT(pem_verdict(ca, dir, "*.provider.test", WORLD_CERT_VALID, "a.b.provider.test"),
              X509_V_ERR_HOSTNAME_MISMATCH);
    CHECK_INT(pem_verdict(ca, dir, "*.provider.test", WORLD_CERT_VALID, "provider.test"),
              X509_V_ERR_HOSTNAME_MISMATCH);
    /* Names that cannot be a SAN are refused, never spliced into one. */
    CHECK_INT(pem_verdict(ca, dir, "a.test,DNS:evil.test", WORLD_CERT_VALID, "a.test"), -2);
    CHECK_INT(pem_verdict(ca, dir, "a.*.test", WORLD_CERT_VALID, "a.b.test"), -2);
    CHECK_INT(pem_verdict(ca, dir, "", WORLD_CERT_VALID, "a.test"), -2);

    /* The cache: a second request for the same (name, kind) mints nothing. */
    struct world_ca_stats before, after;
    world_ca_get_stats(ca, &before);
    CHECK_INT(pem_verdict(ca, dir, "MTA-STS.A.TEST", WORLD_CERT_VALID, h), X509_V_OK);
    world_ca_get_stats(ca, &after);
    CHECK_INT(after.minted, before.minted);
    CHECK_INT(after.hits, before.hits + 1);

    /* Bounded: many names evict, never grow. */
    SSL_CTX *sctx = world_ca_server_ctx_new();
    SSL *ssl = sctx != NULL ? SSL_new(sctx) : NULL;
    CHECK(ssl != NULL);
    char name[64];
    for (int i = 0; ssl != NULL && i < 5000; i++) {
        snprintf(name, sizeof name, "mta-sts.d%05d.test", i);
        CHECK_INT(world_ca_use(ca, ssl, name, WORLD_CERT_VALID), 0);
    }
    world_ca_get_stats(ca, &after);
    CHECK(after.evicted > 0);
    CHECK(after.minted - after.evicted <= 2048);
    SSL_free(ssl);
    SSL_CTX_free(sctx);

    /* The root persists: a second CA on the same dir trusts the first one's leaves. */
    char leaf[512];
    snprintf(leaf, sizeof leaf, "%s/leaf.pem", dir);
    CHECK_INT(pem_verdict(ca, dir, h, WORLD_CERT_VALID, h), X509_V_OK);
    world_ca_free(ca);
    ca = world_ca_new(dir, err, sizeof err);
    CHECK(ca != NULL);
    CHECK_INT(verify(world_ca_pem_path(ca), leaf, h), X509_V_OK);
    CHECK_STR(world_ca_kind_name(WORLD_CERT_UNTRUSTED_CA), "untrusted-ca");
    CHECK_INT(world_ca_kind_parse("not-yet-valid"), WORLD_CERT_NOT_YET_VALID);
    CHECK_INT(world_ca_kind_parse("bogus"), -1);
    world_ca_free(ca);
    ca = world_ca_new(NULL, err, sizeof err);
    CHECK(ca != NULL && world_ca_pem_path(ca) == NULL);
    world_ca_free(ca);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    return check_exit();
}
