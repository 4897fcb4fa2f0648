/*
 * mtasts-world: the simulated Internet a scan runs against, on loopback.
 *
 * Why one process and one loop: every server of the world reads the same model, a test needs
 * one thing to start and stop, and a benchmark of the scanner must not be limited by a
 * thread-per-server design. main only parses options, loads or generates the world, writes the
 * requested outputs, starts the servers and turns signals into a clean shutdown.
 */
#include "blackhole.h"
#include "ca.h"
#include "dns_server.h"
#include "generator.h"
#include "https_server.h"
#include "model.h"
#include "smtp_server.h"
#include "truth.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct options {
    const char *scenario;
    uint64_t generate;
    bool have_generate;
    uint64_t seed;
    double hostile;
    char dns_addr[64];
    uint16_t dns_port;
    uint16_t https_port, smtp_port;
    const char *ca_dir;
    const char *conn_stats;
    struct world_dns_knobs knobs;
    bool have_latency, have_jitter;
    const char *truth, *list, *ready_file;
    bool no_serve;
};

static void usage(FILE *f)
{
    fputs("usage: mtasts-world (--scenario FILE | --generate N [--seed S]) [options]\n"
          "\n"
          "Plays every DNS, HTTPS and SMTP server a scan meets, on 127.0.0.0/8.\n"
          "\n"
          "World:\n"
          "  --scenario FILE     load a scenario file (format: docs/world.md)\n"
          "  --generate N        generate N domains d0000000.example ... (at most 16646143)\n"
          "  --seed S            generator seed (default 1)\n"
          "  --hostile RATIO     with --generate: share of hostile domains, 0..1 (default 0)\n"
          "Servers:\n"
          "  --dns ADDR:PORT     DNS server address (UDP and TCP; default 127.0.0.1:0, 0 = any\n"
          "                      free port)\n"
          "  --https-port N      policy-host HTTPS port (default 0 = any free port)\n"
          "  --smtp-port N       MX SMTP port (default 0 = any free port)\n"
          "  --ca-dir DIR        where the test CA's files are kept (default: ./world-ca)\n"
          "  --conn-stats FILE   SMTP sessions per MX address (max concurrent, total) as JSON,\n"
          "                      written on SIGUSR1 and at exit\n"
          "  --latency MS        DNS reply delay (default: 20 with --generate, 0 with --scenario)\n"
          "  --jitter MS         extra random DNS delay in 0..MS (default: 30 / 0 likewise)\n"
          "  --loss RATIO        ratio of DNS queries dropped, 0..1 (default 0)\n"
          "Outputs:\n"
          "  --truth FILE        ground truth, JSON Lines, one object per domain\n"
          "  --list FILE         the domain list, one name per line\n"
          "  --ready-file FILE   written once listening: key=value lines (dns_addr, dns_port,\n"
          "                      https_port, smtp_port, pid)\n"
          "  --no-serve          write the outputs and exit without serving\n"
          "  --help              this text\n"
          "\n"
          "SIGTERM or SIGINT stops the servers; counters are printed on stderr at exit.\n",
          f);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    enum {
        O_SCENARIO = 256,
        O_GENERATE,
        O_SEED,
        O_DNS,
        O_HTTPS,
        O_SMTP,
        O_CA,
        O_CONNSTATS,
        O_LAT,
        O_JIT,
        O_LOSS,
        O_HOSTILE,
        O_TRUTH,
        O_LIST,
        O_READY,
        O_NOSERVE,
        O_HELP
    };
    static const struct option longopts[] = {{"scenario", required_argument, NULL, O_SCENARIO},
                                             {"generate", required_argument, NULL, O_GENERATE},
                                             {"seed", required_argument, NULL, O_SEED},
                                             {"dns", required_argument, NULL, O_DNS},
                                             {"https-port", required_argument, NULL, O_HTTPS},
                                             {"smtp-port", required_argument, NULL, O_SMTP},
                                             {"ca-dir", required_argument, NULL, O_CA},
                                             {"conn-stats", required_argument, NULL, O_CONNSTATS},
                                             {"latency", required_argument, NULL, O_LAT},
                                             {"jitter", required_argument, NULL, O_JIT},
                                             {"loss", required_argument, NULL, O_LOSS},
                                             {"hostile", required_argument, NULL, O_HOSTILE},
                                             {"truth", required_argument, NULL, O_TRUTH},
                                             {"list", required_argument, NULL, O_LIST},
                                             {"ready-file", required_argument, NULL, O_READY},
                                             {"no-serve", no_argument, NULL, O_NOSERVE},
                                             {"help", no_argument, NULL, O_HELP},
                                             {NULL, 0, NULL, 0}};
    snprintf(o->dns_addr, sizeof o->dns_addr, "127.0.0.1");
    o->seed = 1;
    o->ca_dir = "world-ca";
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_SCENARIO:
            o->scenario = optarg;
            break;
        case O_GENERATE:
            if (parse_u64(optarg, WORLD_GEN_MAX_DOMAINS, &o->generate) < 0)
                return fprintf(stderr, "mtasts-world: bad --generate '%s'\n", optarg), -1;
            o->have_generate = true;
            break;
        case O_SEED:
            if (parse_u64(optarg, UINT64_MAX, &o->seed) < 0)
                return fprintf(stderr, "mtasts-world: bad --seed '%s'\n", optarg), -1;
            break;
        case O_DNS: {
            const char *colon = strrchr(optarg, ':');
            if (!colon || (size_t)(colon - optarg) >= sizeof o->dns_addr ||
                parse_u64(colon + 1, 65535, &v) < 0)
                return fprintf(stderr, "mtasts-world: --dns wants ADDR:PORT\n"), -1;
            snprintf(o->dns_addr, sizeof o->dns_addr, "%.*s", (int)(colon - optarg), optarg);
            o->dns_port = (uint16_t)v;
            break;
        }
        case O_HTTPS:
        case O_SMTP:
            if (parse_u64(optarg, 65535, &v) < 0)
                return fprintf(stderr, "mtasts-world: bad port '%s'\n", optarg), -1;
            *(c == O_HTTPS ? &o->https_port : &o->smtp_port) = (uint16_t)v;
            break;
        case O_CA:
            o->ca_dir = optarg;
            break;
        case O_CONNSTATS:
            o->conn_stats = optarg;
            break;
        case O_LAT:
        case O_JIT:
            if (parse_u64(optarg, 600000, &v) < 0)
                return fprintf(stderr, "mtasts-world: bad delay '%s'\n", optarg), -1;
            if (c == O_LAT)
                o->knobs.latency_ms = (unsigned)v, o->have_latency = true;
            else
                o->knobs.jitter_ms = (unsigned)v, o->have_jitter = true;
            break;
        case O_HOSTILE: {
            char *end;
            o->hostile = strtod(optarg, &end);
            if (*end || end == optarg || !(o->hostile >= 0 && o->hostile <= 1))
                return fprintf(stderr, "mtasts-world: --hostile wants 0..1\n"), -1;
            break;
        }
        case O_LOSS: {
            char *end;
            o->knobs.loss = strtod(optarg, &end);
            if (*end || end == optarg || !(o->knobs.loss >= 0 && o->knobs.loss <= 1))
                return fprintf(stderr, "mtasts-world: --loss wants 0..1\n"), -1;
            break;
        }
        case O_TRUTH:
            o->truth = optarg;
            break;
        case O_LIST:
            o->list = optarg;
            break;
        case O_READY:
            o->ready_file = optarg;
            break;
        case O_NOSERVE:
            o->no_serve = true;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc || (o->scenario != NULL) == o->have_generate) {
        fprintf(stderr, "mtasts-world: give exactly one of --scenario or --generate\n");
        return -1;
    }
    if (o->have_generate) {
        if (!o->have_latency)
            o->knobs.latency_ms = 20;
        if (!o->have_jitter)
            o->knobs.jitter_ms = 30;
    }
    return 0;
}

