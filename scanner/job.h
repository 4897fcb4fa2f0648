/*
 * A domain in flight (docs/pipeline.md): what its stages have found so far, which is what
 * its record will hold. Shared by the stages (pipeline.c) and the record writer
 * (domain_record.c); nothing outside the scanner sees it.
 */
#ifndef MTS_JOB_H
#define MTS_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "dns_reply.h"
#include "tlsrpt_rua.h"

enum job_state { JOB_DNS, JOB_MXADDR, JOB_PROBES };

/* The domain's own queries, in the order the record lists them. */
enum dns_key { DNS_STS, DNS_MX, DNS_TLSRPT, DNS_POLICY_A, DNS_POLICY_AAAA, DNS_KEYS };
/* An MX host's queries. */
enum mx_key { MX_A, MX_AAAA, MX_TLSA, MX_KEYS };
/* A TLS-RPT report destination's queries (docs/record-schema.md, "tlsrpt_rua"). */
enum rua_key { RUA_MX, RUA_A, RUA_AAAA, RUA_KEYS };

struct rua_dest {
    struct mts_rua_target t;
    char *obs[RUA_KEYS]; /* DNSOBS texts, owned; NULL when not asked */
};

/* One (MX host, address) of the record: probed, or skipped for a reason. */
struct probe_entry {
    char addr[INET6_ADDRSTRLEN];
    const char *skip; /* static, or NULL when probed */
};

/* An MX host: what the record's "mx" array holds (MXHOST, docs/record-schema.md). */
struct mx_host {
    char *host; /* canonical, owned */
    long pref;
    bool implicit;
    char *obs[MX_KEYS]; /* DNSOBS texts, owned; NULL when not asked */
    struct mts_addrs v4, v6;
    struct probe_entry *probes; /* owned */
    size_t n_probes;
    bool probed; /* the probe stage ran: the record gets a "probes" array */
};

struct scan;

/*
 * A domain in flight. Observations are kept as the JSON text the record will hold, and
 * what the pipeline itself needs from a reply (the record's v=STSv1, MX hosts, addresses)
 * is read off the reply when it arrives: no JSON tree is built per query.
 */
struct job {
    struct scan *scan;
    struct job *prev, *next; /* the scan's list of jobs in flight */
    char *domain;
    enum job_state state;
    unsigned pending;                 /* DNS queries or probes of the current stage still out */
    bool https_pending;               /* the policy fetch runs beside the MX stages */
    bool probe_mx;                    /* the MX hosts are in scope for STARTTLS probes */
    double t_start;                   /* seconds, as the record writes it */
    char *dns[DNS_KEYS];              /* DNSOBS texts, owned */
    const char *dns_result[DNS_KEYS]; /* their "result" (static), NULL without a reply */
    bool has_record;                  /* the _mta-sts TXT holds a v=STSv1 record */
    struct mts_addrs policy_v4, policy_v6;
    struct mx_host *mx; /* owned, n_mx of them in preference order */
    size_t n_mx;
    struct mts_mx_name *mx_found; /* the MX reply's hosts, before sorting (owned) */
    size_t n_found;
    json_t *policy;      /* FETCHOBS, owned, or NULL */
    unsigned char *body; /* policy body, owned, or NULL */
    size_t body_len;
    struct rua_dest rua[MTS_RUA_MAX]; /* TLS-RPT destinations, looked up in MXADDR */
    size_t n_rua;
};

#endif
