/*
 * Why this file exists: every certificate verdict the scanner records (ok, expired,
 * not-yet-valid, name-mismatch, self-signed, untrusted) has to be provoked on loopback by
 * a certificate built for exactly that verdict, for whatever host name the scenario
 * invents. A fixed set of PEM files cannot cover generated worlds with thousands of hosts,
 * so the world mints leaves on the fly from one test root.
 *
 * Cost matters because benchmarks run the scanner against this: keys are ECDSA P-256,
 * every leaf shares one key (signing a leaf is one ECDSA signature), and the servers swap
 * the certificate on the SSL object from their servername callback instead of building an
 * SSL_CTX per name. Minted certificates live in a direct-mapped cache: bounded memory, a
 * collision simply re-mints.
 */
#include "ca.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define CACHE_SLOTS  2048 /* power of two */
#define NAME_MAX_LEN 253
#define DAY          (24L * 60 * 60)

struct cache_slot {
    char name[NAME_MAX_LEN + 1]; /* lower case; empty = free */
    enum world_cert kind;
    X509 *cert;
};

struct world_ca {
    EVP_PKEY *root_key, *other_key, *leaf_key;
    X509 *root, *other; /* trusted root; the unknown root behind WORLD_CERT_UNTRUSTED_CA */
    char *pem_path;
    uint64_t serial;
    struct cache_slot *cache;
    struct world_ca_stats stats;
};

static const char *const kind_names[WORLD_CERT_COUNT] = {
    [WORLD_CERT_VALID] = "valid",
    [WORLD_CERT_EXPIRED] = "expired",
    [WORLD_CERT_NOT_YET_VALID] = "not-yet-valid",
    [WORLD_CERT_WRONG_NAME] = "wrong-name",
    [WORLD_CERT_SELF_SIGNED] = "self-signed",
    [WORLD_CERT_UNTRUSTED_CA] = "untrusted-ca",
};

const char *world_ca_kind_name(enum world_cert kind)
{
    return (unsigned)kind < WORLD_CERT_COUNT ? kind_names[kind] : NULL;
}

int world_ca_kind_parse(const char *s)
{
    for (int i = 0; i < WORLD_CERT_COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0)
            return i;
    return -1;
}

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    if (errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    unsigned long e = ERR_get_error();
    if (e != 0) {
        size_t used = strlen(err);
        if (used + 3 < errlen) {
            memcpy(err + used, ": ", 3);
            ERR_error_string_n(e, err + used + 2, errlen - used - 2);
        }
    }
    ERR_clear_error();
}

/* Host names, "*.zone" wildcards, lower-cased into out; -1 when unusable as a SAN. */
static int normalise_name(const char *name, char out[NAME_MAX_LEN + 1])
{
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || (c == '*' && i == 0)))
            return -1;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    if (out[0] == '*' && out[1] != '.')
        return -1;
    return 0;
}

static EVP_PKEY *new_p256_key(void)
{
    return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static int add_san(X509 *cert, const char *name)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gen = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    int rc = -1;
    if (gens == NULL || gen == NULL || ia5 == NULL || !ASN1_STRING_set(ia5, name, -1))
        goto out;
    GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
    ia5 = NULL;
    if (!sk_GENERAL_NAME_push(gens, gen))
        goto out;
    gen = NULL;
    rc = X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 0, 0) == 1 ? 0 : -1;
out:
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gen);
    GENERAL_NAMES_free(gens);
    return rc;
}

/* The subject: CN=name, or for a name longer than a CN may be (64 characters, RFC 5280
   ub-common-name) O=mtasts-world; the name is in the subjectAltName either way. */
static int add_subject(X509_NAME *subject, const char *cn)
{
    bool fits = strlen(cn) <= 64;
    return X509_NAME_add_entry_by_txt(subject, fits ? "CN" : "O", MBSTRING_ASC,
                                      (const unsigned char *)(fits ? cn : "mtasts-world"), -1, -1,
                                      0);
}

