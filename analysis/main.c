/*
 * mtasts-analyze: the commands over a scan's stores. Why one pass per command: every
 * command streams the domains through the classifier and keeps only counters or the
 * current line, so a scan of any size is analysed in flat memory (docs/analyze.md).
 * Exit codes: 0 success, 1 runtime error, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "diff.h"
#include "disclose.h"
#include "explain.h"
#include "mts_profiles.h"
#include "mts_view.h"
#include "export.h"
#include "report.h"
#include "mts_name.h"
#include "scanset.h"
#include "text_safe.h"
#include "vocabulary.h"

#define EXIT_USAGE 2
#define MAX_DBS    256

struct opts {
    char *dbs[MAX_DBS], *old_dbs[MAX_DBS], *new_dbs[MAX_DBS];
    size_t n_dbs, n_old, n_new;
    const char *scan, *format, *output, *category, *verdict, *profile;
    bool would_bounce, list, rechecked_only;
    unsigned threads; /* 0: one per online CPU */
};

static const char *const usage_main =
    "usage: mtasts-analyze COMMAND [--db DIR]... [--scan-id ID] [options]\n"
    "\n"
    "Commands:\n"
    "  summary                 the report as text (= report --format text)\n"
    "  report                  --format text|markdown|json|html [--output FILE]\n"
    "  domains                 --category C | --verdict V | --would-bounce: one domain a line\n"
    "  explain DOMAIN          one domain in plain words: observed, problems, fixes\n"
    "  disclose                --category C [--format text|csv]: an entry per domain to tell\n"
    "  diff OLD NEW            re-check: per category fixed / still / new [--list] [--format "
    "json]\n"
    "  export                  --format jsonl|csv [--output FILE]\n"
    "  scans                   every scan of the stores: id, state, times, counts, argv\n"
    "\n"
    "Every command takes --db DIR (repeatable: shards of one scan) and --scan-id ID (default:\n"
    "the only or latest scan), and --threads N (records decoded and classified on N threads;\n"
    "default: one per online CPU; the output does not depend on N).\n"
    "'mtasts-analyze COMMAND --help' describes one command.\n"
    "Exit status: 0 success (a record that cannot be analysed is counted as an\n"
    "analysis-error category, never fatal), 1 runtime error, 2 usage error.\n";

static const struct {
    const char *name, *help;
} commands[] = {
    {"summary", "usage: mtasts-analyze summary --db DIR... [--scan-id ID] [--output FILE]\n"
                "The adoption funnel, modes, max_age, taxonomy, would-bounce set, TLS-RPT,\n"
                "DANE and providers, as text.\n"},
    {"report", "usage: mtasts-analyze report --db DIR... [--scan-id ID]\n"
               "       --format text|markdown|json|html [--output FILE]\n"
               "The summary in a format; html is one self-contained file with SVG charts.\n"},
    {"domains", "usage: mtasts-analyze domains --db DIR... [--scan-id ID]\n"
                "       (--category C | --verdict V | --would-bounce [--profile P])\n"
                "Domains with category C (a name such as sts-webpki-invalid/expired, its type\n"
                "sts-webpki-invalid, or a prefix ending at \"/\"), with verdict V, or that would\n"
                "bounce mail for senders of profile P (default rfc8461; also\n"
                "postfix-mta-sts-resolver, postfix-mta-sts-resolver-strict-testing, maddy,\n"
                "no-mta-sts); one a line, in key order. An unknown C, V or P is a usage error\n"
                "that lists the valid names.\n"},
    {"explain", "usage: mtasts-analyze explain DOMAIN --db DIR... [--scan-id ID]\n"
                "What was observed for DOMAIN, what is wrong, the effect and the fix. DOMAIN is\n"
                "normalised as the scanner's input (case, trailing dot, IDN to A-label).\n"
                "Control bytes from the scan are shown as escapes (\\x1b), never raw.\n"},
    {"disclose", "usage: mtasts-analyze disclose --db DIR... [--scan-id ID] --category C\n"
                 "       [--format text|csv] [--output FILE]\n"
                 "One entry per domain with category C (selected as by domains): what was\n"
                 "observed, the effect and the fix of each selected category, and the contact\n"
                 "candidates (TLS-RPT rua mailto addresses, postmaster@DOMAIN). text: a mail\n"
                 "ready to send per domain; csv: one row per domain, spreadsheet-safe.\n"},
    {"diff", "usage: mtasts-analyze diff OLD NEW (--db DIR... | --old-db DIR... --new-db DIR...)\n"
             "       [--list] [--rechecked-only] [--format text|json]\n"
             "Compare scan OLD with scan NEW over the domains in both: per category fixed,\n"
             "still broken, broke anew; verdict, mode, id and body changes. --list prints the\n"
             "domains behind each number (always present in JSON). A NEW that re-checked\n"
             "only part of OLD: the others are counted per category as not re-checked.\n"
             "--rechecked-only: walk NEW and look each domain up in OLD, so the time follows\n"
             "NEW's size; OLD's other domains are counted, not classified (no not-rechecked\n"
             "counts per category).\n"},
    {"export", "usage: mtasts-analyze export --db DIR... [--scan-id ID] --format jsonl|csv\n"
               "       [--output FILE]\n"
               "One record per domain: observations and verdicts (docs/export-schema.md).\n"
               "JSON strings are exact; a CSV text cell that a spreadsheet would run as a\n"
               "formula (starting = + - @ TAB CR) is written with a leading '.\n"},
    {"scans", "usage: mtasts-analyze scans --db DIR... [--format text|json]\n"
              "Every scan of each store: id, state, start and end (UTC), shard, domain\n"
              "records stored, the scanner's counts and command line.\n"},
};

