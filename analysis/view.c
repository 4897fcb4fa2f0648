/*
 * Why one view: every command that prints a domain (export, explain, disclose, diff) reads
 * the same JSON, so a field has one name and one meaning everywhere; the aggregation,
 * which sees every domain of a scan and prints none, reads the classification itself
 * (building this JSON for each domain was a sixth of a summary, docs/PERFORMANCE.md).
 */
#include <stdbool.h>
#include <string.h>

#include "mts_view.h"
#include "mts_vocab.h"

const char *const mts_view_funnel_keys[MTS_VIEW_FUNNEL] = {
    "resolvable",   "mx",         "record",       "record_valid",    "policy_fetched",
    "policy_valid", "mx_covered", "mx_tls_valid", "enforce_working",
};

void mts_view_funnel(const struct mts_classification *c, bool reached[MTS_VIEW_FUNNEL])
{
    const struct mts_funnel *f = &c->funnel;
    const enum mts_tri stages[MTS_VIEW_FUNNEL] = {
        f->resolvable,   f->has_mx,     f->has_record,   f->valid_record,    f->policy_fetched,
        f->valid_policy, f->mx_covered, f->mx_tls_valid, f->enforce_working,
    };
    bool all = true;
    for (size_t i = 0; i < MTS_VIEW_FUNNEL; i++)
        reached[i] = all = all && stages[i] == MTS_TRI_YES;
}

const char *mts_view_tlsrpt(const struct mts_classification *c)
{
    for (size_t i = 0; i < c->n_categories; i++)
        if (strcmp(c->categories[i], "dns-failure/tlsrpt") == 0)
            return "indeterminate";
    if (!c->has_tlsrpt || c->tlsrpt.records == 0)
        return "absent";
    if (c->tlsrpt.records > 1)
        return "multiple";
    return c->tlsrpt.valid ? "valid" : "invalid";
}

const char *mts_view_dane(const json_t *raw)
{
    size_t i, hosts = 0, with = 0, failed = 0;
    json_t *mx;
    json_array_foreach(json_object_get(raw, "mx"), i, mx)
    {
        const json_t *tlsa = json_object_get(mx, "tlsa");
        if (!tlsa)
            continue;
        hosts++;
        enum mts_dns_result res =
            mts_dns_result_parse(json_string_value(json_object_get(tlsa, "result")));
        if (res == MTS_DNS_RESULT_ANSWER && json_is_true(json_object_get(tlsa, "ad")))
            with++;
        else if (res == MTS_DNS_RESULT_SERVFAIL || res == MTS_DNS_RESULT_TIMEOUT ||
                 res == MTS_DNS_RESULT_LOCAL_ERROR || res == MTS_DNS_RESULT_QUEUE_TIMEOUT)
            failed++; /* the last two: the scanner could not look, not a zone without TLSA */
    }
    if (hosts == 0)
        return NULL;
    if (with == hosts)
        return "all-mx";
    if (with)
        return "some-mx";
    return failed ? "indeterminate" : "none";
}

/*
 * The view is built with jansson's unchecked setters (its keys are literals) instead of
 * json_pack, whose format parsing and key checks took a third of the view's instructions.
 * A value that is NULL or not UTF-8 fails as it did with json_pack.
 */
static bool set(json_t *o, const char *key, json_t *value)
{
    return json_object_set_new_nocheck(o, key, value) == 0;
}

