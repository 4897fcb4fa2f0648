/*
 * The special-purpose address classifier at every range boundary: the first and last
 * address of each range get its class, the addresses just outside do not.
 */
#include "check.h"
#include "mts_special.h"

#include <arpa/inet.h>

static const char *cls(const char *text)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, text, &a4) == 1) {
        /* Also through the sockaddr entry point, which must agree. */
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a4};
        const char *c = mts_special_in4(&a4), *c2 = mts_special_addr((struct sockaddr *)&sin);
        CHECK((c == NULL) == (c2 == NULL) && (!c || strcmp(c, c2) == 0));
        return c;
    }
    if (inet_pton(AF_INET6, text, &a6) == 1) {
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = a6};
        const char *c = mts_special_in6(&a6), *c2 = mts_special_addr((struct sockaddr *)&sin6);
        CHECK((c == NULL) == (c2 == NULL) && (!c || strcmp(c, c2) == 0));
        return c;
    }
    fprintf(stderr, "bad test address %s\n", text);
    CHECK(0);
    return "bad-test";
}

static void expect(const char *addr, const char *want)
{
    const char *got = cls(addr);
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
        fprintf(stderr, "address %s\n", addr);
    CHECK_STR(got, want);
}

static void test_v4(void)
{
    expect("0.0.0.0", "this-network");
    expect("0.255.255.255", "this-network");
    expect("1.0.0.0", NULL);
    expect("9.255.255.255", NULL);
    expect("10.0.0.0", "private");
    expect("10.255.255.255", "private");
    expect("11.0.0.0", NULL);
    expect("100.63.255.255", NULL);
    expect("100.64.0.0", "cgnat");
    expect("100.127.255.255", "cgnat");
    expect("100.128.0.0", NULL);
    expect("126.255.255.255", NULL);
    expect("127.0.0.0", "loopback");
    expect("127.255.255.255", "loopback");
    expect("128.0.0.0", NULL);
    expect("169.253.255.255", NULL);
    expect("169.254.0.0", "link-local");
    expect("169.254.255.255", "link-local");
    expect("169.255.0.0", NULL);
    expect("172.15.255.255", NULL);
    expect("172.16.0.0", "private");
    expect("172.31.255.255", "private");
    expect("172.32.0.0", NULL);
    expect("191.255.255.255", NULL);
    expect("192.0.0.0", "ietf-protocol");
    expect("192.0.0.8", "ietf-protocol");
    expect("192.0.0.9", NULL);
    expect("192.0.0.10", NULL);
    expect("192.0.0.11", "ietf-protocol");
    expect("192.0.0.255", "ietf-protocol");
    expect("192.0.1.0", NULL);
    expect("192.0.1.255", NULL);
    expect("192.0.2.0", "documentation");
    expect("192.0.2.255", "documentation");
    expect("192.0.3.0", NULL);
    expect("192.88.98.255", NULL);
    expect("192.88.99.0", "6to4-relay");
    expect("192.88.99.255", "6to4-relay");
    expect("192.88.100.0", NULL);
    expect("192.167.255.255", NULL);
    expect("192.168.0.0", "private");
    expect("192.168.255.255", "private");
    expect("192.169.0.0", NULL);
    expect("198.17.255.255", NULL);
    expect("198.18.0.0", "benchmark");
    expect("198.19.255.255", "benchmark");
    expect("198.20.0.0", NULL);
    expect("198.51.99.255", NULL);
    expect("198.51.100.0", "documentation");
    expect("198.51.100.255", "documentation");
    expect("198.51.101.0", NULL);
    expect("203.0.112.255", NULL);
    expect("203.0.113.0", "documentation");
    expect("203.0.113.255", "documentation");
    expect("203.0.114.0", NULL);
    expect("223.255.255.255", NULL);
    expect("224.0.0.0", "multicast");
    expect("239.255.255.255", "multicast");
    expect("240.0.0.0", "reserved");
    expect("255.255.255.254", "reserved");
    expect("255.255.255.255", "broadcast");
    expect("8.8.8.8", NULL);
}

static void test_v6(void)
{
    expect("::", "unspecified");
    expect("::1", "loopback");
    expect("::2", "reserved");
    expect("::ffff:10.1.2.3", "private");
    expect("::ffff:127.0.0.1", "loopback");
    expect("::ffff:8.8.8.8", NULL);
    expect("::fffe:8.8.8.8", "reserved");
    expect("64:ff9b::8.8.8.8", NULL);
    expect("64:ff9b::192.168.1.1", "private");
    expect("64:ff9b:1::", "nat64-local");
    /* 6to4 (2002::/16): the class of the embedded IPv4 address (bytes 2-5) */
    expect("2002:7f00:1::1", "loopback");
    expect("2002:a00:1::", "private");
    expect("2002:c0a8:101:ffff:ffff:ffff:ffff:ffff", "private");
    expect("2002:0:0::1", "this-network");
    expect("2002:808:808::1", NULL);
    expect("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
    expect("2003::", NULL);
    expect("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "nat64-local");
    expect("ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved");
    expect("100::", "discard");
    expect("100::ffff:ffff:ffff:ffff", "discard");
    expect("100:0:0:1::", "reserved");
    expect("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved");
    expect("2000::", NULL);
    expect("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
    expect("2001::", "teredo");
    expect("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "teredo");
    expect("2001:1::", "ietf-protocol");
    expect("2001:1::1", NULL);
    expect("2001:1::2", NULL);
    expect("2001:1::3", "ietf-protocol");
    expect("2001:2::", "benchmark");
    expect("2001:2:0:ffff:ffff:ffff:ffff:ffff", "benchmark");
    expect("2001:2:1::", "ietf-protocol");
    expect("2001:3::", NULL);
    expect("2001:3:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
    expect("2001:4:112::", NULL);
    expect("2001:4:113::", "ietf-protocol");
    expect("2001:10::", "ietf-protocol");
    expect("2001:1f::", "ietf-protocol");
    expect("2001:20::", NULL);
    expect("2001:2f:ffff::", NULL);
    expect("2001:30::", NULL);
    expect("2001:3f:ffff::", NULL);
    expect("2001:40::", "ietf-protocol");
    expect("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "ietf-protocol");
    expect("2001:200::", NULL);
    expect("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
    expect("2001:db8::", "documentation");
    expect("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation");
    expect("2001:db9::", NULL);
    expect("2002::", "this-network"); /* 6to4 carrying 0.0.0.0 (was NULL before 6to4 rules) */
    expect("2a00:1450:4001::1", NULL);
    expect("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
    expect("3fff::", "documentation");
    expect("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "documentation");
    expect("3fff:1000::", NULL);
    expect("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
    expect("4000::", "reserved");
    expect("5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved");
    expect("5f00::", "srv6-sid");
    expect("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved");
    expect("fc00::", "unique-local");
    expect("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique-local");
    expect("fe00::", "reserved");
    expect("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved");
    expect("fe80::", "link-local");
    expect("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local");
    expect("fec0::", "site-local");
    expect("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local");
    expect("ff00::", "multicast");
    expect("ff02::1", "multicast");
    expect("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast");
}

static void test_family(void)
{
    struct sockaddr sa = {.sa_family = AF_UNIX};
    CHECK_STR(mts_special_addr(&sa), "unsupported-family");
}

int main(void)
{
    test_v4();
    test_v6();
    test_family();
    return check_exit();
}
