/*
 * The DNSOBS written from an ldns_pkt, as the scanner wrote it before it read replies in
 * place (scanner/dns_wire.c): the reference fuzz_dns_obs compares the scanner's
 * observation with, byte for byte, on every reply ldns accepts.
 */
#include "dns_obs_ldns.h"
#include "dns_engine.h"
#include "json_text.h"
#include "mts_util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CNAME_CHAIN_MAX 16
#define NEG_TTL_DEFAULT 300

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF) without NUL. */
static bool clean_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp, min;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* One TXT character-string: a string when it is clean UTF-8, else {"hex": "..."}. */
static void bytes_value(struct mts_jt *t, const uint8_t *s, size_t n)
{
    char hex[2 * 255];

    if (clean_utf8(s, n)) {
        mts_jt_str(t, (const char *)s, n);
        return;
    }
    mts_hex_encode(hex, s, n);
    mts_jt_open(t, '{');
    mts_jt_key(t, "hex");
    mts_jt_str(t, hex, 2 * n);
    mts_jt_close(t, '}');
}

/* Writes a malloc'd string from ldns and frees it; false when ldns could not allocate. */
static bool owned_string(struct mts_jt *t, char *s)
{
    if (!s)
        return false;
    mts_jt_cstr(t, s);
    free(s);
    return true;
}

/* The type's mnemonic: the common ones without ldns's allocation, any other by ldns. */
static bool type_string(struct mts_jt *t, ldns_rr_type type)
{
    static const struct {
        ldns_rr_type type;
        const char *name;
    } common[] = {
        {LDNS_RR_TYPE_A, "A"},         {LDNS_RR_TYPE_AAAA, "AAAA"},   {LDNS_RR_TYPE_MX, "MX"},
        {LDNS_RR_TYPE_TXT, "TXT"},     {LDNS_RR_TYPE_CNAME, "CNAME"}, {LDNS_RR_TYPE_TLSA, "TLSA"},
        {LDNS_RR_TYPE_RRSIG, "RRSIG"}, {LDNS_RR_TYPE_SOA, "SOA"},     {LDNS_RR_TYPE_NS, "NS"},
    };
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (common[i].type == type) {
            mts_jt_cstr(t, common[i].name);
            return true;
        }
    return owned_string(t, ldns_rr_type2str(type));
}

/* A name in presentation form as ldns_rdf2buffer_str writes it (mts_wire_name_text, checked
   against ldns for every byte value); -1 when it is not a name. */
static int dname_text(const ldns_rdf *rdf, char *buf)
{
    if (ldns_rdf_size(rdf) > LDNS_MAX_DOMAINLEN)
        return -1;
    return (int)mts_wire_name_text(ldns_rdf_data(rdf), ldns_rdf_size(rdf), buf);
}

/* A name (or any rdf) in presentation form; other rdfs are formatted by ldns in the
   caller's scratch buffer *b, made on first use (ldns_rdf2str would allocate a buffer and
   a string per call). */
static bool rdf_string(struct mts_jt *t, ldns_buffer **b, const ldns_rdf *rdf)
{
    if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME) {
        char text[MTS_WIRE_NAME_TEXT_MAX];
        int n = dname_text(rdf, text);
        if (n < 0)
            return false;
        mts_jt_str(t, text, (size_t)n);
        return true;
    }
    if (!*b && !(*b = ldns_buffer_new(256)))
        return false;
    ldns_buffer_clear(*b);
    if (ldns_rdf2buffer_str(*b, rdf) != LDNS_STATUS_OK)
        return false;
    mts_jt_str(t, (const char *)ldns_buffer_begin(*b), ldns_buffer_position(*b));
    return true;
}

static bool rdata_string(struct mts_jt *t, ldns_buffer **scratch, const ldns_rr *rr)
{
    ldns_buffer *b = *scratch;

    if (!b && !(b = *scratch = ldns_buffer_new(256)))
        return false;
    ldns_buffer_clear(b);
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        if (i)
            ldns_buffer_printf(b, " ");
        mts_dns_obs_rdf_text(b, ldns_rr_rdf(rr, i));
    }
    if (!ldns_buffer_status_ok(b))
        return false;
    mts_jt_str(t, (const char *)ldns_buffer_begin(b), ldns_buffer_position(b));
    return true;
}

