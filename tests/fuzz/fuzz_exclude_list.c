/*
 * Why: the opt-out list is assembled from requests by mail and web forms, and it is a
 * promise to the people who asked: no connection for what they listed. libFuzzer looks for
 * lists that crash the loader, and checks that every entry the loader took is honoured: a
 * name and a name below it are excluded, an address or a range's own address is excluded,
 * and an IPv4 one also in its IPv4-mapped, NAT64 and 6to4 forms.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mts_exclude.h"
#include "mts_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *as_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-exclude", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    return path;
}

/* An IPv6 address of 16 bytes: prefix (plen bytes), then the IPv4 address at byte at. */
static int excluded_as6(const struct mts_exclude *ex, const uint8_t *prefix, size_t plen, size_t at,
                        const struct in_addr *a4)
{
    struct in6_addr a6 = {0};
    memcpy(a6.s6_addr, prefix, plen);
    memcpy(a6.s6_addr + at, &a4->s_addr, 4);
    return mts_exclude_in6(ex, &a6);
}

/* Whether an entry the loader took is honoured by the loaded list. */
static bool honoured(const struct mts_exclude *ex, const char *entry)
{
    char addr[64];
    size_t alen = strcspn(entry, "/");
    struct in_addr a4;
    struct in6_addr a6;
    if (alen < sizeof addr) {
        memcpy(addr, entry, alen);
        addr[alen] = '\0';
        if (inet_pton(AF_INET, addr, &a4) == 1) {
            static const uint8_t mapped[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
            static const uint8_t nat64[] = {0, 0x64, 0xff, 0x9b};
            static const uint8_t six_to_four[] = {0x20, 0x02};
            return mts_exclude_in4(ex, &a4) && excluded_as6(ex, mapped, sizeof mapped, 12, &a4) &&
                   excluded_as6(ex, nat64, sizeof nat64, 12, &a4) &&
                   excluded_as6(ex, six_to_four, sizeof six_to_four, 2, &a4);
        }
        if (inet_pton(AF_INET6, addr, &a6) == 1)
            return mts_exclude_in6(ex, &a6);
    }
    if (strchr(entry, '/') || strchr(entry, ':') || strspn(entry, "0123456789.") == strlen(entry))
        return true; /* an address form that inet_pton does not read: not checked here */
    const char *name_in = strncmp(entry, "*.", 2) == 0 ? entry + 2 : entry;
    char name[MTS_NAME_MAX + 1], below[MTS_NAME_MAX + 3];
    if (mts_name_normalize(name_in, strlen(name_in), MTS_NAME_ALLOW_SINGLE_LABEL, name, NULL))
        return false; /* the loader took it as a name, so it must normalise */
    if (!mts_exclude_name(ex, name))
        return false;
    snprintf(below, sizeof below, "a.%s", name);
    return strlen(below) > MTS_NAME_MAX || mts_exclude_name(ex, below);
}

/* Each entry of the list as the loader reads it, up to its first bad line. */
static void check_entries(const struct mts_exclude *ex, const uint8_t *data, size_t size)
{
    struct mts_exclude *scratch;
    if (mts_exclude_new(&scratch) != 0)
        abort();
    for (size_t start = 0; start < size;) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        char *line = malloc(end - start + 1);
        if (!line)
            abort();
        memcpy(line, data + start, end - start);
        line[end - start] = '\0';
        start = end + 1;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = line + strspn(line, " \t\r\n\v\f");
        size_t len = strlen(s);
        while (len > 0 && strchr(" \t\r\n\v\f", s[len - 1]))
            s[--len] = '\0';
        int rc = len ? mts_exclude_add(scratch, s, NULL) : 0;
        if (rc == 0 && len && !honoured(ex, s))
            abort();
        free(line);
        if (rc)
            break;
    }
    mts_exclude_free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mts_exclude *ex;
    if (mts_exclude_new(&ex) != 0)
        abort();
    char msg[256];
    (void)mts_exclude_load(ex, as_file(data, size), msg, sizeof msg);
    check_entries(ex, data, size);
    static const char *const names[] = {"example.test", "mx.provider.test", "test", "a.b.c.d"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        (void)mts_exclude_name(ex, names[i]);
    static const char *const addrs[] = {"192.0.2.1",       "10.1.2.3",         "2001:db8::1",
                                        "::ffff:10.1.2.3", "64:ff9b::a01:203", "2002:a01:203::1"};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        struct in_addr a4;
        struct in6_addr a6;
        if (inet_pton(AF_INET, addrs[i], &a4) == 1)
            (void)mts_exclude_in4(ex, &a4);
        else if (inet_pton(AF_INET6, addrs[i], &a6) == 1)
            (void)mts_exclude_in6(ex, &a6);
        else
            abort();
    }
    mts_exclude_free(ex);
    return 0;
}
