/*
 * mtasts-scan: the command line. Parses options into a struct mts_scan_config, handles
 * --help, --version and --dry-run, and hands everything else to the pipeline. Only this
 * file decides to exit or print usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/opensslv.h>

#include "mts_exclude.h"
#include "mts_input.h"
#include "mts_defaults.h"
#include "pipeline.h"
#include "probe_stage.h"
#include "scan_config.h"

/* The layout is the text's own; the defaults come from mts_defaults.h. */
// clang-format off
static const char usage_text[] =
    "Usage: mtasts-scan [OPTIONS] --input FILE [--input FILE ...] --db DIR\n"
    "       mtasts-scan [OPTIONS] --probe-mx-from DIR [...] --scan-id ID --db DIR\n"
    "\n"
    "Scans domains for MTA-STS (RFC 8461): DNS (_mta-sts TXT, MX, TLS-RPT, policy host and\n"
    "MX addresses), the HTTPS policy fetch and SMTP STARTTLS on every MX, and stores the raw\n"
    "observations in an LMDB store for mtasts-analyze.\n"
    "\n"
    "Input:\n"
    "  -i, --input FILE       domain list: plain, CSV rank,domain, .gz, '-' for stdin\n"
    "                         (repeatable)\n"
    "      --exclude FILE     opt-out list: domain suffixes and address ranges (CIDR)\n"
    "      --shard K/N        scan only shard K (0-based) of N, by a stable name hash\n"
    "      --strict           the first invalid input line is fatal\n"
    "      --dry-run          print the names that would be scanned and what was rejected\n"
    "Store:\n"
    "  -d, --db DIR           LMDB store directory (created if absent)\n"
    "      --scan-id ID       name of this scan, at most 64 characters\n"
    "                         (default: scan-YYYYMMDD-HHMMSS, UTC)\n"
    "      --resume           continue scan ID: skip domains already committed\n"
    "Two-stage scans (each MX address probed once across shards; docs/sharding.md):\n"
    "      --stage dns        stage 1: DNS and policy fetch; the record lists the (MX host,\n"
    "                         address) pairs to probe, stage 2 probes them (default: all)\n"
    "      --probe-mx-from DIR  stage 2: probe the pairs listed by scan ID in this stage-1\n"
    "                         store (repeatable: every shard's store) whose address falls in\n"
    "                         --shard K/N, each once; no --input\n"
    "DNS:\n"
    "      --resolver IP[:PORT]  recursive resolver (repeatable; default: resolv.conf)\n"
    "      --rate QPS         DNS queries per second, 0 = unlimited (default " MTS_DEFAULT_STR(MTS_DEFAULT_RATE) ")\n"
    "      --dns-inflight N   DNS queries in flight (default " MTS_DEFAULT_STR(MTS_DEFAULT_DNS_INFLIGHT) ")\n"
    "      --timeout-dns MS   per try (default " MTS_DEFAULT_STR(MTS_DEFAULT_TIMEOUT_DNS_MS) ")\n"
    "      --dns-tries N      tries per query (default " MTS_DEFAULT_STR(MTS_DEFAULT_DNS_TRIES) ")\n"
    "      --dane             also look up TLSA _25._tcp.MX with the DO bit\n"
    "      --dns-cache-bytes N  bound of the scan-wide DNS cache (default " MTS_DEFAULT_STR(MTS_DEFAULT_DNS_CACHE_BYTES) ")\n"
    "Probes:\n"
    "      --no-https         skip the policy fetch\n"
    "      --no-smtp          skip the STARTTLS probes\n"
    "      --smtp-all         probe the MX hosts of every domain (default: only of domains\n"
    "                         that publish an _mta-sts record or serve a policy)\n"
    "      --ipv6             also connect to IPv6 addresses (use it when this machine has\n"
    "                         IPv6 connectivity: without it IPv6-only hosts are not probed)\n"
    "      --https-port N     policy host port (default " MTS_DEFAULT_STR(MTS_DEFAULT_HTTPS_PORT) ")\n"
    "      --smtp-port N      MX port (default " MTS_DEFAULT_STR(MTS_DEFAULT_SMTP_PORT) ")\n"
    "      --ca-file FILE     trust store for policy hosts and MX (default: the system's)\n"
    "      --fetch-unauthenticated  when a policy host fails validation, fetch anyway and\n"
    "                         store the would-be policy, marked unauthenticated\n"
    "      --timeout-connect MS  connect deadline (default " MTS_DEFAULT_STR(MTS_DEFAULT_TIMEOUT_CONNECT_MS) ")\n"
    "      --timeout-https MS  deadline of a whole policy fetch (default " MTS_DEFAULT_STR(MTS_DEFAULT_TIMEOUT_HTTPS_MS) ")\n"
    "      --timeout-smtp MS  per SMTP stage (default " MTS_DEFAULT_STR(MTS_DEFAULT_TIMEOUT_SMTP_MS) ")\n"
    "      --max-body BYTES   policy size bound (default " MTS_DEFAULT_STR(MTS_DEFAULT_MAX_BODY) ")\n"
    "Politeness and limits:\n"
    "  -c, --concurrency N    domains in flight (default " MTS_DEFAULT_STR(MTS_DEFAULT_CONCURRENCY) ")\n"
    "      --per-ip N         connections per destination address (default " MTS_DEFAULT_STR(MTS_DEFAULT_PER_IP) ")\n"
    "      --https-max N      HTTPS transfers at once (default " MTS_DEFAULT_STR(MTS_DEFAULT_HTTPS_MAX) ")\n"
    "      --smtp-max N       SMTP sessions at once (default " MTS_DEFAULT_STR(MTS_DEFAULT_SMTP_MAX) ")\n"
    "      --dns-tcp-max N    DNS TCP fallbacks at once (default " MTS_DEFAULT_STR(MTS_DEFAULT_DNS_TCP_MAX) ")\n"
    "      --queue-timeout MS  longest wait for a connection slot to one address; then the\n"
    "                         probe is recorded as queue-timeout (default " MTS_DEFAULT_STR(MTS_DEFAULT_QUEUE_TIMEOUT_MS) ")\n"
    "      --mx-cache-bytes N  bound of the scan-wide MX probe cache; a key forgotten past\n"
    "                         it is probed again when asked again (default " MTS_DEFAULT_STR(MTS_DEFAULT_MX_CACHE_BYTES) ")\n"
    "      --writer-backlog N  store records waiting for the disk at which no new domain is\n"
    "                         admitted until a quarter remain (default " MTS_DEFAULT_STR(MTS_DEFAULT_WRITER_BACKLOG) ")\n"
    "      --ehlo NAME        EHLO name (default: this host's name)\n"
    "      --user-agent STR   HTTP User-Agent; a scan warns when the EHLO name is the\n"
    "                         default or the User-Agent has no contact URL or address\n"
    "                         (default: " MTS_DEFAULT_USER_AGENT ")\n"
    "      --allow-private    connect to private/loopback/reserved addresses (test worlds)\n"
    "      --grace MS         after SIGINT/SIGTERM, let in-flight domains finish\n"
    "                         (default " MTS_DEFAULT_STR(MTS_DEFAULT_GRACE_MS) ")\n"
    "Output:\n"
    "      --progress         force the progress line; -q, --quiet silences it\n"
    "  -h, --help             this text;  -V, --version\n"
    "\n"
    "The open-files limit is raised to its hard limit at start; when it is still too small\n"
    "for --https-max, --smtp-max and --dns-tcp-max, they are lowered to fit (said on stderr).\n"
    "\n"
    "Exit status: 0 done (also after a clean interruption), 1 runtime error, 2 usage error.\n";
