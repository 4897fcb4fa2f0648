/*
 * Why: ldns_wire2pkt allocated an RR, an owner name and an rdf per field for every record
 * of every reply, and the scanner freed them all again after reading a few fields. This
 * reads the same message in place and accepts exactly what ldns 1.8.3 accepts: the walks
 * below follow ldns_wire2dname, ldns_wire2rdf and ldns_wire2pkt step by step, quirks
 * included (docs/dns-engine.md lists them). Types it does not walk itself go to ldns.
 */
#include "dns_wire.h"

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_LEN 12

/* Rdata field kinds: a positive value is a field of that many octets. */
enum { F_NAME = 0, F_STR = -1, F_REST = -2 };

struct rdata_shape {
    uint16_t type;
    signed char fields[7];
    unsigned char n;
    bool repeat_last; /* TXT, SPF: any number of character-strings */
};

/* ldns 1.8.3's descriptors of the types walked here. */
static const struct rdata_shape shapes[] = {
    {LDNS_RR_TYPE_A, {4}, 1, false},
    {LDNS_RR_TYPE_NS, {F_NAME}, 1, false},
    {LDNS_RR_TYPE_CNAME, {F_NAME}, 1, false},
    {LDNS_RR_TYPE_SOA, {F_NAME, F_NAME, 4, 4, 4, 4, 4}, 7, false},
    {LDNS_RR_TYPE_MX, {2, F_NAME}, 2, false},
    {LDNS_RR_TYPE_TXT, {F_STR}, 1, true},
    {LDNS_RR_TYPE_AAAA, {16}, 1, false},
    {LDNS_RR_TYPE_DNAME, {F_NAME}, 1, false},
    {LDNS_RR_TYPE_OPT, {F_REST}, 1, false},
    {LDNS_RR_TYPE_TLSA, {1, 1, 1, F_REST}, 4, false},
    {LDNS_RR_TYPE_SPF, {F_STR}, 1, true},
};

static const struct rdata_shape *shape_of(uint16_t type)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (shapes[i].type == type)
            return &shapes[i];
    return NULL;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* mts_wire_name; *chain is set when the name follows more pointers than the bound. */
static size_t walk_name(const uint8_t *w, size_t len, size_t *pos, uint8_t *out, bool *chain)
{
    size_t p = *pos, n = 0, resume = 0;
    unsigned long pointers = 0;
    uint8_t label;

    if (p >= len)
        return 0;
    label = w[p];
    while (label > 0) {
        while (label >= 192) {
            if (!resume)
                resume = p + 2;
            if (p + 2 > len)
                return 0;
            size_t target = (size_t)(w[p] & 63) << 8 | w[p + 1];
            if (target == 0 || target >= len)
                return 0;
            if (++pointers > MTS_WIRE_POINTERS_MAX) {
                *chain = true;
                return 0;
            }
            p = target;
            label = w[p];
        }
        if (label == 0)
            break;
        if (label > LDNS_MAX_LABELLEN || p + 1 + label > len || n + 1 + label > MTS_WIRE_NAME_MAX)
            return 0;
        if (out) {
            out[n] = label;
            memcpy(out + n + 1, w + p + 1, label);
        }
        n += 1 + (size_t)label;
        p += 1 + (size_t)label;
        if (p < len)
            label = w[p]; /* else the label is read again and fails its bound, as in ldns */
    }
    if (n >= MTS_WIRE_NAME_MAX)
        return 0;
    if (out)
        out[n] = 0;
    *pos = resume ? resume : p + 1;
    return n + 1;
}

size_t mts_wire_name(const uint8_t *w, size_t len, size_t *pos, uint8_t *out)
{
    bool chain = false;
    return walk_name(w, len, pos, out, &chain);
}

/* The rdata of an RR of a walked type from *pos (its rdlength), as ldns_wire2rdf. */
static bool read_rdata(const uint8_t *w, size_t len, size_t *pos, const struct rdata_shape *sh,
                       struct mts_wire_rr *rr, bool *chain)
{
    size_t p = *pos, end;
    unsigned k = 0;

    if (p + 2 > len)
        return false;
    rr->rdlen = get16(w + p);
    p += 2;
    if (p + rr->rdlen > len)
        return false;
    rr->rdata = (uint16_t)p;
    end = p + rr->rdlen;
    while (p < end && (sh->repeat_last || k < sh->n)) {
        int kind = sh->fields[k < sh->n ? k : sh->n - 1u];
        size_t size = kind > 0 ? (size_t)kind : 0;
        if (kind == F_NAME && !walk_name(w, len, &p, NULL, chain))
            return false;
        if (kind == F_STR)
            size = (size_t)w[p] + 1;
        if (kind == F_REST)
            size = end - p;
        if (kind != F_NAME && p + size > end)
            return false; /* a name may run past the rdlength: ldns reads on */
        p += size;
        k++;
    }
    rr->fields = (uint16_t)k;
    *pos = p;
    return true;
}

/* An RR of a type this file does not walk, checked by ldns itself. */
static bool read_by_ldns(const uint8_t *w, size_t len, size_t start, size_t *pos,
                         ldns_pkt_section section, struct mts_wire_rr *rr)
{
    ldns_rr *lr = NULL;
    size_t p = start;

    if (ldns_wire2rr(&lr, w, len, &p, section) != LDNS_STATUS_OK)
        return false;
    rr->fields = (uint16_t)ldns_rr_rd_count(lr);
    ldns_rr_free(lr);
    rr->rdata = (uint16_t)(*pos + 2);
    rr->rdlen = get16(w + *pos);
    *pos = p;
    return true;
}

