/*
 * Why: the policy body decides mode, lifetime and which MX hosts a sender accepts, and
 * real bodies are messy (CRLF or LF, blank lines, BOMs, word-processor output, Jekyll
 * front matter). The parser reads what the operator meant and, separately, records every
 * departure from the RFC 8461 §3.2 grammar as a finding with a line number, so one parse
 * gives the strict verdict (the postfix-mta-sts-resolver profile has its own reader, profiles.c).
 */
#include "mts_policy.h"
#include "taglist.h"
#include "utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INVALID(detail) "sts-policy-invalid/" detail
#define WARNING(detail) "sts-policy-warning/" detail

struct parser {
    struct mts_policy *out;
    unsigned version_line, mode_line, max_age_line;
    unsigned empty_run_start; /* first line of the current run of empty lines, 0 if none */
    int rc;                   /* first error (-ENOMEM), sticky */
};

const char *mts_mode_name(enum mts_mode mode)
{
    switch (mode) {
    case MTS_MODE_ABSENT:
        return "absent";
    case MTS_MODE_INVALID:
        return "invalid";
    case MTS_MODE_ENFORCE:
        return "enforce";
    case MTS_MODE_TESTING:
        return "testing";
    case MTS_MODE_NONE:
        return "none";
    }
    return "invalid";
}

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = mts_utf8_seq(s + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

static void add(struct parser *ps, const char *code, enum mts_severity sev, unsigned line,
                const char *msg)
{
    if (ps->rc == 0)
        ps->rc = mts_findings_add(&ps->out->findings, code, sev, line, "%s", msg);
}

const char *mts_policy_mx_check(const char *pattern, size_t len)
{
    const char *p = pattern;
    if (len && p[0] == '[')
        return INVALID("mx-ip-address");
    if (len >= 2 && p[0] == '*' && p[1] == '.') {
        p += 2;
        len -= 2;
    }
    bool trailing_dot = len > 0 && p[len - 1] == '.';
    if (trailing_dot)
        len--;
    bool ok = len > 0 && len <= 253;
    bool last_numeric = false;
    for (size_t i = 0; ok && i < len;) {
        size_t j = i;
        bool numeric = true;
        while (j < len && p[j] != '.') {
            unsigned char c = (unsigned char)p[j];
            if (!is_alnum(c) && c != '-')
                ok = false;
            if (!is_digit(c))
                numeric = false;
            j++;
        }
        size_t label = j - i;
        if (label < 1 || label > 63 || !is_alnum((unsigned char)p[i]) ||
            !is_alnum((unsigned char)p[j - 1]))
            ok = false;
        last_numeric = numeric;
        i = j + 1;
        if (j < len && i == len) /* "a." inside: an empty last label */
            ok = false;
    }
    /* RFC 5321 Domain labels may be all digits: "127.25.0.1" is a name (to resolve, never
       an address), valid but worth a warning. */
    if (ok && last_numeric)
        return trailing_dot ? INVALID("mx-trailing-dot") : WARNING("mx-numeric");
    if (!ok) {
        bool colon = memchr(p, ':', len) != NULL, addr = colon;
        for (size_t i = 0; addr && i < len; i++)
            addr = strchr("0123456789abcdefABCDEF:.", p[i]) != NULL;
        return addr ? INVALID("mx-ip-address") : INVALID("bad-mx");
    }
    return trailing_dot ? INVALID("mx-trailing-dot") : NULL;
}

/* A copy of n bytes that need no NUL after them (the body is not NUL-terminated; ASan's
   strict string checks would make strndup look for one). */
static int dup_value(char **dst, const unsigned char *v, size_t n)
{
    *dst = malloc(n + 1);
    if (!*dst)
        return -ENOMEM;
    memcpy(*dst, v, n);
    (*dst)[n] = '\0';
    return 0;
}

/* One field line, its key and value already delimited. */
static void field(struct parser *ps, unsigned line, const unsigned char *key, size_t klen,
                  const unsigned char *val, size_t vlen)
{
    struct mts_policy *out = ps->out;
    const struct {
        const char *name;
        char **text;
        unsigned *line;
    } known[] = {
        {"version", &out->version, &ps->version_line},
        {"mode", &out->mode_text, &ps->mode_line},
        {"max_age", &out->max_age_text, &ps->max_age_line},
    };
    if (klen == 2 && memcmp(key, "mx", 2) == 0) {
        char **mx = realloc(out->mx, (out->n_mx + 1) * sizeof *mx);
        if (!mx) {
            ps->rc = -ENOMEM;
            return;
        }
        out->mx = mx;
        if ((ps->rc = dup_value(&out->mx[out->n_mx], val, vlen)) != 0)
            return;
        out->n_mx++;
        const char *bad = mts_policy_mx_check((const char *)val, vlen);
        if (bad && strcmp(bad, WARNING("mx-numeric")) == 0)
            add(ps, bad, MTS_SEV_WARNING, line,
                "an all-numeric last label: a host name that looks like an IPv4 address");
        else if (bad)
            add(ps, bad, MTS_SEV_ERROR, line,
                strcmp(bad, INVALID("bad-mx")) == 0
                    ? "mx must be a host name or *. and a host name, in A-labels"
                : strcmp(bad, INVALID("mx-trailing-dot")) == 0
                    ? "mx must not end in a dot"
                    : "mx must be a host name, not an address");
        return;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i].name);
        if (klen != n)
            continue;
        if (memcmp(key, known[i].name, n) == 0) {
            if (*known[i].text) {
                add(ps, WARNING("duplicate-key"), MTS_SEV_WARNING, line,
                    "repeated key: the first one is used");
                return;
            }
            *known[i].line = line;
            ps->rc = dup_value(known[i].text, val, vlen);
            return;
        }
        if (strncasecmp((const char *)key, known[i].name, n) == 0) {
            add(ps, WARNING("key-case"), MTS_SEV_WARNING, line,
                "keys are case-sensitive: this is an extension, not a known key");
            break;
        }
    }
    /* An extension: sts-policy-vchar [*(SP / sts-policy-vchar) sts-policy-vchar]. */
    if (vlen == 0 || memchr(val, '\t', vlen))
        add(ps, INVALID("bad-extension"), MTS_SEV_ERROR, line,
            vlen ? "a tab inside an extension value" : "an empty extension value");
}

