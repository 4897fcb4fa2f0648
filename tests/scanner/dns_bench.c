/*
 * dns_bench: drives the DNS engine as hard as its limits allow against one or more
 * resolvers, to compare it with dnsperf on the same server. Queries cycle through the
 * names of a file and the given types; the engine's FIFO is kept short by issuing new
 * queries only as old ones finish, so memory stays flat for any count.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns_engine.h"
#include "mts_defaults.h"

#define MAX_TYPES 8

struct bench {
    struct event_base *base;
    struct mts_dns *dns;
    char **names;
    size_t nnames;
    ldns_rr_type types[MAX_TYPES];
    size_t ntypes;
    unsigned flags;
    unsigned long long count, issued, done, window;
    unsigned long long results[8];
    int failed;
};

static const char *const result_names[] = {"answer",  "nodata", "nxdomain", "servfail",
                                           "refused", "error",  "timeout",  "other"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_reply(void *arg, char *obs, const struct mts_dns_reply *reply);

static void issue(struct bench *b)
{
    while (!b->failed && b->issued < b->count && b->issued - b->done < b->window) {
        unsigned long long i = b->issued++;
        const char *name = b->names[(i / b->ntypes) % b->nnames];
        int rc = mts_dns_query(b->dns, name, b->types[i % b->ntypes], b->flags, on_reply, b);
        if (rc) {
            fprintf(stderr, "dns_bench: %s: %s\n", name, mts_dns_strerror(rc));
            b->failed = 1;
            event_base_loopbreak(b->base);
        }
    }
}

static void on_reply(void *arg, char *obs, const struct mts_dns_reply *reply)
{
    struct bench *b = arg;
    /* The observation's "result" value, read off the text without parsing it all. */
    const char *res = obs ? strstr(obs, "\"result\":\"") : NULL;
    size_t k = 0;

    (void)reply;
    if (res)
        res += strlen("\"result\":\"");
    while (k < 7 && (!res || strncmp(res, result_names[k], strlen(result_names[k])) != 0 ||
                     res[strlen(result_names[k])] != '"'))
        k++;
    b->results[k]++;
    free(obs);
    if (++b->done == b->count)
        event_base_loopbreak(b->base);
    else
        issue(b);
}

static int read_names(struct bench *b, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t cap = 0;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, " \t\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        if (b->nnames == cap) {
            cap = cap ? 2 * cap : 1024;
            b->names = realloc(b->names, cap * sizeof *b->names);
        }
        b->names[b->nnames++] = strdup(line);
    }
    fclose(f);
    return b->nnames ? 0 : -1;
}

static int parse_types(struct bench *b, char *list)
{
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        ldns_rr_type type = ldns_get_rr_type_by_name(t);
        if (!type || b->ntypes == MAX_TYPES)
            return -1;
        b->types[b->ntypes++] = type;
    }
    return b->ntypes ? 0 : -1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dns_bench --names FILE [options]\n"
            "  --resolver IP[:PORT]  repeatable (default: /etc/resolv.conf)\n"
            "  --count N             queries to send (default: names x types)\n"
            "  --types A,MX,TXT      query types, cycled (default A)\n"
            "  --inflight N          engine max_inflight (default %d)\n"
            "  --rate QPS            engine rate limit (default %d = none)\n"
            "  --timeout MS          per try (default %d)\n"
            "  --tries N             (default %d)\n"
            "  --cache               set MTS_DNS_CACHE on every query\n",
            MTS_DEFAULT_DNS_INFLIGHT, MTS_DEFAULT_RATE, MTS_DEFAULT_TIMEOUT_DNS_MS,
            MTS_DEFAULT_DNS_TRIES);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"names", required_argument, NULL, 'n'},
                                             {"resolver", required_argument, NULL, 'r'},
                                             {"count", required_argument, NULL, 'c'},
                                             {"types", required_argument, NULL, 't'},
                                             {"inflight", required_argument, NULL, 'i'},
                                             {"rate", required_argument, NULL, 'q'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             {"tries", required_argument, NULL, 'k'},
                                             {"cache", no_argument, NULL, 'C'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct bench b = {0};
    struct mts_dns_opts o = {0};
    const char *resolvers[16], *names = NULL;
    struct mts_dns_stats st;
    char types[] = "A";
    int opt, rc;
    double t0, dt;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            names = optarg;
            break;
        case 'r':
            if (o.nresolvers == 16)
                return fprintf(stderr, "dns_bench: at most 16 resolvers\n"), 2;
            resolvers[o.nresolvers++] = optarg;
            break;
        case 'c':
            b.count = strtoull(optarg, NULL, 10);
            break;
        case 't':
            if (parse_types(&b, optarg))
                return fprintf(stderr, "dns_bench: bad --types\n"), 2;
            break;
        case 'i':
            o.max_inflight = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'q':
            o.rate_qps = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'T':
            o.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'k':
            o.tries = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'C':
            b.flags |= MTS_DNS_CACHE;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!names || read_names(&b, names))
        return usage(stderr), 2;
    if (!b.ntypes)
        parse_types(&b, types);
    if (!b.count)
        b.count = b.nnames * b.ntypes;
    o.resolvers = resolvers;
    b.base = event_base_new();
    if ((rc = mts_dns_new(&b.dns, b.base, &o)) != 0)
        return fprintf(stderr, "dns_bench: %s\n", mts_dns_strerror(rc)), 1;
    b.window = 2ull * (o.max_inflight ? o.max_inflight : MTS_DEFAULT_DNS_INFLIGHT);

    t0 = now_s();
    issue(&b);
    if (!b.failed)
        event_base_dispatch(b.base);
    dt = now_s() - t0;
    mts_dns_stats(b.dns, &st);

    printf("queries %llu in %.3f s: %.0f queries/s\n", b.done, dt, (double)b.done / dt);
    for (size_t k = 0; k < 8; k++)
        if (b.results[k])
            printf("  %-9s %llu\n", result_names[k], b.results[k]);
    printf("sent %llu, retries %llu, tcp %llu, dropped %llu, cache hits %llu, coalesced %llu, "
           "max in flight %u\n",
           (unsigned long long)st.sent, (unsigned long long)st.retries,
           (unsigned long long)st.tcp_fallbacks, (unsigned long long)st.dropped,
           (unsigned long long)st.cache_hits, (unsigned long long)st.coalesced, st.max_inflight);
    mts_dns_free(b.dns);
    event_base_free(b.base);
    for (size_t i = 0; i < b.nnames; i++)
        free(b.names[i]);
    free(b.names);
    return b.failed;
}