static const char *command_help(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].help;
    return NULL;
}

/* Print "msg" or "msg: arg" and the usage; returns the usage exit status. */
static int usage_error(const char *cmd, const char *msg, const char *arg)
{
    /* the argument may hold any bytes; the usage text is ours, line breaks and all */
    mts_text_printf(stderr, "mtasts-analyze%s%s: %s%s%s\n", cmd ? " " : "", cmd ? cmd : "", msg,
                    arg ? ": " : "", arg ? arg : "");
    fputs(cmd ? command_help(cmd) : usage_main, stderr);
    return EXIT_USAGE;
}

static const char *const report_formats[] = {"text", "markdown", "json", "html"};
static const char *const text_json_formats[] = {"text", "json"};
static const char *const export_formats[] = {"jsonl", "csv"};
static const char *const disclose_formats[] = {"text", "csv"};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* An unknown name (of a format, category, verdict): says so, the closest known name when
   there is one and every valid name, so no mistyped selector passes as "none found". */
static int unknown_name(const char *cmd, const char *what, const char *arg, const char *closest,
                        const char *const *names, size_t n, const char *note)
{
    fprintf(stderr, "mtasts-analyze %s: unknown %s: %s\n", cmd, what, arg);
    if (closest)
        fprintf(stderr, "did you mean %s?\n", closest);
    fprintf(stderr, "valid %s names%s:\n", what, note ? note : "");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %s\n", names[i]);
    return EXIT_USAGE;
}

static int unknown_format(const char *cmd, const char *arg, const char *const *names, size_t n)
{
    return unknown_name(cmd, "format", arg, mts_name_closest(arg, names, n), names, n, NULL);
}