static void flush_empty_run(struct parser *ps)
{
    if (ps->empty_run_start)
        add(ps, INVALID("empty-line"), MTS_SEV_ERROR, ps->empty_run_start,
            "empty line between fields");
    ps->empty_run_start = 0;
}

static void parse_line(struct parser *ps, unsigned line, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_wsp(s[i]))
        i++;
    if (i == n) {
        if (!ps->empty_run_start)
            ps->empty_run_start = line;
        return;
    }
    flush_empty_run(ps);
    for (size_t k = 0; k < n; k++)
        if (is_ctl(s[k])) {
            add(ps, INVALID("control-char"), MTS_SEV_ERROR, line, "a control character");
            break;
        }
    if (!utf8_ok(s, n))
        add(ps, INVALID("bad-utf8"), MTS_SEV_ERROR, line, "bytes that are not UTF-8");
    if (i > 0)
        add(ps, INVALID("leading-whitespace"), MTS_SEV_ERROR, line, "white space before the key");
    const unsigned char *colon = memchr(s + i, ':', n - i);
    if (!colon) {
        add(ps, INVALID("bad-line"), MTS_SEV_ERROR, line, "a line without \"key:\"");
        return;
    }
    const unsigned char *key = s + i;
    size_t klen = (size_t)(colon - key);
    if (klen && is_wsp(key[klen - 1])) {
        add(ps, INVALID("space-before-colon"), MTS_SEV_ERROR, line,
            "white space between the key and \":\"");
        while (klen && is_wsp(key[klen - 1]))
            klen--;
    }
    if (!mts_taglist_name_ok((const char *)key, klen)) {
        add(ps, INVALID("bad-key"), MTS_SEV_ERROR, line, "not a valid key");
        return;
    }
    const unsigned char *val = colon + 1, *end = s + n;
    while (val < end && is_wsp(*val))
        val++;
    if (end > val && is_wsp(end[-1])) {
        add(ps, WARNING("trailing-whitespace"), MTS_SEV_WARNING, line,
            "white space after the value");
        while (end > val && is_wsp(end[-1]))
            end--;
    }
    field(ps, line, key, klen, val, (size_t)(end - val));
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)s[i]))
            return false;
    return n > 0;
}

