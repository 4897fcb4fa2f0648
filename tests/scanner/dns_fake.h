/*
 * A scripted authoritative DNS responder for the engine's tests and benchmark: UDP and TCP
 * on 127.0.0.1 (same port), running on the caller's event loop, answering per name.
 */
#ifndef MTS_TESTS_DNS_FAKE_H
#define MTS_TESTS_DNS_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <ldns/ldns.h>

enum fake_kind {
    FAKE_ANSWER,   /* NOERROR with rr[] (may be empty: NODATA, with a SOA) */
    FAKE_NXDOMAIN, /* with a SOA in the authority section */
    FAKE_SERVFAIL,
    FAKE_DROP,    /* never answers */
    FAKE_TC,      /* TC=1 and no records over UDP; rr[] over TCP */
    FAKE_SPOOF,   /* wrong ID, wrong question, wrong port, then rr[] */
    FAKE_TC_HANG, /* TC=1 over UDP; TCP connections accepted and never answered */
};

struct fake_rule {
    const char *name; /* lower case, no trailing dot */
    ldns_rr_type qtype;
    enum fake_kind kind;
    int drop_first; /* drop the first K queries for this rule */
    int delay_ms;
    const char *rr[6]; /* presentation form */
    unsigned asked;    /* filled in by the server */
};

struct fake_dns;

/* rules are borrowed and updated (asked); names under "bulk.test" get an A record, other
 * names NXDOMAIN. delay_ms applies to names without a rule. */
struct fake_dns *fake_dns_new(struct event_base *base, struct fake_rule *rules, size_t nrules,
                              int delay_ms);
void fake_dns_free(struct fake_dns *f);
uint16_t fake_dns_port(const struct fake_dns *f);

struct fake_dns_counts {
    unsigned udp, tcp;        /* queries received */
    unsigned outstanding;     /* accepted and not yet answered */
    unsigned max_outstanding; /* highest outstanding seen */
    size_t narrivals;
    const double *arrivals; /* monotonic ms of each UDP query, borrowed */
};
void fake_dns_counts(const struct fake_dns *f, struct fake_dns_counts *out);
double fake_dns_now_ms(void);

#endif
