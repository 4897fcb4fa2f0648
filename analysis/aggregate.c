/*
 * Why this shape: a 1M-domain scan (or a TLD zone of tens of millions) must be summarised
 * in one pass with flat memory, so everything here is a counter or a bounded table, and
 * the would-bounce examples are the lexicographically smallest names (not the first seen)
 * so that the report of a scan does not depend on how it was sharded.
 */
#include <errno.h>
#include <libpsl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "mts_classify.h"
#include "mts_profiles.h"
#include "mts_view.h"

/* The adoption funnel, in order; each stage is a subset of the previous one. Stage k > 0
   is mts_view_funnel's k - 1. */
static const char *const funnel_labels[] = {
    "scanned",      "resolvable",
    "with MX",      "_mta-sts record",
    "valid record", "policy fetched",
    "valid policy", "MX covered",
    "MX TLS valid", "fully working in enforce mode",
};
#define N_FUNNEL (sizeof funnel_labels / sizeof funnel_labels[0])
_Static_assert(N_FUNNEL == MTS_VIEW_FUNNEL + 1, "a label for each funnel stage");
/* Indexes of mts_view_funnel's stages read on their own. */
enum { STAGE_RECORD = 2, STAGE_POLICY_FETCHED = 4, STAGE_POLICY_VALID = 5 };

/* "indeterminate" stays at index 5 (the report counts it on its own); new names go last. */
static const char *const verdict_names[] = {"no-mta-sts", "valid-enforce", "valid-testing",
                                            "valid-none", "misconfigured", "indeterminate",
                                            "no-mail"};
#define N_VERDICT (sizeof verdict_names / sizeof verdict_names[0])

static const char *const mode_names[] = {"enforce", "testing", "none"};
#define N_MODE 3

/* The index of mode in mode_names, or -1 (absent, invalid). */
static int mode_index(enum mts_mode mode)
{
    switch (mode) {
    case MTS_MODE_ENFORCE:
        return 0;
    case MTS_MODE_TESTING:
        return 1;
    case MTS_MODE_NONE:
        return 2;
    default:
        return -1;
    }
}

/* max_age buckets: upper bounds in seconds (exclusive), the last open-ended. */
static const struct {
    long long below;
    const char *label;
} age_buckets[] = {
    {86400, "< 1 day"},
    {604800, "1 day - < 1 week"},
    {2592000, "1 week - < 30 days"},
    {15552000, "30 days - < 180 days"},
    {31557601, "180 days - 1 year"},
    {-1, "> 1 year (invalid)"},
};
#define N_AGE (sizeof age_buckets / sizeof age_buckets[0])

static const char *const tlsrpt_names[] = {"valid", "invalid", "multiple", "absent",
                                           "indeterminate"};
#define N_TLSRPT (sizeof tlsrpt_names / sizeof tlsrpt_names[0])

static const char *const dane_names[] = {"all-mx", "some-mx", "none", "indeterminate"};
#define N_DANE (sizeof dane_names / sizeof dane_names[0])

/* The MTS_AGG_EXAMPLES lexicographically smallest names of a set of domains. */
struct examples {
    char *v[MTS_AGG_EXAMPLES]; /* sorted, owned */
    size_t n;
};

/* An open-addressing string table of counters (providers, categories). */
struct counter {
    char *name; /* owned; NULL for an empty slot */
    unsigned long long n, misconfigured, would_bounce;
    unsigned long long n_deployed; /* categories only: of the domains with MTA-STS deployed */
    const char *effect;            /* categories only: static storage */
};

struct table {
    struct counter *v;
    size_t cap, used, limit;
    unsigned long long dropped; /* additions refused because the table was full */
};

