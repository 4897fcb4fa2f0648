/*
 * The scenario file parser: hand-written worlds for the integration tests.
 *
 * Why a text format of its own: a scenario must say, per domain, both what the servers do and
 * what a correct scanner concludes, in a form a reviewer can read next to RFC 8461 (one block
 * per case, named presets so hundreds of cases stay short, escapes for the bytes that matter:
 * CR, LF, BOM, non-ASCII). The format is documented in docs/world.md. Everything parsed is
 * stored: names become DNS nodes, hosts are indexed by name and address, domains by name.
 */
#include "scenario.h"
#include "mts_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS     32
#define MAX_LINE       8192
#define MAX_PRESET_USE 8

struct token {
    size_t len;
    unsigned char *s; /* NUL-terminated too (escapes may embed NULs: use len) */
};

struct preset {
    char name[64];
    char **lines;
    size_t nlines;
    int first_lineno;
};

enum block { BLOCK_NONE, BLOCK_PRESET, BLOCK_HOST, BLOCK_DOMAIN, BLOCK_NAME };

struct parser {
    struct world *w;
    const char *path;
    FILE *f;
    int lineno;
    char *err;
    size_t errlen;
    struct preset *presets;
    size_t npresets;
    enum block block;
    size_t cur; /* index of the current host/domain/preset */
    char cur_name[WORLD_NAME_MAX];
    bool policy_auto; /* domain block: "policy-a auto" seen */
    int replaying;    /* > 0 while the lines of a preset are applied */
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%d: %s", p->path, p->lineno, msg);
    return -WORLD_E_SYNTAX;
}

/* Unescape s[0..n) into out (capacity at least n+1); returns the length or -1. */
static long unescape(const char *s, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            out[o++] = (unsigned char)s[i];
            continue;
        }
        if (++i == n)
            return -1;
        switch (s[i]) {
        case 'r':
            out[o++] = '\r';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case '\\':
        case '"':
            out[o++] = (unsigned char)s[i];
            break;
        case 'x': {
            if (i + 2 >= n)
                return -1;
            int hi = mts_hex_value(s[i + 1]), lo = mts_hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            out[o++] = (unsigned char)(hi * 16 + lo);
            i += 2;
            break;
        }
        default:
            return -1;
        }
    }
    out[o] = '\0';
    return (long)o;
}

/* Split a line into tokens (quoted strings unescaped, bare words verbatim). Tokens point into
 * buf (the line is rewritten in place: unescaping never grows). */
static int tokenize(struct parser *p, char *line, struct token *tok, int *ntok)
{
    int n = 0;
    char *s = line;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '#')
            break;
        if (n == MAX_TOKENS)
            return fail(p, "too many words on one line");
        if (*s == '"') {
            char *start = ++s;
            while (*s && *s != '"') {
                if (*s == '\\' && s[1])
                    s++;
                s++;
            }
            if (*s != '"')
                return fail(p, "unterminated string");
            long l = unescape(start, (size_t)(s - start), (unsigned char *)start);
            if (l < 0)
                return fail(p, "bad escape in string");
            tok[n].s = (unsigned char *)start;
            tok[n].len = (size_t)l;
            s++;
            if (*s && *s != ' ' && *s != '\t')
                return fail(p, "text right after a closing quote");
            start[l] = '\0';
        } else {
            char *start = s;
            while (*s && *s != ' ' && *s != '\t')
                s++;
            tok[n].s = (unsigned char *)start;
            tok[n].len = (size_t)(s - start);
            if (*s)
                *s++ = '\0';
        }
        n++;
        if (*s == '\0')
            break;
    }
    *ntok = n;
    return 0;
}

static const char *tstr(const struct token *t)
{
    return (const char *)t->s;
}

static bool teq(const struct token *t, const char *s)
{
    return strcmp(tstr(t), s) == 0;
}

static int parse_uint(struct parser *p, const struct token *t, unsigned long max, unsigned long *v)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(tstr(t), &end, 10);
    if (errno || *end || end == tstr(t) || x > max) {
        /* the constant return (not fail's) shows callers that *v is set when 0 returns */
        fail(p, "'%s' is not a number in 0..%lu", tstr(t), max);
        return -WORLD_E_SYNTAX;
    }
    *v = x;
    return 0;
}

static int parse_bool(struct parser *p, const struct token *t, bool *v)
{
    if (teq(t, "yes"))
        *v = true;
    else if (teq(t, "no"))
        *v = false;
    else
        return fail(p, "'%s': want yes or no", tstr(t));
    return 0;
}

static int parse_addr(struct parser *p, const struct token *t, struct in_addr *a)
{
    if (inet_pton(AF_INET, tstr(t), a) != 1)
        return fail(p, "'%s' is not an IPv4 address", tstr(t));
    uint32_t h = ntohl(a->s_addr);
    bool special = h == 0; /* 0.0.0.0: a special-purpose address nobody can reach */
    if (!special && ((h >> 24) != 127 || (h >> 16) == 0x7f00))
        return fail(p, "'%s': world hosts live in 127/8 outside 127.0/16", tstr(t));
    return 0;
}

