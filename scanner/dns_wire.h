/*
 * A DNS reply read in place from its wire bytes (docs/dns-engine.md, "Reading a reply"):
 * the header, the first question and the answer and authority sections as arrays of
 * offsets into the message. It accepts exactly the messages ldns_wire2pkt accepts and
 * allocates nothing for the types the scanner meets.
 */
#ifndef MTS_DNS_WIRE_H
#define MTS_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MTS_WIRE_MAX           65535 /* offsets are 16-bit; DNS over TCP carries no more */
#define MTS_WIRE_NAME_MAX      255   /* uncompressed, root label included */
#define MTS_WIRE_NAME_TEXT_MAX (4 * MTS_WIRE_NAME_MAX + 2) /* every byte as \DDD, the dots */
/* Compression pointers one name may follow. A name has at most 127 labels and a
   compressor points at a label, so only pointers to pointers pass this; ldns follows
   65,535, which let a hostile reply cost each reading of a name that many steps. */
#define MTS_WIRE_POINTERS_MAX 128
/* RR entries that always suffice for a message of len octets (an RR takes at least 11). */
#define MTS_WIRE_RR_CAP(len) ((len) / 11 + 1)

/* One RR of the answer or authority section. Offsets are from the start of the message. */
struct mts_wire_rr {
    uint16_t owner; /* the owner name (possibly compressed) */
    uint16_t type;
    uint16_t rclass;
    uint16_t rdata;  /* the first rdata octet */
    uint16_t rdlen;  /* the RR's rdlength */
    uint16_t fields; /* rdata fields as ldns counts them (ldns_rr_rd_count) */
    uint32_t ttl;
};

struct mts_dns_reply {
    const uint8_t *wire; /* borrowed */
    size_t len;
    uint16_t id;
    uint8_t rcode; /* the header's 4 bits */
    bool qr, tc, ad;
    uint16_t qdcount;
    uint16_t qname; /* the first question, when qdcount > 0 */
    uint16_t qtype, qclass;
    const struct mts_wire_rr *an, *ns; /* into the caller's array */
    size_t nan, nns;
    bool pointer_chain; /* refused for a name past MTS_WIRE_POINTERS_MAX (ldns reads it) */
};

/* Reads the message wire[0..len) into *r, its answer and authority RRs into rrs (cap
   entries: MTS_WIRE_RR_CAP(len), or ANCOUNT + NSCOUNT when fewer, always suffice). false
   when ldns_wire2pkt would reject it (or ldns ran out of memory checking an RR of a type
   ldns reads), and, the one difference, when a name follows more than
   MTS_WIRE_POINTERS_MAX pointers (then r->pointer_chain is set). */
bool mts_wire_read(struct mts_dns_reply *r, const uint8_t *wire, size_t len,
                   struct mts_wire_rr *rrs, size_t cap);

/* The name at *pos, uncompressed into out (MTS_WIRE_NAME_MAX octets; may be NULL), as
   ldns_wire2dname reads it; *pos moves past it. Its length (root included), 0 when it is
   not a name. */
size_t mts_wire_name(const uint8_t *wire, size_t len, size_t *pos, uint8_t *out);

/* An uncompressed name in presentation form into buf (MTS_WIRE_NAME_TEXT_MAX octets), as
   ldns_rdf2buffer_str writes it; returns the length written (no NUL). */
size_t mts_wire_name_text(const uint8_t *name, size_t size, char *buf);

/* Whether the two names (uncompressed) are equal ignoring ASCII case (ldns_dname_compare). */
bool mts_wire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* The character-strings of a TXT or SPF RR joined into buf, cut at cap; the length
   written is returned. */
size_t mts_wire_txt_join(const struct mts_dns_reply *r, const struct mts_wire_rr *rr, char *buf,
                         size_t cap);

/* A reply held on its own: the message and its RRs in one allocation (a cache hit's reply,
   delivered after the cache entry may have gone). NULL when it does not read or on ENOMEM. */
struct mts_dns_reply *mts_wire_copy(const uint8_t *wire, size_t len);

#endif
