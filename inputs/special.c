/*
 * Why: a list or a DNS answer can point the scanner at a private network, a loopback
 * service or a multicast group; a polite scanner never connects there. The IANA
 * special-purpose registries are small, so they are tables walked in order, the first
 * matching prefix winning: globally reachable exceptions (NULL class) come before the
 * block that contains them.
 */
#include "mts_special.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct prefix {
    uint8_t net[16]; /* network bytes, big endian; IPv4 uses the first 4 */
    unsigned len;    /* prefix length in bits */
    const char *cls; /* NULL: globally reachable exception */
};

static const struct prefix v4_table[] = {
    {{0}, 8, "this-network"},
    {{10}, 8, "private"},
    {{100, 64}, 10, "cgnat"},
    {{127}, 8, "loopback"},
    {{169, 254}, 16, "link-local"},
    {{172, 16}, 12, "private"},
    {{192, 0, 0, 9}, 32, NULL},  /* Port Control Protocol anycast */
    {{192, 0, 0, 10}, 32, NULL}, /* TURN anycast */
    {{192, 0, 0}, 24, "ietf-protocol"},
    {{192, 0, 2}, 24, "documentation"},
    {{192, 88, 99}, 24, "6to4-relay"},
    {{192, 168}, 16, "private"},
    {{198, 18}, 15, "benchmark"},
    {{198, 51, 100}, 24, "documentation"},
    {{203, 0, 113}, 24, "documentation"},
    {{224}, 4, "multicast"},
    {{255, 255, 255, 255}, 32, "broadcast"},
    {{240}, 4, "reserved"},
};

static const struct prefix v6_table[] = {
    {{0}, 128, "unspecified"},
    {{[15] = 1}, 128, "loopback"},
    {{0x01, 0x00, [7] = 0}, 64, "discard"},
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, "nat64-local"},
    {{0x20, 0x01, 0x00, 0x01, [15] = 1}, 128, NULL},
    {{0x20, 0x01, 0x00, 0x01, [15] = 2}, 128, NULL},
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, "benchmark"},
    {{0x20, 0x01, 0x00, 0x03}, 32, NULL},
    {{0x20, 0x01, 0x00, 0x04, 0x01, 0x12}, 48, NULL},
    {{0x20, 0x01, 0x00, 0x20}, 28, NULL},
    {{0x20, 0x01, 0x00, 0x30}, 28, NULL},
    {{0x20, 0x01, 0x00, 0x00}, 32, "teredo"},
    {{0x20, 0x01}, 23, "ietf-protocol"},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation"},
    {{0x3f, 0xff}, 20, "documentation"},
    {{0x5f, 0x00}, 16, "srv6-sid"},
    {{0x20}, 3, NULL}, /* global unicast: everything above is carved out of it */
    {{0}, 8, "reserved"},
    {{0xfc}, 7, "unique-local"},
    {{0xfe, 0x80}, 10, "link-local"},
    {{0xfe, 0xc0}, 10, "site-local"},
    {{0xff}, 8, "multicast"},
};

static bool in_prefix(const uint8_t *addr, const struct prefix *p)
{
    unsigned full = p->len / 8, rest = p->len % 8;
    if (memcmp(addr, p->net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (addr[full] & mask) == (p->net[full] & mask);
}

/* The class from a table; def when no row matches. */
static const char *lookup(const uint8_t *addr, const struct prefix *table, size_t n,
                          const char *def)
{
    for (size_t i = 0; i < n; i++)
        if (in_prefix(addr, &table[i]))
            return table[i].cls;
    return def;
}

const char *mts_special_in4(const struct in_addr *addr)
{
    uint8_t b[4];
    memcpy(b, &addr->s_addr, 4); /* network order */
    return lookup(b, v4_table, sizeof v4_table / sizeof v4_table[0], NULL);
}

bool mts_special_embedded_in4(const struct in6_addr *addr, struct in_addr *v4)
{
    static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
    static const uint8_t nat64_wkp[12] = {0x00, 0x64, 0xff, 0x9b};
    const uint8_t *b = addr->s6_addr;
    if (memcmp(b, v4mapped, 12) == 0 || memcmp(b, nat64_wkp, 12) == 0) {
        memcpy(&v4->s_addr, b + 12, 4);
        return true;
    }
    if (b[0] == 0x20 && b[1] == 0x02) { /* 6to4, RFC 3056 */
        memcpy(&v4->s_addr, b + 2, 4);
        return true;
    }
    return false;
}

const char *mts_special_in6(const struct in6_addr *addr)
{
    struct in_addr v4;
    if (mts_special_embedded_in4(addr, &v4))
        return mts_special_in4(&v4);
    /* Outside 2000::/3 and not listed: unassigned, so not reachable. */
    return lookup(addr->s6_addr, v6_table, sizeof v6_table / sizeof v6_table[0], "reserved");
}

const char *mts_special_addr(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof sin);
        return mts_special_in4(&sin.sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        return mts_special_in6(&sin6.sin6_addr);
    }
    return "unsupported-family";
}