/* An IPv6 address that stays on this machine: ::1 or an IPv4-mapped 127/8 address. */
static int parse_addr6(struct parser *p, const struct token *t, struct in6_addr *a)
{
    if (inet_pton(AF_INET6, tstr(t), a) != 1)
        return fail(p, "'%s' is not an IPv6 address", tstr(t));
    if (!IN6_IS_ADDR_LOOPBACK(a) && !(IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127))
        return fail(p, "'%s': world IPv6 addresses are ::1 or ::ffff:127.x.y.z", tstr(t));
    return 0;
}

static int parse_name(struct parser *p, const struct token *t, char *out)
{
    if (world_name_norm(tstr(t), out) < 0 ||
        strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789-_*.^") != strlen(out))
        return fail(p, "'%s' is not a valid DNS name", tstr(t));
    return 0;
}

static bool stored_domain_exists(const struct world *w, const char *name)
{
    uint64_t h = world_hash_str(name);
    size_t cur = 0;
    long pos;
    while ((pos = world_index_next(&w->domain_by_name, h, &cur)) >= 0)
        if (strcmp(w->domains[pos].name, name) == 0)
            return true;
    return false;
}

/* ---- nodes ------------------------------------------------------------------------------ */

static long node_find(const struct world *w, const char *name)
{
    uint64_t h = world_hash_str(name);
    size_t cur = 0;
    long pos;
    while ((pos = world_index_next(&w->node_by_name, h, &cur)) >= 0)
        if (strcmp(w->nodes[pos].name, name) == 0)
            return pos;
    return -1;
}

/* The node for name, created (with its ancestors as empty non-terminals) when new. */
static long node_get(struct parser *p, const char *name)
{
    struct world *w = p->w;
    long pos = node_find(w, name);
    if (pos >= 0)
        return pos;
    if (w->nnodes == w->nodes_cap) {
        size_t ncap = w->nodes_cap ? w->nodes_cap * 2 : 64;
        struct world_node *n = realloc(w->nodes, ncap * sizeof *n);
        if (!n)
            return fail(p, "out of memory");
        w->nodes = n;
        w->nodes_cap = ncap;
    }
    pos = (long)w->nnodes++;
    world_node_init(&w->nodes[pos], name);
    if (world_index_put(&w->node_by_name, world_hash_str(name), (uint32_t)pos) < 0)
        return fail(p, "out of memory");
    const char *dot = strchr(name, '.');
    if (dot && node_get(p, dot + 1) < 0)
        return -WORLD_E_SYNTAX;
    return pos;
}

static int node_rr_result(struct parser *p, int rc)
{
    return rc < 0 ? fail(p, "too many records at one name") : 0;
}

static int node_add_txt_tokens(struct parser *p, long pos, const struct token *t, int n)
{
    const unsigned char *str[MAX_TOKENS];
    size_t len[MAX_TOKENS];
    if (n < 1)
        return fail(p, "TXT record without a string");
    for (int i = 0; i < n; i++) {
        if (t[i].len > 255)
            return fail(p, "a TXT character-string is at most 255 bytes (use several)");
        str[i] = t[i].s;
        len[i] = t[i].len;
    }
    return node_rr_result(p, world_node_add_txt(&p->w->nodes[pos], str, len, (size_t)n));
}

static int node_fault(struct parser *p, long pos, const struct token *t)
{
    struct world_node *n = &p->w->nodes[pos];
    if (teq(t, "servfail"))
        n->fault = WORLD_DNS_FAULT_SERVFAIL;
    else if (teq(t, "timeout"))
        n->fault = WORLD_DNS_FAULT_TIMEOUT;
    else if (teq(t, "refused"))
        n->fault = WORLD_DNS_FAULT_REFUSED;
    else
        return fail(p, "'%s': want servfail, timeout or refused", tstr(t));
    return 0;
}

static int node_add_tlsa(struct parser *p, long pos, const struct token *t, int n)
{
    unsigned long u, s, m;
    if (n != 4)
        return fail(p, "tlsa USAGE SELECTOR MTYPE HEX");
    if (parse_uint(p, &t[0], 255, &u) || parse_uint(p, &t[1], 255, &s) ||
        parse_uint(p, &t[2], 255, &m))
        return -WORLD_E_SYNTAX;
    unsigned char rd[3 + 512];
    size_t hl = t[3].len;
    if (hl % 2 || hl / 2 > 512 || hl == 0)
        return fail(p, "bad TLSA data");
    rd[0] = (unsigned char)u;
    rd[1] = (unsigned char)s;
    rd[2] = (unsigned char)m;
    for (size_t i = 0; i < hl / 2; i++) {
        int hi = mts_hex_value(t[3].s[2 * i]), lo = mts_hex_value(t[3].s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail(p, "bad TLSA data");
        rd[3 + i] = (unsigned char)(hi * 16 + lo);
    }
    return node_rr_result(p, world_node_add(&p->w->nodes[pos], 52 /* TLSA */, rd, 3 + hl / 2));
}

/* Record keys shared by "name" blocks and the per-name keys of "domain" blocks. */
static int node_key(struct parser *p, long pos, const char *key, const struct token *t, int n)
{
    char name[WORLD_NAME_MAX];
    struct in_addr a;
    unsigned long v;
    if (pos < 0)
        return (int)pos;
    struct world_node *node = &p->w->nodes[pos];
    if (strcmp(key, "txt") == 0)
        return node_add_txt_tokens(p, pos, t, n);
    if (n < 1)
        return fail(p, "'%s' needs a value", key);
    if (strcmp(key, "a") == 0) {
        for (int i = 0; i < n; i++) {
            if (parse_addr(p, &t[i], &a))
                return -WORLD_E_SYNTAX;
            if (node_rr_result(p, world_node_add_a(&p->w->nodes[pos], a)))
                return -WORLD_E_SYNTAX;
        }
        return 0;
    }
    if (strcmp(key, "aaaa") == 0) {
        struct in6_addr a6;
        for (int i = 0; i < n; i++) {
            if (parse_addr6(p, &t[i], &a6))
                return -WORLD_E_SYNTAX;
            if (node_rr_result(p, world_node_add(node, 28 /* AAAA */, a6.s6_addr, 16)))
                return -WORLD_E_SYNTAX;
        }
        return 0;
    }
    if (strcmp(key, "mx") == 0) {
        if (n != 2 || parse_uint(p, &t[0], 65535, &v))
            return fail(p, "mx PREF HOST");
        if (teq(&t[1], "."))
            name[0] = '\0';
        else if (parse_name(p, &t[1], name))
            return -WORLD_E_SYNTAX;
        return node_rr_result(p, world_node_add_mx(node, (uint16_t)v, name));
    }
    if (strcmp(key, "cname") == 0)
        return parse_name(p, &t[0], node->cname);
    if (strcmp(key, "fault") == 0)
        return node_fault(p, pos, &t[0]);
    if (strcmp(key, "truncate") == 0)
        return parse_bool(p, &t[0], &node->truncate);
    if (strcmp(key, "latency") == 0) {
        if (parse_uint(p, &t[0], 600000, &v))
            return -WORLD_E_SYNTAX;
        node->latency_ms = (unsigned)v;
        return 0;
    }
    if (strcmp(key, "tlsa") == 0)
        return node_add_tlsa(p, pos, t, n);
    return fail(p, "unknown key '%s'", key);
}

/* ---- behaviours ------------------------------------------------------------------------- */

static int parse_connect(struct parser *p, const struct token *t, enum world_connect *c)
{
    if (teq(t, "accept"))
        *c = WORLD_CONNECT_ACCEPT;
    else if (teq(t, "refuse"))
        *c = WORLD_CONNECT_REFUSE;
    else if (teq(t, "timeout"))
        *c = WORLD_CONNECT_TIMEOUT;
    else
        return fail(p, "'%s': want accept, refuse or timeout", tstr(t));
    return 0;
}

static const char *const cert_names[WORLD_CERT_COUNT] = {
    "valid", "expired", "not-yet-valid", "wrong-name", "self-signed", "untrusted-ca"};

static int tls_key(struct parser *p, struct world_tls *tls, const char *key, const struct token *t)
{
    if (strcmp(key, "cert") == 0) {
        for (int i = 0; i < WORLD_CERT_COUNT; i++) {
            if (teq(t, cert_names[i])) {
                tls->cert = (enum world_cert)i;
                return 0;
            }
        }
        return fail(p, "unknown certificate kind '%s'", tstr(t));
    }
    if (strcmp(key, "cert-name") == 0)
        return parse_name(p, t, tls->cert_name);
    if (strcmp(key, "tls-max") == 0) {
        static const struct {
            const char *s;
            int v;
        } v[] = {{"1.0", 0x0301}, {"1.1", 0x0302}, {"1.2", 0x0303}, {"1.3", 0x0304}};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            if (teq(t, v[i].s)) {
                tls->max_version = v[i].v;
                return 0;
            }
        }
        return fail(p, "tls-max 1.0|1.1|1.2|1.3");
    }
    if (strcmp(key, "tls-alert") == 0)
        return parse_bool(p, t, &tls->alert);
    return 1; /* not a TLS key */
}

/* Append len bytes to an HTTPS body, moving it out of the inline buffer when it grows. */
static int body_append(struct parser *p, struct world_https *h, const unsigned char *b, size_t len)
{
    size_t nlen = h->body_len + len;
    if (nlen > 16u * 1024 * 1024)
        return fail(p, "body over 16 MiB");
    if (!h->body_ext && nlen <= WORLD_BODY_INLINE) {
        memcpy(h->body_inline + h->body_len, b, len);
        h->body_len = nlen;
        return 0;
    }
    unsigned char *nb = malloc(nlen ? nlen : 1);
    if (!nb)
        return fail(p, "out of memory");
    memcpy(nb, world_https_body(h), h->body_len);
    memcpy(nb + h->body_len, b, len);
    if (world_own(p->w, nb) < 0)
        return fail(p, "out of memory");
    h->body_ext = nb; /* the previous copy stays owned by the world until world_free */
    h->body_len = nlen;
    return 0;
}

/* A here-document: the lines up to the terminator, escapes applied, each followed by eol. */
static int read_heredoc(struct parser *p, struct world_https *h, const char *term, const char *eol)
{
    char line[MAX_LINE];
    unsigned char buf[MAX_LINE + 1];
    while (fgets(line, sizeof line, p->f)) {
        p->lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\n')
            line[--l] = '\0';
        if (strcmp(line, term) == 0)
            return 0;
        long u = unescape(line, l, buf);
        if (u < 0)
            return fail(p, "bad escape in body");
        if (body_append(p, h, buf, (size_t)u) || body_append(p, h, (const void *)eol, strlen(eol)))
            return -WORLD_E_SYNTAX;
    }
    return fail(p, "body not terminated by '%s'", term);
}

static int https_key(struct parser *p, struct world_https *h, const char *key,
                     const struct token *t, int n)
{
    unsigned long v, v2;
    if (n < 1)
        return fail(p, "'%s' needs a value", key);
    int rc = tls_key(p, &h->tls, key, &t[0]);
    if (rc <= 0)
        return rc;
    if (strcmp(key, "connect") == 0)
        return parse_connect(p, &t[0], &h->connect);
    if (strcmp(key, "status") == 0) {
        if (parse_uint(p, &t[0], 999, &v))
            return -WORLD_E_SYNTAX;
        h->status = (int)v;
        return 0;
    }
    if (strcmp(key, "type") == 0) {
        snprintf(h->content_type, sizeof h->content_type, "%s", teq(&t[0], "-") ? "" : tstr(&t[0]));
        return 0;
    }
    if (strcmp(key, "location") == 0) {
        snprintf(h->location, sizeof h->location, "%s", tstr(&t[0]));
        return 0;
    }
    if (strcmp(key, "encoding") == 0) {
        if (!teq(&t[0], "gzip") && !teq(&t[0], "identity"))
            return fail(p, "encoding gzip|identity");
        h->gzip = teq(&t[0], "gzip");
        return 0;
    }
    if (strcmp(key, "latency") == 0) {
        if (parse_uint(p, &t[0], 600000, &v))
            return -WORLD_E_SYNTAX;
        h->latency_ms = (unsigned)v;
        return 0;
    }
    if (strcmp(key, "speed") == 0) {
        if (teq(&t[0], "normal") && n == 1) {
            h->speed = WORLD_SPEED_NORMAL;
        } else if (teq(&t[0], "drip") && n == 3) {
            if (parse_uint(p, &t[1], 65536, &v) || parse_uint(p, &t[2], 600000, &v2))
                return -WORLD_E_SYNTAX;
            h->speed = WORLD_SPEED_DRIP;
            h->drip_bytes = (unsigned)v;
            h->drip_interval_ms = (unsigned)v2;
        } else if ((teq(&t[0], "stall") || teq(&t[0], "reset")) && n == 2) {
            if (parse_uint(p, &t[1], 1u << 30, &v))
                return -WORLD_E_SYNTAX;
            h->speed = teq(&t[0], "stall") ? WORLD_SPEED_STALL : WORLD_SPEED_RESET;
            h->cut_after = v;
        } else {
            return fail(p, "speed normal | drip BYTES MS | stall BYTES | reset BYTES");
        }
        return 0;
    }
    if (strcmp(key, "body") == 0 || strcmp(key, "body-crlf") == 0) {
        const char *eol = strcmp(key, "body") == 0 ? "\n" : "\r\n";
        h->body_len = 0;
        h->body_ext = NULL;
        if (t[0].len > 2 && memcmp(t[0].s, "<<", 2) == 0) {
            if (p->replaying)
                return fail(p, "a here-document cannot come from a preset");
            return read_heredoc(p, h, tstr(&t[0]) + 2, eol);
        }
        for (int i = 0; i < n; i++)
            if (body_append(p, h, t[i].s, t[i].len))
                return -WORLD_E_SYNTAX;
        return 0;
    }
    if (strcmp(key, "pad") == 0) {
        /* N bytes of comment-like filler lines, for size bounds */
        if (parse_uint(p, &t[0], 16u * 1024 * 1024, &v))
            return -WORLD_E_SYNTAX;
        /* Lines of 63 'x' and a LF, built whole: one append, not one copy per line. */
        unsigned char *fill = malloc(v ? v : 1);
        if (!fill)
            return fail(p, "out of memory");
        for (size_t i = 0; i < v; i++)
            fill[i] = i % 64 == 63 || i + 1 == v ? '\n' : 'x';
        int failed = body_append(p, h, fill, v);
        free(fill);
        return failed ? -WORLD_E_SYNTAX : 0;
    }
    return fail(p, "unknown HTTPS key '%s'", key);
}

static int smtp_key(struct parser *p, struct world_smtp *s, const char *key, const struct token *t,
                    int n)
{
    unsigned long v;
    if (n < 1)
        return fail(p, "'%s' needs a value", key);
    int rc = tls_key(p, &s->tls, key, &t[0]);
    if (rc <= 0)
        return rc;
    if (strcmp(key, "connect") == 0)
        return parse_connect(p, &t[0], &s->connect);
    if (strcmp(key, "banner") == 0) {
        static const char *const b[] = {"normal", "multiline", "4xx",    "5xx",
                                        "none",   "garbage",   "endless"};
        for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
            if (teq(&t[0], b[i])) {
                s->banner = (enum world_banner)i;
                return 0;
            }
        }
        return fail(p, "unknown banner '%s'", tstr(&t[0]));
    }
    if (strcmp(key, "hostname") == 0)
        return parse_name(p, &t[0], s->hostname);
    if (strcmp(key, "ehlo") == 0) {
        if (!teq(&t[0], "ok") && !teq(&t[0], "reject"))
            return fail(p, "ehlo ok|reject");
        s->ehlo_rejected = teq(&t[0], "reject");
        return 0;
    }
    if (strcmp(key, "starttls") == 0) {
        if (teq(&t[0], "yes")) {
            s->starttls_offered = true;
            s->starttls_rejected = false;
        } else if (teq(&t[0], "no")) {
            s->starttls_offered = false;
        } else if (teq(&t[0], "rejected")) {
            s->starttls_offered = true;
            s->starttls_rejected = true;
        } else {
            return fail(p, "starttls yes|no|rejected");
        }
        return 0;
    }
    if (strcmp(key, "fault") == 0) {
        static const char *const st[] = {"", "banner", "ehlo", "starttls", "handshake"};
        if (n != 2 || (!teq(&t[0], "reset") && !teq(&t[0], "stall")))
            return fail(p, "fault reset|stall banner|ehlo|starttls|handshake");
        s->fault = teq(&t[0], "reset") ? WORLD_FAULT_RESET : WORLD_FAULT_STALL;
        for (size_t i = 1; i < sizeof st / sizeof st[0]; i++) {
            if (teq(&t[1], st[i])) {
                s->fault_stage = (enum world_stage)i;
                return 0;
            }
        }
        return fail(p, "unknown stage '%s'", tstr(&t[1]));
    }
    if (strcmp(key, "inject") == 0) {
        if (t[0].len > WORLD_INJECTION_MAX)
            return fail(p, "injection over %d bytes", WORLD_INJECTION_MAX);
        memcpy(s->injection, t[0].s, t[0].len);
        s->injection_len = (unsigned)t[0].len;
        return 0;
    }
    if (strcmp(key, "latency") == 0) {
        if (parse_uint(p, &t[0], 600000, &v))
            return -WORLD_E_SYNTAX;
        s->latency_ms = (unsigned)v;
        return 0;
    }
    return fail(p, "unknown SMTP key '%s'", key);
}

