/*
 * The world model's lookups and the helpers every part of the world shares.
 *
 * Why one dispatch layer: the servers and the truth writer must not care whether the world
 * was read from a scenario file (everything stored, found through small hash indexes) or
 * generated (nothing stored, everything derived from (seed, index) by generator.c); each
 * public lookup here picks the right source and fills the caller's struct.
 */
#include "scenario.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *world_strerror(int err)
{
    switch (err < 0 ? -err : err) {
    case WORLD_OK:
        return "ok";
    case WORLD_E_NOTFOUND:
        return "not part of the world";
    case WORLD_E_NOMEM:
        return "out of memory or over a fixed bound";
    case WORLD_E_IO:
        return "input/output error";
    case WORLD_E_SYNTAX:
        return "scenario syntax error";
    case WORLD_E_ARG:
        return "bad argument";
    default:
        return "unknown error";
    }
}

uint64_t world_mix64(uint64_t x)
{
    /* splitmix64 finaliser: a cheap, well-mixed, portable bijection */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t world_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return world_mix64(h);
}

int world_name_norm(const char *in, char *out)
{
    size_t len = strlen(in);
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len > 253)
        return -WORLD_E_ARG;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '.') {
            if (label == 0)
                return -WORLD_E_ARG;
            label = 0;
        } else if (++label > 63) {
            return -WORLD_E_ARG;
        }
        out[i] = (char)tolower((unsigned char)c);
    }
    if (len > 0 && label == 0)
        return -WORLD_E_ARG;
    out[len] = '\0';
    return 0;
}

int world_name_to_wire(const char *name, unsigned char *out, size_t cap)
{
    size_t o = 0;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l == 0 || l > 63 || o + 1 + l + 1 > cap)
            return -WORLD_E_ARG;
        out[o++] = (unsigned char)l;
        for (size_t i = 0; i < l; i++)
            out[o++] = p[i] == WORLD_CTRL_CHAR ? WORLD_CTRL_BYTE : (unsigned char)p[i];
        p += l;
        if (*p == '.')
            p++;
    }
    if (o + 1 > cap)
        return -WORLD_E_ARG;
    out[o++] = 0;
    return (int)o;
}

void world_node_init(struct world_node *n, const char *name)
{
    snprintf(n->name, sizeof n->name, "%s", name);
    n->exists = true;
    n->fault = WORLD_DNS_FAULT_NONE;
    n->truncate = false;
    n->latency_ms = 0;
    n->cname[0] = '\0';
    n->nrr = 0;
    n->used = 0;
}

int world_node_add(struct world_node *n, uint16_t type, const void *rdata, size_t len)
{
    if (n->nrr >= WORLD_NODE_MAX_RR || len > (size_t)WORLD_NODE_DATA_MAX - n->used)
        return -WORLD_E_NOMEM;
    struct world_rr *rr = &n->rr[n->nrr++];
    rr->type = type;
    rr->rdlen = (uint16_t)len;
    rr->off = n->used;
    memcpy(n->data + n->used, rdata, len);
    n->used = (uint16_t)(n->used + len);
    return 0;
}

int world_node_add_a(struct world_node *n, struct in_addr a)
{
    return world_node_add(n, 1 /* A */, &a.s_addr, 4);
}

int world_node_add_mx(struct world_node *n, uint16_t pref, const char *host)
{
    unsigned char rd[2 + WORLD_NAME_MAX + 2];
    rd[0] = (unsigned char)(pref >> 8);
    rd[1] = (unsigned char)pref;
    int l = world_name_to_wire(host, rd + 2, sizeof rd - 2);
    if (l < 0)
        return l;
    return world_node_add(n, 15 /* MX */, rd, (size_t)l + 2);
}

int world_node_add_txt(struct world_node *n, const unsigned char *const *str, const size_t *len,
                       size_t nstr)
{
    unsigned char rd[WORLD_NODE_DATA_MAX];
    size_t o = 0;
    for (size_t i = 0; i < nstr; i++) {
        if (len[i] > 255 || o + 1 + len[i] > sizeof rd)
            return -WORLD_E_NOMEM;
        rd[o++] = (unsigned char)len[i];
        memcpy(rd + o, str[i], len[i]);
        o += len[i];
    }
    return world_node_add(n, 16 /* TXT */, rd, o);
}

