/*
 * The in-place reply reader (scanner/dns_wire.c) against ldns_wire2pkt: hand-made messages
 * for each rule and quirk of ldns (compression, limits, rdata walks), then many mutations
 * of real replies; for every message both must accept or both reject, and what the reader
 * reports (header, question, each answer and authority RR) must be what ldns built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "check.h"
#include "dns_wire.h"

/* Whether the reader read wire as ldns does; prints the first difference. */
static bool rr_same(const struct mts_dns_reply *r, const struct mts_wire_rr *rr, const ldns_rr *l)
{
    uint8_t name[MTS_WIRE_NAME_MAX];
    size_t pos = rr->owner;
    size_t n = mts_wire_name(r->wire, r->len, &pos, name);
    const ldns_rdf *owner = ldns_rr_owner(l);

    return n == ldns_rdf_size(owner) && memcmp(name, ldns_rdf_data(owner), n) == 0 &&
           rr->type == ldns_rr_get_type(l) && rr->rclass == ldns_rr_get_class(l) &&
           rr->ttl == ldns_rr_ttl(l) && rr->fields == ldns_rr_rd_count(l);
}

static bool section_same(const struct mts_dns_reply *r, const struct mts_wire_rr *rrs, size_t n,
                         const ldns_rr_list *list)
{
    if (n != ldns_rr_list_rr_count(list))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!rr_same(r, &rrs[i], ldns_rr_list_rr(list, i)))
            return false;
    return true;
}

static bool same_as_ldns(const uint8_t *wire, size_t len)
{
    static struct mts_wire_rr rrs[MTS_WIRE_RR_CAP(MTS_WIRE_MAX)];
    struct mts_dns_reply r;
    ldns_pkt *p = NULL;
    bool ours = mts_wire_read(&r, wire, len, rrs, MTS_WIRE_RR_CAP(len));
    bool theirs = ldns_wire2pkt(&p, wire, len) == LDNS_STATUS_OK;
    /* The one deliberate difference: a name past MTS_WIRE_POINTERS_MAX pointers. */
    bool same = ours == theirs || (!ours && r.pointer_chain);

    if (same && ours) {
        same = r.id == ldns_pkt_id(p) && r.qr == ldns_pkt_qr(p) && r.tc == ldns_pkt_tc(p) &&
               r.ad == ldns_pkt_ad(p) && r.rcode == ldns_pkt_get_rcode(p) &&
               r.qdcount == ldns_pkt_qdcount(p) &&
               section_same(&r, r.an, r.nan, ldns_pkt_answer(p)) &&
               section_same(&r, r.ns, r.nns, ldns_pkt_authority(p));
        if (same && r.qdcount) {
            const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
            uint8_t name[MTS_WIRE_NAME_MAX];
            size_t pos = r.qname, n = mts_wire_name(wire, len, &pos, name);
            same = r.qtype == ldns_rr_get_type(q) && r.qclass == ldns_rr_get_class(q) &&
                   n == ldns_rdf_size(ldns_rr_owner(q)) &&
                   memcmp(name, ldns_rdf_data(ldns_rr_owner(q)), n) == 0;
        }
    }
    if (!same) {
        fprintf(stderr, "differs from ldns (reader %d, ldns %d):", ours, theirs);
        for (size_t i = 0; i < len; i++)
            fprintf(stderr, " %02x", wire[i]);
        fputc('\n', stderr);
    }
    ldns_pkt_free(p);
    return same;
}

/* A reply built by ldns from zone-file lines: "an:", "ns:" or "ar:" then the RR. */
static uint8_t *build(const char *const *lines, size_t n, size_t *len)
{
    ldns_pkt *p = ldns_pkt_new();
    ldns_rr *q = NULL;
    uint8_t *wire = NULL;

    ldns_rr_new_question_frm_str(&q, "Example.TEST. IN MX", NULL, NULL);
    ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
    ldns_pkt_set_id(p, 0x1234);
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_ad(p, true);
    for (size_t i = 0; i < n; i++) {
        ldns_rr *rr = NULL;
        ldns_pkt_section sec = strncmp(lines[i], "an:", 3) == 0   ? LDNS_SECTION_ANSWER
                               : strncmp(lines[i], "ns:", 3) == 0 ? LDNS_SECTION_AUTHORITY
                                                                  : LDNS_SECTION_ADDITIONAL;
        CHECK(ldns_rr_new_frm_str(&rr, lines[i] + 3, 3600, NULL, NULL) == LDNS_STATUS_OK);
        ldns_pkt_push_rr(p, sec, rr);
    }
    ldns_pkt_set_edns_udp_size(p, 1232);
    CHECK(ldns_pkt2wire(&wire, p, len) == LDNS_STATUS_OK);
    ldns_pkt_free(p);
    return wire;
}

