/*
 * The ground-truth writer.
 *
 * Why it resolves names through the DNS server's own resolution code: the expected raw DNS
 * observations must be exactly what the server will answer (same CNAME chains, same record
 * order, same faults), so an integration test can compare them with what the scanner stored
 * without a second model of the DNS. The expected probe and fetch outcomes are derived from the
 * host behaviours the HTTPS and SMTP servers read, with the result names of
 * docs/record-schema.md. Verdicts and categories come from the model (scenario expectations or
 * the generator's rules).
 */
#include "truth.h"
#include "dns_server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define TYPE_A     1
#define TYPE_CNAME 5
#define TYPE_MX    15
#define TYPE_TXT   16
#define TYPE_AAAA  28
#define TYPE_TLSA  52

#define POLICY_SIZE_BOUND 65536

/* The body's length as a sender that decodes it sees it: a body sent pre-coded (`Content-
   Encoding: gzip` on gzip data) is inflated, counting at most one byte past the bound. */
static size_t decoded_len(const struct world_https *h)
{
    if (h->gzip || strcmp(h->content_encoding, "gzip") != 0)
        return h->body_len;
    unsigned char out[16384];
    size_t n = 0;
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return h->body_len;
    z.next_in = (unsigned char *)world_https_body(h);
    z.avail_in = (uInt)h->body_len;
    int rc = Z_OK;
    while (rc == Z_OK && n <= POLICY_SIZE_BOUND) {
        z.next_out = out;
        z.avail_out = sizeof out;
        rc = inflate(&z, Z_NO_FLUSH);
        n += sizeof out - z.avail_out;
    }
    inflateEnd(&z);
    return n;
}

static const char *type_name(uint16_t t)
{
    switch (t) {
    case TYPE_A:
        return "A";
    case TYPE_CNAME:
        return "CNAME";
    case TYPE_MX:
        return "MX";
    case TYPE_TXT:
        return "TXT";
    case TYPE_AAAA:
        return "AAAA";
    case TYPE_TLSA:
        return "TLSA";
    default:
        return "OTHER";
    }
}

/* JSON for bytes: a string when valid UTF-8 without NUL, else {"hex": "..."}. */
static json_t *bytes_json(const unsigned char *b, size_t len)
{
    if (!memchr(b, 0, len)) {
        json_t *s = json_stringn((const char *)b, len);
        if (s)
            return s;
    }
    char *hex = malloc(len * 2 + 1);
    if (!hex)
        return NULL;
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    json_t *o = json_pack("{s:s}", "hex", hex);
    free(hex);
    return o;
}

/* A name's DNS presentation form, as the scanner (ldns) writes it: bytes other than printable
   ASCII as "\\DDD", the specials "; ( ) \\" escaped with a backslash. raw is a model name
   (WORLD_CTRL_CHAR stands for the byte WORLD_CTRL_BYTE). */