/*
 * Builds a certificate for `cn`, valid from now+from to now+to seconds. issuer == NULL
 * makes it self-issued (a root when is_ca, else a self-signed leaf).
 */
static X509 *build_cert(struct world_ca *ca, const char *cn, EVP_PKEY *subject_key, X509 *issuer,
                        EVP_PKEY *issuer_key, long from, long to, int is_ca)
{
    X509 *x = X509_new();
    X509_NAME *subject = X509_NAME_new();
    if (x == NULL || subject == NULL)
        goto fail;
    if (!X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), ++ca->serial) ||
        X509_gmtime_adj(X509_getm_notBefore(x), from) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), to) == NULL || !add_subject(subject, cn) ||
        !X509_set_subject_name(x, subject) ||
        !X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subject) ||
        !X509_set_pubkey(x, subject_key))
        goto fail;
    X509 *signer = issuer != NULL ? issuer : x;
    if (add_ext(x, signer, NID_subject_key_identifier, "hash") != 0 ||
        (issuer != NULL || !is_ca ? add_ext(x, signer, NID_authority_key_identifier, "keyid:always")
                                  : 0) != 0)
        goto fail;
    if (is_ca) {
        if (add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
            add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign") != 0)
            goto fail;
    } else {
        if (add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
            add_ext(x, signer, NID_key_usage, "critical,digitalSignature") != 0 ||
            add_ext(x, signer, NID_ext_key_usage, "serverAuth") != 0 || add_san(x, cn) != 0)
            goto fail;
    }
    if (X509_sign(x, issuer_key, EVP_sha256()) == 0)
        goto fail;
    X509_NAME_free(subject);
    return x;
fail:
    X509_NAME_free(subject);
    X509_free(x);
    return NULL;
}

static char *join_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* Writes PEM through a temporary file and rename, so a reader never sees half a file. */
static int write_pem_file(const char *path, X509 *cert, EVP_PKEY *key)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return -1;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int ok = f != NULL;
    if (ok && key != NULL)
        ok = fchmod(fileno(f), 0600) == 0 && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, 0);
    if (ok && cert != NULL)
        ok = PEM_write_X509(f, cert);
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (ok)
        ok = rename(tmp, path) == 0;
    else
        remove(tmp);
    free(tmp);
    if (!ok && errno == 0)
        errno = EIO;
    return ok ? 0 : -1;
}

static int load_root(struct world_ca *ca, const char *cert_path, const char *key_path)
{
    FILE *f = fopen(cert_path, "r");
    if (f == NULL)
        return -1;
    ca->root = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(key_path, "r");
    if (f == NULL)
        return -1;
    ca->root_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (ca->root == NULL || ca->root_key == NULL || !X509_check_private_key(ca->root, ca->root_key))
        return -1;
    return 0;
}

