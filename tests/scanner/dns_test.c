/*
 * Tests of the DNS engine against the scripted responder in dns_fake.c, all on loopback
 * and one event loop: observation shapes byte for byte, retries across resolvers,
 * timeouts, TCP after truncation, spoofed replies, cache and coalescing, the in-flight and
 * rate limits (checked from the responder's side), 20,000 queries, freeing with queries
 * outstanding (leaks show up in the sanitizer build), the TCP bound and a machine out of
 * descriptors (local-error, never the resolver's failure), and the cache's byte bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "fd_starve.h"
#include <jansson.h>

#include "dns_engine.h"
#include "dns_fake.h"
#include "dns_internal.h"

static struct event_base *base;
static int pending; /* callbacks still expected; the loop stops at 0 */

struct result {
    json_t *obs;
    int called;
    int had_reply;
    char first_txt[16]; /* the first answer's strings, read off the reply in the callback */
};

/* The engine's JSON text as a tree (NULL stays NULL); frees the text. */
static json_t *parse_obs(char *text)
{
    json_t *obs = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(!text || obs);
    free(text);
    return obs;
}

static void on_result(void *arg, char *text, const struct mts_dns_reply *reply)
{
    struct result *r = arg;
    json_t *obs = parse_obs(text);
    r->called++;
    r->had_reply = reply != NULL;
    if (reply && reply->nan && reply->an[0].type == LDNS_RR_TYPE_TXT)
        r->first_txt[mts_wire_txt_join(reply, &reply->an[0], r->first_txt,
                                       sizeof r->first_txt - 1)] = '\0';
    json_decref(r->obs);
    r->obs = obs;
    if (--pending == 0)
        event_base_loopbreak(base);
}

static void on_count(void *arg, char *text, const struct mts_dns_reply *reply)
{
    int *n = arg;
    json_t *obs = parse_obs(text);
    const char *res = json_string_value(json_object_get(obs, "result"));
    (void)reply;
    n[0]++;
    n[1] += res && strcmp(res, "answer") == 0;
    json_decref(obs);
    if (--pending == 0)
        event_base_loopbreak(base);
}

static void on_unexpected(void *arg, char *obs, const struct mts_dns_reply *reply)
{
    (void)arg, (void)reply;
    free(obs);
    CHECK(!"callback after mts_dns_free");
}

/* Runs the loop until every expected callback came, or 60 s passed. */
static void run(void)
{
    struct timeval limit = {60, 0};
    event_base_loopexit(base, &limit);
    if (pending > 0)
        event_base_dispatch(base);
    CHECK_INT(pending, 0);
}

/* The observation without "ms" (which varies), compact, keys in the engine's order. */
static char *shape(json_t *obs)
{
    json_t *c = json_deep_copy(obs);
    char *s;
    json_object_del(c, "ms");
    s = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return s;
}

/* want: the expected JSON with one %s standing for the resolver. */
static void check_shape(int line, json_t *obs, const char *tmpl, const char *resolver)
{
    char want[4096], *got = obs ? shape(obs) : NULL;
    const char *hole = strstr(tmpl, "%s");
    snprintf(want, sizeof(want), "%.*s%s%s", (int)(hole - tmpl), tmpl, resolver, hole + 2);
    check_count++;
    if (!got || strcmp(got, want) != 0) {
        check_failures++;
        fprintf(stderr, "line %d:\n got  %s\n want %s\n", line, got ? got : "(null)", want);
    }
    free(got);
}
#define CHECK_SHAPE(obs, fmt, res) check_shape(__LINE__, obs, fmt, res)

static struct mts_dns *engine(struct fake_dns **servers, size_t n, struct mts_dns_opts *o,
                              char names[][32])
{
    const char *list[4];
    struct mts_dns *d = NULL;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], 32, "127.0.0.1:%u", fake_dns_port(servers[i]));
        list[i] = names[i];
    }
    o->resolvers = list;
    o->nresolvers = n;
    CHECK_INT(mts_dns_new(&d, base, o), 0);
    return d;
}

static void ask(struct mts_dns *d, const char *name, ldns_rr_type t, unsigned flags,
                struct result *r)
{
    memset(r, 0, sizeof *r);
    CHECK_INT(mts_dns_query(d, name, t, flags, on_result, r), 0);
    pending++;
}