// clang-format on

enum long_only {
    OPT_EXCLUDE = 256,
    OPT_SHARD,
    OPT_STRICT,
    OPT_DRY_RUN,
    OPT_SCAN_ID,
    OPT_RESUME,
    OPT_RESOLVER,
    OPT_RATE,
    OPT_DNS_INFLIGHT,
    OPT_TIMEOUT_DNS,
    OPT_DNS_TRIES,
    OPT_DANE,
    OPT_NO_HTTPS,
    OPT_NO_SMTP,
    OPT_SMTP_ALL,
    OPT_IPV6,
    OPT_HTTPS_PORT,
    OPT_SMTP_PORT,
    OPT_CA_FILE,
    OPT_FETCH_UNAUTH,
    OPT_TIMEOUT_CONNECT,
    OPT_TIMEOUT_HTTPS,
    OPT_TIMEOUT_SMTP,
    OPT_MAX_BODY,
    OPT_PER_IP,
    OPT_HTTPS_MAX,
    OPT_SMTP_MAX,
    OPT_DNS_TCP_MAX,
    OPT_QUEUE_TIMEOUT,
    OPT_WRITER_BACKLOG,
    OPT_DNS_CACHE_BYTES,
    OPT_MX_CACHE_BYTES,
    OPT_EHLO,
    OPT_USER_AGENT,
    OPT_ALLOW_PRIVATE,
    OPT_GRACE,
    OPT_PROGRESS,
    OPT_STAGE,
    OPT_PROBE_MX_FROM,
};