/* Parse the options of one command; positional arguments are left in argv[optind..]. */
static int parse_opts(const char *cmd, int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"scan-id", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"category", required_argument, NULL, 'c'},
        {"verdict", required_argument, NULL, 'V'},
        {"would-bounce", no_argument, NULL, 'b'},
        {"profile", required_argument, NULL, 'p'},
        {"list", no_argument, NULL, 'l'},
        {"old-db", required_argument, NULL, 'O'},
        {"new-db", required_argument, NULL, 'N'},
        {"threads", required_argument, NULL, 't'},
        {"rechecked-only", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char **list = NULL;
        size_t *n = NULL;
        switch (c) {
        case 'd':
            list = o->dbs, n = &o->n_dbs;
            break;
        case 'O':
            list = o->old_dbs, n = &o->n_old;
            break;
        case 'N':
            list = o->new_dbs, n = &o->n_new;
            break;
        case 's':
            o->scan = optarg;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'c':
            o->category = optarg;
            break;
        case 'V':
            o->verdict = optarg;
            break;
        case 'b':
            o->would_bounce = true;
            break;
        case 'p':
            o->profile = optarg;
            break;
        case 'l':
            o->list = true;
            break;
        case 'r':
            o->rechecked_only = true;
            break;
        case 't': {
            char *end;
            errno = 0;
            unsigned long t = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || t < 1 ||
                t > MTS_SCANSET_MAX_THREADS)
                return usage_error(cmd, "--threads wants a number from 1 to 64", optarg);
            o->threads = (unsigned)t;
            break;
        }
        case 'h':
            fputs(command_help(cmd), stdout);
            exit(0);
        default:
            return usage_error(cmd, "bad option", NULL);
        }
        if (list) {
            if (*n == MAX_DBS)
                return usage_error(cmd, "too many stores", NULL);
            list[(*n)++] = optarg;
        }
    }
    return 0;
}

static int print_scan_id(void *arg, const char *scan, json_t *rec)
{
    (void)arg;
    json_decref(rec);
    mts_text_printf(stderr, " %s", scan);
    return 0;
}

/* After an unknown --scan-id: the ids each store holds. */
static void print_scan_ids(const struct mts_scanset *set, char *const *dbs)
{
    for (size_t i = 0; i < set->n; i++) {
        fprintf(stderr, "scans in %s:", dbs[i]);
        if (mts_store_foreach_scan(set->stores[i], print_scan_id, NULL) != 0)
            fprintf(stderr, " (unreadable)");
        fputc('\n', stderr);
    }
}

/* Open the stores and choose the scan; prints the error. Returns 0 or an exit status. */
static int open_scan(const char *cmd, char *const *dbs, size_t n, const char *want,
                     unsigned threads, struct mts_scanset *set, char **scan)
{
    if (n == 0)
        return usage_error(cmd, "--db DIR is required", NULL);
    const char *bad = NULL;
    int rc = mts_scanset_open(set, dbs, n, &bad);
    if (rc) {
        mts_text_printf(stderr, "mtasts-analyze: %s: %s\n", bad ? bad : "store",
                        mts_scanset_strerror(rc));
        return 1;
    }
    set->threads = threads;
    char why[256] = "";
    rc = mts_scanset_select(set, want, scan, why, sizeof why);
    if (rc) {
        mts_text_printf(stderr, "mtasts-analyze: %s\n", *why ? why : mts_scanset_strerror(rc));
        if (rc == MTS_SCANSET_ESCAN && want)
            print_scan_ids(set, dbs);
        mts_scanset_close(set);
        return 1;
    }
    return 0;
}

/* The output stream: stdout or --output FILE. NULL on error (printed). */
static FILE *open_output(const char *path)
{
    if (!path)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        mts_text_printf(stderr, "mtasts-analyze: %s: %s\n", path, strerror(errno));
    return f;
}

static int close_output(FILE *f, int rc)
{
    if (fflush(f) != 0 || ferror(f))
        rc = rc ? rc : -EIO;
    if (f != stdout && fclose(f) != 0)
        rc = rc ? rc : -EIO;
    return rc;
}

static int fail(const char *what, int rc)
{
    mts_text_printf(stderr, "mtasts-analyze: %s: %s\n", what,
                    rc == -EIO ? "write error" : mts_scanset_strerror(rc));
    return 1;
}

static int agg_cb(void *arg, const struct mts_scanned *d)
{
    return mts_agg_add(arg, d->domain, d->raw, &d->cls);
}

