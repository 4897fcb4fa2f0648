/*
 * Why: an operator reads one sentence per problem, and a disclosure team pastes the same
 * sentences into mail, so each category has exactly one fix text, kept in the category
 * table (vocabulary.c) beside its name and effect. Every observed string is printed
 * terminal-safe (text_safe.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "explain.h"
#include "text_safe.h"
#include "vocabulary.h"

const char *mts_explain_fix(const char *category)
{
    const struct mts_category *c = mts_category_find(category);
    return c ? c->fix : NULL;
}

static const char *s(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "-";
}

/* A TXT RRset as observed (each record quoted), then the validator's findings on it. */
static void print_records(const json_t *rrset, FILE *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(rrset, "records"), i, v)
    {
        mts_text_printf(out, "    \"%s\"\n", json_string_value(v));
    }
    json_array_foreach(json_object_get(rrset, "findings"), i, v)
    {
        mts_text_printf(out, "    %s: %s (%s)\n", s(v, "severity"), s(v, "message"), s(v, "code"));
    }
}

int mts_explain(const json_t *e, FILE *out)
{
    size_t i, k;
    json_t *v, *a;
    const json_t *txt = json_object_get(e, "txt"), *f = json_object_get(e, "policy_fetch"),
                 *p = json_object_get(e, "policy");
    mts_text_printf(out, "%s (scan %s): %s%s\n\nObserved\n", s(e, "domain"), s(e, "scan"),
                    s(e, "verdict"),
                    json_is_true(json_object_get(e, "would_bounce")) ? ", mail would bounce" : "");
    if (json_object_get(e, "analysis_error"))
        mts_text_printf(out, "  analysis error: %s\n", s(e, "analysis_error"));
    mts_text_printf(out, "  _mta-sts TXT: %s, record %s", s(txt, "result"), s(txt, "verdict"));
    if (json_object_get(txt, "id"))
        mts_text_printf(out, ", id %s", s(txt, "id"));
    fputc('\n', out);
    print_records(txt, out);
    if (f) {
        mts_text_printf(out, "  policy fetch: %s", s(f, "result"));
        if (json_object_get(f, "status"))
            mts_text_printf(out, ", HTTP %lld",
                            (long long)json_integer_value(json_object_get(f, "status")));
        if (json_object_get(f, "media_type"))
            mts_text_printf(out, ", %s", s(f, "media_type"));
        if (json_object_get(f, "redirect"))
            mts_text_printf(out, ", redirect to %s", s(f, "redirect"));
        if (json_object_get(f, "cert_verdict"))
            mts_text_printf(out, ", certificate %s", s(f, "cert_verdict"));
        fputc('\n', out);
    } else {
        mts_text_printf(out, "  policy fetch: not attempted\n");
    }
    if (p) {
        mts_text_printf(out, "  policy: %s, version %s, mode %s, max_age ",
                        json_is_true(json_object_get(p, "valid")) ? "valid" : "invalid",
                        s(p, "version"), s(p, "mode"));
        json_t *age = json_object_get(p, "max_age");
        if (json_is_integer(age))
            mts_text_printf(out, "%lld", (long long)json_integer_value(age));
        else
            mts_text_printf(out, "%s", s(p, "max_age"));
        mts_text_printf(out, ", mx:");
        json_array_foreach(json_object_get(p, "mx"), i, v)
        {
            mts_text_printf(out, " %s", json_string_value(v));
        }
        fputc('\n', out);
        json_array_foreach(json_object_get(p, "findings"), i, v)
        {
            mts_text_printf(out, "    line %lld: %s (%s)\n",
                            (long long)json_integer_value(json_object_get(v, "line")),
                            s(v, "message"), s(v, "code"));
        }
    }
    json_array_foreach(json_object_get(e, "mx"), i, v)
    {
        mts_text_printf(out, "  MX %s (pref %lld): covered %s, %s", s(v, "host"),
                        (long long)json_integer_value(json_object_get(v, "pref")), s(v, "covered"),
                        s(v, "status"));
        if (json_object_get(v, "reason"))
            mts_text_printf(out, " (%s)", s(v, "reason"));
        fputc('\n', out);
        json_array_foreach(json_object_get(v, "addresses"), k, a)
        {
            mts_text_printf(out, "    %s: %s%s%s\n", s(a, "addr"), s(a, "outcome"),
                            json_object_get(a, "tls_version") ? ", " : "",
                            json_object_get(a, "tls_version") ? s(a, "tls_version") : "");
        }
    }
    const json_t *rpt = json_object_get(e, "tlsrpt");
    mts_text_printf(out, "  TLS-RPT: %s\n", s(rpt, "verdict"));
    print_records(rpt, out);
    const char *name;
    mts_text_printf(out, "  policy seen as, per sender profile:\n");
    json_object_foreach((json_t *)json_object_get(e, "profiles"), name, v)
    {
        mts_text_printf(out, "    %s: %s%s\n", name, s(v, "seen_as"),
                        json_is_true(json_object_get(v, "would_bounce")) ? ", mail would bounce"
                                                                         : "");
    }

    const json_t *cats = json_object_get(e, "categories");
    mts_text_printf(out, "\n%s\n", json_array_size(cats) ? "Problems" : "No problems found.");
    json_array_foreach(cats, i, v)
    {
        const char *code = s(v, "code"), *fix = mts_explain_fix(code);
        mts_text_printf(out, "  %s\n    effect %s\n", code, mts_effect_meaning(s(v, "effect")));
        if (fix)
            mts_text_printf(out, "    fix: %s\n", fix);
    }
    return ferror(out) ? -EIO : 0;
}
