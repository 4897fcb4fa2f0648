/*
 * The simulated Internet's model: what every domain, name and host of the world does.
 *
 * One model is read by all the servers of mtasts-world: the authoritative DNS server asks it
 * for the records of a name, the HTTPS policy-host server and the SMTP MX server ask it how
 * the host behind a local address (and, for HTTPS, an SNI name) behaves, and the ground-truth
 * writer asks it what a correct scanner must conclude about each domain.
 *
 * A world is either loaded from a scenario file (a few hundred hand-written domains, stored)
 * or generated from (N, seed): then nothing per domain is stored and every answer is derived
 * on demand from a hash of (seed, index), so memory does not depend on N.
 *
 * Ownership: every lookup fills a caller-provided struct; the struct holds no pointer into
 * itself (copying it is safe) and its pointers (strings, body_ext) point into memory owned by
 * the world or static storage, valid until world_free(). The world is read-only after loading
 * and may be read from several threads.
 */
#ifndef MTS_WORLD_MODEL_H
#define MTS_WORLD_MODEL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A name of the world may hold a control byte in a label: WORLD_CTRL_CHAR in the model's
   names is WORLD_CTRL_BYTE on the wire (hostile MX targets, docs/world.md). */
#define WORLD_CTRL_CHAR        '^'
#define WORLD_CTRL_BYTE        0x01
#define WORLD_NAME_MAX         256 /* presentation form, lower case, no trailing dot, with NUL */
#define WORLD_MAX_MX           8   /* MX records of one domain */
#define WORLD_MAX_CATEGORIES   16  /* expected categories of one domain */
#define WORLD_BODY_INLINE      512 /* policy bodies up to this size live in the struct */
#define WORLD_INJECTION_MAX    64
#define WORLD_CONTENT_TYPE_MAX 128
#define WORLD_LOCATION_MAX     320

/* Error codes returned (negated) by the world_* functions. */
enum world_err {
    WORLD_OK = 0,
    WORLD_E_NOTFOUND = 1, /* the name or address is not part of the world */
    WORLD_E_NOMEM = 2,
    WORLD_E_IO = 3,     /* cannot read the scenario or write an output file */
    WORLD_E_SYNTAX = 4, /* scenario file error (the message says where) */
    WORLD_E_ARG = 5,    /* bad argument */
};
const char *world_strerror(int err);

struct world; /* opaque */

/* ------------------------------------------------------------------------------------------ */
/* Host behaviour (read by the HTTPS and SMTP servers)                                        */

/* What happens to a TCP connection to the host. With listeners on INADDR_ANY every loopback
 * address accepts; REFUSE/TIMEOUT are emulated by the server (see docs/world.md). */
enum world_connect {
    WORLD_CONNECT_ACCEPT = 0,
    WORLD_CONNECT_REFUSE,  /* the client must see the connection refused (or reset at once) */
    WORLD_CONNECT_TIMEOUT, /* never complete the handshake / never read */
    WORLD_CONNECT_TARPIT,  /* accept, then never read nor write (a tarpit): the client's TLS
                              handshake or SMTP greeting wait times out */
};

/* The certificate the host presents. The leaf is issued for world_tls.cert_name. */
enum world_cert {
    WORLD_CERT_VALID = 0,     /* issued by the world's test CA, current, for cert_name */
    WORLD_CERT_EXPIRED,       /* test CA, notAfter in the past */
    WORLD_CERT_NOT_YET_VALID, /* test CA, notBefore in the future */
    WORLD_CERT_WRONG_NAME,    /* test CA, current, but cert_name is another name */
    WORLD_CERT_SELF_SIGNED,   /* self-signed leaf */
    WORLD_CERT_UNTRUSTED_CA,  /* issued by a second CA the scanner does not trust */
    WORLD_CERT_COUNT
};

struct world_tls {
    enum world_cert cert;
    char cert_name[WORLD_NAME_MAX]; /* SAN dNSName (and CN) of the leaf */
    int max_version;                /* 0: library default; else TLS1_1_VERSION, TLS1_2_VERSION...*/
    bool alert;                     /* abort every handshake with a fatal handshake_failure alert
                                       (a TLS failure unrelated to the certificate) */
};

/* How the response body (HTTPS) is delivered. */
enum world_speed {
    WORLD_SPEED_NORMAL = 0, /* all at once */
    WORLD_SPEED_DRIP,       /* drip_bytes every drip_interval_ms (slower than any deadline) */
    WORLD_SPEED_STALL,      /* send the head and cut_after body bytes, then nothing, never close */
    WORLD_SPEED_RESET,      /* send the head and cut_after body bytes, then reset (SO_LINGER 0) */
};

