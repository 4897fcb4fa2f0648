/*
 * Why per category: a disclosure campaign notifies operators category by category and
 * re-checks exactly those domains weeks later; the question is "of the domains we told
 * about X, how many fixed X", not how the totals moved. The tables live in JSON objects
 * keyed by category: they are bounded by the vocabulary, and the lists are opt-in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "text_safe.h"

struct mts_diff {
    bool keep_lists, not_rechecked;
    unsigned long long both, old_only, new_only;
    json_t *categories; /* code -> {"fixed", "still", "new"} counts (+ "*_domains") */
    json_t *changes;    /* name -> count (+ "<name>_domains") */
};

static const char *const change_names[] = {
    "verdict",
    "mode",
    "policy_id",
    "change/body-changed-id-unchanged",
    "change/id-changed-body-unchanged",
};

int mts_diff_new(struct mts_diff **out, bool keep_lists, bool not_rechecked)
{
    struct mts_diff *d = calloc(1, sizeof *d);
    if (!d || !(d->categories = json_object()) || !(d->changes = json_object())) {
        mts_diff_free(d);
        return -ENOMEM;
    }
    d->keep_lists = keep_lists;
    d->not_rechecked = not_rechecked;
    for (size_t i = 0; i < sizeof change_names / sizeof change_names[0]; i++) {
        json_t *o = json_pack("{s:I}", "count", (json_int_t)0);
        if (o && keep_lists)
            json_object_set_new(o, "domains", json_array());
        if (!o || json_object_set_new(d->changes, change_names[i], o)) {
            mts_diff_free(d);
            return -ENOMEM;
        }
    }
    *out = d;
    return 0;
}

void mts_diff_free(struct mts_diff *d)
{
    if (!d)
        return;
    json_decref(d->categories);
    json_decref(d->changes);
    free(d);
}

static bool has_category(const json_t *cls, const char *code)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(cls, "categories"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "code")), code) == 0)
            return true;
    }
    return false;
}

/* Increment obj[key] (a count) and append domain to obj[key + "_domains"] if kept. */
static int bump(struct mts_diff *d, json_t *obj, const char *key, const char *domain)
{
    json_t *n = json_object_get(obj, key);
    if (json_integer_set(n, json_integer_value(n) + 1))
        return -ENOMEM;
    if (!d->keep_lists)
        return 0;
    char lkey[64];
    snprintf(lkey, sizeof lkey, "%s_domains", key);
    json_t *list = json_object_get(obj, lkey);
    if (!list && json_object_set_new(obj, lkey, list = json_array()))
        return -ENOMEM;
    return json_array_append_new(list, json_string(domain)) ? -ENOMEM : 0;
}

static int bump_category(struct mts_diff *d, const char *code, const char *what, const char *domain)
{
    json_t *row = json_object_get(d->categories, code);
    if (!row) {
        row = json_pack("{s:I, s:I, s:I}", "fixed", (json_int_t)0, "still", (json_int_t)0, "new",
                        (json_int_t)0);
        if (row && d->not_rechecked)
            json_object_set_new(row, "not_rechecked", json_integer(0));
        if (!row || json_object_set_new(d->categories, code, row))
            return -ENOMEM;
    }
    return bump(d, row, what, domain);
}

static int bump_change(struct mts_diff *d, const char *name, const char *domain)
{
    json_t *o = json_object_get(d->changes, name);
    json_t *n = json_object_get(o, "count");
    if (json_integer_set(n, json_integer_value(n) + 1))
        return -ENOMEM;
    if (d->keep_lists && json_array_append_new(json_object_get(o, "domains"), json_string(domain)))
        return -ENOMEM;
    return 0;
}

static bool differs(const json_t *a, const json_t *b, const char *key)
{
    const char *x = json_string_value(json_object_get(a, key));
    const char *y = json_string_value(json_object_get(b, key));
    return (x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0);
}