static const struct option long_options[] = {
    {"input", required_argument, NULL, 'i'},
    {"db", required_argument, NULL, 'd'},
    {"concurrency", required_argument, NULL, 'c'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"scan-id", required_argument, NULL, OPT_SCAN_ID},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"resolver", required_argument, NULL, OPT_RESOLVER},
    {"rate", required_argument, NULL, OPT_RATE},
    {"dns-inflight", required_argument, NULL, OPT_DNS_INFLIGHT},
    {"timeout-dns", required_argument, NULL, OPT_TIMEOUT_DNS},
    {"dns-tries", required_argument, NULL, OPT_DNS_TRIES},
    {"dane", no_argument, NULL, OPT_DANE},
    {"no-https", no_argument, NULL, OPT_NO_HTTPS},
    {"no-smtp", no_argument, NULL, OPT_NO_SMTP},
    {"smtp-all", no_argument, NULL, OPT_SMTP_ALL},
    {"ipv6", no_argument, NULL, OPT_IPV6},
    {"https-port", required_argument, NULL, OPT_HTTPS_PORT},
    {"smtp-port", required_argument, NULL, OPT_SMTP_PORT},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"fetch-unauthenticated", no_argument, NULL, OPT_FETCH_UNAUTH},
    {"timeout-connect", required_argument, NULL, OPT_TIMEOUT_CONNECT},
    {"timeout-https", required_argument, NULL, OPT_TIMEOUT_HTTPS},
    {"timeout-smtp", required_argument, NULL, OPT_TIMEOUT_SMTP},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"per-ip", required_argument, NULL, OPT_PER_IP},
    {"https-max", required_argument, NULL, OPT_HTTPS_MAX},
    {"smtp-max", required_argument, NULL, OPT_SMTP_MAX},
    {"dns-tcp-max", required_argument, NULL, OPT_DNS_TCP_MAX},
    {"queue-timeout", required_argument, NULL, OPT_QUEUE_TIMEOUT},
    {"writer-backlog", required_argument, NULL, OPT_WRITER_BACKLOG},
    {"dns-cache-bytes", required_argument, NULL, OPT_DNS_CACHE_BYTES},
    {"mx-cache-bytes", required_argument, NULL, OPT_MX_CACHE_BYTES},
    {"ehlo", required_argument, NULL, OPT_EHLO},
    {"user-agent", required_argument, NULL, OPT_USER_AGENT},
    {"allow-private", no_argument, NULL, OPT_ALLOW_PRIVATE},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"stage", required_argument, NULL, OPT_STAGE},
    {"probe-mx-from", required_argument, NULL, OPT_PROBE_MX_FROM},
    {NULL, 0, NULL, 0},
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mtasts-scan: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'mtasts-scan --help'.\n");
    va_end(ap);
    return 2;
}

