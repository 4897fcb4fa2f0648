/*
 * The RFC 6890 special-purpose address registries (IPv4 and IPv6, with later updates):
 * the scanner refuses to connect to any address that has a class here.
 */
#ifndef MTS_SPECIAL_H
#define MTS_SPECIAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

/*
 * A short static class name ("private", "loopback", "documentation", ...; the table is in
 * docs/inputs.md) or NULL when the address is globally routable. IPv4-mapped, NAT64
 * (64:ff9b::/96) and 6to4 (2002::/16) IPv6 addresses are classified by the IPv4 address
 * they carry.
 */
const char *mts_special_in4(const struct in_addr *addr);
const char *mts_special_in6(const struct in6_addr *addr);
/* AF_INET or AF_INET6; any other family gives "unsupported-family". */
const char *mts_special_addr(const struct sockaddr *sa);

/* Whether addr carries an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16),
   which is then in *v4: the opt-out list and the classifier judge it as that address. */
bool mts_special_embedded_in4(const struct in6_addr *addr, struct in_addr *v4);

#endif
