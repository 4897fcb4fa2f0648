/*
 * Why: the scanner stores observations, never verdicts, so every conclusion must be
 * recomputable from a raw record. This file is that computation: it runs the validators
 * on what was observed, follows a compliant sender through discovery, fetch and MX
 * validation, and names every way the domain falls short with a stable category, keeping
 * "protection silently off" (off), "mail lost" (bounce) and "cannot tell" (unknown) apart.
 */
#include "mts_classify.h"
#include "mts_mx_match.h"
#include "mts_util.h"
#include "mts_vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cls {
    struct mts_classification *out;
    const struct mts_classify_env *env;
    const json_t *rec;
    size_t cap;
    int rc;
    bool intends_mx;         /* the parsed policy asks for enforce or testing: judge the MX hosts */
    bool null_mx;            /* MX 0 . (RFC 7505): the domain takes no mail */
    bool resolver_record_ok; /* postfix-mta-sts-resolver uses the TXT RRset */
    bool maddy_record_ok;    /* maddy uses the TXT RRset */
};

const char *mts_tri_name(enum mts_tri t)
{
    return t == MTS_TRI_YES ? "yes" : t == MTS_TRI_NO ? "no" : "unknown";
}

const char *mts_mx_status_name(enum mts_mx_status s)
{
    return s == MTS_MX_PASS ? "pass" : s == MTS_MX_REFUSED ? "refused" : "unknown";
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void cat(struct cls *st, const char *category)
{
    struct mts_classification *o = st->out;
    if (st->rc)
        return;
    if (o->n_categories == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        const char **v = realloc(o->categories, cap * sizeof *v);
        if (!v) {
            st->rc = -ENOMEM;
            return;
        }
        o->categories = v;
        st->cap = cap;
    }
    o->categories[o->n_categories++] = category;
}

/* A category a domain can earn from several places (its report hosts), listed once. */
static void cat_once(struct cls *st, const char *category)
{
    for (size_t i = 0; i < st->out->n_categories; i++)
        if (strcmp(st->out->categories[i], category) == 0)
            return;
    cat(st, category);
}

/* Every error finding of a validator becomes a category. */
static void cat_errors(struct cls *st, const struct mts_findings *f)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].severity == MTS_SEV_ERROR)
            cat(st, f->v[i].code);
}

