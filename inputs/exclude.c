/*
 * Why: an opt-out must hold whatever way a target is reached: by a listed domain or any
 * name below it, or by an address in a listed range (a mail provider that opts out gives
 * its networks, not its customers' domains). Suffixes live in a hash set probed once per
 * label of the name; ranges are kept sorted and merged so a lookup is one bisection.
 */
#include "mts_exclude.h"
#include "mts_hash.h"
#include "mts_input.h"
#include "mts_name.h"
#include "mts_special.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t suffix_key[16] = {'m', 't', 's', '-', 'e', 'x', 'c', 'l',
                                       'u', 'd', 'e', '-', 'k', 'e', 'y', '1'};

/* An inclusive range of addresses, big-endian bytes (IPv4 uses the first 4). */
struct range {
    uint8_t lo[16], hi[16];
};

struct ranges {
    struct range *v;
    size_t n, cap;
    size_t width; /* 4 or 16 */
};

struct mts_exclude {
    char **names; /* open addressing, NULL = empty; capacity a power of two */
    size_t mask, count;
    struct ranges v4, v6;
};

int mts_exclude_new(struct mts_exclude **out)
{
    struct mts_exclude *ex = calloc(1, sizeof *ex);
    if (!ex)
        return MTS_IN_ENOMEM;
    ex->names = calloc(64, sizeof *ex->names);
    if (!ex->names) {
        free(ex);
        return MTS_IN_ENOMEM;
    }
    ex->mask = 63;
    ex->v4.width = 4;
    ex->v6.width = 16;
    *out = ex;
    return 0;
}

void mts_exclude_free(struct mts_exclude *ex)
{
    if (!ex)
        return;
    for (size_t i = 0; i <= ex->mask; i++)
        free(ex->names[i]);
    free(ex->names);
    free(ex->v4.v);
    free(ex->v6.v);
    free(ex);
}

/* The slot holding name[0..len), or the empty slot where it belongs. */
static size_t name_slot(char *const *names, size_t mask, const char *name, size_t len)
{
    size_t i = (size_t)mts_siphash24(suffix_key, name, len) & mask;
    while (names[i] && !(strlen(names[i]) == len && memcmp(names[i], name, len) == 0))
        i = (i + 1) & mask;
    return i;
}

static int add_name(struct mts_exclude *ex, const char *name)
{
    size_t len = strlen(name);
    if (ex->names[name_slot(ex->names, ex->mask, name, len)])
        return 0;
    if ((ex->count + 1) * 4 > (ex->mask + 1) * 3) {
        size_t nslots = (ex->mask + 1) * 2;
        char **fresh = calloc(nslots, sizeof *fresh);
        if (!fresh)
            return MTS_IN_ENOMEM;
        for (size_t i = 0; i <= ex->mask; i++)
            if (ex->names[i])
                fresh[name_slot(fresh, nslots - 1, ex->names[i], strlen(ex->names[i]))] =
                    ex->names[i];
        free(ex->names);
        ex->names = fresh;
        ex->mask = nslots - 1;
    }
    char *copy = strdup(name);
    if (!copy)
        return MTS_IN_ENOMEM;
    ex->names[name_slot(ex->names, ex->mask, name, len)] = copy;
    ex->count++;
    return 0;
}

/* Inserts [lo, hi] keeping the ranges sorted by lo and disjoint (overlaps are merged). */
static int add_range(struct ranges *r, const uint8_t *lo, const uint8_t *hi)
{
    size_t w = r->width;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct range *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            return MTS_IN_ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    /* pos: the first range whose lo is above the new lo. */
    size_t a = 0, b = r->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (memcmp(r->v[m].lo, lo, w) <= 0)
            a = m + 1;
        else
            b = m;
    }
    size_t pos = a;
    struct range nr = {{0}, {0}};
    memcpy(nr.lo, lo, w);
    memcpy(nr.hi, hi, w);
    if (pos > 0 && memcmp(r->v[pos - 1].hi, nr.lo, w) >= 0) {
        pos--; /* overlaps its predecessor: grow that one */
        memcpy(nr.lo, r->v[pos].lo, w);
        if (memcmp(r->v[pos].hi, nr.hi, w) > 0)
            memcpy(nr.hi, r->v[pos].hi, w);
    } else {
        memmove(&r->v[pos + 1], &r->v[pos], (r->n - pos) * sizeof *r->v);
        r->n++;
    }
    /* Swallow the successors that start within the new range. */
    size_t end = pos + 1;
    while (end < r->n && memcmp(r->v[end].lo, nr.hi, w) <= 0) {
        if (memcmp(r->v[end].hi, nr.hi, w) > 0)
            memcpy(nr.hi, r->v[end].hi, w);
        end++;
    }
    memmove(&r->v[pos + 1], &r->v[end], (r->n - end) * sizeof *r->v);
    r->n -= end - pos - 1;
    r->v[pos] = nr;
    return 0;
}

