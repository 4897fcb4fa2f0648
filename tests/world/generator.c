/*
 * The population generator: N domains, each derived from a hash of (seed, index).
 *
 * Why nothing is stored: benchmark worlds have up to ten million domains, and the DNS server
 * must answer for any of them in microseconds with memory that does not grow with N. So every
 * question (a DNS name, a host address, a domain's expected verdict) is answered by re-deriving
 * the domain's "genome" (a handful of choices drawn from the hash) and building the answer from
 * it. The same genome feeds the DNS records, the servers' behaviour and the ground truth, which
 * is what keeps them consistent. The mix imitates published measurements: about 3% of domains
 * publish an _mta-sts record, a third of those are misconfigured, mail is concentrated on a few
 * large providers, and TLS-RPT follows MTA-STS.
 */
#include "generator.h"
#include "dns_server.h"
#include "scenario.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A domain name may be 253 characters long (GEN_H_LONG_NAME), so names derived from it
   ("mta-sts.D", "mx.D") may not fit WORLD_NAME_MAX and are cut by snprintf; such names are
   over 255 octets and cannot exist in DNS, so nothing asks for them. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define ADDR_DOMAIN_BASE     0x7f020000u /* 127.2.0.0: domain i lives at base + i */
#define ADDR_PROVIDER(p, h)  (0x7f010000u | ((uint32_t)((p) + 1) << 8) | (h))
#define PROVIDER_POLICY_HOST 100

static const char *const providers[WORLD_GEN_NPROVIDERS] = {
    "bigmail.test",  "megamail.test", "postbox.test",  "mailcorp.test", "inboxhost.test",
    "mxprov06.test", "mxprov07.test", "mxprov08.test", "mxprov09.test", "mxprov10.test",
    "mxprov11.test", "mxprov12.test", "mxprov13.test", "mxprov14.test", "mxprov15.test",
    "mxprov16.test", "mxprov17.test", "mxprov18.test", "mxprov19.test", "mxprov20.test",
    "mxprov21.test", "mxprov22.test", "mxprov23.test", "mxprov24.test", "mxprov25.test"};

/* Share of all domains (per 100000) whose MX is each provider: the top five hold 61%. */
static const unsigned provider_weight[WORLD_GEN_NPROVIDERS] = {
    22000, 15000, 10000, 8000, 6000, 2642, 1320, 880, 660, 528, 440, 377, 330,
    293,   264,   240,   220,  203,  189,  176,  165, 155, 147, 139, 132};

#define PROVIDER_EXPIRED     16 /* mxprov17.test: expired certificates on both MX */
#define PROVIDER_NO_STARTTLS 20 /* mxprov21.test: no STARTTLS */
#define PROVIDER_TLSA        1  /* megamail.test publishes TLSA for its MX hosts */

enum gen_mx { GEN_MX_PROVIDER, GEN_MX_SELF, GEN_MX_NONE, GEN_MX_NULL };
enum gen_sts { GEN_STS_NONE, GEN_STS_RECORD, GEN_STS_POLICY_ONLY };
enum gen_mode { GEN_ENFORCE, GEN_TESTING, GEN_NONE };
enum gen_self {
    GEN_SELF_GOOD,
    GEN_SELF_NO_STARTTLS,
    GEN_SELF_SELF_SIGNED,
    GEN_SELF_EXPIRED,
    GEN_SELF_WRONG_NAME,
    GEN_SELF_UNTRUSTED,
    GEN_SELF_REFUSE
};
enum gen_rpt { GEN_RPT_NONE, GEN_RPT_VALID, GEN_RPT_INVALID, GEN_RPT_MULTIPLE };

enum gen_case {
    GEN_CASE_VALID,
    GEN_CASE_TXT_MULTIPLE,
    GEN_CASE_TXT_MISSING_ID,
    GEN_CASE_TXT_BAD_ID,
    GEN_CASE_TXT_SYNTAX,
    GEN_CASE_HOST_NXDOMAIN,
    GEN_CASE_REFUSED,
    GEN_CASE_CERT_NAME,
    GEN_CASE_CERT_EXPIRED,
    GEN_CASE_CERT_SELF_SIGNED,
    GEN_CASE_404,
    GEN_CASE_REDIRECT,
    GEN_CASE_HTML,
    GEN_CASE_BAD_MODE,
    GEN_CASE_MAX_AGE,
    GEN_CASE_NO_MX,
    GEN_CASE_MX_NOT_COVERED,
    GEN_CASE_STS_SERVFAIL,
    GEN_CASE_DRIP,
    GEN_CASE_COUNT
};

/* Misconfiguration cases: name, weight (per 1000 misconfigured domains), the category. */
static const struct {
    const char *name;
    unsigned weight;
    const char *category;
} cases[GEN_CASE_COUNT] = {
    [GEN_CASE_VALID] = {"valid", 0, NULL},
    [GEN_CASE_TXT_MULTIPLE] = {"txt-multiple", 40, "sts-txt-invalid/multiple-records"},
    [GEN_CASE_TXT_MISSING_ID] = {"txt-missing-id", 30, "sts-txt-invalid/missing-id"},
    [GEN_CASE_TXT_BAD_ID] = {"txt-bad-id", 40, "sts-txt-invalid/bad-id"},
    [GEN_CASE_TXT_SYNTAX] = {"txt-syntax", 30, "sts-txt-invalid/syntax"},
    [GEN_CASE_HOST_NXDOMAIN] = {"policy-host-nxdomain", 150,
                                "sts-policy-fetch-error/host-unresolvable"},
    [GEN_CASE_REFUSED] = {"policy-connect-refused", 60, "sts-policy-fetch-error/connect-refused"},
    [GEN_CASE_CERT_NAME] = {"policy-cert-name-mismatch", 120, "sts-webpki-invalid/name-mismatch"},
    [GEN_CASE_CERT_EXPIRED] = {"policy-cert-expired", 80, "sts-webpki-invalid/expired"},
    [GEN_CASE_CERT_SELF_SIGNED] = {"policy-cert-self-signed", 40, "sts-webpki-invalid/self-signed"},
    [GEN_CASE_404] = {"policy-http-404", 100, "sts-policy-fetch-error/http-status"},
    [GEN_CASE_REDIRECT] = {"policy-redirect", 40, "sts-policy-fetch-error/redirect"},
    [GEN_CASE_HTML] = {"policy-media-type-html", 40, "sts-policy-fetch-error/media-type"},
    [GEN_CASE_BAD_MODE] = {"policy-bad-mode", 20, "sts-policy-invalid/bad-mode"},
    [GEN_CASE_MAX_AGE] = {"policy-max-age-too-large", 30, "sts-policy-invalid/max-age-too-large"},
    [GEN_CASE_NO_MX] = {"policy-missing-mx", 20, "sts-policy-invalid/missing-mx"},
    [GEN_CASE_MX_NOT_COVERED] = {"mx-not-covered", 120, "validation-failure/mx-not-covered"},
    [GEN_CASE_STS_SERVFAIL] = {"dns-sts-servfail", 20, "dns-failure/sts-txt"},
    [GEN_CASE_DRIP] = {"policy-drip-timeout", 20, "sts-policy-fetch-error/timeout"},
};

