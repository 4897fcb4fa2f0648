/*
 * Tests of the HTTPS policy fetcher against a real HTTPS server on loopback
 * (https_server.py, certificates from https_make_certs.sh). Each group runs in its own
 * process with its own server:
 *
 *   basic        one fetch per server behaviour (200s, 404, 403, 301, too large, drip,
 *                stall, reset, refused, connect timeout, address fallback and order),
 *                all at once; every FETCHOBS field asserted, and what the server received
 *   certs        each broken certificate with fetch_unauthenticated off (no request may
 *                reach the server) and on (the body is kept under "unauthenticated")
 *   concurrency  300 fetches at once; the per-address bound of conn_limit
 *   nodns        a policy host that exists in no DNS: fetched through CONNECT_TO with no
 *                call to getaddrinfo (interposed below)
 *   cancel       mts_https_free with fetches queued and in flight calls no callback
 *   coding       a body sent gzip- or deflate-coded (asked for or not) is decoded, its
 *                coding recorded; a decompression bomb stops at the bound as too-large;
 *                a broken or unknown coding is an error
 *   handshake    a TLS-RPT report host's check: the handshake and certificate observed,
 *                no request sent
 *   ruatls       the scan-wide table of report host checks: one handshake per host, the
 *                byte bound, a local error not kept
 *   hostile      a CA file that does not exist; header bytes that are not UTF-8
 *   limits       no descriptor left: back off and fetch once they return, local-error when
 *                they never do; a tarpit holding the address's slot: queue-timeout, or the
 *                next address
 *
 * Usage: https_fetch_test CERTDIR SERVER_SCRIPT GROUP
 */
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include "check.h"
#include "fd_starve.h"
#include "conn_limit.h"
#include "https_fetch.h"
#include "https_server_proc.h"
#include "mts_defaults.h"
#include "rua_tls.h"

#define POLICY "version: STSv1\r\nmode: enforce\r\nmx: mx1.ok.test\r\nmax_age: 86400\r\n"
#define UA     "mtasts-scan-test/1 (+research scanner)"

static atomic_int lookups;

/*
 * Every name lookup in this process lands here instead of in libc: the fetcher must never
 * make one. Fails the lookup so that nothing leaves the machine either.
 */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    (void)node;
    (void)service;
    (void)hints;
    *res = NULL;
    atomic_fetch_add(&lookups, 1);
    return EAI_FAIL;
}

struct result {
    bool done;
    json_t *obs;
    unsigned char *body;
    size_t body_len;
};

static struct event_base *base;
static int pending;
static char *certdir, *script;
static struct https_server_proc srv;

static void on_done(void *arg, json_t *obs, const unsigned char *body, size_t len)
{
    struct result *r = arg;

    CHECK(!r->done);
    r->done = true;
    r->obs = obs;
    if (body) {
        r->body = malloc(len);
        memcpy(r->body, body, len);
        r->body_len = len;
    }
    pending--;
}

static void start(struct mts_https *h, struct result *r, const char *host, const char *const *addrs,
                  size_t n)
{
    memset(r, 0, sizeof *r);
    int rc = mts_https_fetch(h, host, addrs, n, MTS_FETCH_WHY_TXT, on_done, r);
    CHECK_INT(rc, 0);
    CHECK(!r->done); /* never called from inside mts_https_fetch */
    if (rc == 0) {
        pending++;
    }
}

static void run(void)
{
    while (pending > 0) {
        event_base_loop(base, EVLOOP_ONCE);
    }
}

static void result_free(struct result *r)
{
    json_decref(r->obs);
    free(r->body);
}

static const char *str(json_t *o, const char *path)
{
    char key[64];
    const char *dot = strchr(path, '.');

    if (dot) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        return str(json_object_get(o, key), dot + 1);
    }
    json_t *v = json_object_get(o, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long num(json_t *o, const char *path)
{
    char key[64];
    const char *dot = strchr(path, '.');

    if (dot) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        return num(json_object_get(o, key), dot + 1);
    }
    json_t *v = json_object_get(o, path);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* The object's keys, sorted and comma-joined, to compare with the exact expected set. */
static const char *keys(json_t *o)
{
    static char buf[512];
    const char *names[32];
    size_t n = 0;
    const char *k;
    json_t *v;

    buf[0] = '\0';
    json_object_foreach(o, k, v)
    {
        if (n < 32) {
            names[n++] = k;
        }
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    }
    for (size_t i = 0; i < n; i++) {
        strcat(buf, i ? "," : "");
        strcat(buf, names[i]);
    }
    return buf;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen;

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        sprintf(out + 2 * i, "%02x", md[i]);
    }
}

static unsigned connect_timeout_ms = 500, total_timeout_ms = 1500;

static struct mts_https *new_fetcher(bool unauth, unsigned max, struct mts_conn_limit *lim)
{
    char ca[512];
    struct mts_https *h = NULL;

    snprintf(ca, sizeof(ca), "%s/ca.pem", certdir);
    struct mts_https_opts o = {.ca_file = ca,
                               .port = (uint16_t)srv.port,
                               .connect_timeout_ms = connect_timeout_ms,
                               .total_timeout_ms = total_timeout_ms,
                               .max_transfers = max,
                               .user_agent = UA,
                               .fetch_unauthenticated = unauth,
                               .conn_limit = lim};
    CHECK_INT(mts_https_new(&h, base, &o), 0);
    if (!h) {
        exit(check_exit());
    }
    return h;
}

