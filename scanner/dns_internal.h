/*
 * Pieces of the DNS engine shared between its source files; not part of the public API
 * (scanner/dns_engine.h). Names keep the mts_dns_ prefix because they are external.
 */
#ifndef MTS_DNS_INTERNAL_H
#define MTS_DNS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "dns_wire.h"

/* dns_resolv.c: resolver addresses. */
#define MTS_DNS_MAX_RESOLVERS 16
#define MTS_DNS_ADDRSTRLEN    64

struct mts_dns_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* Parses "IP", "IP:PORT", "IPv6", "[IPv6]" or "[IPv6]:PORT" (port 53 by default). */
int mts_dns_addr_parse(const char *s, struct mts_dns_addr *out);
/* Reads up to max `nameserver` lines of a resolv.conf into out; *n is how many. Lines that
 * do not parse (e.g. link-local with a scope) are skipped. */
int mts_dns_resolv_conf(const char *path, struct mts_dns_addr *out, size_t max, size_t *n);
/* "IP:PORT" or "[IPv6]:PORT" into buf (MTS_DNS_ADDRSTRLEN bytes). */
void mts_dns_addr_format(const struct mts_dns_addr *a, char *buf, size_t size);
/* Same address family, address and port. */
bool mts_dns_addr_equal(const struct mts_dns_addr *a, const struct sockaddr *sa, socklen_t len);

/* dns_engine.c: the query a lookup sends (ID 0, RD; an OPT record with edns_size, and the
   DO bit when dnssec_ok, unless edns_size is 0), as ldns_pkt2wire writes it. Its length,
   or 0 when it does not fit in cap. name: wire form. */
size_t mts_dns_query_wire(uint8_t *out, size_t cap, const uint8_t *name, size_t name_len,
                          uint16_t qtype, unsigned edns_size, bool dnssec_ok);

/* dns_obs.c: the DNSOBS object. */
struct mts_dns_obs_meta {
    const char *resolver;
    unsigned tries;
    double ms;
    bool tcp;
    bool cached;
};

/* One rdata field of a rare type in presentation form, appended to b: ldns's formatter,
   but SVCB/HTTPS parameters in the RFC 3597 generic form (dns_obs.c says why). */
void mts_dns_obs_rdf_text(ldns_buffer *b, const ldns_rdf *rdf);

/* The DNSOBS for reply (NULL: no reply, then result is noreply_result) as JSON text
   (malloc'd). NULL on ENOMEM. */
char *mts_dns_obs_new(const char *qname, ldns_rr_type qtype, const struct mts_dns_reply *reply,
                      const char *noreply_result, const struct mts_dns_obs_meta *meta);
/* An observation made by mts_dns_obs_new for qname, from its "qtype" key to the end:
   the part every query answered from the same cache entry shares. NULL when obs does not
   begin with that qname. */
const char *mts_dns_obs_tail(const char *obs, const char *qname);
/* The observation for qname with that tail (malloc'd; NULL on ENOMEM): byte for byte what
   mts_dns_obs_new writes for qname, without reading the reply again. */
char *mts_dns_obs_join(const char *qname, const char *tail, size_t tail_len);
/* Seconds a reply with that result may be cached (before the engine's cap); 0: never. */
uint32_t mts_dns_obs_ttl(const struct mts_dns_reply *reply, const char *result);

/* dns_cache.c: bounded scan-wide cache of replies, CLOCK eviction. */
struct mts_dns_cache;

struct mts_dns_cache_meta {
    uint16_t resolver;
    uint8_t tries;
    bool tcp;
    /* The observation of a hit after its qname (mts_dns_obs_tail; may be NULL): put copies
       it into the entry, get points it there (borrowed until the next cache call). */
    const char *obs_tail;
    size_t obs_tail_len;
};

struct mts_dns_cache_key {
    const uint8_t *name; /* lower-cased wire form */
    size_t len;
    uint16_t qtype;
    bool dnssec_ok;
    uint32_t hash;
};

uint32_t mts_dns_key_hash(const struct mts_dns_cache_key *k);
int mts_dns_cache_new(struct mts_dns_cache **out, size_t entries, size_t max_bytes);
void mts_dns_cache_free(struct mts_dns_cache *c);
/* A live entry for k: *wire is borrowed until the next cache call. */
bool mts_dns_cache_get(struct mts_dns_cache *c, const struct mts_dns_cache_key *k, double now,
                       const uint8_t **wire, size_t *len, struct mts_dns_cache_meta *meta);
/* Stores a copy of wire under k for ttl_s seconds, evicting when full. */
int mts_dns_cache_put(struct mts_dns_cache *c, const struct mts_dns_cache_key *k, double now,
                      uint32_t ttl_s, const uint8_t *wire, size_t len,
                      const struct mts_dns_cache_meta *meta);
size_t mts_dns_cache_used(const struct mts_dns_cache *c);
size_t mts_dns_cache_bytes(const struct mts_dns_cache *c); /* payload held */
size_t mts_dns_cache_fixed_bytes(const struct mts_dns_cache *c);

#endif
