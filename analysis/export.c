/*
 * Why a second export beside output/'s raw one: the raw export repeats what the scanner
 * saw; this one puts each observation beside what the analysis concluded from it (record
 * verdict and id, fetch outcome and certificate verdict, parsed policy, per-address MX
 * outcome and coverage, categories and verdict), which is what notebooks and other tools
 * want. The CSV is a flat subset: one row per domain, lists joined with spaces, every text
 * cell that a spreadsheet could run as a formula neutralised.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "mts_vocab.h"

static json_t *get(const json_t *o, const char *key)
{
    return json_object_get(o, key);
}

/* Set key to a copy of src[skey] when present. */
static void copy(json_t *dst, const char *key, const json_t *src, const char *skey)
{
    json_t *v = json_object_get(src, skey);
    if (v)
        json_object_set(dst, key, v);
}

/* The TXT records of the answer, each one's character-strings concatenated. */
static json_t *txt_records(const json_t *dnsobs)
{
    json_t *arr = json_array();
    size_t i, k;
    json_t *rr, *s;
    json_array_foreach(get(dnsobs, "answer"), i, rr)
    {
        if (!json_is_array(get(rr, "txt")))
            continue;
        size_t len = 1;
        json_array_foreach(get(rr, "txt"), k, s)
        {
            len += json_string_length(s);
        }
        char *buf = calloc(1, len);
        if (!buf)
            continue;
        json_array_foreach(get(rr, "txt"), k, s)
        {
            if (json_is_string(s))
                strcat(buf, json_string_value(s));
        }
        json_array_append_new(arr, json_string(buf));
        free(buf);
    }
    return arr;
}

static const char *record_verdict(const json_t *dnsobs, const json_t *rec)
{
    const char *res = json_string_value(get(dnsobs, "result"));
    if (!res)
        return "not-observed";
    switch (mts_dns_result_parse(res)) {
    case MTS_DNS_RESULT_SERVFAIL:
    case MTS_DNS_RESULT_TIMEOUT:
    case MTS_DNS_RESULT_ERROR:
    case MTS_DNS_RESULT_REFUSED:
        return "indeterminate";
    default:
        break;
    }
    if (!rec || json_integer_value(get(rec, "records")) == 0)
        return "absent";
    if (json_integer_value(get(rec, "records")) > 1)
        return "multiple";
    return json_is_true(get(rec, "valid")) ? "valid" : "invalid";
}

json_t *mts_export_domain(const char *scan, const char *domain, const json_t *raw,
                          const json_t *cls)
{
    const json_t *dns = get(raw, "dns"), *rec = get(cls, "record");
    json_t *o = json_pack("{s:s, s:s, s:s}", "domain", domain, "scan", scan, "verdict",
                          json_string_value(get(cls, "verdict")));
    if (!o)
        return NULL;
    json_t *txt =
        json_pack("{s:s, s:o, s:s}", "result",
                  json_string_value(get(get(dns, "sts"), "result")) ?: "not-observed", "records",
                  txt_records(get(dns, "sts")), "verdict", record_verdict(get(dns, "sts"), rec));
    if (txt && rec) {
        copy(txt, "id", rec, "id");
        copy(txt, "findings", rec, "findings");
    }
    json_object_set_new(o, "txt", txt);

    const json_t *fetch = get(raw, "policy");
    if (fetch) {
        json_t *f = json_object();
        const char *res = json_string_value(get(fetch, "result"));
        copy(f, "result", fetch, "result");
        copy(f, "url", fetch, "url");
        copy(f, "status", fetch, "http_status");
        copy(f, "media_type", fetch, "content_type");
        copy(f, "content_encoding", fetch, "content_encoding");
        copy(f, "media_type_ok", get(cls, "fetch"), "media_type_ok");
        copy(f, "redirect", fetch, "location");
        if (res && mts_fetch_result_parse(res) != MTS_FETCH_OK)
            json_object_set_new(f, "error_class", json_string(res));
        copy(f, "cert_verdict", get(fetch, "tls"), "verify");
        copy(f, "sha256", get(fetch, "body"), "sha256");
        json_object_set_new(o, "policy_fetch", f);
    }
    copy(o, "policy", cls, "policy");
    copy(o, "mx", cls, "mx");
    json_t *rpt = json_pack("{s:s, s:s}", "result",
                            json_string_value(get(get(dns, "tlsrpt"), "result")) ?: "not-observed",
                            "verdict", json_string_value(get(cls, "tlsrpt")));
    if (rpt) {
        json_object_set_new(rpt, "records", txt_records(get(dns, "tlsrpt")));
        copy(rpt, "rua", get(cls, "tlsrpt_record"), "rua");
        copy(rpt, "rua_size_limit", get(cls, "tlsrpt_record"), "rua_size_limit");
        copy(rpt, "findings", get(cls, "tlsrpt_record"), "findings");
    }
    json_object_set_new(o, "tlsrpt", rpt);
    copy(o, "categories", cls, "categories");
    copy(o, "would_bounce", cls, "would_bounce");
    copy(o, "would_bounce_lenient", cls, "would_bounce_lenient");
    copy(o, "profiles", cls, "profiles");
    copy(o, "dane", cls, "dane");
    copy(o, "analysis_error", cls, "analysis_error");
    return o;
}