static void test_parse(void)
{
    struct mts_dns_addr a;
    char buf[MTS_DNS_ADDRSTRLEN], path[] = "/tmp/mts-dns-resolv-XXXXXX";
    const char *bad[] = {"1.2.3",  "1.2.3.4:0", "1.2.3.4:70000", "[::1",
                         "[::1]x", "[1.2.3.4]", "host.test",     ""};
    struct mts_dns_opts o = {0};
    struct mts_dns *d = NULL;
    int fd;

    CHECK_INT(mts_dns_addr_parse("192.0.2.1", &a), 0);
    mts_dns_addr_format(&a, buf, sizeof(buf));
    CHECK_STR(buf, "192.0.2.1:53");
    CHECK_INT(mts_dns_addr_parse("192.0.2.1:5353", &a), 0);
    mts_dns_addr_format(&a, buf, sizeof(buf));
    CHECK_STR(buf, "192.0.2.1:5353");
    CHECK_INT(mts_dns_addr_parse("[::1]:5300", &a), 0);
    mts_dns_addr_format(&a, buf, sizeof(buf));
    CHECK_STR(buf, "[::1]:5300");
    CHECK_INT(mts_dns_addr_parse("2001:db8::53", &a), 0);
    mts_dns_addr_format(&a, buf, sizeof(buf));
    CHECK_STR(buf, "[2001:db8::53]:53");
    CHECK_INT(mts_dns_addr_parse("[2001:db8::1]", &a), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(mts_dns_addr_parse(bad[i], &a), MTS_DNS_ERESOLVER);

    fd = mkstemp(path);
    CHECK(fd >= 0);
    {
        static const char conf[] = "# comment\nsearch example.test\nnameserver 127.0.0.53\n"
                                   "nameserver   ::1  # local\nnameserver fe80::1%eth0\n"
                                   "nameserver\noptions edns0\nnameserver 10.0.0.1;x\n";
        CHECK_INT(write(fd, conf, sizeof(conf) - 1), sizeof(conf) - 1);
    }
    close(fd);
    o.resolv_conf = path;
    CHECK_INT(mts_dns_new(&d, base, &o), 0);
    CHECK_INT(mts_dns_nresolvers(d), 3);
    CHECK_STR(mts_dns_resolver(d, 0), "127.0.0.53:53");
    CHECK_STR(mts_dns_resolver(d, 1), "[::1]:53");
    CHECK_STR(mts_dns_resolver(d, 2), "10.0.0.1:53");
    mts_dns_free(d);
    unlink(path);
    o.resolv_conf = "/nonexistent/resolv.conf";
    CHECK_INT(mts_dns_new(&d, base, &o), MTS_DNS_ENORESOLVER);
    {
        const char *list[] = {"127.0.0.1:53", "nope"};
        struct mts_dns_opts o2 = {.resolvers = list, .nresolvers = 2};
        CHECK_INT(mts_dns_new(&d, base, &o2), MTS_DNS_ERESOLVER);
        o2.nresolvers = 1;
        o2.max_inflight = 70000;
        CHECK_INT(mts_dns_new(&d, base, &o2), MTS_DNS_EINVAL);
    }
    CHECK_STR(mts_dns_strerror(MTS_DNS_ENAME), "invalid query name");
}

static struct fake_rule shape_rules[] = {
    {"txt.test",
     LDNS_RR_TYPE_TXT,
     FAKE_ANSWER,
     0,
     0,
     {"txt.test. 300 IN TXT \"v=STSv1; id=2024\" \"0101\""},
     0},
    {"bin.test",
     LDNS_RR_TYPE_TXT,
     FAKE_ANSWER,
     0,
     0,
     {"bin.test. 60 IN TXT \"\\255\\254ab\" \"a\\000b\" \"caf\\195\\169\""},
     0},
    {"_mta-sts.cname.test",
     LDNS_RR_TYPE_TXT,
     FAKE_ANSWER,
     0,
     0,
     {"_mta-sts.cname.test. 300 IN CNAME sts.provider.test.",
      "sts.provider.test. 300 IN TXT \"v=STSv1; id=1\""},
     0},
    {"dangling.test",
     LDNS_RR_TYPE_TXT,
     FAKE_ANSWER,
     0,
     0,
     {"dangling.test. 300 IN CNAME gone.test."},
     0},
    {"mx.test",
     LDNS_RR_TYPE_MX,
     FAKE_ANSWER,
     0,
     0,
     {"MX.test. 300 IN MX 10 mx1.example.test.", "mx.test. 300 IN MX 20 mx2.example.test."},
     0},
    {"aaaa.test", LDNS_RR_TYPE_AAAA, FAKE_ANSWER, 0, 0, {"aaaa.test. 300 IN AAAA 2001:db8::25"}, 0},
    {"a.test", LDNS_RR_TYPE_A, FAKE_ANSWER, 0, 0, {"a.test. 300 IN A 192.0.2.25"}, 0},
    {"_25._tcp.mx.test",
     LDNS_RR_TYPE_TLSA,
     FAKE_ANSWER,
     0,
     0,
     {"_25._tcp.mx.test. 300 IN TLSA 3 1 1 AB12cd"},
     0},
    {"nx.test", 0, FAKE_NXDOMAIN, 0, 0, {0}, 0},
    {"nodata.test", 0, FAKE_ANSWER, 0, 0, {0}, 0},
    {"sf.test", 0, FAKE_SERVFAIL, 0, 0, {0}, 0},
};

static void test_shapes(void)
{
    struct fake_dns *srv = fake_dns_new(base, shape_rules, 11, 0);
    struct mts_dns_opts o = {.timeout_ms = 500, .tries = 2};
    char names[1][32];
    struct mts_dns *d = engine(&srv, 1, &o, names);
    struct result r[12];
    struct mts_dns_stats st;

    ask(d, "txt.test", LDNS_RR_TYPE_TXT, 0, &r[0]);
    ask(d, "bin.test.", LDNS_RR_TYPE_TXT, 0, &r[1]);
    ask(d, "_mta-sts.cname.test", LDNS_RR_TYPE_TXT, 0, &r[2]);
    ask(d, "dangling.test", LDNS_RR_TYPE_TXT, 0, &r[3]);
    ask(d, "Mx.Test", LDNS_RR_TYPE_MX, 0, &r[4]);
    ask(d, "aaaa.test", LDNS_RR_TYPE_AAAA, 0, &r[5]);
    ask(d, "a.test", LDNS_RR_TYPE_A, 0, &r[6]);
    ask(d, "_25._tcp.mx.test", LDNS_RR_TYPE_TLSA, MTS_DNS_DO, &r[7]);
    ask(d, "nx.test", LDNS_RR_TYPE_A, 0, &r[8]);
    ask(d, "nodata.test", LDNS_RR_TYPE_A, 0, &r[9]);
    ask(d, "sf.test", LDNS_RR_TYPE_A, 0, &r[10]);
    CHECK_INT(mts_dns_query(d, "bad..name", LDNS_RR_TYPE_A, 0, on_result, &r[11]), MTS_DNS_ENAME);
    /* A valid 253-character name (255 octets on the wire) under a derived prefix: a name
       error, never mistaken for an allocation failure. */
    char longname[300] = "_mta-sts.";
    for (int label = 0; label < 4; label++) {
        size_t at = strlen(longname);
        memset(longname + at, 'a', label < 3 ? 63 : 61);
        strcpy(longname + at + (label < 3 ? 63 : 61), label < 3 ? "." : "");
    }
    CHECK_INT(strlen(longname + 9), 253);
    CHECK_INT(mts_dns_query(d, longname, LDNS_RR_TYPE_TXT, 0, on_result, &r[11]), MTS_DNS_ENAME);
    CHECK_INT(mts_dns_query(d, "a.test", LDNS_RR_TYPE_A, 0x80, on_result, &r[11]), MTS_DNS_EINVAL);
    run();

#define HEAD(q, t, res) "{\"qname\":\"" q "\",\"qtype\":\"" t "\",\"result\":\"" res "\","
#define MID(rc)                                                                                    \
    "\"rcode\":\"" rc "\",\"ad\":false,\"tcp\":false,\"resolver\":\"%s\",\"tries\":1,"             \
    "\"cached\":false,"
    CHECK_SHAPE(r[0].obs,
                HEAD("txt.test", "TXT", "answer") MID(
                    "NOERROR") "\"answer\":[{\"name\":\"txt.test.\",\"type\":\"TXT\",\"ttl\":300,"
                               "\"txt\":[\"v=STSv1; id=2024\",\"0101\"]}]}",
                names[0]);
    CHECK_SHAPE(
        r[1].obs,
        HEAD("bin.test", "TXT", "answer") MID(
            "NOERROR") "\"answer\":[{\"name\":\"bin.test.\",\"type\":\"TXT\",\"ttl\":60,"
                       "\"txt\":[{\"hex\":\"fffe6162\"},{\"hex\":\"610062\"},\"caf\xc3\xa9\"]}]}",
        names[0]);
    CHECK_SHAPE(
        r[2].obs,
        HEAD("_mta-sts.cname.test", "TXT", "answer")
            MID("NOERROR") "\"answer\":[{\"name\":\"_mta-sts.cname.test.\",\"type\":\"CNAME\","
                           "\"ttl\":300,"
                           "\"target\":\"sts.provider.test.\"},{\"name\":\"sts.provider.test.\","
                           "\"type\":\"TXT\",\"ttl\":300,\"txt\":[\"v=STSv1; id=1\"]}]}",
        names[0]);
    CHECK_SHAPE(
        r[3].obs,
        HEAD("dangling.test", "TXT", "nodata") MID(
            "NOERROR") "\"answer\":[{\"name\":\"dangling.test.\",\"type\":\"CNAME\",\"ttl\":300,"
                       "\"target\":\"gone.test.\"}]}",
        names[0]);
    CHECK_SHAPE(
        r[4].obs,
        HEAD("Mx.Test", "MX", "answer") MID(
            "NOERROR") "\"answer\":[{\"name\":\"Mx.Test.\",\"type\":\"MX\",\"ttl\":300,\"pref\":10,"
                       "\"host\":\"mx1.example.Test.\"},{\"name\":\"Mx.Test.\",\"type\":\"MX\","
                       "\"ttl\":300,\"pref\":20,\"host\":\"mx2.example.Test.\"}]}",
        names[0]);
    CHECK_SHAPE(r[5].obs,
                HEAD("aaaa.test", "AAAA", "answer") MID(
                    "NOERROR") "\"answer\":[{\"name\":\"aaaa.test.\",\"type\":\"AAAA\",\"ttl\":300,"
                               "\"addr\":\"2001:db8::25\"}]}",
                names[0]);
    CHECK_SHAPE(r[6].obs,
                HEAD("a.test", "A", "answer")
                    MID("NOERROR") "\"answer\":[{\"name\":\"a.test.\",\"type\":\"A\",\"ttl\":300,"
                                   "\"addr\":\"192.0.2.25\"}]}",
                names[0]);
    CHECK_SHAPE(
        r[7].obs,
        HEAD("_25._tcp.mx.test", "TLSA", "answer") MID(
            "NOERROR") "\"answer\":[{\"name\":\"_25._tcp.mx.test.\",\"type\":\"TLSA\",\"ttl\":300,"
                       "\"rdata\":\"3 1 1 ab12cd\"}]}",
        names[0]);
    CHECK_SHAPE(r[8].obs, HEAD("nx.test", "A", "nxdomain") MID("NXDOMAIN") "\"answer\":[]}",
                names[0]);
    CHECK_SHAPE(r[9].obs, HEAD("nodata.test", "A", "nodata") MID("NOERROR") "\"answer\":[]}",
                names[0]);
    CHECK_SHAPE(r[10].obs, HEAD("sf.test", "A", "servfail") MID("SERVFAIL") "\"answer\":[]}",
                names[0]);
    for (int i = 0; i < 11; i++) {
        CHECK_INT(r[i].called, 1);
        CHECK_INT(r[i].had_reply, 1);
        CHECK(json_real_value(json_object_get(r[i].obs, "ms")) >= 0.0);
        json_decref(r[i].obs);
    }
    mts_dns_stats(d, &st);
    CHECK_INT(st.queries, 11);
    CHECK_INT(st.sent, 11);
    CHECK_INT(st.answered, 11);
    CHECK_INT(st.dropped, 0);
    CHECK_INT(st.inflight, 0);
    mts_dns_free(d);
    fake_dns_free(srv);
}

static struct fake_rule retry_rules_a[] = {
    {"a-drops.test", 0, FAKE_DROP, 0, 0, {0}, 0},
    {"blackhole.test", 0, FAKE_DROP, 0, 0, {0}, 0},
    {"flaky.test", 0, FAKE_ANSWER, 2, 0, {"flaky.test. 300 IN A 192.0.2.9"}, 0},
};
static struct fake_rule retry_rules_b[] = {
    {"a-drops.test", 0, FAKE_ANSWER, 0, 0, {"a-drops.test. 300 IN A 192.0.2.8"}, 0},
    {"blackhole.test", 0, FAKE_DROP, 0, 0, {0}, 0},
};

static void test_retry_timeout(void)
{
    struct fake_dns *srv[2] = {fake_dns_new(base, retry_rules_a, 3, 0),
                               fake_dns_new(base, retry_rules_b, 2, 0)};
    struct mts_dns_opts o = {.timeout_ms = 200, .tries = 3};
    char names[2][32];
    struct mts_dns *d = engine(srv, 2, &o, names);
    struct result r;
    struct mts_dns_stats st;

    /* The first lookup of a fresh engine starts at the first resolver. */
    ask(d, "a-drops.test", LDNS_RR_TYPE_A, 0, &r);
    run();
    CHECK_SHAPE(r.obs,
                "{\"qname\":\"a-drops.test\",\"qtype\":\"A\",\"result\":\"answer\","
                "\"rcode\":\"NOERROR\",\"ad\":false,\"tcp\":false,\"resolver\":\"%s\","
                "\"tries\":2,\"cached\":false,\"answer\":[{\"name\":\"a-drops.test.\","
                "\"type\":\"A\",\"ttl\":300,\"addr\":\"192.0.2.8\"}]}",
                names[1]);
    CHECK(json_real_value(json_object_get(r.obs, "ms")) >= 150.0);
    CHECK_INT(retry_rules_a[0].asked, 1);
    CHECK_INT(retry_rules_b[0].asked, 1);
    json_decref(r.obs);

    ask(d, "blackhole.test", LDNS_RR_TYPE_A, 0, &r); /* second lookup: starts at B */
    run();
    CHECK_SHAPE(r.obs,
                "{\"qname\":\"blackhole.test\",\"qtype\":\"A\",\"result\":\"timeout\","
                "\"tcp\":false,\"resolver\":\"%s\",\"tries\":3,\"cached\":false}",
                names[1]);
    CHECK_INT(r.had_reply, 0);
    CHECK_INT(retry_rules_a[1].asked, 1);
    CHECK_INT(retry_rules_b[1].asked, 2);
    json_decref(r.obs);
    mts_dns_stats(d, &st);
    CHECK_INT(st.timeouts, 1);
    CHECK_INT(st.retries, 3);
    CHECK_INT(st.sent, 5);
    mts_dns_free(d);

    /* One resolver dropping the first two tries: the third one answers. */
    o.tries = 3;
    d = engine(srv, 1, &o, names);
    ask(d, "flaky.test", LDNS_RR_TYPE_A, 0, &r);
    run();
    CHECK_STR(json_string_value(json_object_get(r.obs, "result")), "answer");
    CHECK_INT(json_integer_value(json_object_get(r.obs, "tries")), 3);
    CHECK_INT(retry_rules_a[2].asked, 3);
    json_decref(r.obs);
    mts_dns_free(d);
    fake_dns_free(srv[0]);
    fake_dns_free(srv[1]);
}

static struct fake_rule tc_rules[] = {
    {"big.test",
     LDNS_RR_TYPE_TXT,
     FAKE_TC,
     0,
     0,
     {"big.test. 300 IN TXT \"one\"", "big.test. 300 IN TXT \"two\""},
     0},
    {"spoof.test", LDNS_RR_TYPE_A, FAKE_SPOOF, 0, 0, {"spoof.test. 300 IN A 192.0.2.7"}, 0},
    {"hang.test", LDNS_RR_TYPE_TXT, FAKE_TC_HANG, 0, 0, {0}, 0},
};

static void test_tcp_spoof(void)
{
    struct fake_dns *srv = fake_dns_new(base, tc_rules, 3, 0);
    struct mts_dns_opts o = {.timeout_ms = 1000, .tries = 2, .tcp_timeout_ms = 300};
    char names[1][32];
    struct mts_dns *d = engine(&srv, 1, &o, names);
    struct result r[3];
    struct mts_dns_stats st;
    struct fake_dns_counts c;

    ask(d, "big.test", LDNS_RR_TYPE_TXT, 0, &r[0]);
    ask(d, "spoof.test", LDNS_RR_TYPE_A, 0, &r[1]);
    ask(d, "hang.test", LDNS_RR_TYPE_TXT, 0, &r[2]);
    run();
    CHECK_SHAPE(r[0].obs,
                "{\"qname\":\"big.test\",\"qtype\":\"TXT\",\"result\":\"answer\","
                "\"rcode\":\"NOERROR\",\"ad\":false,\"tcp\":true,\"resolver\":\"%s\","
                "\"tries\":1,\"cached\":false,\"answer\":[{\"name\":\"big.test.\","
                "\"type\":\"TXT\",\"ttl\":300,\"txt\":[\"one\"]},{\"name\":\"big.test.\","
                "\"type\":\"TXT\",\"ttl\":300,\"txt\":[\"two\"]}]}",
                names[0]);
    /* The reply over TCP is still there for the callback (the sanitizer build sees a read
       of a freed buffer). */
    CHECK_STR(r[0].first_txt, "one");
    CHECK_SHAPE(r[1].obs,
                "{\"qname\":\"spoof.test\",\"qtype\":\"A\",\"result\":\"answer\","
                "\"rcode\":\"NOERROR\",\"ad\":false,\"tcp\":false,\"resolver\":\"%s\","
                "\"tries\":1,\"cached\":false,\"answer\":[{\"name\":\"spoof.test.\","
                "\"type\":\"A\",\"ttl\":300,\"addr\":\"192.0.2.7\"}]}",
                names[0]);
    CHECK_SHAPE(r[2].obs,
                "{\"qname\":\"hang.test\",\"qtype\":\"TXT\",\"result\":\"timeout\","
                "\"tcp\":true,\"resolver\":\"%s\",\"tries\":1,\"cached\":false}",
                names[0]);
    CHECK_INT(r[2].had_reply, 0);
    json_decref(r[2].obs);
    mts_dns_stats(d, &st);
    fake_dns_counts(srv, &c);
    CHECK_INT(st.tcp_fallbacks, 2);
    CHECK_INT(c.tcp, 2);
    CHECK_INT(st.dropped, 3); /* wrong ID, wrong question, wrong port */
    CHECK_INT(st.answered, 2);
    json_decref(r[0].obs);
    json_decref(r[1].obs);
    mts_dns_free(d);
    fake_dns_free(srv);
}

static const char *result_of(const struct result *r)
{
    return json_string_value(json_object_get(r->obs, "result"));
}

static void after_ms(unsigned ms, event_callback_fn cb, void *arg)
{
    struct timeval tv = {0, (suseconds_t)ms * 1000};
    event_base_once(base, -1, EV_TIMEOUT, cb, arg, &tv);
}

static void ask_later(evutil_socket_t fd, short what, void *arg)
{
    void **a = arg;
    (void)fd, (void)what;
    ask(a[0], "big.test", LDNS_RR_TYPE_TXT, 0, a[1]);
}

/* TCP fallbacks beyond max_tcp wait for a socket instead of failing; a machine out of
   descriptors backs off and retries, and a lookup that never gets a socket ends as
   local-error, never as an error or timeout of the resolver. */
static void test_tcp_limits(void)
{
    struct fake_dns *srv = fake_dns_new(base, tc_rules, 3, 0);
    struct mts_dns_opts o = {.timeout_ms = 1000, .tries = 2, .tcp_timeout_ms = 600, .max_tcp = 1};
    char names[1][32];
    struct mts_dns *d = engine(&srv, 1, &o, names);
    struct result r[2];
    struct fake_dns_counts c;

    /* hang.test holds the only TCP socket for 600 ms; big.test, truncated 300 ms later,
       waits for it and still gets its answer before its own deadline. */
    void *later[2] = {d, &r[1]};
    ask(d, "hang.test", LDNS_RR_TYPE_TXT, 0, &r[0]);
    after_ms(300, ask_later, later); /* before hang.test ends: run() waits for both */
    run();
    CHECK_STR(result_of(&r[0]), "timeout");
    /* Its deadline is 900 ms; the socket frees at 600 ms, in time. */
    CHECK_STR(result_of(&r[1]), "answer");
    fake_dns_counts(srv, &c);
    CHECK_INT(c.tcp, 2);
    json_decref(r[0].obs);
    json_decref(r[1].obs);

    /* Out of descriptors for 150 ms: backs off, then answers over TCP. */
    starve_descriptors(NULL);
    after_ms(150, restore_descriptors, NULL);
    ask(d, "big.test", LDNS_RR_TYPE_TXT, 0, &r[0]);
    run();
    CHECK_STR(result_of(&r[0]), "answer");
    CHECK(json_is_true(json_object_get(r[0].obs, "tcp")));

    /* Never a descriptor: local-error at the TCP deadline. */
    starve_descriptors(NULL);
    ask(d, "big.test", LDNS_RR_TYPE_TXT, 0, &r[1]);
    run();
    restore_descriptors(-1, 0, NULL);
    CHECK_STR(result_of(&r[1]), "local-error");
    CHECK_INT(r[1].had_reply, 0);
    json_decref(r[0].obs);
    json_decref(r[1].obs);
    mts_dns_free(d);
    fake_dns_free(srv);
}

/* The cache holds at most its byte bound of names and replies, whatever their size. */
static void test_cache_bytes(void)
{
    struct mts_dns_cache *c;
    struct mts_dns_cache_meta meta = {.resolver = 0, .tries = 1, .tcp = false};
    uint8_t wire[4000], name[16];
    const uint8_t *got;
    size_t len;

    memset(wire, 0xab, sizeof(wire));
    CHECK_INT(mts_dns_cache_new(&c, 1000, 40000), 0);
    for (int i = 0; i < 100; i++) {
        int n = snprintf((char *)name, sizeof(name), "\x05n%04d", i);
        struct mts_dns_cache_key k = {name, (size_t)n, 1, false, 0};
        k.hash = mts_dns_key_hash(&k);
        CHECK_INT(mts_dns_cache_put(c, &k, 0, 300, wire, 3000, &meta), 0);
        CHECK(mts_dns_cache_bytes(c) <= 40000);
        CHECK(mts_dns_cache_get(c, &k, 1, &got, &len, &meta)); /* the newest stays */
        CHECK_INT(len, 3000);
    }
    CHECK(mts_dns_cache_used(c) >= 10 && mts_dns_cache_used(c) <= 13);
    /* Replacing a key keeps the count right; an entry over an eighth of the bound is not
       kept (and the stale one it replaces is gone too). */
    struct mts_dns_cache_key k = {(const uint8_t *)"\x05n0099", 6, 1, false, 0};
    k.hash = mts_dns_key_hash(&k);
    size_t before = mts_dns_cache_bytes(c);
    CHECK_INT(mts_dns_cache_put(c, &k, 0, 300, wire, 1000, &meta), 0);
    CHECK_INT(mts_dns_cache_bytes(c), before - 2000);
    CHECK_INT(mts_dns_cache_put(c, &k, 0, 300, wire, 4000 + 1000, &meta), 0);
    CHECK(!mts_dns_cache_get(c, &k, 1, &got, &len, &meta));
    CHECK_INT(mts_dns_cache_bytes(c), before - 3006);
    /* Small entries fill the freed room and the entry bound still holds. */
    for (int i = 0; i < 3000; i++) {
        int n = snprintf((char *)name, sizeof(name), "\x05s%04d", i);
        struct mts_dns_cache_key s = {name, (size_t)n, 1, false, 0};
        s.hash = mts_dns_key_hash(&s);
        CHECK_INT(mts_dns_cache_put(c, &s, 0, 300, wire, 10, &meta), 0);
    }
    CHECK_INT(mts_dns_cache_used(c), 1000);
    CHECK(mts_dns_cache_bytes(c) <= 40000);
    mts_dns_cache_free(c);
}

static struct fake_rule cache_rules[] = {
    {"mx.bigmail.test",
     LDNS_RR_TYPE_A,
     FAKE_ANSWER,
     0,
     20,
     {"mx.bigmail.test. 300 IN A 192.0.2.25"},
     0},
    {"nx-cache.test", 0, FAKE_NXDOMAIN, 0, 0, {0}, 0},
    {"sf-cache.test", 0, FAKE_SERVFAIL, 0, 0, {0}, 0},
};

#define NCOALESCE 1000

static void test_cache(void)
{
    struct fake_dns *srv = fake_dns_new(base, cache_rules, 3, 0);
    struct mts_dns_opts o = {.timeout_ms = 1000, .tries = 2, .max_inflight = 10};
    char names[1][32];
    struct mts_dns *d = engine(&srv, 1, &o, names);
    static struct result r[NCOALESCE];
    struct result one;
    struct mts_dns_stats st;
    int uncached = 0, cached = 0;

    for (int i = 0; i < NCOALESCE; i++)
        ask(d, i % 2 ? "MX.bigmail.test" : "mx.bigmail.test.", LDNS_RR_TYPE_A, MTS_DNS_CACHE,
            &r[i]);
    run();
    CHECK_INT(cache_rules[0].asked, 1);
    for (int i = 0; i < NCOALESCE; i++) {
        json_t *o2 = r[i].obs;
        CHECK_INT(r[i].called, 1);
        CHECK_INT(r[i].had_reply, 1);
        if (json_is_true(json_object_get(o2, "cached"))) {
            cached++;
            CHECK(json_real_value(json_object_get(o2, "ms")) == 0.0);
        } else {
            uncached++;
        }
        CHECK_STR(json_string_value(json_object_get(o2, "result")), "answer");
        CHECK_STR(json_string_value(json_object_get(o2, "resolver")), names[0]);
        CHECK_INT(json_integer_value(json_object_get(o2, "tries")), 1);
        json_decref(o2);
    }
    CHECK_INT(uncached, 1);
    CHECK_INT(cached, NCOALESCE - 1);

    /* A later identical query: from the cache, delivered later, never from inside query. */
    ask(d, "mx.bigmail.test", LDNS_RR_TYPE_A, MTS_DNS_CACHE, &one);
    CHECK_INT(one.called, 0);
    run();
    CHECK_INT(one.called, 1);
    CHECK_INT(one.had_reply, 1);
    CHECK_SHAPE(one.obs,
                "{\"qname\":\"mx.bigmail.test\",\"qtype\":\"A\",\"result\":\"answer\","
                "\"rcode\":\"NOERROR\",\"ad\":false,\"tcp\":false,\"resolver\":\"%s\","
                "\"tries\":1,\"cached\":true,\"answer\":[{\"name\":\"mx.bigmail.test.\","
                "\"type\":\"A\",\"ttl\":300,\"addr\":\"192.0.2.25\"}]}",
                names[0]);
    CHECK(json_real_value(json_object_get(one.obs, "ms")) == 0.0);
    json_decref(one.obs);
    CHECK_INT(cache_rules[0].asked, 1);

    /* Without the flag: asked again. With DO: a different key. */
    ask(d, "mx.bigmail.test", LDNS_RR_TYPE_A, 0, &one);
    run();
    CHECK(json_is_false(json_object_get(one.obs, "cached")));
    json_decref(one.obs);
    ask(d, "mx.bigmail.test", LDNS_RR_TYPE_A, MTS_DNS_CACHE | MTS_DNS_DO, &one);
    run();
    json_decref(one.obs);
    CHECK_INT(cache_rules[0].asked, 3);

    /* Negative answers are cached, SERVFAIL is not. */
    for (int i = 0; i < 2; i++) {
        ask(d, "nx-cache.test", LDNS_RR_TYPE_A, MTS_DNS_CACHE, &one);
        run();
        CHECK_STR(json_string_value(json_object_get(one.obs, "result")), "nxdomain");
        json_decref(one.obs);
        ask(d, "sf-cache.test", LDNS_RR_TYPE_A, MTS_DNS_CACHE, &one);
        run();
        CHECK_STR(json_string_value(json_object_get(one.obs, "result")), "servfail");
        CHECK(json_is_false(json_object_get(one.obs, "cached")));
        json_decref(one.obs);
    }
    CHECK_INT(cache_rules[1].asked, 1);
    CHECK_INT(cache_rules[2].asked, 2);

    mts_dns_stats(d, &st);
    CHECK_INT(st.coalesced, NCOALESCE - 1);
    CHECK_INT(st.cache_hits, 2);
    CHECK_INT(st.cache_used, 3);
    mts_dns_free(d);
    fake_dns_free(srv);
}

/* Many queries through a slow responder: the responder never sees more than max_inflight. */
static void test_inflight(void)
{
    struct fake_dns *srv = fake_dns_new(base, NULL, 0, 30);
    struct mts_dns_opts o = {.timeout_ms = 5000, .tries = 2, .max_inflight = 50};
    char names[1][32], q[64];
    struct mts_dns *d = engine(&srv, 1, &o, names);
    int n[2] = {0, 0};
    struct mts_dns_stats st;
    struct fake_dns_counts c;

    for (int i = 0; i < 2000; i++) {
        snprintf(q, sizeof(q), "q%d.bulk.test", i);
        CHECK_INT(mts_dns_query(d, q, LDNS_RR_TYPE_A, 0, on_count, n), 0);
        pending++;
    }
    mts_dns_stats(d, &st);
    CHECK_INT(st.inflight, 50);
    CHECK_INT(st.queued, 1950);
    run();
    mts_dns_stats(d, &st);
    fake_dns_counts(srv, &c);
    CHECK_INT(n[0], 2000);
    CHECK_INT(n[1], 2000);
    CHECK(c.max_outstanding <= 50);
    CHECK(c.max_outstanding >= 25);
    CHECK(st.max_inflight <= 50);
    CHECK_INT(st.queued, 0);
    mts_dns_free(d);
    fake_dns_free(srv);
}

/* The rate limit, by count, from the responder's clock, with generous bounds. */
static void test_rate(void)
{
    struct fake_dns *srv = fake_dns_new(base, NULL, 0, 0);
    struct mts_dns_opts o = {.timeout_ms = 5000, .rate_qps = 1000};
    char names[1][32], q[64];
    struct mts_dns *d = engine(&srv, 1, &o, names);
    int n[2] = {0, 0}, worst = 0;
    struct fake_dns_counts c;
    double t0 = fake_dns_now_ms(), elapsed;

    for (int i = 0; i < 1500; i++) {
        snprintf(q, sizeof(q), "r%d.bulk.test", i);
        CHECK_INT(mts_dns_query(d, q, LDNS_RR_TYPE_A, 0, on_count, n), 0);
        pending++;
    }
    run();
    elapsed = fake_dns_now_ms() - t0;
    fake_dns_counts(srv, &c);
    CHECK_INT(n[1], 1500);
    CHECK_INT(c.narrivals, 1500);
    /* 1500 queries at 1000/s with a burst of 20 take at least ~1.48 s. */
    CHECK(elapsed >= 1300.0);
    for (size_t i = 0, j = 0; i < c.narrivals; i++) {
        while (c.arrivals[i] - c.arrivals[j] > 500.0)
            j++;
        worst = (int)(i - j + 1) > worst ? (int)(i - j + 1) : worst;
    }
    CHECK(worst <= 500 * 1.5 + 20);
    printf("rate: 1500 queries at 1000/s took %.0f ms; busiest 500 ms window: %d\n", elapsed,
           worst);
    mts_dns_free(d);
    fake_dns_free(srv);
}

static void test_bulk(void)
{
    struct fake_dns *srv = fake_dns_new(base, NULL, 0, 0);
    struct mts_dns_opts o = {.timeout_ms = 2000, .tries = 3, .max_inflight = 1000};
    char names[1][32], q[64];
    struct mts_dns *d = engine(&srv, 1, &o, names);
    int n[2] = {0, 0};
    struct mts_dns_stats st;
    double t0 = fake_dns_now_ms();

    for (int i = 0; i < 20000; i++) {
        snprintf(q, sizeof(q), "b%d.bulk.test", i);
        CHECK_INT(mts_dns_query(d, q, LDNS_RR_TYPE_A, 0, on_count, n), 0);
        pending++;
    }
    run();
    mts_dns_stats(d, &st);
    CHECK_INT(n[0], 20000);
    CHECK_INT(n[1], 20000);
    CHECK_INT(st.answered, 20000);
    CHECK(st.max_inflight <= 1000);
    printf("bulk: 20000 queries in %.0f ms (%llu retries, %llu dropped), %zu B/slot, "
           "%zu B/queued, %zu B fixed\n",
           fake_dns_now_ms() - t0, (unsigned long long)st.retries, (unsigned long long)st.dropped,
           st.bytes_per_slot, st.bytes_per_queued, st.bytes_fixed);
    mts_dns_free(d);
    fake_dns_free(srv);
}

static struct fake_rule free_rules[] = {
    {"fast.test", LDNS_RR_TYPE_A, FAKE_ANSWER, 0, 0, {"fast.test. 300 IN A 192.0.2.1"}, 0},
    {"hang.test", LDNS_RR_TYPE_TXT, FAKE_TC_HANG, 0, 0, {0}, 0},
};

/* Freeing with lookups queued, in flight (UDP and TCP), coalesced and a cache hit pending. */
static void test_free_outstanding(void)
{
    struct fake_dns *srv = fake_dns_new(base, free_rules, 2, 5000);
    struct mts_dns_opts o = {.timeout_ms = 3000, .max_inflight = 100};
    char names[1][32], q[64];
    struct mts_dns *d = engine(&srv, 1, &o, names);
    struct result r;
    struct timeval tv = {0, 100000};

    ask(d, "fast.test", LDNS_RR_TYPE_A, MTS_DNS_CACHE, &r);
    run();
    json_decref(r.obs);
    for (int i = 0; i < 500; i++) {
        snprintf(q, sizeof(q), "s%d.bulk.test", i % 300);
        CHECK_INT(
            mts_dns_query(d, q, LDNS_RR_TYPE_A, i < 300 ? 0 : MTS_DNS_CACHE, on_unexpected, NULL),
            0);
    }
    CHECK_INT(mts_dns_query(d, "hang.test", LDNS_RR_TYPE_TXT, 0, on_unexpected, NULL), 0);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    CHECK_INT(mts_dns_query(d, "fast.test", LDNS_RR_TYPE_A, MTS_DNS_CACHE, on_unexpected, NULL), 0);
    mts_dns_free(d);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base); /* nothing of the engine may fire now */
    fake_dns_free(srv);
}