/* One RR of the answer, authority or additional section at *pos. */
static bool read_rr(const uint8_t *w, size_t len, size_t *pos, ldns_pkt_section section,
                    struct mts_wire_rr *rr, bool *chain)
{
    size_t start = *pos, p = start;
    const struct rdata_shape *sh;

    if (!walk_name(w, len, &p, NULL, chain) || p + 8 > len)
        return false;
    rr->owner = (uint16_t)start;
    rr->type = get16(w + p);
    rr->rclass = get16(w + p + 2);
    rr->ttl = (uint32_t)get16(w + p + 4) << 16 | get16(w + p + 6);
    p += 8;
    sh = shape_of(rr->type);
    if (sh ? !read_rdata(w, len, &p, sh, rr, chain) : !read_by_ldns(w, len, start, &p, section, rr))
        return false;
    *pos = p;
    return true;
}

static void read_header(struct mts_dns_reply *r, const uint8_t *w, size_t len)
{
    *r = (struct mts_dns_reply){
        .wire = w,
        .len = len,
        .id = get16(w),
        .qr = (w[2] & 0x80) != 0,
        .tc = (w[2] & 0x02) != 0,
        .ad = (w[3] & 0x20) != 0,
        .rcode = w[3] & 0x0f,
        .qdcount = get16(w + 4),
    };
}

static bool read_questions(struct mts_dns_reply *r, size_t *pos)
{
    for (unsigned i = 0; i < r->qdcount; i++) {
        size_t start = *pos;
        if (!walk_name(r->wire, r->len, pos, NULL, &r->pointer_chain) || *pos + 4 > r->len)
            return false;
        if (i == 0) {
            r->qname = (uint16_t)start;
            r->qtype = get16(r->wire + *pos);
            r->qclass = get16(r->wire + *pos + 2);
        }
        *pos += 4;
    }
    return true;
}

bool mts_wire_read(struct mts_dns_reply *r, const uint8_t *w, size_t len, struct mts_wire_rr *rrs,
                   size_t cap)
{
    size_t pos = HEADER_LEN, used = 0;
    struct mts_wire_rr extra;

    r->pointer_chain = false;
    if (len < HEADER_LEN || len > MTS_WIRE_MAX)
        return false;
    read_header(r, w, len);
    if (!read_questions(r, &pos))
        return false;
    unsigned ancount = get16(w + 6), nscount = get16(w + 8), arcount = get16(w + 10);
    if ((size_t)ancount + nscount > MTS_WIRE_RR_CAP(len))
        return false; /* more RRs than the message can hold: ldns fails on the way */
    r->an = rrs;
    for (; r->nan < ancount; r->nan++, used++)
        if (used >= cap ||
            !read_rr(w, len, &pos, LDNS_SECTION_ANSWER, &rrs[used], &r->pointer_chain))
            return false;
    r->ns = rrs + used;
    for (; r->nns < nscount; r->nns++, used++)
        if (used >= cap ||
            !read_rr(w, len, &pos, LDNS_SECTION_AUTHORITY, &rrs[used], &r->pointer_chain))
            return false;
    for (unsigned i = 0; i < arcount; i++) {
        if (!read_rr(w, len, &pos, LDNS_SECTION_ADDITIONAL, &extra, &r->pointer_chain))
            return false;
        if (extra.type == LDNS_RR_TYPE_TSIG)
            arcount--; /* ldns takes the TSIG out of the count it is looping over */
    }
    return true;
}

size_t mts_wire_name_text(const uint8_t *d, size_t size, char *buf)
{
    size_t pos = 0, n = 0;

    if (size == 1) {
        buf[n++] = '.';
        return n;
    }
    while (pos < size && d[pos] > 0) {
        size_t len = d[pos++];
        for (size_t i = 0; i < len && pos < size; i++, pos++) {
            uint8_t c = d[pos];
            if (c == '.' || c == ';' || c == '(' || c == ')' || c == '\\') {
                buf[n++] = '\\';
                buf[n++] = (char)c;
            } else if (c <= ' ' || c >= 0x7f) {
                buf[n++] = '\\';
                buf[n++] = (char)('0' + c / 100);
                buf[n++] = (char)('0' + c / 10 % 10);
                buf[n++] = (char)('0' + c % 10);
            } else {
                buf[n++] = (char)c;
            }
        }
        if (pos < size)
            buf[n++] = '.';
    }
    return n;
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Length octets are below 64, so comparing whole wire names lower-cased only folds letters. */
bool mts_wire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

size_t mts_wire_txt_join(const struct mts_dns_reply *r, const struct mts_wire_rr *rr, char *buf,
                         size_t cap)
{
    size_t p = rr->rdata, n = 0;

    for (unsigned k = 0; k < rr->fields; k++) {
        size_t len = r->wire[p];
        size_t take = len < cap - n ? len : cap - n;
        memcpy(buf + n, r->wire + p + 1, take);
        n += take;
        p += 1 + len;
    }
    return n;
}

struct mts_dns_reply *mts_wire_copy(const uint8_t *wire, size_t len)
{
    size_t cap = MTS_WIRE_RR_CAP(len);
    struct mts_dns_reply *r;

    if (len < HEADER_LEN || len > MTS_WIRE_MAX)
        return NULL;
    if ((size_t)get16(wire + 6) + get16(wire + 8) < cap)
        cap = (size_t)get16(wire + 6) + get16(wire + 8);
    r = malloc(sizeof *r + cap * sizeof(struct mts_wire_rr) + len);
    if (!r)
        return NULL;
    struct mts_wire_rr *rrs = (struct mts_wire_rr *)(r + 1);
    uint8_t *copy = (uint8_t *)(rrs + cap);
    memcpy(copy, wire, len);
    if (!mts_wire_read(r, copy, len, rrs, cap)) {
        free(r);
        return NULL;
    }
    return r;
}