static int cmd_report(const char *cmd, struct opts *o)
{
    const char *format = o->format ? o->format : "text";
    int (*render)(const json_t *, FILE *) = NULL;
    if (strcmp(format, "text") == 0)
        render = mts_report_text;
    else if (strcmp(format, "json") == 0)
        render = mts_report_json;
    else if (strcmp(format, "markdown") == 0)
        render = mts_report_markdown;
    else if (strcmp(format, "html") == 0)
        render = mts_report_html;
    else
        return unknown_format(cmd, format, report_formats, N_OF(report_formats));
    struct mts_scanset set;
    char *scan = NULL;
    int ex = open_scan(cmd, o->dbs, o->n_dbs, o->scan, o->threads, &set, &scan);
    if (ex)
        return ex;
    struct mts_agg *agg = NULL;
    int rc = mts_agg_new(&agg);
    if (rc == -ENOENT) {
        mts_text_printf(stderr,
                        "mtasts-analyze: no public suffix list (libpsl has none built in and "
                        "found none on this system)\n");
        ex = 1;
    } else if (rc || (rc = mts_scanset_foreach(&set, scan, 0, agg_cb, agg)) != 0) {
        ex = fail(scan, rc);
    } else {
        json_t *report = mts_agg_report(agg, scan, set.n);
        FILE *out = report ? open_output(o->output) : NULL;
        if (!report)
            ex = fail("report", -ENOMEM);
        else if (!out)
            ex = 1;
        else if ((rc = close_output(out, render(report, out))) != 0)
            ex = fail(o->output ? o->output : "stdout", rc);
        json_decref(report);
    }
    mts_agg_free(agg);
    mts_scanset_close(&set);
    free(scan);
    return ex;
}

/* Whether one of c's categories is selected by selector (mts_category_selects). */
static bool selects_a_category(const struct mts_classification *c, const char *selector)
{
    for (size_t i = 0; i < c->n_categories; i++)
        if (mts_category_selects(selector, c->categories[i]))
            return true;
    return false;
}

/* Whether the sender profile named name (known to exist) would bounce c's mail. */
static bool profile_would_bounce(const struct mts_classification *c, const char *name)
{
    for (size_t i = 0; i < MTS_N_PROFILES; i++)
        if (strcmp(mts_sender_profiles[i].name, name) == 0)
            return c->profiles[i].would_bounce;
    return false;
}

static int domains_cb(void *arg, const struct mts_scanned *d)
{
    const struct opts *o = arg;
    const struct mts_classification *c = &d->cls;
    bool hit;
    if (o->would_bounce && o->profile)
        hit = profile_would_bounce(c, o->profile);
    else if (o->would_bounce)
        hit = c->would_bounce;
    else if (o->verdict)
        hit = strcmp(c->verdict, o->verdict) == 0;
    else
        hit = selects_a_category(c, o->category);
    if (hit && mts_text_printf(stdout, "%s\n", d->domain) != 0)
        return -EIO;
    return 0;
}

static int cmd_domains(const char *cmd, struct opts *o)
{
    int selectors = (o->category != NULL) + (o->verdict != NULL) + o->would_bounce;
    if (selectors != 1)
        return usage_error(cmd, "give one of --category, --verdict, --would-bounce", NULL);
    if (o->profile && !o->would_bounce)
        return usage_error(cmd, "--profile goes with --would-bounce", NULL);
    const char *profiles[MTS_N_PROFILES];
    for (size_t i = 0; i < MTS_N_PROFILES; i++)
        profiles[i] = mts_sender_profiles[i].name;
    if (o->profile && !mts_name_known(o->profile, profiles, MTS_N_PROFILES))
        return unknown_name(cmd, "profile", o->profile,
                            mts_name_closest(o->profile, profiles, MTS_N_PROFILES), profiles,
                            MTS_N_PROFILES, NULL);
    if (o->category && !mts_category_selector_ok(o->category))
        return unknown_name(cmd, "category", o->category, mts_category_closest(o->category),
                            mts_category_names, mts_n_category_names,
                            " (a name, its type before the \"/\", or a prefix ending at \"/\")");
    if (o->verdict && !mts_name_known(o->verdict, mts_verdict_names, mts_n_verdict_names))
        return unknown_name(cmd, "verdict", o->verdict,
                            mts_name_closest(o->verdict, mts_verdict_names, mts_n_verdict_names),
                            mts_verdict_names, mts_n_verdict_names, NULL);
    struct mts_scanset set;
    char *scan = NULL;
    int ex = open_scan(cmd, o->dbs, o->n_dbs, o->scan, o->threads, &set, &scan);
    if (ex)
        return ex;
    int rc = close_output(stdout, mts_scanset_foreach(&set, scan, 0, domains_cb, o));
    ex = rc ? fail(scan, rc) : 0;
    mts_scanset_close(&set);
    free(scan);
    return ex;
}