/* Parses a decimal in [min, max]; returns false on anything else. */
static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_shard(const char *s, unsigned *k, unsigned *n)
{
    unsigned long kk, nn;
    const char *slash = strchr(s, '/');
    char kbuf[16];
    if (!slash || (size_t)(slash - s) >= sizeof kbuf)
        return false;
    memcpy(kbuf, s, (size_t)(slash - s));
    kbuf[slash - s] = '\0';
    if (!parse_uint(kbuf, 0, 1000000, &kk) || !parse_uint(slash + 1, 1, 1000000, &nn) || kk >= nn)
        return false;
    *k = (unsigned)kk;
    *n = (unsigned)nn;
    return true;
}

static void config_defaults(struct mts_scan_config *c)
{
    memset(c, 0, sizeof *c);
    c->shard_n = 1;
    c->concurrency = MTS_DEFAULT_CONCURRENCY;
    c->dns_inflight = MTS_DEFAULT_DNS_INFLIGHT;
    c->rate = MTS_DEFAULT_RATE;
    c->per_ip = MTS_DEFAULT_PER_IP;
    c->https_max = MTS_DEFAULT_HTTPS_MAX;
    c->smtp_max = MTS_DEFAULT_SMTP_MAX;
    c->dns_tcp_max = MTS_DEFAULT_DNS_TCP_MAX;
    c->queue_ms = MTS_DEFAULT_QUEUE_TIMEOUT_MS;
    c->writer_backlog = MTS_DEFAULT_WRITER_BACKLOG;
    c->dns_cache_bytes = MTS_DEFAULT_DNS_CACHE_BYTES;
    c->mx_cache_bytes = MTS_DEFAULT_MX_CACHE_BYTES;
    c->max_mx = MTS_DEFAULT_MAX_MX;
    c->max_addrs = MTS_DEFAULT_MAX_ADDRS;
    c->smtp_port = MTS_DEFAULT_SMTP_PORT;
    c->https_port = MTS_DEFAULT_HTTPS_PORT;
    c->timeout_dns_ms = MTS_DEFAULT_TIMEOUT_DNS_MS;
    c->dns_tries = MTS_DEFAULT_DNS_TRIES;
    c->timeout_connect_ms = MTS_DEFAULT_TIMEOUT_CONNECT_MS;
    c->timeout_https_ms = MTS_DEFAULT_TIMEOUT_HTTPS_MS;
    c->timeout_smtp_ms = MTS_DEFAULT_TIMEOUT_SMTP_MS;
    c->grace_ms = MTS_DEFAULT_GRACE_MS;
    c->max_body = MTS_DEFAULT_MAX_BODY;
    c->user_agent = MTS_DEFAULT_USER_AGENT;
}

/* Descriptors a scan holds besides its connections and DNS sockets: stdio, the event loop
   and its signal pipe, the store (data, lock) and the writer's wake-up, input files,
   curl's wake-up pair, with slack for libraries. */
#define FD_RESERVED 24

/* UDP sockets of the DNS engine: per address family, enough that each socket's ID space
   stays a quarter full (scanner/dns_engine.c), at least 4. */
static unsigned long dns_udp_sockets(const struct mts_scan_config *c)
{
    unsigned long per_family = (c->dns_inflight + 16383) / 16384;
    return 2 * (per_family < 4 ? 4 : per_family);
}

/* The part of room that a limit of v gets when the limits need need in all; at least 1. */
static unsigned fit_share(unsigned v, unsigned long need, unsigned long room)
{
    unsigned long share = (unsigned long)v * room / need;
    return share < 1 ? 1 : (unsigned)share;
}

/*
 * This machine's limits must never become observations: raises the open-files limit to its
 * hard limit and, when the connections the options allow still do not fit, lowers
 * --https-max, --smtp-max and --dns-tcp-max in proportion. Returns false (with a message)
 * when not even one connection of each kind fits.
 */
