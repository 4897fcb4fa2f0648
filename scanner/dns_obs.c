/*
 * The DNS observation (DNSOBS, docs/record-schema.md): what a reply said, kept close to the
 * wire so that the analysis can recompute every verdict. TXT character-strings stay
 * separate and bytes that are not clean UTF-8 are kept as hex instead of being mangled.
 */
#include "dns_engine.h"
#include "dns_internal.h"
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

/* The name at pos of the reply in presentation form (it was checked when read). */
static void name_string(struct mts_jt *t, const struct mts_dns_reply *r, size_t pos)
{
    uint8_t name[MTS_WIRE_NAME_MAX];
    char text[MTS_WIRE_NAME_TEXT_MAX];
    size_t n = mts_wire_name(r->wire, r->len, &pos, name);

    mts_jt_str(t, text, mts_wire_name_text(name, n, text));
}

/* One rdata field in presentation form. ldns's formatter of SVCB/HTTPS parameters aborts
   the process on some hostile values (an assert in ldns_buffer_write_at, found by fuzzing),
   so those are written in the RFC 3597 generic form instead: "\# LENGTH HEX". */
void mts_dns_obs_rdf_text(ldns_buffer *b, const ldns_rdf *rdf)
{
    if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_SVCPARAMS) {
        ldns_rdf2buffer_str(b, rdf);
        return;
    }
    size_t n = ldns_rdf_size(rdf);
    ldns_buffer_printf(b, "\\# %zu ", n);
    if (!ldns_buffer_reserve(b, 2 * n))
        return;
    mts_hex_encode((char *)ldns_buffer_current(b), ldns_rdf_data(rdf), n);
    ldns_buffer_skip(b, (ssize_t)(2 * n));
}

/* The rdata of an answer RR in presentation form, formatted by ldns from that RR alone:
   the types and shapes the observation does not write itself. */