/* The policy host's answer to GET /.well-known/mta-sts.txt (any other path: 404). */
struct world_https {
    enum world_connect connect;
    struct world_tls tls;
    unsigned latency_ms;                       /* before the response head */
    int status;                                /* HTTP status, e.g. 200, 301, 404 */
    char content_type[WORLD_CONTENT_TYPE_MAX]; /* "" = no Content-Type header */
    char location[WORLD_LOCATION_MAX];         /* "" = no Location header */
    bool gzip; /* body sent gzip-coded with Content-Encoding: gzip, asked for or not */
    char content_encoding[16]; /* "" = none; "gzip": the body is gzip data */
    enum world_speed speed;
    unsigned drip_bytes, drip_interval_ms; /* WORLD_SPEED_DRIP */
    size_t cut_after;                      /* WORLD_SPEED_STALL / _RESET */
    size_t body_len;                       /* exact body length */
    const unsigned char *body_ext;         /* world-owned body, or NULL: use body_inline */
    unsigned char body_inline[WORLD_BODY_INLINE];
};

/* The body bytes of h (body_len of them); valid as long as h and the world live. */
static inline const unsigned char *world_https_body(const struct world_https *h)
{
    return h->body_ext ? h->body_ext : h->body_inline;
}

enum world_banner {
    WORLD_BANNER_NORMAL = 0, /* "220 <host> ESMTP" */
    WORLD_BANNER_MULTILINE,  /* "220-<host> ESMTP" ... "220 ready" */
    WORLD_BANNER_4XX,        /* "421 <host> busy", then close */
    WORLD_BANNER_5XX,        /* "554 <host> no service", then close */
    WORLD_BANNER_NONE,       /* accept and send nothing (stall) */
    WORLD_BANNER_GARBAGE,    /* a line that is not an SMTP reply ("HTTP/1.0 400 ...") */
    WORLD_BANNER_ENDLESS,    /* "220-" continuation lines forever (or one line without end) */
};

/* Where an SMTP session is cut (WORLD_FAULT_*), after the server has sent what precedes it. */
enum world_stage {
    WORLD_STAGE_NONE = 0,
    WORLD_STAGE_BANNER,    /* instead of the banner */
    WORLD_STAGE_EHLO,      /* instead of the EHLO reply */
    WORLD_STAGE_STARTTLS,  /* instead of the reply to STARTTLS */
    WORLD_STAGE_HANDSHAKE, /* during the TLS handshake (after reading the ClientHello) */
};

enum world_fault {
    WORLD_FAULT_NONE = 0,
    WORLD_FAULT_RESET, /* close with RST at fault_stage */
    WORLD_FAULT_STALL, /* stop answering at fault_stage, never close */
};

/* One MX host's SMTP behaviour on port 25 (the world's --smtp-port). */
struct world_smtp {
    enum world_connect connect;
    enum world_banner banner;
    char hostname[WORLD_NAME_MAX]; /* the name it announces in banner and EHLO */
    bool ehlo_rejected;            /* "550" to EHLO (and to HELO) */
    bool starttls_offered;         /* "250-STARTTLS" in the EHLO reply */
    bool starttls_rejected;        /* "454 4.7.0 TLS not available" to STARTTLS */
    enum world_fault fault;
    enum world_stage fault_stage;
    unsigned injection_len; /* bytes sent right after "220 Ready to start TLS", before */
    unsigned char injection[WORLD_INJECTION_MAX]; /* the handshake (STARTTLS injection) */
    struct world_tls tls;
    unsigned latency_ms; /* before every reply */
};

/* A server host: one 127.x.y.z address (never in 127.0.0.0/16), one canonical name. Shared
 * hosts (a provider's MX, a policy-hosting provider) serve many domains. */
struct world_host {
    char name[WORLD_NAME_MAX];
    struct in_addr addr;
    struct world_smtp smtp;   /* on the SMTP port */
    struct world_https https; /* on the HTTPS port when the SNI names no domain of the world */
};

/* The host listening at local_addr (the accepted socket's getsockname()). 0 or
 * -WORLD_E_NOTFOUND. */
int world_lookup_host_by_addr(const struct world *w, const struct sockaddr *local_addr,
                              struct world_host *out);
/* The host with that canonical name (an MX host or policy host name). */
int world_lookup_host_by_name(const struct world *w, const char *name, struct world_host *out);