/* ---- blocks ----------------------------------------------------------------------------- */

static struct world_domain *cur_domain(struct parser *p)
{
    return &p->w->domains[p->cur];
}

static struct world_host *cur_host(struct parser *p)
{
    return &p->w->hosts[p->cur];
}

static int add_host(struct parser *p, const char *name, size_t *pos)
{
    struct world *w = p->w;
    char norm[WORLD_NAME_MAX];
    if (world_name_norm(name, norm) < 0 || !norm[0])
        return fail(p, "bad host name '%s'", name);
    uint64_t h = world_hash_str(norm);
    size_t cur = 0;
    long q;
    while ((q = world_index_next(&w->host_by_name, h, &cur)) >= 0)
        if (strcmp(w->hosts[q].name, norm) == 0)
            return fail(p, "host %s defined twice", norm);
    if (w->nhosts == w->hosts_cap) {
        size_t ncap = w->hosts_cap ? w->hosts_cap * 2 : 32;
        struct world_host *n = realloc(w->hosts, ncap * sizeof *n);
        if (!n)
            return fail(p, "out of memory");
        w->hosts = n;
        w->hosts_cap = ncap;
    }
    *pos = w->nhosts++;
    world_host_defaults(&w->hosts[*pos], norm);
    if (world_index_put(&w->host_by_name, h, (uint32_t)*pos) < 0)
        return fail(p, "out of memory");
    return 0;
}