static int write_output(const char *path, const struct world *w,
                        int (*fn)(const struct world *, FILE *))
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "mtasts-world: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = fn(w, f);
    if (fclose(f) != 0 && rc == 0)
        rc = -WORLD_E_IO;
    if (rc < 0)
        fprintf(stderr, "mtasts-world: %s: %s\n", path, world_strerror(rc));
    return rc;
}

struct ports {
    uint16_t dns, https, smtp;
};

/* The ready file is renamed into place so a test polling for it never reads half of it. */
static int write_ready(const char *path, const struct options *o, const struct ports *p)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "dns_addr=%s\ndns_port=%u\nhttps_port=%u\nsmtp_port=%u\npid=%ld\n", o->dns_addr,
            p->dns, p->https, p->smtp, (long)getpid());
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    fprintf(stderr, "mtasts-world: signal %d, stopping\n", (int)sig);
    event_base_loopbreak(arg);
}

static void print_dns_stats(const struct world_dns_server *dns)
{
    static const char *const rcodes[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                         "NXDOMAIN", "NOTIMP",  "REFUSED"};
    struct world_dns_stats st;
    world_dns_get_stats(dns, &st);
    fprintf(stderr,
            "mtasts-world: dns queries=%" PRIu64 " udp=%" PRIu64 " tcp=%" PRIu64
            " truncated=%" PRIu64 " dropped-loss=%" PRIu64 " dropped-timeout=%" PRIu64
            " malformed=%" PRIu64,
            st.queries, st.udp, st.tcp, st.truncated, st.dropped_loss, st.dropped_timeout,
            st.malformed);
    for (size_t i = 0; i < sizeof rcodes / sizeof rcodes[0]; i++)
        fprintf(stderr, " %s=%" PRIu64, rcodes[i], st.rcode[i]);
    fputc('\n', stderr);
}