/* An analysis-error category and its cause (the first one kept). */
static void analysis_error(struct cls *st, const char *category, const char *why)
{
    cat(st, category);
    if (!st->rc && !st->out->analysis_error && !(st->out->analysis_error = strdup(why)))
        st->rc = -ENOMEM;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static const json_t *dns(const struct cls *st, const char *which)
{
    return json_object_get(json_object_get(st->rec, "dns"), which);
}

static enum mts_dns_result dns_result(const json_t *obs)
{
    return mts_dns_result_parse(str(obs, "result"));
}

static bool dns_failed(enum mts_dns_result r)
{
    switch (r) {
    case MTS_DNS_RESULT_SERVFAIL:
    case MTS_DNS_RESULT_TIMEOUT:
    case MTS_DNS_RESULT_REFUSED:
    case MTS_DNS_RESULT_ERROR:
    case MTS_DNS_RESULT_LOCAL_ERROR:
    case MTS_DNS_RESULT_QUEUE_TIMEOUT:
        return true;
    default:
        return false;
    }
}

static bool dns_negative(enum mts_dns_result r)
{
    return r == MTS_DNS_RESULT_NXDOMAIN || r == MTS_DNS_RESULT_NODATA;
}

/* A query not asked because its name passes 255 octets: such a name cannot exist, so no
   sender finds anything there (dns-info/name-too-long). */
static bool dns_name_too_long(const json_t *obs)
{
    return dns_result(obs) == MTS_DNS_RESULT_SKIPPED &&
           mts_skip_parse(str(obs, "why")) == MTS_SKIP_NAME_TOO_LONG;
}

/* TXT records of a DNS observation, with the bytes they own. */
struct txtset {
    struct mts_txt_record *recs;
    struct mts_txt_string *strs;
    unsigned char **owned;
    size_t n_recs, n_strs, n_owned;
};

static void txtset_free(struct txtset *t)
{
    for (size_t i = 0; i < t->n_owned; i++)
        free(t->owned[i]);
    free(t->owned);
    free(t->strs);
    free(t->recs);
    memset(t, 0, sizeof *t);
}

/* A character-string: a JSON string (UTF-8 text) or {"hex": "..."}. */
static int txt_string(struct txtset *t, const json_t *v, struct mts_txt_string *s)
{
    if (json_is_string(v)) {
        s->data = (const unsigned char *)json_string_value(v);
        s->len = json_string_length(v);
        return 0;
    }
    const char *hex = str(v, "hex");
    size_t n = hex ? strlen(hex) / 2 : 0;
    unsigned char *b = malloc(n + 1);
    if (!b)
        return -ENOMEM;
    t->owned[t->n_owned++] = b;
    for (size_t i = 0; i < n; i++) {
        int hi = mts_hex_value(hex[2 * i]), lo = mts_hex_value(hex[2 * i + 1]);
        b[i] = (unsigned char)(hi < 0 || lo < 0 ? '?' : hi * 16 + lo);
    }
    s->data = b;
    s->len = n;
    return 0;
}

static int txtset_load(struct txtset *t, const json_t *obs)
{
    const json_t *answer = json_object_get(obs, "answer"), *rr, *s;
    size_t i, j, nrec = 0, nstr = 0;
    json_array_foreach(answer, i, rr)
    {
        const char *type = str(rr, "type");
        if (type && strcmp(type, "TXT") == 0) {
            nrec++;
            nstr += json_array_size(json_object_get(rr, "txt"));
        }
    }
    t->recs = calloc(nrec + 1, sizeof *t->recs);
    t->strs = calloc(nstr + 1, sizeof *t->strs);
    t->owned = calloc(nstr + 1, sizeof *t->owned);
    if (!t->recs || !t->strs || !t->owned)
        return -ENOMEM;
    json_array_foreach(answer, i, rr)
    {
        const char *type = str(rr, "type");
        if (!type || strcmp(type, "TXT") != 0)
            continue;
        struct mts_txt_record *r = &t->recs[t->n_recs++];
        r->strings = &t->strs[t->n_strs];
        json_array_foreach(json_object_get(rr, "txt"), j, s)
        {
            if (txt_string(t, s, &t->strs[t->n_strs]))
                return -ENOMEM;
            t->n_strs++;
            r->n++;
        }
    }
    return 0;
}

static bool has_cname(const json_t *obs)
{
    const json_t *rr;
    size_t i;
    json_array_foreach(json_object_get(obs, "answer"), i, rr)
    {
        const char *type = str(rr, "type");
        if (type && strcmp(type, "CNAME") == 0)
            return true;
    }
    return false;
}

static void classify_txt(struct cls *st)
{
    struct mts_classification *o = st->out;
    const json_t *obs = dns(st, "sts");
    enum mts_dns_result res = dns_result(obs);
    o->funnel.has_record = o->funnel.valid_record = MTS_TRI_UNKNOWN;
    if (dns_failed(res)) {
        cat(st, "dns-failure/sts-txt");
    } else if (dns_name_too_long(obs)) {
        o->funnel.has_record = o->funnel.valid_record = MTS_TRI_NO;
        cat(st, "dns-info/name-too-long");
    } else if (dns_negative(res)) {
        o->funnel.has_record = o->funnel.valid_record = MTS_TRI_NO;
        if (res == MTS_DNS_RESULT_NXDOMAIN && has_cname(obs))
            cat(st, "sts-txt-invalid/cname-dangling");
    } else if (res == MTS_DNS_RESULT_ANSWER) {
        struct txtset t = {0};
        st->rc = txtset_load(&t, obs);
        if (!st->rc)
            st->rc = mts_sts_record_parse(&o->record, t.recs, t.n_recs);
        if (!st->rc)
            st->rc = mts_resolver_record_ok(t.recs, t.n_recs, &st->resolver_record_ok);
        if (!st->rc)
            st->rc = mts_maddy_record_ok(t.recs, t.n_recs, &st->maddy_record_ok);
        txtset_free(&t);
        o->has_record = true;
        o->funnel.has_record = o->record.records ? MTS_TRI_YES : MTS_TRI_NO;
        o->funnel.valid_record = o->record.valid ? MTS_TRI_YES : MTS_TRI_NO;
        cat_errors(st, &o->record.findings);
    }
}

/* Whether a DNS observation answered with no record of its type (NXDOMAIN or NODATA). */
static bool obs_negative(const json_t *obs)
{
    return dns_negative(dns_result(obs));
}

/* Whether an MX answer holds only the null MX "." (RFC 7505). */
static bool only_null_mx(const json_t *obs)
{
    const json_t *rr;
    size_t i, mx = 0, null = 0;
    json_array_foreach(json_object_get(obs, "answer"), i, rr)
    {
        const char *type = str(rr, "type"), *host = str(rr, "host");
        if (type && strcmp(type, "MX") == 0) {
            mx++;
            null += host && strcmp(host, ".") == 0;
        }
    }
    return mx && null == mx;
}

/* What the TLS check of an https: report host found (RUATLS "result"): a handshake that
   did not complete, or a certificate that does not verify for the host. What this machine
   could not or would not check (local-error, queue-timeout, limit, excluded, ...) decides
   nothing. */
static void classify_rua_tls(struct cls *st, enum mts_fetch_result result)
{
    switch (result) {
    case MTS_FETCH_CERT_INVALID:
        cat_once(st, "tlsrpt/rua-cert-invalid");
        st->out->rua_failing++;
        break;
    case MTS_FETCH_CONNECT_REFUSED:
    case MTS_FETCH_CONNECT_TIMEOUT:
    case MTS_FETCH_TLS_FAILURE:
    case MTS_FETCH_TIMEOUT:
    case MTS_FETCH_RESET:
        cat_once(st, "tlsrpt/rua-tls-failure");
        st->out->rua_failing++;
        break;
    default:
        break;
    }
}

/* Where the reports of a valid TLS-RPT record would go, from the scan's lookups
   ("tlsrpt_rua"): a mailto: domain that takes no mail, an https: host without an address.
   A lookup that failed decides nothing. */
static void classify_rua(struct cls *st)
{
    const json_t *d;
    size_t i;
    json_array_foreach(json_object_get(st->rec, "tlsrpt_rua"), i, d)
    {
        const json_t *mx = json_object_get(d, "mx"), *a = json_object_get(d, "a"),
                     *aaaa = json_object_get(d, "aaaa");
        enum mts_rua_scheme scheme = mts_rua_scheme_parse(str(d, "scheme"));
        enum mts_dns_result mx_res = dns_result(mx);
        bool no_addr = obs_negative(a) && obs_negative(aaaa);
        if (scheme == MTS_RUA_MAILTO && (mx_res == MTS_DNS_RESULT_NXDOMAIN || only_null_mx(mx) ||
                                         (mx_res == MTS_DNS_RESULT_NODATA && no_addr))) {
            cat(st, "tlsrpt/rua-undeliverable");
            st->out->rua_failing++;
        } else if (scheme == MTS_RUA_HTTPS && no_addr) {
            cat(st, "tlsrpt/rua-unresolvable");
            st->out->rua_failing++;
        } else if (scheme == MTS_RUA_HTTPS)
            classify_rua_tls(st, mts_fetch_result_parse(str(json_object_get(d, "tls"), "result")));
    }
}

static void classify_tlsrpt(struct cls *st)
{
    struct mts_classification *o = st->out;
    const json_t *obs = dns(st, "tlsrpt");
    enum mts_dns_result res = dns_result(obs);
    if (dns_failed(res)) {
        cat(st, "dns-failure/tlsrpt");
    } else if (dns_name_too_long(obs)) {
        if (!dns_name_too_long(dns(st, "sts")))
            cat(st, "dns-info/name-too-long");
        cat(st, "tlsrpt/absent");
    } else if (dns_negative(res)) {
        /* A domain that does not exist lacks everything; only a live one lacks TLS-RPT. */
        if (dns_result(dns(st, "mx")) != MTS_DNS_RESULT_NXDOMAIN)
            cat(st, "tlsrpt/absent");
    } else if (res == MTS_DNS_RESULT_ANSWER) {
        struct txtset t = {0};
        st->rc = txtset_load(&t, obs);
        if (!st->rc)
            st->rc = mts_tlsrpt_parse(&o->tlsrpt, t.recs, t.n_recs);
        txtset_free(&t);
        o->has_tlsrpt = true;
        if (o->tlsrpt.records == 0)
            cat(st, "tlsrpt/absent");
        else if (o->tlsrpt.records > 1)
            cat(st, "tlsrpt/multiple-records");
        else if (!o->tlsrpt.valid)
            cat(st, "tlsrpt/invalid");
        else
            classify_rua(st);
    }
}

static bool media_type_ok(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, "text/plain", 10) != 0)
        return false;
    ct += 10;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* A header value as stored: a string, or {"hex": "..."} when it is not UTF-8 text.
   Returns a malloc'd NUL-terminated copy of its bytes, or NULL when absent or on ENOMEM. */
