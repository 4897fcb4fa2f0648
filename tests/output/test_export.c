/*
 * The raw JSON Lines export, parsed back line by line: one object per domain in key order,
 * probe records inlined under their probe, policy bodies inlined as text or hex, and
 * records with absent or odd fields passed through untouched.
 */
#include <errno.h>

#include "check.h"
#include "mts_export.h"
#include "mts_store.h"
#include "mts_writer.h"
#include "util.h"

#define SCAN "exp"

static const char text_body[] = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.net\r\n"
                                "max_age: 86400\r\n";
static const unsigned char bin_body[] = {'m', 'o', 0, 0xff, 'x'};

static void digest_of(unsigned char d[32], unsigned char fill)
{
    memset(d, fill, 32);
}

static json_t *probe(const char *host, const char *addr)
{
    return json_pack("{s:i,s:s,s:s,s:s,s:b}", "v", 1, "scan", SCAN, "host", host, "addr", addr,
                     "starttls", 1);
}

int main(void)
{
    char dir[256];
    struct mts_store *s;
    struct mts_writer *w;
    unsigned char d1[32], d2[32];
    char hex1[65], hex2[65];
    digest_of(d1, 0x11);
    digest_of(d2, 0x22);
    memset(hex1, '1', 64);
    memset(hex2, '2', 64);
    hex1[64] = hex2[64] = '\0';
    util_tmpdir(dir, sizeof dir, "exp");
    CHECK_INT(mts_store_open(&s, dir, 0, 0), 0);
    CHECK_INT(mts_writer_start(&w, s, NULL), 0);

    /* a: two MX hosts, one address skipped, a text body and a binary unauthenticated one. */
    CHECK_INT(mts_writer_put_domain(
                  w, SCAN, "a.example",
                  json_pack("{s:i,s:s,s:[{s:s,s:[{s:s},{s:s,s:s}]},{s:s,s:[{s:s}]}],"
                            "s:{s:s,s:{s:s,s:i},s:{s:{s:s}}}}",
                            "v", 1, "domain", "a.example", "mx", "host", "mx1.example.net",
                            "probes", "addr", "192.0.2.25", "addr", "2001:db8::25", "skip",
                            "ipv6-disabled", "host", "mx2.example.net", "probes", "addr",
                            "192.0.2.26", "policy", "result", "ok", "body", "sha256", hex1, "len",
                            (int)strlen(text_body), "unauthenticated", "body", "sha256", hex2)),
              0);
    /* b: no mx, no policy. c: odd shapes: mx not an array, a digest of the wrong length, a
       body whose digest is not stored, a probe without addr. */
    CHECK_INT(mts_writer_put_domain(w, SCAN, "b.example",
                                    json_pack("{s:i,s:s}", "v", 1, "domain", "b.example")),
              0);
    CHECK_INT(
        mts_writer_put_domain(w, SCAN, "c.example",
                              json_pack("{s:i,s:s,s:s,s:{s:{s:s}}}", "v", 1, "domain", "c.example",
                                        "mx", "oops", "policy", "body", "sha256", "abcd")),
        0);
    CHECK_INT(mts_writer_put_domain(
                  w, SCAN, "d.example",
                  json_pack("{s:i,s:[{s:s,s:[{s:s}]},{s:[{s:s}]}],s:{s:{s:s}}}", "v", 1, "mx",
                            "host", "mx1.example.net", "probes", "skip", "limit", "probes", "addr",
                            "192.0.2.25", "policy", "body", "sha256",
                            "3333333333333333333333333333333333333333333333333333333333333333")),
              0);
    CHECK_INT(mts_writer_put_mxprobe(w, SCAN, "mx1.example.net", "192.0.2.25",
                                     probe("mx1.example.net", "192.0.2.25")),
              0);
    CHECK_INT(mts_writer_put_mxprobe(w, SCAN, "mx2.example.net", "192.0.2.26",
                                     probe("mx2.example.net", "192.0.2.26")),
              0);
    CHECK_INT(mts_writer_put_policy(w, d1, text_body, strlen(text_body)), 0);
    CHECK_INT(mts_writer_put_policy(w, d2, bin_body, sizeof bin_body), 0);
    /* Another scan's domain must not leak into this export. */
    CHECK_INT(mts_writer_put_domain(w, SCAN "2", "a.example", json_pack("{s:i}", "v", 1)), 0);
    CHECK_INT(mts_writer_stop(w), 0);

    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    CHECK_INT(mts_export_raw_jsonl(s, SCAN, out), 0);
    fclose(out);

    json_t *lines[8] = {0};
    int n = 0;
    for (char *line = strtok(buf, "\n"); line && n < 8; line = strtok(NULL, "\n")) {
        json_error_t err;
        lines[n] = json_loads(line, 0, &err);
        CHECK(json_is_object(lines[n]));
        n++;
    }
    CHECK_INT(n, 4);
    json_t *a = lines[0];
    CHECK_STR(json_string_value(json_object_get(a, "domain")), "a.example");
    json_t *mx0 = json_array_get(json_object_get(a, "mx"), 0);
    json_t *p0 = json_array_get(json_object_get(mx0, "probes"), 0);
    json_t *p1 = json_array_get(json_object_get(mx0, "probes"), 1);
    CHECK_STR(json_string_value(json_object_get(json_object_get(p0, "probe"), "addr")),
              "192.0.2.25");
    CHECK(json_is_true(json_object_get(json_object_get(p0, "probe"), "starttls")));
    CHECK(json_object_get(p1, "probe") == NULL); /* skipped: nothing stored */
    CHECK_STR(json_string_value(json_object_get(p1, "skip")), "ipv6-disabled");
    json_t *mx1 = json_array_get(json_object_get(a, "mx"), 1);
    CHECK_STR(
        json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(mx1, "probes"), 0), "probe"), "host")),
        "mx2.example.net");
    json_t *policy = json_object_get(a, "policy");
    CHECK_STR(json_string_value(json_object_get(json_object_get(policy, "body"), "text")),
              text_body);
    json_t *ub = json_object_get(json_object_get(policy, "unauthenticated"), "body");
    CHECK_STR(json_string_value(json_object_get(ub, "hex")), "6d6f00ff78");
    CHECK(json_object_get(ub, "text") == NULL);

    json_t *want_b = json_pack("{s:i,s:s}", "v", 1, "domain", "b.example");
    CHECK(json_equal(lines[1], want_b));
    json_decref(want_b);
    json_t *want_c = json_pack("{s:i,s:s,s:s,s:{s:{s:s}}}", "v", 1, "domain", "c.example", "mx",
                               "oops", "policy", "body", "sha256", "abcd");
    CHECK(json_equal(lines[2], want_c));
    json_decref(want_c);
    json_t *d = lines[3];
    CHECK(json_object_get(json_object_get(json_object_get(d, "policy"), "body"), "text") == NULL);
    json_t *dmx1 = json_array_get(json_object_get(d, "mx"), 1);
    CHECK(json_object_get(json_array_get(json_object_get(dmx1, "probes"), 0), "probe") == NULL);

    for (int i = 0; i < n; i++)
        json_decref(lines[i]);
    free(buf);

    /* A scan with no domains exports nothing. */
    buf = NULL;
    out = open_memstream(&buf, &size);
    CHECK_INT(mts_export_raw_jsonl(s, "none", out), 0);
    fclose(out);
    CHECK_INT(size, 0);
    free(buf);
    mts_store_close(s);
    util_rmtree(dir);
    return check_exit();
}
