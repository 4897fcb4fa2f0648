/*
 * Why: a TLS-RPT record is how a domain hears that MTA-STS is failing; one that senders
 * cannot read silently removes that feedback. Report generators have crashed on a bare
 * "rua=postmaster@example.com", so URIs are checked for their scheme and for characters
 * that RFC 8460 requires to be percent-encoded, not just split on commas.
 */
#include "mts_tlsrpt.h"
#include "taglist.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TLSRPT_VERSION "v=TLSRPTv1"

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * RFC 3986 characters minus the ones RFC 8460 §3 wants encoded inside a URI ("," and
 * "!", and ";" which ends the field anyway): unreserved, the remaining sub-delims,
 * gen-delims, and "%" HEXDIG HEXDIG. Returns NULL or why not.
 */
static const char *uri_chars(const char *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (c == '%') {
            if (i + 2 >= n || !is_hex(u[i + 1]) || !is_hex(u[i + 2]))
                return "a \"%\" not followed by two hex digits";
            i += 2;
            continue;
        }
        if (c == ',' || c == '!')
            return "\",\" and \"!\" inside a URI must be percent-encoded";
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-._~$&'()*+=:/?#[]@", c)))
            return "a character that is not allowed in a URI";
    }
    return NULL;
}

static int check_uri(struct mts_tlsrpt *out, const char *u, size_t n)
{
    const char *why = uri_chars(u, n);
    if (why)
        return mts_findings_add(&out->findings, "tlsrpt-invalid/bad-uri", MTS_SEV_ERROR, 0, "%s",
                                why);
    if (n > 7 && strncasecmp(u, "mailto:", 7) == 0) {
        const char *at = memchr(u + 7, '@', n - 7);
        if (!at || at == u + 7 || at == u + n - 1)
            return mts_findings_add(&out->findings, "tlsrpt-invalid/bad-uri", MTS_SEV_ERROR, 0,
                                    "a mailto: URI needs local-part@domain");
        return 0;
    }
    if (n > 8 && strncasecmp(u, "https://", 8) == 0) {
        if (u[8] == '/' || u[8] == '?' || u[8] == '#')
            return mts_findings_add(&out->findings, "tlsrpt-invalid/bad-uri", MTS_SEV_ERROR, 0,
                                    "an https: URI needs a host");
        return 0;
    }
    return mts_findings_add(&out->findings, "tlsrpt-invalid/bad-scheme", MTS_SEV_ERROR, 0,
                            "each rua URI must start with mailto: or https://");
}

/* Largest size limit kept: 2^53 bytes, exact in every JSON reader. */
#define SIZE_LIMIT_MAX (UINT64_C(1) << 53)

/*
 * A DMARC-style size limit (RFC 7489 §6.4: "!" 1*DIGIT ["k" / "m" / "g" / "t"], powers of
 * 1024) in s[0..n), which starts with "!". Returns the limit in bytes, or -1 if s is not one.
 */
static int64_t size_suffix(const char *s, size_t n)
{
    size_t i = 1;
    uint64_t v = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > SIZE_LIMIT_MAX)
            return -1;
    }
    if (i == 1)
        return -1;
    if (i + 1 == n) {
        const char *unit = strchr("kmgt", s[i] | 0x20);
        if (!unit)
            return -1;
        for (int k = 0; k <= unit - "kmgt"; k++) {
            v <<= 10;
            if (v > SIZE_LIMIT_MAX)
                return -1;
        }
    } else if (i != n) {
        return -1;
    }
    return (int64_t)v;
}

/*
 * The URI of u[0..n) without a size suffix goes into out->rua, the limit (or -1) into
 * out->rua_size_limit; *uri_len is the length of the URI part.
 */
static int take_uri(struct mts_tlsrpt *out, const char *u, size_t n, size_t *uri_len)
{
    const char *bang = memchr(u, '!', n);
    int64_t limit = -1;
    *uri_len = n;
    if (bang && (limit = size_suffix(bang, n - (size_t)(bang - u))) >= 0)
        *uri_len = (size_t)(bang - u);
    char **rua = realloc(out->rua, (out->n_rua + 1) * sizeof *rua);
    if (!rua)
        return -ENOMEM;
    out->rua = rua;
    int64_t *lim = realloc(out->rua_size_limit, (out->n_rua + 1) * sizeof *lim);
    if (!lim)
        return -ENOMEM;
    out->rua_size_limit = lim;
    if (!(out->rua[out->n_rua] = strndup(u, *uri_len)))
        return -ENOMEM;
    out->rua_size_limit[out->n_rua++] = limit;
    return 0;
}