static long long server_count(const char *what, const char *host)
{
    json_t *st = https_server_cmd(&srv, "stats");
    json_t *v = json_object_get(json_object_get(st, what), host); /* host has dots: no path */
    long long n = json_is_integer(v) ? json_integer_value(v) : 0;
    json_decref(st);
    return n;
}

/* A full successful observation, as for mta-sts.ok.test. */
static void check_ok(struct result *r, const char *host, const char *addr, const char *ctype,
                     const char *body)
{
    char url[256], digest[65];
    json_t *o = r->obs;

    CHECK(r->done);
    snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", host);
    sha256_hex(body, strlen(body), digest);
    CHECK_STR(keys(o),
              "addr,body,content_type,curl_code,curl_error,http_status,ms,port,result,tls,url,why");
    CHECK_STR(str(o, "url"), url);
    CHECK_STR(str(o, "why"), "txt");
    CHECK_STR(str(o, "result"), "ok");
    CHECK_STR(str(o, "addr"), addr);
    CHECK_INT(num(o, "port"), srv.port);
    CHECK_INT(num(o, "curl_code"), 0);
    CHECK_STR(str(o, "curl_error"), "");
    CHECK_INT(num(o, "http_status"), 200);
    CHECK_STR(str(o, "content_type"), ctype);
    CHECK_STR(keys(json_object_get(o, "body")), "len,sha256,truncated");
    CHECK_STR(str(o, "body.sha256"), digest);
    CHECK_INT(num(o, "body.len"), strlen(body));
    CHECK(json_is_false(json_object_get(json_object_get(o, "body"), "truncated")));
    CHECK_STR(str(o, "tls.verify"), "ok");
    CHECK_INT(num(o, "tls.verify_code"), 0);
    CHECK_STR(str(o, "tls.sni"), host);
    CHECK_STR(str(o, "tls.version"), "TLSv1.3");
    CHECK(json_array_size(json_object_get(json_object_get(o, "tls"), "chain")) == 1);
    json_t *ms = json_object_get(o, "ms");
    CHECK_STR(keys(ms), "connect,first_byte,tls,total");
    CHECK(json_real_value(json_object_get(ms, "connect")) > 0);
    CHECK(json_real_value(json_object_get(ms, "tls")) >=
          json_real_value(json_object_get(ms, "connect")));
    CHECK(json_real_value(json_object_get(ms, "total")) >=
          json_real_value(json_object_get(ms, "first_byte")));
    CHECK_INT(r->body_len, strlen(body));
    CHECK(r->body && memcmp(r->body, body, r->body_len) == 0);
}

/* Not a 200: status, media type and body digest recorded, the body handed over too. */
static void check_status(struct result *r, const char *result, long status, const char *ctype,
                         const char *body)
{
    char digest[65];
    json_t *o = r->obs;

    sha256_hex(body, strlen(body), digest);
    CHECK_STR(str(o, "result"), result);
    CHECK_INT(num(o, "curl_code"), 0);
    CHECK_INT(num(o, "http_status"), status);
    CHECK_STR(str(o, "content_type"), ctype);
    CHECK_STR(str(o, "body.sha256"), digest);
    CHECK_INT(r->body_len, strlen(body));
    CHECK_STR(str(o, "tls.verify"), "ok");
}

/* A listener on addr:port whose accept queue is full, so further SYNs go unanswered. */
static int full_listener(const char *addr, unsigned port, int *fillers, int nfill)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, addr, &sin.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 0) != 0) {
        perror("full_listener");
        exit(2);
    }
    for (int i = 0; i < nfill; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&sin, sizeof(sin));
    }
    usleep(100 * 1000);
    return fd;
}

