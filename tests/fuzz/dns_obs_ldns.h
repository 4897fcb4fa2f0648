/* The reference DNSOBS writer over ldns_pkt (dns_obs_ldns.c), for fuzz_dns_obs. */
#ifndef MTS_FUZZ_DNS_OBS_LDNS_H
#define MTS_FUZZ_DNS_OBS_LDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "dns_internal.h"

char *ref_obs_new(const char *qname, ldns_rr_type qtype, const ldns_pkt *reply,
                  const char *noreply_result, const struct mts_dns_obs_meta *meta);
const char *ref_obs_result(const ldns_pkt *reply, ldns_rr_type qtype);
uint32_t ref_obs_ttl(const ldns_pkt *reply, const char *result);
bool ref_obs_addr(const ldns_rr *rr, ldns_rr_type type, char *buf, size_t size);

#endif