/* The query the engine sends, byte for byte as ldns_pkt2wire writes it (ID aside). */
static void test_query_wire(void)
{
    static const char *const names[] = {"example", "Mx.Test.", "a\\000b.test", ".",
                                        "_mta-sts.xn--bcher-kva.example"};
    static const ldns_rr_type types[] = {LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_AAAA,
                                         LDNS_RR_TYPE_TLSA, (ldns_rr_type)65400};
    static const unsigned sizes[] = {0, 512, 1232, 4096};

    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        ldns_rdf *name = NULL;
        CHECK(ldns_str2rdf_dname(&name, names[n]) == LDNS_STATUS_OK);
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
            for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
                for (int dnssec_ok = 0; dnssec_ok <= (sizes[z] != 0); dnssec_ok++) {
                    ldns_pkt *q = ldns_pkt_query_new(ldns_rdf_clone(name), types[t],
                                                     LDNS_RR_CLASS_IN, LDNS_RD);
                    uint8_t *want = NULL, got[512];
                    size_t want_len = 0;
                    CHECK(q != NULL);
                    ldns_pkt_set_id(q, 0);
                    if (sizes[z]) {
                        ldns_pkt_set_edns_udp_size(q, (uint16_t)sizes[z]);
                        ldns_pkt_set_edns_do(q, dnssec_ok);
                    }
                    CHECK(ldns_pkt2wire(&want, q, &want_len) == LDNS_STATUS_OK);
                    size_t len = mts_dns_query_wire(got, sizeof got, ldns_rdf_data(name),
                                                    ldns_rdf_size(name), (uint16_t)types[t],
                                                    sizes[z], dnssec_ok);
                    CHECK_INT(len, want_len);
                    CHECK(len == want_len && memcmp(got, want, len) == 0);
                    CHECK_INT(mts_dns_query_wire(got, len - 1, ldns_rdf_data(name),
                                                 ldns_rdf_size(name), (uint16_t)types[t], sizes[z],
                                                 dnssec_ok),
                              0);
                    free(want);
                    ldns_pkt_free(q);
                }
        ldns_rdf_deep_free(name);
    }
}