/* What the HTTPS server at local_addr answers for the TLS SNI sni (NULL: no SNI). When sni is
 * "mta-sts.D" for a domain D of the world, D's policy behaviour (struct world_domain.policy);
 * otherwise the host's own default (certificate for the host name, 404). 0 or
 * -WORLD_E_NOTFOUND (no host at that address). */
int world_lookup_https(const struct world *w, const struct sockaddr *local_addr, const char *sni,
                       struct world_https *out);

/* ------------------------------------------------------------------------------------------ */
/* Domains (read by the truth writer and the HTTPS server)                                    */

struct world_mx {
    uint16_t pref;
    char host[WORLD_NAME_MAX]; /* "" for the null MX "0 ." */
};

struct world_domain {
    char name[WORLD_NAME_MAX]; /* A-label form, e.g. "d0001234.example" */
    uint64_t index;            /* generator index, or order in the scenario file */
    struct world_https policy; /* what https://mta-sts.<name>/ serves (SNI mta-sts.<name>) */
    unsigned nmx;              /* MX records as published (0: no MX record) */
    struct world_mx mx[WORLD_MAX_MX];
    /* What a correct scanner + analysis concludes (docs/vocabulary.md names). */
    const char *case_name; /* taxonomy case this domain instantiates, e.g. "txt-multiple" */
    const char *verdict;   /* "no-mta-sts", "valid-enforce", ... */
    bool would_bounce;
    unsigned ncategories; /* sorted, unique */
    const char *categories[WORLD_MAX_CATEGORIES];
};

/* The domain a name belongs to: the domain itself, mta-sts.D, _mta-sts.D, _smtp._tls.D, or any
 * name below D that the world defines. 0 or -WORLD_E_NOTFOUND. */
int world_lookup_domain(const struct world *w, const char *name, struct world_domain *out);

/* Number of domains, and the i-th one (0 <= i < count), for lists and ground truth. */
uint64_t world_domain_count(const struct world *w);
int world_domain_at(const struct world *w, uint64_t i, struct world_domain *out);

/* ------------------------------------------------------------------------------------------ */
/* DNS (read by the DNS server and the truth writer)                                          */

enum world_dns_fault {
    WORLD_DNS_FAULT_NONE = 0,
    WORLD_DNS_FAULT_SERVFAIL, /* answer SERVFAIL */
    WORLD_DNS_FAULT_TIMEOUT,  /* never answer */
    WORLD_DNS_FAULT_REFUSED,  /* answer REFUSED */
};

#define WORLD_NODE_MAX_RR   24
#define WORLD_NODE_DATA_MAX 4096

/* One resource record; rdata in uncompressed wire form in the node's data[]. */
struct world_rr {
    uint16_t type; /* LDNS_RR_TYPE_* values: A, AAAA, MX, TXT, TLSA, CNAME */
    uint16_t rdlen;
    uint16_t off; /* into world_node.data */
};

/* Everything the world publishes at one owner name. */
struct world_node {
    char name[WORLD_NAME_MAX];
    bool exists; /* false: NXDOMAIN (the other fields are empty) */
    enum world_dns_fault fault;
    bool truncate;              /* UDP answers carry TC=1 and no records: the client retries TCP */
    unsigned latency_ms;        /* added to the server-wide latency */
    char cname[WORLD_NAME_MAX]; /* non-empty: a CNAME to this name (then no other records) */
    unsigned nrr;
    struct world_rr rr[WORLD_NODE_MAX_RR];
    uint16_t used;
    unsigned char data[WORLD_NODE_DATA_MAX];
};

/* The node for qname (any case, optional trailing dot). Always fills out (exists = false for a
 * name the world does not have). 0 or -WORLD_E_ARG (qname not a valid name). */
int world_dns_node(const struct world *w, const char *qname, struct world_node *out);

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                    */

/* Parse a scenario file (format: docs/world.md). On error returns -WORLD_E_* and writes a
 * "file:line: message" into err. */
int world_load_scenario(const char *path, struct world **out, char *err, size_t errlen);

/* A generated population of n domains (d0000000.example ...) from seed. Constant memory. */
int world_generate(uint64_t n, uint64_t seed, struct world **out);
/* The same with a share hostile_ratio (0..1) of hostile domains mixed in (docs/world.md). */
int world_generate_hostile(uint64_t n, uint64_t seed, double hostile_ratio, struct world **out);

void world_free(struct world *w);

/* Server-wide DNS knobs (command line), applied by the DNS server on top of per-name ones. */
struct world_dns_knobs {
    unsigned latency_ms, jitter_ms;
    double loss; /* ratio of queries dropped, 0..1 */
};

#endif
