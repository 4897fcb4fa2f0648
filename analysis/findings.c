/*
 * Why: every validator reports problems the same way, so the classifier can turn error
 * findings into categories and the explain command can print them without knowing which
 * validator spoke. Lists are bounded so hostile input costs bounded memory.
 */
#include "mts_findings.h"
#include "utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mts_severity_name(enum mts_severity severity)
{
    switch (severity) {
    case MTS_SEV_INFO:
        return "info";
    case MTS_SEV_WARNING:
        return "warning";
    case MTS_SEV_ERROR:
        return "error";
    }
    return "error";
}

/*
 * Keep a message renderable as JSON: a character cut by the byte bound goes, and any other
 * byte that is not UTF-8 (from the record, printed with %s) becomes "?".
 */
static void keep_utf8(char *message, bool cut)
{
    unsigned char *s = (unsigned char *)message;
    size_t n = strlen(message);
    if (cut) {
        size_t start = n;
        while (start > 0 && n - start < 3 && (s[start - 1] & 0xc0) == 0x80)
            start--;
        if (start > 0 && s[start - 1] >= 0xc0 && !mts_utf8_seq(s + start - 1, n - start + 1))
            n = start - 1;
        message[n] = '\0';
    }
    for (size_t i = 0; i < n;) {
        size_t k = mts_utf8_seq(s + i, n - i);
        if (!k)
            s[i] = '?';
        i += k ? k : 1;
    }
}

/*
 * In a full list, which finding a new error may take the place of, so that the list still
 * tells whether there is an error and which. None (list->n) when the code is in the list
 * already; else the last warning or info, else the last repeat of an error code.
 */
static size_t evictable(const struct mts_findings *list, const char *code)
{
    if (mts_findings_has(list, code))
        return list->n;
    for (size_t i = list->n; i-- > 0;)
        if (list->v[i].severity != MTS_SEV_ERROR)
            return i;
    for (size_t i = list->n; i-- > 0;)
        for (size_t j = 0; j < i; j++)
            if (strcmp(list->v[j].code, list->v[i].code) == 0)
                return i;
    return list->n;
}

int mts_findings_add(struct mts_findings *list, const char *code, enum mts_severity severity,
                     unsigned line, const char *fmt, ...)
{
    if (list->n >= MTS_FINDINGS_MAX) {
        list->truncated = true;
        size_t out = severity == MTS_SEV_ERROR ? evictable(list, code) : list->n;
        if (out == list->n)
            return 0;
        memmove(&list->v[out], &list->v[out + 1], (list->n - out - 1) * sizeof *list->v);
        list->n--;
    }
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        struct mts_finding *v = realloc(list->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        list->v = v;
        list->cap = cap;
    }
    struct mts_finding *f = &list->v[list->n++];
    f->code = code;
    f->severity = severity;
    f->line = line;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    keep_utf8(f->message, len >= (int)sizeof f->message);
    return 0;
}

bool mts_findings_has_error(const struct mts_findings *list)
{
    for (size_t i = 0; i < list->n; i++)
        if (list->v[i].severity == MTS_SEV_ERROR)
            return true;
    return false;
}

bool mts_findings_has(const struct mts_findings *list, const char *code)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->v[i].code, code) == 0)
            return true;
    return false;
}

static json_t *finding_json(const char *code, const char *severity, unsigned line,
                            const char *message)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = json_object_set_new(o, "code", json_string(code));
    rc |= json_object_set_new(o, "severity", json_string(severity));
    if (line)
        rc |= json_object_set_new(o, "line", json_integer(line));
    rc |= json_object_set_new(o, "message", json_string(message));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *mts_findings_json(const struct mts_findings *list)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    for (size_t i = 0; i < list->n; i++) {
        const struct mts_finding *f = &list->v[i];
        if (json_array_append_new(
                a, finding_json(f->code, mts_severity_name(f->severity), f->line, f->message))) {
            json_decref(a);
            return NULL;
        }
    }
    if (list->truncated &&
        json_array_append_new(a, finding_json("analysis-warning/too-many-findings", "info", 0,
                                              "further findings not recorded"))) {
        json_decref(a);
        return NULL;
    }
    return a;
}

void mts_findings_free(struct mts_findings *list)
{
    free(list->v);
    memset(list, 0, sizeof *list);
}