#define PRESENT_MAX (4 * WORLD_NAME_MAX + 2)
static void present(const char *raw, char *out)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)raw; *p && o + 5 < PRESENT_MAX; p++) {
        unsigned char c = *p == WORLD_CTRL_CHAR ? WORLD_CTRL_BYTE : *p;
        if (c == '.')
            out[o++] = '.';
        else if (c == ';' || c == '(' || c == ')' || c == '\\')
            o += (size_t)snprintf(out + o, PRESENT_MAX - o, "\\%c", c);
        else if (c <= 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, PRESENT_MAX - o, "\\%03u", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Presentation form (with trailing dot) of an uncompressed wire name. */
static void wire_name(const unsigned char *p, size_t len, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    while (i < len && p[i] && o + p[i] + 2 < cap) {
        for (unsigned k = 0; k < p[i]; k++)
            out[o++] = p[i + 1 + k] == WORLD_CTRL_BYTE ? WORLD_CTRL_CHAR : (char)p[i + 1 + k];
        out[o++] = '.';
        i += 1u + p[i];
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
}

static json_t *rr_json(const struct world_node *n, uint16_t type, const unsigned char *rd,
                       size_t rdlen)
{
    char owner[PRESENT_MAX + 1], name[WORLD_NAME_MAX + 2], shown[PRESENT_MAX];
    present(n->name, shown);
    snprintf(owner, sizeof owner, "%s.", shown);
    json_t *o = json_pack("{s:s, s:s, s:i}", "name", owner, "type", type_name(type), "ttl", 300);
    if (!o)
        return NULL;
    switch (type) {
    case TYPE_A: {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, rd, a, sizeof a);
        json_object_set_new(o, "addr", json_string(a));
        break;
    }
    case TYPE_AAAA: {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, rd, a, sizeof a);
        json_object_set_new(o, "addr", json_string(a));
        break;
    }
    case TYPE_MX:
        wire_name(rd + 2, rdlen - 2, name, sizeof name);
        present(name, shown);
        json_object_set_new(o, "pref", json_integer(rd[0] << 8 | rd[1]));
        json_object_set_new(o, "host", json_string(shown));
        break;
    case TYPE_TXT: {
        json_t *arr = json_array();
        for (size_t i = 0; i < rdlen; i += 1u + rd[i])
            json_array_append_new(arr, bytes_json(rd + i + 1, rd[i]));
        json_object_set_new(o, "txt", arr);
        break;
    }
    case TYPE_TLSA: {
        char *s = malloc(rdlen * 2 + 16);
        if (!s)
            break;
        int l = snprintf(s, 16, "%u %u %u ", rd[0], rd[1], rd[2]);
        for (size_t i = 3; i < rdlen; i++)
            l += snprintf(s + l, 3, "%02x", rd[i]);
        json_object_set_new(o, "rdata", json_string(s));
        free(s);
        break;
    }
    default:
        break;
    }
    return o;
}

static json_t *obs_json(const struct world *w, const char *qname, uint16_t qtype,
                        struct world_resolution *r)
{
    char shown[PRESENT_MAX];
    present(qname, shown);
    if (strlen(qname) > 253) /* over 255 octets in wire form: no such name can be asked */
        return json_pack("{s:s, s:s, s:s, s:s}", "qname", shown, "qtype", type_name(qtype),
                         "result", "skipped", "why", "name-too-long");
    if (world_dns_resolve(w, qname, qtype, r) < 0)
        return json_pack("{s:s, s:s, s:s}", "qname", shown, "qtype", type_name(qtype), "result",
                         "error");
    static const char *const rcodes[] = {"NOERROR",  "NOERROR", "NXDOMAIN",
                                         "SERVFAIL", NULL,      "REFUSED"};
    json_t *o = json_pack("{s:s, s:s, s:s}", "qname", shown, "qtype", type_name(qtype), "result",
                          world_dns_result_name(r->result));
    if (rcodes[r->result])
        json_object_set_new(o, "rcode", json_string(rcodes[r->result]));
    if (r->truncate)
        json_object_set_new(o, "tcp", json_true());
    if (r->result != WORLD_DNS_ANSWER && r->result != WORLD_DNS_NODATA &&
        r->result != WORLD_DNS_NXDOMAIN)
        return o;
    json_t *ans = json_array();
    for (unsigned i = 0; i < r->nnodes; i++) {
        const struct world_node *n = &r->node[i];
        bool last = i + 1 == r->nnodes;
        if (n->cname[0] && (!last || qtype == TYPE_CNAME)) {
            char t[PRESENT_MAX + 1], owner[PRESENT_MAX];
            present(n->cname, shown);
            snprintf(t, sizeof t, "%s.", shown);
            present(n->name, owner);
            json_t *c = json_pack("{s:s+, s:s, s:i, s:s}", "name", owner, ".", "type", "CNAME",
                                  "ttl", 300, "target", t);
            json_array_append_new(ans, c);
        }
        if (!last || !n->exists)
            continue;
        for (unsigned k = 0; k < n->nrr; k++)
            if (n->rr[k].type == qtype)
                json_array_append_new(ans,
                                      rr_json(n, qtype, n->data + n->rr[k].off, n->rr[k].rdlen));
    }
    json_object_set_new(o, "answer", ans);
    return o;
}

static const char *verify_class(enum world_cert c)
{
    static const char *const names[WORLD_CERT_COUNT] = {
        "ok", "expired", "not-yet-valid", "name-mismatch", "self-signed", "untrusted"};
    return names[c];
}

/* Whether a leaf issued for cert_name is valid for name (RFC 6125: a wildcard stands for
   exactly one whole left-most label). */
static bool cert_covers(const char *cert_name, const char *name)
{
    if (strcasecmp(cert_name, name) == 0)
        return true;
    const char *dot = strchr(name, '.');
    return strncmp(cert_name, "*.", 2) == 0 && dot && dot != name &&
           strcasecmp(cert_name + 2, dot + 1) == 0;
}

/* Whether every label holds only letters, digits, '-' and '_': only such a name can be a TLS
   server name, so only then does the prober check the certificate's name (docs/smtp-probe.md). */
static bool is_hostname(const char *name)
{
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
           strlen(name);
}

/* The probe record a correct STARTTLS prober writes for this SMTP behaviour when it asks
   for mx_name (SNI and host name check). */
static json_t *probe_json(const char *addr, const char *mx_name, const struct world_smtp *s)
{
    const char *result = "ok", *stage = "done";
    const struct {
        enum world_stage st;
        const char *name;
    } stages[] = {{WORLD_STAGE_BANNER, "banner"},
                  {WORLD_STAGE_EHLO, "ehlo"},
                  {WORLD_STAGE_STARTTLS, "starttls"},
                  {WORLD_STAGE_HANDSHAKE, "handshake"}};
    const char *fault_stage = NULL;
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
        if (s->fault != WORLD_FAULT_NONE && s->fault_stage == stages[i].st)
            fault_stage = stages[i].name;
    const char *fault = s->fault == WORLD_FAULT_RESET ? "reset" : "timeout";
    if (s->connect == WORLD_CONNECT_REFUSE) {
        result = "connect-refused", stage = "connect";
    } else if (s->connect == WORLD_CONNECT_TIMEOUT) {
        result = "connect-timeout", stage = "connect";
    } else if (s->connect == WORLD_CONNECT_TARPIT) {
        result = "timeout", stage = "banner";
    } else if (s->fault == WORLD_FAULT_RESET && s->fault_stage == WORLD_STAGE_BANNER) {
        /* a reset before the first byte is a refusal to the client (it may even race the
           end of the TCP handshake): docs/smtp-probe.md */
        result = "connect-refused", stage = "connect";
    } else if (fault_stage && s->fault_stage == WORLD_STAGE_BANNER) {
        result = fault, stage = fault_stage;
    } else if (s->banner == WORLD_BANNER_4XX) {
        result = "banner-4xx", stage = "banner";
    } else if (s->banner == WORLD_BANNER_5XX) {
        result = "banner-5xx", stage = "banner";
    } else if (s->banner == WORLD_BANNER_NONE) {
        result = "timeout", stage = "banner";
    } else if (s->banner == WORLD_BANNER_GARBAGE) {
        result = "banner-malformed", stage = "banner";
    } else if (s->banner == WORLD_BANNER_ENDLESS) {
        result = "too-long", stage = "banner";
    } else if (fault_stage && s->fault_stage == WORLD_STAGE_EHLO) {
        result = fault, stage = fault_stage;
    } else if (s->ehlo_rejected) {
        result = "ehlo-rejected", stage = "ehlo";
    } else if (!s->starttls_offered) {
        result = "no-starttls", stage = "ehlo";
    } else if (fault_stage && s->fault_stage == WORLD_STAGE_STARTTLS) {
        result = fault, stage = fault_stage;
    } else if (s->starttls_rejected) {
        result = "starttls-rejected", stage = "starttls";
    } else if (fault_stage) {
        result = fault, stage = fault_stage;
    } else if (s->tls.alert) {
        result = "handshake-failed", stage = "handshake";
    }
    json_t *o = json_pack("{s:s, s:s, s:s}", "addr", addr, "result", result, "stage", stage);
    if (strcmp(result, "ok") == 0) {
        /* An MX name the leaf does not cover (a CNAME'd or implicit MX) is a mismatch. */
        const char *verify = s->tls.cert == WORLD_CERT_VALID && is_hostname(mx_name) &&
                                     !cert_covers(s->tls.cert_name, mx_name)
                                 ? "name-mismatch"
                                 : verify_class(s->tls.cert);
        json_object_set_new(o, "verify", json_string(verify));
        if (s->tls.max_version)
            json_object_set_new(o, "tls_max_version", json_integer(s->tls.max_version));
    }
    if (s->injection_len && strcmp(stage, "done") == 0)
        json_object_set_new(o, "injection", json_integer(s->injection_len));
    return o;
}

static bool special_addr(struct in_addr a)
{
    return (ntohl(a.s_addr) >> 24) != 127;
}

/* Addresses of an A resolution, as probes of the MX host mx_name. */
static json_t *probes_json(const struct world *w, const char *mx_name,
                           const struct world_resolution *r)
{
    json_t *arr = json_array();
    if (r->result != WORLD_DNS_ANSWER)
        return arr;
    const struct world_node *n = &r->node[r->nnodes - 1];
    for (unsigned k = 0; k < n->nrr; k++) {
        if (n->rr[k].type != TYPE_A)
            continue;
        struct in_addr a;
        memcpy(&a.s_addr, n->data + n->rr[k].off, 4);
        char as[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, as, sizeof as);
        if (special_addr(a)) {
            json_array_append_new(arr,
                                  json_pack("{s:s, s:s}", "addr", as, "skip", "special-address"));
            continue;
        }
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a};
        struct world_host h;
        if (world_lookup_host_by_addr(w, (const struct sockaddr *)&sin, &h) < 0) {
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "addr", as, "result",
                                                 "connect-refused", "stage", "connect"));
            continue;
        }
        json_array_append_new(arr, probe_json(as, mx_name, &h.smtp));
    }
    return arr;
}

