/*
 * Why: every DNS reply is hostile bytes. The scanner reads it in place (dns_wire.c) and
 * writes the observation (dns_obs.c) as JSON text with its own builder (json_text.c); it
 * must accept exactly the replies ldns_wire2pkt accepts and write, byte for byte, the
 * observation the ldns-based writer wrote (dns_obs_ldns.c, the reference), the one
 * deliberate difference aside (a name past MTS_WIRE_POINTERS_MAX compression pointers). libFuzzer
 * looks for a reply where the two differ, where either crashes, where the builder writes text
 * jansson refuses or the address reader hands on a string that is not an address. The
 * first byte picks the query type; the rest is the reply in wire format.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <ldns/ldns.h>

#include "dns_engine.h"
#include "dns_internal.h"
#include "dns_obs_ldns.h"
#include "dns_reply.h"
#include "tlsrpt_rua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The address reader agrees with the reference and hands on only addresses. */
static void check_addresses(const struct mts_dns_reply *r, const ldns_pkt *pkt)
{
    const ldns_rr_list *an = ldns_pkt_answer(pkt);
    static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
    if (r->nan != ldns_rr_list_rr_count(an))
        abort();
    for (size_t i = 0; i < r->nan; i++)
        for (int k = 0; k < 2; k++) {
            char got[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN];
            unsigned char bin[16];
            bool ours = mts_dns_obs_addr(r, &r->an[i], types[k], got, sizeof got);
            if (ours != ref_obs_addr(ldns_rr_list_rr(an, i), types[k], want, sizeof want) ||
                (ours && strcmp(got, want) != 0) ||
                (ours && inet_pton(k ? AF_INET6 : AF_INET, got, bin) != 1))
                abort();
        }
}

/* The pipeline's readers of the same reply: they must not crash or leak. */
static void run_readers(const struct mts_dns_reply *r)
{
    struct mts_mx_name *mx = NULL;
    size_t n = 0;
    struct mts_addrs addrs = {0};
    struct mts_rua_target rua[MTS_RUA_MAX];

    (void)mts_reply_has_sts_record(r);
    (void)mts_rua_from_reply(r, rua, MTS_RUA_MAX);
    if (!mts_reply_mx(r, &mx, &n) || !mts_reply_addrs(r, LDNS_RR_TYPE_A, NULL, &addrs))
        abort(); /* only ENOMEM may fail */
    for (size_t i = 0; i < n; i++)
        free(mx[i].host);
    free(mx);
    free(addrs.addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ldns_rr_type qtypes[] = {LDNS_RR_TYPE_TXT,  LDNS_RR_TYPE_MX,   LDNS_RR_TYPE_A,
                                          LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_TLSA, LDNS_RR_TYPE_CNAME};
    static struct mts_wire_rr rrs[MTS_WIRE_RR_CAP(MTS_WIRE_MAX)];
    /* Longer messages are refused by design: DNS over TCP cannot carry them. */
    if (size < 1 || size - 1 > MTS_WIRE_MAX)
        return 0;
    ldns_rr_type qtype = qtypes[data[0] % (sizeof qtypes / sizeof qtypes[0])];
    const uint8_t *wire = data + 1;
    size_t len = size - 1;
    ldns_pkt *pkt = NULL;
    struct mts_dns_reply r;
    bool theirs = ldns_wire2pkt(&pkt, wire, len) == LDNS_STATUS_OK;
    bool ours = mts_wire_read(&r, wire, len, rrs, MTS_WIRE_RR_CAP(len));
    /* The one deliberate difference: a name past MTS_WIRE_POINTERS_MAX pointers. */
    if (ours != theirs && !(theirs && r.pointer_chain))
        abort();
    if (!ours) {
        ldns_pkt_free(pkt);
        return 0;
    }
    struct mts_dns_obs_meta meta = {.resolver = "192.0.2.53:53", .tries = 1, .ms = 1.5};
    char *obs = mts_dns_obs_new("_mta-sts.example.test.", qtype, &r, NULL, &meta);
    char *want = ref_obs_new("_mta-sts.example.test.", qtype, pkt, NULL, &meta);
    if (!obs || !want || strcmp(obs, want) != 0)
        abort(); /* only ENOMEM may fail, and the texts must be the same */
    json_t *j = json_loads(obs, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j))
        abort();
    const char *result = json_string_value(json_object_get(j, "result"));
    if (!result || strcmp(result, mts_dns_obs_result(&r, qtype)) != 0 ||
        strcmp(result, ref_obs_result(pkt, qtype)) != 0 ||
        mts_dns_obs_ttl(&r, result) != ref_obs_ttl(pkt, result))
        abort();
    check_addresses(&r, pkt);
    run_readers(&r);
    json_decref(j);
    free(obs);
    free(want);
    ldns_pkt_free(pkt);
    return 0;
}