/* Decimal digits of v at p; returns the end. */
static char *put_uint(char *p, unsigned long long v)
{
    char tmp[20];
    int n = 0;

    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* The address in presentation form into buf, or false when the rdata is not one. IPv4 as
   inet_ntop writes it, without its sprintf (one address in most replies). */
static bool addr_text(const ldns_rdf *rdf, int family, char *buf, size_t size)
{
    size_t want = family == AF_INET ? 4 : 16;
    const uint8_t *a = ldns_rdf_data(rdf);

    if (ldns_rdf_size(rdf) != want)
        return false;
    if (family == AF_INET6 || size < INET_ADDRSTRLEN)
        return inet_ntop(family, a, buf, size) != NULL;
    char *p = buf;
    for (int i = 0; i < 4; i++) {
        if (i)
            *p++ = '.';
        p = put_uint(p, a[i]);
    }
    *p = '\0';
    return true;
}

/* Whether every rdata of a TXT RR is one well-formed character-string. */
static bool txt_well_formed(const ldns_rr *rr)
{
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
        size_t n = ldns_rdf_size(rdf);
        if (n < 1 || (size_t)ldns_rdf_data(rdf)[0] + 1 != n)
            return false;
    }
    return true;
}

static void txt_array(struct mts_jt *t, const ldns_rr *rr)
{
    mts_jt_open(t, '[');
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const uint8_t *d = ldns_rdf_data(ldns_rr_rdf(rr, i));
        bytes_value(t, d + 1, d[0]);
    }
    mts_jt_close(t, ']');
}

/* The type-specific fields of one answer RR; falls back to "rdata" when the shape is odd. */
static bool add_rdata(struct mts_jt *t, ldns_buffer **b, const ldns_rr *rr)
{
    size_t rd = ldns_rr_rd_count(rr);
    char addr[INET6_ADDRSTRLEN];

    switch (ldns_rr_get_type(rr)) {
    case LDNS_RR_TYPE_CNAME:
    case LDNS_RR_TYPE_DNAME:
        if (rd == 1) {
            mts_jt_key(t, "target");
            return rdf_string(t, b, ldns_rr_rdf(rr, 0));
        }
        break;
    case LDNS_RR_TYPE_TXT:
    case LDNS_RR_TYPE_SPF:
        if (txt_well_formed(rr)) {
            mts_jt_key(t, "txt");
            txt_array(t, rr);
            return true;
        }
        break;
    case LDNS_RR_TYPE_MX:
        if (rd == 2 && ldns_rdf_size(ldns_rr_rdf(rr, 0)) == 2) {
            mts_jt_key(t, "pref");
            mts_jt_int(t, ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)));
            mts_jt_key(t, "host");
            return rdf_string(t, b, ldns_rr_rdf(rr, 1));
        }
        break;
    case LDNS_RR_TYPE_A:
    case LDNS_RR_TYPE_AAAA:
        if (rd == 1 && addr_text(ldns_rr_rdf(rr, 0),
                                 ldns_rr_get_type(rr) == LDNS_RR_TYPE_A ? AF_INET : AF_INET6, addr,
                                 sizeof addr)) {
            mts_jt_key(t, "addr");
            mts_jt_cstr(t, addr);
            return true;
        }
        break;
    default:
        break;
    }
    mts_jt_key(t, "rdata");
    return rdata_string(t, b, rr);
}

static bool answer_array(struct mts_jt *t, const ldns_pkt *reply)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    ldns_buffer *b = NULL; /* for rdata ldns formats: made on first use */
    bool ok = true;

    mts_jt_open(t, '[');
    for (size_t i = 0; ok && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);

        mts_jt_open(t, '{');
        mts_jt_key(t, "name");
        ok = rdf_string(t, &b, ldns_rr_owner(rr));
        mts_jt_key(t, "type");
        ok = ok && type_string(t, ldns_rr_get_type(rr));
        mts_jt_key(t, "ttl");
        mts_jt_int(t, ldns_rr_ttl(rr));
        ok = ok && add_rdata(t, &b, rr);
        mts_jt_close(t, '}');
    }
    mts_jt_close(t, ']');
    if (b)
        ldns_buffer_free(b);
    return ok;
}

bool ref_obs_addr(const ldns_rr *rr, ldns_rr_type type, char *buf, size_t size)
{
    return ldns_rr_get_type(rr) == type && ldns_rr_rd_count(rr) == 1 &&
           addr_text(ldns_rr_rdf(rr, 0), type == LDNS_RR_TYPE_A ? AF_INET : AF_INET6, buf, size);
}

