/*
 * Everything one run of mtasts-scan is told on its command line. main.c fills it; the
 * pipeline reads it and never changes it. Strings and arrays are borrowed from argv.
 */
#ifndef MTS_SCAN_CONFIG_H
#define MTS_SCAN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MTS_SCAN_MAX_LIST 64 /* repeatable options: --input, --resolver */
#define MTS_SCAN_ID_MAX   64 /* characters of --scan-id: room in every store key */

struct mts_scan_config {
    const char *inputs[MTS_SCAN_MAX_LIST];
    size_t ninputs;
    const char *resolvers[MTS_SCAN_MAX_LIST];
    size_t nresolvers; /* 0: the system's resolv.conf */
    const char *db;
    const char *scan_id;
    const char *exclude_file;
    const char *ca_file; /* NULL: the system trust store */
    const char *ehlo;
    const char *user_agent;
    char *const *argv; /* recorded in the scan metadata */
    /* Two-stage scans (docs/sharding.md): stage 1 (--stage dns) records the (MX host,
       address) pairs it would probe without probing them; stage 2 (--probe-mx-from) probes
       the pairs of these stage-1 stores that fall in its --shard, by address. */
    bool defer_probes;
    const char *probe_from[MTS_SCAN_MAX_LIST];
    size_t nprobe_from;
    int argc;

    bool resume, dry_run, strict, quiet, progress;
    bool no_smtp, no_https, smtp_all, dane, ipv6, allow_private, fetch_unauthenticated;

    unsigned shard_k, shard_n;
    unsigned concurrency;  /* domains in flight */
    unsigned dns_inflight; /* DNS queries in flight */
    unsigned rate;         /* DNS queries per second, 0: unlimited */
    unsigned per_ip;       /* concurrent connections per destination address */
    unsigned https_max;    /* concurrent HTTPS transfers */
    unsigned smtp_max;     /* concurrent SMTP sessions */
    unsigned max_mx;       /* MX hosts looked at per domain */
    unsigned max_addrs;    /* addresses probed per MX host and family */
    uint16_t smtp_port, https_port;
    unsigned timeout_dns_ms, dns_tries;
    unsigned timeout_connect_ms, timeout_https_ms, timeout_smtp_ms;
    unsigned grace_ms; /* after SIGINT/SIGTERM: how long in-flight domains may finish */
    size_t max_body;

    /* This machine's limits and the scan-wide bounds (docs/pipeline.md). */
    unsigned dns_tcp_max;     /* concurrent DNS TCP fallbacks */
    unsigned queue_ms;        /* deadline of a wait for a connection slot */
    unsigned writer_backlog;  /* uncommitted store records at which admission pauses */
    unsigned dns_cache_bytes; /* bound of the DNS cache's names and replies */
    unsigned mx_cache_bytes;  /* bound of the MX probe cache's entries */
    unsigned long open_files; /* RLIMIT_NOFILE the scan runs with (main.c sets it) */
};

#endif