static char *header_bytes(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    const char *hex = str(v, "hex");
    if (!hex)
        return NULL;
    size_t n = strlen(hex) / 2;
    char *b = malloc(n + 1);
    for (size_t i = 0; b && i < n; i++) {
        int hi = mts_hex_value(hex[2 * i]), lo = mts_hex_value(hex[2 * i + 1]);
        b[i] = (char)(hi < 0 || lo < 0 || (hi == 0 && lo == 0) ? '?' : hi * 16 + lo);
    }
    if (b)
        b[n] = '\0';
    return b;
}

/* The category of a certificate verdict: of the policy host's (Web PKI) or of an MX's.
   A verdict of ok has no MX category (the MX passes). */
static const struct {
    const char *policy_host, *mx;
} cert_categories[MTS_CERT_COUNT + 1] = {
    [MTS_CERT_OK] = {"sts-webpki-invalid/other", NULL},
    [MTS_CERT_EXPIRED] = {"sts-webpki-invalid/expired", "certificate-expired/mx"},
    [MTS_CERT_NOT_YET_VALID] = {"sts-webpki-invalid/other", "validation-failure/certificate-other"},
    [MTS_CERT_NAME_MISMATCH] = {"sts-webpki-invalid/name-mismatch", "certificate-host-mismatch/mx"},
    [MTS_CERT_SELF_SIGNED] = {"sts-webpki-invalid/self-signed",
                              "certificate-not-trusted/self-signed"},
    [MTS_CERT_UNTRUSTED] = {"sts-webpki-invalid/untrusted", "certificate-not-trusted/untrusted"},
    [MTS_CERT_OTHER] = {"sts-webpki-invalid/other", "validation-failure/certificate-other"},
    [MTS_CERT_UNKNOWN] = {"sts-webpki-invalid/other", "validation-failure/certificate-other"},
};

static enum mts_cert_verdict cert_verdict(const json_t *tls)
{
    return mts_cert_verdict_parse(str(tls, "verify"));
}

/* The category of a fetch that did not end ok; NULL for an excluded host (not looked at). */
static const char *fetch_category(enum mts_fetch_result result, const json_t *fetch)
{
    switch (result) {
    case MTS_FETCH_SPECIAL_ADDRESS:
        return "sts-policy-fetch-error/special-address";
    case MTS_FETCH_CONNECT_REFUSED:
        return "sts-policy-fetch-error/connect-refused";
    case MTS_FETCH_CONNECT_TIMEOUT:
        return "sts-policy-fetch-error/connect-timeout";
    case MTS_FETCH_TLS_FAILURE:
        return "sts-policy-fetch-error/tls-failure";
    case MTS_FETCH_TIMEOUT:
        return "sts-policy-fetch-error/timeout";
    case MTS_FETCH_RESET:
        return "sts-policy-fetch-error/reset";
    case MTS_FETCH_HTTP_STATUS:
        return "sts-policy-fetch-error/http-status";
    case MTS_FETCH_REDIRECT:
        return "sts-policy-fetch-error/redirect";
    case MTS_FETCH_TOO_LARGE:
        return "sts-policy-fetch-error/too-large";
    case MTS_FETCH_NO_ADDRESS:
        return "sts-policy-fetch-error/host-unresolvable";
    case MTS_FETCH_DNS_FAILURE:
        return "dns-failure/policy-host";
    case MTS_FETCH_IPV6_DISABLED:
        return "not-probed/policy-host-ipv6";
    case MTS_FETCH_CERT_INVALID:
        return cert_categories[cert_verdict(json_object_get(fetch, "tls"))].policy_host;
    case MTS_FETCH_EXCLUDED:
        return NULL;
    case MTS_FETCH_LOCAL_ERROR:
        return "local-error/policy-fetch";
    case MTS_FETCH_QUEUE_TIMEOUT:
        return "queue-timeout/policy-fetch";
    default:
        return "sts-policy-fetch-error/other";
    }
}