/* A host's address is final when its block ends: index it then, and publish its A record. */
static int finish_host(struct parser *p)
{
    struct world *w = p->w;
    struct world_host *h = cur_host(p);
    if (h->addr.s_addr == 0)
        h->addr.s_addr = htonl(w->next_addr++);
    if (world_index_put(&w->host_by_addr, world_mix64(h->addr.s_addr), (uint32_t)p->cur) < 0)
        return fail(p, "out of memory");
    long pos = node_get(p, h->name);
    if (pos < 0)
        return (int)pos;
    return node_rr_result(p, world_node_add_a(&w->nodes[pos], h->addr));
}

static int host_key(struct parser *p, const char *key, const struct token *t, int n)
{
    struct world_host *h = cur_host(p);
    if (strcmp(key, "addr") == 0) {
        if (n != 1 || parse_addr(p, &t[0], &h->addr))
            return -WORLD_E_SYNTAX;
        if (h->addr.s_addr == 0)
            return fail(p, "a host needs a loopback address");
        return 0;
    }
    if (strcmp(key, "tlsa") == 0) {
        char name[WORLD_NAME_MAX + 16];
        snprintf(name, sizeof name, "_25._tcp.%s", h->name);
        return node_key(p, node_get(p, name), key, t, n);
    }
    if (strncmp(key, "smtp.", 5) == 0)
        return smtp_key(p, &h->smtp, key + 5, t, n);
    if (strncmp(key, "https.", 6) == 0)
        return https_key(p, &h->https, key + 6, t, n);
    return fail(p, "unknown host key '%s'", key);
}

