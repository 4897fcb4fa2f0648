/*
 * The SMTP prober against a scripted server (smtp_fake_server.py) on loopback: one session
 * per behaviour, well-behaved and hostile, checking each MX probe record's result, stage
 * and fields, that every hostile session ends within a bound derived from its timeout,
 * that QUIT is sent where the connection allows it, that the connection limiter holds at
 * the server, that the MX-probe cache turns 100 requests into one session, and that running
 * out of descriptors is this machine's local-error, never the server's failure.
 * Usage: smtp_probe_test SERVER_SCRIPT CERT_DIR
 */
#include "check.h"
#include "fd_starve.h"
#include "conn_limit.h"
#include "mts_defaults.h"
#include "mxprobe_cache.h"
#include "mts_util.h"
#include "smtp_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#define MX   "mx1.example.test"
#define MXW  "\003mx1\007example\004test" /* MX in wire form (the NUL ends it) */
#define EHLO "scanner.test"

extern char **environ;

static unsigned port;
static char ca_file[512];
static struct event_base *base;

/* --- the scripted server ------------------------------------------------------------ */

static pid_t server_pid;
static int server_stdin = -1;

static int server_start(const char *script, const char *certs)
{
    int in[2], out[2];
    if (pipe(in) < 0 || pipe(out) < 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    char *argv[] = {"/usr/bin/python3", (char *)script, (char *)certs, NULL};
    int rc = posix_spawn(&server_pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0)
        return -1;
    server_stdin = in[1];
    FILE *f = fdopen(out[0], "r");
    char line[64];
    int ok = f && fgets(line, sizeof(line), f) && sscanf(line, "PORT %u", &port) == 1;
    if (f)
        fclose(f);
    return ok ? 0 : -1;
}

static void server_stop(void)
{
    close(server_stdin);
    int status;
    for (int i = 0; i < 50; i++) {
        if (waitpid(server_pid, &status, WNOHANG) == server_pid)
            return;
        usleep(100000);
    }
    kill(server_pid, SIGKILL);
    waitpid(server_pid, &status, 0);
}

/* The server's per-address counters: {"127.83.0.N": {"sessions", "max", "quit", ...}}. */
static json_t *server_stats(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.83.0.1", &sa.sin_addr);
    char buf[65536];
    size_t n = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        ssize_t r;
        while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
            n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    json_t *j = json_loads(buf, 0, NULL);
    CHECK(j != NULL);
    return j;
}

static long server_count(json_t *stats, int n, const char *what)
{
    char addr[32];
    snprintf(addr, sizeof(addr), "127.83.0.%d", n);
    return (long)json_integer_value(json_object_get(json_object_get(stats, addr), what));
}

/* --- running probes ----------------------------------------------------------------- */

struct probe {
    int n; /* address 127.83.0.n */
    json_t *rec;
    int calls;
    double t0, elapsed;
};

static int pending;

static void probe_done(void *arg, json_t *rec)
{
    struct probe *p = arg;
    p->calls++;
    p->elapsed = mts_now_ms() - p->t0;
    json_decref(p->rec);
    p->rec = rec;
    if (--pending == 0)
        event_base_loopbreak(base);
}

static void start(struct mts_smtp *smtp, struct probe *p, int n)
{
    char addr[32];
    snprintf(addr, sizeof(addr), "127.83.0.%d", n);
    p->n = n;
    p->t0 = mts_now_ms();
    CHECK_INT(mts_smtp_probe(smtp, (const unsigned char *)MXW, sizeof MXW, addr, probe_done, p), 0);
    pending++;
}

static void run_until_done(void)
{
    struct timeval limit = {30, 0};
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    CHECK_INT(pending, 0);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static size_t lines(json_t *rec, const char *key)
{
    return json_array_size(json_object_get(rec, key));
}

static struct mts_smtp_opts test_opts(void)
{
    struct mts_smtp_opts o = {.ehlo_name = EHLO,
                              .scan_id = "t",
                              .port = port,
                              .connect_ms = 2000,
                              .banner_ms = 1000,
                              .ehlo_ms = 1000,
                              .starttls_ms = 1000,
                              .handshake_ms = 1000,
                              .quit_ms = 500,
                              .session_ms = 4000,
                              .ca_file = ca_file};
    return o;
}

static int traced;

static void trace(void *arg, const char *line)
{
    (void)arg;
    traced++;
    if (getenv("SMTP_TEST_TRACE"))
        fprintf(stderr, "%s\n", line);
}

/* --- the behaviours ----------------------------------------------------------------- */

struct want {
    int n;
    const char *behaviour, *result, *stage;
    double max_ms; /* generous bound on the session's duration */
    long quits;    /* QUIT commands the server must have seen */
};

static const struct want wants[] = {
    {2, "normal", "ok", "done", 1500, 1},
    {3, "multiline-banner", "ok", "done", 1500, 1},
    {4, "banner-421", "banner-4xx", "banner", 1500, 1},
    {5, "banner-554", "banner-5xx", "banner", 1500, 1},
    {6, "stall-banner", "timeout", "banner", 2500, 0},
    {7, "garbage-banner", "banner-malformed", "banner", 1500, 1},
    {8, "endless-banner", "too-long", "banner", 2500, -1},
    {9, "no-starttls", "no-starttls", "ehlo", 1500, 1},
    {10, "starttls-454", "starttls-rejected", "starttls", 1500, 1},
    {11, "injection", "ok", "done", 1500, 1},
    {12, "reset-banner", "connect-refused", "connect", 1500, 0}, /* a reset before any byte */
    {13, "reset-ehlo", "reset", "ehlo", 1500, 0},
    {14, "reset-starttls", "reset", "starttls", 1500, 0},
    {15, "reset-handshake", "reset", "handshake", 1500, 0},
    {16, "stall-handshake", "timeout", "handshake", 2500, 0},
    {17, "tls11-only", "ok", "done", 1500, 1},
    {18, "expired", "ok", "done", 1500, 1},
    {19, "wrong-name", "ok", "done", 1500, 1},
    {20, "self-signed", "ok", "done", 1500, 1},
    {21, "drip-banner", "timeout", "banner", 2500, 0},
    {23, "ehlo-502", "ehlo-rejected", "ehlo", 1500, 1},
    {24, "long-line", "too-long", "banner", 1500, -1},
    {26, "refused", "connect-refused", "connect", 1500, 0},
    {27, "quit-stall", "ok", "quit", 2000, 1},
    {28, "stall-ehlo", "timeout", "ehlo", 2500, 1},
    {29, "garbage-handshake", "handshake-failed", "handshake", 1500, 0},
};
#define NWANTS (sizeof(wants) / sizeof(wants[0]))

static void check_tls(json_t *rec, const char *verify, const char *version)
{
    json_t *tls = json_object_get(rec, "tls");
    CHECK_STR(str(tls, "verify"), verify);
    CHECK_STR(str(tls, "sni"), MX);
    if (version)
        CHECK_STR(str(tls, "version"), version);
    CHECK(json_array_size(json_object_get(tls, "chain")) >= 1);
}

static void check_details(const struct want *w, json_t *rec, json_t *stats)
{
    json_t *ms = json_object_get(rec, "ms");
    CHECK(json_is_number(json_object_get(ms, "total")));
    if (strcmp(w->behaviour, "normal") == 0) {
        CHECK_INT(json_integer_value(json_object_get(rec, "v")), 1);
        CHECK_STR(str(rec, "scan"), "t");
        CHECK_STR(str(rec, "host"), MX);
        CHECK_STR(str(rec, "addr"), "127.83.0.2");
        CHECK_INT(json_integer_value(json_object_get(rec, "port")), port);
        CHECK(json_real_value(json_object_get(rec, "t_start")) > 1e9);
        CHECK_INT(lines(rec, "banner"), 1);
        CHECK_STR(json_string_value(json_array_get(json_object_get(rec, "banner"), 0)),
                  "220 " MX " ESMTP fake");
        CHECK_INT(lines(rec, "ehlo"), 4);
        json_t *caps = json_object_get(rec, "capabilities");
        CHECK_INT(json_array_size(caps), 3);
        CHECK_STR(json_string_value(json_array_get(caps, 0)), "PIPELINING");
        CHECK_STR(json_string_value(json_array_get(caps, 1)), "SIZE");
        CHECK_STR(json_string_value(json_array_get(caps, 2)), "STARTTLS");
        CHECK_STR(json_string_value(json_array_get(json_object_get(rec, "starttls"), 0)),
                  "220 2.0.0 Ready to start TLS");
        CHECK_INT(json_integer_value(json_object_get(rec, "injection")), 0);
        CHECK_STR(json_string_value(json_array_get(json_object_get(rec, "quit"), 0)),
                  "221 2.0.0 Bye");
        check_tls(rec, "ok", "TLSv1.3");
        const char *keys[] = {"connect", "banner", "ehlo", "starttls", "handshake", "quit"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            CHECK(json_is_number(json_object_get(ms, keys[i])));
        CHECK_STR(json_string_value(json_object_get(json_object_get(stats, "127.83.0.2"), "ehlo")),
                  EHLO);
    } else if (strcmp(w->behaviour, "multiline-banner") == 0) {
        CHECK_INT(lines(rec, "banner"), 3);
    } else if (strcmp(w->behaviour, "banner-421") == 0 || strcmp(w->behaviour, "ehlo-502") == 0 ||
               strcmp(w->behaviour, "starttls-454") == 0 ||
               strcmp(w->behaviour, "stall-ehlo") == 0) {
        CHECK_STR(json_string_value(json_array_get(json_object_get(rec, "quit"), 0)),
                  "221 2.0.0 Bye");
    } else if (strcmp(w->behaviour, "endless-banner") == 0) {
        CHECK_INT(lines(rec, "banner"), MTS_DEFAULT_SMTP_MAX_LINES);
    } else if (strcmp(w->behaviour, "long-line") == 0) {
        CHECK_INT(strlen(json_string_value(json_array_get(json_object_get(rec, "banner"), 0))),
                  MTS_DEFAULT_SMTP_MAX_LINE);
    } else if (strcmp(w->behaviour, "no-starttls") == 0) {
        CHECK_INT(json_array_size(json_object_get(rec, "capabilities")), 2);
        CHECK(json_object_get(rec, "tls") == NULL);
    } else if (strcmp(w->behaviour, "injection") == 0) {
        CHECK_INT(json_integer_value(json_object_get(rec, "injection")),
                  strlen("250-injected\r\n250 more\r\n"));
        check_tls(rec, "ok", NULL);
    } else if (strcmp(w->behaviour, "tls11-only") == 0) {
        check_tls(rec, "ok", "TLSv1.1");
    } else if (strcmp(w->behaviour, "expired") == 0) {
        check_tls(rec, "expired", NULL);
    } else if (strcmp(w->behaviour, "wrong-name") == 0) {
        check_tls(rec, "name-mismatch", NULL);
    } else if (strcmp(w->behaviour, "self-signed") == 0) {
        check_tls(rec, "self-signed", NULL);
    } else if (strcmp(w->behaviour, "quit-stall") == 0) {
        check_tls(rec, "ok", NULL);
        CHECK_INT(lines(rec, "quit"), 0);
    } else if (strcmp(w->behaviour, "garbage-handshake") == 0) {
        CHECK(str(rec, "detail") != NULL);
        CHECK(json_object_get(rec, "tls") == NULL);
    } else if (strcmp(w->behaviour, "stall-handshake") == 0 ||
               strcmp(w->behaviour, "reset-handshake") == 0) {
        CHECK_INT(json_integer_value(json_object_get(rec, "injection")), 0);
    }
}

static void test_behaviours(void)
{
    struct mts_smtp_opts o = test_opts();
    o.trace = trace;
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    struct probe p[NWANTS];
    memset(p, 0, sizeof(p));
    for (size_t i = 0; i < NWANTS; i++)
        start(smtp, &p[i], wants[i].n);
    CHECK_INT(pending, NWANTS);
    for (size_t i = 0; i < NWANTS; i++)
        CHECK_INT(p[i].calls, 0); /* never from inside mts_smtp_probe */
    run_until_done();
    json_t *stats = server_stats();
    for (size_t i = 0; i < NWANTS; i++) {
        const struct want *w = &wants[i];
        fprintf(stderr, "-- %s: %s/%s in %.0f ms\n", w->behaviour, str(p[i].rec, "result"),
                str(p[i].rec, "stage"), p[i].elapsed);
        if (getenv("SMTP_TEST_TRACE")) {
            char *dump = json_dumps(p[i].rec, JSON_COMPACT);
            fprintf(stderr, "%s\n", dump);
            free(dump);
        }
        CHECK_INT(p[i].calls, 1);
        CHECK_STR(str(p[i].rec, "result"), w->result);
        CHECK_STR(str(p[i].rec, "stage"), w->stage);
        CHECK(p[i].elapsed < w->max_ms);
        if (w->quits >= 0)
            CHECK_INT(server_count(stats, w->n, "quit"), w->quits);
        check_details(w, p[i].rec, stats);
        json_decref(p[i].rec);
    }
    json_decref(stats);
    struct mts_smtp_stats st;
    mts_smtp_stats(smtp, &st);
    CHECK_INT(st.sessions, 0);
    CHECK_INT(st.max_sessions, NWANTS);
    CHECK_INT(st.finished, NWANTS);
    CHECK_INT(st.by_result[MTS_SMTP_OK], 8);
    CHECK_INT(st.by_result[MTS_SMTP_RESET], 3);
    CHECK_INT(st.by_result[MTS_SMTP_CONNECT_REFUSED], 2);
    CHECK(traced > 0);
    mts_smtp_free(smtp);
}

/* The whole-session deadline wins over longer stage timeouts. */
static void test_deadline(void)
{
    struct mts_smtp_opts o = test_opts();
    o.banner_ms = 10000;
    o.session_ms = 700;
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    struct probe p = {0};
    start(smtp, &p, 21);
    run_until_done();
    CHECK_STR(str(p.rec, "result"), "timeout");
    CHECK_STR(str(p.rec, "stage"), "banner");
    CHECK_STR(str(p.rec, "detail"), "deadline");
    CHECK(p.elapsed >= 650 && p.elapsed < 1500);
    json_decref(p.rec);
    mts_smtp_free(smtp);
}

/* per_ip 2 holds at the server: six sessions to one address, never more than two at once. */
static void test_per_ip(void)
{
    struct mts_smtp_opts o = test_opts();
    o.per_ip = 2;
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    struct probe p[6];
    memset(p, 0, sizeof(p));
    for (int i = 0; i < 6; i++)
        start(smtp, &p[i], 22);
    run_until_done();
    for (int i = 0; i < 6; i++) {
        CHECK_STR(str(p[i].rec, "result"), "ok");
        json_decref(p[i].rec);
    }
    json_t *stats = server_stats();
    CHECK_INT(server_count(stats, 22, "sessions"), 6);
    CHECK_INT(server_count(stats, 22, "max"), 2);
    json_decref(stats);
    mts_smtp_free(smtp);
}

/* A shared limiter's total bound holds across addresses. */
static void test_total(void)
{
    struct mts_conn_limit *lim;
    CHECK_INT(mts_conn_limit_new(&lim, base, 1, 2), 0);
    struct mts_smtp_opts o = test_opts();
    o.conn_limit = lim;
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    struct probe p[6];
    memset(p, 0, sizeof(p));
    for (int i = 0; i < 6; i++)
        start(smtp, &p[i], i % 2 ? 22 : 3);
    run_until_done();
    for (int i = 0; i < 6; i++) {
        CHECK_STR(str(p[i].rec, "result"), "ok");
        json_decref(p[i].rec);
    }
    struct mts_conn_limit_stats ls;
    mts_conn_limit_stats(lim, &ls);
    CHECK_INT(ls.max_active, 2);
    CHECK_INT(ls.active, 0);
    json_t *stats = server_stats();
    CHECK_INT(server_count(stats, 22, "max"), 2); /* from test_per_ip; now at most 1 */
    json_decref(stats);
    mts_smtp_free(smtp);
    mts_conn_limit_free(lim);
}

/* --- the MX-probe cache ------------------------------------------------------------- */

static int finished_calls, answered_before_finish, with_record;

static void on_finished(void *arg, const char *host, const char *addr, json_t *rec)
{
    (void)arg;
    finished_calls++;
    CHECK_STR(host, MX);
    CHECK_STR(addr, "127.83.0.25");
    CHECK_STR(str(rec, "result"), "ok");
    json_decref(rec); /* the hook owns its reference */
}

struct req {
    int calls;
};

static void req_done(void *arg, const json_t *rec)
{
    struct req *r = arg;
    r->calls++;
    if (finished_calls == 0)
        answered_before_finish++;
    if (rec) {
        with_record++;
        CHECK_STR(json_string_value(json_object_get(rec, "result")), "ok");
        CHECK_STR(json_string_value(json_object_get(rec, "stage")), "done");
    }
    if (--pending == 0)
        event_base_loopbreak(base);
}

static void test_cache(void)
{
    struct mts_smtp_opts o = test_opts();
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    struct mts_mxprobe_cache *cache;
    CHECK_INT(mts_mxprobe_cache_new(&cache, smtp, on_finished, NULL), 0);
    static struct req reqs[101];
    for (int i = 0; i < 100; i++) {
        CHECK_INT(mts_mxprobe_request(cache, MX, "127.83.0.25", req_done, &reqs[i]), 0);
        pending++;
    }
    run_until_done();
    int once = 1;
    for (int i = 0; i < 100; i++)
        once &= reqs[i].calls == 1;
    CHECK(once);
    CHECK_INT(finished_calls, 1);
    CHECK_INT(answered_before_finish, 0);
    CHECK_INT(with_record, 100);
    /* A later request: answered from the loop, without a record (it is in the store). */
    CHECK_INT(mts_mxprobe_request(cache, MX, "127.83.0.25", req_done, &reqs[100]), 0);
    pending++;
    CHECK_INT(reqs[100].calls, 0);
    run_until_done();
    CHECK_INT(reqs[100].calls, 1);
    CHECK_INT(with_record, 100);
    CHECK_INT(finished_calls, 1);
    json_t *stats = server_stats();
    CHECK_INT(server_count(stats, 25, "sessions"), 1);
    json_decref(stats);
    struct mts_mxprobe_cache_stats cs;
    mts_mxprobe_cache_stats(cache, &cs);
    CHECK_INT(cs.keys, 1);
    CHECK_INT(cs.requests, 101);
    CHECK_INT(cs.joined, 99);
    CHECK_INT(cs.hits, 1);
    CHECK_INT(cs.running, 0);
    CHECK_INT(mts_mxprobe_request(cache, MX, "not-an-address", req_done, NULL), -EINVAL);
    mts_mxprobe_cache_free(cache);
    mts_smtp_free(smtp);
}

static int bounded_finished;

static void on_bounded_finished(void *arg, const char *host, const char *addr, json_t *rec)
{
    (void)arg, (void)host, (void)addr;
    bounded_finished++;
    json_decref(rec);
}

static void count_done(void *arg, const json_t *rec)
{
    struct req *r = arg;
    r->calls++;
    if (rec) /* ok: the certificate is for another name */
        CHECK_STR(json_string_value(json_object_get(rec, "result")), "ok");
    if (--pending == 0)
        event_base_loopbreak(base);
}

/* Requests one key and runs the loop until it is answered. */
static void request_one(struct mts_mxprobe_cache *cache, int k, struct req *r)
{
    char host[32];
    snprintf(host, sizeof(host), "mx%d.example.test", k);
    CHECK_INT(mts_mxprobe_request(cache, host, "127.83.0.2", count_done, r), 0);
    pending++;
    run_until_done();
}

/* Past its byte bound the cache forgets the oldest finished keys: a forgotten key asked
   again is probed again, a kept one is still answered without a new probe. */
static void test_cache_bytes(void)
{
    struct mts_smtp_opts o = test_opts();
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    struct mts_mxprobe_cache *cache;
    CHECK_INT(mts_mxprobe_cache_new(&cache, smtp, on_bounded_finished, NULL), 0);
    static struct req reqs[8];
    struct mts_mxprobe_cache_stats cs;
    request_one(cache, 0, &reqs[0]);
    mts_mxprobe_cache_stats(cache, &cs);
    size_t one = cs.bytes; /* every key here has the same size */
    CHECK(one > 0);
    mts_mxprobe_cache_set_max_bytes(cache, 3 * one + one / 2);
    for (int k = 1; k < 6; k++)
        request_one(cache, k, &reqs[k]);
    mts_mxprobe_cache_stats(cache, &cs);
    CHECK(cs.bytes <= 3 * one + one / 2);
    CHECK_INT(cs.evicted, 3);
    CHECK_INT(bounded_finished, 6);
    json_t *before = server_stats();
    request_one(cache, 0, &reqs[6]); /* forgotten: probed again */
    request_one(cache, 5, &reqs[7]); /* kept: a hit */
    json_t *after = server_stats();
    CHECK_INT(server_count(after, 2, "sessions") - server_count(before, 2, "sessions"), 1);
    CHECK_INT(bounded_finished, 7);
    mts_mxprobe_cache_stats(cache, &cs);
    CHECK_INT(cs.keys, 7);
    CHECK_INT(cs.hits, 1);
    CHECK(cs.bytes <= 3 * one + one / 2);
    json_decref(before);
    json_decref(after);
    mts_mxprobe_cache_free(cache);
    mts_smtp_free(smtp);
}

static void local_done(void *arg, const json_t *rec)
{
    int *result = arg;
    *result = (int)mts_smtp_result_parse(json_string_value(json_object_get(rec, "result")));
    if (--pending == 0)
        event_base_loopbreak(base);
}

/* A key whose probe this machine could not make is not kept: asked again, it is probed
   again once descriptors are back. */
static void test_cache_local_error(void)
{
    struct mts_smtp_opts o = test_opts();
    o.session_ms = 1000;
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    struct mts_mxprobe_cache *cache;
    CHECK_INT(mts_mxprobe_cache_new(&cache, smtp, on_bounded_finished, NULL), 0);
    int first = -1, second = -1;
    starve_descriptors(base);
    CHECK_INT(mts_mxprobe_request(cache, MX, "127.83.0.2", local_done, &first), 0);
    pending++;
    run_until_done();
    restore_descriptors(-1, 0, NULL);
    CHECK_INT(first, MTS_SMTP_LOCAL_ERROR);
    CHECK_INT(mts_mxprobe_request(cache, MX, "127.83.0.2", local_done, &second), 0);
    pending++;
    run_until_done();
    CHECK_INT(second, MTS_SMTP_OK);
    struct mts_mxprobe_cache_stats cs;
    mts_mxprobe_cache_stats(cache, &cs);
    CHECK_INT(cs.keys, 2);
    CHECK_INT(cs.hits, 0);
    mts_mxprobe_cache_free(cache);
    mts_smtp_free(smtp);
}

/* --- API edges ---------------------------------------------------------------------- */

static void never(void *arg, json_t *rec)
{
    (void)arg;
    (void)rec;
    CHECK(!"callback after mts_smtp_free");
}

static void test_api(void)
{
    struct mts_smtp_opts o = test_opts();
    struct mts_smtp *smtp;
    o.ehlo_name = "bad name";
    CHECK_INT(mts_smtp_new(&smtp, base, &o), -EINVAL);
    o.ehlo_name = EHLO;
    o.ca_file = "/nonexistent/ca.pem";
    CHECK_INT(mts_smtp_new(&smtp, base, &o), -ENOENT);
    o.ca_file = ca_file;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    CHECK_INT(
        mts_smtp_probe(smtp, (const unsigned char *)MXW, sizeof MXW, "127.0.0.300", never, NULL),
        -EINVAL);
    CHECK_INT(mts_smtp_probe(smtp, (const unsigned char *)"", 1, "127.83.0.2", never, NULL),
              -EINVAL);
    /* Sessions in flight (one connected and stalled, two waiting for a slot) are aborted. */
    for (int i = 0; i < 3; i++)
        CHECK_INT(
            mts_smtp_probe(smtp, (const unsigned char *)MXW, sizeof MXW, "127.83.0.6", never, NULL),
            0);
    struct timeval tv = {0, 200000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    mts_smtp_free(smtp);
    event_base_loop(base, EVLOOP_NONBLOCK);

    CHECK_STR(mts_smtp_result_name(MTS_SMTP_STARTTLS_REJECTED), "starttls-rejected");
    CHECK_INT(mts_smtp_result_parse("too-long"), MTS_SMTP_TOO_LONG);
    CHECK_INT(mts_smtp_result_parse("nonsense"), MTS_SMTP_RESULT_UNKNOWN);
    CHECK_STR(mts_smtp_stage_name(MTS_SMTP_STAGE_HANDSHAKE), "handshake");
    CHECK_STR(mts_smtp_strerror(-ENOENT), "CA file could not be loaded");
    CHECK_INT(mts_smtp_stage_parse("quit"), MTS_SMTP_STAGE_QUIT);
}

static void keep_record(void *arg, json_t *rec)
{
    *(json_t **)arg = rec;
    event_base_loopbreak(base);
}

/* An MX name whose labels hold control bytes (three labels of 60 x 0x01): over 700
   characters in presentation form, 197 octets on the wire. The prober takes it, sends no
   SNI, checks no certificate name against it and says so in the record. */
static void test_hostile_name(void)
{
    struct mts_smtp_opts o = test_opts();
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    unsigned char name[255];
    size_t n = 0;
    for (int label = 0; label < 3; label++) {
        name[n++] = 60;
        memset(name + n, 1, 60);
        n += 60;
    }
    memcpy(name + n, MXW + 4, sizeof MXW - 4); /* example.test and the root */
    n += sizeof MXW - 4;
    CHECK_INT(n, 197);
    CHECK_INT(mts_smtp_probe(smtp, name, n - 1, "127.83.0.2", never, NULL), -EINVAL);
    name[0] = 64;
    CHECK_INT(mts_smtp_probe(smtp, name, n, "127.83.0.2", never, NULL), -EINVAL);
    name[0] = 60;
    json_t *rec = NULL;
    CHECK_INT(mts_smtp_probe(smtp, name, n, "127.83.0.2", keep_record, &rec), 0);
    struct timeval limit = {10, 0};
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    CHECK(rec != NULL);
    CHECK_STR(str(rec, "result"), "ok");
    CHECK(json_is_false(json_object_get(rec, "hostname")));
    const char *host = str(rec, "host");
    CHECK(host && strlen(host) == 3 * 241 + strlen("example.test"));
    CHECK(host && strncmp(host, "\\001\\001", 8) == 0 && strstr(host, ".example.test"));
    json_t *tls = json_object_get(rec, "tls");
    CHECK(json_object_get(tls, "sni") == NULL);
    CHECK(json_array_size(json_object_get(tls, "chain")) >= 1);
    json_decref(rec);
    mts_smtp_free(smtp);
}

/* EMFILE at connect time backs off and retries: the probe succeeds once descriptors come
   back, and a probe that never gets one is a local-error, not a connect failure. */
static void test_local_limits(void)
{
    struct mts_smtp_opts o = test_opts();
    o.session_ms = 1500;
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);

    struct probe p = {0};
    starve_descriptors(base);
    struct timeval later = {0, 300000};
    event_base_once(base, -1, EV_TIMEOUT, restore_descriptors, NULL, &later);
    start(smtp, &p, 2);
    run_until_done();
    CHECK_STR(str(p.rec, "result"), "ok");
    CHECK(p.elapsed >= 250);
    json_decref(p.rec);

    struct probe q = {0};
    starve_descriptors(base);
    start(smtp, &q, 2);
    run_until_done();
    restore_descriptors(-1, 0, NULL);
    CHECK_STR(str(q.rec, "result"), "local-error");
    CHECK_STR(str(q.rec, "stage"), "connect");
    CHECK(q.elapsed >= 1400 && q.elapsed < 3000);
    struct mts_smtp_stats st;
    mts_smtp_stats(smtp, &st);
    CHECK_INT(st.by_result[MTS_SMTP_LOCAL_ERROR], 1);
    CHECK_INT(st.by_result[MTS_SMTP_ERROR], 0);
    json_decref(q.rec);
    mts_smtp_free(smtp);
}

/* A slot that never comes within the admission deadline ends the probe as queue-timeout. */
static void test_queue_timeout(void)
{
    struct mts_conn_limit *lim;
    CHECK_INT(mts_conn_limit_new(&lim, base, 1, 10), 0);
    mts_conn_limit_set_wait_ms(lim, 200);
    struct mts_smtp_opts o = test_opts();
    o.conn_limit = lim;
    struct mts_smtp *smtp;
    CHECK_INT(mts_smtp_new(&smtp, base, &o), 0);
    struct probe p[2];
    memset(p, 0, sizeof(p));
    start(smtp, &p[0], 21); /* a stalling server holds the address's only slot */
    start(smtp, &p[1], 21);
    run_until_done();
    CHECK_STR(str(p[1].rec, "result"), "queue-timeout");
    CHECK_STR(str(p[1].rec, "stage"), "connect");
    CHECK(p[1].elapsed >= 150 && p[1].elapsed < 1000);
    CHECK_STR(str(p[0].rec, "result"), "timeout");
    json_decref(p[0].rec);
    json_decref(p[1].rec);
    mts_smtp_free(smtp);
    mts_conn_limit_free(lim);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SERVER_SCRIPT CERT_DIR\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", argv[2]);
    if (server_start(argv[1], argv[2]) < 0) {
        fprintf(stderr, "cannot start %s\n", argv[1]);
        return 1;
    }
    base = event_base_new();
    test_behaviours();
    test_deadline();
    test_per_ip();
    test_total();
    test_cache();
    test_api();
    test_hostile_name();
    test_local_limits();
    test_queue_timeout();
    test_cache_bytes();
    test_cache_local_error();
    event_base_free(base);
    server_stop();
    return check_exit();
}
