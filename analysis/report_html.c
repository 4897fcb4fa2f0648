/*
 * The HTML report: one self-contained file (inline CSS and SVG, no script, no fetch) that a
 * person can open anywhere, mail, or archive with a paper. Every string that came from the
 * scan (names of hosts, providers, domains) was written by strangers and is HTML-escaped
 * after the terminal-safe escapes; only this file's own literals are markup.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "report.h"
#include "text_safe.h"

static void esc_char(FILE *out, char c)
{
    switch (c) {
    case '<':
        fputs("&lt;", out);
        break;
    case '>':
        fputs("&gt;", out);
        break;
    case '&':
        fputs("&amp;", out);
        break;
    case '"':
        fputs("&quot;", out);
        break;
    case '\'':
        fputs("&#39;", out);
        break;
    default:
        fputc(c, out);
    }
}

/* s terminal-safe (text_safe.h: no control byte reaches the page or a copy of it), then
   HTML-escaped. */
static void esc(FILE *out, const char *s)
{
    char piece[MTS_TEXT_PIECE];
    while (s && *s) {
        mts_text_piece(&s, piece);
        for (const char *c = piece; *c; c++)
            esc_char(out, *c);
    }
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long long num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static double real(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static const char *effect_color(const char *effect)
{
    if (!effect)
        return "#4a6fa5";
    if (strcmp(effect, "off") == 0)
        return "#c0392b";
    if (strcmp(effect, "bounce") == 0)
        return "#8e44ad";
    if (strcmp(effect, "weak") == 0)
        return "#d68910";
    if (strcmp(effect, "unknown") == 0)
        return "#7f8c8d";
    return "#4a6fa5";
}

/* Which rows of the taxonomy a chart shows: every row, only the informational ones, or
   only those with an effect on delivery. */
enum rows { ROWS_ALL, ROWS_INFO, ROWS_EFFECT };

static bool row_shown(const json_t *r, enum rows which, const char *count_key)
{
    if (which == ROWS_ALL)
        return true;
    bool info = strcmp(str(r, "effect"), "info") == 0;
    return num(r, count_key) > 0 && (which == ROWS_INFO ? info : !info);
}

/* Horizontal bars: one row per shown element of arr, labelled by key, sized by count_key,
   with the percentage from pct_key. */
static void bars(FILE *out, const char *title, const json_t *arr, const char *key,
                 const char *count_key, const char *pct_key, bool colour_by_effect, enum rows which)
{
    long long max = 1;
    size_t i, n = 0;
    json_t *r;
    json_array_foreach(arr, i, r)
    {
        if (!row_shown(r, which, count_key))
            continue;
        n++;
        if (num(r, count_key) > max)
            max = num(r, count_key);
    }
    if (n == 0)
        return;
    unsigned h = 26 * (unsigned)n + 10;
    fprintf(out, "<h2>");
    esc(out, title);
    fprintf(out, "</h2>\n<svg role=\"img\" width=\"1000\" height=\"%u\" viewBox=\"0 0 1000 %u\">\n",
            h, h);
    unsigned row = 0;
    json_array_foreach(arr, i, r)
    {
        if (!row_shown(r, which, count_key))
            continue;
        /* 480 px of bar leaves room for the longest label, "100000000 (100.00%)". */
        double w = 480.0 * (double)num(r, count_key) / (double)max;
        unsigned y = 26 * row++ + 5;
        fprintf(out, "<text x=\"330\" y=\"%u\" text-anchor=\"end\">", y + 16);
        esc(out, str(r, key));
        fprintf(out, "</text><rect x=\"340\" y=\"%u\" width=\"%.1f\" height=\"20\" fill=\"%s\"/>",
                y, w, colour_by_effect ? effect_color(str(r, "effect")) : "#4a6fa5");
        fprintf(out, "<text x=\"%.1f\" y=\"%u\">%lld", 346 + w, y + 16, num(r, count_key));
        if (json_object_get(r, pct_key))
            fprintf(out, " (%.2f%%)", real(r, pct_key));
        fputs("</text>\n", out);
    }
    fputs("</svg>\n", out);
}

/* The metrics adoption studies publish, ready to set beside theirs. */
static void sender_profiles(FILE *out, const json_t *sp)
{
    size_t i;
    const json_t *row;
    fputs("<h2>Sender profiles</h2>\n<table>\n<tr><th>profile</th><th>would bounce</th>"
          "<th>enforce</th><th>testing</th><th>none</th><th>no policy</th><th>unprotected</th>"
          "</tr>\n",
          out);
    json_array_foreach(json_object_get(sp, "profiles"), i, row)
    {
        const json_t *seen = json_object_get(row, "seen_as");
        fputs("<tr><td title=\"", out);
        esc(out, str(row, "source"));
        fputs("\">", out);
        esc(out, str(row, "name"));
        fprintf(out,
                "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td>"
                "<td>%lld</td></tr>\n",
                num(row, "would_bounce"), num(seen, "enforce"), num(seen, "testing"),
                num(seen, "none"), num(seen, "no-policy"), num(row, "unprotected"));
    }
    const json_t *differ = json_object_get(sp, "differ");
    fprintf(out,
            "</table>\n<p>Applied mode or would-bounce differs between profiles: %lld "
            "domains.</p>\n<ul>\n",
            num(differ, "count"));
    json_array_foreach(json_object_get(differ, "examples"), i, row)
    {
        fputs("<li>", out);
        esc(out, json_string_value(row));
        fputs("</li>\n", out);
    }
    if (num(differ, "more") > 0)
        fprintf(out, "<li>... and %lld more</li>\n", num(differ, "more"));
    fputs("</ul>\n", out);
}

static void faults_by_provider(FILE *out, const json_t *f)
{
    size_t i;
    const json_t *row;
    fprintf(out,
            "<h2>Faults by provider</h2>\n<p>Top %zu of %lld.</p>\n<table>\n<tr><th>by</th>"
            "<th>provider</th><th>category</th><th>domains</th></tr>\n",
            json_array_size(json_object_get(f, "top")), num(f, "distinct"));
    json_array_foreach(json_object_get(f, "top"), i, row)
    {
        fputs("<tr><td>", out);
        esc(out, str(row, "by"));
        fputs("</td><td>", out);
        esc(out, str(row, "provider"));
        fputs("</td><td>", out);
        esc(out, str(row, "category"));
        fprintf(out, "</td><td>%lld</td></tr>\n", num(row, "domains"));
    }
    fputs("</table>\n", out);
}

static void paper_table(FILE *out, const json_t *rows)
{
    fputs("<h2>Paper table</h2>\n<table><tr><th>metric</th><th>domains</th><th>of</th>"
          "<th>%</th></tr>\n",
          out);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        fputs("<tr><td>", out);
        esc(out, str(r, "metric"));
        fprintf(out, "</td><td>%lld</td><td>%lld</td><td>%.2f</td></tr>\n", num(r, "count"),
                num(r, "of"), real(r, "pct"));
    }
    fputs("</table>\n", out);
}

static void table(FILE *out, const char *title, const json_t *arr)
{
    fprintf(out,
            "<h2>%s</h2>\n<table><tr><th>registrable domain</th><th>domains</th>"
            "<th>misconfigured</th><th>would bounce</th></tr>\n",
            title);
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r)
    {
        fputs("<tr><td>", out);
        esc(out, str(r, "name"));
        fprintf(out, "</td><td>%lld</td><td>%lld</td><td>%lld</td></tr>\n", num(r, "domains"),
                num(r, "misconfigured"), num(r, "would_bounce"));
    }
    fputs("</table>\n", out);
}