/* rua = URI *(*WSP "," *WSP URI) */
static int parse_rua(struct mts_tlsrpt *out, const char *v, size_t n)
{
    size_t p = 0;
    for (;;) {
        size_t q = p;
        while (q < n && v[q] != ',' && !is_wsp(v[q]))
            q++;
        if (q == p)
            return mts_findings_add(&out->findings, "tlsrpt-invalid/bad-uri", MTS_SEV_ERROR, 0,
                                    "an empty URI in rua");
        size_t uri_len;
        int rc = take_uri(out, v + p, q - p, &uri_len);
        if (!rc)
            rc = check_uri(out, v + p, uri_len);
        if (!rc && uri_len < q - p)
            rc = mts_findings_add(
                &out->findings, "tlsrpt-warning/size-suffix", MTS_SEV_WARNING, 0,
                "%.*s: a DMARC-style size limit (%lld bytes); RFC 8460 §3 defines none and wants "
                "\"!\" percent-encoded, so a strict report generator may not use this URI",
                (int)uri_len, v + p, (long long)out->rua_size_limit[out->n_rua - 1]);
        if (rc)
            return rc;
        while (q < n && is_wsp(v[q]))
            q++;
        if (q == n)
            return 0;
        if (v[q] != ',')
            return mts_findings_add(&out->findings, "tlsrpt-invalid/bad-uri", MTS_SEV_ERROR, 0,
                                    "URIs in rua must be separated by \",\"");
        q++;
        while (q < n && is_wsp(v[q]))
            q++;
        p = q;
    }
}

static const struct mts_taglist_codes tlsrpt_codes = {
    .version = TLSRPT_VERSION,
    .non_ascii = "tlsrpt-invalid/non-ascii",
    .no_fields = "tlsrpt-invalid/missing-rua",
    .syntax = "tlsrpt-invalid/syntax",
};

static int judge(struct mts_tlsrpt *out, const char *text, size_t len)
{
    struct mts_tag tags[MTS_TAGLIST_MAX];
    size_t ntags;
    int rc = mts_taglist_judge(text, len, &tlsrpt_codes, &out->findings, tags, &ntags);
    bool seen_rua = false;
    for (size_t i = 0; i < ntags && rc == 0; i++) {
        const struct mts_tag *t = &tags[i];
        if (mts_tag_is(t, "rua")) {
            if (seen_rua)
                rc = mts_findings_add(&out->findings, "tlsrpt-warning/duplicate-field",
                                      MTS_SEV_WARNING, 0, "repeated rua: the first one is used");
            else
                rc = parse_rua(out, t->value, t->value_len);
            seen_rua = true;
        } else {
            rc = mts_taglist_judge_ext(t, &tlsrpt_codes, &out->findings);
        }
    }
    if (rc == 0 && !seen_rua && !mts_findings_has_error(&out->findings))
        rc = mts_findings_add(&out->findings, "tlsrpt-invalid/missing-rua", MTS_SEV_ERROR, 0,
                              "no rua field");
    return rc;
}

int mts_tlsrpt_parse(struct mts_tlsrpt *out, const struct mts_txt_record *records, size_t n)
{
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    int rc = mts_txt_select(records, n, TLSRPT_VERSION, &out->records, &text, &len);
    if (rc)
        return rc;
    if (out->records > 1)
        return mts_findings_add(&out->findings, "tlsrpt-invalid/multiple-records", MTS_SEV_ERROR, 0,
                                "%zu records begin with v=TLSRPTv1", out->records);
    if (out->records == 0)
        return 0;
    rc = judge(out, text, len);
    free(text);
    out->valid = rc == 0 && !mts_findings_has_error(&out->findings);
    return rc;
}

int mts_tlsrpt_parse_text(struct mts_tlsrpt *out, const char *text, size_t len)
{
    struct mts_txt_string s = {(const unsigned char *)text, len};
    struct mts_txt_record r = {&s, 1};
    return mts_tlsrpt_parse(out, &r, 1);
}

json_t *mts_tlsrpt_json(const struct mts_tlsrpt *rpt)
{
    json_t *o = json_object(), *rua = json_array(), *limits = json_array();
    int rc = !o || !rua || !limits;
    bool any_limit = false;
    for (size_t i = 0; !rc && i < rpt->n_rua; i++) {
        int64_t lim = rpt->rua_size_limit[i];
        any_limit |= lim >= 0;
        rc |= json_array_append_new(rua, json_string(rpt->rua[i]));
        rc |= json_array_append_new(limits, lim >= 0 ? json_integer(lim) : json_null());
    }
    if (!rc) {
        rc |= json_object_set_new(o, "records", json_integer((json_int_t)rpt->records));
        rc |= json_object_set_new(o, "valid", json_boolean(rpt->valid));
        rc |= json_object_set(o, "rua", rua);
        if (any_limit)
            rc |= json_object_set(o, "rua_size_limit", limits);
        rc |= json_object_set_new(o, "findings", mts_findings_json(&rpt->findings));
    }
    json_decref(rua);
    json_decref(limits);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void mts_tlsrpt_free(struct mts_tlsrpt *rpt)
{
    for (size_t i = 0; i < rpt->n_rua; i++)
        free(rpt->rua[i]);
    free(rpt->rua);
    free(rpt->rua_size_limit);
    mts_findings_free(&rpt->findings);
    memset(rpt, 0, sizeof *rpt);
}
