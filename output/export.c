/*
 * The raw JSON Lines export. Why inline: a domain record only references the MX probes it
 * shares with other domains and the policy body it shares with other scans; a consumer of
 * one line (jq, a notebook) should not need the store to see what was observed. The export
 * is tolerant: whatever is absent (field, probe record, body) is skipped, never an error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mts_export.h"
#include "mts_util.h"

struct export_ctx {
    struct mts_store *store;
    const char *scan;
    FILE *out;
};

static bool parse_digest(const char *hex, unsigned char out[MTS_STORE_SHA256_LEN])
{
    return hex && mts_store_unhex(hex, out, MTS_STORE_SHA256_LEN) == MTS_STORE_SHA256_LEN;
}

static json_t *hex_string(const unsigned char *data, size_t len)
{
    char *s = malloc(2 * len + 1);
    if (!s)
        return NULL;
    *mts_hex_encode(s, data, len) = '\0';
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* Add the stored body to a {"sha256": ...} object as "text" or "hex". */
static int inline_body(struct export_ctx *c, json_t *body)
{
    unsigned char digest[MTS_STORE_SHA256_LEN], *data;
    size_t len;
    if (!json_is_object(body) ||
        !parse_digest(json_string_value(json_object_get(body, "sha256")), digest))
        return 0;
    int rc = mts_store_policy_get(c->store, digest, &data, &len);
    if (rc == MTS_STORE_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    /* json_stringn refuses invalid UTF-8; a NUL is valid UTF-8 but not text. */
    json_t *text = memchr(data, '\0', len) ? NULL : json_stringn((const char *)data, len);
    if (text)
        rc = json_object_set_new(body, "text", text);
    else
        rc = json_object_set_new(body, "hex", hex_string(data, len));
    free(data);
    return rc ? -ENOMEM : 0;
}

static int inline_probes(struct export_ctx *c, json_t *rec)
{
    size_t i, j;
    json_t *mx, *probe;
    json_array_foreach(json_object_get(rec, "mx"), i, mx)
    {
        const char *host = json_string_value(json_object_get(mx, "host"));
        if (!host)
            continue;
        json_array_foreach(json_object_get(mx, "probes"), j, probe)
        {
            const char *addr = json_string_value(json_object_get(probe, "addr"));
            json_t *pr;
            if (!addr || !json_is_object(probe))
                continue;
            int rc = mts_store_mxprobe_get(c->store, c->scan, host, addr, &pr);
            if (rc == MTS_STORE_NOTFOUND || rc == -EINVAL || rc == -ENAMETOOLONG)
                continue; /* skipped address, or a name no probe could be stored under */
            if (rc)
                return rc;
            if (json_object_set_new(probe, "probe", pr))
                return -ENOMEM;
        }
    }
    return 0;
}

static int export_domain(void *arg, const char *domain, json_t *rec)
{
    struct export_ctx *c = arg;
    json_t *policy = json_object_get(rec, "policy");
    (void)domain;
    int rc = inline_probes(c, rec);
    if (rc == 0)
        rc = inline_body(c, json_object_get(policy, "body"));
    if (rc == 0)
        rc = inline_body(c, json_object_get(json_object_get(policy, "unauthenticated"), "body"));
    if (rc == 0 &&
        (json_dumpf(rec, c->out, MTS_STORE_JSON_FLAGS) != 0 || fputc('\n', c->out) == EOF))
        rc = -EIO;
    json_decref(rec);
    return rc;
}

int mts_export_raw_jsonl(struct mts_store *store, const char *scan, FILE *out)
{
    struct export_ctx c = {store, scan, out};
    int rc = mts_store_foreach_domain(store, scan, export_domain, &c);
    if (rc == 0 && fflush(out) != 0)
        rc = -EIO;
    return rc;
}
