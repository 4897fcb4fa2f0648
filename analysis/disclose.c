/*
 * Why only the selected categories: a campaign tells operators about one problem at a
 * time and re-checks exactly that one; an entry that listed every weakness would bury it.
 * Contacts come only from the record: the TLS-RPT rua mailto addresses (the operator asked
 * for mail about delivery failures there) and postmaster@ (RFC 5321 requires it). The
 * scanner does not store the zone's SOA, so its RNAME is not offered. A rua address is
 * hostile text: one with anything but the plain address characters is left out.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "disclose.h"
#include "explain.h"
#include "export.h"
#include "text_safe.h"
#include "vocabulary.h"

#define MAX_CONTACTS 8

static const json_t *get(const json_t *o, const char *key)
{
    return json_object_get(o, key);
}

static const char *str(const json_t *o, const char *key)
{
    const char *v = json_string_value(get(o, key));
    return v ? v : "-";
}

/* Whether s is a plain mail address: one @, non-empty sides, only [A-Za-z0-9.+_-]. */
static bool plain_address(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > 254)
        return false;
    for (const char *p = s; *p; p++)
        if (*p != '@' && !strchr(".+_-", *p) &&
            !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return false;
    return true;
}

/* The contact candidates: rua mailto addresses, then postmaster@domain, without repeats.
   New reference (array of strings), NULL on ENOMEM. */
static json_t *contacts(const json_t *exp)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    size_t i;
    json_t *v;
    json_array_foreach(get(get(exp, "tlsrpt"), "rua"), i, v)
    {
        const char *uri = json_string_value(v);
        if (!uri || strncasecmp(uri, "mailto:", 7) != 0)
            continue;
        char addr[256];
        size_t n = strcspn(uri + 7, "?");
        if (n >= sizeof addr)
            continue;
        memcpy(addr, uri + 7, n);
        addr[n] = '\0';
        if (plain_address(addr) && json_array_size(out) < MAX_CONTACTS - 1)
            json_array_append_new(out, json_string(addr));
    }
    char pm[300];
    snprintf(pm, sizeof pm, "postmaster@%s", str(exp, "domain"));
    bool seen = false;
    json_array_foreach(out, i, v)
    {
        seen = seen || strcasecmp(json_string_value(v), pm) == 0;
    }
    if (!seen)
        json_array_append_new(out, json_string(pm));
    return out;
}

/* The observations behind the verdict on one line (raw bytes; the caller escapes). A
   malloc'd string, NULL on ENOMEM. */
static char *observed(const json_t *exp)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    const json_t *txt = get(exp, "txt"), *f = get(exp, "policy_fetch"), *p = get(exp, "policy");
    fprintf(m, "_mta-sts TXT %s, record %s", str(txt, "result"), str(txt, "verdict"));
    if (get(txt, "id"))
        fprintf(m, " (id %s)", str(txt, "id"));
    if (f) {
        fprintf(m, "; policy fetch %s", str(f, "result"));
        if (json_is_integer(get(f, "status")))
            fprintf(m, ", HTTP %lld", (long long)json_integer_value(get(f, "status")));
        if (get(f, "redirect"))
            fprintf(m, ", redirect to %s", str(f, "redirect"));
        if (get(f, "cert_verdict"))
            fprintf(m, ", certificate %s", str(f, "cert_verdict"));
    }
    if (p)
        fprintf(m, "; policy %s, mode %s", json_is_true(get(p, "valid")) ? "valid" : "invalid",
                str(p, "mode"));
    size_t i;
    json_t *mx;
    json_array_foreach(get(exp, "mx"), i, mx)
    {
        fprintf(m, "; MX %s %s", str(mx, "host"), str(mx, "status"));
        if (get(mx, "reason"))
            fprintf(m, " (%s)", str(mx, "reason"));
    }
    bool bad = ferror(m);
    if (fclose(m) != 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* A fix sentence with its "<domain>" placeholders filled in (both texts are ours: the fix
   is static, the domain a normalised name). */
static void put_fix(FILE *out, const char *fix, const char *domain)
{
    const char *at;
    while ((at = strstr(fix, "<domain>"))) {
        fprintf(out, "%.*s%s", (int)(at - fix), fix, domain);
        fix = at + strlen("<domain>");
    }
    fputs(fix, out);
}

/* The selected categories of exp, in its order (borrowed objects); new reference. */
static json_t *selected(const json_t *exp, const char *selector)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(get(exp, "categories"), i, c)
    {
        if (out && mts_category_selects(selector, str(c, "code")))
            json_array_append(out, c);
    }
    return out;
}

