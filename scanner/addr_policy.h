/*
 * Which addresses the scan may contact: never one on the operator's opt-out list, never a
 * special-purpose one (RFC 6890) unless --allow-private opens the unicast classes, IPv6
 * only with --ipv6. The same rules hold for the policy host and for every MX host.
 */
#ifndef MTS_ADDR_POLICY_H
#define MTS_ADDR_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "dns_reply.h"
#include "mts_exclude.h"
#include "mts_vocab.h"

struct mts_addr_policy {
    const struct mts_exclude *ex; /* borrowed; NULL: no opt-out list */
    bool ipv6;                    /* --ipv6 */
    bool allow_private;           /* --allow-private */
};

/* Whether addr (presentation form) must not be contacted, and then why (*why:
   MTS_SKIP_IPV6_DISABLED, _BAD_ADDRESS, _EXCLUDED or _SPECIAL_ADDRESS). */
bool mts_addr_skipped(const struct mts_addr_policy *p, const char *addr, enum mts_skip *why);

#define MTS_ADDR_PICK_MAX 16

/* The addresses of a host that may be contacted, and when there are none, why not. */
struct mts_addr_pick {
    const char *usable[MTS_ADDR_PICK_MAX]; /* borrowed from the lists picked from */
    size_t n;
    const char *skipped_addr; /* the first address refused, or NULL */
    enum mts_skip skip;       /* why it was refused */
};

/* Picks from v4 then v6, at most MTS_ADDR_PICK_MAX. When only IPv6 addresses were left and
   the scan does not use IPv6, the reason is MTS_SKIP_IPV6_DISABLED (the scan's choice, not the
   host's fault), unless an address was excluded: the operator's exclusion wins. */
void mts_addr_pick(const struct mts_addr_policy *p, const struct mts_addrs *v4,
                   const struct mts_addrs *v6, struct mts_addr_pick *out);

#endif