/*
 * Hostile domains (--hostile RATIO): each is an ordinary genome (a provider or self-hosted MX,
 * often an _mta-sts record) with one hostile twist. The categories are what the twist adds to
 * the domain's expected ones; breaks_policy: the policy is not in effect (no MX refusals).
 */
enum gen_hostile {
    GEN_H_NONE,
    GEN_H_MX_ESCAPES,    /* MX target of three labels of 60 x 0x01 under D, with an A record */
    GEN_H_LONG_NAME,     /* the domain's own name has 243-253 characters */
    GEN_H_CNAME_LOOP,    /* _mta-sts.D CNAME loop-a.D, loop-a.D <-> loop-b.D */
    GEN_H_CNAME_CHAIN,   /* _mta-sts.D through 3-12 CNAMEs (over WORLD_CHAIN_MAX: SERVFAIL) */
    GEN_H_BIG_TXT,       /* about 3 KiB of unrelated TXT records at _mta-sts.D (TCP fallback) */
    GEN_H_EMPTY_POLICY,  /* 200, text/plain, no body */
    GEN_H_HUGE_POLICY,   /* a 4 MiB body */
    GEN_H_GZIP_BOMB,     /* Content-Encoding: gzip unasked, 32 MiB of zeros in ~32 KiB */
    GEN_H_POLICY_TARPIT, /* the policy host accepts, then never reads nor writes */
    GEN_H_POLICY_DRIP,   /* one byte every 4 s */
    GEN_H_POLICY_RESET,  /* reset in the middle of the body */
    GEN_H_SMTP_RESET,    /* the MX resets at the banner, EHLO, STARTTLS or in the handshake */
    GEN_H_SMTP_TARPIT,   /* the MX accepts and never reads nor writes, or stalls at EHLO */
    GEN_H_SMTP_GARBAGE,  /* the MX's banner is not SMTP, or never ends */
    GEN_H_LONG_CERT,     /* the policy certificate is for a 240-character other name */
    GEN_H_COUNT
};

#define NO_POLICY_FIELDS                                                                           \
    "sts-policy-invalid/missing-max-age", "sts-policy-invalid/missing-mode",                       \
        "sts-policy-invalid/missing-version"
static const struct {
    const char *name;
    const char *categories[8]; /* NULL-terminated */
    bool breaks_policy;
} hostile_cases[GEN_H_COUNT] = {
    [GEN_H_NONE] = {NULL, {NULL}, false},
    [GEN_H_MX_ESCAPES] = {"hostile-mx-escapes", {NULL}, false},
    /* _smtp._tls.D (and for 245+ characters _mta-sts.D) would pass 255 octets */
    [GEN_H_LONG_NAME] = {"hostile-long-name", {"dns-info/name-too-long"}, false},
    [GEN_H_CNAME_LOOP] = {"hostile-cname-loop", {NULL}, false},
    [GEN_H_CNAME_CHAIN] = {"hostile-cname-chain", {NULL}, false},
    [GEN_H_BIG_TXT] = {"hostile-big-txt", {NULL}, false},
    [GEN_H_EMPTY_POLICY] = {"hostile-empty-policy", {NO_POLICY_FIELDS, NULL}, true},
    [GEN_H_HUGE_POLICY] = {"hostile-huge-policy", {"sts-policy-fetch-error/too-large"}, true},
    /* decoded as senders decode it, the body passes the bound long before its end */
    [GEN_H_GZIP_BOMB] = {"hostile-gzip-bomb", {"sts-policy-fetch-error/too-large"}, true},
    [GEN_H_POLICY_TARPIT] = {"hostile-policy-tarpit", {"sts-policy-fetch-error/timeout"}, true},
    [GEN_H_POLICY_DRIP] = {"hostile-policy-drip", {"sts-policy-fetch-error/timeout"}, true},
    [GEN_H_POLICY_RESET] = {"hostile-policy-reset", {"sts-policy-fetch-error/reset"}, true},
    [GEN_H_SMTP_RESET] = {"hostile-smtp-reset", {"mx-info/smtp-error"}, false},
    [GEN_H_SMTP_TARPIT] = {"hostile-smtp-tarpit", {"mx-info/smtp-error"}, false},
    [GEN_H_SMTP_GARBAGE] = {"hostile-smtp-garbage", {"mx-info/smtp-error"}, false},
    [GEN_H_LONG_CERT] = {"hostile-long-cert", {"sts-webpki-invalid/name-mismatch"}, true},
};

/* One body byte this often: slower than any deadline, and never due at a multiple of 10 s
   (the tests' and the default fetch deadlines), so how many bytes arrived before the
   deadline does not depend on timing. */
#define DRIP_INTERVAL_MS 4000

#define HOSTILE_CHAIN_MIN  3
#define HOSTILE_CHAIN_SPAN 10 /* 3..12 links */
#define HOSTILE_HUGE_LEN   (4u << 20)
#define HOSTILE_BOMB_ZEROS (32u << 20)
#define HOSTILE_ESC_LABEL  60

struct genome {
    const struct world *w;
    uint64_t index;
    char name[WORLD_NAME_MAX]; /* "d%07u.example", or a longer name below it (GEN_H_LONG_NAME) */
    enum gen_hostile hostile;
    unsigned hparam; /* the twist's variant: chain length, fault stage... */
    bool exists;
    enum gen_mx mx;
    unsigned provider;
    enum gen_self self;
    enum gen_sts sts;
    enum gen_case c;
    enum gen_mode mode;
    unsigned max_age;
    bool crlf, wildcard, policy_delegated, txt_delegated, charset;
    enum gen_rpt rpt;
    uint32_t id;
};

/* A name of len characters: letter labels of up to 63 characters above "d%07u.example". */
static void long_name(struct genome *g, unsigned len, uint64_t h)
{
    char suffix[32];
    int sl = snprintf(suffix, sizeof suffix, WORLD_GEN_DOMAIN_FMT, g->index);
    size_t filler = len - (size_t)sl - 1;
    for (size_t j = 0; j < filler; j++) {
        h = world_mix64(h + j);
        g->name[j] = j % 64 == 63 && j + 1 < filler ? '.' : (char)('a' + h % 26);
    }
    g->name[filler] = '.';
    memcpy(g->name + filler + 1, suffix, (size_t)sl + 1);
}

