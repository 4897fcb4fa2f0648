/*
 * Why: a scanner must never be the tool that connects to an operator who opted out, or to
 * a lab network or a loopback address a hostile DNS answer points at. Every address the
 * scan would contact passes these rules, in one place.
 */
#include "addr_policy.h"

#include <string.h>
#include <sys/socket.h>

#include "mts_special.h"

/* The special-purpose classes --allow-private opens (test worlds, lab networks): unicast
   addresses a host can really own. Unspecified, multicast, broadcast and reserved
   addresses stay closed whatever the options. */
static bool private_unicast(const char *special_class)
{
    static const char *const open[] = {"loopback",   "private",      "cgnat",
                                       "link-local", "unique-local", "site-local"};
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
        if (strcmp(special_class, open[i]) == 0)
            return true;
    return false;
}

bool mts_addr_skipped(const struct mts_addr_policy *p, const char *addr, enum mts_skip *why)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        *why = MTS_SKIP_IPV6_DISABLED;
        if (!p->ipv6)
            return true;
    } else {
        *why = MTS_SKIP_BAD_ADDRESS;
        return true;
    }
    *why = MTS_SKIP_EXCLUDED;
    if (p->ex && mts_exclude_addr(p->ex, (struct sockaddr *)&ss))
        return true;
    *why = MTS_SKIP_SPECIAL_ADDRESS;
    const char *special = mts_special_addr((struct sockaddr *)&ss);
    return special && !(p->allow_private && private_unicast(special));
}

void mts_addr_pick(const struct mts_addr_policy *p, const struct mts_addrs *v4,
                   const struct mts_addrs *v6, struct mts_addr_pick *out)
{
    const char *v6_addr = NULL;
    memset(out, 0, sizeof *out);
    out->skip = MTS_SKIP_UNKNOWN;
    for (size_t i = 0; i < v4->n + v6->n; i++) {
        const char *text = i < v4->n ? v4->addr[i] : v6->addr[i - v4->n];
        enum mts_skip why_not;
        bool skipped = mts_addr_skipped(p, text, &why_not);
        if (skipped && why_not == MTS_SKIP_IPV6_DISABLED) {
            if (!v6_addr)
                v6_addr = text;
        } else if (skipped && !out->skipped_addr) {
            out->skip = why_not;
            out->skipped_addr = text;
        }
        if (!skipped && out->n < MTS_ADDR_PICK_MAX)
            out->usable[out->n++] = text;
    }
    if (out->n == 0 && v6_addr && out->skip != MTS_SKIP_EXCLUDED) {
        out->skip = MTS_SKIP_IPV6_DISABLED;
        out->skipped_addr = v6_addr;
    }
}