static int cmd_explain(const char *cmd, struct opts *o, int argc, char **argv)
{
    if (argc - optind != 1)
        return usage_error(cmd, "give exactly one DOMAIN", NULL);
    /* The store keys are the scanner's normalised names: "EXAMPLE.COM." is example.com. */
    char domain[MTS_NAME_MAX + 1];
    const char *detail = NULL;
    int nrc = mts_name_normalize(argv[optind], strlen(argv[optind]), 0, domain, &detail);
    if (nrc < 0)
        return fail(argv[optind], -ENOMEM);
    if (nrc > 0) {
        fprintf(stderr, "mtasts-analyze explain: not a domain name (%s%s%s): %s\n",
                mts_reject_name(nrc), detail ? ", " : "", detail ? detail : "", argv[optind]);
        return EXIT_USAGE;
    }
    struct mts_scanset set;
    char *scan = NULL;
    int ex = open_scan(cmd, o->dbs, o->n_dbs, o->scan, o->threads, &set, &scan);
    if (ex)
        return ex;
    json_t *raw = NULL, *cls = NULL;
    int rc = mts_scanset_get(&set, scan, domain, &raw, &cls);
    if (rc == MTS_STORE_NOTFOUND) {
        mts_text_printf(stderr, "mtasts-analyze: %s is not in scan %s\n", domain, scan);
        ex = 1;
    } else if (rc) {
        ex = fail(domain, rc);
    } else {
        json_t *e = mts_export_domain(scan, domain, raw, cls);
        rc = e ? close_output(stdout, mts_explain(e, stdout)) : -ENOMEM;
        ex = rc ? fail(domain, rc) : 0;
        json_decref(e);
    }
    json_decref(raw);
    json_decref(cls);
    mts_scanset_close(&set);
    free(scan);
    return ex;
}

struct export_ctx {
    const char *scan;
    FILE *out;
    bool csv;
};

static int export_cb(void *arg, const struct mts_scanned *d)
{
    struct export_ctx *x = arg;
    json_t *e = mts_export_domain(x->scan, d->domain, d->raw, d->view);
    int rc = !e       ? -ENOMEM
             : x->csv ? mts_export_csv_row(e, x->out)
                      : mts_export_jsonl_row(e, x->out);
    json_decref(e);
    return rc;
}

static int cmd_export(const char *cmd, struct opts *o)
{
    if (!o->format)
        return usage_error(cmd, "--format jsonl|csv is required", NULL);
    if (!mts_name_known(o->format, export_formats, N_OF(export_formats)))
        return unknown_format(cmd, o->format, export_formats, N_OF(export_formats));
    struct mts_scanset set;
    char *scan = NULL;
    int ex = open_scan(cmd, o->dbs, o->n_dbs, o->scan, o->threads, &set, &scan);
    if (ex)
        return ex;
    struct export_ctx x = {scan, open_output(o->output), strcmp(o->format, "csv") == 0};
    if (!x.out) {
        ex = 1;
    } else {
        int rc = x.csv ? mts_export_csv_header(x.out) : 0;
        if (rc == 0)
            rc = mts_scanset_foreach(&set, scan, MTS_SCANSET_VIEWS, export_cb, &x);
        rc = close_output(x.out, rc);
        ex = rc ? fail(scan, rc) : 0;
    }
    mts_scanset_close(&set);
    free(scan);
    return ex;
}

struct disclose_ctx {
    const char *scan, *selector;
    FILE *out;
    bool csv;
};

