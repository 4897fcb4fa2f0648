/*
 * The model's lookups, read the way the servers read them: domains by any of their names,
 * hosts by address and name, the HTTPS behaviour by (address, SNI), DNS nodes; scenario errors
 * with their line; the generator's provider and per-domain hosts.
 * usage: test_model SCENARIO_DIR
 */
#include "check.h"
#include "model.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>

static struct sockaddr_in addr(const char *a)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, a, &sin.sin_addr);
    return sin;
}

static void scenario(const char *dir)
{
    char path[4096], err[512] = "";
    snprintf(path, sizeof path, "%s/taxonomy.scn", dir);
    struct world *w = NULL;
    CHECK_INT(world_load_scenario(path, &w, err, sizeof err), 0);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    struct world_domain d;
    CHECK_INT(world_lookup_domain(w, "_mta-sts.valid-enforce.example", &d), 0);
    CHECK_STR(d.name, "valid-enforce.example");
    CHECK_STR(d.verdict, "valid-enforce");
    CHECK_INT(world_lookup_domain(w, "MTA-STS.Valid-Enforce.Example.", &d), 0);
    CHECK_STR(d.name, "valid-enforce.example");
    CHECK_INT(world_lookup_domain(w, "_smtp._tls.mx-not-covered.example", &d), 0);
    CHECK(d.would_bounce);
    CHECK_INT(d.ncategories, 2);
    CHECK_STR(d.categories[0], "mx-info/pattern-unused");
    CHECK_STR(d.categories[1], "validation-failure/mx-not-covered");
    CHECK_INT(world_lookup_domain(w, "nowhere.test", &d), -WORLD_E_NOTFOUND);
    CHECK_INT(world_lookup_domain(w, "null-mx.example", &d), 0);
    CHECK_INT(d.nmx, 1);
    CHECK_STR(d.mx[0].host, "");

    struct world_host h;
    struct sockaddr_in a = addr("127.1.1.1");
    CHECK_INT(world_lookup_host_by_addr(w, (struct sockaddr *)&a, &h), 0);
    CHECK_STR(h.name, "mx1.bigmail.test");
    CHECK(h.smtp.starttls_offered);
    CHECK_INT(world_lookup_host_by_name(w, "mx.expiredprov.test", &h), 0);
    CHECK_INT(h.smtp.tls.cert, WORLD_CERT_EXPIRED);
    CHECK_INT(world_lookup_host_by_name(w, "mx.smtp-banner-4xx.example", &h), 0);
    CHECK_INT(h.smtp.banner, WORLD_BANNER_4XX);
    CHECK_INT(world_lookup_host_by_name(w, "mx.mx-starttls-injection.example", &h), 0);
    CHECK_INT(h.smtp.injection_len, 14);

    /* a shared policy host: the SNI picks the domain */
    struct world_https s;
    a = addr("127.1.3.1");
    CHECK_INT(
        world_lookup_https(w, (struct sockaddr *)&a, "mta-sts.valid-cname-delegation.example", &s),
        0);
    CHECK_INT(s.status, 200);
    CHECK(s.body_len > 20 && memcmp(world_https_body(&s), "version: STSv1\n", 15) == 0);
    CHECK_INT(world_lookup_https(w, (struct sockaddr *)&a, NULL, &s), 0);
    CHECK_INT(s.status, 404);
    CHECK_STR(s.tls.cert_name, "policy.stshost.test");
    CHECK_INT(world_lookup_https(w, (struct sockaddr *)&a, "mta-sts.policy-bom.example", &s), 0);
    CHECK(s.body_len > 3 && memcmp(world_https_body(&s), "\xef\xbb\xbf", 3) == 0);
    CHECK_INT(world_lookup_https(w, (struct sockaddr *)&a, "mta-sts.policy-too-large.example", &s),
              0);
    CHECK(s.body_len > 70000 && s.body_ext != NULL);
    CHECK_INT(world_lookup_https(w, (struct sockaddr *)&a, "mta-sts.policy-lone-cr.example", &s),
              0);
    CHECK(memchr(world_https_body(&s), '\n', s.body_len) == NULL);

    struct world_node *n = malloc(sizeof *n);
    CHECK_INT(world_dns_node(w, "_mta-sts.valid-txt-multi-string.example", n), 0);
    CHECK(n->exists);
    CHECK_INT(n->nrr, 1);
    CHECK_INT(n->rr[0].type, 16);
    CHECK_INT(n->rr[0].rdlen, 3 + 9 + 8 + 3);
    CHECK_INT(world_dns_node(w, "_mta-sts.dns-sts-servfail.example", n), 0);
    CHECK_INT(n->fault, WORLD_DNS_FAULT_SERVFAIL);
    CHECK_INT(world_dns_node(w, "nxdomain.example", n), 0);
    CHECK(!n->exists);
    CHECK_INT(world_dns_node(w, "_tls.valid-enforce.example", n), 0);
    CHECK(n->exists && n->nrr == 0); /* empty non-terminal */
    free(n);
    world_free(w);
}

