/*
 * Why a table: an operator reads one sentence per problem, and a disclosure team pastes
 * the same sentences into mail, so each category has exactly one fix text, kept here
 * beside its category name where a reviewer can check the whole vocabulary at once. Every
 * observed string is printed terminal-safe (text_safe.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "explain.h"
#include "text_safe.h"

static const struct {
    const char *category; /* exact name, or a prefix ending in "/" */
    const char *fix;
} fixes[] = {
    {"dns-failure/", "Make the authoritative DNS servers answer reliably (this scan got a "
                     "SERVFAIL or timeout), then re-check."},
    {"not-probed/", "Nothing to fix on the domain's side: this host has only IPv6 addresses "
                    "and the scan did not use IPv6; re-scan with --ipv6 to judge it."},
    {"sts-txt-invalid/multiple-records", "Keep exactly one TXT record starting with v=STSv1 at "
                                         "_mta-sts.<domain>; delete the others."},
    {"sts-txt-invalid/missing-id", "Add an id field: \"v=STSv1; id=20240101T000000;\"."},
    {"sts-txt-invalid/bad-id", "Use an id of 1 to 32 letters and digits only (no dashes, "
                               "dots or spaces)."},
    {"sts-txt-invalid/syntax", "Write the record as \"v=STSv1; id=<letters and digits>;\" "
                               "with fields separated by semicolons."},
    {"sts-txt-invalid/non-ascii", "Remove the non-ASCII characters from the TXT record."},
    {"sts-txt-invalid/cname-dangling", "Point the _mta-sts CNAME at a name that exists and "
                                       "holds the TXT record, or publish the TXT directly."},
    {"sts-policy-only/no-txt-record", "Publish the TXT record \"v=STSv1; id=...;\" at "
                                      "_mta-sts.<domain>: without it senders never fetch the "
                                      "policy."},
    {"sts-policy-fetch-error/host-unresolvable", "Publish A/AAAA records for mta-sts.<domain> "
                                                 "pointing at the web server of the policy."},
    {"sts-policy-fetch-error/special-address", "Point mta-sts.<domain> at a public address, "
                                               "not a private or reserved one."},
    {"sts-policy-fetch-error/redirect", "Serve the policy directly with status 200 at "
                                        "https://mta-sts.<domain>/.well-known/mta-sts.txt: "
                                        "senders do not follow redirects."},
    {"sts-policy-fetch-error/media-type", "Serve mta-sts.txt with \"Content-Type: text/plain\"."},
    {"sts-policy-fetch-error/http-status", "Make /.well-known/mta-sts.txt on mta-sts.<domain> "
                                           "answer 200 with the policy."},
    {"sts-policy-fetch-error/too-large", "Keep the policy file under 64 KiB."},
    {"sts-policy-fetch-error/", "Make https://mta-sts.<domain>/.well-known/mta-sts.txt "
                                "reachable on port 443 and answering promptly."},
    {"sts-webpki-invalid/", "Install a certificate for mta-sts.<domain> from a public CA, "
                            "valid now, with that exact name (a wildcard for the parent also "
                            "works)."},
    {"sts-policy-invalid/", "Correct the policy file: \"version: STSv1\", \"mode: "
                            "enforce|testing|none\", \"max_age: <seconds, at most 31557600>\", "
                            "and one \"mx:\" line per mail server, CRLF or LF line endings."},
    {"weak/max-age-below-day", "Raise max_age to at least a week (604800); senders forget "
                               "the policy after max_age seconds."},
    {"weak/max-age-below-week-enforce", "Raise max_age to at least a week (604800), commonly "
                                        "several months, once enforce works."},
    {"weak/mode-testing", "When TLS-RPT reports show no failures, switch the policy to "
                          "\"mode: enforce\" and change the record's id."},
    {"weak/tls-below-1.2", "Enable TLS 1.2 or 1.3 on the mail server."},
    {"validation-failure/mx-not-covered", "Add an \"mx:\" line matching this MX host to the "
                                          "policy (and change the record's id), or fix the MX "
                                          "record."},
    {"validation-failure/tls-handshake", "Fix the mail server's TLS configuration so a "
                                         "STARTTLS handshake completes."},
    {"starttls-not-supported/", "Enable STARTTLS on the mail server."},
    {"certificate-expired/", "Renew the mail server's certificate."},
    {"certificate-host-mismatch/", "Install a certificate on the mail server whose name "
                                   "matches the MX host name."},
    {"certificate-not-trusted/", "Install a mail server certificate issued by a public CA, "
                                 "with its intermediate certificates."},
    {"mx-info/pattern-unused", "Remove the \"mx:\" lines that match none of the current MX "
                               "hosts."},
    {"tlsrpt/absent", "Publish \"v=TLSRPTv1; rua=mailto:tls-reports@<domain>\" at "
                      "_smtp._tls.<domain> to receive reports of delivery failures."},
    {"tlsrpt/invalid", "Correct the TLS-RPT record: \"v=TLSRPTv1; rua=mailto:<address>\" "
                       "(the mailto: or https: scheme is required)."},
    {"tlsrpt/multiple-records", "Keep exactly one TXT record starting with v=TLSRPTv1."},
    {"tlsrpt/rua-undeliverable", "Send TLS reports to an address whose domain takes mail: it "
                                 "needs an MX record (not the null MX) or an address."},
    {"tlsrpt/rua-unresolvable", "Point the https: report URI at a host with A/AAAA records."},
    {"tlsrpt/rua-tls-failure", "Make the https: report host accept TLS connections on the "
                               "URI's port (443 unless the URI names one)."},
    {"tlsrpt/rua-cert-invalid", "Give the https: report host a certificate from a public CA "
                                "for its name, current and with its intermediates."},
    {"tlsrpt-invalid/", "Correct the TLS-RPT record: \"v=TLSRPTv1; rua=mailto:<address>\"."},
    {"analysis-error/", "Nothing to fix at the domain: the analysis could not read what the "
                        "scan stored (see \"analysis error\" above); scan the domain again."},
    {"local-error/", "Nothing to fix on the domain: the scanning machine ran out of "
                     "descriptors or local ports for this connection; scan again with more."},
    {"queue-timeout/", "Nothing to fix on the domain, unless its server is very slow: the "
                       "scanner waited too long for a connection slot to this address (many "
                       "domains share it); scan again."},
};

