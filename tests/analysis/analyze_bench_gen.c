/*
 * Writes a synthetic scan of N domains for the mtasts-analyze benchmark: a realistic mix
 * (most domains without MTA-STS, some valid, some misconfigured), MX hosts shared by many
 * domains as on the real Internet, a handful of distinct policy bodies.
 *
 * usage: analyze_bench_gen DIR N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mts_writer.h"

static const char *const bodies[] = {
    "version: STSv1\r\nmode: enforce\r\nmx: *.mail.provider0.net\r\nmax_age: 604800\r\n",
    "version: STSv1\r\nmode: testing\r\nmx: *.mail.provider1.net\r\nmax_age: 86400\r\n",
    "version: STSv1\r\nmode: enforce\r\nmx: mx.elsewhere.org\r\nmax_age: 31557600\r\n",
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: analyze_bench_gen DIR N\n");
        return 2;
    }
    long n = atol(argv[2]);
    struct mts_store *st;
    struct mts_writer *w;
    struct mts_writer_opts o = {.batch_max = 10000};
    if (mts_store_open(&st, argv[1], MTS_STORE_CREATE | MTS_STORE_NOMETASYNC, (size_t)4 << 30) ||
        mts_writer_start(&w, st, &o))
        return 1;
    char hex[3][65];
    for (int b = 0; b < 3; b++) {
        unsigned char d[32];
        unsigned int len = 32;
        EVP_Digest(bodies[b], strlen(bodies[b]), d, &len, EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++)
            snprintf(hex[b] + 2 * i, 3, "%02x", d[i]);
        mts_writer_put_policy(w, d, bodies[b], strlen(bodies[b]));
    }
    mts_writer_put_scan(w, "bench",
                        json_pack("{s:i, s:s, s:s, s:f, s:s}", "v", 1, "scan", "bench", "state",
                                  "complete", "t_start", 1.0, "shard", "0/1"));
    for (int p = 0; p < 200; p++) {
        char host[64];
        snprintf(host, sizeof host, "mx%d.mail.provider%d.net", p % 4, p / 4);
        mts_writer_put_mxprobe(w, "bench", host, "192.0.2.25",
                               json_pack("{s:i, s:s, s:s, s:[s], s:{s:s, s:s}}", "v", 1, "result",
                                         "ok", "stage", "done", "capabilities", "STARTTLS", "tls",
                                         "version", "TLSv1.3", "verify",
                                         p % 50 == 7 ? "expired" : "ok"));
    }
    for (long i = 0; i < n; i++) {
        char dom[64], q[96], host[64];
        snprintf(dom, sizeof dom, "d%08ld.example", i);
        snprintf(host, sizeof host, "mx%ld.mail.provider%ld.net", i % 4, (i / 4) % 50);
        int kind = (int)(i % 20); /* 0-1: MTA-STS with body kind%3, 2: redirect, else none */
        snprintf(q, sizeof q, "_mta-sts.%s", dom);
        json_t *sts = kind <= 2 ? json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:[s]}]}", "qname", q,
                                            "qtype", "TXT", "result", "answer", "answer", "name", q,
                                            "type", "TXT", "txt", "v=STSv1; id=1")
                                : json_pack("{s:s, s:s, s:s}", "qname", q, "qtype", "TXT", "result",
                                            "nxdomain");
        json_t *rec = json_pack(
            "{s:i, s:s, s:s, s:{s:o, s:{s:s, s:s, s:[{s:s, s:i, s:s}]}, s:{s:s}},"
            " s:[{s:i, s:s, s:{s:s, s:[{s:s, s:s}]}, s:[{s:s}]}]}",
            "v", 1, "scan", "bench", "domain", dom, "dns", "sts", sts, "mx", "qtype", "MX",
            "result", "answer", "answer", "type", "MX", "pref", 10, "host", host, "tlsrpt",
            "result", i % 3 ? "nxdomain" : "answer", "mx", "pref", 10, "host", host, "a", "result",
            "answer", "answer", "type", "A", "addr", "192.0.2.25", "probes", "addr", "192.0.2.25");
        if (kind <= 1 || kind == 2) {
            json_t *f =
                json_pack("{s:s, s:s}", "why", "txt", "result", kind == 2 ? "redirect" : "ok");
            if (kind <= 1) {
                int b = (int)((i / 20) % 3);
                json_object_set_new(f, "http_status", json_integer(200));
                json_object_set_new(f, "content_type", json_string("text/plain"));
                json_object_set_new(f, "body",
                                    json_pack("{s:s, s:I}", "sha256", hex[b], "len",
                                              (json_int_t)strlen(bodies[b])));
                json_object_set_new(f, "tls", json_pack("{s:s}", "verify", "ok"));
            }
            json_object_set_new(rec, "policy", f);
        }
        if (mts_writer_put_domain(w, "bench", dom, rec))
            return 1;
    }
    int rc = mts_writer_stop(w);
    mts_store_close(st);
    return rc != 0;
}