/* Turn g into a hostile domain: a sound base (mail, often MTA-STS) and one twist. */
static void hostile_genome(struct genome *g, uint64_t h)
{
    g->hostile = (enum gen_hostile)(1 + (h >> 20) % (GEN_H_COUNT - 1));
    g->hparam = (unsigned)((h >> 40) % 1000);
    g->exists = true;
    g->policy_delegated = g->txt_delegated = false;
    g->rpt = GEN_RPT_NONE;
    g->sts = GEN_STS_RECORD;
    g->c = GEN_CASE_VALID;
    if (g->mx != GEN_MX_PROVIDER || g->provider == PROVIDER_EXPIRED ||
        g->provider == PROVIDER_NO_STARTTLS) {
        g->mx = GEN_MX_PROVIDER;
        g->provider = (unsigned)(h % 5);
    }
    switch (g->hostile) {
    case GEN_H_MX_ESCAPES:
    case GEN_H_SMTP_RESET:
    case GEN_H_SMTP_TARPIT:
    case GEN_H_SMTP_GARBAGE:
        g->mx = GEN_MX_SELF;
        g->self = GEN_SELF_GOOD;
        g->sts = GEN_STS_NONE;
        break;
    case GEN_H_LONG_NAME:
        g->sts = GEN_STS_NONE;
        long_name(g, 243 + g->hparam % 11, h);
        break;
    case GEN_H_CNAME_LOOP:
        g->c = GEN_CASE_STS_SERVFAIL;
        break;
    case GEN_H_CNAME_CHAIN:
        if (HOSTILE_CHAIN_MIN + g->hparam % HOSTILE_CHAIN_SPAN > WORLD_CHAIN_MAX)
            g->c = GEN_CASE_STS_SERVFAIL;
        break;
    default:
        break;
    }
}

static void genome(const struct world *w, uint64_t i, struct genome *g)
{
    uint64_t h0 = world_mix64(w->seed ^ world_mix64(i));
    uint64_t h1 = world_mix64(h0 + 1), h2 = world_mix64(h0 + 2), h3 = world_mix64(h0 + 3);
    memset(g, 0, sizeof *g);
    g->w = w;
    g->index = i;
    snprintf(g->name, sizeof g->name, WORLD_GEN_DOMAIN_FMT, i);
    g->id = (uint32_t)(h3 >> 32);

    unsigned r = (unsigned)(h0 % 100000);
    g->exists = true;
    if (r < 1500 && world_mix64(h0 + 4) % 1000000 >= w->hostile_ppm) {
        g->exists = false;
        return;
    }
    if (r < 2000) {
        g->mx = GEN_MX_NULL;
    } else if (r < 4500) {
        g->mx = GEN_MX_NONE;
    } else if (r < 29500) {
        g->mx = GEN_MX_SELF;
    } else {
        g->mx = GEN_MX_PROVIDER;
        unsigned acc = 29500, p = 0;
        while (p + 1 < WORLD_GEN_NPROVIDERS && r >= acc + provider_weight[p])
            acc += provider_weight[p++];
        g->provider = p;
    }
    unsigned s = (unsigned)((h0 >> 32) % 100);
    g->self = s < 80   ? GEN_SELF_GOOD
              : s < 86 ? GEN_SELF_NO_STARTTLS
              : s < 91 ? GEN_SELF_SELF_SIGNED
              : s < 94 ? GEN_SELF_EXPIRED
              : s < 97 ? GEN_SELF_WRONG_NAME
              : s < 99 ? GEN_SELF_UNTRUSTED
                       : GEN_SELF_REFUSE;

    bool has_mail = g->mx == GEN_MX_PROVIDER || g->mx == GEN_MX_SELF;
    unsigned r2 = (unsigned)(h1 % 100000);
    if (has_mail && r2 < 3000)
        g->sts = GEN_STS_RECORD;
    else if (has_mail && r2 < 3300)
        g->sts = GEN_STS_POLICY_ONLY;

    unsigned r3 = (unsigned)((h1 >> 32) % 1000);
    g->mode = GEN_ENFORCE;
    g->max_age = 1209600;
    if (g->sts == GEN_STS_RECORD && r3 < 333) {
        unsigned pick = (unsigned)(h2 % 1000), acc = 0;
        g->c = GEN_CASE_VALID;
        for (int c = 1; c < GEN_CASE_COUNT; c++) {
            acc += cases[c].weight;
            if (pick < acc) {
                g->c = (enum gen_case)c;
                break;
            }
        }
        if (g->c == GEN_CASE_MX_NOT_COVERED && (h2 >> 40) % 5 < 2) {
            g->mode = GEN_TESTING;
            g->max_age = 604800;
        }
    } else if (r3 < 700) {
        g->mode = GEN_ENFORCE;
        g->max_age = (h2 >> 40) % 10 == 0 ? 86400 : ((h2 >> 44) % 2 ? 31557600 : 1209600);
    } else if (r3 < 900) {
        g->mode = GEN_TESTING;
        g->max_age = 604800;
    } else {
        g->mode = GEN_NONE;
        g->max_age = 86400;
    }
    g->crlf = (h2 >> 50) & 1;
    g->wildcard = (h2 >> 51) & 1;
    g->charset = (h2 >> 52) & 1;
    if (g->mx == GEN_MX_PROVIDER && g->c != GEN_CASE_HOST_NXDOMAIN &&
        g->c != GEN_CASE_STS_SERVFAIL) {
        /* A shared policy host cannot refuse one domain's connections: it learns the
           domain from the SNI, after the connection is up. */
        g->policy_delegated = (h3 % 10) < 4 && g->c != GEN_CASE_REFUSED;
        g->txt_delegated = g->c == GEN_CASE_VALID && g->sts == GEN_STS_RECORD && (h3 % 10) == 9;
    }
    unsigned rr = (unsigned)((h3 >> 8) % 1000);
    bool want_rpt = g->sts != GEN_STS_NONE ? rr < 600 : rr < 20;
    if (want_rpt) {
        unsigned k = (unsigned)((h3 >> 20) % 100);
        g->rpt = k < 90 ? GEN_RPT_VALID : k < 97 ? GEN_RPT_INVALID : GEN_RPT_MULTIPLE;
    }
    uint64_t h4 = world_mix64(h0 + 4);
    if (h4 % 1000000 < w->hostile_ppm)
        hostile_genome(g, world_mix64(h4));
}