struct mts_agg {
    psl_ctx_t *psl;
    bool psl_owned;
    unsigned long long domains;
    unsigned long long funnel[N_FUNNEL];
    unsigned long long verdicts[N_VERDICT + 1]; /* + other */
    unsigned long long modes[N_MODE];
    unsigned long long ages[N_AGE];
    unsigned long long tlsrpt[N_TLSRPT];
    unsigned long long dane[N_DANE];
    bool dane_scanned;
    unsigned long long would_bounce, would_bounce_lenient, deployed, analysis_errors;
    struct examples bounce_examples, error_examples;
    /* The paper table: the domains with an _mta-sts record and what they come to. */
    struct {
        unsigned long long records, misconfigured, would_bounce, modes[N_MODE], tlsrpt_valid,
            tlsrpt_ready;
    } paper;
    struct table categories, mx_providers, policy_providers;
    /* Faults by provider: "by\x1fprovider\x1fcategory" -> domains (docs/analyze.md). */
    struct table faults;
    /* Per sender profile (mts_sender_profiles): would bounce, and the mode applied. */
    struct {
        unsigned long long would_bounce, seen_as[N_MODE + 1]; /* + no policy */
    } profiles[MTS_N_PROFILES];
    /* Domains whose applied mode or would-bounce differs between the profiles that
       implement MTA-STS. */
    unsigned long long profiles_differ;
    struct examples differ_examples;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int table_grow(struct table *t)
{
    size_t cap = t->cap ? 2 * t->cap : 64;
    struct counter *v = calloc(cap, sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->v[i].name)
            continue;
        size_t j = hash_str(t->v[i].name) & (cap - 1);
        while (v[j].name)
            j = (j + 1) & (cap - 1);
        v[j] = t->v[i];
    }
    free(t->v);
    t->v = v;
    t->cap = cap;
    return 0;
}

/* The counter for name, created if absent; NULL when the table is full (counted) or on
 * ENOMEM (*err set). */
static struct counter *table_get(struct table *t, const char *name, int *err)
{
    if (t->cap) {
        size_t j = hash_str(name) & (t->cap - 1);
        for (; t->v[j].name; j = (j + 1) & (t->cap - 1))
            if (strcmp(t->v[j].name, name) == 0)
                return &t->v[j];
    }
    if (t->used >= t->limit) {
        t->dropped++;
        return NULL;
    }
    if (2 * (t->used + 1) > t->cap && (*err = table_grow(t)) != 0)
        return NULL;
    size_t j = hash_str(name) & (t->cap - 1);
    while (t->v[j].name)
        j = (j + 1) & (t->cap - 1);
    if (!(t->v[j].name = strdup(name))) {
        *err = -ENOMEM;
        return NULL;
    }
    t->used++;
    return &t->v[j];
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->v[i].name);
    free(t->v);
    memset(t, 0, sizeof *t);
}

int mts_agg_new(struct mts_agg **out)
{
    struct mts_agg *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->psl = (psl_ctx_t *)psl_builtin();
    if (!a->psl) {
        a->psl = psl_latest(NULL);
        a->psl_owned = true;
    }
    if (!a->psl) {
        free(a);
        return -ENOENT;
    }
    a->categories.limit = MTS_AGG_CATEGORY_CAP;
    a->mx_providers.limit = MTS_AGG_PROVIDER_CAP;
    a->policy_providers.limit = MTS_AGG_PROVIDER_CAP;
    a->faults.limit = MTS_AGG_PROVIDER_CAP;
    *out = a;
    return 0;
}

void mts_agg_free(struct mts_agg *agg)
{
    if (!agg)
        return;
    if (agg->psl_owned)
        psl_free(agg->psl);
    for (size_t i = 0; i < agg->bounce_examples.n; i++)
        free(agg->bounce_examples.v[i]);
    for (size_t i = 0; i < agg->error_examples.n; i++)
        free(agg->error_examples.v[i]);
    for (size_t i = 0; i < agg->differ_examples.n; i++)
        free(agg->differ_examples.v[i]);
    table_free(&agg->categories);
    table_free(&agg->mx_providers);
    table_free(&agg->policy_providers);
    table_free(&agg->faults);
    free(agg);
}