static int serve(const struct options *o, struct world *w)
{
    int rc = 1;
    struct world_dns_server *dns = NULL;
    struct world_ca *ca = NULL;
    struct world_https_server *https = NULL;
    struct world_smtp_server *smtp = NULL;
    struct world_blackholes *holes = NULL;
    char err[512] = "";
    struct event *sigterm = NULL, *sigint = NULL;
    struct event_base *base = event_base_new();
    if (!base)
        return 1;
    struct ports ports = {.https = o->https_port, .smtp = o->smtp_port};
    if (world_dns_start(base, w, &o->knobs, o->dns_addr, o->dns_port, &dns) < 0) {
        fprintf(stderr, "mtasts-world: DNS on %s:%u: %s\n", o->dns_addr, o->dns_port,
                strerror(errno));
        goto out;
    }
    ports.dns = world_dns_port(dns);
    fprintf(stderr, "mtasts-world: DNS on %s:%u (UDP and TCP), %" PRIu64 " domains\n", o->dns_addr,
            ports.dns, world_domain_count(w));
    if (!(ca = world_ca_new(o->ca_dir, err, sizeof err)) ||
        !(https = world_https_server_new(base, w, ca, o->https_port, err, sizeof err)) ||
        !(smtp =
              world_smtp_server_new(base, w, ca, o->smtp_port, o->conn_stats, err, sizeof err))) {
        fprintf(stderr, "mtasts-world: %s\n", err);
        goto out;
    }
    ports.https = world_https_server_port(https);
    ports.smtp = world_smtp_server_port(smtp);
    if (world_blackholes_new(&holes, w, ports.https, ports.smtp, err, sizeof err) < 0) {
        fprintf(stderr, "mtasts-world: %s\n", err);
        goto out;
    }
    fprintf(stderr, "mtasts-world: HTTPS on *:%u, SMTP on *:%u, CA %s, %zu connect timeouts\n",
            ports.https, ports.smtp, world_ca_pem_path(ca), world_blackholes_count(holes));
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    sigint = evsignal_new(base, SIGINT, on_signal, base);
    if (!sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0)
        goto out;
    if (o->ready_file && write_ready(o->ready_file, o, &ports) < 0) {
        fprintf(stderr, "mtasts-world: %s: %s\n", o->ready_file, strerror(errno));
        goto out;
    }
    if (event_base_dispatch(base) < 0)
        goto out;
    rc = 0;
out:
    world_blackholes_free(holes);
    world_smtp_server_free(smtp);
    world_https_server_free(https);
    world_ca_free(ca);
    if (dns) {
        print_dns_stats(dns);
        world_dns_free(dns);
    }
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    event_base_free(base);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    if (parse_options(argc, argv, &o) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    struct world *w = NULL;
    char err[512] = "";
    int rc = o.scenario ? world_load_scenario(o.scenario, &w, err, sizeof err)
                        : world_generate_hostile(o.generate, o.seed, o.hostile, &w);
    if (rc < 0) {
        fprintf(stderr, "mtasts-world: %s\n", err[0] ? err : world_strerror(rc));
        return 1;
    }
    int status = 0;
    if (o.list && write_output(o.list, w, world_list_write) < 0)
        status = 1;
    if (status == 0 && o.truth && write_output(o.truth, w, world_truth_write) < 0)
        status = 1;
    if (status == 0 && !o.no_serve)
        status = serve(&o, w);
    world_free(w);
    return status;
}
