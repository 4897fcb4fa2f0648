/*
 * The report destinations of a TLS-RPT record (RFC 8460 §3), read off the _smtp._tls TXT
 * reply so the scan can look up where reports would go: the domain of each mailto: URI
 * (needs an MX or an address to take mail) and the host of each https: URI (needs an
 * address). Parsing is deliberately loose (the analysis judges the syntax); only names
 * that could be looked up are kept.
 */
#ifndef MTS_TLSRPT_RUA_H
#define MTS_TLSRPT_RUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "dns_wire.h"

#define MTS_RUA_MAX      4   /* destinations looked up per domain */
#define MTS_RUA_HOST_MAX 254 /* a name of at most 253 octets and its NUL */

struct mts_rua_target {
    bool mailto;                 /* mailto: (else https:) */
    char host[MTS_RUA_HOST_MAX]; /* lower case, no trailing dot */
    uint16_t port;               /* https: the URI's port, or 0 when it names none */
};

/*
 * The destinations of the rua= field of record (len bytes), in order, duplicates
 * dropped, at most max: mailto:LOCAL@DOMAIN gives DOMAIN, https://HOST[:PORT][/...] gives
 * HOST and PORT (an https: URI with a port that is not 1-65535 is left out); a "!size"
 * suffix is ignored. Returns how many were written to out.
 */
size_t mts_rua_parse(const char *record, size_t len, struct mts_rua_target *out, size_t max);

/*
 * The destinations of the one "v=TLSRPTv1" TXT record in reply (none when there is no
 * such record or more than one). Returns how many were written to out.
 */
size_t mts_rua_from_reply(const struct mts_dns_reply *reply, struct mts_rua_target *out,
                          size_t max);

#endif
