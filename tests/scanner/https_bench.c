/*
 * Benchmark driver for the HTTPS policy fetcher: N fetches of one policy host's URL against
 * a given address and port, at most P at once, printing fetches per second, so the stage
 * can be compared with libcurl's own loop on the same URLs:
 *
 *   curl --parallel --parallel-max P --cacert CA --connect-to ::ADDR:PORT \
 *        --config URLS -o /dev/null ...
 *
 * (docs/https-fetch.md gives the exact command and the numbers). Not a ctest test.
 *
 * Usage: https_bench --addr A --port N --ca-file F [--host H] [--n N] [--parallel P]
 *        https_bench --list FILE --port N --ca-file F [--parallel P]
 * With --list, FILE holds one "policy-host address" pair a line and each is fetched once
 * (scripts/bench builds it from a scan, with the matching curl configuration).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "https_fetch.h"

static unsigned long finished, ok;

static void on_done(void *arg, json_t *obs, const unsigned char *body, size_t len)
{
    (void)arg;
    (void)body;
    (void)len;
    finished++;
    ok += strcmp(json_string_value(json_object_get(obs, "result")), "ok") == 0;
    json_decref(obs);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"addr", required_argument, NULL, 'a'},    {"port", required_argument, NULL, 'p'},
        {"ca-file", required_argument, NULL, 'c'}, {"host", required_argument, NULL, 'h'},
        {"n", required_argument, NULL, 'n'},       {"parallel", required_argument, NULL, 'P'},
        {"list", required_argument, NULL, 'l'},    {NULL, 0, NULL, 0}};
    const char *addr = NULL, *ca = NULL, *host = "mta-sts.ok.test", *list = NULL;
    unsigned long n = 1000, port = 443, parallel = 100;
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = strtoul(optarg, NULL, 10);
            break;
        case 'c':
            ca = optarg;
            break;
        case 'h':
            host = optarg;
            break;
        case 'n':
            n = strtoul(optarg, NULL, 10);
            break;
        case 'P':
            parallel = strtoul(optarg, NULL, 10);
            break;
        case 'l':
            list = optarg;
            break;
        default:
            return 2;
        }
    }
    if ((!addr && !list) || !ca || port == 0 || port > 65535 || n == 0 || parallel == 0) {
        fprintf(stderr,
                "usage: %s --addr A --port N --ca-file F [--host H] [--n N] "
                "[--parallel P]\n",
                argv[0]);
        return 2;
    }
    struct event_base *base = event_base_new();
    struct mts_https *h = NULL;
    struct mts_https_opts o = {
        .ca_file = ca, .port = (uint16_t)port, .max_transfers = (unsigned)parallel};
    int rc = mts_https_new(&h, base, &o);
    if (rc < 0) {
        fprintf(stderr, "mts_https_new: %s\n", strerror(-rc));
        return 1;
    }
    FILE *lf = list ? fopen(list, "r") : NULL;
    if (list && !lf) {
        perror(list);
        return 1;
    }
    char lhost[256], laddr[64];
    double t0 = now();
    if (lf)
        n = 0;
    for (unsigned long i = 0; lf || i < n; i++) {
        const char *addrs[1] = {addr}, *h_name = host;
        if (lf) {
            if (fscanf(lf, "%255s %63s", lhost, laddr) != 2)
                break;
            addrs[0] = laddr;
            h_name = lhost;
            n++;
        }
        rc = mts_https_fetch(h, h_name, addrs, 1, MTS_FETCH_WHY_TXT, on_done, NULL);
        if (rc < 0) {
            fprintf(stderr, "mts_https_fetch: %s\n", strerror(-rc));
            return 1;
        }
    }
    if (lf)
        fclose(lf);
    while (finished < n) {
        event_base_loop(base, EVLOOP_ONCE);
    }
    double dt = now() - t0;
    struct mts_https_stats st;
    mts_https_get_stats(h, &st);
    printf("%lu fetches (%lu ok) in %.3f s: %.0f fetches/s, at most %u at once\n", n, ok, dt,
           (double)n / dt, st.max_transfers_seen);
    mts_https_free(h);
    event_base_free(base);
    return ok == n ? 0 : 1;
}