static bool fit_open_files(struct mts_scan_config *c)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return true;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit raised = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    unsigned long fixed = FD_RESERVED + dns_udp_sockets(c);
    unsigned long need = (unsigned long)c->https_max + c->smtp_max + c->dns_tcp_max;
    unsigned long limit = rl.rlim_cur == RLIM_INFINITY ? ~0ul : (unsigned long)rl.rlim_cur;
    c->open_files = limit;
    if (limit >= fixed + need)
        return true;
    if (limit < fixed + 3) {
        fprintf(stderr,
                "mtasts-scan: open files: the limit (RLIMIT_NOFILE, raised to its hard limit) is "
                "%lu, too small: a scan needs at least %lu; raise it (ulimit -n)\n",
                limit, fixed + 3);
        return false;
    }
    unsigned long room = limit - fixed;
    unsigned https = fit_share(c->https_max, need, room);
    unsigned smtp = fit_share(c->smtp_max, need, room);
    unsigned tcp = fit_share(c->dns_tcp_max, need, room);
    fprintf(stderr,
            "mtasts-scan: open files: the limit (RLIMIT_NOFILE) is %lu: lowered --https-max %u -> "
            "%u, --smtp-max %u -> %u, --dns-tcp-max %u -> %u to fit\n",
            limit, c->https_max, https, c->smtp_max, smtp, c->dns_tcp_max, tcp);
    c->https_max = https;
    c->smtp_max = smtp;
    c->dns_tcp_max = tcp;
    return true;
}

static int dry_run(const struct mts_scan_config *c, struct mts_exclude *ex)
{
    struct mts_input_opts io = {
        .paths = c->inputs,
        .npaths = c->ninputs,
        .strict = c->strict,
        .shard_k = c->shard_k,
        .shard_n = c->shard_n,
        .exclude = ex,
    };
    return mts_input_dry_run(&io, stdout, stderr) == 0 ? 0 : 1;
}

/* Whether text leads to a person: a URL or a mail address. */
static bool has_contact(const char *text)
{
    return strstr(text, "http://") || strstr(text, "https://") || strchr(text, '@');
}

/*
 * A scan of other people's servers should say who runs it (docs/real-scan.md): warn when
 * the EHLO name is only this host's name or the User-Agent names no contact. Test worlds
 * (--allow-private, loopback hosts) are exempt, and so is a name no probe sends.
 */
static void warn_anonymous(const struct mts_scan_config *c, bool ehlo_is_hostname)
{
    if (c->allow_private)
        return;
    if (!c->no_smtp && ehlo_is_hostname)
        fprintf(stderr,
                "mtasts-scan: warning: the EHLO name is this host's name (%s): give --ehlo "
                "with the scanning address's reverse DNS name, whose web page explains the "
                "scan (docs/real-scan.md)\n",
                c->ehlo);
    if (!c->no_https && !has_contact(c->user_agent))
        fprintf(stderr,
                "mtasts-scan: warning: the User-Agent names no contact (%s): give "
                "--user-agent with a URL that explains the scan and how to opt out "
                "(docs/real-scan.md)\n",
                c->user_agent);
}

