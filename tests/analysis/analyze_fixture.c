/*
 * Writes the stores the mtasts-analyze tests read: hand-made raw records (docs/record-
 * schema.md) covering several categories, a second scan of the same domains for diff, and
 * the first scan split over two shard stores. Records go through the real writer, so the
 * tests read exactly what a scan would leave. DIR/hostile holds scans h1 and h2 (the same
 * records) of every record the analysis must survive: bodies missing or damaged, another
 * record version, fields of the wrong type, an undecodable value (written raw), and
 * strings with terminal escapes and spreadsheet formulas.
 *
 * usage: analyze_fixture DIR   (creates DIR/one, DIR/shard0, DIR/shard1, DIR/hostile,
 *                               DIR/recheck, DIR/many)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../output/util.h"
#include "mts_writer.h"

#define HOSTILE "<script>alert(1)</script>\"><img src=x onerror=alert(2)>"

struct dom {
    const char *name;
    const char *sts_result; /* "answer" (with txt), "nxdomain", "servfail" */
    const char *txt;
    const char *fetch; /* NULL: no fetch; else FETCHOBS result */
    const char *body;  /* policy body when fetch is "ok" */
    const char *mx_host;
    const char *verify; /* MX certificate verdict */
    bool tlsrpt;
};

static json_t *dnsobs(const char *qname, const char *qtype, const char *result, json_t *answer)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s}", "qname", qname, "qtype", qtype, "result", result, "rcode",
                  strcmp(result, "servfail") == 0   ? "SERVFAIL"
                  : strcmp(result, "nxdomain") == 0 ? "NXDOMAIN"
                                                    : "NOERROR");
    if (answer)
        json_object_set_new(o, "answer", answer);
    return o;
}

static json_t *txt_answer(const char *name, const char *txt)
{
    return json_pack("[{s:s, s:s, s:i, s:[s]}]", "name", name, "type", "TXT", "ttl", 300, "txt",
                     txt);
}