int mts_disclose_csv_header(FILE *out)
{
    fputs("domain,scan,verdict,categories,observed,effect,fix,contacts\r\n", out);
    return ferror(out) ? -EIO : 0;
}

/* The categories' codes (or the strings of an array of strings), effects or fixes joined by sep
 * into a memstream string. */
static char *joined(const json_t *cats, const char *what, const char *sep, const char *domain)
{
    char *buf = NULL;
    size_t len = 0, i;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    json_t *c;
    json_array_foreach(cats, i, c)
    {
        const char *code = json_is_string(c) ? json_string_value(c) : str(c, "code");
        fputs(i ? sep : "", m);
        if (strcmp(what, "code") == 0)
            fputs(code, m);
        else if (strcmp(what, "effect") == 0)
            fprintf(m, "%s: %s", code, mts_effect_meaning(str(c, "effect")));
        else {
            fprintf(m, "%s: ", code);
            put_fix(m, mts_explain_fix(code) ?: "-", domain);
        }
    }
    bool bad = ferror(m);
    if (fclose(m) != 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

int mts_disclose_csv_row(const json_t *exp, const char *selector, FILE *out)
{
    json_t *cats = selected(exp, selector), *who = contacts(exp);
    const char *domain = str(exp, "domain");
    char *cells[] = {
        joined(cats, "code", " ", domain),     observed(exp),
        joined(cats, "effect", " | ", domain), joined(cats, "fix", " | ", domain),
        joined(who, "code", " ", domain),
    };
    int rc = cats && who ? 0 : -ENOMEM;
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++)
        rc = cells[i] ? rc : -ENOMEM;
    if (rc == 0) {
        mts_export_csv_field(out, domain, true, true);
        mts_export_csv_field(out, str(exp, "scan"), true, false);
        mts_export_csv_field(out, str(exp, "verdict"), true, false);
        for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++)
            mts_export_csv_field(out, cells[i], true, false);
        fputs("\r\n", out);
        rc = ferror(out) ? -EIO : 0;
    }
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++)
        free(cells[i]);
    json_decref(cats);
    json_decref(who);
    return rc;
}

int mts_disclose_text(const json_t *exp, const char *selector, FILE *out)
{
    json_t *cats = selected(exp, selector), *who = contacts(exp);
    const char *domain = str(exp, "domain");
    char *codes = joined(cats, "code", ", ", domain), *seen = observed(exp),
         *to = joined(who, "code", ", ", domain);
    int rc = cats && who && codes && seen && to ? 0 : -ENOMEM;
    if (rc == 0) {
        mts_text_printf(out, "To: %s\nSubject: MTA-STS problem at %s: %s\n\n", to, domain, codes);
        mts_text_printf(out,
                        "Hello,\n\nan MTA-STS (RFC 8461) measurement (scan %s) found a problem "
                        "with mail delivery to %s.\n\nWhat we observed:\n  %s\n",
                        str(exp, "scan"), domain, seen);
        size_t i;
        json_t *c;
        json_array_foreach(cats, i, c)
        {
            const char *code = str(c, "code"), *fix = mts_explain_fix(code);
            mts_text_printf(out, "\nProblem: %s\n  Effect: %s\n", code,
                            mts_effect_meaning(str(c, "effect")));
            if (fix) {
                fputs("  Fix: ", out);
                put_fix(out, fix, domain);
                fputc('\n', out);
            }
        }
        mts_text_printf(out, "\nWe will check %s again after some weeks.\n\n", domain);
        rc = fputs("----\n\n", out) == EOF || ferror(out) ? -EIO : 0;
    }
    free(codes);
    free(seen);
    free(to);
    json_decref(cats);
    json_decref(who);
    return rc;
}