static bool rdata_string(struct mts_jt *t, ldns_buffer **scratch, const struct mts_dns_reply *r,
                         const struct mts_wire_rr *rr)
{
    ldns_buffer *b = *scratch;
    ldns_rr *lr = NULL;
    size_t pos = rr->owner;

    if (!b && !(b = *scratch = ldns_buffer_new(256)))
        return false;
    /* The reader checked this RR as ldns does: only an allocation can fail here. */
    if (ldns_wire2rr(&lr, r->wire, r->len, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
        return false;
    ldns_buffer_clear(b);
    for (size_t i = 0; i < ldns_rr_rd_count(lr); i++) {
        if (i)
            ldns_buffer_printf(b, " ");
        mts_dns_obs_rdf_text(b, ldns_rr_rdf(lr, i));
    }
    ldns_rr_free(lr);
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

/* The address at a in presentation form into buf. IPv4 as inet_ntop writes it, without
   its sprintf (one address in most replies). */
static bool addr_text(const uint8_t *a, int family, char *buf, size_t size)
{
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

/* The character-strings of a TXT RR (the reader checked each against the rdata). */
static void txt_array(struct mts_jt *t, const struct mts_dns_reply *r, const struct mts_wire_rr *rr)
{
    const uint8_t *d = r->wire + rr->rdata;

    mts_jt_open(t, '[');
    for (unsigned i = 0; i < rr->fields; i++) {
        bytes_value(t, d + 1, d[0]);
        d += 1 + d[0];
    }
    mts_jt_close(t, ']');
}

/* A TLSA rdata as ldns writes it ("3 1 1 ab12..."), when its data is at most 64 octets
   (a SHA-512 digest); false for a longer one, which ldns formats. */
static bool tlsa_text(struct mts_jt *t, const struct mts_dns_reply *r, const struct mts_wire_rr *rr)
{
    const uint8_t *d = r->wire + rr->rdata;
    size_t data = (size_t)rr->rdlen - 3;
    char buf[3 * 4 + 2 * 64], *p = buf;

    if (data > 64)
        return false;
    for (int i = 0; i < 3; i++) {
        p = put_uint(p, d[i]);
        *p++ = ' ';
    }
    p = mts_hex_encode(p, d + 3, data);
    mts_jt_str(t, buf, (size_t)(p - buf));
    return true;
}

/* The type-specific fields of one answer RR; "rdata" when the shape is odd (fields as
   ldns counts them: the reader walked the rdata as ldns does). */
static bool add_rdata(struct mts_jt *t, ldns_buffer **b, const struct mts_dns_reply *r,
                      const struct mts_wire_rr *rr)
{
    char addr[INET6_ADDRSTRLEN];
    const uint8_t *d = r->wire + rr->rdata;

    switch (rr->type) {
    case LDNS_RR_TYPE_CNAME:
    case LDNS_RR_TYPE_DNAME:
        if (rr->fields == 1) {
            mts_jt_key(t, "target");
            name_string(t, r, rr->rdata);
            return true;
        }
        break;
    case LDNS_RR_TYPE_TXT:
    case LDNS_RR_TYPE_SPF:
        mts_jt_key(t, "txt");
        txt_array(t, r, rr);
        return true;
    case LDNS_RR_TYPE_MX:
        if (rr->fields == 2) {
            mts_jt_key(t, "pref");
            mts_jt_int(t, d[0] << 8 | d[1]);
            mts_jt_key(t, "host");
            name_string(t, r, rr->rdata + 2u);
            return true;
        }
        break;
    case LDNS_RR_TYPE_A:
    case LDNS_RR_TYPE_AAAA:
        if (mts_dns_obs_addr(r, rr, rr->type, addr, sizeof addr)) {
            mts_jt_key(t, "addr");
            mts_jt_cstr(t, addr);
            return true;
        }
        break;
    case LDNS_RR_TYPE_TLSA:
        if (rr->fields == 4) {
            mts_jt_key(t, "rdata");
            if (tlsa_text(t, r, rr))
                return true;
            return rdata_string(t, b, r, rr);
        }
        break;
    default:
        break;
    }
    mts_jt_key(t, "rdata");
    return rdata_string(t, b, r, rr);
}

static bool answer_array(struct mts_jt *t, const struct mts_dns_reply *r)
{
    ldns_buffer *b = NULL; /* for rdata ldns formats: made on first use */
    bool ok = true;

    mts_jt_open(t, '[');
    for (size_t i = 0; ok && i < r->nan; i++) {
        const struct mts_wire_rr *rr = &r->an[i];

        mts_jt_open(t, '{');
        mts_jt_key(t, "name");
        name_string(t, r, rr->owner);
        mts_jt_key(t, "type");
        ok = type_string(t, rr->type);
        mts_jt_key(t, "ttl");
        mts_jt_int(t, rr->ttl);
        ok = ok && add_rdata(t, &b, r, rr);
        mts_jt_close(t, '}');
    }
    mts_jt_close(t, ']');
    if (b)
        ldns_buffer_free(b);
    return ok;
}

bool mts_dns_obs_addr(const struct mts_dns_reply *r, const struct mts_wire_rr *rr,
                      ldns_rr_type type, char *buf, size_t size)
{
    return rr->type == type && rr->fields == 1 &&
           addr_text(r->wire + rr->rdata, type == LDNS_RR_TYPE_A ? AF_INET : AF_INET6, buf, size);
}

const char *mts_dns_obs_result(const struct mts_dns_reply *r, ldns_rr_type qtype)
{
    uint8_t name[MTS_WIRE_NAME_MAX], owner[MTS_WIRE_NAME_MAX];
    size_t name_len, pos;

    switch (r->rcode) {
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
    if (r->qdcount == 0)
        return mts_dns_result_name(MTS_DNS_RESULT_ERROR);
    pos = r->qname;
    name_len = mts_wire_name(r->wire, r->len, &pos, name);
    for (int hop = 0; hop <= CNAME_CHAIN_MAX; hop++) {
        size_t next = 0; /* the last matching CNAME's target, as an offset */

        for (size_t i = 0; i < r->nan; i++) {
            const struct mts_wire_rr *rr = &r->an[i];
            bool cname = rr->type == LDNS_RR_TYPE_CNAME && rr->fields == 1;

            if (rr->type != qtype && !cname)
                continue; /* cannot matter: spare decompressing its owner */
            pos = rr->owner;
            size_t n = mts_wire_name(r->wire, r->len, &pos, owner);
            if (!mts_wire_name_equal(owner, n, name, name_len))
                continue;
            if (rr->type == qtype)
                return mts_dns_result_name(MTS_DNS_RESULT_ANSWER);
            if (cname)
                next = rr->rdata;
        }
        if (!next)
            break;
        pos = next;
        name_len = mts_wire_name(r->wire, r->len, &pos, name);
    }
    return mts_dns_result_name(MTS_DNS_RESULT_NODATA);
}

/* The SOA's MINIMUM: after its two names and four 32-bit fields. */
static uint32_t soa_minimum(const struct mts_dns_reply *r, const struct mts_wire_rr *rr)
{
    size_t pos = rr->rdata;

    mts_wire_name(r->wire, r->len, &pos, NULL);
    mts_wire_name(r->wire, r->len, &pos, NULL);
    const uint8_t *m = r->wire + pos + 16;
    return (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
}

uint32_t mts_dns_obs_ttl(const struct mts_dns_reply *r, const char *result)
{
    uint32_t ttl = UINT32_MAX;

    enum mts_dns_result res = mts_dns_result_parse(result);
    if (res == MTS_DNS_RESULT_ANSWER) {
        for (size_t i = 0; i < r->nan; i++)
            ttl = r->an[i].ttl < ttl ? r->an[i].ttl : ttl;
        return ttl == UINT32_MAX ? 0 : ttl;
    }
    if (res == MTS_DNS_RESULT_NODATA || res == MTS_DNS_RESULT_NXDOMAIN) {
        for (size_t i = 0; i < r->nns; i++) {
            const struct mts_wire_rr *rr = &r->ns[i];
            if (rr->type == LDNS_RR_TYPE_SOA && rr->fields == 7) {
                uint32_t min = soa_minimum(r, rr);
                return min < rr->ttl ? min : rr->ttl;
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

char *mts_dns_obs_new(const char *qname, ldns_rr_type qtype, const struct mts_dns_reply *reply,
                      const char *noreply_result, const struct mts_dns_obs_meta *meta)
{
    struct mts_jt t;
    bool ok = true;

    mts_jt_init(&t);
    obs_head(&t, qname);
    mts_jt_key(&t, "qtype");
    ok = type_string(&t, qtype);
    mts_jt_key(&t, "result");
    mts_jt_cstr(&t, reply ? mts_dns_obs_result(reply, qtype) : noreply_result);
    if (reply) {
        const ldns_lookup_table *rc = ldns_lookup_by_id(ldns_rcodes, reply->rcode);
        char buf[16];

        if (!rc)
            snprintf(buf, sizeof(buf), "RCODE%d", (int)reply->rcode);
        mts_jt_key(&t, "rcode");
        mts_jt_cstr(&t, rc ? rc->name : buf);
        mts_jt_key(&t, "ad");
        mts_jt_bool(&t, reply->ad);
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

const char *mts_dns_obs_tail(const char *obs, const char *qname)
{
    struct mts_jt t;
    size_t n = 0;
    bool same;

    mts_jt_init(&t);
    obs_head(&t, qname);
    if (t.oom) {
        mts_jt_free(&t);
        return NULL;
    }
    n = t.len;
    same = strncmp(obs, t.buf, n) == 0 && obs[n] == ',';
    mts_jt_free(&t);
    return same ? obs + n + 1 : NULL;
}

char *mts_dns_obs_join(const char *qname, const char *tail, size_t tail_len)
{
    struct mts_jt t;

    mts_jt_init(&t);
    obs_head(&t, qname);
    mts_jt_raw(&t, tail, tail_len); /* after its comma; the tail closes the object */
    return mts_jt_take(&t, NULL);
}

char *mts_dns_obs_skipped(const char *qname, ldns_rr_type qtype, const char *why)
{
    struct mts_jt t;

    mts_jt_init(&t);
    mts_jt_open(&t, '{');
    mts_jt_key(&t, "qname");
    mts_jt_cstr(&t, qname);
    mts_jt_key(&t, "qtype");
    bool ok = type_string(&t, qtype);
    mts_jt_key(&t, "result");
    mts_jt_cstr(&t, mts_dns_result_name(MTS_DNS_RESULT_SKIPPED));
    mts_jt_key(&t, "why");
    mts_jt_cstr(&t, why);
    mts_jt_close(&t, '}');
    if (!ok) {
        mts_jt_free(&t);
        return NULL;
    }
    return mts_jt_take(&t, NULL);
}