static void sha256(const char *body, unsigned char out[32], char hex[65])
{
    unsigned int len = 32;
    EVP_Digest(body, strlen(body), out, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

static void put_probe(struct mts_writer *w, const char *scan, const struct dom *d)
{
    mts_writer_put_mxprobe(
        w, scan, d->mx_host, "192.0.2.25",
        json_pack("{s:i, s:s, s:s, s:s, s:i, s:s, s:s, s:[s], s:[s], s:{s:s, s:s, s:s}}", "v", 1,
                  "scan", scan, "host", d->mx_host, "addr", "192.0.2.25", "port", 25, "result",
                  "ok", "stage", "done", "banner", "220 " HOSTILE, "capabilities", "STARTTLS",
                  "tls", "version", "TLSv1.3", "verify", d->verify, "sni", d->mx_host));
}

/* A domain record; location: a redirect's target (NULL: one with HOSTILE); store_body:
   false leaves the policy body out of the store. */
static void put_with(struct mts_writer *w, const char *scan, const struct dom *d,
                     const char *location, bool store_body)
{
    char q[300];
    json_t *dns = json_object();
    snprintf(q, sizeof q, "_mta-sts.%s", d->name);
    json_object_set_new(dns, "sts",
                        dnsobs(q, "TXT", d->sts_result, d->txt ? txt_answer(q, d->txt) : NULL));
    json_object_set_new(dns, "mx",
                        dnsobs(d->name, "MX", "answer",
                               json_pack("[{s:s, s:s, s:i, s:i, s:s}]", "name", d->name, "type",
                                         "MX", "ttl", 300, "pref", 10, "host", d->mx_host)));
    snprintf(q, sizeof q, "_smtp._tls.%s", d->name);
    json_object_set_new(dns, "tlsrpt",
                        d->tlsrpt ? dnsobs(q, "TXT", "answer",
                                           txt_answer(q, "v=TLSRPTv1; rua=mailto:r@example.net"))
                                  : dnsobs(q, "TXT", "nxdomain", NULL));
    snprintf(q, sizeof q, "mta-sts.%s", d->name);
    json_object_set_new(dns, "policy_a",
                        dnsobs(q, "A", "answer",
                               json_pack("[{s:s, s:s, s:i, s:s}]", "name", q, "type", "A", "ttl",
                                         300, "addr", "192.0.2.80")));
    json_t *rec =
        json_pack("{s:i, s:s, s:s, s:o}", "v", 1, "scan", scan, "domain", d->name, "dns", dns);
    json_object_set_new(rec, "mx",
                        json_pack("[{s:i, s:s, s:b, s:o, s:[{s:s}]}]", "pref", 10, "host",
                                  d->mx_host, "implicit", 0, "a",
                                  dnsobs(d->mx_host, "A", "answer",
                                         json_pack("[{s:s, s:s, s:i, s:s}]", "name", d->mx_host,
                                                   "type", "A", "ttl", 300, "addr", "192.0.2.25")),
                                  "probes", "addr", "192.0.2.25"));
    if (d->fetch) {
        json_t *f = json_pack("{s:s, s:s, s:s}", "url", "https://mta-sts/.well-known/mta-sts.txt",
                              "why", "txt", "result", d->fetch);
        if (strcmp(d->fetch, "ok") == 0) {
            unsigned char digest[32];
            char hex[65];
            sha256(d->body, digest, hex);
            if (store_body)
                mts_writer_put_policy(w, digest, d->body, strlen(d->body));
            json_object_set_new(f, "http_status", json_integer(200));
            json_object_set_new(f, "content_type", json_string("text/plain"));
            json_object_set_new(f, "body",
                                json_pack("{s:s, s:I, s:b}", "sha256", hex, "len",
                                          (json_int_t)strlen(d->body), "truncated", 0));
            json_object_set_new(f, "tls",
                                json_pack("{s:s, s:s}", "version", "TLSv1.3", "verify", "ok"));
        } else if (strcmp(d->fetch, "http-status") == 0) {
            /* the scanner hashes whatever body came: here an error page, not a policy */
            static const char page[] = "<html><body>Not Found</body></html>";
            unsigned char digest[32];
            char hex[65];
            sha256(page, digest, hex);
            json_object_set_new(f, "http_status", json_integer(404));
            json_object_set_new(f, "content_type", json_string("text/html"));
            json_object_set_new(f, "body",
                                json_pack("{s:s, s:I, s:b}", "sha256", hex, "len",
                                          (json_int_t)strlen(page), "truncated", 0));
        } else if (strcmp(d->fetch, "redirect") == 0) {
            json_object_set_new(f, "http_status", json_integer(301));
            json_object_set_new(f, "location",
                                json_string(location ? location : "https://www.example/" HOSTILE));
        }
        json_object_set_new(rec, "policy", f);
    }
    mts_writer_put_domain(w, scan, d->name, rec);
}

static void put(struct mts_writer *w, const char *scan, const struct dom *d)
{
    put_with(w, scan, d, NULL, true);
}

#define ENFORCE(mx) "version: STSv1\r\nmode: enforce\r\nmx: " mx "\r\nmax_age: 604800\r\n"

static const struct dom scan1[] = {
    {"bounce.example", "answer", "v=STSv1; id=1", "ok", ENFORCE("mx.other.example"),
     "mx.bounce.example", "ok", false},
    {"good.example", "answer", "v=STSv1; id=1", "ok", ENFORCE("mx.provider.net"), "mx.provider.net",
     "ok", true},
    {"hostile.example", "answer", "v=STSv1; id=1", "ok", ENFORCE(HOSTILE), "mx." HOSTILE ".example",
     "ok", false},
    {"indet.example", "servfail", NULL, NULL, NULL, "mx.provider.net", "ok", false},
    {"none.example", "nxdomain", NULL, NULL, NULL, "mx.provider.net", "ok", true},
    {"redirect.example", "answer", "v=STSv1; id=1", "redirect", NULL, "mx.provider.net", "ok",
     false},
    {"testing.example", "answer", "v=STSv1; id=1", "ok",
     "version: STSv1\r\nmode: testing\r\nmx: mx.provider.net\r\nmax_age: 86400\r\n",
     "mx.provider.net", "ok", false},
};

/* The re-check: redirect fixed, good broken (MX certificate expired under a new body with
 * the same id), testing moved to enforce with a new id, indet gone, fresh added. */
static const struct dom scan2[] = {
    {"bounce.example", "answer", "v=STSv1; id=1", "ok", ENFORCE("mx.other.example"),
     "mx.bounce.example", "ok", false},
    {"fresh.example", "nxdomain", NULL, NULL, NULL, "mx.provider.net", "ok", false},
    {"good.example", "answer", "v=STSv1; id=1", "ok", ENFORCE("mx.good2.example"),
     "mx.good2.example", "expired", true},
    {"hostile.example", "answer", "v=STSv1; id=1", "ok", ENFORCE(HOSTILE), "mx." HOSTILE ".example",
     "ok", false},
    {"none.example", "nxdomain", NULL, NULL, NULL, "mx.provider.net", "ok", true},
    {"redirect.example", "answer", "v=STSv1; id=1", "ok", ENFORCE("mx.provider.net"),
     "mx.provider.net", "ok", false},
    {"testing.example", "answer", "v=STSv1; id=2", "ok", ENFORCE("mx.provider.net"),
     "mx.provider.net", "ok", false},
};

/* A re-check where the policy URL went from a policy to a 404 page and back, the id kept:
 * the fetch error is fixed or new, and no body changed (an error page is not a policy). */
static const struct dom recheck1[] = {
    {"from404.example", "answer", "v=STSv1; id=1", "http-status", NULL, "mx.provider.net", "ok",
     false},
    {"to404.example", "answer", "v=STSv1; id=1", "ok", ENFORCE("mx.provider.net"),
     "mx.provider.net", "ok", false},
};
static const struct dom recheck2[] = {
    {"from404.example", "answer", "v=STSv1; id=1", "ok", ENFORCE("mx.provider.net"),
     "mx.provider.net", "ok", false},
    {"to404.example", "answer", "v=STSv1; id=1", "http-status", NULL, "mx.provider.net", "ok",
     false},
};

#define N(a) (sizeof a / sizeof a[0])

/* ESC ] 0 ; title BEL ESC [ 2 J: sets the terminal's title and clears the screen. */
#define TITLE_CLEAR "\x1b]0;title\x07\x1b[2J"
/* The 8-bit CSI (U+009B as UTF-8), DEL, a right-to-left override. */
#define C1_DEL_RLO                                                                                 \
    "\xc2\x9b"                                                                                     \
    "31m\x7f\xe2\x80\xae"

static const struct dom hostile[] = {
    {"escape.example", "answer", "v=STSv1; id=" TITLE_CLEAR, "ok",
     "version: STSv1\r\nmode: enforce\r\nmx: " TITLE_CLEAR "\r\nmx: " C1_DEL_RLO
     "\r\nmax_age: 604800\r\n",
     "mx." TITLE_CLEAR ".example", "ok", true},
    {"formula.example", "answer", "v=STSv1; id==1+1", "redirect", NULL, "=cmd|' /C calc'!A0", "ok",
     false},
    {"good.example", "answer", "v=STSv1; id=1", "ok", ENFORCE("mx.provider.net"), "mx.provider.net",
     "ok", true},
};

/* The hostile records and their damage; scan is h1 or h2. */
static void put_hostile(struct mts_writer *w, const char *scan)
{
    mts_writer_put_scan(w, scan,
                        json_pack("{s:i, s:s, s:s, s:f}", "v", 1, "scan", scan, "state", "complete",
                                  "t_start", strcmp(scan, "h1") == 0 ? 1000.0 : 2000.0));
    for (size_t i = 0; i < N(hostile); i++) {
        put(w, scan, &hostile[i]);
        put_probe(w, scan, &hostile[i]);
    }
    /* a redirect whose Location holds terminal escapes */
    static const struct dom redirect = {"location.example",
                                        "answer",
                                        "v=STSv1; id=1",
                                        "redirect",
                                        NULL,
                                        "mx.provider.net",
                                        "ok",
                                        false};
    put_with(w, scan, &redirect, "https://www.example/" TITLE_CLEAR, true);
    /* 200 with an empty body, from a scanner that did not store it: body-missing */
    static const struct dom empty = {
        "empty.example", "answer", "v=STSv1; id=1", "ok", "", "mx.provider.net", "ok", true};
    put_with(w, scan, &empty, NULL, false);
    /* a body stored under the digest of other bytes */
    static const char body[] = ENFORCE("mx.provider.net");
    unsigned char digest[32];
    char hex[65];
    sha256("version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n", digest, hex);
    mts_writer_put_policy(w, digest, body, strlen(body));
    json_t *rec = json_pack("{s:i, s:s, s:s, s:{}, s:{s:s, s:s, s:i, s:s, s:{s:s, s:i}}}", "v", 1,
                            "scan", scan, "domain", "damaged.example", "dns", "policy", "result",
                            "ok", "why", "txt", "http_status", 200, "content_type",
                            "text/plain\x1b[31m", "body", "sha256", hex, "len", 40);
    mts_writer_put_domain(w, scan, "damaged.example", rec);
    mts_writer_put_domain(w, scan, "future.example",
                          json_pack("{s:i, s:s, s:s, s:s}", "v", 2, "scan", scan, "domain",
                                    "future.example", "dns", "\x1b[2J"));
    mts_writer_put_domain(w, scan, "wrongtype.example",
                          json_pack("{s:i, s:s, s:s, s:{s:s}}", "v", 1, "scan", scan, "domain",
                                    "wrongtype.example", "dns", "sts", TITLE_CLEAR));
    mts_writer_put_domain(
        w, scan, "zz-undecodable.example",
        json_pack("{s:i, s:s, s:s}", "v", 1, "scan", scan, "domain", "zz-undecodable.example"));
}

/* The hostile store; the undecodable record is overwritten raw once the writer is done. */
static int hostile_store(const char *dir)
{
    struct mts_store *st;
    struct mts_writer *w;
    if (mts_store_open(&st, dir, MTS_STORE_CREATE, 0) || mts_writer_start(&w, st, NULL))
        return 1;
    put_hostile(w, "h1");
    put_hostile(w, "h2");
    int rc = mts_writer_stop(w);
    mts_store_close(st);
    static const char damaged[] = "Z\x10\x00\x00\x00not a zlib stream";
    for (int i = 1; rc == 0 && i <= 2; i++)
        rc = util_put_raw(dir, i == 1 ? "h1" : "h2", "zz-undecodable.example", damaged,
                          sizeof damaged - 1);
    return rc != 0;
}

/* More would-bounce domains than the summary lists. */
#define MANY_BOUNCE 14

/* The scan's metadata; its command line holds `input`, which may be hostile text. */
static void put_scan(struct mts_writer *w, const char *scan, const char *shard, const char *input)
{
    double t0 = strcmp(scan, "s1") == 0 ? 1000.0 : 2000.0;
    mts_writer_put_scan(w, scan,
                        json_pack("{s:i, s:s, s:s, s:f, s:f, s:s, s:[s,s,s,s,s], s:{s:i}}", "v", 1,
                                  "scan", scan, "state", "complete", "t_start", t0, "t_end",
                                  t0 + 100, "shard", shard, "argv", "mtasts-scan", "--scan-id",
                                  scan, "--input", input, "counts", "resumed", 0));
}

static int store(const char *dir, int which)
{
    struct mts_store *st;
    struct mts_writer *w;
    if (mts_store_open(&st, dir, MTS_STORE_CREATE, 0) || mts_writer_start(&w, st, NULL))
        return 1;
    if (which == 2) { /* the re-check store */
        put_scan(w, "r1", "0/1", "list.txt");
        put_scan(w, "r2", "0/1", "list.txt");
        for (size_t i = 0; i < N(recheck1); i++) {
            put(w, "r1", &recheck1[i]);
            put(w, "r2", &recheck2[i]);
            put_probe(w, "r1", &recheck1[i]);
            put_probe(w, "r2", &recheck2[i]);
        }
    } else if (which == 3) { /* many would-bounce domains */
        put_scan(w, "m1", "0/1", "a\tb\nc\x1b[31m.txt");
        for (int i = 0; i < MANY_BOUNCE; i++) {
            char name[32];
            snprintf(name, sizeof name, "bounce-%02d.example", i);
            struct dom d = scan1[0];
            d.name = name;
            put(w, "m1", &d);
            if (i == 0)
                put_probe(w, "m1", &d);
        }
    } else if (which < 0) { /* the single store: both scans */
        put_scan(w, "s1", "0/1", "list.txt");
        put_scan(w, "s2", "0/1", "list.txt");
        for (size_t i = 0; i < N(scan1); i++) {
            put(w, "s1", &scan1[i]);
            put_probe(w, "s1", &scan1[i]);
        }
        for (size_t i = 0; i < N(scan2); i++) {
            put(w, "s2", &scan2[i]);
            put_probe(w, "s2", &scan2[i]);
        }
    } else { /* shard `which` of s1; MX probes only in shard 0 (shared hosts) */
        put_scan(w, "s1", which ? "1/2" : "0/2", "list.txt");
        for (size_t i = 0; i < N(scan1); i++) {
            if ((int)(i % 2) == which)
                put(w, "s1", &scan1[i]);
            if (which == 0)
                put_probe(w, "s1", &scan1[i]);
        }
    }
    int rc = mts_writer_stop(w);
    mts_store_close(st);
    return rc != 0;
}

int main(int argc, char **argv)
{
    char path[4096];
    if (argc != 2) {
        fprintf(stderr, "usage: analyze_fixture DIR\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/one", argv[1]);
    if (store(path, -1))
        return 1;
    snprintf(path, sizeof path, "%s/shard0", argv[1]);
    if (store(path, 0))
        return 1;
    snprintf(path, sizeof path, "%s/shard1", argv[1]);
    if (store(path, 1))
        return 1;
    snprintf(path, sizeof path, "%s/hostile", argv[1]);
    if (hostile_store(path))
        return 1;
    snprintf(path, sizeof path, "%s/recheck", argv[1]);
    if (store(path, 2))
        return 1;
    snprintf(path, sizeof path, "%s/many", argv[1]);
    return store(path, 3);
}
