/*
 * The Markdown report: the text report's tables as Markdown, for pasting into an issue, a
 * wiki or a paper draft. Strings from the scan (provider and domain names) have the
 * characters that Markdown tables and inline markup use backslash-escaped, after the
 * terminal-safe escapes of text_safe.h (so no control byte and no line break survives).
 */
#include <errno.h>
#include <stdbool.h>

#include "report.h"
#include "text_safe.h"

/* s terminal-safe (text_safe.h), then with Markdown's markup characters escaped. */
static void md(FILE *out, const char *s)
{
    char piece[MTS_TEXT_PIECE];
    while (s && *s) {
        mts_text_piece(&s, piece);
        for (const char *c = piece; *c; c++) {
            if (*c == '|' || *c == '\\' || *c == '*' || *c == '_' || *c == '`' || *c == '<' ||
                *c == '[' || *c == ']')
                fputc('\\', out);
            fputc(*c, out);
        }
    }
}

static long long num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static double real(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void counts(FILE *out, const char *title, const char *col, const json_t *arr,
                   const char *key)
{
    fprintf(out, "\n## %s\n\n| %s | domains | %% |\n| --- | ---: | ---: |\n", title, col);
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r)
    {
        fputs("| ", out);
        md(out, json_string_value(json_object_get(r, key)));
        fprintf(out, " | %lld | %.2f |\n", num(r, "count"), real(r, "pct"));
    }
}

static void providers(FILE *out, const char *title, const json_t *arr)
{
    fprintf(out,
            "\n## %s\n\n| registrable domain | domains | misconfigured | would bounce |\n"
            "| --- | ---: | ---: | ---: |\n",
            title);
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r)
    {
        fputs("| ", out);
        md(out, json_string_value(json_object_get(r, "name")));
        fprintf(out, " | %lld | %lld | %lld |\n", num(r, "domains"), num(r, "misconfigured"),
                num(r, "would_bounce"));
    }
}

/* The metrics adoption studies publish, ready to set beside theirs. */
static void paper(FILE *out, const json_t *rows)
{
    fputs("\n## Paper table\n\n| metric | domains | of | % |\n| --- | ---: | ---: | ---: |\n", out);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        fprintf(out, "| %s | %lld | %lld | %.2f |\n",
                json_string_value(json_object_get(r, "metric")), num(r, "count"), num(r, "of"),
                real(r, "pct"));
    }
}

