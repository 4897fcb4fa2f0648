/*
 * The plain-text report (`summary`): what a researcher reads in a terminal. Columns are
 * fixed-width so two reports can be compared with diff(1). The JSON report is the same
 * object serialised, for notebooks. Every string is printed terminal-safe (text_safe.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "report.h"
#include "text_safe.h"

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static double real(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A table of {name_key, "count", "pct"} rows. */
static void counts(FILE *out, const json_t *arr, const char *name_key)
{
    size_t i;
    json_t *row;
    json_array_foreach(arr, i, row)
    {
        mts_text_printf(out, "  %-34s %10lld %7.2f%%\n", str(row, name_key), num(row, "count"),
                        real(row, "pct"));
    }
}

static void providers(FILE *out, const char *title, const json_t *arr)
{
    mts_text_printf(out, "\n%s\n  %-34s %10s %13s %12s\n", title, "registrable domain", "domains",
                    "misconfigured", "would bounce");
    size_t i;
    json_t *row;
    json_array_foreach(arr, i, row)
    {
        mts_text_printf(out, "  %-34s %10lld %13lld %12lld\n", str(row, "name"),
                        num(row, "domains"), num(row, "misconfigured"), num(row, "would_bounce"));
    }
}

/* Per sender profile: would bounce and the mode applied; then the domains they disagree on. */
static void sender_profiles(FILE *out, const json_t *sp)
{
    size_t i;
    const json_t *row;
    mts_text_printf(out,
                    "\nSender profiles (docs/validation.md, section 6)\n"
                    "  %-40s %12s %8s %8s %8s %9s %11s\n",
                    "profile", "would bounce", "enforce", "testing", "none", "no policy",
                    "unprotected");
    json_array_foreach(json_object_get(sp, "profiles"), i, row)
    {
        const json_t *seen = json_object_get(row, "seen_as");
        mts_text_printf(out, "  %-40s %12lld %8lld %8lld %8lld %9lld %11lld\n", str(row, "name"),
                        num(row, "would_bounce"), num(seen, "enforce"), num(seen, "testing"),
                        num(seen, "none"), num(seen, "no-policy"), num(row, "unprotected"));
    }
    const json_t *differ = json_object_get(sp, "differ");
    mts_text_printf(out, "  applied mode or would-bounce differs between profiles: %lld domains\n",
                    num(differ, "count"));
    json_array_foreach(json_object_get(differ, "examples"), i, row)
    {
        mts_text_printf(out, "    %s\n", json_string_value(row));
    }
    if (num(differ, "more") > 0)
        mts_text_printf(out, "    ... and %lld more\n", num(differ, "more"));
}

static void faults_by_provider(FILE *out, const json_t *f)
{
    size_t i;
    const json_t *row;
    mts_text_printf(out, "\nFaults by provider (top %zu of %lld)\n  %-12s %-40s %-42s %8s\n",
                    json_array_size(json_object_get(f, "top")), num(f, "distinct"), "by",
                    "provider", "category", "domains");
    json_array_foreach(json_object_get(f, "top"), i, row)
    {
        mts_text_printf(out, "  %-12s %-40s %-42s %8lld\n", str(row, "by"), str(row, "provider"),
                        str(row, "category"), num(row, "domains"));
    }
    if (num(f, "dropped"))
        mts_text_printf(out, "  (%lld counts dropped: more than the table holds)\n",
                        num(f, "dropped"));
}