static void group_basic(void)
{
    struct mts_https *h = new_fetcher(false, 50, NULL);
    const char *lo[] = {"127.0.0.1"};
    const char *refused[] = {"127.0.0.3"};
    const char *fallback[] = {"127.0.0.3", "127.0.0.1"};
    const char *v6_after_v4[] = {"::1", "127.0.0.3"};
    const char *v4_first[] = {"::1", "127.0.0.2"};
    const char *blackhole[] = {"127.0.0.4"};
    struct result ok, utf8, html, nf, forb, moved, big, drip, stall, reset, ref, fb, v6, v4, cto;
    int fillers[3];
    int lfd = full_listener("127.0.0.4", srv.port, fillers, 3);

    CHECK_INT(mts_https_fetch(h, "mta-sts.ok.test", lo, 0, MTS_FETCH_WHY_TXT, on_done, NULL),
              -EINVAL);
    const char *bad[] = {"mta-sts.ok.test"};
    CHECK_INT(mts_https_fetch(h, "mta-sts.ok.test", bad, 1, MTS_FETCH_WHY_TXT, on_done, NULL),
              -EINVAL);
    CHECK_INT(mts_https_fetch(h, "MTA-STS.ok.test", lo, 1, MTS_FETCH_WHY_TXT, on_done, NULL),
              -EINVAL);
    CHECK_INT(mts_https_fetch(h, "mta-sts.ok.test", lo, 1, MTS_FETCH_WHY_UNKNOWN, on_done, NULL),
              -EINVAL);

    start(h, &ok, "mta-sts.ok.test", lo, 1);
    start(h, &utf8, "mta-sts.utf8.test", lo, 1);
    start(h, &html, "mta-sts.html.test", lo, 1);
    start(h, &nf, "mta-sts.notfound.test", lo, 1);
    start(h, &forb, "mta-sts.forbidden.test", lo, 1);
    start(h, &moved, "mta-sts.moved.test", lo, 1);
    start(h, &big, "mta-sts.big.test", lo, 1);
    start(h, &drip, "mta-sts.drip.test", lo, 1);
    start(h, &stall, "mta-sts.stall.test", lo, 1);
    start(h, &reset, "mta-sts.reset.test", lo, 1);
    start(h, &ref, "mta-sts.ok.test", refused, 1);
    start(h, &fb, "mta-sts.ok.test", fallback, 2);
    start(h, &v6, "mta-sts.ok.test", v6_after_v4, 2);
    start(h, &v4, "mta-sts.ok.test", v4_first, 2);
    start(h, &cto, "mta-sts.ok.test", blackhole, 1);
    run();

    check_ok(&ok, "mta-sts.ok.test", "127.0.0.1", "text/plain", POLICY);
    check_ok(&utf8, "mta-sts.utf8.test", "127.0.0.1", "text/plain; charset=utf-8", POLICY);
    check_status(&html, "ok", 200, "text/html", "<html>policy</html>");
    check_status(&nf, "http-status", 404, "text/html", "<h1>Not Found</h1>");
    check_status(&forb, "http-status", 403, "text/html", "<h1>Forbidden</h1>");
    check_status(&moved, "redirect", 301, "text/html", "moved");
    CHECK_STR(str(moved.obs, "location"), "https://www.moved.test/.well-known/mta-sts.txt");
    CHECK_INT(server_count("requests", "mta-sts.moved.test"), 1);
    CHECK_INT(server_count("conns", "www.moved.test"), 0);

    /* Over the bound: the first 64 KiB kept and digested, the transfer stopped. */
    char *x = malloc(65537);
    memset(x, 'x', 65536);
    x[65536] = '\0';
    char digest[65];
    sha256_hex(x, 65536, digest);
    CHECK_STR(str(big.obs, "result"), "too-large");
    CHECK_INT(num(big.obs, "http_status"), 200);
    CHECK_INT(num(big.obs, "curl_code"), CURLE_WRITE_ERROR);
    CHECK_INT(num(big.obs, "body.len"), 65536);
    CHECK(json_is_true(json_object_get(json_object_get(big.obs, "body"), "truncated")));
    CHECK_STR(str(big.obs, "body.sha256"), digest);
    CHECK_INT(big.body_len, 65536);
    CHECK(big.body && memcmp(big.body, x, 65536) == 0);
    free(x);

    CHECK_STR(str(drip.obs, "result"), "timeout");
    CHECK_INT(num(drip.obs, "curl_code"), CURLE_OPERATION_TIMEDOUT);
    CHECK_INT(num(drip.obs, "http_status"), 200);
    CHECK(json_is_false(json_object_get(json_object_get(drip.obs, "body"), "truncated")));
    double total = json_real_value(json_object_get(json_object_get(drip.obs, "ms"), "total"));
    CHECK(total >= 1400 && total < 3000);

    CHECK_STR(str(stall.obs, "result"), "timeout");
    CHECK_INT(num(stall.obs, "curl_code"), CURLE_OPERATION_TIMEDOUT);
    CHECK(json_object_get(stall.obs, "http_status") == NULL);
    CHECK(json_object_get(stall.obs, "body") == NULL);
    CHECK_STR(str(stall.obs, "tls.verify"), "ok");
    CHECK_INT(server_count("requests", "mta-sts.stall.test"), 1);

    CHECK_STR(str(reset.obs, "result"), "reset");
    CHECK_INT(num(reset.obs, "curl_code"), CURLE_RECV_ERROR);
    CHECK_INT(num(reset.obs, "http_status"), 200);
    CHECK(num(reset.obs, "body.len") <= 100);

    CHECK_STR(keys(ref.obs), "addr,curl_code,curl_error,ms,port,result,url,why");
    CHECK_STR(str(ref.obs, "result"), "connect-refused");
    CHECK_STR(str(ref.obs, "addr"), "127.0.0.3");
    CHECK_INT(num(ref.obs, "curl_code"), CURLE_COULDNT_CONNECT);
    CHECK(strlen(str(ref.obs, "curl_error")) > 0);
    CHECK(ref.body == NULL);

    check_ok(&fb, "mta-sts.ok.test", "127.0.0.1", "text/plain", POLICY);
    check_ok(&v6, "mta-sts.ok.test", "::1", "text/plain", POLICY);
    check_ok(&v4, "mta-sts.ok.test", "127.0.0.2", "text/plain", POLICY);

    CHECK_STR(str(cto.obs, "result"), "connect-timeout");
    CHECK_INT(num(cto.obs, "curl_code"), CURLE_OPERATION_TIMEDOUT);
    CHECK_STR(str(cto.obs, "addr"), "127.0.0.4");

    /* What the server received: exactly one HTTP/1.1 GET, our agent, no caching headers. */
    json_t *st = https_server_cmd(&srv, "stats");
    json_t *heads = json_object_get(json_object_get(st, "heads"), "mta-sts.utf8.test");
    CHECK_INT(json_array_size(heads), 1);
    CHECK_STR(json_string_value(json_array_get(heads, 0)),
              "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.utf8.test\r\n"
              "User-Agent: " UA "\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
    json_decref(st);

    struct mts_https_stats hs;
    mts_https_get_stats(h, &hs);
    CHECK_INT(hs.finished, 15);
    CHECK_INT(hs.transfers, 0);
    CHECK_INT(hs.queued, 0);
    CHECK_INT(hs.started, 17); /* two fetches moved on to a second address */
    CHECK_INT(hs.by_result[MTS_FETCH_OK], 6);
    CHECK_INT(hs.by_result[MTS_FETCH_HTTP_STATUS], 2);
    CHECK_INT(hs.by_result[MTS_FETCH_TIMEOUT], 2);
    CHECK_INT(hs.by_result[MTS_FETCH_CONNECT_TIMEOUT], 1);
    CHECK_STR(mts_fetch_result_name(MTS_FETCH_TOO_LARGE), "too-large");
    CHECK(mts_fetch_result_name(MTS_FETCH_RESULT_COUNT) == NULL);

    struct result *all[] = {&ok,    &utf8,  &html, &nf, &forb, &moved, &big, &drip,
                            &stall, &reset, &ref,  &fb, &v6,   &v4,    &cto};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        result_free(all[i]);
    }
    for (int i = 0; i < 3; i++) {
        close(fillers[i]);
    }
    close(lfd);
    mts_https_free(h);
}

