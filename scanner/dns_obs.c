/*
 * The DNS observation (DNSOBS, docs/record-schema.md): what a reply said, kept close to the
 * wire so that the analysis can recompute every verdict. TXT character-strings stay
 * separate and bytes that are not clean UTF-8 are kept as hex instead of being mangled.
 */
#include "dns_internal.h"

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

static json_t *bytes_value(const uint8_t *s, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *hex;
    json_t *v;

    if (clean_utf8(s, n))
        return json_stringn((const char *)s, n);
    hex = malloc(2 * n + 1);
    if (!hex)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[s[i] >> 4];
        hex[2 * i + 1] = digits[s[i] & 0xf];
    }
    hex[2 * n] = '\0';
    v = json_pack("{s:s}", "hex", hex);
    free(hex);
    return v;
}

/* Takes ownership of a malloc'd string from ldns (NULL: allocation failed). */
static json_t *owned_string(char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    free(s);
    return v;
}

static json_t *type_string(ldns_rr_type t)
{
    return owned_string(ldns_rr_type2str(t));
}

static json_t *rdata_string(const ldns_rr *rr)
{
    ldns_buffer *b = ldns_buffer_new(256);
    json_t *v = NULL;

    if (!b)
        return NULL;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        if (i)
            ldns_buffer_printf(b, " ");
        ldns_rdf2buffer_str(b, ldns_rr_rdf(rr, i));
    }
    if (ldns_buffer_status_ok(b))
        v = json_stringn((const char *)ldns_buffer_begin(b), ldns_buffer_position(b));
    ldns_buffer_free(b);
    return v;
}

static json_t *addr_string(const ldns_rdf *rdf, int family)
{
    char buf[INET6_ADDRSTRLEN];
    size_t want = family == AF_INET ? 4 : 16;

    if (ldns_rdf_size(rdf) != want || !inet_ntop(family, ldns_rdf_data(rdf), buf, sizeof(buf)))
        return NULL;
    return json_string(buf);
}

static json_t *txt_array(const ldns_rr *rr)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
        const uint8_t *d = ldns_rdf_data(rdf);
        size_t n = ldns_rdf_size(rdf);

        if (n < 1 || (size_t)d[0] + 1 != n || json_array_append_new(a, bytes_value(d + 1, d[0]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* The type-specific fields of one answer RR; falls back to "rdata" when the shape is odd. */
static int add_rdata(json_t *o, const ldns_rr *rr)
{
    size_t rd = ldns_rr_rd_count(rr);
    json_t *v;

    switch (ldns_rr_get_type(rr)) {
    case LDNS_RR_TYPE_CNAME:
    case LDNS_RR_TYPE_DNAME:
        if (rd == 1)
            return json_object_set_new(o, "target", owned_string(ldns_rdf2str(ldns_rr_rdf(rr, 0))));
        break;
    case LDNS_RR_TYPE_TXT:
    case LDNS_RR_TYPE_SPF:
        if ((v = txt_array(rr)))
            return json_object_set_new(o, "txt", v);
        break;
    case LDNS_RR_TYPE_MX:
        if (rd == 2 && ldns_rdf_size(ldns_rr_rdf(rr, 0)) == 2)
            return json_object_set_new(o, "pref",
                                       json_integer(ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)))) ||
                   json_object_set_new(o, "host", owned_string(ldns_rdf2str(ldns_rr_rdf(rr, 1))));
        break;
    case LDNS_RR_TYPE_A:
    case LDNS_RR_TYPE_AAAA:
        if (rd == 1 &&
            (v = addr_string(ldns_rr_rdf(rr, 0),
                             ldns_rr_get_type(rr) == LDNS_RR_TYPE_A ? AF_INET : AF_INET6)))
            return json_object_set_new(o, "addr", v);
        break;
    default:
        break;
    }
    return json_object_set_new(o, "rdata", rdata_string(rr));
}

static json_t *answer_array(const ldns_pkt *reply)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    json_t *a = json_array();

    for (size_t i = 0; a && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        json_t *o = json_object();

        if (!o || json_object_set_new(o, "name", owned_string(ldns_rdf2str(ldns_rr_owner(rr)))) ||
            json_object_set_new(o, "type", type_string(ldns_rr_get_type(rr))) ||
            json_object_set_new(o, "ttl", json_integer(ldns_rr_ttl(rr))) || add_rdata(o, rr) ||
            json_array_append_new(a, o)) {
            json_decref(o);
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

const char *mts_dns_obs_result(const ldns_pkt *reply, ldns_rr_type qtype)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(reply), 0);
    const ldns_rdf *name;

    switch (ldns_pkt_get_rcode(reply)) {
    case LDNS_RCODE_NOERROR:
        break;
    case LDNS_RCODE_NXDOMAIN:
        return "nxdomain";
    case LDNS_RCODE_SERVFAIL:
        return "servfail";
    case LDNS_RCODE_REFUSED:
        return "refused";
    default:
        return "error";
    }
    if (!q)
        return "error";
    name = ldns_rr_owner(q);
    for (int hop = 0; hop <= CNAME_CHAIN_MAX; hop++) {
        const ldns_rdf *next = NULL;

        for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(an, i);

            if (ldns_dname_compare(ldns_rr_owner(rr), name) != 0)
                continue;
            if (ldns_rr_get_type(rr) == qtype)
                return "answer";
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1)
                next = ldns_rr_rdf(rr, 0);
        }
        if (!next)
            break;
        name = next;
    }
    return "nodata";
}

uint32_t mts_dns_obs_ttl(const ldns_pkt *reply, const char *result)
{
    uint32_t ttl = UINT32_MAX;

    if (strcmp(result, "answer") == 0) {
        const ldns_rr_list *an = ldns_pkt_answer(reply);
        for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
            uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(an, i));
            ttl = t < ttl ? t : ttl;
        }
        return ttl == UINT32_MAX ? 0 : ttl;
    }
    if (strcmp(result, "nodata") == 0 || strcmp(result, "nxdomain") == 0) {
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

json_t *mts_dns_obs_new(const char *qname, ldns_rr_type qtype, const ldns_pkt *reply,
                        const char *noreply_result, const struct mts_dns_obs_meta *meta)
{
    json_t *o = json_object();
    int err;

    if (!o)
        return NULL;
    err = json_object_set_new(o, "qname", json_string(qname)) ||
          json_object_set_new(o, "qtype", type_string(qtype)) ||
          json_object_set_new(
              o, "result", json_string(reply ? mts_dns_obs_result(reply, qtype) : noreply_result));
    if (!err && reply) {
        const ldns_lookup_table *rc = ldns_lookup_by_id(ldns_rcodes, ldns_pkt_get_rcode(reply));
        char buf[16];

        if (!rc)
            snprintf(buf, sizeof(buf), "RCODE%d", (int)ldns_pkt_get_rcode(reply));
        err = json_object_set_new(o, "rcode", json_string(rc ? rc->name : buf)) ||
              json_object_set_new(o, "ad", json_boolean(ldns_pkt_ad(reply)));
    }
    err =
        err || json_object_set_new(o, "tcp", json_boolean(meta->tcp)) ||
        json_object_set_new(o, "resolver", json_string(meta->resolver)) ||
        json_object_set_new(o, "tries", json_integer(meta->tries)) ||
        json_object_set_new(o, "ms", json_real((double)(int64_t)(meta->ms * 10.0 + 0.5) / 10.0)) ||
        json_object_set_new(o, "cached", json_boolean(meta->cached)) ||
        (reply && json_object_set_new(o, "answer", answer_array(reply)));
    if (err) {
        json_decref(o);
        return NULL;
    }
    return o;
}
