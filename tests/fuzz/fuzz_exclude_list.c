/*
 * Why: the opt-out list is assembled from requests by mail and web forms. libFuzzer looks
 * for lists that crash the loader, and checks that a loaded list answers for names and
 * addresses (IPv4, IPv6, IPv4-mapped, NAT64, 6to4) without crashing.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mts_exclude.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mts_exclude *ex;
    if (mts_exclude_new(&ex) != 0)
        abort();
    char msg[256];
    (void)mts_exclude_load(ex, as_file(data, size), msg, sizeof msg);
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