static void group_certs(void)
{
    static const struct {
        const char *host, *verify;
        long code;
    } kinds[] = {
        {"mta-sts.expired.test", "expired", X509_V_ERR_CERT_HAS_EXPIRED},
        {"mta-sts.wrongname.test", "name-mismatch", X509_V_ERR_HOSTNAME_MISMATCH},
        {"mta-sts.selfsigned.test", "self-signed", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT},
        {"mta-sts.untrusted.test", "untrusted", X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY},
    };
    enum { N = sizeof(kinds) / sizeof(kinds[0]) };
    const char *lo[] = {"127.0.0.1"};
    struct result off[N], on[N];
    char digest[65];

    sha256_hex(POLICY, strlen(POLICY), digest);

    /* Option off: the handshake is observed, the request never sent. */
    struct mts_https *h = new_fetcher(false, 10, NULL);
    for (int i = 0; i < N; i++) {
        start(h, &off[i], kinds[i].host, lo, 1);
    }
    run();
    for (int i = 0; i < N; i++) {
        json_t *o = off[i].obs;
        CHECK_STR(keys(o), "addr,curl_code,curl_error,ms,port,result,tls,url,why");
        CHECK_STR(str(o, "result"), "cert-invalid");
        CHECK_INT(num(o, "curl_code"), CURLE_ABORTED_BY_CALLBACK);
        CHECK_STR(str(o, "tls.verify"), kinds[i].verify);
        CHECK_INT(num(o, "tls.verify_code"), kinds[i].code);
        CHECK_STR(str(o, "tls.verify_text"), X509_verify_cert_error_string(kinds[i].code));
        CHECK(json_array_size(json_object_get(json_object_get(o, "tls"), "chain")) >= 1);
        CHECK(off[i].body == NULL);
        CHECK_INT(server_count("conns", kinds[i].host), 1);
        CHECK_INT(server_count("requests", kinds[i].host), 0);
        result_free(&off[i]);
    }
    mts_https_free(h);

    /* Option on: same verdict, and what the server meant to publish, kept apart. */
    h = new_fetcher(true, 10, NULL);
    for (int i = 0; i < N; i++) {
        start(h, &on[i], kinds[i].host, lo, 1);
    }
    run();
    for (int i = 0; i < N; i++) {
        json_t *o = on[i].obs;
        json_t *u = json_object_get(o, "unauthenticated");
        CHECK_STR(keys(o), "addr,curl_code,curl_error,ms,port,result,tls,unauthenticated,url,why");
        CHECK_STR(str(o, "result"), "cert-invalid");
        CHECK_INT(num(o, "curl_code"), 0);
        CHECK_STR(str(o, "tls.verify"), kinds[i].verify);
        CHECK_INT(num(o, "tls.verify_code"), kinds[i].code);
        CHECK_STR(keys(u), "body,content_type,http_status,result");
        CHECK_STR(str(u, "result"), "ok");
        CHECK_INT(num(u, "http_status"), 200);
        CHECK_STR(str(u, "content_type"), "text/plain");
        CHECK_STR(str(u, "body.sha256"), digest);
        CHECK_INT(num(u, "body.len"), strlen(POLICY));
        CHECK_INT(on[i].body_len, strlen(POLICY));
        CHECK_INT(server_count("requests", kinds[i].host), 1);
        result_free(&on[i]);
    }
    struct mts_https_stats hs;
    mts_https_get_stats(h, &hs);
    CHECK_INT(hs.by_result[MTS_FETCH_CERT_INVALID], N);
    mts_https_free(h);
}