/* The view is built only for the domains disclosed: a campaign selects a few. */
static int disclose_cb(void *arg, const struct mts_scanned *d)
{
    struct disclose_ctx *x = arg;
    if (!selects_a_category(&d->cls, x->selector))
        return 0;
    json_t *view = mts_view_json(&d->cls, d->raw);
    json_t *e = view ? mts_export_domain(x->scan, d->domain, d->raw, view) : NULL;
    json_decref(view);
    int rc = !e       ? -ENOMEM
             : x->csv ? mts_disclose_csv_row(e, x->selector, x->out)
                      : mts_disclose_text(e, x->selector, x->out);
    json_decref(e);
    return rc;
}

static int cmd_disclose(const char *cmd, struct opts *o)
{
    const char *format = o->format ? o->format : "text";
    if (!mts_name_known(format, disclose_formats, N_OF(disclose_formats)))
        return unknown_format(cmd, format, disclose_formats, N_OF(disclose_formats));
    if (!o->category)
        return usage_error(cmd, "--category C is required", NULL);
    if (!mts_category_selector_ok(o->category))
        return unknown_name(cmd, "category", o->category, mts_category_closest(o->category),
                            mts_category_names, mts_n_category_names,
                            " (a name, its type before the \"/\", or a prefix ending at \"/\")");
    struct mts_scanset set;
    char *scan = NULL;
    int ex = open_scan(cmd, o->dbs, o->n_dbs, o->scan, o->threads, &set, &scan);
    if (ex)
        return ex;
    struct disclose_ctx x = {scan, o->category, open_output(o->output), strcmp(format, "csv") == 0};
    if (!x.out) {
        ex = 1;
    } else {
        int rc = x.csv ? mts_disclose_csv_header(x.out) : 0;
        if (rc == 0)
            rc = mts_scanset_foreach(&set, scan, 0, disclose_cb, &x);
        rc = close_output(x.out, rc);
        ex = rc ? fail(scan, rc) : 0;
    }
    mts_scanset_close(&set);
    free(scan);
    return ex;
}

struct diff_ctx {
    struct mts_diff *diff;
    unsigned long long matched, walked;
};

static int diff_cb(void *arg, const struct mts_scanned *old, const struct mts_scanned *new)
{
    struct diff_ctx *d = arg;
    if (!new)
        return mts_diff_not_rechecked(d->diff, old->domain, old->view);
    d->matched++;
    return mts_diff_add(d->diff, old->domain, old->view, new->view);
}

/* --rechecked-only: the walk goes over NEW, each domain paired with its OLD record. */
static int recheck_cb(void *arg, const struct mts_scanned *new, const struct mts_scanned *old)
{
    struct diff_ctx *d = arg;
    d->walked++;
    if (!old)
        return 0;
    d->matched++;
    return mts_diff_add(d->diff, new->domain, old->view, new->view);
}

/* Fill d over OLD and NEW; either every domain of OLD is classified (the not-rechecked
 * counts need its categories) or, with rechecked_only, only NEW's domains and their pairs. */
static int diff_walk(struct diff_ctx *d, const struct mts_scanset *old_set, const char *old_scan,
                     const struct mts_scanset *new_set, const char *new_scan, bool rechecked_only)
{
    unsigned long long total = 0;
    int rc;
    if (rechecked_only) {
        rc = mts_scanset_foreach_pair(new_set, new_scan, old_set, old_scan, MTS_SCANSET_VIEWS,
                                      recheck_cb, d);
        if (rc == 0)
            rc = mts_scanset_count(old_set, old_scan, &total);
        if (rc == 0) {
            mts_diff_only(d->diff, true, total - d->matched);
            mts_diff_only(d->diff, false, d->walked - d->matched);
        }
        return rc;
    }
    rc = mts_scanset_foreach_pair(old_set, old_scan, new_set, new_scan, MTS_SCANSET_VIEWS, diff_cb,
                                  d);
    if (rc == 0)
        rc = mts_scanset_count(new_set, new_scan, &total);
    if (rc == 0)
        mts_diff_only(d->diff, false, total - d->matched);
    return rc;
}