int world_node_add_txt_str(struct world_node *n, const char *s)
{
    const unsigned char *parts[16];
    size_t lens[16], np = 0, len = strlen(s);
    do {
        if (np == 16)
            return -WORLD_E_NOMEM;
        size_t l = len > 255 ? 255 : len;
        parts[np] = (const unsigned char *)s;
        lens[np++] = l;
        s += l;
        len -= l;
    } while (len > 0);
    return world_node_add_txt(n, parts, lens, np);
}

void world_https_defaults(struct world_https *h, const char *cert_name)
{
    memset(h, 0, sizeof *h);
    h->tls.cert = WORLD_CERT_VALID;
    snprintf(h->tls.cert_name, sizeof h->tls.cert_name, "%s", cert_name);
    h->status = 404;
    snprintf(h->content_type, sizeof h->content_type, "text/plain");
    static const char not_found[] = "not found\n";
    memcpy(h->body_inline, not_found, sizeof not_found - 1);
    h->body_len = sizeof not_found - 1;
}

void world_host_defaults(struct world_host *h, const char *name)
{
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    h->smtp.banner = WORLD_BANNER_NORMAL;
    snprintf(h->smtp.hostname, sizeof h->smtp.hostname, "%s", name);
    h->smtp.starttls_offered = true;
    h->smtp.tls.cert = WORLD_CERT_VALID;
    snprintf(h->smtp.tls.cert_name, sizeof h->smtp.tls.cert_name, "%s", name);
    world_https_defaults(&h->https, name);
}

/* ---- indexes ---------------------------------------------------------------------------- */

int world_index_put(struct world_index *ix, uint64_t hash, uint32_t pos)
{
    if (ix->cap == 0 || (size_t)pos * 2 >= ix->cap) {
        size_t ncap = ix->cap ? ix->cap * 2 : 64;
        uint64_t *nh = calloc(ncap, sizeof *nh);
        uint32_t *np = calloc(ncap, sizeof *np);
        if (!nh || !np) {
            free(nh);
            free(np);
            return -WORLD_E_NOMEM;
        }
        for (size_t i = 0; i < ix->cap; i++) {
            if (!ix->pos[i])
                continue;
            size_t j = ix->hash[i] & (ncap - 1);
            while (np[j])
                j = (j + 1) & (ncap - 1);
            nh[j] = ix->hash[i];
            np[j] = ix->pos[i];
        }
        free(ix->hash);
        free(ix->pos);
        ix->hash = nh;
        ix->pos = np;
        ix->cap = ncap;
    }
    size_t j = hash & (ix->cap - 1);
    while (ix->pos[j])
        j = (j + 1) & (ix->cap - 1);
    ix->hash[j] = hash;
    ix->pos[j] = pos + 1;
    return 0;
}

long world_index_next(const struct world_index *ix, uint64_t hash, size_t *cursor)
{
    if (ix->cap == 0)
        return -1;
    for (size_t k = *cursor; k < ix->cap; k++) {
        size_t j = (hash + k) & (ix->cap - 1);
        if (!ix->pos[j])
            return -1;
        if (ix->hash[j] == hash) {
            *cursor = k + 1;
            return (long)ix->pos[j] - 1;
        }
    }
    return -1;
}

void world_index_free(struct world_index *ix)
{
    free(ix->hash);
    free(ix->pos);
    memset(ix, 0, sizeof *ix);
}

int world_own(struct world *w, void *s)
{
    if (w->nowned == w->owned_cap) {
        size_t ncap = w->owned_cap ? w->owned_cap * 2 : 64;
        char **n = realloc(w->owned, ncap * sizeof *n);
        if (!n) {
            free(s);
            return -WORLD_E_NOMEM;
        }
        w->owned = n;
        w->owned_cap = ncap;
    }
    w->owned[w->nowned++] = s;
    return 0;
}

void world_free(struct world *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nowned; i++)
        free(w->owned[i]);
    free(w->owned);
    free(w->huge_body);
    free(w->bomb_body);
    free(w->domains);
    free(w->hosts);
    free(w->nodes);
    world_index_free(&w->domain_by_name);
    world_index_free(&w->host_by_name);
    world_index_free(&w->host_by_addr);
    world_index_free(&w->node_by_name);
    free(w);
}

/* ---- lookups ---------------------------------------------------------------------------- */

static const struct world_domain *stored_domain(const struct world *w, const char *norm)
{
    uint64_t h = world_hash_str(norm);
    size_t cur = 0;
    long p;
    while ((p = world_index_next(&w->domain_by_name, h, &cur)) >= 0)
        if (strcmp(w->domains[p].name, norm) == 0)
            return &w->domains[p];
    return NULL;
}

