/*
 * The record vocabulary (output/mts_vocab.h): every known value has a name, names are
 * distinct within a vocabulary, parse inverts name, anything else (another version's
 * value, hostile bytes, an absent field) parses to the vocabulary's UNKNOWN, and
 * docs/record-schema.md (given as the argument) names every value, as `name`.
 * usage: test_vocab docs/record-schema.md
 */
#include "check.h"
#include "mts_vocab.h"

#include <stdbool.h>
#include <stdlib.h>

static char *schema; /* docs/record-schema.md */

/* Whether the schema page names value as `value`. */
static bool documented(const char *value)
{
    char quoted[80];
    snprintf(quoted, sizeof quoted, "`%s`", value);
    bool found = schema && strstr(schema, quoted);
    if (!found)
        fprintf(stderr, "docs/record-schema.md does not name `%s`\n", value);
    return found;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
            buf[fread(buf, 1, (size_t)n, f)] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* Checks one vocabulary of count known values through its name and parse functions. */
#define CHECK_VOCAB(fn, type, count, unknown)                                                      \
    do {                                                                                           \
        for (unsigned i = 0; i < (unsigned)(count); i++) {                                         \
            const char *name = mts_##fn##_name((type)i);                                           \
            CHECK(name != NULL);                                                                   \
            if (!name)                                                                             \
                continue;                                                                          \
            CHECK_INT(mts_##fn##_parse(name), i);                                                  \
            CHECK(documented(name));                                                               \
            for (unsigned k = 0; k < i; k++)                                                       \
                CHECK(strcmp(name, mts_##fn##_name((type)k)) != 0);                                \
        }                                                                                          \
        CHECK(mts_##fn##_name(unknown) == NULL);                                                   \
        CHECK_INT(mts_##fn##_parse(NULL), unknown);                                                \
        CHECK_INT(mts_##fn##_parse(""), unknown);                                                  \
        CHECK_INT(mts_##fn##_parse("OK"), unknown);                                                \
        CHECK_INT(mts_##fn##_parse("no-such-value"), unknown);                                     \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s docs/record-schema.md\n", argv[0]);
        return 2;
    }
    schema = read_file(argv[1]);
    CHECK(schema != NULL);
    CHECK_VOCAB(dns_result, enum mts_dns_result, MTS_DNS_RESULT_COUNT, MTS_DNS_RESULT_UNKNOWN);
    CHECK_VOCAB(skip, enum mts_skip, MTS_SKIP_COUNT, MTS_SKIP_UNKNOWN);
    CHECK_VOCAB(scan_state, enum mts_scan_state, MTS_SCAN_STATE_UNKNOWN, MTS_SCAN_STATE_UNKNOWN);
    CHECK_VOCAB(scan_stage, enum mts_scan_stage, MTS_SCAN_STAGE_UNKNOWN, MTS_SCAN_STAGE_UNKNOWN);
    CHECK_VOCAB(rua_scheme, enum mts_rua_scheme, MTS_RUA_SCHEME_UNKNOWN, MTS_RUA_SCHEME_UNKNOWN);
    CHECK_VOCAB(fetch_why, enum mts_fetch_why, MTS_FETCH_WHY_UNKNOWN, MTS_FETCH_WHY_UNKNOWN);
    CHECK_VOCAB(fetch_result, enum mts_fetch_result, MTS_FETCH_RESULT_COUNT,
                MTS_FETCH_RESULT_UNKNOWN);
    CHECK_VOCAB(smtp_result, enum mts_smtp_result, MTS_SMTP_RESULT_COUNT, MTS_SMTP_RESULT_UNKNOWN);
    CHECK_VOCAB(smtp_stage, enum mts_smtp_stage, MTS_SMTP_STAGE_COUNT, MTS_SMTP_STAGE_UNKNOWN);
    CHECK_VOCAB(tls_version, enum mts_tls_version, MTS_TLS_VERSION_COUNT, MTS_TLS_VERSION_UNKNOWN);
    CHECK_VOCAB(cert_verdict, enum mts_cert_verdict, MTS_CERT_COUNT, MTS_CERT_UNKNOWN);

    /* The stored names are stable: a few spelled out as docs/record-schema.md gives them. */
    CHECK_STR(mts_dns_result_name(MTS_DNS_RESULT_QUEUE_TIMEOUT), "queue-timeout");
    CHECK_STR(mts_skip_name(MTS_SKIP_NAME_TOO_LONG), "name-too-long");
    CHECK_STR(mts_fetch_why_name(MTS_FETCH_WHY_POLICY_ONLY), "policy-only");
    CHECK_STR(mts_fetch_result_name(MTS_FETCH_NO_ADDRESS), "no-address");
    CHECK_STR(mts_smtp_result_name(MTS_SMTP_BANNER_4XX), "banner-4xx");
    CHECK_STR(mts_smtp_stage_name(MTS_SMTP_STAGE_DONE), "done");
    CHECK_STR(mts_cert_verdict_name(MTS_CERT_NOT_YET_VALID), "not-yet-valid");
    CHECK_STR(mts_rua_scheme_name(MTS_RUA_MAILTO), "mailto");
    CHECK_STR(mts_fetch_why_name(MTS_FETCH_WHY_TLSRPT), "tlsrpt");
    CHECK_STR(mts_fetch_result_name(MTS_FETCH_LIMIT), "limit");
    /* Values no version wrote are not in the vocabulary (docs/record-schema.md). */
    CHECK_INT(mts_smtp_result_parse("excluded"), MTS_SMTP_RESULT_UNKNOWN);
    CHECK_INT(mts_smtp_result_parse("special-address"), MTS_SMTP_RESULT_UNKNOWN);
    free(schema);
    return check_exit();
}