enum { MANY = 300, PER_ADDR = 4 };

static void group_concurrency(void)
{
    static struct result r[MANY];
    const char *a1[] = {"127.0.0.1"}, *a2[] = {"127.0.0.2"};

    /* 300 transfers at once against a server that holds each reply for 200 ms; the
     * server (Python) may need more than the other groups' deadlines for 300 handshakes. */
    connect_timeout_ms = 20000;
    total_timeout_ms = 30000;
    struct mts_https *h = new_fetcher(false, MANY, NULL);
    for (int i = 0; i < MANY; i++) {
        start(h, &r[i], "mta-sts.hold.test", a1, 1);
    }
    run();
    int ok = 0;
    for (int i = 0; i < MANY; i++) {
        bool good = r[i].done && strcmp(str(r[i].obs, "result"), "ok") == 0;
        if (!good && ok == i) { /* show the first failure */
            json_dumpf(r[i].obs, stderr, 0);
            fputc('\n', stderr);
        }
        ok += good;
        result_free(&r[i]);
    }
    CHECK_INT(ok, MANY);
    struct mts_https_stats hs;
    mts_https_get_stats(h, &hs);
    CHECK_INT(hs.max_transfers_seen, MANY);
    CHECK_INT(server_count("requests", "mta-sts.hold.test"), MANY);
    printf("peak concurrent connections at the server: %lld\n", server_count("peak", "127.0.0.1"));
    mts_https_free(h);

    /* The transfer bound holds: never more than 5 in curl, nor at the server. */
    json_decref(https_server_cmd(&srv, "reset"));
    h = new_fetcher(false, 5, NULL);
    for (int i = 0; i < 20; i++) {
        start(h, &r[i], "mta-sts.hold.test", a1, 1);
    }
    run();
    for (int i = 0; i < 20; i++) {
        CHECK_STR(str(r[i].obs, "result"), "ok");
        result_free(&r[i]);
    }
    mts_https_get_stats(h, &hs);
    CHECK_INT(hs.max_transfers_seen, 5);
    CHECK_INT(server_count("peak", "127.0.0.1"), 5);
    mts_https_free(h);

    /* The per-address bound holds at the server, with transfer slots to spare. */
    json_decref(https_server_cmd(&srv, "reset"));
    struct mts_conn_limit *lim = NULL;
    CHECK_INT(mts_conn_limit_new(&lim, base, PER_ADDR, 1000), 0);
    h = new_fetcher(false, 100, lim);
    for (int i = 0; i < 60; i++) {
        start(h, &r[i], "mta-sts.hold.test", i % 2 ? a1 : a2, 1);
    }
    mts_https_get_stats(h, &hs);
    CHECK_INT(hs.transfers, 0); /* slots are granted from the loop, later */
    run();
    ok = 0;
    for (int i = 0; i < 60; i++) {
        ok += r[i].done && strcmp(str(r[i].obs, "result"), "ok") == 0;
        result_free(&r[i]);
    }
    CHECK_INT(ok, 60);
    CHECK_INT(server_count("peak", "127.0.0.1"), PER_ADDR);
    CHECK_INT(server_count("peak", "127.0.0.2"), PER_ADDR);
    mts_https_get_stats(h, &hs);
    CHECK_INT(hs.max_transfers_seen, 2 * PER_ADDR);
    mts_https_free(h);
    mts_conn_limit_free(lim);
}

static void group_nodns(void)
{
    const char *lo[] = {"127.0.0.1"};
    struct result r;

    /* The interposer works: curl's own resolver would call it. */
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, "http://no-such-name-7d41.invalid/");
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    CHECK_INT(curl_easy_perform(e), CURLE_COULDNT_RESOLVE_HOST);
    curl_easy_cleanup(e);
    CHECK(atomic_load(&lookups) > 0);

    atomic_store(&lookups, 0);
    struct mts_https *h = new_fetcher(false, 4, NULL);
    start(h, &r, "mta-sts.no-such-name-7d41.invalid", lo, 1);
    run();
    check_ok(&r, "mta-sts.no-such-name-7d41.invalid", "127.0.0.1", "text/plain", POLICY);
    CHECK_INT(atomic_load(&lookups), 0);
    result_free(&r);
    mts_https_free(h);
}

static void never(void *arg, json_t *obs, const unsigned char *body, size_t len)
{
    (void)arg;
    (void)obs;
    (void)body;
    (void)len;
    CHECK(!"done called after mts_https_free");
}