static void sender_profiles(FILE *out, const json_t *sp)
{
    size_t i;
    const json_t *row;
    fputs(
        "\n## Sender profiles\n\n| profile | would bounce | enforce | testing | none | no policy | "
        "unprotected |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        out);
    json_array_foreach(json_object_get(sp, "profiles"), i, row)
    {
        const json_t *seen = json_object_get(row, "seen_as");
        fputs("| `", out);
        md(out, json_string_value(json_object_get(row, "name")));
        fprintf(out, "` | %lld | %lld | %lld | %lld | %lld | %lld |\n", num(row, "would_bounce"),
                num(seen, "enforce"), num(seen, "testing"), num(seen, "none"),
                num(seen, "no-policy"), num(row, "unprotected"));
    }
    const json_t *differ = json_object_get(sp, "differ");
    fprintf(out, "\nApplied mode or would-bounce differs between profiles: %lld domains.",
            num(differ, "count"));
    json_array_foreach(json_object_get(differ, "examples"), i, row)
    {
        fputs(i ? ", " : " Examples: ", out);
        md(out, json_string_value(row));
    }
    if (num(differ, "more") > 0)
        fprintf(out, " and %lld more.", num(differ, "more"));
    fputc('\n', out);
}

static void faults_by_provider(FILE *out, const json_t *f)
{
    size_t i;
    const json_t *row;
    fprintf(out,
            "\n## Faults by provider\n\nTop %zu of %lld.\n\n| by | provider | category | "
            "domains |\n| --- | --- | --- | ---: |\n",
            json_array_size(json_object_get(f, "top")), num(f, "distinct"));
    json_array_foreach(json_object_get(f, "top"), i, row)
    {
        fprintf(out, "| %s | ", json_string_value(json_object_get(row, "by")));
        md(out, json_string_value(json_object_get(row, "provider")));
        fputs(" | `", out);
        md(out, json_string_value(json_object_get(row, "category")));
        fprintf(out, "` | %lld |\n", num(row, "domains"));
    }
}

int mts_report_markdown(const json_t *r, FILE *out)
{
    size_t i;
    json_t *row;
    fputs("# MTA-STS scan ", out);
    md(out, json_string_value(json_object_get(r, "scan")));
    fprintf(out,
            "\n\n%lld domains.\n\n## Adoption funnel\n\n| stage | domains | %% of all | "
            "%% of previous |\n| --- | ---: | ---: | ---: |\n",
            num(r, "domains"));
    json_array_foreach(json_object_get(r, "funnel"), i, row)
    {
        fprintf(out, "| %s | %lld | %.2f | %.2f |\n",
                json_string_value(json_object_get(row, "label")), num(row, "count"),
                real(row, "pct"), real(row, "pct_prev"));
    }
    fprintf(out,
            "\nIndeterminate (a DNS failure, an unprobed host, no MX reached TLS or an analysis "
            "error; not counted as absent): %lld\n",
            num(r, "indeterminate"));
    paper(out, json_object_get(r, "paper"));
    counts(out, "Mode (valid policies)", "mode", json_object_get(r, "modes"), "mode");
    counts(out, "max_age", "bucket", json_object_get(r, "max_age"), "bucket");
    fprintf(out, "\n## Misconfiguration taxonomy\n\n| category | effect | domains | %% of all | "
                 "%% of deployed |\n| --- | --- | ---: | ---: | ---: |\n");
    json_array_foreach(json_object_get(r, "categories"), i, row)
    {
        fputs("| `", out);
        md(out, json_string_value(json_object_get(row, "code")));
        fprintf(out, "` | %s | %lld | %.2f | %.2f |\n",
                json_string_value(json_object_get(row, "effect")), num(row, "count"),
                real(row, "pct"), real(row, "pct_deployed"));
    }
    const json_t *wb = json_object_get(r, "would_bounce");
    fprintf(out,
            "\n## Would bounce under enforce\n\n%lld domains (postfix-mta-sts-resolver: %lld).",
            num(wb, "count"), num(wb, "lenient_count"));
    json_array_foreach(json_object_get(wb, "examples"), i, row)
    {
        fputs(i ? ", " : " Examples: ", out);
        md(out, json_string_value(row));
    }
    long long more = num(wb, "count") - (long long)json_array_size(json_object_get(wb, "examples"));
    if (more > 0)
        fprintf(out, " and %lld more.", more);
    fputc('\n', out);
    sender_profiles(out, json_object_get(r, "sender_profiles"));
    faults_by_provider(out, json_object_get(r, "faults_by_provider"));
    const json_t *ae = json_object_get(r, "analysis_errors");
    if (num(ae, "count")) {
        fprintf(out,
                "\n## Analysis errors\n\n%lld domains could not be fully analysed "
                "(`analysis-error/*`).",
                num(ae, "count"));
        json_array_foreach(json_object_get(ae, "examples"), i, row)
        {
            fputs(i ? ", " : " Examples: ", out);
            md(out, json_string_value(row));
        }
        fputc('\n', out);
    }
    counts(out, "TLS-RPT", "status", json_object_get(r, "tlsrpt"), "status");
    if (json_object_get(r, "dane"))
        counts(out, "DANE at the MX hosts", "status", json_object_get(r, "dane"), "status");
    const json_t *p = json_object_get(r, "providers");
    providers(out, "Top MX providers", json_object_get(p, "mx"));
    providers(out, "Top policy hosts", json_object_get(p, "policy"));
    return ferror(out) ? -EIO : 0;
}
