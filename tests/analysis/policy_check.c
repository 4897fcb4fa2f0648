/*
 * Why: the corpus test compares this library's reading of real policy files with an
 * independent parser written in Python; this driver is the C side of that comparison.
 * For each file argument it prints one JSON line: the file name, the parsed policy
 * (mts_policy_json) and the list of finding codes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mts_policy.h"

#define MAX_BODY (1 << 20)

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
    free(buf);
    json_t *j = rc ? NULL : mts_policy_json(&pol);
    json_t *codes = json_array();
    for (size_t i = 0; j && codes && i < pol.findings.n; i++)
        json_array_append_new(codes, json_string(pol.findings.v[i].code));
    mts_policy_free(&pol);
    if (!j || !codes) {
        fprintf(stderr, "policy_check: %s: out of memory\n", path);
        json_decref(j);
        json_decref(codes);
        return 1;
    }
    const char *base = strrchr(path, '/');
    json_object_set_new(j, "file", json_string(base ? base + 1 : path));
    json_object_set_new(j, "codes", codes);
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
