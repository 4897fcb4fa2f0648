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
#include "scenario.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct genome {
    uint64_t index;
    char name[32]; /* "d" + up to 20 digits + ".example" */
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

static void genome(const struct world *w, uint64_t i, struct genome *g)
{
    uint64_t h0 = world_mix64(w->seed ^ world_mix64(i));
    uint64_t h1 = world_mix64(h0 + 1), h2 = world_mix64(h0 + 2), h3 = world_mix64(h0 + 3);
    memset(g, 0, sizeof *g);
    g->index = i;
    snprintf(g->name, sizeof g->name, WORLD_GEN_DOMAIN_FMT, i);
    g->id = (uint32_t)(h3 >> 32);

    unsigned r = (unsigned)(h0 % 100000);
    g->exists = true;
    if (r < 1500) {
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

static bool serves_policy(const struct genome *g)
{
    return g->sts == GEN_STS_POLICY_ONLY ||
           (g->sts == GEN_STS_RECORD && g->c != GEN_CASE_HOST_NXDOMAIN &&
            g->c != GEN_CASE_STS_SERVFAIL);
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
        h->drip_interval_ms = 5000;
        break;
    default:
        break;
    }
}

static void self_smtp(const struct genome *g, struct world_smtp *s)
{
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
    if (g->mx == GEN_MX_SELF)
        snprintf(name, sizeof name, "mx.%s", g->name);
    else if (own_policy)
        snprintf(name, sizeof name, "mta-sts.%s", g->name);
    else
        snprintf(name, sizeof name, "%s", g->name);
    world_host_defaults(out, name);
    out->addr = domain_addr(g);
    if (g->mx == GEN_MX_SELF || g->mx == GEN_MX_NONE)
        self_smtp(g, &out->smtp);
    else
        out->smtp.connect = WORLD_CONNECT_REFUSE; /* a web host, no mail server */
    if (own_policy)
        gen_policy(g, &out->https);
}

static bool is_off_or_bounce(const char *c)
{
    static const char *const benign[] = {"tlsrpt/", "mx-info/", "weak/", "dns-failure/"};
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
    d->verdict = "no-mta-sts";
    if (!g->exists)
        return;
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
        bool in_effect = g->c == GEN_CASE_VALID || g->c == GEN_CASE_MX_NOT_COVERED;
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
    if (split_domain(w, name, &pl, &idx) < 0)
        return -WORLD_E_NOTFOUND;
    return world_gen_domain(w, idx, out);
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
            snprintf(buf, sizeof buf, "mx.%s", g->name);
            rc = world_node_add_mx(out, 10, buf);
        } else if (g->mx == GEN_MX_NULL && rc == 0) {
            rc = world_node_add_mx(out, 0, "");
        }
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
        return domain_node(&g, qname, pl, out);
    }
    out->exists = false;
    return 0;
}

int world_generate(uint64_t n, uint64_t seed, struct world **out)
{
    if (n > WORLD_GEN_MAX_DOMAINS)
        return -WORLD_E_ARG;
    struct world *w = calloc(1, sizeof *w);
    if (!w)
        return -WORLD_E_NOMEM;
    w->generated = true;
    w->n = n;
    w->seed = seed;
    *out = w;
    return 0;
}