/* Keep name among the MTS_AGG_EXAMPLES smallest. */
static int add_example(struct examples *e, const char *name)
{
    size_t pos = e->n;
    while (pos > 0 && strcmp(e->v[pos - 1], name) > 0)
        pos--;
    if (pos >= MTS_AGG_EXAMPLES)
        return 0;
    char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    if (e->n == MTS_AGG_EXAMPLES)
        free(e->v[--e->n]);
    memmove(&e->v[pos + 1], &e->v[pos], (e->n - pos) * sizeof e->v[0]);
    e->v[pos] = copy;
    e->n++;
    return 0;
}

static json_t *examples_json(const struct examples *e)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < e->n; i++)
        if (json_array_append_new(arr, json_string(e->v[i]))) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

/* Lower-case host without its trailing dot into buf; false when it does not fit. */
static bool host_key(const char *host, char *buf, size_t cap)
{
    size_t len = strlen(host);
    if (len && host[len - 1] == '.')
        len--;
    if (len == 0 || len >= cap)
        return false;
    for (size_t i = 0; i < len; i++)
        buf[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] + 32) : host[i];
    buf[len] = '\0';
    return true;
}

/* Count one domain for the provider name (already a registrable domain or a host key). */
static int count_name(struct table *t, const char *name, bool misconf, bool bounce)
{
    int err = 0;
    struct counter *c = table_get(t, name, &err);
    if (c) {
        c->n++;
        c->misconfigured += misconf;
        c->would_bounce += bounce;
    }
    return err;
}

static int count_provider(struct mts_agg *a, struct table *t, const char *host, bool misconf,
                          bool bounce)
{
    char key[256];
    if (!host || !host_key(host, key, sizeof key))
        return 0;
    const char *reg = psl_registrable_domain(a->psl, key);
    return count_name(t, reg ? reg : key, misconf, bounce);
}

/* The target of the last CNAME in a DNS observation's answer, or NULL. */
static const char *cname_target(const json_t *dnsobs)
{
    const char *target = NULL;
    size_t i;
    json_t *rr;
    json_array_foreach(json_object_get(dnsobs, "answer"), i, rr)
    {
        const char *type = json_string_value(json_object_get(rr, "type"));
        if (type && strcmp(type, "CNAME") == 0)
            target = json_string_value(json_object_get(rr, "target"));
    }
    return target;
}

/* MX providers, each registrable domain counted once per domain. */
static int count_mx_providers(struct mts_agg *a, const json_t *raw, bool misconf, bool bounce)
{
    char seen[16][256];
    size_t n_seen = 0;
    size_t i;
    json_t *mx;
    json_array_foreach(json_object_get(raw, "mx"), i, mx)
    {
        const char *host = json_string_value(json_object_get(mx, "host"));
        char key[256];
        if (!host || !host_key(host, key, sizeof key))
            continue;
        const char *reg = psl_registrable_domain(a->psl, key);
        const char *name = reg ? reg : key;
        bool dup = false;
        for (size_t k = 0; k < n_seen && !dup; k++)
            dup = strcmp(seen[k], name) == 0;
        if (dup)
            continue;
        int err = count_name(&a->mx_providers, name, misconf, bounce);
        if (err)
            return err;
        if (n_seen < sizeof seen / sizeof seen[0])
            snprintf(seen[n_seen++], sizeof seen[0], "%s", name);
    }
    return 0;
}

#define FAULT_SEP '\x1f' /* between the parts of a fault key; never in a counted name */

/* The faults of one domain, each (by, provider, category) counted once per domain. */
struct fault_keys {
    char v[32][512];
    size_t n;
};

static bool is_category(const char *s)
{
    return s && strchr(s, '/') != NULL;
}

static int count_fault(struct mts_agg *a, struct fault_keys *seen, const char *by,
                       const char *provider, const char *category)
{
    char key[512];
    if (!provider || !*provider || strchr(provider, FAULT_SEP) ||
        snprintf(key, sizeof key, "%s%c%s%c%s", by, FAULT_SEP, provider, FAULT_SEP, category) >=
            (int)sizeof key)
        return 0;
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->v[i], key) == 0)
            return 0;
    if (seen->n < sizeof seen->v / sizeof seen->v[0])
        memcpy(seen->v[seen->n++], key, sizeof key);
    int err = 0;
    struct counter *c = table_get(&a->faults, key, &err);
    if (c) {
        c->n++;
        c->effect = mts_effect_name(mts_category_effect(category));
    }
    return err;
}