/* A reply with one RR: owner and MX host are the wire names given, or an A record. */
static ldns_pkt *reply_with(const uint8_t *owner, size_t owner_len, ldns_rr_type type,
                            const ldns_rdf *rdata0, const ldns_rdf *rdata1)
{
    ldns_pkt *p = ldns_pkt_new();
    ldns_rr *rr = ldns_rr_new();
    CHECK(p && rr);
    ldns_rr_set_owner(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, owner_len, owner));
    ldns_rr_set_type(rr, type);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, 300);
    ldns_rr_push_rdf(rr, ldns_rdf_clone(rdata0));
    if (rdata1)
        ldns_rr_push_rdf(rr, ldns_rdf_clone(rdata1));
    ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
    ldns_pkt_set_qr(p, true);
    return p;
}

/* The reply p as the engine reads it: from its wire form (malloc'd). */
static struct mts_dns_reply *wire_reply(const ldns_pkt *p)
{
    uint8_t *wire = NULL;
    size_t len = 0;
    CHECK(ldns_pkt2wire(&wire, p, &len) == LDNS_STATUS_OK);
    struct mts_dns_reply *r = mts_wire_copy(wire, len);
    CHECK(r != NULL);
    free(wire);
    return r;
}

/* A cache hit's observation joined from the shared tail equals the one written in full,
   whatever the qname spelled; a tail is kept in the cache entry and counted in its bytes. */
