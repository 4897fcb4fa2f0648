/*
 * The plain-text report (`summary`): what a researcher reads in a terminal. Columns are
 * fixed-width so two reports can be compared with diff(1). The JSON report is the same
 * object serialised, for notebooks.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "report.h"

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
        fprintf(out, "  %-34s %10lld %7.2f%%\n", str(row, name_key), num(row, "count"),
                real(row, "pct"));
    }
}

static void providers(FILE *out, const char *title, const json_t *arr)
{
    fprintf(out, "\n%s\n  %-34s %10s %13s %12s\n", title, "registrable domain", "domains",
            "misconfigured", "would bounce");
    size_t i;
    json_t *row;
    json_array_foreach(arr, i, row)
    {
        fprintf(out, "  %-34s %10lld %13lld %12lld\n", str(row, "name"), num(row, "domains"),
                num(row, "misconfigured"), num(row, "would_bounce"));
    }
}

int mts_report_text(const json_t *r, FILE *out)
{
    size_t i;
    json_t *row;
    fprintf(out, "MTA-STS scan %s: %lld domains (%lld store%s)\n", str(r, "scan"),
            num(r, "domains"), num(r, "stores"), num(r, "stores") == 1 ? "" : "s");

    fprintf(out, "\nAdoption funnel                        domains   of all  of previous\n");
    json_array_foreach(json_object_get(r, "funnel"), i, row)
    {
        fprintf(out, "  %-34s %10lld %7.2f%% %10.2f%%\n", str(row, "label"), num(row, "count"),
                real(row, "pct"), real(row, "pct_prev"));
    }

    fprintf(out, "\nVerdicts\n");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)json_object_get(r, "verdicts"), key, val)
    {
        fprintf(out, "  %-34s %10lld\n", key, (long long)json_integer_value(val));
    }
    fprintf(out, "  (indeterminate: a DNS failure, an unprobed host or no MX reached TLS; never "
                 "counted as absent)\n");

    fprintf(out, "\nPaper table                                          domains         of\n");
    json_array_foreach(json_object_get(r, "paper"), i, row)
    {
        fprintf(out, "  %-48s %10lld %10lld %7.2f%%\n", str(row, "metric"), num(row, "count"),
                num(row, "of"), real(row, "pct"));
    }

    fprintf(out, "\nMode (valid policies)\n");
    counts(out, json_object_get(r, "modes"), "mode");
    fprintf(out, "\nmax_age (fetched policies)\n");
    counts(out, json_object_get(r, "max_age"), "bucket");

    /* "deployed" counts only the domains that publish a record or serve a policy, so that
       a misconfiguration rate reads against the deployments, not the whole list. */
    fprintf(out, "\nMisconfiguration taxonomy                  effect   domains   of all   "
                 "deployed  of deployed\n");
    json_array_foreach(json_object_get(r, "categories"), i, row)
    {
        fprintf(out, "  %-42s %-7s %8lld %7.2f%% %10lld %10.2f%%\n", str(row, "code"),
                str(row, "effect"), num(row, "count"), real(row, "pct"), num(row, "count_deployed"),
                real(row, "pct_deployed"));
    }
    if (num(r, "categories_dropped"))
        fprintf(out, "  (%lld category counts dropped: more than the table holds)\n",
                num(r, "categories_dropped"));

    const json_t *wb = json_object_get(r, "would_bounce");
    fprintf(out, "\nWould bounce under enforce: %lld (lenient senders: %lld)\n", num(wb, "count"),
            num(wb, "lenient_count"));
    json_array_foreach(json_object_get(wb, "examples"), i, row)
    {
        fprintf(out, "  %s\n", json_string_value(row));
    }

    fprintf(out, "\nTLS-RPT\n");
    counts(out, json_object_get(r, "tlsrpt"), "status");
    if (json_object_get(r, "dane")) {
        fprintf(out, "\nDANE (TLSA with DNSSEC) at the MX hosts\n");
        counts(out, json_object_get(r, "dane"), "status");
    } else {
        fprintf(out, "\nDANE: TLSA was not scanned\n");
    }

    const json_t *p = json_object_get(r, "providers");
    providers(out, "Top MX providers (domains with MTA-STS deployed)", json_object_get(p, "mx"));
    providers(out, "Top policy hosts", json_object_get(p, "policy"));
    fprintf(out, "  (%lld MX and %lld policy providers; tables capped at %lld, %lld dropped)\n",
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