static int add_category(struct parser *p, struct world_domain *d, const char *c)
{
    for (unsigned i = 0; i < d->ncategories; i++)
        if (strcmp(d->categories[i], c) == 0)
            return 0;
    if (d->ncategories == WORLD_MAX_CATEGORIES)
        return fail(p, "too many categories");
    char *s = strdup(c);
    if (!s || world_own(p->w, s) < 0)
        return fail(p, "out of memory");
    d->categories[d->ncategories++] = s;
    return 0;
}

static int owned_str(struct parser *p, const char *s, const char **out)
{
    char *c = strdup(s);
    if (!c || world_own(p->w, c) < 0)
        return fail(p, "out of memory");
    *out = c;
    return 0;
}

static int domain_node(struct parser *p, const char *prefix, long *pos)
{
    char name[WORLD_NAME_MAX + 32];
    snprintf(name, sizeof name, "%s%s", prefix, cur_domain(p)->name);
    *pos = node_get(p, name);
    return *pos < 0 ? (int)*pos : 0;
}

static int domain_key(struct parser *p, const char *key, const struct token *t, int n)
{
    struct world_domain *d = cur_domain(p);
    long pos;
    if (strcmp(key, "case") == 0 && n == 1)
        return owned_str(p, tstr(&t[0]), &d->case_name);
    if (strcmp(key, "verdict") == 0 && n == 1)
        return owned_str(p, tstr(&t[0]), &d->verdict);
    if (strcmp(key, "category") == 0) {
        for (int i = 0; i < n; i++)
            if (add_category(p, d, tstr(&t[i])))
                return -WORLD_E_SYNTAX;
        return 0;
    }
    if (strcmp(key, "would-bounce") == 0 && n == 1)
        return parse_bool(p, &t[0], &d->would_bounce);
    if (strcmp(key, "exists") == 0 && n == 1) {
        bool e = false;
        if (parse_bool(p, &t[0], &e))
            return -WORLD_E_SYNTAX;
        if (domain_node(p, "", &pos))
            return -WORLD_E_SYNTAX;
        p->w->nodes[pos].exists = e;
        return 0;
    }
    if (strncmp(key, "policy.", 7) == 0)
        return https_key(p, &d->policy, key + 7, t, n);
    /* per-name keys: PREFIX-KEY, where the prefix selects the owner name */
    static const struct {
        const char *key, *prefix, *node_key;
    } map[] = {
        {"sts", "_mta-sts.", "txt"},
        {"sts-cname", "_mta-sts.", "cname"},
        {"sts-fault", "_mta-sts.", "fault"},
        {"sts-truncate", "_mta-sts.", "truncate"},
        {"sts-latency", "_mta-sts.", "latency"},
        {"apex-txt", "", "txt"},
        {"apex-a", "", "a"},
        {"mx-fault", "", "fault"},
        {"mx-truncate", "", "truncate"},
        {"tlsrpt", "_smtp._tls.", "txt"},
        {"tlsrpt-cname", "_smtp._tls.", "cname"},
        {"tlsrpt-fault", "_smtp._tls.", "fault"},
        {"policy-cname", "mta-sts.", "cname"},
        {"policy-fault", "mta-sts.", "fault"},
        {"policy-aaaa", "mta-sts.", "aaaa"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(key, map[i].key) == 0) {
            if (domain_node(p, map[i].prefix, &pos))
                return -WORLD_E_SYNTAX;
            return node_key(p, pos, map[i].node_key, t, n);
        }
    }
    if (strcmp(key, "mx") == 0) {
        unsigned long v;
        if (n != 2 || parse_uint(p, &t[0], 65535, &v))
            return fail(p, "mx PREF HOST");
        if (d->nmx == WORLD_MAX_MX)
            return fail(p, "more than %d MX records", WORLD_MAX_MX);
        struct world_mx *m = &d->mx[d->nmx];
        m->pref = (uint16_t)v;
        if (teq(&t[1], "."))
            m->host[0] = '\0';
        else if (parse_name(p, &t[1], m->host))
            return -WORLD_E_SYNTAX;
        d->nmx++;
        if (domain_node(p, "", &pos))
            return -WORLD_E_SYNTAX;
        return node_key(p, pos, "mx", t, n);
    }
    if (strcmp(key, "policy-a") == 0) {
        if (n == 1 && teq(&t[0], "auto")) {
            p->policy_auto = true;
            return 0;
        }
        if (domain_node(p, "mta-sts.", &pos))
            return -WORLD_E_SYNTAX;
        return node_key(p, pos, "a", t, n);
    }
    return fail(p, "unknown domain key '%s'", key);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int finish_domain(struct parser *p)
{
    struct world *w = p->w;
    struct world_domain *d = cur_domain(p);
    if (!d->verdict)
        return fail(p, "domain %s has no verdict", d->name);
    if (!d->case_name && owned_str(p, d->name, &d->case_name))
        return -WORLD_E_SYNTAX;
    long apex = node_find(w, d->name);
    bool exists = apex >= 0 && w->nodes[apex].exists;
    if (exists) {
        /* the categories any domain with that DNS data has (docs/world.md) */
        char name[WORLD_NAME_MAX + 16];
        snprintf(name, sizeof name, "_smtp._tls.%s", d->name);
        long rpt = node_find(w, name);
        if ((rpt < 0 || (w->nodes[rpt].nrr == 0 && !w->nodes[rpt].cname[0] &&
                         w->nodes[rpt].fault == WORLD_DNS_FAULT_NONE)) &&
            add_category(p, d, "tlsrpt/absent"))
            return -WORLD_E_SYNTAX;
        if (d->nmx == 1 && d->mx[0].host[0] == '\0' && add_category(p, d, "mx-info/null-mx"))
            return -WORLD_E_SYNTAX;
        if (d->nmx == 0 && w->nodes[apex].fault == WORLD_DNS_FAULT_NONE &&
            add_category(p, d, "mx-info/implicit-mx"))
            return -WORLD_E_SYNTAX;
    }
    qsort(d->categories, d->ncategories, sizeof d->categories[0], cmp_str);
    if (p->policy_auto) {
        char name[WORLD_NAME_MAX + 16];
        size_t hpos;
        snprintf(name, sizeof name, "mta-sts.%s", d->name);
        if (add_host(p, name, &hpos))
            return -WORLD_E_SYNTAX;
        size_t dpos = p->cur;
        p->cur = hpos;
        w->hosts[hpos].https = w->domains[dpos].policy;
        int rc = finish_host(p);
        p->cur = dpos;
        return rc;
    }
    return 0;
}

static int finish_block(struct parser *p)
{
    int rc = 0;
    if (p->block == BLOCK_HOST)
        rc = finish_host(p);
    else if (p->block == BLOCK_DOMAIN)
        rc = finish_domain(p);
    p->block = BLOCK_NONE;
    return rc;
}

static int open_block(struct parser *p, const struct token *t, int n)
{
    struct world *w = p->w;
    if (finish_block(p))
        return -WORLD_E_SYNTAX;
    if (n != 2)
        return fail(p, "'%s NAME'", tstr(&t[0]));
    if (teq(&t[0], "preset")) {
        for (size_t i = 0; i < p->npresets; i++)
            if (strcmp(p->presets[i].name, tstr(&t[1])) == 0)
                return fail(p, "preset %s defined twice", tstr(&t[1]));
        struct preset *np = realloc(p->presets, (p->npresets + 1) * sizeof *np);
        if (!np)
            return fail(p, "out of memory");
        p->presets = np;
        struct preset *pr = &p->presets[p->npresets];
        memset(pr, 0, sizeof *pr);
        snprintf(pr->name, sizeof pr->name, "%s", tstr(&t[1]));
        pr->first_lineno = p->lineno;
        p->cur = p->npresets++;
        p->block = BLOCK_PRESET;
        return 0;
    }
    if (teq(&t[0], "host")) {
        if (add_host(p, tstr(&t[1]), &p->cur))
            return -WORLD_E_SYNTAX;
        p->block = BLOCK_HOST;
        return 0;
    }
    if (teq(&t[0], "name")) {
        if (parse_name(p, &t[1], p->cur_name))
            return -WORLD_E_SYNTAX;
        if (node_get(p, p->cur_name) < 0)
            return -WORLD_E_SYNTAX;
        p->block = BLOCK_NAME;
        return 0;
    }
    if (teq(&t[0], "domain")) {
        char norm[WORLD_NAME_MAX];
        if (parse_name(p, &t[1], norm) || !norm[0])
            return fail(p, "bad domain name");
        if (stored_domain_exists(w, norm))
            return fail(p, "domain %s defined twice", norm);
        if (w->ndomains == w->domains_cap) {
            size_t ncap = w->domains_cap ? w->domains_cap * 2 : 64;
            struct world_domain *nd = realloc(w->domains, ncap * sizeof *nd);
            if (!nd)
                return fail(p, "out of memory");
            w->domains = nd;
            w->domains_cap = ncap;
        }
        p->cur = w->ndomains++;
        struct world_domain *d = &w->domains[p->cur];
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "%s", norm);
        d->index = p->cur;
        char ph[WORLD_NAME_MAX + 8];
        snprintf(ph, sizeof ph, "mta-sts.%s", norm);
        world_https_defaults(&d->policy, ph);
        d->policy.status = 200;
        d->policy.body_len = 0;
        p->policy_auto = false;
        if (world_index_put(&w->domain_by_name, world_hash_str(norm), (uint32_t)p->cur) < 0)
            return fail(p, "out of memory");
        long pos;
        if (domain_node(p, "", &pos))
            return -WORLD_E_SYNTAX;
        p->block = BLOCK_DOMAIN;
        return 0;
    }
    return fail(p, "unknown block '%s' (preset, host, domain, name)", tstr(&t[0]));
}