struct world_ca *world_ca_new(const char *dir, char *err, size_t errlen)
{
    struct world_ca *ca = calloc(1, sizeof *ca);
    char *key_path = NULL;
    if (ca == NULL || (ca->cache = calloc(CACHE_SLOTS, sizeof *ca->cache)) == NULL) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    /* Random serial base: two runs never issue the same (issuer, serial) pair. */
    if (RAND_bytes((unsigned char *)&ca->serial, sizeof ca->serial) != 1) {
        set_err(err, errlen, "RAND_bytes");
        goto fail;
    }
    ca->serial = (ca->serial >> 2) | 1;
    if (dir != NULL) {
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            set_err(err, errlen, "mkdir %s: %s", dir, strerror(errno));
            goto fail;
        }
        ca->pem_path = join_path(dir, "ca.pem");
        key_path = join_path(dir, "ca-key.pem");
        if (ca->pem_path == NULL || key_path == NULL) {
            set_err(err, errlen, "out of memory");
            goto fail;
        }
        struct stat st;
        if (stat(ca->pem_path, &st) == 0 && stat(key_path, &st) == 0 &&
            load_root(ca, ca->pem_path, key_path) != 0) {
            set_err(err, errlen, "cannot load %s and ca-key.pem", ca->pem_path);
            goto fail;
        }
    }
    if (ca->root == NULL) {
        X509_free(ca->root);
        EVP_PKEY_free(ca->root_key);
        ca->root_key = new_p256_key();
        ca->root = ca->root_key == NULL ? NULL
                                        : build_cert(ca, "mtasts-world Test Root", ca->root_key,
                                                     NULL, ca->root_key, -DAY, 3650 * DAY, 1);
        if (ca->root == NULL) {
            set_err(err, errlen, "cannot create the test root");
            goto fail;
        }
        if (dir != NULL && (write_pem_file(key_path, NULL, ca->root_key) != 0 ||
                            write_pem_file(ca->pem_path, ca->root, NULL) != 0)) {
            set_err(err, errlen, "cannot write %s: %s", ca->pem_path, strerror(errno));
            goto fail;
        }
    }
    ca->other_key = new_p256_key();
    ca->leaf_key = new_p256_key();
    ca->other = ca->other_key == NULL ? NULL
                                      : build_cert(ca, "mtasts-world Unknown Root", ca->other_key,
                                                   NULL, ca->other_key, -DAY, 3650 * DAY, 1);
    if (ca->leaf_key == NULL || ca->other == NULL) {
        set_err(err, errlen, "cannot create keys");
        goto fail;
    }
    free(key_path);
    return ca;
fail:
    free(key_path);
    world_ca_free(ca);
    return NULL;
}

void world_ca_free(struct world_ca *ca)
{
    if (ca == NULL)
        return;
    if (ca->cache != NULL)
        for (size_t i = 0; i < CACHE_SLOTS; i++)
            X509_free(ca->cache[i].cert);
    free(ca->cache);
    X509_free(ca->root);
    X509_free(ca->other);
    EVP_PKEY_free(ca->root_key);
    EVP_PKEY_free(ca->other_key);
    EVP_PKEY_free(ca->leaf_key);
    free(ca->pem_path);
    free(ca);
}

const char *world_ca_pem_path(const struct world_ca *ca)
{
    return ca->pem_path;
}

static X509 *mint(struct world_ca *ca, const char *name, enum world_cert kind)
{
    ca->stats.minted++;
    switch (kind) {
    case WORLD_CERT_VALID:
    case WORLD_CERT_WRONG_NAME: /* the caller named the other name */
        return build_cert(ca, name, ca->leaf_key, ca->root, ca->root_key, -DAY, 365 * DAY, 0);
    case WORLD_CERT_EXPIRED:
        return build_cert(ca, name, ca->leaf_key, ca->root, ca->root_key, -730 * DAY, -DAY, 0);
    case WORLD_CERT_NOT_YET_VALID:
        return build_cert(ca, name, ca->leaf_key, ca->root, ca->root_key, 30 * DAY, 395 * DAY, 0);
    case WORLD_CERT_SELF_SIGNED:
        return build_cert(ca, name, ca->leaf_key, NULL, ca->leaf_key, -DAY, 365 * DAY, 0);
    case WORLD_CERT_UNTRUSTED_CA:
        return build_cert(ca, name, ca->leaf_key, ca->other, ca->other_key, -DAY, 365 * DAY, 0);
    case WORLD_CERT_COUNT:
        break;
    }
    return NULL;
}