/* The first AAAA address of a resolution as text; false when there is none. */
static bool first_aaaa(const struct world_resolution *r, char *out, size_t len)
{
    if (r->result != WORLD_DNS_ANSWER)
        return false;
    const struct world_node *n = &r->node[r->nnodes - 1];
    for (unsigned k = 0; k < n->nrr; k++)
        if (n->rr[k].type == TYPE_AAAA)
            return inet_ntop(AF_INET6, n->data + n->rr[k].off, out, (socklen_t)len) != NULL;
    return false;
}

/* The scan runs without --ipv6: every AAAA address is listed after the IPv4 ones, skipped. */
static void append_v6_skips(json_t *probes, const struct world_resolution *r)
{
    if (r->result != WORLD_DNS_ANSWER)
        return;
    const struct world_node *n = &r->node[r->nnodes - 1];
    for (unsigned k = 0; k < n->nrr; k++) {
        char as[INET6_ADDRSTRLEN];
        if (n->rr[k].type == TYPE_AAAA &&
            inet_ntop(AF_INET6, n->data + n->rr[k].off, as, sizeof as))
            json_array_append_new(probes,
                                  json_pack("{s:s, s:s}", "addr", as, "skip", "ipv6-disabled"));
    }
}

static json_t *mx_host_json(const struct world *w, uint16_t pref, const char *host, bool implicit,
                            struct world_resolution *r)
{
    char shown[PRESENT_MAX];
    present(host, shown);
    json_t *o = json_pack("{s:i, s:s, s:b}", "pref", pref, "host", shown, "implicit", implicit);
    json_object_set_new(o, "a", obs_json(w, host, TYPE_A, r));
    json_t *probes = probes_json(w, host, r);
    json_object_set_new(o, "aaaa", obs_json(w, host, TYPE_AAAA, r));
    append_v6_skips(probes, r);
    json_object_set_new(o, "probes", probes);
    return o;
}