/* {k1: s1, k2: s2}, or NULL when a value is NULL or not UTF-8. */
static json_t *two_strings(const char *k1, const char *s1, const char *k2, const char *s2)
{
    json_t *o = json_object();
    if (o && !(set(o, k1, json_string(s1)) && set(o, k2, json_string(s2)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* One MX host of the view; takes addrs. NULL when a value cannot be set. */
static json_t *mx_host_json(const struct mts_mx_result *m, json_t *addrs)
{
    json_t *o = json_object();
    bool ok = o && set(o, "host", json_string(m->host)) &&
              set(o, "pref", json_integer((json_int_t)m->pref)) &&
              set(o, "implicit", json_boolean(m->implicit)) &&
              set(o, "covered", json_string(mts_tri_name(m->covered))) &&
              set(o, "status", json_string(mts_mx_status_name(m->status)));
    if (!ok || !set(o, "addresses", addrs)) {
        if (!ok)
            json_decref(addrs);
        json_decref(o);
        return NULL;
    }
    if (m->reason)
        set(o, "reason", json_string(m->reason));
    return o;
}

static json_t *mx_json(const struct mts_classification *c)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < c->n_mx; i++) {
        const struct mts_mx_result *m = &c->mx[i];
        json_t *addrs = json_array();
        for (size_t k = 0; addrs && k < m->n_addrs; k++) {
            json_t *a = two_strings("addr", m->addrs[k].addr, "outcome", m->addrs[k].outcome);
            if (a && m->addrs[k].tls_version)
                set(a, "tls_version", json_string(m->addrs[k].tls_version));
            if (a && m->addrs[k].issuer)
                set(a, "issuer", json_string(m->addrs[k].issuer));
            json_array_append_new(addrs, a);
        }
        json_t *o = mx_host_json(m, addrs);
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* {"result": ..., "media_type_ok": ...}, or NULL when the result is not UTF-8. */
static json_t *fetch_json(const struct mts_classification *c)
{
    json_t *o = json_object();
    if (o && !(set(o, "result", json_string(c->fetch_result)) &&
               set(o, "media_type_ok", json_boolean(c->media_type_ok)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* {profile name: {"seen_as": mode, "would_bounce": bool}} for every sender profile. */
static json_t *profiles_json(const struct mts_classification *c)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < MTS_N_PROFILES; i++) {
        const struct mts_profile_result *p = &c->profiles[i];
        json_t *one = json_object();
        if (!one || !set(one, "seen_as", json_string(mts_mode_name(p->seen_as))) ||
            !set(one, "would_bounce", json_boolean(p->would_bounce)) ||
            json_object_set_new(o, mts_sender_profiles[i].name, one)) {
            json_decref(one);
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *mts_view_json(const struct mts_classification *c, const json_t *raw)
{
    json_t *cats = json_array(), *funnel = json_object(), *mx = mx_json(c);
    json_t *v = json_object();
    if (!cats || !funnel || !mx || !v)
        goto fail;
    for (size_t i = 0; i < c->n_categories; i++)
        json_array_append_new(cats,
                              two_strings("code", c->categories[i], "effect",
                                          mts_effect_name(mts_category_effect(c->categories[i]))));
    bool reached[MTS_VIEW_FUNNEL];
    mts_view_funnel(c, reached);
    for (size_t i = 0; i < MTS_VIEW_FUNNEL; i++)
        json_object_set_new_nocheck(funnel, mts_view_funnel_keys[i], json_boolean(reached[i]));
    json_object_set_new_nocheck(v, "verdict", json_string(c->verdict));
    if (c->analysis_error)
        json_object_set_new_nocheck(v, "analysis_error", json_string(c->analysis_error));
    json_object_set_new_nocheck(v, "categories", cats);
    json_object_set_new_nocheck(v, "would_bounce", json_boolean(c->would_bounce));
    json_object_set_new_nocheck(v, "would_bounce_lenient",
                                json_boolean(c->profiles[MTS_PROFILE_RESOLVER].would_bounce));
    json_object_set_new_nocheck(v, "profiles", profiles_json(c));
    json_object_set_new_nocheck(v, "funnel", funnel);
    if (c->has_policy) {
        json_object_set_new_nocheck(v, "mode", json_string(mts_mode_name(c->policy.mode)));
        if (c->policy.max_age >= 0)
            json_object_set_new_nocheck(v, "max_age", json_integer(c->policy.max_age));
    }
    if (c->has_record && c->record.id)
        json_object_set_new_nocheck(v, "record_id", json_string(c->record.id));
    /* The hash of a policy, not of whatever body came (a 404 page is hashed too): the
       diff's body drift compares policies fetched in both scans. */
    const char *sha = json_string_value(
        json_object_get(json_object_get(json_object_get(raw, "policy"), "body"), "sha256"));
    if (sha && c->has_policy)
        json_object_set_new_nocheck(v, "policy_sha256", json_string(sha));
    json_object_set_new_nocheck(v, "tlsrpt", json_string(mts_view_tlsrpt(c)));
    const char *dane = mts_view_dane(raw);
    if (dane)
        json_object_set_new_nocheck(v, "dane", json_string(dane));
    if (c->has_record)
        json_object_set_new_nocheck(v, "record", mts_sts_record_json(&c->record));
    if (c->fetch_result)
        json_object_set_new_nocheck(v, "fetch", fetch_json(c));
    if (c->has_policy)
        json_object_set_new_nocheck(v, "policy", mts_policy_json(&c->policy));
    if (c->has_tlsrpt)
        json_object_set_new_nocheck(v, "tlsrpt_record", mts_tlsrpt_json(&c->tlsrpt));
    json_object_set_new_nocheck(v, "mx", mx);
    return v;
fail:
    json_decref(cats);
    json_decref(funnel);
    json_decref(mx);
    json_decref(v);
    return NULL;
}