/* postfix-mta-sts-resolver's reading of the fetched body (docs/validation.md, section 6). */
static void read_as_resolver(struct cls *st, bool media_ok, bool utf8, const unsigned char *body,
                             size_t len)
{
    struct mts_profile_result *r = &st->out->profiles[MTS_PROFILE_RESOLVER];
    if (!st->resolver_record_ok || !media_ok)
        return;
    struct mts_resolver_policy p;
    if ((st->rc = mts_resolver_policy_read(&p, body, len, utf8)) == 0 && p.valid) {
        r->policy_used = true;
        r->mode = p.mode;
    }
    mts_resolver_policy_free(&p);
}

static void classify_policy(struct cls *st)
{
    struct mts_classification *o = st->out;
    const json_t *fetch = json_object_get(st->rec, "policy");
    const char *res = str(fetch, "result");
    bool record_seen = o->funnel.has_record == MTS_TRI_YES;
    o->funnel.policy_fetched = o->funnel.valid_policy =
        o->funnel.has_record == MTS_TRI_NO ? MTS_TRI_NO : MTS_TRI_UNKNOWN;
    if (!res)
        return;
    if (!(o->fetch_result = strdup(res))) {
        st->rc = -ENOMEM;
        return;
    }
    enum mts_fetch_result result = mts_fetch_result_parse(res);
    if (result != MTS_FETCH_OK) {
        const char *c = fetch_category(result, fetch);
        if (record_seen && c)
            cat(st, c);
        if (c && mts_category_effect(c) != MTS_EFFECT_UNKNOWN)
            o->funnel.policy_fetched = o->funnel.valid_policy = MTS_TRI_NO;
        return;
    }
    char *ctype = header_bytes(json_object_get(fetch, "content_type"));
    o->media_type_ok = media_type_ok(ctype);
    bool resolver_utf8, resolver_media_ok = mts_resolver_media_type(ctype, &resolver_utf8);
    bool maddy_media_ok = mts_maddy_media_type(ctype);
    free(ctype);
    const char *sha = str(json_object_get(fetch, "body"), "sha256");
    const unsigned char *body = NULL;
    size_t len = 0;
    int rc = sha && st->env->get_policy ? st->env->get_policy(st->env->ctx, sha, &body, &len)
                                        : MTS_CLASSIFY_NO_BODY;
    if (rc == MTS_CLASSIFY_NO_BODY || rc == MTS_CLASSIFY_BAD_BODY) {
        char why[160];
        snprintf(why, sizeof why, "policy body %s %s", sha ? sha : "(none named)",
                 rc == MTS_CLASSIFY_NO_BODY ? "is in no store" : "does not match its SHA-256");
        analysis_error(st,
                       rc == MTS_CLASSIFY_NO_BODY ? "analysis-error/body-missing"
                                                  : "analysis-error/body-damaged",
                       why);
        return;
    }
    if (rc) {
        st->rc = rc;
        return;
    }
    if ((st->rc = mts_policy_parse(&o->policy, body, len)) != 0)
        return;
    o->has_policy = true;
    read_as_resolver(st, resolver_media_ok, resolver_utf8, body, len);
    if (st->rc)
        return;
    struct mts_profile_result *maddy = &o->profiles[MTS_PROFILE_MADDY];
    maddy->policy_used =
        st->maddy_record_ok && maddy_media_ok && mts_maddy_policy_read(body, len, &maddy->mode);
    bool policy_only = o->funnel.has_record == MTS_TRI_NO && o->policy.version &&
                       strcmp(o->policy.version, "STSv1") == 0;
    if (!record_seen && !policy_only)
        return;
    if (policy_only)
        cat(st, "sts-policy-only/no-txt-record");
    if (!o->media_type_ok)
        cat(st, "sts-policy-fetch-error/media-type");
    cat_errors(st, &o->policy.findings);
    o->funnel.policy_fetched = o->media_type_ok ? MTS_TRI_YES : MTS_TRI_NO;
    o->funnel.valid_policy = o->policy.valid ? MTS_TRI_YES : MTS_TRI_NO;
    bool fetched = o->record.valid; /* a sender only fetches after a valid record */
    o->strict.policy_used = fetched && o->media_type_ok && o->policy.valid;
    /* MX findings only matter under a policy a sender actually uses. */
    st->intends_mx = o->strict.policy_used &&
                     (o->policy.mode == MTS_MODE_ENFORCE || o->policy.mode == MTS_MODE_TESTING);
    o->strict.mode = o->strict.policy_used ? o->policy.mode : MTS_MODE_ABSENT;
    if (o->strict.policy_used) {
        if (o->policy.max_age < 86400)
            cat(st, "weak/max-age-below-day");
        if (o->policy.mode == MTS_MODE_ENFORCE && o->policy.max_age < 604800)
            cat(st, "weak/max-age-below-week-enforce");
        if (o->policy.mode == MTS_MODE_TESTING)
            cat(st, "weak/mode-testing");
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Judge one probed address; returns its outcome and sets *refuses. */
static const char *probe_outcome(struct cls *st, const json_t *probe, struct mts_mx_addr *a,
                                 bool *refuses)
{
    *refuses = false;
    const char *res = str(probe, "result");
    const json_t *tls = json_object_get(probe, "tls");
    if (json_integer_value(json_object_get(probe, "injection")) > 0)
        cat(st, "mx-info/starttls-injection");
    const char *ver = str(tls, "version");
    if (ver && !(a->tls_version = strdup(ver)))
        st->rc = -ENOMEM;
    const char *issuer = str(json_object_get(tls, "leaf"), "issuer");
    if (issuer && !(a->issuer = strdup(issuer)))
        st->rc = -ENOMEM;
    if (!res)
        return "no-probe";
    enum mts_smtp_result result = mts_smtp_result_parse(res);
    if (result == MTS_SMTP_OK) {
        /* No certificate can name a host whose name is not a host name. */
        bool hostname = !json_is_false(json_object_get(probe, "hostname"));
        enum mts_tls_version version = mts_tls_version_parse(ver);
        if ((version == MTS_TLS_SSLV3 || version == MTS_TLS_V1 || version == MTS_TLS_V1_1) &&
            st->intends_mx)
            cat(st, "weak/tls-below-1.2");
        enum mts_cert_verdict v = hostname ? cert_verdict(tls) : MTS_CERT_NAME_MISMATCH;
        *refuses = v != MTS_CERT_OK;
        return *refuses ? cert_categories[v].mx : "pass";
    }
    *refuses = true;
    switch (result) {
    case MTS_SMTP_NO_STARTTLS:
        return "starttls-not-supported/not-offered";
    case MTS_SMTP_STARTTLS_REJECTED:
        return "starttls-not-supported/rejected";
    case MTS_SMTP_HANDSHAKE_FAILED:
        return "validation-failure/tls-handshake";
    default:
        break;
    }
    *refuses = false;
    switch (result) {
    case MTS_SMTP_LOCAL_ERROR:
        return "local-error/mx-probe";
    case MTS_SMTP_QUEUE_TIMEOUT:
        return "queue-timeout/mx-probe";
    case MTS_SMTP_CONNECT_REFUSED:
    case MTS_SMTP_CONNECT_TIMEOUT:
        return "mx-info/unreachable";
    default:
        return "mx-info/smtp-error";
    }
}

static void classify_host(struct cls *st, const json_t *h, struct mts_mx_result *m)
{
    struct mts_classification *o = st->out;
    const char *host = str(h, "host");
    m->pref = (long)json_integer_value(json_object_get(h, "pref"));
    m->implicit = json_is_true(json_object_get(h, "implicit"));
    m->pattern = -1;
    m->status = MTS_MX_UNKNOWN;
    if (!(m->host = strdup(host ? host : ""))) {
        st->rc = -ENOMEM;
        return;
    }
    if (dns_failed(dns_result(json_object_get(h, "a"))) ||
        dns_failed(dns_result(json_object_get(h, "aaaa"))))
        cat(st, "dns-failure/mx-address");
    m->covered = MTS_TRI_UNKNOWN;
    if (o->has_policy) {
        m->pattern = mts_mx_match_any(m->host, o->policy.mx, o->policy.n_mx);
        m->covered = m->pattern >= 0 ? MTS_TRI_YES : MTS_TRI_NO;
    }
    const json_t *probes = json_object_get(h, "probes"), *p;
    size_t i;
    m->addrs = calloc(json_array_size(probes) + 1, sizeof *m->addrs);
    if (!m->addrs) {
        st->rc = -ENOMEM;
        return;
    }
    bool pass = false;
    const char *refusal = NULL;
    size_t v6_skipped = 0;
    json_array_foreach(probes, i, p)
    {
        struct mts_mx_addr *a = &m->addrs[m->n_addrs++];
        const char *addr = str(p, "addr"), *skip = str(p, "skip");
        if (!(a->addr = strdup(addr ? addr : ""))) {
            st->rc = -ENOMEM;
            return;
        }
        enum mts_skip why = mts_skip_parse(skip);
        if (why == MTS_SKIP_NAME_TOO_LONG || why == MTS_SKIP_PROBE_REFUSED) {
            a->outcome = "not-probed/mx-name"; /* the scanner could not look */
            if (st->intends_mx)
                cat(st, a->outcome);
            continue;
        }
        if (skip) {
            a->outcome = "skipped";
            v6_skipped += why == MTS_SKIP_IPV6_DISABLED;
            continue;
        }
        json_t *probe =
            st->env->get_probe ? st->env->get_probe(st->env->ctx, m->host, a->addr) : NULL;
        bool refuses = false;
        a->outcome = probe ? probe_outcome(st, probe, a, &refuses) : "no-probe";
        json_decref(probe);
        if (strcmp(a->outcome, "pass") == 0)
            pass = true;
        if (refuses && !refusal)
            refusal = a->outcome;
        /* The mx-info categories describe the MX whatever the policy; the rest only count
           under a policy in effect. */
        if (strchr(a->outcome, '/') && (st->intends_mx || starts(a->outcome, "mx-info/")))
            cat(st, a->outcome);
    }
    /* Only IPv6 addresses, and the scan did not use IPv6: the host was not judged. */
    if (v6_skipped && v6_skipped == m->n_addrs && st->intends_mx)
        cat(st, "not-probed/mx-ipv6");
    if (m->covered == MTS_TRI_NO) {
        m->status = MTS_MX_REFUSED;
        m->reason = "validation-failure/mx-not-covered";
        if (st->intends_mx)
            cat(st, m->reason);
    } else if (pass) {
        m->status = MTS_MX_PASS;
    } else if (refusal) {
        m->status = MTS_MX_REFUSED;
        m->reason = refusal;
    }
}

static void classify_mx(struct cls *st)
{
    struct mts_classification *o = st->out;
    const json_t *obs = dns(st, "mx");
    enum mts_dns_result res = dns_result(obs);
    o->funnel.resolvable = o->funnel.has_mx = MTS_TRI_UNKNOWN;
    if (dns_failed(res)) {
        cat(st, "dns-failure/mx");
    } else if (res == MTS_DNS_RESULT_NXDOMAIN) {
        o->funnel.resolvable = o->funnel.has_mx = MTS_TRI_NO;
    } else if (res == MTS_DNS_RESULT_NODATA) {
        o->funnel.resolvable = MTS_TRI_YES;
        o->funnel.has_mx = MTS_TRI_NO;
        cat(st, "mx-info/implicit-mx");
    } else if (res == MTS_DNS_RESULT_ANSWER) {
        o->funnel.resolvable = MTS_TRI_YES;
        o->funnel.has_mx = MTS_TRI_YES;
        const json_t *rr;
        size_t i;
        json_array_foreach(json_object_get(obs, "answer"), i, rr)
        {
            const char *type = str(rr, "type"), *host = str(rr, "host");
            if (type && strcmp(type, "MX") == 0 && host && strcmp(host, ".") == 0) {
                cat(st, "mx-info/null-mx");
                o->funnel.has_mx = MTS_TRI_NO;
                st->null_mx = true;
            }
        }
    }

    const json_t *hosts = json_object_get(st->rec, "mx"), *h;
    size_t i;
    o->mx = calloc(json_array_size(hosts) + 1, sizeof *o->mx);
    if (!o->mx) {
        st->rc = -ENOMEM;
        return;
    }
    json_array_foreach(hosts, i, h)
    {
        classify_host(st, h, &o->mx[o->n_mx++]);
        if (st->rc)
            return;
    }
    if (o->has_policy && st->intends_mx && o->n_mx)
        for (size_t p = 0; p < o->policy.n_mx; p++) {
            bool used = false;
            for (size_t k = 0; k < o->n_mx && !used; k++)
                used = mts_mx_match(o->mx[k].host, o->policy.mx[p]);
            if (!used)
                cat(st, "mx-info/pattern-unused");
        }
}

/* Whether no sender can deliver to an MX host: every address was probed and ended before
   TLS (refused, timed out, no or a failing banner, reset). Such a host neither passes nor
   refuses: senders move on to the next MX (docs/vocabulary.md). */
static bool mx_mail_less(const struct mts_mx_result *m)
{
    for (size_t i = 0; i < m->n_addrs; i++) {
        const char *out = m->addrs[i].outcome;
        if (strcmp(out, "mx-info/unreachable") != 0 && strcmp(out, "mx-info/smtp-error") != 0)
            return false;
    }
    return m->n_addrs > 0;
}

/* Whether an indeterminate observation leaves open if MTA-STS works for the domain: a
   TLS-RPT failure never does, and MX-side failures only matter once a record exists. */
static bool hides_deployment(const struct mts_classification *o, const char *category)
{
    if (strcmp(category, "dns-failure/tlsrpt") == 0)
        return false;
    if (strcmp(category, "dns-failure/mx") == 0 || strcmp(category, "dns-failure/mx-address") == 0)
        return o->funnel.has_record != MTS_TRI_NO;
    return true;
}

/* The mode a profile applies to what it read (its testing rule). */
static enum mts_mode seen_as(const struct mts_sender_profile *p, enum mts_mode mode)
{
    if (mode != MTS_MODE_TESTING)
        return mode;
    return p->testing == MTS_TESTING_ENFORCE   ? MTS_MODE_ENFORCE
           : p->testing == MTS_TESTING_IGNORED ? MTS_MODE_ABSENT
                                               : MTS_MODE_TESTING;
}

/* Every profile's reading: the RFC profile is the strict reading, the resolver's strict
   testing variant reads as the resolver does, and senders without MTA-STS read nothing. */
static void apply_profiles(struct mts_classification *o, bool all_refused)
{
    o->profiles[MTS_PROFILE_RFC8461] = o->strict;
    o->profiles[MTS_PROFILE_RESOLVER_STRICT_TESTING] = o->profiles[MTS_PROFILE_RESOLVER];
    o->profiles[MTS_PROFILE_NO_MTA_STS] = (struct mts_profile_result){0};
    o->profiles[MTS_PROFILE_NO_MTA_STS].mode = MTS_MODE_ABSENT;
    for (size_t i = 0; i < MTS_N_PROFILES; i++) {
        struct mts_profile_result *r = &o->profiles[i];
        if (!r->policy_used)
            r->mode = MTS_MODE_ABSENT;
        r->seen_as = seen_as(&mts_sender_profiles[i], r->mode);
        r->would_bounce = r->seen_as == MTS_MODE_ENFORCE && all_refused;
    }
    o->strict = o->profiles[MTS_PROFILE_RFC8461];
}

static void finish(struct cls *st)
{
    struct mts_classification *o = st->out;
    struct mts_funnel *f = &o->funnel;
    size_t pass = 0, refused = 0, not_covered = 0, tls_refused = 0, mail_less = 0;
    for (size_t i = 0; i < o->n_mx; i++) {
        pass += o->mx[i].status == MTS_MX_PASS;
        mail_less += o->mx[i].status == MTS_MX_UNKNOWN && mx_mail_less(&o->mx[i]);
        refused += o->mx[i].status == MTS_MX_REFUSED;
        not_covered += o->mx[i].covered == MTS_TRI_NO;
        tls_refused += o->mx[i].status == MTS_MX_REFUSED && o->mx[i].covered != MTS_TRI_NO;
    }
    bool all_refused = o->n_mx > 0 && refused == o->n_mx;
    apply_profiles(o, all_refused);
    o->would_bounce = o->strict.would_bounce;

    if (!o->has_policy || f->has_mx == MTS_TRI_NO)
        f->mx_covered =
            f->valid_policy == MTS_TRI_NO || f->has_mx == MTS_TRI_NO ? MTS_TRI_NO : MTS_TRI_UNKNOWN;
    else
        f->mx_covered = not_covered ? MTS_TRI_NO : o->n_mx ? MTS_TRI_YES : MTS_TRI_UNKNOWN;
    /* The verdict's rule: one MX passes and every other is mail-less (senders move on). */
    if (f->has_mx == MTS_TRI_NO || tls_refused)
        f->mx_tls_valid = MTS_TRI_NO;
    else
        f->mx_tls_valid = pass && pass + mail_less == o->n_mx ? MTS_TRI_YES : MTS_TRI_UNKNOWN;
    if (o->strict.policy_used && o->strict.mode == MTS_MODE_ENFORCE &&
        f->mx_covered == MTS_TRI_YES && f->mx_tls_valid == MTS_TRI_YES)
        f->enforce_working = MTS_TRI_YES;
    else if (f->valid_policy == MTS_TRI_NO || f->policy_fetched == MTS_TRI_NO ||
             f->valid_record == MTS_TRI_NO || f->mx_covered == MTS_TRI_NO ||
             f->mx_tls_valid == MTS_TRI_NO ||
             (o->strict.policy_used && o->strict.mode != MTS_MODE_ENFORCE))
        f->enforce_working = MTS_TRI_NO;
    else
        f->enforce_working = MTS_TRI_UNKNOWN;

    /* Sorted, unique categories. */
    if (o->n_categories)
        qsort(o->categories, o->n_categories, sizeof *o->categories, cmp_str);
    size_t n = 0;
    for (size_t i = 0; i < o->n_categories; i++)
        if (n == 0 || strcmp(o->categories[n - 1], o->categories[i]) != 0)
            o->categories[n++] = o->categories[i];
    o->n_categories = n;

    bool broken = false, unknown = false;
    for (size_t i = 0; i < n; i++) {
        enum mts_effect e = mts_category_effect(o->categories[i]);
        broken |= e == MTS_EFFECT_OFF || e == MTS_EFFECT_BOUNCE;
        unknown |= e == MTS_EFFECT_UNKNOWN && hides_deployment(o, o->categories[i]);
    }
    if (o->analysis_error) /* part of the record was not read: nothing is certain */
        o->verdict = "indeterminate";
    else if (broken)
        o->verdict = "misconfigured";
    else if (unknown)
        o->verdict = "indeterminate";
    else if (f->has_record == MTS_TRI_NO)
        o->verdict = "no-mta-sts";
    else if (st->null_mx)
        o->verdict = "no-mail";
    else if (o->strict.policy_used && o->strict.mode == MTS_MODE_ENFORCE)
        /* A mail-less MX says nothing against the policy, nor for it; one never probed
           leaves the outcome open. */
        o->verdict =
            pass && !refused && pass + mail_less == o->n_mx ? "valid-enforce" : "indeterminate";
    else if (o->strict.policy_used && o->strict.mode == MTS_MODE_TESTING)
        o->verdict = "valid-testing";
    else if (o->strict.policy_used && o->strict.mode == MTS_MODE_NONE)
        o->verdict = "valid-none";
    else
        o->verdict = "indeterminate";
}

/* A record not read at all: its one category, every funnel stage unknown. */
static void unread(struct cls *st, const char *category, const char *why)
{
    struct mts_funnel *f = &st->out->funnel;
    f->resolvable = f->has_mx = f->has_record = f->valid_record = f->policy_fetched =
        f->valid_policy = f->mx_covered = f->mx_tls_valid = f->enforce_working = MTS_TRI_UNKNOWN;
    analysis_error(st, category, why);
}

/* Whether s is bytes written as hex digits (an even number of them). */
static bool is_hex(const char *s)
{
    size_t n = 0;
    while (s[n] && mts_hex_value(s[n]) >= 0)
        n++;
    return s[n] == '\0' && n % 2 == 0;
}

static bool wrong_type(const json_t *v, json_type type)
{
    return v && json_typeof(v) != type;
}

/* The first field of a DNS observation of the wrong type (a suffix of its path), or NULL. */
static const char *bad_dnsobs(const json_t *obs)
{
    const json_t *rr, *s;
    size_t i, k;
    if (wrong_type(obs, JSON_OBJECT))
        return "";
    if (wrong_type(json_object_get(obs, "result"), JSON_STRING))
        return ".result";
    if (wrong_type(json_object_get(obs, "answer"), JSON_ARRAY))
        return ".answer";
    json_array_foreach(json_object_get(obs, "answer"), i, rr)
    {
        if (!json_is_object(rr))
            return ".answer[]";
        if (wrong_type(json_object_get(rr, "type"), JSON_STRING))
            return ".answer[].type";
        if (wrong_type(json_object_get(rr, "host"), JSON_STRING))
            return ".answer[].host";
        if (wrong_type(json_object_get(rr, "target"), JSON_STRING))
            return ".answer[].target";
        if (wrong_type(json_object_get(rr, "txt"), JSON_ARRAY))
            return ".answer[].txt";
        json_array_foreach(json_object_get(rr, "txt"), k, s)
        {
            if (!json_is_string(s) && !json_is_string(json_object_get(s, "hex")))
                return ".answer[].txt[]";
            if (!json_is_string(s) && !is_hex(str(s, "hex")))
                return ".answer[].txt[].hex";
        }
    }
    return NULL;
}

/* The first field of an MX host entry of the wrong type (a suffix of its path), or NULL. */
static const char *bad_host(const json_t *h, char *buf, size_t cap)
{
    static const char *const queries[] = {"a", "aaaa"};
    const json_t *p;
    const char *dns;
    size_t i;
    if (!json_is_object(h))
        return "";
    if (!json_is_string(json_object_get(h, "host")))
        return ".host";
    if (wrong_type(json_object_get(h, "pref"), JSON_INTEGER))
        return ".pref";
    for (i = 0; i < sizeof queries / sizeof queries[0]; i++)
        if ((dns = bad_dnsobs(json_object_get(h, queries[i]))) != NULL) {
            snprintf(buf, cap, ".%s%s", queries[i], dns);
            return buf;
        }
    if (wrong_type(json_object_get(h, "probes"), JSON_ARRAY))
        return ".probes";
    json_array_foreach(json_object_get(h, "probes"), i, p)
    {
        if (!json_is_object(p) || !json_is_string(json_object_get(p, "addr")))
            return ".probes[].addr";
    }
    return NULL;
}

/* Whether a header value present is neither a string nor {"hex": bytes as hex digits}. */
static bool bad_header(const json_t *v)
{
    const char *hex = str(v, "hex");
    return v && !json_is_string(v) && (!hex || !is_hex(hex));
}

/* The first field of the policy fetch observation of the wrong type, or NULL. */
static const char *bad_fetch(const json_t *f)
{
    const json_t *body = json_object_get(f, "body");
    if (wrong_type(f, JSON_OBJECT))
        return "policy";
    if (wrong_type(json_object_get(f, "result"), JSON_STRING))
        return "policy.result";
    if (bad_header(json_object_get(f, "content_type")))
        return "policy.content_type";
    if (bad_header(json_object_get(f, "location")))
        return "policy.location";
    if (wrong_type(body, JSON_OBJECT))
        return "policy.body";
    if (wrong_type(json_object_get(body, "sha256"), JSON_STRING))
        return "policy.body.sha256";
    return NULL;
}

/*
 * The first field the classifier reads whose JSON type is wrong, written into buf as a
 * path ("dns.sts.answer[].txt"); NULL when every field present has its type (absent
 * observations are normal: the scan did not make them).
 */
static const char *bad_field(const json_t *rec, char *buf, size_t cap)
{
    static const char *const queries[] = {"sts", "tlsrpt", "mx"};
    const json_t *dns = json_object_get(rec, "dns"), *h;
    const char *bad;
    size_t i;
    if (!json_is_string(json_object_get(rec, "domain")))
        return "domain";
    if (wrong_type(dns, JSON_OBJECT))
        return "dns";
    for (i = 0; i < sizeof queries / sizeof queries[0]; i++)
        if ((bad = bad_dnsobs(json_object_get(dns, queries[i]))) != NULL) {
            snprintf(buf, cap, "dns.%s%s", queries[i], bad);
            return buf;
        }
    if (wrong_type(json_object_get(rec, "mx"), JSON_ARRAY))
        return "mx";
    json_array_foreach(json_object_get(rec, "mx"), i, h)
    {
        char sub[64];
        if ((bad = bad_host(h, sub, sizeof sub)) != NULL) {
            snprintf(buf, cap, "mx[%zu]%s", i, bad);
            return buf;
        }
    }
    return bad_fetch(json_object_get(rec, "policy"));
}

/*
 * A record of another version, or with a field of the wrong type: classified as its
 * analysis-error alone, since none of it can be trusted to mean what this code reads.
 */
static bool record_unreadable(struct cls *st)
{
    char why[160], path[128];
    const json_t *v = json_object_get(st->rec, "v");
    const char *bad;
    if (!json_is_integer(v)) {
        unread(st, "analysis-error/bad-field",
               "field \"v\" (the record version) is not an integer");
        return true;
    }
    if (json_integer_value(v) != 1) {
        snprintf(why, sizeof why, "record version %lld; this analysis reads version 1",
                 (long long)json_integer_value(v));
        unread(st, "analysis-error/unknown-version", why);
        return true;
    }
    if ((bad = bad_field(st->rec, path, sizeof path)) == NULL)
        return false;
    snprintf(why, sizeof why, "field \"%s\" has the wrong type", bad);
    unread(st, "analysis-error/bad-field", why);
    return true;
}

int mts_classify(struct mts_classification *out, const json_t *record,
                 const struct mts_classify_env *env)
{
    memset(out, 0, sizeof *out);
    out->verdict = "indeterminate";
    if (!json_is_object(record))
        return -EINVAL;
    const char *domain = str(record, "domain");
    if (!(out->domain = strdup(domain ? domain : "")))
        return -ENOMEM;
    struct cls st = {.out = out, .env = env, .rec = record};
    if (record_unreadable(&st))
        return st.rc;
    classify_txt(&st);
    if (!st.rc)
        classify_tlsrpt(&st);
    if (!st.rc)
        classify_policy(&st);
    if (!st.rc)
        classify_mx(&st);
    if (!st.rc)
        finish(&st);
    return st.rc;
}

int mts_classify_undecodable(struct mts_classification *out, const char *domain, const char *why)
{
    memset(out, 0, sizeof *out);
    out->verdict = "indeterminate";
    struct cls st = {.out = out};
    if (!(out->domain = strdup(domain)))
        return -ENOMEM;
    unread(&st, "analysis-error/undecodable", why);
    return st.rc;
}

void mts_classification_free(struct mts_classification *c)
{
    free(c->domain);
    free(c->analysis_error);
    free(c->categories);
    free(c->fetch_result);
    mts_sts_record_free(&c->record);
    mts_policy_free(&c->policy);
    mts_tlsrpt_free(&c->tlsrpt);
    for (size_t i = 0; i < c->n_mx; i++) {
        for (size_t k = 0; k < c->mx[i].n_addrs; k++) {
            free(c->mx[i].addrs[k].addr);
            free(c->mx[i].addrs[k].tls_version);
            free(c->mx[i].addrs[k].issuer);
        }
        free(c->mx[i].addrs);
        free(c->mx[i].host);
    }
    free(c->mx);
    memset(c, 0, sizeof *c);
}