static json_t *mx_list_json(const struct world *w, const struct world_domain *d,
                            struct world_resolution *r)
{
    json_t *arr = json_array();
    if (world_dns_resolve(w, d->name, TYPE_MX, r) < 0)
        return arr;
    if (r->result == WORLD_DNS_NODATA) {
        json_array_append_new(arr, mx_host_json(w, 0, d->name, true, r));
        return arr;
    }
    if (r->result != WORLD_DNS_ANSWER)
        return arr;
    /* copy the MX set out: resolving the hosts reuses r */
    struct mx_rec {
        uint16_t pref;
        char host[WORLD_NAME_MAX + 2];
    } mx[WORLD_NODE_MAX_RR];
    unsigned nmx = 0;
    const struct world_node *n = &r->node[r->nnodes - 1];
    for (unsigned k = 0; k < n->nrr; k++) {
        if (n->rr[k].type != TYPE_MX)
            continue;
        const unsigned char *rd = n->data + n->rr[k].off;
        mx[nmx].pref = (uint16_t)(rd[0] << 8 | rd[1]);
        wire_name(rd + 2, n->rr[k].rdlen - 2u, mx[nmx].host, sizeof mx[nmx].host);
        size_t l = strlen(mx[nmx].host);
        if (l > 1)
            mx[nmx].host[l - 1] = '\0'; /* normalised host: no trailing dot */
        if (strcmp(mx[nmx].host, ".") != 0)
            nmx++; /* the null MX "0 ." names no host */
    }
    /* preference order, stable */
    for (unsigned i = 1; i < nmx; i++)
        for (unsigned j = i; j > 0 && mx[j - 1].pref > mx[j].pref; j--) {
            struct mx_rec t = mx[j];
            mx[j] = mx[j - 1];
            mx[j - 1] = t;
        }
    for (unsigned i = 0; i < nmx; i++)
        json_array_append_new(arr, mx_host_json(w, mx[i].pref, mx[i].host, false, r));
    return arr;
}