static int cmd_diff(const char *cmd, struct opts *o, int argc, char **argv)
{
    if (argc - optind != 2)
        return usage_error(cmd, "give the OLD and NEW scan ids", NULL);
    const char *format = o->format ? o->format : "text";
    if (!mts_name_known(format, text_json_formats, N_OF(text_json_formats)))
        return unknown_format(cmd, format, text_json_formats, N_OF(text_json_formats));
    bool split = o->n_old || o->n_new;
    if (split ? (o->n_dbs || !o->n_old || !o->n_new) : !o->n_dbs)
        return usage_error(cmd, "give --db DIR..., or both --old-db and --new-db", NULL);
    struct mts_scanset old_set, new_set;
    char *old_scan = NULL, *new_scan = NULL;
    int ex = open_scan(cmd, split ? o->old_dbs : o->dbs, split ? o->n_old : o->n_dbs, argv[optind],
                       o->threads, &old_set, &old_scan);
    if (ex)
        return ex;
    const struct mts_scanset *nset = &old_set;
    if (split) {
        ex =
            open_scan(cmd, o->new_dbs, o->n_new, argv[optind + 1], o->threads, &new_set, &new_scan);
        nset = &new_set;
    } else {
        char why[256] = "";
        int rc = mts_scanset_select(&old_set, argv[optind + 1], &new_scan, why, sizeof why);
        if (rc) {
            mts_text_printf(stderr, "mtasts-analyze: %s\n", *why ? why : mts_scanset_strerror(rc));
            if (rc == MTS_SCANSET_ESCAN)
                print_scan_ids(&old_set, o->dbs);
            ex = 1;
        }
    }
    if (ex) {
        mts_scanset_close(&old_set);
        free(old_scan);
        return ex;
    }
    bool is_json = strcmp(format, "json") == 0;
    struct diff_ctx d = {NULL, 0, 0};
    int rc = mts_diff_new(&d.diff, o->list || is_json, !o->rechecked_only);
    if (rc == 0)
        rc = diff_walk(&d, &old_set, old_scan, nset, new_scan, o->rechecked_only);
    if (rc == 0) {
        json_t *j = mts_diff_json(d.diff, old_scan, new_scan);
        rc = !j ? -ENOMEM : is_json ? mts_report_json(j, stdout) : mts_diff_text(j, stdout);
        rc = close_output(stdout, rc);
        json_decref(j);
    }
    ex = rc ? fail("diff", rc) : 0;
    mts_diff_free(d.diff);
    if (split)
        mts_scanset_close(&new_set);
    mts_scanset_close(&old_set);
    free(old_scan);
    free(new_scan);
    return ex;
}

/* Keeps a scan's metadata, named by its key (the record's own "scan" is not trusted). */
static int collect_scan(void *arg, const char *scan, json_t *rec)
{
    if (!json_is_object(rec)) {
        json_decref(rec);
        return 0;
    }
    if (json_object_set_new(rec, "scan", json_string(scan))) {
        json_decref(rec);
        return -ENOMEM;
    }
    return json_array_append_new(arg, rec) ? -ENOMEM : 0;
}

/* The scans of one store, each its metadata plus "store" and "records" (domain records
   stored). */
static int store_scans(struct mts_store *store, const char *dir, json_t *out)
{
    json_t *metas = json_array();
    int rc = metas ? mts_store_foreach_scan(store, collect_scan, metas) : -ENOMEM;
    size_t i;
    json_t *meta;
    json_array_foreach(metas, i, meta)
    {
        uint64_t records = 0;
        if (rc == 0)
            rc = mts_store_count_domains(store, json_string_value(json_object_get(meta, "scan")),
                                         &records);
        if (rc == 0 && (json_object_set_new(meta, "store", json_string(dir)) ||
                        json_object_set_new(meta, "records", json_integer((json_int_t)records)) ||
                        json_array_append(out, meta)))
            rc = -ENOMEM;
    }
    json_decref(metas);
    return rc;
}

/* A time of the metadata as ISO 8601 UTC, or "-" when absent. */
static void put_time(FILE *out, const json_t *t)
{
    char text[32] = "-";
    time_t secs = (time_t)json_number_value(t);
    struct tm tm;
    if (json_is_number(t) && gmtime_r(&secs, &tm))
        strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(out, "%s\t", text);
}