static int body_line(struct parser *p, char *line, int depth);

/* A preset line with every "{self}" replaced by the name of the block using it. */
static int expand(const char *line, const char *self, char *out, size_t cap)
{
    static const char var[] = "{self}";
    size_t o = 0, sl = strlen(self);
    while (*line) {
        if (strncmp(line, var, sizeof var - 1) == 0) {
            if (o + sl >= cap)
                return -1;
            memcpy(out + o, self, sl);
            o += sl;
            line += sizeof var - 1;
        } else {
            if (o + 1 >= cap)
                return -1;
            out[o++] = *line++;
        }
    }
    out[o] = '\0';
    return 0;
}

static int use_preset(struct parser *p, const char *name, int depth)
{
    if (depth >= MAX_PRESET_USE)
        return fail(p, "presets nested too deep");
    for (size_t i = 0; i < p->npresets; i++) {
        if (strcmp(p->presets[i].name, name) != 0)
            continue;
        char buf[MAX_LINE];
        const char *self = p->block == BLOCK_DOMAIN ? cur_domain(p)->name
                           : p->block == BLOCK_HOST ? cur_host(p)->name
                                                    : p->cur_name;
        for (size_t j = 0; j < p->presets[i].nlines; j++) {
            if (expand(p->presets[i].lines[j], self, buf, sizeof buf) < 0)
                return fail(p, "preset %s: line too long once expanded", name);
            p->replaying++;
            int rc = body_line(p, buf, depth + 1);
            p->replaying--;
            if (rc)
                return rc;
        }
        return 0;
    }
    return fail(p, "unknown preset '%s'", name);
}