/* The cached certificate for (name, kind), minted on a miss. Borrowed: may be evicted. */
static X509 *lookup(struct world_ca *ca, const char *name, enum world_cert kind)
{
    char norm[NAME_MAX_LEN + 1];
    if ((unsigned)kind >= WORLD_CERT_COUNT || normalise_name(name, norm) != 0)
        return NULL;
    if (kind == WORLD_CERT_WRONG_NAME)
        kind = WORLD_CERT_VALID; /* the same certificate: only the caller's name differs */
    uint32_t h = 2166136261u ^ (uint32_t)kind; /* FNV-1a */
    for (const char *p = norm; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct cache_slot *slot = &ca->cache[h & (CACHE_SLOTS - 1)];
    if (slot->cert != NULL && slot->kind == kind && strcmp(slot->name, norm) == 0) {
        ca->stats.hits++;
        return slot->cert;
    }
    X509 *cert = mint(ca, norm, kind);
    if (cert == NULL)
        return NULL;
    if (slot->cert != NULL)
        ca->stats.evicted++;
    X509_free(slot->cert);
    slot->cert = cert;
    slot->kind = kind;
    memcpy(slot->name, norm, strlen(norm) + 1);
    return cert;
}

int world_ca_use(struct world_ca *ca, SSL *ssl, const char *name, enum world_cert kind)
{
    X509 *cert = lookup(ca, name, kind);
    if (cert == NULL || SSL_use_certificate(ssl, cert) != 1 ||
        SSL_use_PrivateKey(ssl, ca->leaf_key) != 1) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

SSL_CTX *world_ca_server_ctx_new(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    /* Every connection is a fresh probe: no resumption state to keep or to leak. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return ctx;
}

int world_ca_client_hello_sni(SSL *ssl, char *buf, size_t len)
{
    /* RFC 6066 3: ServerNameList = 2-byte length, then (type, 2-byte length, name)... */
    const unsigned char *p;
    size_t n;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &n) != 1 || n < 2 ||
        (size_t)(p[0] << 8 | p[1]) != n - 2)
        return -1;
    p += 2;
    n -= 2;
    while (n >= 3) {
        size_t nlen = (size_t)(p[1] << 8 | p[2]);
        if (nlen > n - 3)
            return -1;
        if (p[0] == TLSEXT_NAMETYPE_host_name) {
            char name[NAME_MAX_LEN + 1];
            if (nlen == 0 || nlen > NAME_MAX_LEN || memchr(p + 3, '\0', nlen) != NULL)
                return -1;
            memcpy(name, p + 3, nlen);
            name[nlen] = '\0';
            char norm[NAME_MAX_LEN + 1];
            if (normalise_name(name, norm) != 0 || strlen(norm) >= len)
                return -1;
            memcpy(buf, norm, strlen(norm) + 1);
            return 0;
        }
        p += 3 + nlen;
        n -= 3 + nlen;
    }
    return -1;
}

int world_ca_apply(struct world_ca *ca, SSL *ssl, const struct world_tls *tls, const char *name)
{
    if (tls->alert)
        return -1;
    if (tls->max_version != 0) {
        if (tls->max_version < TLS1_2_VERSION) {
            /* OpenSSL 3 (and a distribution's MinProtocol) refuse TLS < 1.2 at level 1. */
            SSL_set_security_level(ssl, 0);
            if (SSL_set_cipher_list(ssl, "DEFAULT:@SECLEVEL=0") != 1 ||
                SSL_set_min_proto_version(ssl, TLS1_VERSION) != 1)
                goto fail;
        }
        if (SSL_set_max_proto_version(ssl, tls->max_version) != 1)
            goto fail;
    }
    return world_ca_use(ca, ssl, name != NULL ? name : tls->cert_name, tls->cert);
fail:
    ERR_clear_error();
    return -1;
}

int world_ca_write_pem(struct world_ca *ca, const char *name, enum world_cert kind,
                       const char *cert_path, const char *key_path)
{
    X509 *cert = lookup(ca, name, kind);
    if (cert == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (write_pem_file(cert_path, cert, NULL) != 0)
        return -1;
    return write_pem_file(key_path, NULL, ca->leaf_key);
}

void world_ca_get_stats(const struct world_ca *ca, struct world_ca_stats *out)
{
    *out = ca->stats;
}