const char *mts_explain_fix(const char *category)
{
    for (size_t i = 0; i < sizeof fixes / sizeof fixes[0]; i++) {
        size_t len = strlen(fixes[i].category);
        bool prefix = fixes[i].category[len - 1] == '/';
        if (prefix ? strncmp(category, fixes[i].category, len) == 0
                   : strcmp(category, fixes[i].category) == 0)
            return fixes[i].fix;
    }
    return NULL;
}

const char *mts_explain_effect(const char *effect)
{
    if (strcmp(effect, "off") == 0)
        return "off: senders treat the domain as having no policy (protection silently lost)";
    if (strcmp(effect, "bounce") == 0)
        return "bounce: senders in enforce mode refuse this MX; if every MX is refused, mail "
               "is lost";
    if (strcmp(effect, "weak") == 0)
        return "weak: valid, but weaker than intended";
    if (strcmp(effect, "unknown") == 0)
        return "unknown: the scan could not observe this, or the analysis could not read it";
    return "info: no effect on delivery";
}

static const char *s(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "-";
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
    json_array_foreach(json_object_get(txt, "records"), i, v)
    {
        mts_text_printf(out, "    \"%s\"\n", json_string_value(v));
    }
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
    mts_text_printf(out, "  TLS-RPT: %s\n", s(json_object_get(e, "tlsrpt"), "verdict"));
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
        mts_text_printf(out, "  %s\n    effect %s\n", code, mts_explain_effect(s(v, "effect")));
        if (fix)
            mts_text_printf(out, "    fix: %s\n", fix);
    }
    return ferror(out) ? -EIO : 0;
}