/* The registrable domain of a host name (lower case, no trailing dot) into buf, or NULL. */
static const char *registrable(struct mts_agg *a, const char *host, char *buf, size_t cap)
{
    if (!host || !host_key(host, buf, cap))
        return NULL;
    const char *reg = psl_registrable_domain(a->psl, buf);
    return reg ? reg : buf;
}

/* MX-side faults: each refusing address's category by the MX host's registrable domain and
   by its certificate's issuer; a host refused for another reason (not covered) by the
   registrable domain. */
static int count_mx_faults(struct mts_agg *a, struct fault_keys *seen,
                           const struct mts_classification *cls)
{
    int err = 0;
    for (size_t i = 0; i < cls->n_mx; i++) {
        const struct mts_mx_result *mx = &cls->mx[i];
        char buf[256];
        const char *reg = registrable(a, mx->host, buf, sizeof buf);
        if (reg && is_category(mx->reason) &&
            (err = count_fault(a, seen, "mx", reg, mx->reason)) != 0)
            return err;
        for (size_t k = 0; k < mx->n_addrs; k++) {
            const char *outcome = mx->addrs[k].outcome, *issuer = mx->addrs[k].issuer;
            if (!is_category(outcome))
                continue;
            if (reg && (err = count_fault(a, seen, "mx", reg, outcome)) != 0)
                return err;
            if (issuer && strncmp(outcome, "certificate-", 12) == 0 &&
                (err = count_fault(a, seen, "issuer", issuer, outcome)) != 0)
                return err;
        }
    }
    return 0;
}

/* Whether one of cls's categories is of the record or the policy ("sts-..."). */
static bool has_sts_category(const struct mts_classification *cls)
{
    for (size_t i = 0; i < cls->n_categories; i++)
        if (strncmp(cls->categories[i], "sts-", 4) == 0)
            return true;
    return false;
}

/* Policy-side faults by the policy host's CNAME target, TXT faults by the _mta-sts CNAME
   target (a domain serving its own has no provider to tell), and WebPKI faults of the
   policy host also by its certificate's issuer. The providers are looked up in the PSL
   only for a domain with such a fault. */
static int count_policy_faults(struct mts_agg *a, struct fault_keys *seen, const json_t *raw,
                               const struct mts_classification *cls)
{
    if (!has_sts_category(cls))
        return 0;
    const json_t *dns = json_object_get(raw, "dns");
    char pbuf[256], tbuf[256];
    const char *policy_host =
        registrable(a, cname_target(json_object_get(dns, "policy_a")), pbuf, sizeof pbuf);
    const char *txt_host =
        registrable(a, cname_target(json_object_get(dns, "sts")), tbuf, sizeof tbuf);
    const char *issuer = json_string_value(json_object_get(
        json_object_get(json_object_get(json_object_get(raw, "policy"), "tls"), "leaf"), "issuer"));
    int err = 0;
    for (size_t i = 0; i < cls->n_categories; i++) {
        const char *code = cls->categories[i];
        bool webpki = strncmp(code, "sts-webpki-invalid/", 19) == 0;
        if (strncmp(code, "sts-txt-invalid/", 16) == 0 && txt_host)
            err = count_fault(a, seen, "txt-host", txt_host, code);
        else if ((webpki || strncmp(code, "sts-policy-", 11) == 0) && policy_host)
            err = count_fault(a, seen, "policy-host", policy_host, code);
        if (!err && webpki && issuer)
            err = count_fault(a, seen, "issuer", issuer, code);
        if (err)
            return err;
    }
    return 0;
}