const char *ref_obs_result(const ldns_pkt *reply, ldns_rr_type qtype)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(reply), 0);
    const ldns_rdf *name;

    switch (ldns_pkt_get_rcode(reply)) {
    case LDNS_RCODE_NOERROR:
        break;
    case LDNS_RCODE_NXDOMAIN:
        return mts_dns_result_name(MTS_DNS_RESULT_NXDOMAIN);
    case LDNS_RCODE_SERVFAIL:
        return mts_dns_result_name(MTS_DNS_RESULT_SERVFAIL);
    case LDNS_RCODE_REFUSED:
        return mts_dns_result_name(MTS_DNS_RESULT_REFUSED);
    default:
        return mts_dns_result_name(MTS_DNS_RESULT_ERROR);
    }
    if (!q)
        return mts_dns_result_name(MTS_DNS_RESULT_ERROR);
    name = ldns_rr_owner(q);
    for (int hop = 0; hop <= CNAME_CHAIN_MAX; hop++) {
        const ldns_rdf *next = NULL;

        for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(an, i);

            if (ldns_dname_compare(ldns_rr_owner(rr), name) != 0)
                continue;
            if (ldns_rr_get_type(rr) == qtype)
                return mts_dns_result_name(MTS_DNS_RESULT_ANSWER);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1)
                next = ldns_rr_rdf(rr, 0);
        }
        if (!next)
            break;
        name = next;
    }
    return mts_dns_result_name(MTS_DNS_RESULT_NODATA);
}

uint32_t ref_obs_ttl(const ldns_pkt *reply, const char *result)
{
    uint32_t ttl = UINT32_MAX;

    enum mts_dns_result r = mts_dns_result_parse(result);
    if (r == MTS_DNS_RESULT_ANSWER) {
        const ldns_rr_list *an = ldns_pkt_answer(reply);
        for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
            uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(an, i));
            ttl = t < ttl ? t : ttl;
        }
        return ttl == UINT32_MAX ? 0 : ttl;
    }
    if (r == MTS_DNS_RESULT_NODATA || r == MTS_DNS_RESULT_NXDOMAIN) {
        const ldns_rr_list *ns = ldns_pkt_authority(reply);
        for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(ns, i);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) == 7 &&
                ldns_rdf_size(ldns_rr_rdf(rr, 6)) == 4) {
                uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
                ttl = ldns_rr_ttl(rr);
                return min < ttl ? min : ttl;
            }
        }
        return NEG_TTL_DEFAULT;
    }
    return 0;
}

/* The observation's opening up to its qname value: {"qname":"...". */
static void obs_head(struct mts_jt *t, const char *qname)
{
    mts_jt_open(t, '{');
    mts_jt_key(t, "qname");
    mts_jt_cstr(t, qname);
}

/* Milliseconds rounded to a tenth, as "%.1f" writes them (every tenth up to 2^52 is
   exact that way), without snprintf's floating-point formatting. */
static void ms_value(struct mts_jt *t, double ms)
{
    long long tenths = (long long)(ms * 10.0 + 0.5);
    char buf[32], *p = buf;

    if (tenths < 0) {
        *p++ = '-';
        tenths = -tenths;
    }
    p = put_uint(p, (unsigned long long)tenths / 10);
    *p++ = '.';
    *p++ = (char)('0' + tenths % 10);
    mts_jt_raw(t, buf, (size_t)(p - buf));
}

char *ref_obs_new(const char *qname, ldns_rr_type qtype, const ldns_pkt *reply,
                  const char *noreply_result, const struct mts_dns_obs_meta *meta)
{
    struct mts_jt t;
    bool ok = true;

    mts_jt_init(&t);
    obs_head(&t, qname);
    mts_jt_key(&t, "qtype");
    ok = type_string(&t, qtype);
    mts_jt_key(&t, "result");
    mts_jt_cstr(&t, reply ? ref_obs_result(reply, qtype) : noreply_result);
    if (reply) {
        const ldns_lookup_table *rc = ldns_lookup_by_id(ldns_rcodes, ldns_pkt_get_rcode(reply));
        char buf[16];

        if (!rc)
            snprintf(buf, sizeof(buf), "RCODE%d", (int)ldns_pkt_get_rcode(reply));
        mts_jt_key(&t, "rcode");
        mts_jt_cstr(&t, rc ? rc->name : buf);
        mts_jt_key(&t, "ad");
        mts_jt_bool(&t, ldns_pkt_ad(reply));
    }
    mts_jt_key(&t, "tcp");
    mts_jt_bool(&t, meta->tcp);
    mts_jt_key(&t, "resolver");
    mts_jt_cstr(&t, meta->resolver);
    mts_jt_key(&t, "tries");
    mts_jt_int(&t, meta->tries);
    mts_jt_key(&t, "ms");
    ms_value(&t, meta->ms);
    mts_jt_key(&t, "cached");
    mts_jt_bool(&t, meta->cached);
    if (reply) {
        mts_jt_key(&t, "answer");
        ok = ok && answer_array(&t, reply);
    }
    mts_jt_close(&t, '}');
    if (!ok) {
        mts_jt_free(&t);
        return NULL;
    }
    return mts_jt_take(&t, NULL);
}