static void check_join(const struct mts_dns_reply *reply, const char *other_qname)
{
    static const char *const qnames[] = {"Mx.Example", "a\"b\\c.test"};
    struct mts_dns_obs_meta meta = {.resolver = "[::1]:53", .tries = 2, .cached = true};
    char *first = mts_dns_obs_new("x.test", LDNS_RR_TYPE_MX, reply, NULL, &meta);
    const char *tail = mts_dns_obs_tail(first, "x.test");

    CHECK(tail != NULL);
    CHECK(mts_dns_obs_tail(first, "y.test") == NULL);
    for (size_t i = 0; tail && i < 3; i++) {
        const char *q = i < 2 ? qnames[i] : other_qname;
        char *want = mts_dns_obs_new(q, LDNS_RR_TYPE_MX, reply, NULL, &meta);
        char *got = mts_dns_obs_join(q, tail, strlen(tail));
        CHECK_STR(got, want);
        free(want);
        free(got);
    }
    free(first);
}

static void test_cache_tail(void)
{
    struct mts_dns_cache *c;
    struct mts_dns_cache_meta meta = {
        .resolver = 1, .tries = 2, .obs_tail = "\"qtype\":1}", .obs_tail_len = 11};
    struct mts_dns_cache_key k = {(const uint8_t *)"\x01"
                                                   "a",
                                  3, 1, false, 0};
    const uint8_t *got;
    size_t len;

    k.hash = mts_dns_key_hash(&k);
    CHECK_INT(mts_dns_cache_new(&c, 16, 4000), 0);
    CHECK_INT(mts_dns_cache_put(c, &k, 0, 300, (const uint8_t *)"wire", 4, &meta), 0);
    CHECK_INT(mts_dns_cache_bytes(c), 3 + 4 + 11);
    memset(&meta, 0, sizeof meta);
    CHECK(mts_dns_cache_get(c, &k, 1, &got, &len, &meta));
    CHECK(len == 4 && memcmp(got, "wire", 4) == 0);
    CHECK(meta.resolver == 1 && meta.tries == 2 && meta.obs_tail_len == 11);
    CHECK(meta.obs_tail && memcmp(meta.obs_tail, "\"qtype\":1}", 11) == 0);
    /* Replaced from its own borrowed tail; then without one. */
    CHECK_INT(mts_dns_cache_put(c, &k, 0, 300, got, len, &meta), 0);
    CHECK(mts_dns_cache_get(c, &k, 1, &got, &len, &meta));
    CHECK(meta.obs_tail && memcmp(meta.obs_tail, "\"qtype\":1}", 11) == 0);
    meta.obs_tail = NULL;
    CHECK_INT(mts_dns_cache_put(c, &k, 0, 300, (const uint8_t *)"wire", 4, &meta), 0);
    CHECK(mts_dns_cache_get(c, &k, 1, &got, &len, &meta));
    CHECK(meta.obs_tail == NULL && meta.obs_tail_len == 0);
    CHECK_INT(mts_dns_cache_bytes(c), 3 + 4);
    mts_dns_cache_free(c);
}