static const char *const typical[] = {
    "an:example.test. 300 IN CNAME mx.Example.test.",
    "an:mx.example.test. 300 IN MX 10 mail.example.test.",
    "an:mx.example.test. 300 IN MX 20 .",
    "an:mail.example.test. 60 IN A 192.0.2.1",
    "an:mail.example.test. 60 IN AAAA 2001:db8::1",
    "an:_mta-sts.example.test. 60 IN TXT \"v=STSv1; \" \"id=1\" \"\"",
    "an:_25._tcp.mail.example.test. 60 IN TLSA 3 1 1 abcdef0123",
    "an:mail.example.test. 60 IN RRSIG A 8 3 60 20300101000000 20200101000000 1 example.test. AAAA",
    "an:d.example.test. 60 IN DNAME other.test.",
    "an:x.example.test. 60 IN SPF \"v=spf1 -all\"",
    "an:x.example.test. 60 IN HINFO cpu os",
    "ns:example.test. 900 IN SOA ns.example.test. admin.example.test. 1 2 3 4 300",
    "ns:example.test. 900 IN NS ns.example.test.",
    "ar:ns.example.test. 900 IN A 192.0.2.53",
};

static void test_typical(void)
{
    size_t len;
    uint8_t *wire = build(typical, sizeof typical / sizeof typical[0], &len);
    struct mts_wire_rr rrs[MTS_WIRE_RR_CAP(4096)];
    struct mts_dns_reply r;

    CHECK(same_as_ldns(wire, len));
    CHECK(mts_wire_read(&r, wire, len, rrs, MTS_WIRE_RR_CAP(len)));
    CHECK_INT(r.nan, 11);
    CHECK_INT(r.nns, 2);
    CHECK_INT(r.id, 0x1234);
    CHECK(r.ad && r.qr && !r.tc);
    CHECK_INT(r.an[5].fields, 3); /* three character-strings, the last empty */
    char txt[64];
    size_t n = mts_wire_txt_join(&r, &r.an[5], txt, sizeof txt);
    CHECK(n == 13 && memcmp(txt, "v=STSv1; id=1", 13) == 0);
    CHECK_INT(mts_wire_txt_join(&r, &r.an[5], txt, 4), 4);
    CHECK_INT(r.an[6].fields, 4);
    CHECK_INT(r.an[6].rdlen, 8);
    /* every truncation of it: rejected by both, or accepted by both the same way */
    for (size_t cut = 0; cut <= len; cut++)
        CHECK(same_as_ldns(wire, cut));
    free(wire);
}

static const uint8_t header_1an[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};

/* header (one question, one answer) + question "a." MX + the answer bytes given. */
static size_t with_answer(uint8_t *out, const uint8_t *an, size_t n)
{
    static const uint8_t question[] = {1, 'a', 0, 0, 15, 0, 1};
    memcpy(out, header_1an, sizeof header_1an);
    memcpy(out + 12, question, sizeof question);
    memcpy(out + 19, an, n);
    return 19 + n;
}