int mts_report_text(const json_t *r, FILE *out)
{
    size_t i;
    json_t *row;
    mts_text_printf(out, "MTA-STS scan %s: %lld domains (%lld store%s)\n", str(r, "scan"),
                    num(r, "domains"), num(r, "stores"), num(r, "stores") == 1 ? "" : "s");

    mts_text_printf(out,
                    "\nAdoption funnel                        domains   of all  of previous\n");
    json_array_foreach(json_object_get(r, "funnel"), i, row)
    {
        mts_text_printf(out, "  %-34s %10lld %7.2f%% %10.2f%%\n", str(row, "label"),
                        num(row, "count"), real(row, "pct"), real(row, "pct_prev"));
    }

    mts_text_printf(out, "\nVerdicts\n");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)json_object_get(r, "verdicts"), key, val)
    {
        mts_text_printf(out, "  %-34s %10lld\n", key, (long long)json_integer_value(val));
    }
    mts_text_printf(out, "  (indeterminate: a DNS failure, an unprobed host, no MX reached TLS or "
                         "an analysis error; never counted as absent)\n");

    mts_text_printf(out,
                    "\nPaper table                                          domains         of\n");
    json_array_foreach(json_object_get(r, "paper"), i, row)
    {
        mts_text_printf(out, "  %-48s %10lld %10lld %7.2f%%\n", str(row, "metric"),
                        num(row, "count"), num(row, "of"), real(row, "pct"));
    }

    mts_text_printf(out, "\nMode (valid policies)\n");
    counts(out, json_object_get(r, "modes"), "mode");
    mts_text_printf(out, "\nmax_age (fetched policies)\n");
    counts(out, json_object_get(r, "max_age"), "bucket");

    /* "deployed" counts only the domains that publish a record or serve a policy, so that
       a misconfiguration rate reads against the deployments, not the whole list. */
    mts_text_printf(out, "\nMisconfiguration taxonomy                  effect   domains   of all   "
                         "deployed  of deployed\n");
    json_array_foreach(json_object_get(r, "categories"), i, row)
    {
        mts_text_printf(out, "  %-42s %-7s %8lld %7.2f%% %10lld %10.2f%%\n", str(row, "code"),
                        str(row, "effect"), num(row, "count"), real(row, "pct"),
                        num(row, "count_deployed"), real(row, "pct_deployed"));
    }
    if (num(r, "categories_dropped"))
        mts_text_printf(out, "  (%lld category counts dropped: more than the table holds)\n",
                        num(r, "categories_dropped"));

    const json_t *wb = json_object_get(r, "would_bounce");
    mts_text_printf(out, "\nWould bounce under enforce: %lld (postfix-mta-sts-resolver: %lld)\n",
                    num(wb, "count"), num(wb, "lenient_count"));
    json_array_foreach(json_object_get(wb, "examples"), i, row)
    {
        mts_text_printf(out, "  %s\n", json_string_value(row));
    }
    const json_t *ae = json_object_get(r, "analysis_errors");
    if (num(ae, "count")) {
        mts_text_printf(out,
                        "\nAnalysis errors: %lld domains could not be fully analysed "
                        "(analysis-error/* above; explain DOMAIN gives the cause)\n",
                        num(ae, "count"));
        json_array_foreach(json_object_get(ae, "examples"), i, row)
        {
            mts_text_printf(out, "  %s\n", json_string_value(row));
        }
    }
    long long more = num(wb, "count") - (long long)json_array_size(json_object_get(wb, "examples"));
    if (more > 0)
        fprintf(out, "  ... and %lld more (mtasts-analyze domains --would-bounce lists them all)\n",
                more);

    sender_profiles(out, json_object_get(r, "sender_profiles"));
    faults_by_provider(out, json_object_get(r, "faults_by_provider"));

    mts_text_printf(out, "\nTLS-RPT\n");
    counts(out, json_object_get(r, "tlsrpt"), "status");
    if (json_object_get(r, "dane")) {
        mts_text_printf(out, "\nDANE (TLSA with DNSSEC) at the MX hosts\n");
        counts(out, json_object_get(r, "dane"), "status");
    } else {
        mts_text_printf(out, "\nDANE: TLSA was not scanned\n");
    }

    const json_t *p = json_object_get(r, "providers");
    providers(out, "Top MX providers (domains with MTA-STS deployed)", json_object_get(p, "mx"));
    providers(out, "Top policy hosts", json_object_get(p, "policy"));
    mts_text_printf(
        out, "  (%lld MX and %lld policy providers; tables capped at %lld, %lld dropped)\n",
        num(p, "mx_distinct"), num(p, "policy_distinct"), num(p, "cap"), num(p, "dropped"));
    return ferror(out) ? -EIO : 0;
}

int mts_report_json(const json_t *r, FILE *out)
{
    if (json_dumpf(r, out, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) != 0)
        return -EIO;
    fputc('\n', out);
    return ferror(out) ? -EIO : 0;
}