/* A stored string on one line of the table: tabs and control bytes become '?'. */
static void put_field(FILE *out, const char *text, char sep)
{
    for (const unsigned char *p = (const unsigned char *)(text ? text : "-"); *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
    fputc(sep, out);
}

static int scans_text(const json_t *scans, FILE *out)
{
    fputs("store\tscan\tstate\tstart\tend\tshard\trecords\tresumed\targv\n", out);
    size_t i, j;
    json_t *m, *arg;
    json_array_foreach(scans, i, m)
    {
        put_field(out, json_string_value(json_object_get(m, "store")), '\t');
        put_field(out, json_string_value(json_object_get(m, "scan")), '\t');
        put_field(out, json_string_value(json_object_get(m, "state")), '\t');
        put_time(out, json_object_get(m, "t_start"));
        put_time(out, json_object_get(m, "t_end"));
        put_field(out, json_string_value(json_object_get(m, "shard")), '\t');
        const json_t *resumed = json_object_get(json_object_get(m, "counts"), "resumed");
        fprintf(out, "%lld\t", (long long)json_integer_value(json_object_get(m, "records")));
        if (resumed)
            fprintf(out, "%lld\t", (long long)json_integer_value(resumed));
        else
            fputs("-\t", out);
        const json_t *argv = json_object_get(m, "argv");
        json_array_foreach(argv, j, arg)
        {
            put_field(out, json_string_value(arg), j + 1 < json_array_size(argv) ? ' ' : '\n');
        }
        if (json_array_size(argv) == 0)
            fputs("-\n", out);
    }
    return ferror(out) ? -EIO : 0;
}

static int cmd_scans(const char *cmd, struct opts *o)
{
    const char *format = o->format ? o->format : "text";
    if (!mts_name_known(format, text_json_formats, N_OF(text_json_formats)))
        return unknown_format(cmd, format, text_json_formats, N_OF(text_json_formats));
    if (o->n_dbs == 0)
        return usage_error(cmd, "--db DIR is required", NULL);
    struct mts_scanset set;
    const char *bad = NULL;
    int rc = mts_scanset_open(&set, o->dbs, o->n_dbs, &bad);
    if (rc) {
        fprintf(stderr, "mtasts-analyze: %s: %s\n", bad ? bad : "store", mts_scanset_strerror(rc));
        return 1;
    }
    json_t *scans = json_array();
    rc = scans ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < set.n; i++)
        if ((rc = store_scans(set.stores[i], o->dbs[i], scans)) != 0)
            bad = o->dbs[i];
    if (rc == 0) {
        rc = strcmp(format, "json") == 0 ? mts_report_json(scans, stdout)
                                         : scans_text(scans, stdout);
        rc = close_output(stdout, rc);
        bad = "stdout";
    }
    json_decref(scans);
    mts_scanset_close(&set);
    return rc ? fail(bad ? bad : "scans", rc) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error(NULL, "missing command", NULL);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("mtasts-analyze %s\n", MTS_VERSION);
        return 0;
    }
    if (!command_help(cmd))
        return usage_error(NULL, "unknown command", cmd);
    struct opts o = {0};
    int ex = parse_opts(cmd, argc - 1, argv + 1, &o);
    if (ex)
        return ex;
    argc--, argv++;
    if (strcmp(cmd, "summary") == 0) {
        if (o.format)
            return usage_error(cmd, "summary is text; use report --format", NULL);
        return cmd_report(cmd, &o);
    }
    if (strcmp(cmd, "report") == 0)
        return cmd_report(cmd, &o);
    if (o.format && (strcmp(cmd, "domains") == 0 || strcmp(cmd, "explain") == 0))
        return usage_error(cmd, "--format does not apply: the output is text", NULL);
    if (strcmp(cmd, "domains") == 0)
        return cmd_domains(cmd, &o);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(cmd, &o, argc, argv);
    if (strcmp(cmd, "diff") == 0)
        return cmd_diff(cmd, &o, argc, argv);
    if (strcmp(cmd, "scans") == 0)
        return cmd_scans(cmd, &o);
    if (strcmp(cmd, "disclose") == 0)
        return cmd_disclose(cmd, &o);
    return cmd_export(cmd, &o);
}