static json_t *policy_json(const struct world *w, const struct world_domain *d, bool txt,
                           struct world_resolution *r)
{
    char host[WORLD_NAME_MAX + 16];
    snprintf(host, sizeof host, "mta-sts.%s", d->name);
    char v6[INET6_ADDRSTRLEN];
    if (world_dns_resolve(w, host, TYPE_AAAA, r) < 0)
        return NULL;
    bool has_v6 = first_aaaa(r, v6, sizeof v6);
    if (world_dns_resolve(w, host, TYPE_A, r) < 0)
        return NULL;
    bool resolves = r->result == WORLD_DNS_ANSWER;
    if (!txt && !resolves && !has_v6)
        return NULL;
    char url[WORLD_NAME_MAX + 64];
    snprintf(url, sizeof url, "https://%s/.well-known/mta-sts.txt", host);
    json_t *o = json_pack("{s:s, s:s}", "url", url, "why", txt ? "txt" : "policy-only");
    const char *result = NULL;
    if ((r->result == WORLD_DNS_NXDOMAIN || r->result == WORLD_DNS_NODATA) && has_v6) {
        /* IPv6 only, and the scan does not use IPv6. */
        json_object_set_new(o, "addr", json_string(v6));
        result = "ipv6-disabled";
    } else if (r->result == WORLD_DNS_NXDOMAIN || r->result == WORLD_DNS_NODATA)
        result = "no-address";
    else if (r->result != WORLD_DNS_ANSWER)
        result = "dns-failure";
    struct in_addr a = {0};
    if (!result) {
        const struct world_node *n = &r->node[r->nnodes - 1];
        for (unsigned k = 0; k < n->nrr; k++)
            if (n->rr[k].type == TYPE_A) {
                memcpy(&a.s_addr, n->data + n->rr[k].off, 4);
                break;
            }
        char as[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, as, sizeof as);
        json_object_set_new(o, "addr", json_string(as));
        if (special_addr(a))
            result = "special-address";
    }
    if (result) {
        json_object_set_new(o, "result", json_string(result));
        return o;
    }
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a};
    struct world_https h;
    if (world_lookup_https(w, (const struct sockaddr *)&sin, host, &h) < 0) {
        json_object_set_new(o, "result", json_string("connect-refused"));
        return o;
    }
    if (h.connect == WORLD_CONNECT_REFUSE)
        result = "connect-refused";
    else if (h.connect == WORLD_CONNECT_TIMEOUT)
        result = "connect-timeout";
    else if (h.connect == WORLD_CONNECT_TARPIT)
        result = "timeout";
    else if (h.tls.alert)
        result = "tls-failure";
    else if (h.tls.cert != WORLD_CERT_VALID)
        result = "cert-invalid";
    if (h.connect == WORLD_CONNECT_ACCEPT && !h.tls.alert)
        json_object_set_new(o, "verify", json_string(verify_class(h.tls.cert)));
    if (result) {
        json_object_set_new(o, "result", json_string(result));
        return o;
    }
    json_object_set_new(o, "http_status", json_integer(h.status));
    if (h.content_type[0])
        json_object_set_new(o, "content_type", json_string(h.content_type));
    if (h.location[0])
        json_object_set_new(o, "location", json_string(h.location));
    if (h.gzip)
        json_object_set_new(o, "content_encoding", json_string("gzip"));
    else if (h.content_encoding[0])
        json_object_set_new(o, "content_encoding", json_string(h.content_encoding));
    if (h.speed == WORLD_SPEED_DRIP || h.speed == WORLD_SPEED_STALL)
        result = "timeout";
    else if (h.speed == WORLD_SPEED_RESET)
        result = "reset";
    else if (h.status >= 300 && h.status < 400)
        result = "redirect";
    else if (h.status != 200)
        result = "http-status";
    else if (decoded_len(&h) > POLICY_SIZE_BOUND)
        result = "too-large";
    else
        result = "ok";
    json_object_set_new(o, "result", json_string(result));
    if (strcmp(result, "ok") == 0 || strcmp(result, "http-status") == 0) {
        unsigned char md[32];
        unsigned int mdlen = 0;
        char hex[65];
        EVP_Digest(world_https_body(&h), h.body_len, md, &mdlen, EVP_sha256(), NULL);
        for (unsigned i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        json_object_set_new(o, "body",
                            json_pack("{s:s, s:I}", "sha256", hex, "len", (json_int_t)h.body_len));
    }
    return o;
}