/* Names, addresses and milliseconds in the observation exactly as ldns, inet_ntop and
   "%.1f" write them: every byte value in a label, escaped or not. */
static void test_obs_text(void)
{
    struct mts_dns_obs_meta meta = {.resolver = "127.0.0.1:53", .tries = 1};
    uint8_t pref[2] = {0, 10};
    ldns_rdf *pref_rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16, 2, pref);

    for (unsigned b = 0; b < 256; b++) {
        const uint8_t owner[] = {3, 'a', (uint8_t)b, 'Z', 4, 't', 'e', 's', 't', 0};
        const uint8_t host[] = {1, (uint8_t)b, 2, 'm', (uint8_t)(255 - b), 0};
        ldns_rdf *host_rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, sizeof host, host);
        ldns_pkt *p = reply_with(owner, sizeof owner, LDNS_RR_TYPE_MX, pref_rdf, host_rdf);
        const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
        char *want_owner = ldns_rdf2str(ldns_rr_owner(rr)), *want_host = ldns_rdf2str(host_rdf);

        meta.ms = b * 7.77;
        struct mts_dns_reply *r = wire_reply(p);
        json_t *obs = parse_obs(mts_dns_obs_new("x.test", LDNS_RR_TYPE_MX, r, NULL, &meta));
        json_t *an = json_array_get(json_object_get(obs, "answer"), 0);
        char ms[32];
        snprintf(ms, sizeof ms, "%.1f", (double)(int64_t)(meta.ms * 10.0 + 0.5) / 10.0);
        CHECK_STR(json_string_value(json_object_get(an, "name")), want_owner);
        check_join(r, want_owner);
        CHECK_STR(json_string_value(json_object_get(an, "host")), want_host);
        CHECK(json_real_value(json_object_get(obs, "ms")) == strtod(ms, NULL));
        free(want_owner);
        free(want_host);
        json_decref(obs);
        free(r);
        ldns_pkt_free(p);
        ldns_rdf_deep_free(host_rdf);
    }
    ldns_rdf_deep_free(pref_rdf);

    for (unsigned i = 0; i < 2000; i++) {
        const uint8_t owner[] = {1, 'a', 0};
        uint8_t a[4] = {(uint8_t)(i * 37), (uint8_t)(i >> 3), (uint8_t)(i % 10),
                        (uint8_t)(255 - i)};
        char want[INET_ADDRSTRLEN];
        ldns_rdf *addr = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, a);
        ldns_pkt *p = reply_with(owner, sizeof owner, LDNS_RR_TYPE_A, addr, NULL);
        struct mts_dns_reply *r = wire_reply(p);
        json_t *obs = parse_obs(mts_dns_obs_new("a", LDNS_RR_TYPE_A, r, NULL, &meta));
        json_t *an = json_array_get(json_object_get(obs, "answer"), 0);
        CHECK(inet_ntop(AF_INET, a, want, sizeof want) != NULL);
        CHECK_STR(json_string_value(json_object_get(an, "addr")), want);
        json_decref(obs);
        free(r);
        ldns_pkt_free(p);
        ldns_rdf_deep_free(addr);
    }
}

int main(void)
{
    base = event_base_new();
    test_query_wire();
    test_obs_text();
    test_cache_tail();
    test_parse();
    test_shapes();
    test_retry_timeout();
    test_tcp_spoof();
    test_cache();
    test_inflight();
    test_rate();
    test_bulk();
    test_free_outstanding();
    test_tcp_limits();
    test_cache_bytes();
    event_base_free(base);
    libevent_global_shutdown();
    return check_exit();
}