/* Count one domain's readings by every sender profile. */
static int count_profiles(struct mts_agg *a, const char *domain,
                          const struct mts_classification *cls)
{
    int first_mode = 0;
    bool first_bounce = false, differ = false, any = false;
    for (size_t i = 0; i < MTS_N_PROFILES; i++) {
        int m = mode_index(cls->profiles[i].seen_as);
        bool bounce = cls->profiles[i].would_bounce;
        a->profiles[i].would_bounce += bounce;
        a->profiles[i].seen_as[m < 0 ? N_MODE : (size_t)m]++;
        if (mts_sender_profiles[i].reader == MTS_READ_NOTHING)
            continue;
        if (any)
            differ |= m != first_mode || bounce != first_bounce;
        else
            first_mode = m, first_bounce = bounce, any = true;
    }
    if (!differ)
        return 0;
    a->profiles_differ++;
    return add_example(&a->differ_examples, domain);
}

static json_t *profiles_json(const struct mts_agg *a)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < MTS_N_PROFILES; i++) {
        const struct mts_sender_profile *p = &mts_sender_profiles[i];
        unsigned long long protected_ = a->profiles[i].seen_as[0]; /* enforce */
        json_t *seen = json_object();
        for (size_t m = 0; seen && m <= N_MODE; m++)
            json_object_set_new(seen, m < N_MODE ? mode_names[m] : "no-policy",
                                json_integer((json_int_t)a->profiles[i].seen_as[m]));
        if (!seen ||
            json_array_append_new(
                list, json_pack("{s:s, s:s, s:I, s:o, s:I}", "name", p->name, "source", p->source,
                                "would_bounce", (json_int_t)a->profiles[i].would_bounce, "seen_as",
                                seen, "unprotected", (json_int_t)(a->domains - protected_)))) {
            json_decref(list);
            return NULL;
        }
    }
    json_t *ex = examples_json(&a->differ_examples);
    json_t *r = list && ex
                    ? json_pack("{s:o, s:{s:I, s:o, s:I}}", "profiles", list, "differ", "count",
                                (json_int_t)a->profiles_differ, "examples", ex, "more",
                                (json_int_t)(a->profiles_differ - a->differ_examples.n))
                    : NULL;
    if (!r) {
        json_decref(list);
        json_decref(ex);
    }
    return r;
}

/* The index of name in names, or -1. */
/* A valid TLS-RPT record whose reports can arrive: some destination the scan did not find
   unable to take them (docs/validation.md, "Readiness"). */
static bool tlsrpt_ready(const struct mts_classification *cls)
{
    return cls->has_tlsrpt && cls->tlsrpt.valid && cls->rua_failing < cls->tlsrpt.n_rua;
}

