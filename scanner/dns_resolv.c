/*
 * Resolver addresses: the caller's "IP[:PORT]" strings or the nameserver lines of
 * resolv.conf. Parsed once at start-up with inet_pton, never through the system resolver,
 * so that nothing here can block the loop or depend on the host's DNS.
 */
#include "dns_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_engine.h"

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    long v;

    if (!isdigit((unsigned char)*s))
        return MTS_DNS_ERESOLVER;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 65535)
        return MTS_DNS_ERESOLVER;
    *port = (uint16_t)v;
    return 0;
}

static int fill(const char *host, uint16_t port, struct mts_dns_addr *out)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;

    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        out->len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        out->len = sizeof *in6;
        return 0;
    }
    return MTS_DNS_ERESOLVER;
}

int mts_dns_addr_parse(const char *s, struct mts_dns_addr *out)
{
    char host[INET6_ADDRSTRLEN];
    uint16_t port = 53;
    const char *colon;
    size_t n;

    if (!s || !out)
        return MTS_DNS_EINVAL;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || (close[1] && (close[1] != ':' || parse_port(close + 2, &port))))
            return MTS_DNS_ERESOLVER;
        n = (size_t)(close - s - 1);
        if (n >= sizeof(host))
            return MTS_DNS_ERESOLVER;
        memcpy(host, s + 1, n);
        host[n] = '\0';
        if (!strchr(host, ':'))
            return MTS_DNS_ERESOLVER;
        return fill(host, port, out);
    }
    colon = strchr(s, ':');
    if (colon && strchr(colon + 1, ':'))
        return fill(s, 53, out); /* bare IPv6: every colon belongs to the address */
    n = colon ? (size_t)(colon - s) : strlen(s);
    if (n >= sizeof(host) || (colon && parse_port(colon + 1, &port)))
        return MTS_DNS_ERESOLVER;
    memcpy(host, s, n);
    host[n] = '\0';
    return fill(host, port, out);
}

int mts_dns_resolv_conf(const char *path, struct mts_dns_addr *out, size_t max, size_t *n)
{
    char line[512];
    FILE *f = fopen(path, "re");

    *n = 0;
    if (!f)
        return MTS_DNS_ENORESOLVER;
    while (*n < max && fgets(line, sizeof(line), f)) {
        char *p = line, *word;

        while (isspace((unsigned char)*p))
            p++;
        if (strncmp(p, "nameserver", 10) != 0 || !isspace((unsigned char)p[10]))
            continue;
        p += 10;
        while (isspace((unsigned char)*p))
            p++;
        word = p;
        while (*p && !isspace((unsigned char)*p) && *p != '#' && *p != ';')
            p++;
        *p = '\0';
        if (*word && !strchr(word, '[') && !strchr(word, '%') && fill(word, 53, &out[*n]) == 0)
            (*n)++;
    }
    fclose(f);
    return *n ? 0 : MTS_DNS_ENORESOLVER;
}

void mts_dns_addr_format(const struct mts_dns_addr *a, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";

    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        snprintf(buf, size, "%s:%u", host, ntohs(in4->sin_port));
    }
}

bool mts_dns_addr_equal(const struct mts_dns_addr *a, const struct sockaddr *sa, socklen_t len)
{
    if (sa->sa_family != a->ss.ss_family)
        return false;
    /* sa may be less aligned than the address structures: compare copies */
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)&a->ss;
        struct sockaddr_in y;
        if (len < sizeof(y))
            return false;
        memcpy(&y, sa, sizeof(y));
        return x->sin_port == y.sin_port && x->sin_addr.s_addr == y.sin_addr.s_addr;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->ss;
        struct sockaddr_in6 y;
        if (len < sizeof(y))
            return false;
        memcpy(&y, sa, sizeof(y));
        return x->sin6_port == y.sin6_port &&
               memcmp(&x->sin6_addr, &y.sin6_addr, sizeof(y.sin6_addr)) == 0;
    }
    return false;
}