static void group_cancel(void)
{
    const char *lo[] = {"127.0.0.1"};
    struct mts_conn_limit *lim = NULL;

    CHECK_INT(mts_conn_limit_new(&lim, base, 2, 100), 0);
    struct mts_https *h = new_fetcher(false, 3, lim);
    for (int i = 0; i < 10; i++) {
        CHECK_INT(
            mts_https_fetch(h, "mta-sts.stall.test", lo, 1, MTS_FETCH_WHY_POLICY_ONLY, never, NULL),
            0);
    }
    /* Let some reach the server, then drop everything: queued, waiting and in flight. */
    struct timeval tv = {0, 300 * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    struct mts_https_stats hs;
    mts_https_get_stats(h, &hs);
    CHECK_INT(hs.transfers, 2);
    mts_https_free(h);
    mts_conn_limit_free(lim);
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK(server_count("requests", "mta-sts.stall.test") >= 2);
}

static void group_coding(void)
{
    struct mts_https *h = new_fetcher(false, 50, NULL);
    const char *lo[] = {"127.0.0.1"};
    struct result gz, defl, bomb, bad, unknown;

    start(h, &gz, "mta-sts.gzip.test", lo, 1);
    start(h, &defl, "mta-sts.deflate.test", lo, 1);
    start(h, &bomb, "mta-sts.bomb.test", lo, 1);
    start(h, &bad, "mta-sts.badgzip.test", lo, 1);
    start(h, &unknown, "mta-sts.compress.test", lo, 1);
    run();

    /* The policy as senders that decode it read it; the digest is of the decoded body. */
    char digest[65];
    sha256_hex(POLICY, strlen(POLICY), digest);
    struct result *decoded[] = {&gz, &defl};
    const char *coding[] = {"gzip", "deflate"};
    for (size_t i = 0; i < 2; i++) {
        CHECK_STR(str(decoded[i]->obs, "result"), "ok");
        CHECK_STR(str(decoded[i]->obs, "content_encoding"), coding[i]);
        CHECK_STR(str(decoded[i]->obs, "body.sha256"), digest);
        CHECK_INT(num(decoded[i]->obs, "body.len"), strlen(POLICY));
        CHECK_INT(decoded[i]->body_len, strlen(POLICY));
        CHECK(decoded[i]->body && memcmp(decoded[i]->body, POLICY, strlen(POLICY)) == 0);
    }

    /* 16 MiB of zeros in 16 KiB of gzip: decoding stops at the bound, nothing more kept. */
    CHECK_STR(str(bomb.obs, "result"), "too-large");
    CHECK_STR(str(bomb.obs, "content_encoding"), "gzip");
    CHECK_INT(num(bomb.obs, "body.len"), 65536);
    CHECK(json_is_true(json_object_get(json_object_get(bomb.obs, "body"), "truncated")));
    CHECK_INT(bomb.body_len, 65536);
    static const unsigned char zeros[65536];
    CHECK(bomb.body && memcmp(bomb.body, zeros, sizeof zeros) == 0);

    CHECK_STR(str(bad.obs, "result"), "error");
    CHECK_INT(num(bad.obs, "curl_code"), CURLE_BAD_CONTENT_ENCODING);
    CHECK_STR(str(bad.obs, "content_encoding"), "gzip");
    CHECK_STR(str(unknown.obs, "result"), "error");
    CHECK_INT(num(unknown.obs, "curl_code"), CURLE_BAD_CONTENT_ENCODING);
    CHECK_STR(str(unknown.obs, "content_encoding"), "compress");

    struct result *all[] = {&gz, &defl, &bomb, &bad, &unknown};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        result_free(all[i]);
    mts_https_free(h);
}

/* Hostile inputs: a CA file that does not exist (the fetcher refuses to start, reading
   nothing freed), header bytes that are not UTF-8 (kept as hex, TLS facts kept). */
/* A TLS-RPT report host's check: the handshake and its certificate are observed, and not
 * one byte of a request reaches the server, whatever the certificate and the options. */
static void group_handshake(void)
{
    static const struct {
        const char *host, *result, *verify;
    } kinds[] = {
        {"mta-sts.ok.test", "ok", "ok"},
        {"mta-sts.expired.test", "cert-invalid", "expired"},
        {"mta-sts.wrongname.test", "cert-invalid", "name-mismatch"},
        {"mta-sts.untrusted.test", "cert-invalid", "untrusted"},
    };
    enum { N = sizeof(kinds) / sizeof(kinds[0]) };
    const char *lo[] = {"127.0.0.1"};
    struct result r[N];
    char url[128];

    for (int unauth = 0; unauth < 2; unauth++) {
        json_decref(https_server_cmd(&srv, "reset"));
        struct mts_https *h = new_fetcher(unauth, 10, NULL);
        for (int i = 0; i < N; i++) {
            memset(&r[i], 0, sizeof r[i]);
            CHECK_INT(mts_https_handshake(h, kinds[i].host, 0, lo, 1, on_done, &r[i]), 0);
            CHECK(!r[i].done);
            pending++;
        }
        run();
        for (int i = 0; i < N; i++) {
            json_t *o = r[i].obs;
            snprintf(url, sizeof url, "https://%s:%d/", kinds[i].host, srv.port);
            CHECK_STR(keys(o), "addr,curl_code,curl_error,ms,port,result,tls,url,why");
            CHECK_STR(str(o, "url"), url);
            CHECK_STR(str(o, "why"), "tlsrpt");
            CHECK_STR(str(o, "result"), kinds[i].result);
            CHECK_INT(num(o, "port"), srv.port);
            CHECK_INT(num(o, "curl_code"),
                      strcmp(kinds[i].result, "ok") == 0 ? CURLE_OK : CURLE_ABORTED_BY_CALLBACK);
            CHECK_STR(str(o, "tls.verify"), kinds[i].verify);
            CHECK_STR(str(o, "tls.sni"), kinds[i].host);
            CHECK(r[i].body == NULL);
            CHECK_INT(server_count("conns", kinds[i].host), 1);
            CHECK_INT(server_count("requests", kinds[i].host), 0);
            result_free(&r[i]);
        }
        mts_https_free(h);
    }

    /* An explicit port is dialled; nothing listens there: refused. A bad name is refused. */
    struct mts_https *h = new_fetcher(false, 10, NULL);
    memset(&r[0], 0, sizeof r[0]);
    CHECK_INT(mts_https_handshake(h, "mta-sts.ok.test", 1, lo, 1, on_done, &r[0]), 0);
    pending++;
    run();
    CHECK_STR(str(r[0].obs, "result"), "connect-refused");
    CHECK_INT(num(r[0].obs, "port"), 1);
    CHECK_STR(str(r[0].obs, "url"), "https://mta-sts.ok.test:1/");
    result_free(&r[0]);
    CHECK_INT(mts_https_handshake(h, "bad host", 0, lo, 1, on_done, &r[0]), -EINVAL);
    mts_https_free(h);
}

struct rua_answer {
    bool done;
    char *text;
};

static void on_rua(void *arg, const char *text)
{
    struct rua_answer *a = arg;
    CHECK(!a->done);
    a->done = true;
    a->text = text ? strdup(text) : NULL;
    pending--;
}

static void rua_ask(struct mts_rua_tls *t, struct rua_answer *a, const char *host)
{
    const char *lo[] = {"127.0.0.1"};
    memset(a, 0, sizeof *a);
    CHECK_INT(mts_rua_tls_request(t, host, 0, lo, 1, on_rua, a), 0);
    CHECK(!a->done); /* never answered from inside the request */
    pending++;
}

/* The scan-wide table of report host checks: one handshake per host however many domains
 * ask, before and after it ends; past the byte bound a new host is not checked; a check
 * this machine could not make (no descriptor) is answered but not kept. */
static void group_ruatls(void)
{
    enum { ASK = 5 };
    struct rua_answer a[ASK + 2];
    struct mts_https *h = new_fetcher(false, 10, NULL);
    struct mts_rua_tls *t = NULL;
    struct mts_rua_tls_stats st;

    /* Room for one checked host (its key and observation, about 1 KiB), not two. */
    CHECK_INT(mts_rua_tls_new(&t, base, h, 1400), 0);
    for (int i = 0; i < ASK; i++)
        rua_ask(t, &a[i], "mta-sts.ok.test");
    run();
    rua_ask(t, &a[ASK], "mta-sts.ok.test"); /* after the check ended */
    rua_ask(t, &a[ASK + 1], "mta-sts.expired.test");
    run();
    json_t *o = json_loads(a[0].text ? a[0].text : "", 0, NULL);
    CHECK_STR(str(o, "result"), "ok");
    CHECK_STR(str(o, "tls.verify"), "ok");
    CHECK(json_object_get(json_object_get(o, "tls"), "chain") == NULL); /* not kept */
    json_decref(o);
    for (int i = 1; i <= ASK; i++)
        CHECK_STR(a[i].text, a[0].text); /* the very same observation */
    CHECK_STR(a[ASK + 1].text, "{\"result\":\"limit\"}");
    CHECK_INT(server_count("conns", "mta-sts.ok.test"), 1);
    CHECK_INT(server_count("requests", "mta-sts.ok.test"), 0);
    CHECK_INT(server_count("conns", "mta-sts.expired.test"), 0);
    mts_rua_tls_stats(t, &st);
    CHECK_INT(st.checks, 1);
    CHECK_INT(st.requests, ASK + 2);
    CHECK_INT(st.limited, 1);
    CHECK(st.bytes > 0 && st.bytes <= 1400);
    for (int i = 0; i < ASK + 2; i++)
        free(a[i].text);
    mts_rua_tls_free(t);

    /* No descriptor: local-error, not kept; asked again with descriptors, checked. */
    CHECK_INT(mts_rua_tls_new(&t, base, h, MTS_DEFAULT_RUA_TLS_BYTES), 0);
    json_decref(https_server_cmd(&srv, "reset"));
    starve_descriptors(base);
    rua_ask(t, &a[0], "mta-sts.ok.test");
    run();
    restore_descriptors(-1, 0, NULL);
    rua_ask(t, &a[1], "mta-sts.ok.test");
    run();
    o = json_loads(a[0].text ? a[0].text : "", 0, NULL);
    CHECK_STR(str(o, "result"), "local-error");
    json_decref(o);
    o = json_loads(a[1].text ? a[1].text : "", 0, NULL);
    CHECK_STR(str(o, "result"), "ok");
    json_decref(o);
    CHECK_INT(server_count("conns", "mta-sts.ok.test"), 1);
    mts_rua_tls_stats(t, &st);
    CHECK_INT(st.checks, 2);
    free(a[0].text);
    free(a[1].text);
    mts_rua_tls_free(t);
    mts_https_free(h);
}

static void group_hostile(void)
{
    struct mts_https *h = NULL;
    struct mts_https_opts o = {.ca_file = "/nonexistent/ca.pem", .port = (uint16_t)srv.port};
    CHECK(mts_https_new(&h, base, &o) != 0);
    CHECK(h == NULL);

    h = new_fetcher(false, 10, NULL);
    const char *lo[] = {"127.0.0.1"};
    struct result type, loc;
    start(h, &type, "mta-sts.badtype.test", lo, 1);
    start(h, &loc, "mta-sts.badloc.test", lo, 1);
    run();
    CHECK_STR(str(type.obs, "result"), "ok");
    CHECK_INT(num(type.obs, "http_status"), 200);
    CHECK_STR(str(type.obs, "content_type.hex"), "746578742f706c61696e3b20636861727365743dff");
    CHECK_STR(str(type.obs, "tls.verify"), "ok");
    CHECK_STR(str(type.obs, "tls.sni"), "mta-sts.badtype.test");
    CHECK(json_array_size(json_object_get(json_object_get(type.obs, "tls"), "chain")) == 1);
    CHECK_INT(num(type.obs, "body.len"), strlen(POLICY));
    CHECK_STR(str(loc.obs, "result"), "redirect");
    CHECK_STR(str(loc.obs, "content_type"), "text/html");
    CHECK_STR(str(loc.obs, "location.hex"), "68747470733a2f2f7777772ee92e746573742f");
    CHECK_STR(str(loc.obs, "tls.verify"), "ok");
    result_free(&type);
    result_free(&loc);
    mts_https_free(h);
}

static void group_limits(void)
{
    const char *lo[] = {"127.0.0.1"}, *both[] = {"127.0.0.1", "127.0.0.2"};
    struct result r[3];

    /* Out of descriptors for 300 ms: the fetch backs off and then succeeds. */
    struct mts_https *h = new_fetcher(false, 4, NULL);
    starve_descriptors(base);
    struct timeval later = {0, 300 * 1000};
    event_base_once(base, -1, EV_TIMEOUT, restore_descriptors, NULL, &later);
    start(h, &r[0], "mta-sts.ok.test", lo, 1);
    run();
    check_ok(&r[0], "mta-sts.ok.test", "127.0.0.1", "text/plain", POLICY);
    result_free(&r[0]);

    /* Never a descriptor: local-error, never a connect failure of the server. */
    starve_descriptors(base);
    start(h, &r[0], "mta-sts.ok.test", lo, 1);
    run();
    restore_descriptors(-1, 0, NULL);
    CHECK_STR(str(r[0].obs, "result"), "local-error");
    CHECK_STR(keys(r[0].obs), "addr,curl_error,port,result,url,why");
    CHECK_STR(str(r[0].obs, "curl_error"), strerror(EMFILE));
    struct mts_https_stats hs;
    mts_https_get_stats(h, &hs);
    CHECK_INT(hs.by_result[MTS_FETCH_LOCAL_ERROR], 1);
    CHECK_INT(hs.by_result[MTS_FETCH_ERROR], 0);
    CHECK_INT(hs.by_result[MTS_FETCH_CONNECT_REFUSED], 0);
    result_free(&r[0]);
    mts_https_free(h);

    /* A stalling server holds 127.0.0.1's only slot: a fetch with another address moves
       on to it, one without ends as queue-timeout at the admission deadline. */
    struct mts_conn_limit *lim = NULL;
    CHECK_INT(mts_conn_limit_new(&lim, base, 1, 100), 0);
    mts_conn_limit_set_wait_ms(lim, 200);
    h = new_fetcher(false, 10, lim);
    start(h, &r[0], "mta-sts.stall.test", lo, 1);
    start(h, &r[1], "mta-sts.ok.test", both, 2);
    start(h, &r[2], "mta-sts.ok.test", lo, 1);
    run();
    CHECK_STR(str(r[0].obs, "result"), "timeout");
    check_ok(&r[1], "mta-sts.ok.test", "127.0.0.2", "text/plain", POLICY);
    CHECK_STR(str(r[2].obs, "result"), "queue-timeout");
    CHECK_STR(str(r[2].obs, "addr"), "127.0.0.1");
    for (int i = 0; i < 3; i++) {
        result_free(&r[i]);
    }
    mts_https_free(h);
    mts_conn_limit_free(lim);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s CERTDIR SERVER_SCRIPT GROUP\n", argv[0]);
        return 2;
    }
    certdir = argv[1];
    script = argv[2];
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    base = event_base_new();
    https_server_start(&srv, script, certdir);
    if (strcmp(argv[3], "basic") == 0) {
        group_basic();
    } else if (strcmp(argv[3], "certs") == 0) {
        group_certs();
    } else if (strcmp(argv[3], "concurrency") == 0) {
        group_concurrency();
    } else if (strcmp(argv[3], "nodns") == 0) {
        group_nodns();
    } else if (strcmp(argv[3], "cancel") == 0) {
        group_cancel();
    } else if (strcmp(argv[3], "coding") == 0) {
        group_coding();
    } else if (strcmp(argv[3], "handshake") == 0) {
        group_handshake();
    } else if (strcmp(argv[3], "ruatls") == 0) {
        group_ruatls();
    } else if (strcmp(argv[3], "hostile") == 0) {
        group_hostile();
    } else if (strcmp(argv[3], "limits") == 0) {
        group_limits();
    } else {
        fprintf(stderr, "unknown group %s\n", argv[3]);
        https_server_stop(&srv);
        return 2;
    }
    https_server_stop(&srv);
    event_base_free(base);
    curl_global_cleanup();
    return check_exit();
}