int mts_report_html(const json_t *r, FILE *out)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n<title>MTA-STS scan ",
          out);
    esc(out, str(r, "scan"));
    fputs("</title>\n<style>\nbody{font-family:Georgia,'DejaVu Serif',serif;max-width:1040px;"
          "margin:2em auto;padding:0 1em;color:#222;line-height:1.5}\n"
          "h1,h2{font-family:'DejaVu Sans',Arial,sans-serif;font-weight:600}\n"
          "h2{margin-top:2em;border-bottom:1px solid #ddd}\n"
          "svg text{font:13px 'DejaVu Sans',Arial,sans-serif;fill:#222}\n"
          "table{border-collapse:collapse;font:14px 'DejaVu Sans',Arial,sans-serif}\n"
          "td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}\n"
          "td:first-child,th:first-child{text-align:left}\n.note{color:#666;font-size:90%}\n"
          "</style></head><body>\n<h1>MTA-STS scan ",
          out);
    esc(out, str(r, "scan"));
    fprintf(out,
            "</h1>\n<p>%lld domains, %lld with MTA-STS deployed. %lld indeterminate "
            "(a DNS failure, an unprobed host or no MX that reached TLS leaves the verdict "
            "open; never counted as absent).</p>\n",
            num(r, "domains"), num(r, "deployed"), num(r, "indeterminate"));
    bars(out, "Adoption funnel", json_object_get(r, "funnel"), "label", "count", "pct", false,
         ROWS_ALL);
    paper_table(out, json_object_get(r, "paper"));
    bars(out, "Mode (valid policies)", json_object_get(r, "modes"), "mode", "count", "pct", false,
         ROWS_ALL);
    bars(out, "max_age (fetched policies)", json_object_get(r, "max_age"), "bucket", "count", "pct",
         false, ROWS_ALL);
    bars(out, "Misconfigurations (% of domains with MTA-STS deployed)",
         json_object_get(r, "categories"), "code", "count_deployed", "pct_deployed", true,
         ROWS_EFFECT);
    fputs("<p class=\"note\">Colour = effect: <span style=\"color:#c0392b\">off</span>, "
          "<span style=\"color:#8e44ad\">bounce</span>, <span style=\"color:#d68910\">weak"
          "</span>, <span style=\"color:#7f8c8d\">unknown</span>, "
          "<span style=\"color:#4a6fa5\">info</span>.</p>\n",
          out);
    const json_t *wb = json_object_get(r, "would_bounce");
    fprintf(out,
            "<h2>Would bounce under enforce</h2>\n<p>%lld domains (postfix-mta-sts-resolver: "
            "%lld).</p>\n<ul>\n",
            num(wb, "count"), num(wb, "lenient_count"));
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(wb, "examples"), i, d)
    {
        fputs("<li>", out);
        esc(out, json_string_value(d));
        fputs("</li>\n", out);
    }
    long long more = num(wb, "count") - (long long)json_array_size(json_object_get(wb, "examples"));
    if (more > 0)
        fprintf(out, "<li>... and %lld more</li>\n", more);
    fputs("</ul>\n", out);
    sender_profiles(out, json_object_get(r, "sender_profiles"));
    faults_by_provider(out, json_object_get(r, "faults_by_provider"));
    const json_t *ae = json_object_get(r, "analysis_errors");
    if (num(ae, "count")) {
        fprintf(out,
                "<h2>Analysis errors</h2>\n<p>%lld domains could not be fully analysed "
                "(analysis-error/*).</p>\n<ul>\n",
                num(ae, "count"));
        json_array_foreach(json_object_get(ae, "examples"), i, d)
        {
            fputs("<li>", out);
            esc(out, json_string_value(d));
            fputs("</li>\n", out);
        }
        fputs("</ul>\n", out);
    }
    bars(out, "Informational findings (% of all domains)", json_object_get(r, "categories"), "code",
         "count", "pct", true, ROWS_INFO);
    bars(out, "TLS-RPT", json_object_get(r, "tlsrpt"), "status", "count", "pct", false, ROWS_ALL);
    if (json_object_get(r, "dane"))
        bars(out, "DANE at the MX hosts", json_object_get(r, "dane"), "status", "count", "pct",
             false, ROWS_ALL);
    const json_t *p = json_object_get(r, "providers");
    table(out, "Top MX providers", json_object_get(p, "mx"));
    table(out, "Top policy hosts", json_object_get(p, "policy"));
    fprintf(out,
            "<p class=\"note\">%lld MX and %lld policy providers; tables capped at %lld "
            "entries, %lld dropped.</p>\n</body></html>\n",
            num(p, "mx_distinct"), num(p, "policy_distinct"), num(p, "cap"), num(p, "dropped"));
    return ferror(out) ? -EIO : 0;
}