static void test_names(void)
{
    uint8_t m[600];
    /* owner a pointer to the question's name (offset 12) */
    const uint8_t ptr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
    CHECK(same_as_ldns(m, with_answer(m, ptr, sizeof ptr)));
    /* pointer to offset 0, to itself (a loop), past the end, a forward pointer */
    const uint8_t zero[] = {0xc0, 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0};
    const uint8_t self[] = {0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0};
    const uint8_t past[] = {0xc0, 200, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0};
    const uint8_t fwd[] = {0xc0, 31, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 1, 'b', 0};
    struct mts_wire_rr rrs[8];
    struct mts_dns_reply r;
    size_t n;

    n = with_answer(m, zero, sizeof zero);
    CHECK(!mts_wire_read(&r, m, n, rrs, 8) && same_as_ldns(m, n));
    n = with_answer(m, self, sizeof self);
    CHECK(!mts_wire_read(&r, m, n, rrs, 8) && same_as_ldns(m, n));
    n = with_answer(m, past, sizeof past);
    CHECK(!mts_wire_read(&r, m, n, rrs, 8) && same_as_ldns(m, n));
    n = with_answer(m, fwd, sizeof fwd);
    CHECK(mts_wire_read(&r, m, n, rrs, 8) && same_as_ldns(m, n)); /* ldns follows it */
    /* a label of 64 octets; names of 255 and 256 octets */
    uint8_t an[300] = {64};
    CHECK(same_as_ldns(m, with_answer(m, an, 80)));
    for (size_t total = 254; total <= 256; total++) {
        size_t k = 0;
        while (total - 1 - k > 1) {
            size_t label = total - 1 - k - 1 > 63 ? 63 : total - 1 - k - 1;
            an[k] = (uint8_t)label;
            memset(an + k + 1, 'x', label);
            k += 1 + label;
        }
        an[k++] = 0;
        memcpy(an + k, (const uint8_t[]){0, 1, 0, 1, 0, 0, 0, 1, 0, 0}, 10);
        n = with_answer(m, an, k + 10);
        CHECK(same_as_ldns(m, n));
        CHECK(mts_wire_read(&r, m, n, rrs, 8) == (k <= 255));
    }
    /* a chain of pointers to pointers: 128 followed, 129 refused where ldns reads on */
    const uint8_t unknown[] = {0, 0xff, 0, 0, 1, 0, 0, 0, 60}; /* root, TYPE65280 */
    for (size_t pointers = 127; pointers <= 130; pointers++) {
        uint8_t big[600];
        size_t at = with_answer(big, unknown, sizeof unknown);
        size_t chain = pointers - 1; /* in the rdata; the second RR's owner points at its end */
        big[7] = 2;
        big[at++] = (uint8_t)(2 * chain >> 8);
        big[at++] = (uint8_t)(2 * chain);
        for (size_t i = 0; i < chain; i++, at += 2) {
            size_t target = i ? at - 2 : 12; /* the first at the question's name */
            big[at] = (uint8_t)(0xc0 | target >> 8);
            big[at + 1] = (uint8_t)target;
        }
        big[at] = (uint8_t)(0xc0 | (at - 2) >> 8);
        big[at + 1] = (uint8_t)(at - 2);
        at += 2;
        memcpy(big + at, (const uint8_t[]){0, 16, 0, 1, 0, 0, 0, 1, 0, 0}, 10);
        at += 10;
        ldns_pkt *p = NULL;
        CHECK(ldns_wire2pkt(&p, big, at) == LDNS_STATUS_OK); /* ldns reads every one */
        ldns_pkt_free(p);
        CHECK_INT(mts_wire_read(&r, big, at, rrs, 8), pointers <= MTS_WIRE_POINTERS_MAX);
        CHECK_INT(r.pointer_chain, pointers > MTS_WIRE_POINTERS_MAX);
        CHECK(same_as_ldns(big, at));
    }
    /* every byte value in a label, written as ldns writes it */
    for (int c = 0; c < 256; c++) {
        uint8_t name[] = {3, 'a', (uint8_t)c, 'Z', 0};
        ldns_rdf *rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, sizeof name, name);
        char *want = ldns_rdf2str(rdf);
        char got[MTS_WIRE_NAME_TEXT_MAX + 1];
        got[mts_wire_name_text(name, sizeof name, got)] = '\0';
        CHECK_STR(got, want);
        free(want);
        ldns_rdf_deep_free(rdf);
    }
    CHECK(mts_wire_name_equal((const uint8_t *)"\1A\0", 3, (const uint8_t *)"\1a\0", 3));
    CHECK(!mts_wire_name_equal((const uint8_t *)"\1A\0", 3, (const uint8_t *)"\1b\0", 3));
}