/* One indented line of the current block. */
static int body_line(struct parser *p, char *line, int depth)
{
    if (p->block == BLOCK_PRESET) {
        struct preset *pr = &p->presets[p->cur];
        char **nl = realloc(pr->lines, (pr->nlines + 1) * sizeof *nl);
        if (!nl)
            return fail(p, "out of memory");
        pr->lines = nl;
        if (!(pr->lines[pr->nlines] = strdup(line)))
            return fail(p, "out of memory");
        pr->nlines++;
        return 0;
    }
    struct token t[MAX_TOKENS];
    int n;
    if (tokenize(p, line, t, &n))
        return -WORLD_E_SYNTAX;
    if (n == 0)
        return 0;
    const char *key = tstr(&t[0]);
    if (strcmp(key, "use") == 0) {
        for (int i = 1; i < n; i++)
            if (use_preset(p, tstr(&t[i]), depth))
                return -WORLD_E_SYNTAX;
        return 0;
    }
    switch (p->block) {
    case BLOCK_HOST:
        return host_key(p, key, t + 1, n - 1);
    case BLOCK_DOMAIN:
        return domain_key(p, key, t + 1, n - 1);
    case BLOCK_NAME:
        return node_key(p, node_find(p->w, p->cur_name), key, t + 1, n - 1);
    default:
        return fail(p, "indented line outside a block");
    }
}

