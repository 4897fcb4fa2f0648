/*
 * The world's authoritative DNS server (UDP and TCP, one libevent loop) and the name resolution
 * it shares with the ground-truth writer.
 */
#ifndef MTS_WORLD_DNS_SERVER_H
#define MTS_WORLD_DNS_SERVER_H

#include "model.h"

#include <event2/event.h>

/* ---- resolution inside the world (what an authoritative server for every zone answers) --- */

enum world_dns_result {
    WORLD_DNS_ANSWER = 0, /* NOERROR with at least one record of qtype at the chain's end */
    WORLD_DNS_NODATA,
    WORLD_DNS_NXDOMAIN,
    WORLD_DNS_SERVFAIL,
    WORLD_DNS_TIMEOUT, /* the server never answers */
    WORLD_DNS_REFUSED,
};
const char *world_dns_result_name(enum world_dns_result r); /* "answer", "nodata", ... */

#define WORLD_CHAIN_MAX 8 /* CNAMEs followed; a longer chain answers SERVFAIL */

struct world_resolution {
    enum world_dns_result result;
    unsigned nnodes; /* node[0] is qname, node[i+1] the target of node[i]'s CNAME */
    struct world_node node[WORLD_CHAIN_MAX + 1];
    unsigned latency_ms; /* per-name latency summed over the chain */
    bool truncate;       /* some name of the chain forces TCP */
};

/* Resolve qname/qtype (qtype 255 = every type) inside the world. The answer section is: for
 * each node but the last, its CNAME; for the last node (when not a fault), its records of
 * qtype. 0 or -WORLD_E_ARG. */
int world_dns_resolve(const struct world *w, const char *qname, uint16_t qtype,
                      struct world_resolution *out);

/* ---- the server ------------------------------------------------------------------------ */

struct world_dns_server;

struct world_dns_stats {
    uint64_t queries, udp, tcp;
    uint64_t dropped_loss, dropped_timeout, truncated, malformed;
    uint64_t rcode[16];
};

/* Listen on addr:port (port 0: pick one, the same for UDP and TCP) and answer from w. knobs
 * are copied; w is borrowed until world_dns_free(). Returns 0 or -WORLD_E_IO (errno set). */
int world_dns_start(struct event_base *base, const struct world *w,
                    const struct world_dns_knobs *knobs, const char *addr, uint16_t port,
                    struct world_dns_server **out);
uint16_t world_dns_port(const struct world_dns_server *s);
void world_dns_get_stats(const struct world_dns_server *s, struct world_dns_stats *out);
/* Closes the sockets, cancels pending delayed answers, frees everything. */
void world_dns_free(struct world_dns_server *s);

#endif
