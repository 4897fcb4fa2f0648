/*
 * docs/vocabulary.md against the category table (analysis/vocabulary.c): the page's
 * category rows and the table hold the same names, each once, with the same effects, and
 * the page defines each effect. A doctored
 * copy of the page (an effect changed, a row dropped, a row added) must be caught, so the
 * comparison itself is checked too. usage: test_vocabulary_doc docs/vocabulary.md
 */
#include "check.h"
#include "vocabulary.h"

#include <stdlib.h>

/* The "## Categories" section of the page, up to the next "## " heading. */
static const char *categories_section(const char *doc, const char **end)
{
    const char *start = strstr(doc, "\n## Categories");
    if (!start)
        return NULL;
    const char *next = strstr(start + 1, "\n## ");
    *end = next ? next : start + strlen(start);
    return start;
}

/* Disagreements between the table and the page's rows ("| `name` | effect |"), each
   printed; 0 when they agree (the same names, each once, with the same effects). */
static int compare(const char *doc, const char *label)
{
    const char *end, *p = categories_section(doc, &end);
    if (!p) {
        fprintf(stderr, "%s: no \"## Categories\" section\n", label);
        return 1;
    }
    int bad = 0;
    size_t rows = 0, seen[256] = {0};
    while ((p = strstr(p, "\n| `")) != NULL && p < end) {
        char name[128], effect[32];
        p += 4;
        if (sscanf(p, "%127[^`]` | %31[a-z] |", name, effect) != 2)
            continue;
        rows++;
        const struct mts_category *c = mts_category_find(name);
        if (!c) {
            fprintf(stderr, "%s: %s is not in the table\n", label, name);
            bad++;
        } else if (seen[c - mts_categories]++) {
            fprintf(stderr, "%s: %s is listed twice\n", label, name);
            bad++;
        } else if (strcmp(mts_effect_name(c->effect), effect) != 0) {
            fprintf(stderr, "%s: %s has effect %s, the table %s\n", label, name, effect,
                    mts_effect_name(c->effect));
            bad++;
        }
    }
    for (size_t i = 0; i < mts_n_categories; i++)
        if (!seen[i]) {
            fprintf(stderr, "%s: %s of the table is not on the page\n", label,
                    mts_categories[i].name);
            bad++;
        }
    return bad;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* doc with the first occurrence of from replaced by to (a new string). */
static char *doctored(const char *doc, const char *from, const char *to)
{
    const char *at = strstr(doc, from);
    if (!at)
        return NULL;
    size_t head = (size_t)(at - doc), lf = strlen(from), lt = strlen(to);
    char *out = malloc(strlen(doc) - lf + lt + 1);
    if (!out)
        return NULL;
    memcpy(out, doc, head);
    memcpy(out + head, to, lt);
    strcpy(out + head + lt, at + lf);
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s docs/vocabulary.md\n", argv[0]);
        return 2;
    }
    CHECK(mts_n_categories <= 256); /* compare()'s bound */
    char *doc = read_file(argv[1]);
    CHECK(doc != NULL);
    if (!doc)
        return check_exit();
    CHECK_INT(compare(doc, argv[1]), 0);

    /* The comparison finds a changed effect, a dropped row and an added row. */
    static const struct {
        const char *from, *to;
    } edits[] = {
        {"| `dns-failure/mx` | unknown |", "| `dns-failure/mx` | info |"},
        {"| `weak/mode-testing` | weak | `mode: testing` |\n", ""},
        {"| `tlsrpt/absent` |", "| `tlsrpt/made-up` | info | x |\n| `tlsrpt/absent` |"},
    };
    fprintf(stderr, "doctored copies (each must disagree):\n");
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *copy = doctored(doc, edits[i].from, edits[i].to);
        CHECK(copy != NULL);
        if (copy)
            CHECK(compare(copy, "doctored") > 0);
        free(copy);
    }

    /* The page defines each effect ("- `off`: ..."), and explain words each. */
    for (int e = MTS_EFFECT_INFO; e <= MTS_EFFECT_OFF; e++) {
        char item[64];
        snprintf(item, sizeof item, "\n- `%s`: ", mts_effect_name((enum mts_effect)e));
        CHECK(strstr(doc, item) != NULL);
        CHECK(strncmp(mts_effect_meaning(mts_effect_name((enum mts_effect)e)),
                      mts_effect_name((enum mts_effect)e),
                      strlen(mts_effect_name((enum mts_effect)e))) == 0);
    }
    CHECK_STR(mts_effect_meaning("no-such-effect"), mts_effect_meaning("info"));

    /* Every category a classification can hold is in the table, and the change/ ones
       are not selectable. */
    CHECK_INT(mts_n_category_names + 2, mts_n_categories);
    for (size_t i = 0; i < mts_n_category_names; i++)
        CHECK(mts_category_find(mts_category_names[i]) == &mts_categories[i]);
    CHECK(mts_category_find("change/body-changed-id-unchanged") != NULL);
    CHECK(mts_category_find("no-such/category") == NULL);
    CHECK_INT(mts_category_effect("no-such/category"), MTS_EFFECT_INFO);
    free(doc);
    return check_exit();
}
