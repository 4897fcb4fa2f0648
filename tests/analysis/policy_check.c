/*
 * Why: the corpus test compares this library's reading of real policy files with an
 * independent parser written in Python; this driver is the C side of that comparison.
 * For each file argument it prints one JSON line: the file name, the parsed policy
 * (mts_policy_json), the list of finding codes, and the postfix-mta-sts-resolver profile's
 * reading of the body served without a charset ("resolver") and as UTF-8 ("resolver_utf8"),
 * and the maddy profile's mode ("maddy": "absent" when it does not read the body).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mts_policy.h"
#include "mts_profiles.h"

#define MAX_BODY (1 << 20)

/* {"valid", "mode"?, "max_age"?, "mx"?} as the resolver profile reads the body. */
static json_t *resolver_json(const unsigned char *body, size_t len, bool utf8)
{
    struct mts_resolver_policy p;
    json_t *o = NULL, *mx = NULL;
    if (mts_resolver_policy_read(&p, body, len, utf8) == 0 && (o = json_object()) &&
        (mx = json_array())) {
        json_object_set_new(o, "valid", json_boolean(p.valid));
        for (size_t i = 0; i < p.n_mx; i++)
            json_array_append_new(mx, json_stringn(p.mx[i], p.mx_len[i]));
        if (p.valid) {
            json_object_set_new(o, "mode", json_string(mts_mode_name(p.mode)));
            json_object_set_new(o, "max_age", json_integer(p.max_age));
            json_object_set_new(o, "mx", mx);
            mx = NULL;
        }
    }
    json_decref(mx);
    mts_resolver_policy_free(&p);
    return o;
}

static int check_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "policy_check: %s: %s\n", path, strerror(errno));
        return 1;
    }
    unsigned char *buf = malloc(MAX_BODY);
    size_t len = buf ? fread(buf, 1, MAX_BODY, f) : 0;
    fclose(f);
    if (!buf)
        return 1;
    struct mts_policy pol;
    int rc = mts_policy_parse(&pol, buf, len);
    json_t *resolver = resolver_json(buf, len, false),
           *resolver_utf8 = resolver_json(buf, len, true);
    enum mts_mode maddy_mode;
    mts_maddy_policy_read(buf, len, &maddy_mode);
    free(buf);
    json_t *j = rc ? NULL : mts_policy_json(&pol);
    json_t *codes = json_array();
    for (size_t i = 0; j && codes && i < pol.findings.n; i++)
        json_array_append_new(codes, json_string(pol.findings.v[i].code));
    mts_policy_free(&pol);
    if (!j || !codes || !resolver || !resolver_utf8) {
        fprintf(stderr, "policy_check: %s: out of memory\n", path);
        json_decref(j);
        json_decref(codes);
        json_decref(resolver);
        json_decref(resolver_utf8);
        return 1;
    }
    const char *base = strrchr(path, '/');
    json_object_set_new(j, "file", json_string(base ? base + 1 : path));
    json_object_set_new(j, "codes", codes);
    json_object_set_new(j, "resolver", resolver);
    json_object_set_new(j, "resolver_utf8", resolver_utf8);
    json_object_set_new(j, "maddy", json_string(mts_mode_name(maddy_mode)));
    json_object_del(j, "findings");
    char *line = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (!line)
        return 1;
    puts(line);
    free(line);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: policy_check FILE...\n");
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; i++)
        status |= check_file(argv[i]);
    return status;
}