int mts_diff_add(struct mts_diff *d, const char *domain, const json_t *o, const json_t *n)
{
    int rc = 0;
    size_t i;
    json_t *c;
    d->both++;
    json_array_foreach(json_object_get(o, "categories"), i, c)
    {
        const char *code = json_string_value(json_object_get(c, "code"));
        if (rc == 0 && code)
            rc = bump_category(d, code, has_category(n, code) ? "still" : "fixed", domain);
    }
    json_array_foreach(json_object_get(n, "categories"), i, c)
    {
        const char *code = json_string_value(json_object_get(c, "code"));
        if (rc == 0 && code && !has_category(o, code))
            rc = bump_category(d, code, "new", domain);
    }
    if (rc == 0 && differs(o, n, "verdict"))
        rc = bump_change(d, "verdict", domain);
    if (rc == 0 && differs(o, n, "mode"))
        rc = bump_change(d, "mode", domain);
    bool id = differs(o, n, "record_id"), body = differs(o, n, "policy_sha256");
    bool both_ids = json_object_get(o, "record_id") && json_object_get(n, "record_id");
    bool both_bodies = json_object_get(o, "policy_sha256") && json_object_get(n, "policy_sha256");
    if (rc == 0 && id)
        rc = bump_change(d, "policy_id", domain);
    if (rc == 0 && both_ids && both_bodies && body && !id)
        rc = bump_change(d, "change/body-changed-id-unchanged", domain);
    if (rc == 0 && both_ids && both_bodies && id && !body)
        rc = bump_change(d, "change/id-changed-body-unchanged", domain);
    return rc;
}

int mts_diff_not_rechecked(struct mts_diff *d, const char *domain, const json_t *o)
{
    int rc = 0;
    size_t i;
    json_t *c;
    d->old_only++;
    json_array_foreach(json_object_get(o, "categories"), i, c)
    {
        const char *code = json_string_value(json_object_get(c, "code"));
        if (rc == 0 && code)
            rc = bump_category(d, code, "not_rechecked", domain);
    }
    return rc;
}

void mts_diff_only(struct mts_diff *d, bool in_old, unsigned long long n)
{
    if (in_old)
        d->old_only += n;
    else
        d->new_only += n;
}

json_t *mts_diff_json(const struct mts_diff *d, const char *old_scan, const char *new_scan)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:O, s:O}", "old", old_scan, "new", new_scan,
                     "compared", (json_int_t)d->both, "only_old", (json_int_t)d->old_only,
                     "only_new", (json_int_t)d->new_only, "categories", d->categories, "changes",
                     d->changes);
}

static void list(FILE *out, const json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        mts_text_printf(out, "      %s\n", json_string_value(v));
    }
}

int mts_diff_text(const json_t *j, FILE *out)
{
    const char *key;
    json_t *row;
    mts_text_printf(
        out,
        "Re-check %s -> %s: %lld domains compared (%lld only in %s: not re-checked, %lld only "
        "in %s)\n",
        json_string_value(json_object_get(j, "old")), json_string_value(json_object_get(j, "new")),
        (long long)json_integer_value(json_object_get(j, "compared")),
        (long long)json_integer_value(json_object_get(j, "only_old")),
        json_string_value(json_object_get(j, "old")),
        (long long)json_integer_value(json_object_get(j, "only_new")),
        json_string_value(json_object_get(j, "new")));
    mts_text_printf(out, "\n  %-46s %8s %8s %8s %13s\n", "category", "fixed", "still", "new",
                    "not-rechecked");
    json_object_foreach((json_t *)json_object_get(j, "categories"), key, row)
    {
        /* "-": a diff of the re-checked domains only did not classify the others. */
        const json_t *nr = json_object_get(row, "not_rechecked");
        char nrtext[24] = "-";
        if (nr)
            snprintf(nrtext, sizeof nrtext, "%lld", (long long)json_integer_value(nr));
        mts_text_printf(out, "  %-46s %8lld %8lld %8lld %13s\n", key,
                        (long long)json_integer_value(json_object_get(row, "fixed")),
                        (long long)json_integer_value(json_object_get(row, "still")),
                        (long long)json_integer_value(json_object_get(row, "new")), nrtext);
        static const char *const what[] = {"fixed", "still", "new", "not_rechecked"};
        for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
            char lkey[64];
            snprintf(lkey, sizeof lkey, "%s_domains", what[i]);
            const json_t *l = json_object_get(row, lkey);
            if (json_array_size(l)) {
                mts_text_printf(out, "    %s:\n", i == 3 ? "not re-checked" : what[i]);
                list(out, l);
            }
        }
    }
    mts_text_printf(out, "\n  %-46s %8s\n", "change", "domains");
    json_object_foreach((json_t *)json_object_get(j, "changes"), key, row)
    {
        mts_text_printf(out, "  %-46s %8lld\n", key,
                        (long long)json_integer_value(json_object_get(row, "count")));
        list(out, json_object_get(row, "domains"));
    }
    return ferror(out) ? -EIO : 0;
}
