/*
 * What the pipeline needs to read off a reply (dns_wire.h), beside the observation the DNS engine
 * already wrote: whether an _mta-sts TXT holds a v=STSv1 record, the MX hosts and the
 * addresses of a host. Every byte of a reply is hostile: names are canonicalised, nothing
 * malformed is trusted, and all that is kept is bounded by the reply itself.
 */
#ifndef MTS_DNS_REPLY_H
#define MTS_DNS_REPLY_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>

#include "dns_engine.h"
#include "mts_exclude.h"

/* Addresses read off A or AAAA replies, in answer order. */
struct mts_addrs {
    char (*addr)[INET6_ADDRSTRLEN]; /* owned */
    size_t n;
    bool cname_excluded; /* the answer reached them through a CNAME to an opted-out name */
};

/* An MX host as an MX reply names it. */
struct mts_mx_name {
    char *host; /* canonical (lower case, no trailing dot), owned */
    long pref;
};

/* Whether the reply's answer holds a TXT record that starts with v=STSv1 (RFC 8461 §3.1). */
bool mts_reply_has_sts_record(const struct mts_dns_reply *reply);

/* Appends the reply's addresses of type (A or AAAA) to out and notes whether the answer
   went through a CNAME to a name on ex (may be NULL). False on ENOMEM. */
bool mts_reply_addrs(const struct mts_dns_reply *reply, ldns_rr_type type,
                     const struct mts_exclude *ex, struct mts_addrs *out);

/* Appends the MX hosts of the reply, in answer order, to *mx (n of them; the caller frees
   each host and the array); a null MX (".") gives none. False on ENOMEM. */
bool mts_reply_mx(const struct mts_dns_reply *reply, struct mts_mx_name **mx, size_t *n);

#endif