static int name_index(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

/* Count the categories of one domain (deployed: it has MTA-STS deployed). */
static int count_categories(struct mts_agg *a, const struct mts_classification *cls, bool deployed)
{
    for (size_t i = 0; i < cls->n_categories; i++) {
        const char *code = cls->categories[i];
        int err = 0;
        struct counter *c = table_get(&a->categories, code, &err);
        if (err)
            return err;
        if (c) {
            c->n++;
            c->n_deployed += deployed;
            if (!c->effect)
                c->effect = mts_effect_name(mts_category_effect(code));
        }
    }
    return 0;
}

/* The faults and providers of a domain with MTA-STS deployed. */
static int count_deployed(struct mts_agg *a, const char *domain, const json_t *raw,
                          const struct mts_classification *cls, bool misconf, bool bounce)
{
    struct fault_keys *seen = malloc(sizeof *seen); /* 16 KiB: only the first n are read */
    if (!seen)
        return -ENOMEM;
    seen->n = 0;
    int err = count_mx_faults(a, seen, cls);
    if (!err)
        err = count_policy_faults(a, seen, raw, cls);
    free(seen);
    if (!err)
        err = count_mx_providers(a, raw, misconf, bounce);
    if (err)
        return err;
    const json_t *dns = json_object_get(raw, "dns");
    const char *target = cname_target(json_object_get(dns, "policy_a"));
    if (!target)
        target = cname_target(json_object_get(dns, "sts"));
    return count_provider(a, &a->policy_providers, target ? target : domain, misconf, bounce);
}

int mts_agg_add(struct mts_agg *a, const char *domain, const json_t *raw,
                const struct mts_classification *cls)
{
    bool reached[MTS_VIEW_FUNNEL];
    mts_view_funnel(cls, reached);
    bool misconf = cls->verdict && strcmp(cls->verdict, "misconfigured") == 0;
    bool bounce = cls->would_bounce;
    int err;

    a->domains++;
    a->funnel[0]++;
    for (size_t i = 1; i < N_FUNNEL; i++)
        a->funnel[i] += reached[i - 1];
    int v = name_index(verdict_names, N_VERDICT, cls->verdict);
    a->verdicts[v < 0 ? N_VERDICT : (size_t)v]++;

    int m = -1;
    if (reached[STAGE_POLICY_VALID] && cls->has_policy) {
        m = mode_index(cls->policy.mode);
        if (m >= 0)
            a->modes[m]++;
    }
    if (cls->has_policy && cls->policy.max_age >= 0 && reached[STAGE_POLICY_FETCHED]) {
        long long s = cls->policy.max_age;
        size_t b = 0;
        while (b + 1 < N_AGE && s >= age_buckets[b].below)
            b++;
        a->ages[b]++;
    }
    bool deployed = reached[STAGE_RECORD] || json_object_get(raw, "policy") != NULL;
    int t = name_index(tlsrpt_names, N_TLSRPT, mts_view_tlsrpt(cls));
    if (t >= 0)
        a->tlsrpt[t]++;
    int d = name_index(dane_names, N_DANE, mts_view_dane(raw));
    if (d >= 0) {
        a->dane[d]++;
        a->dane_scanned = true;
    }

    if (reached[STAGE_RECORD]) {
        a->paper.records++;
        a->paper.misconfigured += misconf;
        a->paper.would_bounce += bounce;
        if (m >= 0)
            a->paper.modes[m]++;
        a->paper.tlsrpt_valid += t == 0; /* "valid" */
        a->paper.tlsrpt_ready += t == 0 && tlsrpt_ready(cls);
    }

    a->deployed += deployed;
    if (bounce) {
        a->would_bounce++;
        if ((err = add_example(&a->bounce_examples, domain)) != 0)
            return err;
    }
    if (cls->analysis_error) {
        a->analysis_errors++;
        if ((err = add_example(&a->error_examples, domain)) != 0)
            return err;
    }
    a->would_bounce_lenient += cls->profiles[MTS_PROFILE_RESOLVER].would_bounce;
    if ((err = count_profiles(a, domain, cls)) != 0)
        return err;
    if ((err = count_categories(a, cls, deployed)) != 0)
        return err;
    return deployed ? count_deployed(a, domain, raw, cls, misconf, bounce) : 0;
}

static json_t *pct(unsigned long long n, unsigned long long of)
{
    return json_real(of ? round(10000.0 * (double)n / (double)of) / 100.0 : 0.0);
}

/* Append {"name": ..., "count": n, "pct": ...} to arr. */
static int push_count(json_t *arr, const char *key, const char *name, unsigned long long n,
                      unsigned long long of)
{
    return json_array_append_new(
        arr, json_pack("{s:s, s:I, s:o}", key, name, "count", (json_int_t)n, "pct", pct(n, of)));
}

static int cmp_counter(const void *x, const void *y)
{
    const struct counter *a = *(const struct counter *const *)x,
                         *b = *(const struct counter *const *)y;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* The table's entries sorted by count (desc) then name; at most top (0: all). */
static json_t *table_json(const struct table *t, size_t top, bool providers, unsigned long long of)
{
    json_t *arr = json_array();
    const struct counter **v = malloc((t->used ? t->used : 1) * sizeof *v);
    if (!arr || !v) {
        free(v);
        json_decref(arr);
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->v[i].name)
            v[n++] = &t->v[i];
    qsort(v, n, sizeof *v, cmp_counter);
    if (top && n > top)
        n = top;
    for (size_t i = 0; i < n; i++) {
        json_t *o;
        if (providers)
            o = json_pack("{s:s, s:I, s:I, s:I}", "name", v[i]->name, "domains",
                          (json_int_t)v[i]->n, "misconfigured", (json_int_t)v[i]->misconfigured,
                          "would_bounce", (json_int_t)v[i]->would_bounce);
        else
            o = json_pack("{s:s, s:s, s:I, s:o, s:I}", "code", v[i]->name, "effect", v[i]->effect,
                          "count", (json_int_t)v[i]->n, "pct", pct(v[i]->n, of), "count_deployed",
                          (json_int_t)v[i]->n_deployed);
        json_array_append_new(arr, o);
    }
    free(v);
    return arr;
}

static json_t *faults_json(const struct mts_agg *a)
{
    json_t *rows = table_json(&a->faults, MTS_AGG_TOP, false, 0), *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char key[512];
        snprintf(key, sizeof key, "%s", json_string_value(json_object_get(row, "code")));
        char *provider = strchr(key, FAULT_SEP),
             *category = provider ? strchr(provider + 1, FAULT_SEP) : NULL;
        if (!category)
            continue;
        *provider++ = '\0';
        *category++ = '\0';
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:O, s:I}", "by", key, "provider",
                                             provider, "category", category, "effect",
                                             json_object_get(row, "effect"), "domains",
                                             json_integer_value(json_object_get(row, "count"))));
    }
    json_decref(rows);
    json_t *r = out ? json_pack("{s:o, s:I, s:I, s:I}", "top", out, "distinct",
                                (json_int_t)a->faults.used, "cap", (json_int_t)MTS_AGG_PROVIDER_CAP,
                                "dropped", (json_int_t)a->faults.dropped)
                    : NULL;
    return r;
}

