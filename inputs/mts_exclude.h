/*
 * The opt-out (exclusion) list: domain suffixes matched on label boundaries, and IPv4/IPv6
 * addresses and CIDR ranges. File format and rules: docs/inputs.md.
 */
#ifndef MTS_EXCLUDE_H
#define MTS_EXCLUDE_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

struct mts_exclude;

/* Returns 0 and an empty list in *out (free with mts_exclude_free), or MTS_IN_ENOMEM. */
int mts_exclude_new(struct mts_exclude **out);
void mts_exclude_free(struct mts_exclude *ex);

/*
 * Adds one entry (a domain, "*.domain", an address or a CIDR range; no comment).
 * Returns 0, MTS_IN_ENOMEM, or MTS_IN_ESYNTAX with *reason (when reason is not NULL) set
 * to a static description.
 */
int mts_exclude_add(struct mts_exclude *ex, const char *entry, const char **reason);

/*
 * Adds every entry of a file (one per line, '#' comments, blank lines). Returns 0,
 * MTS_IN_EOPEN, MTS_IN_EREAD, MTS_IN_ENOMEM or MTS_IN_ESYNTAX; on error, when msg is not
 * NULL, "file:line: reason" (or "file: system error") is written to msg (msglen bytes).
 * Entries before a bad line stay added.
 */
int mts_exclude_load(struct mts_exclude *ex, const char *path, char *msg, size_t msglen);

/* 1 when the normalised name (mts_name_normalize) is excluded, else 0. */
int mts_exclude_name(const struct mts_exclude *ex, const char *name);
/* 1 when the address is in an excluded range, else 0. IPv6 addresses that carry an IPv4
 * address (IPv4-mapped, NAT64, 6to4: mts_special_embedded_in4) are also checked against the
 * IPv4 ranges. mts_exclude_addr takes AF_INET or AF_INET6 (else 0). */
int mts_exclude_in4(const struct mts_exclude *ex, const struct in_addr *addr);
int mts_exclude_in6(const struct mts_exclude *ex, const struct in6_addr *addr);
int mts_exclude_addr(const struct mts_exclude *ex, const struct sockaddr *sa);

#endif