static void scenario_errors(void)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"domain a.example\n    verdict x\n    bogus 1\n", ":3: unknown domain key 'bogus'"},
        {"domain a.example\n    sts \"unterminated\n", ":2: unterminated string"},
        {"domain a.example\n", ":1: domain a.example has no verdict"},
        {"host h.test\n    addr 10.0.0.1\n", ":2: '10.0.0.1': world hosts live in 127/8"},
        {"domain a.example\n    verdict x\n    use nope\n", ":3: unknown preset 'nope'"},
        {"domain a.example\n    verdict x\n    policy.body <<END\nline\n", "not terminated"},
        {"    verdict x\n", ":1: indented line outside a block"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[] = "/tmp/world_model_XXXXXX";
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");
        fputs(cases[i].text, f);
        fclose(f);
        struct world *w = NULL;
        char err[512] = "";
        CHECK_INT(world_load_scenario(path, &w, err, sizeof err), -WORLD_E_SYNTAX);
        if (!strstr(err, cases[i].msg))
            fprintf(stderr, "case %zu: got \"%s\"\n", i, err);
        CHECK(strstr(err, cases[i].msg) != NULL);
        CHECK(w == NULL);
        unlink(path);
    }
}

static void generated(void)
{
    struct world *w = NULL;
    CHECK_INT(world_generate(1000, 5, &w), 0);
    CHECK_INT(world_domain_count(w), 1000);
    struct world_domain d;
    CHECK_INT(world_domain_at(w, 999, &d), 0);
    CHECK_STR(d.name, "d0000999.example");
    CHECK_INT(world_domain_at(w, 1000, &d), -WORLD_E_NOTFOUND);
    CHECK_INT(world_lookup_domain(w, "_mta-sts.d0000999.example", &d), 0);
    CHECK_INT(d.index, 999);
    CHECK_INT(world_lookup_domain(w, "d1000.example", &d), -WORLD_E_NOTFOUND);
    CHECK_INT(world_lookup_domain(w, "d0001000.example", &d), -WORLD_E_NOTFOUND);

    struct world_host h;
    struct sockaddr_in a = addr("127.1.1.1");
    CHECK_INT(world_lookup_host_by_addr(w, (struct sockaddr *)&a, &h), 0);
    CHECK_STR(h.name, "mx1.bigmail.test");
    a = addr("127.1.17.2");
    CHECK_INT(world_lookup_host_by_addr(w, (struct sockaddr *)&a, &h), 0);
    CHECK_STR(h.name, "mx2.mxprov17.test");
    CHECK_INT(h.smtp.tls.cert, WORLD_CERT_EXPIRED);
    a = addr("127.0.0.1");
    CHECK_INT(world_lookup_host_by_addr(w, (struct sockaddr *)&a, &h), -WORLD_E_NOTFOUND);

    /* every domain with a policy host: the HTTPS lookup by SNI gives its policy */
    unsigned with_policy = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        CHECK_INT(world_domain_at(w, i, &d), 0);
        struct world_node *n = malloc(sizeof *n);
        char name[300];
        snprintf(name, sizeof name, "mta-sts.%s", d.name);
        CHECK_INT(world_dns_node(w, name, n), 0);
        if (n->exists) {
            struct world_https s;
            a = addr("127.2.0.0");
            CHECK_INT(world_lookup_https(w, (struct sockaddr *)&a, name, &s), 0);
            CHECK_INT(s.body_len, d.policy.body_len);
            with_policy++;
        }
        free(n);
    }
    CHECK(with_policy > 5 && with_policy < 100);
    world_free(w);
    CHECK_INT(world_generate(20000000, 1, &w), -WORLD_E_ARG);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_model SCENARIO_DIR\n");
        return 2;
    }
    scenario(argv[1]);
    scenario_errors();
    generated();
    return check_exit();
}