static json_t *domain_json(const struct world *w, const struct world_domain *d,
                           struct world_resolution *r)
{
    char name[WORLD_NAME_MAX + 32];
    json_t *o = json_pack("{s:s, s:s, s:s}", "domain", d->name, "case",
                          d->case_name ? d->case_name : "", "verdict", d->verdict);
    json_t *cats = json_array();
    for (unsigned i = 0; i < d->ncategories; i++)
        json_array_append_new(cats, json_string(d->categories[i]));
    json_object_set_new(o, "categories", cats);
    json_object_set_new(o, "would_bounce", json_boolean(d->would_bounce));
    json_t *dns = json_object();
    snprintf(name, sizeof name, "_mta-sts.%s", d->name);
    json_t *sts = obs_json(w, name, TYPE_TXT, r);
    bool txt = strcmp(json_string_value(json_object_get(sts, "result")), "answer") == 0;
    json_object_set_new(dns, "sts", sts);
    json_object_set_new(dns, "mx", obs_json(w, d->name, TYPE_MX, r));
    snprintf(name, sizeof name, "_smtp._tls.%s", d->name);
    json_object_set_new(dns, "tlsrpt", obs_json(w, name, TYPE_TXT, r));
    snprintf(name, sizeof name, "mta-sts.%s", d->name);
    json_object_set_new(dns, "policy_a", obs_json(w, name, TYPE_A, r));
    json_object_set_new(dns, "policy_aaaa", obs_json(w, name, TYPE_AAAA, r));
    json_object_set_new(o, "dns", dns);
    json_object_set_new(o, "mx", mx_list_json(w, d, r));
    json_t *pol = policy_json(w, d, txt, r);
    if (pol)
        json_object_set_new(o, "policy", pol);
    return o;
}

int world_truth_write(const struct world *w, FILE *out)
{
    struct world_resolution *r = malloc(sizeof *r);
    struct world_domain *d = malloc(sizeof *d);
    int rc = 0;
    if (!r || !d) {
        rc = -WORLD_E_NOMEM;
        goto done;
    }
    /* one reusable buffer per line: json_dumpf writes token by token, far slower */
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    uint64_t n = world_domain_count(w);
    for (uint64_t i = 0; i < n && rc == 0 && buf; i++) {
        if (world_domain_at(w, i, d) < 0) {
            rc = -WORLD_E_NOMEM;
            break;
        }
        json_t *o = domain_json(w, d, r);
        size_t len = o ? json_dumpb(o, buf, cap - 1, JSON_COMPACT) : 0;
        if (len >= cap - 1) {
            char *nb = realloc(buf, len + 2);
            if (nb) {
                buf = nb;
                cap = len + 2;
                len = json_dumpb(o, buf, cap - 1, JSON_COMPACT);
            }
        }
        if (!o || len == 0 || len >= cap - 1)
            rc = -WORLD_E_NOMEM;
        else if (buf[len] = '\n', fwrite(buf, 1, len + 1, out) != len + 1)
            rc = -WORLD_E_IO;
        json_decref(o);
    }
    if (!buf)
        rc = -WORLD_E_NOMEM;
    free(buf);
    if (rc == 0 && fflush(out) != 0)
        rc = -WORLD_E_IO;
done:
    free(r);
    free(d);
    return rc;
}

int world_list_write(const struct world *w, FILE *out)
{
    struct world_domain *d = malloc(sizeof *d);
    if (!d)
        return -WORLD_E_NOMEM;
    uint64_t n = world_domain_count(w);
    int rc = 0;
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        if (world_domain_at(w, i, d) < 0 || fprintf(out, "%s\n", d->name) < 0)
            rc = -WORLD_E_IO;
    }
    if (rc == 0 && fflush(out) != 0)
        rc = -WORLD_E_IO;
    free(d);
    return rc;
}
