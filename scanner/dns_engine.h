/*
 * The scanner's asynchronous DNS engine: many queries in flight over a few UDP sockets,
 * driven by the caller's libevent loop, with retries across resolvers, TCP after
 * truncation, a scan-wide cache with coalescing, and hard limits on rate and in-flight
 * queries. Every observation is a DNSOBS JSON object (docs/record-schema.md).
 *
 * Threading: everything runs on the thread that runs the event_base; no function here is
 * thread-safe. Design and limits: docs/dns-engine.md.
 */
#ifndef MTS_DNS_ENGINE_H
#define MTS_DNS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns_wire.h"
#include "mts_vocab.h" /* DNSOBS "result" */

/* Errors: every function returning int returns 0 or one of these. */
#define MTS_DNS_EINVAL      (-1) /* bad argument (NULL, zero tries, out-of-range option) */
#define MTS_DNS_ENOMEM      (-2) /* allocation failed */
#define MTS_DNS_ERESOLVER   (-3) /* a resolver string is not IP[:PORT] or [IPv6]:PORT */
#define MTS_DNS_ENORESOLVER (-4) /* no resolver given and none usable in resolv.conf */
#define MTS_DNS_ESOCKET     (-5) /* creating or binding a UDP socket failed (see errno) */
#define MTS_DNS_EEVENT      (-6) /* libevent refused an event */
#define MTS_DNS_ENAME       (-7) /* not a valid domain name, or over 255 octets on the wire */

/* Query flags. */
#define MTS_DNS_CACHE 0x1u /* answer from / store into the scan-wide cache; coalesce */
#define MTS_DNS_DO    0x2u /* set the EDNS0 DO bit (DNSSEC, DANE); needs edns_size > 0 */

struct mts_dns;

/* Options; zero-initialise and set what you need: a zero field takes its default
   (mts_defaults.h). */
struct mts_dns_opts {
    /* "IP", "IP:PORT", "IPv6", "[IPv6]:PORT"; NULL or nresolvers 0: resolv.conf. Copied. */
    const char *const *resolvers;
    size_t nresolvers;
    const char *resolv_conf;  /* default "/etc/resolv.conf" */
    unsigned timeout_ms;      /* per UDP try */
    unsigned tries;           /* UDP transmissions per query */
    unsigned tcp_timeout_ms;  /* whole TCP exchange after truncation */
    unsigned max_tcp;         /* TCP exchanges (sockets) at once */
    unsigned max_inflight;    /* queries sent and not finished; max 65536 */
    unsigned rate_qps;        /* packets sent per second; 0 = unlimited */
    unsigned cache_entries;   /* cache size; use no_cache to disable */
    size_t cache_bytes;       /* cache payload (names + replies) */
    unsigned cache_max_ttl_s; /* TTL cap for cached answers */
    unsigned sockets;         /* UDP sockets per address family */
    unsigned edns_size;       /* EDNS0 UDP payload size; 512..4096 */
    int no_edns;              /* non-zero: send queries without EDNS0 (and without DO) */
    int no_cache;             /* non-zero: no cache (coalescing still applies) */
};

struct mts_dns_stats {
    uint64_t queries;        /* mts_dns_query calls accepted */
    uint64_t sent;           /* UDP datagrams sent (first tries and retries) */
    uint64_t answered;       /* lookups finished with an accepted reply */
    uint64_t timeouts;       /* lookups finished without one */
    uint64_t retries;        /* UDP transmissions after the first */
    uint64_t tcp_fallbacks;  /* TCP exchanges started after TC=1 */
    uint64_t dropped;        /* datagrams dropped: no matching query, wrong source/question */
    uint64_t cache_hits;     /* queries answered from the cache */
    uint64_t coalesced;      /* queries that joined an identical outstanding one */
    uint64_t send_errors;    /* sendto failures (counted as lost packets) */
    unsigned inflight;       /* lookups holding a slot now */
    unsigned max_inflight;   /* highest inflight seen */
    size_t queued;           /* lookups waiting for a slot or a rate token now */
    size_t cache_used;       /* cache entries in use */
    size_t cache_bytes;      /* cache payload held, at most opts.cache_bytes */
    size_t bytes_per_slot;   /* memory per in-flight lookup, preallocated */
    size_t bytes_per_queued; /* heap bytes per waiting query, plus 3 x the name length */
    size_t bytes_fixed;      /* socket ID tables, cache index and slots, all preallocated */
};

/*
 * Called once per accepted mts_dns_query, on the loop thread, never from inside
 * mts_dns_query. obs: the DNSOBS as JSON text (malloc'd; the callback owns it and frees
 * it), NULL when memory ran out (for the observation or the lookup itself): a fault of
 * this process, never an observation.
 * reply: the reply read in place (dns_wire.h), borrowed until the callback returns; NULL
 * when there is none (timeout, TCP failure). For a cache hit it is the cached reply.
 * The callback may call mts_dns_query; it must not call mts_dns_free.
 */
typedef void (*mts_dns_cb)(void *arg, char *obs, const struct mts_dns_reply *reply);

/* Reading a reply as its DNSOBS does. The result: answer, nodata, nxdomain, servfail,
   refused or error (a CNAME chain to the type asked is an answer). */
const char *mts_dns_obs_result(const struct mts_dns_reply *reply, ldns_rr_type qtype);
/* Whether rr (of reply) is an address record of type (A or AAAA) whose address fits buf,
   written in presentation form, exactly as the DNSOBS "addr" field. */
bool mts_dns_obs_addr(const struct mts_dns_reply *reply, const struct mts_wire_rr *rr,
                      ldns_rr_type type, char *buf, size_t size);

/* The DNSOBS of a query that was not asked (result "skipped", why as given): NULL on
   ENOMEM. */
char *mts_dns_obs_skipped(const char *qname, ldns_rr_type qtype, const char *why);

/* Creates an engine on base (borrowed; must outlive the engine). *out is set on success. */
int mts_dns_new(struct mts_dns **out, struct event_base *base, const struct mts_dns_opts *opts);

/*
 * Queues a query for qname (presentation form, with or without the trailing dot; copied)
 * of type qtype, class IN. flags: MTS_DNS_CACHE, MTS_DNS_DO. Returns 0 and later calls
 * cb(arg, ...) exactly once, unless the engine is freed first; or returns an error and
 * never calls cb: MTS_DNS_ENAME for a name that cannot be asked (a fact about the name),
 * MTS_DNS_ENOMEM when memory ran out (a fault of this process), MTS_DNS_EINVAL.
 */
int mts_dns_query(struct mts_dns *dns, const char *qname, ldns_rr_type qtype, unsigned flags,
                  mts_dns_cb cb, void *arg);

/* Cancels everything outstanding without calling callbacks, closes sockets, frees. */
void mts_dns_free(struct mts_dns *dns);

void mts_dns_stats(const struct mts_dns *dns, struct mts_dns_stats *out);

/* Number of resolvers and resolver i as "IP:PORT" / "[IPv6]:PORT" (borrowed). */
size_t mts_dns_nresolvers(const struct mts_dns *dns);
const char *mts_dns_resolver(const struct mts_dns *dns, size_t i);

const char *mts_dns_strerror(int err);

#endif
