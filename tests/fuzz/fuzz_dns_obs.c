/*
 * Why: every DNS reply is hostile bytes. The scanner parses it with ldns and writes the
 * observation (dns_obs.c) as JSON text with its own builder (json_text.c). libFuzzer looks
 * for replies that crash either, or make the builder write text jansson refuses, or make
 * the address reader hand on a string that is not an address. The first byte picks the
 * query type; the rest is the reply in wire format.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>
#include <ldns/ldns.h>

#include "dns_engine.h"
#include "dns_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addresses(const ldns_pkt *reply)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        char buf[INET6_ADDRSTRLEN];
        unsigned char bin[16];
        if (mts_dns_obs_addr(rr, LDNS_RR_TYPE_A, buf, sizeof buf) &&
            inet_pton(AF_INET, buf, bin) != 1)
            abort();
        if (mts_dns_obs_addr(rr, LDNS_RR_TYPE_AAAA, buf, sizeof buf) &&
            inet_pton(AF_INET6, buf, bin) != 1)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ldns_rr_type qtypes[] = {LDNS_RR_TYPE_TXT,  LDNS_RR_TYPE_MX,   LDNS_RR_TYPE_A,
                                          LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_TLSA, LDNS_RR_TYPE_CNAME};
    if (size < 1)
        return 0;
    ldns_rr_type qtype = qtypes[data[0] % (sizeof qtypes / sizeof qtypes[0])];
    ldns_pkt *reply = NULL;
    if (ldns_wire2pkt(&reply, data + 1, size - 1) != LDNS_STATUS_OK)
        return 0;
    struct mts_dns_obs_meta meta = {.resolver = "192.0.2.53:53", .tries = 1, .ms = 1.5};
    char *obs = mts_dns_obs_new("_mta-sts.example.test.", qtype, reply, NULL, &meta);
    if (!obs)
        abort(); /* only ENOMEM may fail */
    json_t *j = json_loads(obs, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j))
        abort();
    const char *result = json_string_value(json_object_get(j, "result"));
    if (!result)
        abort();
    (void)mts_dns_obs_ttl(reply, result);
    check_addresses(reply);
    json_decref(j);
    free(obs);
    ldns_pkt_free(reply);
    return 0;
}