/* The rdata walk and its quirks, each compared with ldns. */
static void test_rdata(void)
{
    const uint8_t *cases[] = {
        /* A with 8 octets of rdata: ldns reads 4 and the next RR starts in the other 4 */
        (const uint8_t[]){14, 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 8, 1, 2, 3, 4, 0, 0, 1, 0},
        /* A with 3 octets: a fixed field that does not fit */
        (const uint8_t[]){14, 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 1, 2, 3},
        /* MX with only a preference; MX with one octet */
        (const uint8_t[]){14, 0, 0, 15, 0, 1, 0, 0, 0, 60, 0, 2, 0, 10},
        (const uint8_t[]){14, 0, 0, 15, 0, 1, 0, 0, 0, 60, 0, 1, 0},
        /* MX whose host runs past the rdlength */
        (const uint8_t[]){14, 0, 0, 15, 0, 1, 0, 0, 0, 60, 0, 3, 0, 10, 1, 'b', 0},
        /* TXT whose string passes the rdata; TXT with no rdata */
        (const uint8_t[]){14, 0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 5, 'a', 'b'},
        (const uint8_t[]){14, 0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 0},
        /* rdlength past the message; TLSA with two fields */
        (const uint8_t[]){14, 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 9, 1, 2, 3, 4},
        (const uint8_t[]){14, 0, 0, 52, 0, 1, 0, 0, 0, 60, 0, 2, 3, 1},
        /* an unknown type, read by ldns; an RRSIG cut short */
        (const uint8_t[]){14, 0, 0xff, 0x00, 0, 1, 0, 0, 0, 60, 0, 2, 3, 1},
        (const uint8_t[]){14, 0, 0, 46, 0, 1, 0, 0, 0, 60, 0, 3, 0, 1, 8},
    };
    static const size_t sizes[] = {20, 15, 14, 13, 17, 15, 12, 16, 14, 14, 15};
    uint8_t m[600];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t an[64];
        an[0] = 0xc0; /* the owner: a pointer to the question's name */
        memcpy(an + 1, cases[i], sizes[i]);
        an[1] = 12;
        size_t n = with_answer(m, an, sizes[i] + 1);
        if (i == 0)
            m[7] = 2; /* two answers, the second read from the A's surplus */
        CHECK(same_as_ldns(m, n));
    }
    /* a TSIG in the additional section: ldns reads one RR fewer after it */
    const uint8_t tsig[] = {0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
    uint8_t msg[64] = {0x12, 0x34, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 2};
    memcpy(msg + 12, tsig, sizeof tsig);
    memset(msg + 23, 0xff, 5); /* the second additional RR: garbage ldns never reads */
    CHECK(same_as_ldns(msg, 28));
    struct mts_wire_rr rrs[4];
    struct mts_dns_reply r;
    CHECK(mts_wire_read(&r, msg, 28, rrs, 4));
}

/* Random changes to real replies, each compared with ldns. */
static void test_mutations(void)
{
    size_t len;
    uint8_t *wire = build(typical, sizeof typical / sizeof typical[0], &len);
    uint8_t *m = malloc(len);
    uint64_t s = 0x9e3779b97f4a7c15u;
    int differ = 0;

    for (int round = 0; round < 200000 && differ < 5; round++) {
        memcpy(m, wire, len);
        for (int k = 0; k < 1 + round % 4; k++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            size_t at = (size_t)(s >> 8) % len;
            uint8_t v = (uint8_t)s;
            m[at] = (s >> 40) & 1 ? v : (uint8_t)(v % 64 | (s >> 41 & 1 ? 0xc0 : 0));
        }
        differ += !same_as_ldns(m, len - (size_t)(s >> 50) % 3);
    }
    CHECK_INT(differ, 0);
    free(m);
    free(wire);
}

static void test_copy(void)
{
    size_t len;
    uint8_t *wire = build(typical, 4, &len);
    struct mts_dns_reply *r = mts_wire_copy(wire, len);

    CHECK(r != NULL);
    if (r) {
        memset(wire, 0, len); /* the copy holds its own bytes */
        CHECK_INT(r->nan, 4);
        CHECK_INT(r->an[3].type, LDNS_RR_TYPE_A);
        CHECK(memcmp(r->wire + r->an[3].rdata, "\xc0\x00\x02\x01", 4) == 0);
    }
    free(r);
    CHECK(mts_wire_copy(wire, 5) == NULL);
    free(wire);
}

int main(void)
{
    test_typical();
    test_names();
    test_rdata();
    test_mutations();
    test_copy();
    return check_exit();
}
