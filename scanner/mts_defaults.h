/*
 * Every default of the scanner, once. mtasts-scan's option parsing (main.c) starts from
 * these, its --help text is built from them, and each engine gives them to an option left
 * zero, so an engine used on its own behaves as the command line does. docs/pipeline.md
 * (Defaults), the man page and README state the same numbers; the ctest
 * scanner_defaults_docs compares them with --help.
 *
 * The values are plain decimal literals so that --help can print them (MTS_DEFAULT_STR).
 */
#ifndef MTS_DEFAULTS_H
#define MTS_DEFAULTS_H

#define MTS_DEFAULT_STR_(x) #x
#define MTS_DEFAULT_STR(x)  MTS_DEFAULT_STR_(x) /* a default as text, for --help */

/* ---- set by an option of mtasts-scan ------------------------------------------------ */

/* DNS */
#define MTS_DEFAULT_RATE            0        /* --rate: DNS queries per second, 0 = unlimited */
#define MTS_DEFAULT_DNS_INFLIGHT    2000     /* --dns-inflight */
#define MTS_DEFAULT_TIMEOUT_DNS_MS  2000     /* --timeout-dns: per UDP try */
#define MTS_DEFAULT_DNS_TRIES       3        /* --dns-tries: UDP transmissions per query */
#define MTS_DEFAULT_DNS_CACHE_BYTES 33554432 /* --dns-cache-bytes: 32 MiB */

/* Probes */
#define MTS_DEFAULT_HTTPS_PORT         443   /* --https-port */
#define MTS_DEFAULT_SMTP_PORT          25    /* --smtp-port */
#define MTS_DEFAULT_TIMEOUT_CONNECT_MS 5000  /* --timeout-connect: TCP connect (+ TLS for HTTPS) */
#define MTS_DEFAULT_TIMEOUT_HTTPS_MS   30000 /* --timeout-https: a whole fetch, per address */
#define MTS_DEFAULT_TIMEOUT_SMTP_MS    15000 /* --timeout-smtp: each SMTP stage after connect */
#define MTS_DEFAULT_MAX_BODY           65536 /* --max-body: policy size bound, bytes */
#define MTS_DEFAULT_USER_AGENT         "mtasts-scan/" MTS_VERSION " (MTA-STS research scanner)"

/* Politeness and limits */
#define MTS_DEFAULT_CONCURRENCY      1000     /* -c, --concurrency: domains in flight */
#define MTS_DEFAULT_PER_IP           2        /* --per-ip: connections per destination address */
#define MTS_DEFAULT_HTTPS_MAX        200      /* --https-max: HTTPS transfers at once */
#define MTS_DEFAULT_SMTP_MAX         200      /* --smtp-max: SMTP sessions at once */
#define MTS_DEFAULT_DNS_TCP_MAX      64       /* --dns-tcp-max: DNS TCP fallbacks at once */
#define MTS_DEFAULT_QUEUE_TIMEOUT_MS 120000   /* --queue-timeout: wait for a connection slot */
#define MTS_DEFAULT_MX_CACHE_BYTES   67108864 /* --mx-cache-bytes: 64 MiB */
#define MTS_DEFAULT_WRITER_BACKLOG   4000     /* --writer-backlog: records waiting for the disk */
#define MTS_DEFAULT_GRACE_MS         10000    /* --grace: after SIGINT/SIGTERM */

/* ---- fixed: no option ---------------------------------------------------------------- */

/* The pipeline */
#define MTS_DEFAULT_MAX_MX    10 /* MX hosts looked at per domain */
#define MTS_DEFAULT_MAX_ADDRS 2  /* addresses probed per MX host and family */

/* The DNS engine (docs/dns-engine.md) */
#define MTS_DEFAULT_DNS_TCP_TIMEOUT_MS  5000  /* a whole TCP exchange after truncation */
#define MTS_DEFAULT_DNS_CACHE_ENTRIES   65536 /* entries of the scan-wide cache */
#define MTS_DEFAULT_DNS_CACHE_MAX_TTL_S 3600  /* TTL cap of cached answers */
#define MTS_DEFAULT_DNS_SOCKETS         4     /* UDP sockets per address family, at least */
#define MTS_DEFAULT_DNS_EDNS_SIZE       1232  /* EDNS0 UDP payload size */

/* The HTTPS fetcher (docs/https-fetch.md): a transfer slower than this fails */
#define MTS_DEFAULT_HTTPS_LOW_SPEED_BYTES 64 /* bytes per second ... */
#define MTS_DEFAULT_HTTPS_LOW_SPEED_SECS  15 /* ... for this long */

/* The SMTP prober (docs/smtp-probe.md); its other stages take --timeout-smtp */
#define MTS_DEFAULT_SMTP_QUIT_MS        3000 /* wait for the reply to QUIT */
#define MTS_DEFAULT_SMTP_SESSION_STAGES 6    /* the session deadline, in stage timeouts */
#define MTS_DEFAULT_SMTP_MAX_LINE       1000 /* bytes of one reply line, without CRLF */
#define MTS_DEFAULT_SMTP_MAX_LINES      100  /* lines of one reply */

#endif