/* The metrics published adoption studies report, so a scan can be set beside them:
   rows of {key, metric, count, of, pct}, shares of all domains or of those with a record. */
static json_t *paper_json(const struct mts_agg *a)
{
    const unsigned long long all = a->domains, rec = a->paper.records;
    const struct {
        const char *key, *metric;
        unsigned long long count, of;
    } rows[] = {
        {"record", "with an _mta-sts record", rec, all},
        {"misconfigured", "misconfigured (of those with a record)", a->paper.misconfigured, rec},
        {"would_bounce", "mail would bounce (of those with a record)", a->paper.would_bounce, rec},
        {"mode_enforce", "mode enforce (of those with a record)", a->paper.modes[0], rec},
        {"mode_testing", "mode testing (of those with a record)", a->paper.modes[1], rec},
        {"mode_none", "mode none (of those with a record)", a->paper.modes[2], rec},
        {"tlsrpt_record", "valid TLS-RPT record (of those with a record)", a->paper.tlsrpt_valid,
         rec},
        {"tlsrpt_all", "valid TLS-RPT record (of all)", a->tlsrpt[0], all},
        {"tlsrpt_ready", "TLS-RPT deliverable (of those with a record)", a->paper.tlsrpt_ready,
         rec},
    };
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < sizeof rows / sizeof rows[0]; i++)
        if (json_array_append_new(arr,
                                  json_pack("{s:s, s:s, s:I, s:I, s:o}", "key", rows[i].key,
                                            "metric", rows[i].metric, "count",
                                            (json_int_t)rows[i].count, "of", (json_int_t)rows[i].of,
                                            "pct", pct(rows[i].count, rows[i].of))) < 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

json_t *mts_agg_report(const struct mts_agg *a, const char *scan, size_t stores)
{
    json_t *r = json_pack("{s:s, s:I, s:I, s:I}", "scan", scan, "stores", (json_int_t)stores,
                          "domains", (json_int_t)a->domains, "deployed", (json_int_t)a->deployed);
    json_t *funnel = json_array(), *verdicts = json_object(), *modes = json_array(),
           *ages = json_array(), *tlsrpt = json_array(), *wb = examples_json(&a->bounce_examples),
           *errs = examples_json(&a->error_examples);
    if (!r || !funnel || !verdicts || !modes || !ages || !tlsrpt || !wb || !errs)
        goto fail;
    for (size_t i = 0; i < N_FUNNEL; i++)
        json_array_append_new(funnel,
                              json_pack("{s:s, s:s, s:I, s:o, s:o}", "stage",
                                        i ? mts_view_funnel_keys[i - 1] : "scanned", "label",
                                        funnel_labels[i], "count", (json_int_t)a->funnel[i], "pct",
                                        pct(a->funnel[i], a->domains), "pct_prev",
                                        pct(a->funnel[i], i ? a->funnel[i - 1] : a->domains)));
    for (size_t i = 0; i < N_VERDICT; i++)
        json_object_set_new(verdicts, verdict_names[i], json_integer((json_int_t)a->verdicts[i]));
    if (a->verdicts[N_VERDICT])
        json_object_set_new(verdicts, "other", json_integer((json_int_t)a->verdicts[N_VERDICT]));
    unsigned long long nmodes = a->modes[0] + a->modes[1] + a->modes[2];
    for (size_t i = 0; i < N_MODE; i++)
        push_count(modes, "mode", mode_names[i], a->modes[i], nmodes);
    unsigned long long nages = 0;
    for (size_t i = 0; i < N_AGE; i++)
        nages += a->ages[i];
    for (size_t i = 0; i < N_AGE; i++)
        push_count(ages, "bucket", age_buckets[i].label, a->ages[i], nages);
    for (size_t i = 0; i < N_TLSRPT; i++)
        push_count(tlsrpt, "status", tlsrpt_names[i], a->tlsrpt[i], a->domains);

    json_t *cats = table_json(&a->categories, 0, false, a->domains);
    if (!cats)
        goto fail;
    size_t i;
    json_t *c;
    json_array_foreach(cats, i, c)
    {
        json_object_set_new(
            c, "pct_deployed",
            pct((unsigned long long)json_integer_value(json_object_get(c, "count_deployed")),
                a->deployed));
    }
    json_object_set_new(r, "funnel", funnel);
    json_object_set_new(r, "verdicts", verdicts);
    json_object_set_new(r, "indeterminate", json_integer((json_int_t)a->verdicts[5]));
    json_object_set_new(r, "modes", modes);
    json_object_set_new(r, "max_age", ages);
    json_object_set_new(r, "categories", cats);
    json_object_set_new(r, "categories_dropped", json_integer((json_int_t)a->categories.dropped));
    json_object_set_new(r, "would_bounce",
                        json_pack("{s:I, s:I, s:o}", "count", (json_int_t)a->would_bounce,
                                  "lenient_count", (json_int_t)a->would_bounce_lenient, "examples",
                                  wb));
    json_object_set_new(
        r, "analysis_errors",
        json_pack("{s:I, s:o}", "count", (json_int_t)a->analysis_errors, "examples", errs));
    json_object_set_new(r, "tlsrpt", tlsrpt);
    json_object_set_new(r, "paper", paper_json(a));
    json_object_set_new(r, "sender_profiles", profiles_json(a));
    json_object_set_new(r, "faults_by_provider", faults_json(a));
    if (a->dane_scanned) {
        json_t *dane = json_array();
        for (size_t k = 0; k < N_DANE; k++)
            push_count(dane, "status", dane_names[k], a->dane[k], a->domains);
        json_object_set_new(r, "dane", dane);
    }
    json_object_set_new(
        r, "providers",
        json_pack("{s:o, s:o, s:I, s:I, s:I, s:I}", "mx",
                  table_json(&a->mx_providers, MTS_AGG_TOP, true, 0), "policy",
                  table_json(&a->policy_providers, MTS_AGG_TOP, true, 0), "cap",
                  (json_int_t)MTS_AGG_PROVIDER_CAP, "mx_distinct", (json_int_t)a->mx_providers.used,
                  "policy_distinct", (json_int_t)a->policy_providers.used, "dropped",
                  (json_int_t)(a->mx_providers.dropped + a->policy_providers.dropped)));
    return r;
fail:
    json_decref(r);
    json_decref(funnel);
    json_decref(verdicts);
    json_decref(modes);
    json_decref(ages);
    json_decref(tlsrpt);
    json_decref(wb);
    json_decref(errs);
    return NULL;
}
