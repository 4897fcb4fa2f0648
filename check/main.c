/*
 * mtasts-check: one domain, one command. Runs mtasts-scan on that one name (same engines,
 * limits and politeness as a scan: every scan option is passed on), then reads the record
 * back and prints mtasts-analyze's explain view, or its export object with --format json.
 * Why a separate program that runs the scanner: the scanner never links the analysis, and
 * a check is exactly a scan of one name. Exit status by verdict (docs/check.md).
 */
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "explain.h"
#include "export.h"
#include "mts_name.h"
#include "scanset.h"
#include "text_safe.h"

enum check_exit {
    EXIT_VALID = 0,
    EXIT_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_NO_MTA_STS = 3,
    EXIT_MISCONFIGURED = 4,
    EXIT_INDETERMINATE = 5,
};

#define MAX_SCAN_ARGS 256

static const char usage_text[] =
    "Usage: mtasts-check [OPTIONS] [SCAN OPTIONS] DOMAIN\n"
    "\n"
    "Checks one domain live: resolves, fetches the policy and probes the MX hosts with\n"
    "mtasts-scan (same engines, limits and politeness as a scan), then explains the result\n"
    "the way 'mtasts-analyze explain' does.\n"
    "\n"
    "  -d, --db DIR       keep the record in this store (default: a temporary store,\n"
    "                     removed afterwards)\n"
    "      --scan-id ID   name of the check's scan (default: check-YYYYMMDD-HHMMSS-PID)\n"
    "      --format F     text (default) or json (the export object, one line)\n"
    "  -h, --help         this text;  -V, --version\n"
    "Every other option is an mtasts-scan option (--resolver, --ehlo, --user-agent,\n"
    "--timeout-*, --ca-file, --ipv6, --dane, --smtp-all, ...) and is passed on unchanged;\n"
    "--input, --shard, --resume and --dry-run make no sense for one domain.\n"
    "\n"
    "Exit status: 0 valid-enforce, valid-testing or valid-none; 3 no-mta-sts;\n"
    "4 misconfigured; 5 indeterminate; 1 runtime error (also: the domain was excluded);\n"
    "2 usage error.\n";

struct check_opts {
    const char *db, *scan_id, *domain_arg;
    bool json;
    char *scan_argv[MAX_SCAN_ARGS];
    int scan_argc;
};

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "mtasts-check: %s%s%s\nTry 'mtasts-check --help'.\n", msg, arg ? ": " : "",
            arg ? arg : "");
    return EXIT_USAGE;
}

/* The value of an option given as "--name VALUE" or "--name=VALUE"; NULL when argv[*i]
   is not that option. Advances *i past a separate value. */
static const char *option_value(int argc, char **argv, int *i, const char *lname, const char *sname,
                                bool *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(lname);
    if (strncmp(a, lname, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (strcmp(a, lname) != 0 && !(sname && strcmp(a, sname) == 0))
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

static bool scan_only_option(const char *a)
{
    static const char *const refused[] = {"-i", "--input", "--shard", "--resume", "--dry-run"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        size_t n = strlen(refused[i]);
        if (strncmp(a, refused[i], n) == 0 && (a[n] == '\0' || a[n] == '='))
            return true;
    }
    return false;
}

/* Splits the command line: this program's options, the scan options, and DOMAIN (the last
   argument). Returns 0, or an exit status after printing what is wrong. */
static int parse_args(int argc, char **argv, struct check_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool missing = false;
        const char *v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("mtasts-check %s\n", MTS_VERSION);
            exit(0);
        }
        if (i == argc - 1 && a[0] != '-') {
            o->domain_arg = a;
        } else if ((v = option_value(argc, argv, &i, "--db", "-d", &missing))) {
            o->db = v;
        } else if ((v = option_value(argc, argv, &i, "--scan-id", NULL, &missing))) {
            o->scan_id = v;
        } else if ((v = option_value(argc, argv, &i, "--format", NULL, &missing))) {
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
                return usage_error("unknown format (valid: text, json)", v);
            o->json = strcmp(v, "json") == 0;
        } else if (missing) {
            return usage_error("option needs a value", a);
        } else if (scan_only_option(a)) {
            return usage_error("not an option of a one-domain check", a);
        } else if (o->scan_argc == MAX_SCAN_ARGS) {
            return usage_error("too many options", NULL);
        } else {
            o->scan_argv[o->scan_argc++] = argv[i];
        }
    }
    if (!o->domain_arg)
        return usage_error("give the DOMAIN to check as the last argument", NULL);
    return 0;
}

/* The mtasts-scan beside this program (an installed bin/ or the build tree), else the one
   on PATH. */
static void scanner_path(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        snprintf(out, len, "%s/mtasts-scan", dirname(self));
        if (access(out, X_OK) == 0)
            return;
    }
    snprintf(out, len, "mtasts-scan");
}

/* Runs mtasts-scan with its stdout on our stderr (stdout carries only the check's view).
   Returns the scanner's exit status, or -1 when it could not run. */