static int parse_domain_label(const struct world *w, const char *name, size_t len, uint64_t *idx)
{
    /* "d<digits>" exactly as WORLD_GEN_DOMAIN_FMT prints it */
    if (len < 8 || name[0] != 'd')
        return -1;
    uint64_t v = 0;
    for (size_t i = 1; i < len; i++) {
        if (name[i] < '0' || name[i] > '9' || v > UINT64_MAX / 10 - 10)
            return -1;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    if (v >= w->n || (len > 8 && name[1] == '0'))
        return -1;
    *idx = v;
    return 0;
}

/* Split name into (prefix, domain index) when it is a generated domain or below one. */
static int split_domain(const struct world *w, const char *name, size_t *prefix_len, uint64_t *idx)
{
    static const char suffix[] = ".example";
    size_t n = strlen(name), sl = sizeof suffix - 1;
    if (n <= sl || strcmp(name + n - sl, suffix) != 0)
        return -1;
    size_t end = n - sl, start = end;
    while (start > 0 && name[start - 1] != '.')
        start--;
    if (parse_domain_label(w, name + start, end - start, idx) < 0)
        return -1;
    *prefix_len = start; /* includes the dot before the domain label */
    return 0;
}

/* Where name sits relative to g's domain: 1 = the domain or below it (*prefix_len = the
   prefix with its dot), 0 = between the domain and "example" (only long names have such
   names), -1 = neither. */
static int below_domain(const struct genome *g, const char *name, size_t *prefix_len)
{
    size_t n = strlen(name), dn = strlen(g->name);
    if (n >= dn && strcmp(name + n - dn, g->name) == 0 && (n == dn || name[n - dn - 1] == '.')) {
        *prefix_len = n - dn;
        return 1;
    }
    if (dn > n && strcmp(g->name + dn - n, name) == 0 && g->name[dn - n - 1] == '.')
        return 0;
    return -1;
}

static int find_provider(const char *name, size_t *prefix_len)
{
    size_t n = strlen(name);
    for (unsigned p = 0; p < WORLD_GEN_NPROVIDERS; p++) {
        size_t pl = strlen(providers[p]);
        if (n == pl && strcmp(name, providers[p]) == 0) {
            *prefix_len = 0;
            return (int)p;
        }
        if (n > pl && name[n - pl - 1] == '.' && strcmp(name + n - pl, providers[p]) == 0) {
            *prefix_len = n - pl;
            return (int)p;
        }
    }
    return -1;
}

static struct in_addr addr_of(uint32_t host_order)
{
    struct in_addr a = {.s_addr = htonl(host_order)};
    return a;
}

static struct in_addr domain_addr(const struct genome *g)
{
    return addr_of(ADDR_DOMAIN_BASE + (uint32_t)g->index);
}

/* The policy body the domain publishes (before per-case damage). */
static size_t policy_body(const struct genome *g, unsigned char *out, size_t cap)
{
    const char *eol = g->crlf ? "\r\n" : "\n";
    const char *mode = g->mode == GEN_ENFORCE   ? "enforce"
                       : g->mode == GEN_TESTING ? "testing"
                                                : "none";
    if (g->c == GEN_CASE_BAD_MODE)
        mode = "enforcing";
    unsigned max_age = g->c == GEN_CASE_MAX_AGE ? 31557601 : g->max_age;
    int n = snprintf((char *)out, cap, "version: STSv1%smode: %s%s", eol, mode, eol);
    if (g->c == GEN_CASE_MX_NOT_COVERED) {
        n += snprintf((char *)out + n, cap - (size_t)n, "mx: mail.oldhost.example%s", eol);
    } else if (g->c != GEN_CASE_NO_MX && g->mx == GEN_MX_PROVIDER) {
        if (g->wildcard)
            n += snprintf((char *)out + n, cap - (size_t)n, "mx: *.%s%s", providers[g->provider],
                          eol);
        else
            n += snprintf((char *)out + n, cap - (size_t)n, "mx: mx1.%s%smx: mx2.%s%s",
                          providers[g->provider], eol, providers[g->provider], eol);
    } else if (g->c != GEN_CASE_NO_MX) {
        n += snprintf((char *)out + n, cap - (size_t)n, "mx: mx.%s%s", g->name, eol);
    }
    n += snprintf((char *)out + n, cap - (size_t)n, "max_age: %u%s", max_age, eol);
    return (size_t)n;
}

/* GEN_H_MX_ESCAPES: three labels of 0x01 bytes above the domain (WORLD_CTRL_CHAR in the
   model's names; "\\001" each in DNS presentation form). */
static void escaped_mx(const struct genome *g, char *out)
{
    size_t o = 0;
    for (unsigned l = 0; l < 3; l++) {
        memset(out + o, WORLD_CTRL_CHAR, HOSTILE_ESC_LABEL);
        o += HOSTILE_ESC_LABEL;
        out[o++] = '.';
    }
    snprintf(out + o, WORLD_NAME_MAX - o, "%s", g->name);
}

static bool serves_policy(const struct genome *g)
{
    return g->sts == GEN_STS_POLICY_ONLY ||
           (g->sts == GEN_STS_RECORD && g->c != GEN_CASE_HOST_NXDOMAIN &&
            g->c != GEN_CASE_STS_SERVFAIL);
}

/* The hostile policy hosts (bodies shared, owned by the world). */
static void hostile_policy(const struct genome *g, struct world_https *h)
{
    const struct world *w = g->w;
    switch (g->hostile) {
    case GEN_H_EMPTY_POLICY:
        h->body_len = 0;
        break;
    case GEN_H_HUGE_POLICY:
        h->body_ext = w->huge_body;
        h->body_len = w->huge_len;
        break;
    case GEN_H_GZIP_BOMB:
        h->body_ext = w->bomb_body;
        h->body_len = w->bomb_len;
        snprintf(h->content_encoding, sizeof h->content_encoding, "gzip");
        break;
    case GEN_H_POLICY_TARPIT:
        h->connect = WORLD_CONNECT_TARPIT;
        break;
    case GEN_H_POLICY_DRIP:
        h->speed = WORLD_SPEED_DRIP;
        h->drip_bytes = 1;
        h->drip_interval_ms = DRIP_INTERVAL_MS;
        break;
    case GEN_H_POLICY_RESET:
        h->speed = WORLD_SPEED_RESET;
        h->cut_after = h->body_len / 2;
        break;
    case GEN_H_LONG_CERT: {
        /* four labels: 63 + 63 + 63 + 48 characters, no name of the world */
        char *n = h->tls.cert_name;
        h->tls.cert = WORLD_CERT_WRONG_NAME;
        for (unsigned j = 0; j < 240; j++)
            n[j] = j % 64 == 63 ? '.' : (char)('a' + (g->index + j) % 26);
        n[240] = '\0';
        break;
    }
    default:
        break;
    }
}

static void gen_policy(const struct genome *g, struct world_https *h)
{
    char host[WORLD_NAME_MAX];
    snprintf(host, sizeof host, "mta-sts.%s", g->name);
    world_https_defaults(h, host);
    h->status = 200;
    snprintf(h->content_type, sizeof h->content_type, "%s",
             g->charset ? "text/plain; charset=utf-8" : "text/plain");
    h->body_len = policy_body(g, h->body_inline, sizeof h->body_inline);
    switch (g->c) {
    case GEN_CASE_REFUSED:
        h->connect = WORLD_CONNECT_REFUSE;
        break;
    case GEN_CASE_CERT_NAME:
        h->tls.cert = WORLD_CERT_WRONG_NAME;
        snprintf(h->tls.cert_name, sizeof h->tls.cert_name, "www.%s", g->name);
        break;
    case GEN_CASE_CERT_EXPIRED:
        h->tls.cert = WORLD_CERT_EXPIRED;
        break;
    case GEN_CASE_CERT_SELF_SIGNED:
        h->tls.cert = WORLD_CERT_SELF_SIGNED;
        break;
    case GEN_CASE_404: {
        static const char page[] = "<html><body>Not Found</body></html>\n";
        h->status = 404;
        snprintf(h->content_type, sizeof h->content_type, "text/html");
        memcpy(h->body_inline, page, sizeof page - 1);
        h->body_len = sizeof page - 1;
        break;
    }
    case GEN_CASE_REDIRECT:
        h->status = 301;
        snprintf(h->location, sizeof h->location, "https://www.%s/.well-known/mta-sts.txt",
                 g->name);
        h->body_len = 0;
        break;
    case GEN_CASE_HTML:
        snprintf(h->content_type, sizeof h->content_type, "text/html");
        break;
    case GEN_CASE_DRIP:
        h->speed = WORLD_SPEED_DRIP;
        h->drip_bytes = 1;
        h->drip_interval_ms = DRIP_INTERVAL_MS;
        break;
    default:
        break;
    }
    hostile_policy(g, h);
}

static void hostile_smtp(const struct genome *g, struct world_smtp *s)
{
    static const enum world_stage stages[] = {WORLD_STAGE_BANNER, WORLD_STAGE_EHLO,
                                              WORLD_STAGE_STARTTLS, WORLD_STAGE_HANDSHAKE};
    switch (g->hostile) {
    case GEN_H_SMTP_RESET:
        s->fault = WORLD_FAULT_RESET;
        s->fault_stage = stages[g->hparam % 4];
        break;
    case GEN_H_SMTP_TARPIT:
        if (g->hparam % 2)
            s->connect = WORLD_CONNECT_TARPIT;
        else
            s->fault = WORLD_FAULT_STALL, s->fault_stage = WORLD_STAGE_EHLO;
        break;
    case GEN_H_SMTP_GARBAGE:
        s->banner = g->hparam % 2 ? WORLD_BANNER_GARBAGE : WORLD_BANNER_ENDLESS;
        break;
    default:
        break;
    }
}

static void self_smtp(const struct genome *g, struct world_smtp *s)
{
    hostile_smtp(g, s);
    switch (g->self) {
    case GEN_SELF_GOOD:
        break;
    case GEN_SELF_NO_STARTTLS:
        s->starttls_offered = false;
        break;
    case GEN_SELF_SELF_SIGNED:
        s->tls.cert = WORLD_CERT_SELF_SIGNED;
        break;
    case GEN_SELF_EXPIRED:
        s->tls.cert = WORLD_CERT_EXPIRED;
        break;
    case GEN_SELF_WRONG_NAME:
        s->tls.cert = WORLD_CERT_WRONG_NAME;
        snprintf(s->tls.cert_name, sizeof s->tls.cert_name, "localhost.localdomain");
        break;
    case GEN_SELF_UNTRUSTED:
        s->tls.cert = WORLD_CERT_UNTRUSTED_CA;
        break;
    case GEN_SELF_REFUSE:
        s->connect = WORLD_CONNECT_REFUSE;
        break;
    }
}

static void provider_host(unsigned p, unsigned h, struct world_host *out)
{
    char name[WORLD_NAME_MAX];
    if (h == PROVIDER_POLICY_HOST)
        snprintf(name, sizeof name, "policy.%s", providers[p]);
    else
        snprintf(name, sizeof name, "mx%u.%s", h, providers[p]);
    world_host_defaults(out, name);
    out->addr = addr_of(ADDR_PROVIDER(p, h));
    if (p == PROVIDER_EXPIRED)
        out->smtp.tls.cert = WORLD_CERT_EXPIRED;
    if (p == PROVIDER_NO_STARTTLS)
        out->smtp.starttls_offered = false;
}

/* The per-domain host at 127.2.0.0 + index: self-hosted MX, own policy host, web apex. */
static void domain_host(const struct genome *g, struct world_host *out)
{
    char name[WORLD_NAME_MAX];
    bool own_policy = serves_policy(g) && !g->policy_delegated;
    if (g->hostile == GEN_H_MX_ESCAPES)
        escaped_mx(g, name);
    else if (g->mx == GEN_MX_SELF)
        snprintf(name, sizeof name, "mx.%s", g->name);
    else if (own_policy)
        snprintf(name, sizeof name, "mta-sts.%s", g->name);
    else
        snprintf(name, sizeof name, "%s", g->name);
    world_host_defaults(out, name);
    out->addr = domain_addr(g);
    if (g->hostile == GEN_H_MX_ESCAPES) {
        /* it announces and presents a printable name, not the name it is reached by */
        snprintf(out->smtp.hostname, sizeof out->smtp.hostname, "mx.%s", g->name);
        snprintf(out->smtp.tls.cert_name, sizeof out->smtp.tls.cert_name, "mx.%s", g->name);
    }
    if (g->mx == GEN_MX_SELF || g->mx == GEN_MX_NONE)
        self_smtp(g, &out->smtp);
    else
        out->smtp.connect = WORLD_CONNECT_REFUSE; /* a web host, no mail server */
    if (own_policy)
        gen_policy(g, &out->https);
}

static bool is_off_or_bounce(const char *c)
{
    static const char *const benign[] = {"tlsrpt/", "mx-info/", "weak/", "dns-failure/",
                                         "dns-info/"};
    for (size_t i = 0; i < sizeof benign / sizeof benign[0]; i++)
        if (strncmp(c, benign[i], strlen(benign[i])) == 0)
            return false;
    return true;
}

static void add_cat(struct world_domain *d, const char *c)
{
    for (unsigned i = 0; i < d->ncategories; i++)
        if (strcmp(d->categories[i], c) == 0)
            return;
    if (d->ncategories < WORLD_MAX_CATEGORIES)
        d->categories[d->ncategories++] = c;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The category of refusing MX host h (NULL: a compliant sender accepts it). */
static const char *mx_refusal(const struct world_host *h)
{
    const struct world_smtp *s = &h->smtp;
    if (s->connect != WORLD_CONNECT_ACCEPT)
        return NULL;
    if (!s->starttls_offered)
        return "starttls-not-supported/not-offered";
    switch (s->tls.cert) {
    case WORLD_CERT_EXPIRED:
        return "certificate-expired/mx";
    case WORLD_CERT_WRONG_NAME:
        return "certificate-host-mismatch/mx";
    case WORLD_CERT_SELF_SIGNED:
        return "certificate-not-trusted/self-signed";
    case WORLD_CERT_UNTRUSTED_CA:
        return "certificate-not-trusted/untrusted";
    default:
        return NULL;
    }
}

static void expectations(const struct genome *g, struct world_domain *d)
{
    d->case_name = g->sts == GEN_STS_POLICY_ONLY ? "policy-only"
                   : g->sts == GEN_STS_RECORD    ? cases[g->c].name
                   : g->exists                   ? "no-mta-sts"
                                                 : "nxdomain";
    if (g->sts == GEN_STS_RECORD && g->c == GEN_CASE_VALID)
        d->case_name = g->mode == GEN_ENFORCE   ? "valid-enforce"
                       : g->mode == GEN_TESTING ? "valid-testing"
                                                : "valid-none";
    if (g->hostile != GEN_H_NONE)
        d->case_name = hostile_cases[g->hostile].name;
    d->verdict = "no-mta-sts";
    if (!g->exists)
        return;
    if (g->hostile == GEN_H_SMTP_RESET && g->hparam % 4 == 0)
        add_cat(d, "mx-info/unreachable"); /* reset before the banner: a refusal */
    else
        for (const char *const *c = hostile_cases[g->hostile].categories; *c; c++)
            add_cat(d, *c);
    if (g->rpt == GEN_RPT_NONE)
        add_cat(d, "tlsrpt/absent");
    else if (g->rpt == GEN_RPT_INVALID)
        add_cat(d, "tlsrpt/invalid");
    else if (g->rpt == GEN_RPT_MULTIPLE)
        add_cat(d, "tlsrpt/multiple-records");
    if (g->mx == GEN_MX_NULL)
        add_cat(d, "mx-info/null-mx");
    if (g->mx == GEN_MX_NULL && g->rpt == GEN_RPT_VALID)
        add_cat(d, "tlsrpt/rua-undeliverable"); /* reports go to the domain itself */
    if (g->mx == GEN_MX_NONE)
        add_cat(d, "mx-info/implicit-mx");
    if ((g->mx == GEN_MX_SELF || g->mx == GEN_MX_NONE) && g->self == GEN_SELF_REFUSE)
        add_cat(d, "mx-info/unreachable");
    if (g->sts == GEN_STS_POLICY_ONLY)
        add_cat(d, "sts-policy-only/no-txt-record");
    if (g->sts == GEN_STS_RECORD) {
        if (cases[g->c].category)
            add_cat(d, cases[g->c].category);
        if (g->c == GEN_CASE_MX_NOT_COVERED)
            add_cat(d, "mx-info/pattern-unused");
        bool in_effect = (g->c == GEN_CASE_VALID || g->c == GEN_CASE_MX_NOT_COVERED) &&
                         !hostile_cases[g->hostile].breaks_policy;
        if (in_effect && g->mode != GEN_NONE) {
            if (g->mode == GEN_TESTING)
                add_cat(d, "weak/mode-testing");
            if (g->mode == GEN_ENFORCE && g->max_age < 604800)
                add_cat(d, "weak/max-age-below-week-enforce");
            unsigned refused = 0;
            for (unsigned i = 0; i < d->nmx; i++) {
                struct world_host h;
                const char *cat = NULL;
                if (g->mx == GEN_MX_PROVIDER)
                    provider_host(g->provider, i + 1, &h);
                else
                    domain_host(g, &h);
                cat = mx_refusal(&h);
                if (cat)
                    add_cat(d, cat);
                if (cat || g->c == GEN_CASE_MX_NOT_COVERED)
                    refused++;
            }
            d->would_bounce = g->mode == GEN_ENFORCE && d->nmx > 0 && refused == d->nmx;
        }
    }
    qsort(d->categories, d->ncategories, sizeof d->categories[0], cmp_str);
    bool off = false;
    for (unsigned i = 0; i < d->ncategories; i++)
        off = off || is_off_or_bounce(d->categories[i]);
    if (g->sts == GEN_STS_RECORD && g->c == GEN_CASE_STS_SERVFAIL)
        d->verdict = "indeterminate";
    else if (off)
        d->verdict = "misconfigured";
    else if (g->sts == GEN_STS_RECORD && g->mode == GEN_ENFORCE)
        /* The only MX refusing TCP takes no mail: nothing says the policy works. */
        d->verdict =
            g->mx == GEN_MX_SELF && g->self == GEN_SELF_REFUSE ? "indeterminate" : "valid-enforce";
    else if (g->sts == GEN_STS_RECORD)
        d->verdict = g->mode == GEN_TESTING ? "valid-testing" : "valid-none";
}

static void fill_domain(const struct genome *g, struct world_domain *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", g->name);
    d->index = g->index;
    gen_policy(g, &d->policy);
    if (g->mx == GEN_MX_PROVIDER) {
        for (unsigned i = 0; i < 2; i++) {
            d->mx[i].pref = (uint16_t)(10 * (i + 1));
            snprintf(d->mx[i].host, sizeof d->mx[i].host, "mx%u.%s", i + 1, providers[g->provider]);
        }
        d->nmx = 2;
    } else if (g->mx == GEN_MX_SELF) {
        d->mx[0].pref = 10;
        if (g->hostile == GEN_H_MX_ESCAPES)
            escaped_mx(g, d->mx[0].host);
        else
            snprintf(d->mx[0].host, sizeof d->mx[0].host, "mx.%s", g->name);
        d->nmx = 1;
    } else if (g->mx == GEN_MX_NULL) {
        d->mx[0].pref = 0;
        d->mx[0].host[0] = '\0';
        d->nmx = 1;
    }
    expectations(g, d);
}

int world_gen_domain(const struct world *w, uint64_t index, struct world_domain *out)
{
    if (index >= w->n)
        return -WORLD_E_NOTFOUND;
    struct genome g;
    genome(w, index, &g);
    fill_domain(&g, out);
    return 0;
}

int world_gen_domain_by_name(const struct world *w, const char *name, struct world_domain *out)
{
    size_t pl;
    uint64_t idx;
    struct genome g;
    if (split_domain(w, name, &pl, &idx) < 0)
        return -WORLD_E_NOTFOUND;
    genome(w, idx, &g);
    if (below_domain(&g, name, &pl) <= 0)
        return -WORLD_E_NOTFOUND;
    fill_domain(&g, out);
    return 0;
}

int world_gen_host_by_addr(const struct world *w, struct in_addr a, struct world_host *out)
{
    uint32_t h = ntohl(a.s_addr);
    if (h >= ADDR_DOMAIN_BASE) {
        uint64_t idx = h - ADDR_DOMAIN_BASE;
        if (idx >= w->n)
            return -WORLD_E_NOTFOUND;
        struct genome g;
        genome(w, idx, &g);
        if (!g.exists)
            return -WORLD_E_NOTFOUND;
        domain_host(&g, out);
        return 0;
    }
    if ((h >> 16) == 0x7f01) {
        unsigned p = ((h >> 8) & 0xff) - 1, host = h & 0xff;
        if (p < WORLD_GEN_NPROVIDERS && (host == 1 || host == 2 || host == PROVIDER_POLICY_HOST)) {
            provider_host(p, host, out);
            return 0;
        }
    }
    return -WORLD_E_NOTFOUND;
}

int world_gen_host_by_name(const struct world *w, const char *name, struct world_host *out)
{
    size_t pl;
    uint64_t idx;
    int p = find_provider(name, &pl);
    if (p >= 0) {
        if (pl == 4 && (strncmp(name, "mx1.", 4) == 0 || strncmp(name, "mx2.", 4) == 0)) {
            provider_host((unsigned)p, (unsigned)(name[2] - '0'), out);
            return 0;
        }
        if (pl == 7 && strncmp(name, "policy.", 7) == 0) {
            provider_host((unsigned)p, PROVIDER_POLICY_HOST, out);
            return 0;
        }
        return -WORLD_E_NOTFOUND;
    }
    if (split_domain(w, name, &pl, &idx) < 0)
        return -WORLD_E_NOTFOUND;
    struct genome g;
    genome(w, idx, &g);
    if (!g.exists)
        return -WORLD_E_NOTFOUND;
    domain_host(&g, out);
    return strcmp(out->name, name) == 0 ? 0 : -WORLD_E_NOTFOUND;
}

static int provider_node(unsigned p, const char *prefix, size_t pl, struct world_node *out)
{
    if (pl == 0)
        return 0; /* the provider's apex: exists, no records we publish */
    char label[WORLD_NAME_MAX];
    snprintf(label, sizeof label, "%.*s", (int)(pl - 1), prefix);
    if (strcmp(label, "mx1") == 0 || strcmp(label, "mx2") == 0)
        return world_node_add_a(out, addr_of(ADDR_PROVIDER(p, (unsigned)(label[2] - '0'))));
    if (strcmp(label, "policy") == 0)
        return world_node_add_a(out, addr_of(ADDR_PROVIDER(p, PROVIDER_POLICY_HOST)));
    if (strcmp(label, "_mta-sts") == 0) {
        char txt[64];
        snprintf(txt, sizeof txt, "v=STSv1; id=provider%u", p + 1);
        return world_node_add_txt_str(out, txt);
    }
    if (p == PROVIDER_TLSA &&
        (strcmp(label, "_25._tcp.mx1") == 0 || strcmp(label, "_25._tcp.mx2") == 0)) {
        unsigned char rd[3 + 32] = {3, 1, 1};
        for (unsigned i = 0; i < 32; i++)
            rd[3 + i] = (unsigned char)world_mix64(p * 64 + i + (unsigned)label[11]);
        return world_node_add(out, 52 /* TLSA */, rd, sizeof rd);
    }
    if (p == PROVIDER_TLSA && (strcmp(label, "_tcp.mx1") == 0 || strcmp(label, "_tcp.mx2") == 0))
        return 0;
    out->exists = false;
    return 0;
}

/* GEN_H_BIG_TXT: three unrelated TXT records of four 250-byte strings each (3 KiB, more
   than any UDP answer the world sends: the client must retry over TCP). */
static int big_txt(const struct genome *g, struct world_node *out)
{
    unsigned char str[250];
    const unsigned char *parts[4] = {str, str, str, str};
    size_t lens[4] = {sizeof str, sizeof str, sizeof str, sizeof str};
    for (unsigned r = 0; r < 3; r++) {
        int n = snprintf((char *)str, sizeof str, "site-verification-%u=", r);
        for (size_t j = (size_t)n; j < sizeof str; j++)
            str[j] = (unsigned char)('a' + (g->index + r + j) % 26);
        if (world_node_add_txt(out, parts, lens, 4) < 0)
            return -WORLD_E_NOMEM;
    }
    return 0;
}

/* The names only hostile domains have. 1: not one of them (the caller goes on), 0: out is
   filled, <0: error. */
static int hostile_node(const struct genome *g, const char *label, struct world_node *out)
{
    char buf[WORLD_NAME_MAX + 64];
    unsigned links = HOSTILE_CHAIN_MIN + g->hparam % HOSTILE_CHAIN_SPAN, k = 0;
    if (g->hostile == GEN_H_MX_ESCAPES) {
        escaped_mx(g, buf);
        if (strncmp(buf, label, strlen(label)) == 0 && buf[strlen(label)] == '.' &&
            strcmp(buf + strlen(label) + 1, g->name) == 0)
            return world_node_add_a(out, domain_addr(g));
    } else if (g->hostile == GEN_H_CNAME_LOOP) {
        const char *next = strcmp(label, "_mta-sts") == 0 || strcmp(label, "loop-b") == 0 ? "loop-a"
                           : strcmp(label, "loop-a") == 0                                 ? "loop-b"
                                                                                          : NULL;
        if (next) {
            snprintf(out->cname, sizeof out->cname, "%s.%s", next, g->name);
            return 0;
        }
    } else if (g->hostile == GEN_H_CNAME_CHAIN &&
               (strcmp(label, "_mta-sts") == 0 || sscanf(label, "chain-%u", &k) == 1)) {
        snprintf(buf, sizeof buf, "chain-%u", k);
        if (k > links || (k > 0 && strcmp(buf, label) != 0)) {
            out->exists = false;
            return 0;
        }
        if (k == links) {
            snprintf(buf, sizeof buf, "v=STSv1; id=%08" PRIx32, g->id);
            return world_node_add_txt_str(out, buf);
        }
        snprintf(out->cname, sizeof out->cname, "chain-%u.%s", k + 1, g->name);
        return 0;
    }
    return 1;
}

static int domain_node(const struct genome *g, const char *prefix, size_t pl,
                       struct world_node *out)
{
    char label[WORLD_NAME_MAX], buf[WORLD_NAME_MAX + 64];
    snprintf(label, sizeof label, "%.*s", pl ? (int)(pl - 1) : 0, prefix);
    if (!g->exists) {
        out->exists = false;
        return 0;
    }
    if (pl == 0) {
        int rc = world_node_add_a(out, domain_addr(g));
        if (g->mx == GEN_MX_PROVIDER) {
            for (unsigned i = 1; rc == 0 && i <= 2; i++) {
                snprintf(buf, sizeof buf, "mx%u.%s", i, providers[g->provider]);
                rc = world_node_add_mx(out, (uint16_t)(10 * i), buf);
            }
        } else if (g->mx == GEN_MX_SELF && rc == 0) {
            if (g->hostile == GEN_H_MX_ESCAPES)
                escaped_mx(g, buf);
            else
                snprintf(buf, sizeof buf, "mx.%s", g->name);
            rc = world_node_add_mx(out, 10, buf);
        } else if (g->mx == GEN_MX_NULL && rc == 0) {
            rc = world_node_add_mx(out, 0, "");
        }
        return rc;
    }
    if (g->hostile != GEN_H_NONE) {
        int rc = hostile_node(g, label, out);
        if (rc <= 0)
            return rc;
    }
    if (strcmp(label, "_mta-sts") == 0) {
        if (g->sts != GEN_STS_RECORD) {
            out->exists = false;
            return 0;
        }
        if (g->txt_delegated) {
            snprintf(out->cname, sizeof out->cname, "_mta-sts.%s", providers[g->provider]);
            return 0;
        }
        switch (g->c) {
        case GEN_CASE_STS_SERVFAIL:
            out->fault = WORLD_DNS_FAULT_SERVFAIL;
            return 0;
        case GEN_CASE_TXT_MULTIPLE:
            snprintf(buf, sizeof buf, "v=STSv1; id=%08" PRIx32 "a", g->id);
            if (world_node_add_txt_str(out, buf) < 0)
                return -WORLD_E_NOMEM;
            snprintf(buf, sizeof buf, "v=STSv1; id=%08" PRIx32, g->id);
            break;
        case GEN_CASE_TXT_MISSING_ID:
            snprintf(buf, sizeof buf, "v=STSv1;");
            break;
        case GEN_CASE_TXT_BAD_ID:
            snprintf(buf, sizeof buf, "v=STSv1; id=2024-01-%02" PRIu32, g->id % 28 + 1);
            break;
        case GEN_CASE_TXT_SYNTAX:
            snprintf(buf, sizeof buf, "v=STSv1 id=%08" PRIx32, g->id);
            break;
        default:
            snprintf(buf, sizeof buf, "v=STSv1; id=%08" PRIx32, g->id);
            break;
        }
        if (g->hostile == GEN_H_BIG_TXT && big_txt(g, out) < 0)
            return -WORLD_E_NOMEM;
        return world_node_add_txt_str(out, buf);
    }
    if (strcmp(label, "mta-sts") == 0) {
        if (!serves_policy(g)) {
            out->exists = false;
            return 0;
        }
        if (g->policy_delegated) {
            snprintf(out->cname, sizeof out->cname, "policy.%s", providers[g->provider]);
            return 0;
        }
        return world_node_add_a(out, domain_addr(g));
    }
    if (strcmp(label, "_smtp._tls") == 0 || strcmp(label, "_tls") == 0) {
        if (g->rpt == GEN_RPT_NONE) {
            out->exists = false;
            return 0;
        }
        if (label[1] == 't')
            return 0; /* empty non-terminal */
        if (g->rpt == GEN_RPT_INVALID)
            snprintf(buf, sizeof buf, "v=TLSRPTv1; rua=postmaster@%s", g->name);
        else
            snprintf(buf, sizeof buf, "v=TLSRPTv1; rua=mailto:tlsrpt@%s", g->name);
        int rc = world_node_add_txt_str(out, buf);
        if (rc == 0 && g->rpt == GEN_RPT_MULTIPLE) {
            snprintf(buf, sizeof buf, "v=TLSRPTv1; rua=mailto:reports@%s", g->name);
            rc = world_node_add_txt_str(out, buf);
        }
        return rc;
    }
    if (strcmp(label, "mx") == 0 && g->mx == GEN_MX_SELF)
        return world_node_add_a(out, domain_addr(g));
    out->exists = false;
    return 0;
}

int world_gen_node(const struct world *w, const char *qname, struct world_node *out)
{
    world_node_init(out, qname);
    if (qname[0] == '\0' || strcmp(qname, "example") == 0 || strcmp(qname, "test") == 0)
        return 0;
    size_t pl;
    uint64_t idx;
    int p = find_provider(qname, &pl);
    if (p >= 0)
        return provider_node((unsigned)p, qname, pl, out);
    if (split_domain(w, qname, &pl, &idx) == 0) {
        struct genome g;
        genome(w, idx, &g);
        int where = below_domain(&g, qname, &pl);
        if (where > 0)
            return domain_node(&g, qname, pl, out);
        out->exists = where == 0 && g.exists; /* an empty non-terminal above a long name */
        return 0;
    }
    out->exists = false;
    return 0;
}

/* The gzip bomb: HOSTILE_BOMB_ZEROS zero bytes, gzip-compressed (about 1000:1). */
static int make_bomb(struct world *w)
{
    unsigned char *zeros = calloc(1, HOSTILE_BOMB_ZEROS);
    z_stream z = {0};
    int rc = -WORLD_E_NOMEM;
    if (!zeros || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        goto out;
    uLong cap = deflateBound(&z, HOSTILE_BOMB_ZEROS);
    w->bomb_body = malloc(cap);
    if (w->bomb_body) {
        z.next_in = zeros;
        z.avail_in = HOSTILE_BOMB_ZEROS;
        z.next_out = w->bomb_body;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
            w->bomb_len = z.total_out;
            rc = 0;
        }
    }
    deflateEnd(&z);
out:
    free(zeros);
    return rc;
}

/* The huge policy: a valid-looking start, then comment-free filler lines. */
static int make_huge(struct world *w)
{
    static const char head[] = "version: STSv1\nmode: enforce\nmax_age: 86400\n";
    w->huge_body = malloc(HOSTILE_HUGE_LEN);
    if (!w->huge_body)
        return -WORLD_E_NOMEM;
    memcpy(w->huge_body, head, sizeof head - 1);
    for (size_t i = sizeof head - 1; i < HOSTILE_HUGE_LEN; i++)
        w->huge_body[i] = (i + 1) % 64 == 0 ? '\n' : 'x';
    w->huge_len = HOSTILE_HUGE_LEN;
    return 0;
}

int world_generate_hostile(uint64_t n, uint64_t seed, double hostile_ratio, struct world **out)
{
    if (n > WORLD_GEN_MAX_DOMAINS || !(hostile_ratio >= 0 && hostile_ratio <= 1))
        return -WORLD_E_ARG;
    struct world *w = calloc(1, sizeof *w);
    if (!w)
        return -WORLD_E_NOMEM;
    w->generated = true;
    w->n = n;
    w->seed = seed;
    w->hostile_ppm = (unsigned)(hostile_ratio * 1000000 + 0.5);
    if (w->hostile_ppm > 0 && (make_bomb(w) < 0 || make_huge(w) < 0)) {
        world_free(w);
        return -WORLD_E_NOMEM;
    }
    *out = w;
    return 0;
}

int world_generate(uint64_t n, uint64_t seed, struct world **out)
{
    return world_generate_hostile(n, seed, 0, out);
}