static const struct world_host *stored_host_name(const struct world *w, const char *norm)
{
    uint64_t h = world_hash_str(norm);
    size_t cur = 0;
    long p;
    while ((p = world_index_next(&w->host_by_name, h, &cur)) >= 0)
        if (strcmp(w->hosts[p].name, norm) == 0)
            return &w->hosts[p];
    return NULL;
}

static const struct world_host *stored_host_addr(const struct world *w, struct in_addr a)
{
    uint64_t h = world_mix64(a.s_addr);
    size_t cur = 0;
    long p;
    while ((p = world_index_next(&w->host_by_addr, h, &cur)) >= 0)
        if (w->hosts[p].addr.s_addr == a.s_addr)
            return &w->hosts[p];
    return NULL;
}

int world_lookup_domain(const struct world *w, const char *name, struct world_domain *out)
{
    char norm[WORLD_NAME_MAX];
    if (world_name_norm(name, norm) < 0)
        return -WORLD_E_ARG;
    if (w->generated)
        return world_gen_domain_by_name(w, norm, out);
    /* the longest suffix of the name that is a domain of the world */
    for (const char *p = norm; *p;) {
        const struct world_domain *d = stored_domain(w, p);
        if (d) {
            *out = *d;
            return 0;
        }
        p = strchr(p, '.');
        if (!p)
            break;
        p++;
    }
    return -WORLD_E_NOTFOUND;
}

uint64_t world_domain_count(const struct world *w)
{
    return w->generated ? w->n : w->ndomains;
}

int world_domain_at(const struct world *w, uint64_t i, struct world_domain *out)
{
    if (i >= world_domain_count(w))
        return -WORLD_E_NOTFOUND;
    if (w->generated)
        return world_gen_domain(w, i, out);
    *out = w->domains[i];
    return 0;
}

static int local_in4(const struct sockaddr *sa, struct in_addr *a)
{
    if (!sa || sa->sa_family != AF_INET)
        return -WORLD_E_NOTFOUND;
    struct sockaddr_in sin;
    memcpy(&sin, sa, sizeof sin);
    *a = sin.sin_addr;
    return 0;
}

int world_lookup_host_by_addr(const struct world *w, const struct sockaddr *local_addr,
                              struct world_host *out)
{
    struct in_addr a;
    if (local_in4(local_addr, &a) < 0)
        return -WORLD_E_NOTFOUND;
    if (w->generated)
        return world_gen_host_by_addr(w, a, out);
    const struct world_host *h = stored_host_addr(w, a);
    if (!h)
        return -WORLD_E_NOTFOUND;
    *out = *h;
    return 0;
}

int world_lookup_host_by_name(const struct world *w, const char *name, struct world_host *out)
{
    char norm[WORLD_NAME_MAX];
    if (world_name_norm(name, norm) < 0)
        return -WORLD_E_ARG;
    if (w->generated)
        return world_gen_host_by_name(w, norm, out);
    const struct world_host *h = stored_host_name(w, norm);
    if (!h)
        return -WORLD_E_NOTFOUND;
    *out = *h;
    return 0;
}

int world_lookup_https(const struct world *w, const struct sockaddr *local_addr, const char *sni,
                       struct world_https *out)
{
    char norm[WORLD_NAME_MAX];
    if (sni && world_name_norm(sni, norm) == 0 && strncmp(norm, "mta-sts.", 8) == 0) {
        struct world_domain d;
        if (world_lookup_domain(w, norm, &d) == 0 && strcmp(d.name, norm + 8) == 0) {
            *out = d.policy;
            return 0;
        }
    }
    struct world_host h;
    int rc = world_lookup_host_by_addr(w, local_addr, &h);
    if (rc < 0)
        return rc;
    *out = h.https;
    return 0;
}

int world_dns_node(const struct world *w, const char *qname, struct world_node *out)
{
    char norm[WORLD_NAME_MAX];
    if (world_name_norm(qname, norm) < 0)
        return -WORLD_E_ARG;
    if (w->generated)
        return world_gen_node(w, norm, out);
    uint64_t h = world_hash_str(norm);
    size_t cur = 0;
    long p;
    while ((p = world_index_next(&w->node_by_name, h, &cur)) >= 0) {
        if (strcmp(w->nodes[p].name, norm) == 0) {
            *out = w->nodes[p];
            return 0;
        }
    }
    world_node_init(out, norm);
    out->exists = norm[0] == '\0'; /* the root exists (NODATA); anything unknown: NXDOMAIN */
    return 0;
}