static int run_scanner(const struct check_opts *o, const char *input, const char *db,
                       const char *scan_id)
{
    char path[PATH_MAX];
    scanner_path(path, sizeof path);
    char *args[MAX_SCAN_ARGS + 16];
    int n = 0;
    args[n++] = "mtasts-scan";
    args[n++] = "--input", args[n++] = (char *)input;
    args[n++] = "--db", args[n++] = (char *)db;
    args[n++] = "--scan-id", args[n++] = (char *)scan_id;
    args[n++] = "--quiet";
    for (int i = 0; i < o->scan_argc; i++)
        args[n++] = o->scan_argv[i];
    args[n] = NULL;

    /* Ctrl-C reaches the scanner too; it finishes the domain and exits, and we report. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int;
    sigaction(SIGINT, &ign, &old_int);
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        if (strchr(path, '/'))
            execv(path, args);
        else
            execvp(path, args);
        fprintf(stderr, "mtasts-check: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    int status = -1;
    if (pid > 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    sigaction(SIGINT, &old_int, NULL);
    if (pid < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int verdict_exit(const char *verdict)
{
    if (!verdict)
        return EXIT_INDETERMINATE;
    if (strncmp(verdict, "valid-", 6) == 0)
        return EXIT_VALID;
    if (strcmp(verdict, "no-mta-sts") == 0)
        return EXIT_NO_MTA_STS;
    if (strcmp(verdict, "misconfigured") == 0)
        return EXIT_MISCONFIGURED;
    return EXIT_INDETERMINATE;
}

/* Prints the stored record of domain in scan_id; returns the exit status. */
static int explain_record(const struct check_opts *o, char *db, const char *scan_id,
                          const char *domain)
{
    struct mts_scanset set = {0};
    const char *bad = NULL;
    char *scan = NULL;
    char why[256] = "";
    json_t *raw = NULL, *cls = NULL;
    int rc = mts_scanset_open(&set, &db, 1, &bad);
    if (rc == 0)
        rc = mts_scanset_select(&set, scan_id, &scan, why, sizeof why);
    if (rc == 0)
        rc = mts_scanset_get(&set, scan, domain, &raw, &cls);
    int ex = EXIT_RUNTIME;
    if (rc == MTS_STORE_NOTFOUND) {
        mts_text_printf(stderr,
                        "mtasts-check: %s was not scanned (excluded by --exclude, or the check was "
                        "interrupted)\n",
                        domain);
    } else if (rc) {
        mts_text_printf(stderr, "mtasts-check: %s: %s\n", db,
                        *why ? why : mts_scanset_strerror(rc));
    } else {
        json_t *e = mts_export_domain(scan, domain, raw, cls);
        rc = !e ? -ENOMEM : o->json ? json_dumpf(e, stdout, JSON_COMPACT) : mts_explain(e, stdout);
        if (rc == 0 && o->json && fputc('\n', stdout) == EOF)
            rc = -EIO;
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = -EIO;
        if (rc)
            fprintf(stderr, "mtasts-check: %s\n", rc == -ENOMEM ? "out of memory" : "write error");
        else
            ex = verdict_exit(json_string_value(json_object_get(cls, "verdict")));
        json_decref(e);
    }
    json_decref(raw);
    json_decref(cls);
    mts_scanset_close(&set);
    free(scan);
    return ex;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int write_input(const char *path, const char *domain)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    int rc = fprintf(f, "%s\n", domain) < 0 ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

int main(int argc, char **argv)
{
    struct check_opts o = {0};
    int ex = parse_args(argc, argv, &o);
    if (ex)
        return ex;
    char domain[MTS_NAME_MAX + 1];
    const char *detail = NULL;
    int nrc = mts_name_normalize(o.domain_arg, strlen(o.domain_arg), 0, domain, &detail);
    if (nrc != 0) {
        fprintf(stderr, "mtasts-check: not a domain name (%s%s%s): ",
                nrc < 0 ? "out of memory" : mts_reject_name(nrc), detail ? ", " : "",
                detail ? detail : "");
        mts_text_printf(stderr, "%s\n", o.domain_arg);
        return nrc < 0 ? EXIT_RUNTIME : EXIT_USAGE;
    }

    const char *tmp = getenv("TMPDIR");
    char work[PATH_MAX], input[PATH_MAX + 16], tmpdb[PATH_MAX + 16], id[96];
    snprintf(work, sizeof work, "%s/mtasts-check.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work)) {
        fprintf(stderr, "mtasts-check: temporary directory: %s\n", strerror(errno));
        return EXIT_RUNTIME;
    }
    snprintf(input, sizeof input, "%s/domain.txt", work);
    snprintf(tmpdb, sizeof tmpdb, "%s/db", work);
    if (!o.scan_id) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(id, sizeof id, "check-%s-%ld", stamp, (long)getpid());
        o.scan_id = id;
    }
    char *db = o.db ? (char *)o.db : tmpdb;

    int rc = write_input(input, domain);
    if (rc) {
        fprintf(stderr, "mtasts-check: %s: %s\n", input, strerror(-rc));
        ex = EXIT_RUNTIME;
    } else {
        int st = run_scanner(&o, input, db, o.scan_id);
        if (st == 2)
            ex = EXIT_USAGE; /* the scanner said which option */
        else if (st != 0)
            ex = EXIT_RUNTIME;
        else
            ex = explain_record(&o, db, o.scan_id, domain);
    }
    nftw(work, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return ex;
}