static int parse(struct parser *p)
{
    char line[MAX_LINE];
    while (fgets(line, sizeof line, p->f)) {
        p->lineno++;
        size_t l = strlen(line);
        if (l == sizeof line - 1 && line[l - 1] != '\n')
            return fail(p, "line too long");
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '#')
            continue;
        if (s != line) {
            if (body_line(p, s, 0))
                return -WORLD_E_SYNTAX;
            continue;
        }
        struct token t[MAX_TOKENS];
        int n;
        if (tokenize(p, line, t, &n) || open_block(p, t, n))
            return -WORLD_E_SYNTAX;
    }
    return finish_block(p);
}

int world_load_scenario(const char *path, struct world **out, char *err, size_t errlen)
{
    struct world *w = calloc(1, sizeof *w);
    if (!w)
        return -WORLD_E_NOMEM;
    w->next_addr = 0x7f020001; /* 127.2.0.1: automatic host addresses */
    struct parser p = {.w = w, .path = path, .err = err, .errlen = errlen};
    p.f = fopen(path, "r");
    if (!p.f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(w);
        return -WORLD_E_IO;
    }
    int rc = parse(&p);
    fclose(p.f);
    for (size_t i = 0; i < p.npresets; i++) {
        for (size_t j = 0; j < p.presets[i].nlines; j++)
            free(p.presets[i].lines[j]);
        free(p.presets[i].lines);
    }
    free(p.presets);
    if (rc < 0) {
        world_free(w);
        return rc;
    }
    *out = w;
    return 0;
}