/* Stage 2 of a two-stage scan: no input list; the scan id names the stage-1 scan. */
static int probe_stage_main(struct mts_scan_config *c, bool ehlo_is_hostname)
{
    if (c->ninputs || c->defer_probes || c->dry_run || c->exclude_file)
        return usage_error("%s", "--probe-mx-from takes no --input, --stage, --dry-run or "
                                 "--exclude (stage 1 applied the opt-out list)");
    if (!c->db || !c->scan_id)
        return usage_error("%s", "--probe-mx-from needs --db and the --scan-id of stage 1");
    if (c->scan_id[0] == '\0' || strlen(c->scan_id) > MTS_SCAN_ID_MAX)
        return usage_error("--scan-id wants 1 to %d characters", MTS_SCAN_ID_MAX);
    c->no_https = true; /* stage 2 fetches nothing: no User-Agent is sent */
    warn_anonymous(c, ehlo_is_hostname);
    if (!fit_open_files(c))
        return 1;
    char err[512] = "";
    int rc = mts_probe_stage_run(c, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "mtasts-scan: %s\n", err[0] ? err : "probe stage failed");
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct mts_scan_config c;
    config_defaults(&c);
    c.argc = argc;
    c.argv = argv;

    char hostname[HOST_NAME_MAX + 1] = "localhost";
    gethostname(hostname, sizeof hostname - 1);
    c.ehlo = hostname;

    int opt;
    unsigned long v;
    while ((opt = getopt_long(argc, argv, "i:d:c:qhV", long_options, NULL)) != -1) {
        switch (opt) {
        case 'i':
        case OPT_RESOLVER:
        case OPT_PROBE_MX_FROM: {
            const char *name = opt == 'i'            ? "--input"
                               : opt == OPT_RESOLVER ? "--resolver"
                                                     : "--probe-mx-from";
            size_t *n = opt == 'i'            ? &c.ninputs
                        : opt == OPT_RESOLVER ? &c.nresolvers
                                              : &c.nprobe_from;
            const char **list = opt == 'i'            ? c.inputs
                                : opt == OPT_RESOLVER ? c.resolvers
                                                      : c.probe_from;
            if (*n == MTS_SCAN_MAX_LIST)
                return usage_error("too many %s options", name);
            list[(*n)++] = optarg;
            break;
        }
        case OPT_STAGE:
            if (strcmp(optarg, "dns") != 0 && strcmp(optarg, "all") != 0)
                return usage_error("--stage wants dns or all, not '%s'", optarg);
            c.defer_probes = strcmp(optarg, "dns") == 0;
            break;
        case 'd':
            c.db = optarg;
            break;
        case 'q':
            c.quiet = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("mtasts-scan %s (%s)\n", MTS_VERSION, OPENSSL_VERSION_TEXT);
            return 0;
        case OPT_EXCLUDE:
            c.exclude_file = optarg;
            break;
        case OPT_SHARD:
            if (!parse_shard(optarg, &c.shard_k, &c.shard_n))
                return usage_error("--shard wants K/N with 0 <= K < N, not '%s'", optarg);
            break;
        case OPT_STRICT:
            c.strict = true;
            break;
        case OPT_DRY_RUN:
            c.dry_run = true;
            break;
        case OPT_SCAN_ID:
            c.scan_id = optarg;
            break;
        case OPT_RESUME:
            c.resume = true;
            break;
        case OPT_DANE:
            c.dane = true;
            break;
        case OPT_NO_HTTPS:
            c.no_https = true;
            break;
        case OPT_NO_SMTP:
            c.no_smtp = true;
            break;
        case OPT_SMTP_ALL:
            c.smtp_all = true;
            break;
        case OPT_IPV6:
            c.ipv6 = true;
            break;
        case OPT_CA_FILE:
            c.ca_file = optarg;
            break;
        case OPT_FETCH_UNAUTH:
            c.fetch_unauthenticated = true;
            break;
        case OPT_EHLO:
            c.ehlo = optarg;
            break;
        case OPT_USER_AGENT:
            c.user_agent = optarg;
            break;
        case OPT_ALLOW_PRIVATE:
            c.allow_private = true;
            break;
        case OPT_PROGRESS:
            c.progress = true;
            break;
        default: {
            /* The numeric options: one table keeps their bounds in one place. */
            static const struct {
                int opt;
                unsigned long min, max;
                size_t off;
            } nums[] = {
                {'c', 1, 1000000, offsetof(struct mts_scan_config, concurrency)},
                {OPT_RATE, 0, 10000000, offsetof(struct mts_scan_config, rate)},
                {OPT_DNS_INFLIGHT, 1, 1000000, offsetof(struct mts_scan_config, dns_inflight)},
                {OPT_TIMEOUT_DNS, 10, 600000, offsetof(struct mts_scan_config, timeout_dns_ms)},
                {OPT_DNS_TRIES, 1, 20, offsetof(struct mts_scan_config, dns_tries)},
                {OPT_TIMEOUT_CONNECT, 10, 600000,
                 offsetof(struct mts_scan_config, timeout_connect_ms)},
                {OPT_TIMEOUT_HTTPS, 10, 600000, offsetof(struct mts_scan_config, timeout_https_ms)},
                {OPT_TIMEOUT_SMTP, 10, 600000, offsetof(struct mts_scan_config, timeout_smtp_ms)},
                {OPT_PER_IP, 1, 1000, offsetof(struct mts_scan_config, per_ip)},
                {OPT_HTTPS_MAX, 1, 100000, offsetof(struct mts_scan_config, https_max)},
                {OPT_SMTP_MAX, 1, 100000, offsetof(struct mts_scan_config, smtp_max)},
                {OPT_DNS_TCP_MAX, 1, 100000, offsetof(struct mts_scan_config, dns_tcp_max)},
                {OPT_QUEUE_TIMEOUT, 10, 3600000, offsetof(struct mts_scan_config, queue_ms)},
                {OPT_WRITER_BACKLOG, 4, 10000000, offsetof(struct mts_scan_config, writer_backlog)},
                {OPT_DNS_CACHE_BYTES, 65536, 4000000000,
                 offsetof(struct mts_scan_config, dns_cache_bytes)},
                {OPT_MX_CACHE_BYTES, 65536, 4000000000,
                 offsetof(struct mts_scan_config, mx_cache_bytes)},
                {OPT_GRACE, 0, 3600000, offsetof(struct mts_scan_config, grace_ms)},
            };
            size_t i;
            for (i = 0; i < sizeof nums / sizeof nums[0]; i++)
                if (nums[i].opt == opt)
                    break;
            if (i < sizeof nums / sizeof nums[0]) {
                if (!parse_uint(optarg, nums[i].min, nums[i].max, &v))
                    return usage_error("bad number '%s'", optarg);
                unsigned u = (unsigned)v;
                memcpy((char *)&c + nums[i].off, &u, sizeof u);
            } else if (opt == OPT_HTTPS_PORT || opt == OPT_SMTP_PORT) {
                if (!parse_uint(optarg, 1, 65535, &v))
                    return usage_error("bad port '%s'", optarg);
                *(opt == OPT_HTTPS_PORT ? &c.https_port : &c.smtp_port) = (uint16_t)v;
            } else if (opt == OPT_MAX_BODY) {
                if (!parse_uint(optarg, 1024, 64u << 20, &v))
                    return usage_error("bad --max-body '%s'", optarg);
                c.max_body = v;
            } else {
                return usage_error("%s", "unknown option");
            }
        }
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (c.nprobe_from)
        return probe_stage_main(&c, c.ehlo == hostname);
    if (c.ninputs == 0)
        return usage_error("%s", "no --input given");

    struct mts_exclude *ex = NULL;
    if (c.exclude_file) {
        char msg[512];
        if (mts_exclude_new(&ex) != 0 ||
            mts_exclude_load(ex, c.exclude_file, msg, sizeof msg) != 0) {
            fprintf(stderr, "mtasts-scan: %s\n", ex ? msg : "out of memory");
            mts_exclude_free(ex);
            return 1;
        }
    }
    if (c.dry_run) {
        int rc = dry_run(&c, ex);
        mts_exclude_free(ex);
        return rc;
    }
    if (!c.db) {
        mts_exclude_free(ex);
        return usage_error("%s", "no --db given");
    }
    if (c.resume && !c.scan_id) {
        mts_exclude_free(ex);
        return usage_error("%s", "--resume needs the --scan-id of the scan to continue");
    }
    /* Every record's key starts with the scan id; keys are bounded (LMDB: 511 bytes). */
    if (c.scan_id && (c.scan_id[0] == '\0' || strlen(c.scan_id) > MTS_SCAN_ID_MAX)) {
        mts_exclude_free(ex);
        return usage_error("--scan-id wants 1 to %d characters", MTS_SCAN_ID_MAX);
    }
    char default_id[64];
    if (!c.scan_id) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(default_id, sizeof default_id, "scan-%Y%m%d-%H%M%S", &tm);
        c.scan_id = default_id;
    }

    warn_anonymous(&c, c.ehlo == hostname);
    if (!fit_open_files(&c)) {
        mts_exclude_free(ex);
        return 1;
    }
    char err[512] = "";
    int rc = mts_pipeline_run(&c, ex, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "mtasts-scan: %s\n", err[0] ? err : "scan failed");
    mts_exclude_free(ex);
    return rc == 0 ? 0 : 1;
}