static void check_fields(struct parser *ps)
{
    struct mts_policy *out = ps->out;
    if (!out->version)
        add(ps, INVALID("missing-version"), MTS_SEV_ERROR, 0, "no version line");
    else if (strcmp(out->version, "STSv1") != 0)
        add(ps, INVALID("bad-version"), MTS_SEV_ERROR, ps->version_line, "version must be STSv1");

    out->mode = MTS_MODE_ABSENT;
    if (!out->mode_text)
        add(ps, INVALID("missing-mode"), MTS_SEV_ERROR, 0, "no mode line");
    else if (strcmp(out->mode_text, "enforce") == 0)
        out->mode = MTS_MODE_ENFORCE;
    else if (strcmp(out->mode_text, "testing") == 0)
        out->mode = MTS_MODE_TESTING;
    else if (strcmp(out->mode_text, "none") == 0)
        out->mode = MTS_MODE_NONE;
    else {
        out->mode = MTS_MODE_INVALID;
        add(ps, INVALID("bad-mode"), MTS_SEV_ERROR, ps->mode_line,
            "mode must be enforce, testing or none");
    }

    out->max_age = -1;
    if (!out->max_age_text) {
        add(ps, INVALID("missing-max-age"), MTS_SEV_ERROR, 0, "no max_age line");
    } else {
        size_t n = strlen(out->max_age_text);
        if (n > 10 || !all_digits(out->max_age_text, n)) {
            add(ps, INVALID("bad-max-age"), MTS_SEV_ERROR, ps->max_age_line,
                "max_age must be 1 to 10 digits");
        } else {
            out->max_age = strtoll(out->max_age_text, NULL, 10);
            if (out->max_age > MTS_MAX_AGE_LIMIT)
                add(ps, INVALID("max-age-too-large"), MTS_SEV_ERROR, ps->max_age_line,
                    "max_age above 31557600");
        }
    }
    if ((out->mode == MTS_MODE_ENFORCE || out->mode == MTS_MODE_TESTING) && out->n_mx == 0)
        add(ps, INVALID("missing-mx"), MTS_SEV_ERROR, 0, "no mx line in enforce or testing mode");
}

int mts_policy_parse(struct mts_policy *out, const unsigned char *body, size_t len)
{
    memset(out, 0, sizeof *out);
    out->max_age = -1;
    struct parser ps = {.out = out};
    size_t p = 0;
    if (len >= 3 && body[0] == 0xef && body[1] == 0xbb && body[2] == 0xbf) {
        add(&ps, INVALID("bom"), MTS_SEV_ERROR, 1, "a byte order mark before the first field");
        p = 3;
    }
    unsigned line = 1;
    while (p < len && ps.rc == 0) {
        size_t e = p;
        while (e < len && body[e] != '\n' && body[e] != '\r')
            e++;
        size_t next = e + 1;
        if (e < len && body[e] == '\r') {
            if (e + 1 < len && body[e + 1] == '\n')
                next = e + 2;
            else
                add(&ps, INVALID("lone-cr"), MTS_SEV_ERROR, line,
                    "a CR not followed by LF ends the line");
        }
        parse_line(&ps, line, body + p, e - p);
        line++;
        p = next;
    }
    if (ps.empty_run_start)
        add(&ps, INVALID("trailing-empty-lines"), MTS_SEV_ERROR, ps.empty_run_start,
            "more than one line break at the end");
    check_fields(&ps);
    out->valid = ps.rc == 0 && !mts_findings_has_error(&out->findings);
    return ps.rc;
}

/* A JSON string for bytes that may not be UTF-8: ill-formed bytes become U+FFFD. */
static json_t *text_json(const char *s)
{
    size_t n = strlen(s);
    char *buf = malloc(n * 3 + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = mts_utf8_seq((const unsigned char *)s + i, n - i);
        if (k) {
            memcpy(buf + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn(buf, o);
    free(buf);
    return j;
}

json_t *mts_policy_json(const struct mts_policy *policy)
{
    json_t *o = json_object(), *mx = json_array();
    int rc = !o || !mx;
    for (size_t i = 0; !rc && i < policy->n_mx; i++)
        rc |= json_array_append_new(mx, text_json(policy->mx[i]));
    if (!rc) {
        rc |= json_object_set_new(o, "valid", json_boolean(policy->valid));
        if (policy->version)
            rc |= json_object_set_new(o, "version", text_json(policy->version));
        if (policy->mode_text)
            rc |= json_object_set_new(o, "mode", text_json(policy->mode_text));
        if (policy->max_age >= 0)
            rc |= json_object_set_new(o, "max_age", json_integer(policy->max_age));
        else if (policy->max_age_text)
            rc |= json_object_set_new(o, "max_age", text_json(policy->max_age_text));
        rc |= json_object_set(o, "mx", mx);
        rc |= json_object_set_new(o, "findings", mts_findings_json(&policy->findings));
    }
    json_decref(mx);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void mts_policy_free(struct mts_policy *policy)
{
    free(policy->version);
    free(policy->mode_text);
    free(policy->max_age_text);
    for (size_t i = 0; i < policy->n_mx; i++)
        free(policy->mx[i]);
    free(policy->mx);
    mts_findings_free(&policy->findings);
    memset(policy, 0, sizeof *policy);
}