static bool in_ranges(const struct ranges *r, const uint8_t *addr)
{
    size_t w = r->width, a = 0, b = r->n;
    while (a < b) { /* the first range whose lo is above addr */
        size_t m = a + (b - a) / 2;
        if (memcmp(r->v[m].lo, addr, w) <= 0)
            a = m + 1;
        else
            b = m;
    }
    return a > 0 && memcmp(r->v[a - 1].hi, addr, w) >= 0;
}

static int add_cidr(struct mts_exclude *ex, const char *entry, const char **reason)
{
    char buf[64];
    const char *slash = strchr(entry, '/');
    size_t alen = slash ? (size_t)(slash - entry) : strlen(entry);
    uint8_t lo[16], hi[16];
    if (alen >= sizeof buf) {
        *reason = "bad address";
        return MTS_IN_ESYNTAX;
    }
    memcpy(buf, entry, alen);
    buf[alen] = '\0';
    struct ranges *r = strchr(buf, ':') ? &ex->v6 : &ex->v4;
    if (inet_pton(r == &ex->v6 ? AF_INET6 : AF_INET, buf, lo) != 1) {
        *reason = "bad address";
        return MTS_IN_ESYNTAX;
    }
    unsigned bits = (unsigned)r->width * 8, plen = bits;
    if (slash) {
        const char *p = slash + 1;
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 3 || p[digits] != '\0' || (unsigned)atoi(p) > bits) {
            *reason = "bad prefix length";
            return MTS_IN_ESYNTAX;
        }
        plen = (unsigned)atoi(p);
    }
    for (unsigned i = 0; i < r->width; i++) {
        unsigned keep = plen > i * 8 ? plen - i * 8 : 0;
        uint8_t mask = keep >= 8 ? 0xff : (uint8_t)(0xff << (8 - keep));
        lo[i] &= mask; /* host bits are ignored */
        hi[i] = lo[i] | (uint8_t)~mask;
    }
    return add_range(r, lo, hi);
}

static bool looks_like_address(const char *entry)
{
    return strchr(entry, '/') || strchr(entry, ':') ||
           strspn(entry, "0123456789.") == strlen(entry);
}

int mts_exclude_add(struct mts_exclude *ex, const char *entry, const char **reason)
{
    const char *dummy;
    if (!reason)
        reason = &dummy;
    if (looks_like_address(entry))
        return add_cidr(ex, entry, reason);
    if (entry[0] == '*' && entry[1] == '.')
        entry += 2;
    char name[MTS_NAME_MAX + 1];
    int rc = mts_name_normalize(entry, strlen(entry), MTS_NAME_ALLOW_SINGLE_LABEL, name, NULL);
    if (rc > 0) {
        *reason = mts_reject_name(rc);
        return MTS_IN_ESYNTAX;
    }
    return rc ? rc : add_name(ex, name);
}

int mts_exclude_load(struct mts_exclude *ex, const char *path, char *msg, size_t msglen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        if (msg)
            snprintf(msg, msglen, "%s: %s", path, strerror(errno));
        return MTS_IN_EOPEN;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    int rc = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *hash = memchr(line, '#', (size_t)n);
        if (hash)
            *hash = '\0';
        char *s = line + strspn(line, " \t\r\n\v\f");
        size_t len = strlen(s);
        while (len > 0 && strchr(" \t\r\n\v\f", s[len - 1]))
            s[--len] = '\0';
        if (len == 0)
            continue;
        const char *reason = "";
        rc = mts_exclude_add(ex, s, &reason);
        if (rc) {
            if (msg)
                snprintf(msg, msglen, "%s:%lu: %s", path, lineno,
                         rc == MTS_IN_ESYNTAX ? reason : mts_input_strerror(rc));
            break;
        }
    }
    if (!rc && ferror(f)) {
        if (msg)
            snprintf(msg, msglen, "%s: %s", path, strerror(errno));
        rc = MTS_IN_EREAD;
    }
    free(line);
    fclose(f);
    return rc;
}

int mts_exclude_name(const struct mts_exclude *ex, const char *name)
{
    for (const char *s = name;;) { /* the name, then each parent */
        if (ex->names[name_slot(ex->names, ex->mask, s, strlen(s))])
            return 1;
        s = strchr(s, '.');
        if (!s)
            return 0;
        s++;
    }
}

int mts_exclude_in4(const struct mts_exclude *ex, const struct in_addr *addr)
{
    return in_ranges(&ex->v4, (const uint8_t *)&addr->s_addr);
}

int mts_exclude_in6(const struct mts_exclude *ex, const struct in6_addr *addr)
{
    struct in_addr v4;
    if (mts_special_embedded_in4(addr, &v4) && mts_exclude_in4(ex, &v4))
        return 1;
    return in_ranges(&ex->v6, addr->s6_addr);
}

int mts_exclude_addr(const struct mts_exclude *ex, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof sin);
        return mts_exclude_in4(ex, &sin.sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        return mts_exclude_in6(ex, &sin6.sin6_addr);
    }
    return 0;
}