int mts_export_jsonl_row(const json_t *obj, FILE *out)
{
    if (json_dumpf(obj, out, JSON_COMPACT) != 0 || fputc('\n', out) == EOF)
        return -EIO;
    return 0;
}

static const char *const csv_columns[] = {
    "domain",         "scan",           "verdict",      "would_bounce",   "txt_verdict",
    "txt_id",         "fetch_result",   "fetch_status", "media_type",     "redirect",
    "cert_verdict",   "policy_valid",   "mode",         "max_age",        "mx_patterns",
    "mx_hosts",       "mx_not_covered", "mx_refused",   "tlsrpt_verdict", "categories",
    "rua_size_limit",
};

int mts_export_csv_header(FILE *out)
{
    for (size_t i = 0; i < sizeof csv_columns / sizeof csv_columns[0]; i++)
        fprintf(out, "%s%s", i ? "," : "", csv_columns[i]);
    fputs("\r\n", out);
    return ferror(out) ? -EIO : 0;
}

/* Whether a spreadsheet could run the text cell s as a formula (OWASP, CSV injection). */
static bool formula_like(const char *s)
{
    return *s && strchr("=+-@\t\r", *s);
}

/* Quoted per RFC 4180 when it holds a comma, quote, CR or LF; a text cell that could start
   a formula is neutralised with a leading ' and quoted (docs/export-schema.md). */
void mts_export_csv_field(FILE *out, const char *s, bool text, bool first)
{
    if (!first)
        fputc(',', out);
    if (!s)
        return;
    bool neutralise = text && formula_like(s);
    if (!neutralise && !strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    if (neutralise)
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* A scalar as text into buf (strings verbatim, numbers and booleans printed). */
static const char *scalar(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
    else
        return NULL;
    return buf;
}

/* The per-URI size limits of a TLS-RPT record's rua (bytes, or null for a URI without
   one), space-joined with "none" for null; "" when arr is absent. NULL on ENOMEM. */
static json_t *size_limits(const json_t *arr)
{
    size_t cap = json_array_size(arr) * 22 + 1, len = 0, i; /* " " and 20 digits each */
    char *buf = calloc(1, cap);
    json_t *e;
    if (!buf)
        return NULL;
    json_array_foreach(arr, i, e)
    {
        if (json_is_integer(e))
            len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? " " : "",
                                    (long long)json_integer_value(e));
        else
            len += (size_t)snprintf(buf + len, cap - len, "%snone", i ? " " : "");
    }
    json_t *j = json_string(buf);
    free(buf);
    return j;
}

/* Space-joined values of arr (strings, or member key of objects), optionally filtered by
 * obj[fkey] == fval. Returns a json string (new reference) or NULL. */
static json_t *joined(const json_t *arr, const char *key, const char *fkey, const char *fval)
{
    size_t cap = 1, i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const json_t *s = key ? get(e, key) : e;
        if (json_is_string(s))
            cap += json_string_length(s) + 1;
    }
    char *buf = calloc(1, cap);
    if (!buf)
        return NULL;
    json_array_foreach(arr, i, e)
    {
        const char *s = json_string_value(key ? get(e, key) : e);
        const char *f = fkey ? json_string_value(get(e, fkey)) : NULL;
        if (!s || (fkey && (!f || strcmp(f, fval) != 0)))
            continue;
        if (*buf)
            strcat(buf, " ");
        strcat(buf, s);
    }
    json_t *j = json_string(buf);
    free(buf);
    return j;
}

int mts_export_csv_row(const json_t *o, FILE *out)
{
    const json_t *txt = get(o, "txt"), *f = get(o, "policy_fetch"), *p = get(o, "policy"),
                 *mx = get(o, "mx");
    json_t *lists[] = {
        joined(get(p, "mx"), NULL, NULL, NULL),
        joined(mx, "host", NULL, NULL),
        joined(mx, "host", "covered", "no"),
        joined(mx, "host", "status", "refused"),
        joined(get(o, "categories"), "code", NULL, NULL),
        size_limits(get(get(o, "tlsrpt"), "rua_size_limit")),
    };
    const json_t *cells[] = {
        get(o, "domain"),
        get(o, "scan"),
        get(o, "verdict"),
        get(o, "would_bounce"),
        get(txt, "verdict"),
        get(txt, "id"),
        get(f, "result"),
        get(f, "status"),
        get(f, "media_type"),
        get(f, "redirect"),
        get(f, "cert_verdict"),
        get(p, "valid"),
        get(p, "mode"),
        get(p, "max_age"),
        lists[0],
        lists[1],
        lists[2],
        lists[3],
        get(get(o, "tlsrpt"), "verdict"),
        lists[4],
        lists[5],
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (!lists[i])
            rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < sizeof cells / sizeof cells[0]; i++) {
        char buf[32];
        mts_export_csv_field(out, scalar(cells[i], buf, sizeof buf), json_is_string(cells[i]),
                             i == 0);
    }
    if (rc == 0)
        fputs("\r\n", out);
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        json_decref(lists[i]);
    return rc ? rc : ferror(out) ? -EIO : 0;
}
