#include "json_fast.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 64        /* the store's records nest about six deep */
#define SCRATCH   (1 << 12) /* an escaped string is decoded here; longer ones go to jansson */
#define DROP_MAX  32        /* member names a pruned read may leave out */

struct parser {
    const char *p, *end;
    int depth;
    const char *const *drop; /* member names left out of the tree */
    size_t drop_len[DROP_MAX], n_drop;
    char scratch[SCRATCH];
};

static json_t *value(struct parser *ps);
static bool skip_value(struct parser *ps);

static void skip_space(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

/* Whether the member key[0..klen) is one of ps->drop. */
static bool dropped(const struct parser *ps, const char *key, size_t klen)
{
    for (size_t i = 0; i < ps->n_drop; i++)
        if (ps->drop_len[i] == klen && ps->drop[i][0] == key[0] &&
            memcmp(ps->drop[i], key, klen) == 0)
            return true;
    return false;
}

// clang-format off
#define ROW(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
/* The bytes a string holds as they are: printable ASCII and DEL, not '"' or '\\'. */
static const bool plain[256] = {
    ROW(0), ROW(0),                                 /* 0x00-0x1f: control bytes */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f: '"' */
    ROW(1), ROW(1),                                 /* 0x30-0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50-0x5f: '\\' */
    ROW(1), ROW(1),                                 /* 0x60-0x7f */
    ROW(0), ROW(0), ROW(0), ROW(0), ROW(0), ROW(0), ROW(0), ROW(0), /* 0x80-0xff */
};
#undef ROW
// clang-format on

/*
 * The string at ps->p (just after its opening quote): *s and *n get its text, in the
 * input or decoded into the scratch buffer. False when it is not plain.
 */
static bool string(struct parser *ps, const char **s, size_t *n)
{
    const char *start = ps->p;
    const char *q = start;
    while (q < ps->end && plain[(unsigned char)*q])
        q++;
    if (q < ps->end && *q == '"') {
        *s = start;
        *n = (size_t)(q - start);
        ps->p = q + 1;
        return true;
    }
    size_t len = (size_t)(q - start);
    if (q == ps->end || *q != '\\' || len > SCRATCH)
        return false;
    memcpy(ps->scratch, start, len);
    while (q < ps->end && *q != '"') {
        char c = *q++;
        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x80)
            return false;
        if (c == '\\') {
            if (q == ps->end)
                return false;
            switch (*q++) {
            case '"':
                c = '"';
                break;
            case '\\':
                c = '\\';
                break;
            case '/':
                c = '/';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            default: /* \u and anything else: jansson's business */
                return false;
            }
        }
        if (len == SCRATCH)
            return false;
        ps->scratch[len++] = c;
    }
    if (q == ps->end)
        return false;
    *s = ps->scratch;
    *n = len;
    ps->p = q + 1;
    return true;
}

/*
 * A number by RFC 8259's grammar that jansson reads too: an integer that fits json_int_t,
 * or a finite real. With out NULL (a value to drop) nothing is built, and strtoll/strtod
 * run only where the text could overflow. False to give up.
 */
static bool number(struct parser *ps, json_t **out)
{
    const char *q = ps->p;
    bool real = false, exponent = false;
    if (q < ps->end && *q == '-')
        q++;
    if (q == ps->end || *q < '0' || *q > '9')
        return false;
    const char *digits = q;
    if (*q == '0')
        q++;
    else
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    size_t n_int = (size_t)(q - digits);
    if (q < ps->end && *q == '.') {
        real = true;
        if (++q == ps->end || *q < '0' || *q > '9')
            return false;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        real = exponent = true;
        if (++q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q == ps->end || *q < '0' || *q > '9')
            return false;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    char text[64];
    size_t n = (size_t)(q - ps->p);
    if (n >= sizeof text)
        return false;
    /* Fewer than 64 characters without an exponent cannot overflow a double, 18 digits
       cannot overflow json_int_t. */
    bool fits = real ? !exponent : n_int <= 18;
    if (!out && fits) {
        ps->p = q;
        return true;
    }
    memcpy(text, ps->p, n);
    text[n] = '\0';
    ps->p = q;
    errno = 0;
    if (!real) {
        long long v = strtoll(text, NULL, 10);
        if (errno)
            return false;
        return !out || (*out = json_integer((json_int_t)v)) != NULL;
    }
    double d = strtod(text, NULL);
    if (errno || !isfinite(d))
        return false;
    return !out || (*out = json_real(d)) != NULL;
}

static bool literal(struct parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static json_t *object(struct parser *ps)
{
    json_t *o = json_object();
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return o;
    }
    while (o) {
        const char *key;
        size_t klen;
        char keybuf[256];
        if (ps->p == ps->end || *ps->p++ != '"' || !string(ps, &key, &klen) ||
            klen >= sizeof keybuf)
            break;
        memcpy(keybuf, key, klen); /* the value's strings may reuse the scratch buffer */
        keybuf[klen] = '\0';
        skip_space(ps);
        if (ps->p == ps->end || *ps->p++ != ':')
            break;
        if (dropped(ps, keybuf, klen)) {
            if (!skip_value(ps))
                break;
        } else {
            json_t *v = value(ps);
            if (!v || json_object_setn_new_nocheck(o, keybuf, klen, v))
                break;
        }
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_space(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return o;
        }
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *array(struct parser *ps)
{
    json_t *a = json_array();
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return a;
    }
    while (a) {
        json_t *v = value(ps);
        if (!v || json_array_append_new(a, v))
            break;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            return a;
        }
        break;
    }
    json_decref(a);
    return NULL;
}

static json_t *value(struct parser *ps)
{
    skip_space(ps);
    if (ps->p == ps->end)
        return NULL;
    json_t *v = NULL;
    switch (*ps->p) {
    case '{':
    case '[':
        if (ps->depth == DEPTH_MAX)
            return NULL;
        ps->depth++;
        v = *ps->p++ == '{' ? object(ps) : array(ps);
        ps->depth--;
        return v;
    case '"': {
        const char *s;
        size_t n;
        ps->p++;
        return string(ps, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
    }
    case 't':
        return literal(ps, "true", 4) ? json_true() : NULL;
    case 'f':
        return literal(ps, "false", 5) ? json_false() : NULL;
    case 'n':
        return literal(ps, "null", 4) ? json_null() : NULL;
    default:
        return number(ps, &v) ? v : NULL;
    }
}

/* A container's members or elements after its opening bracket, checked and dropped. */
static bool skip_container(struct parser *ps, char close)
{
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return true;
    }
    for (;;) {
        if (close == '}') {
            const char *key;
            size_t klen;
            if (ps->p == ps->end || *ps->p++ != '"' || !string(ps, &key, &klen) || klen >= 256)
                return false;
            skip_space(ps);
            if (ps->p == ps->end || *ps->p++ != ':')
                return false;
        }
        if (!skip_value(ps))
            return false;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_space(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return true;
        }
        return false;
    }
}

/* The value at ps->p checked as value() would read it, and passed over: false exactly
   where value() gives up. */
static bool skip_value(struct parser *ps)
{
    skip_space(ps);
    if (ps->p == ps->end)
        return false;
    switch (*ps->p) {
    case '{':
    case '[': {
        if (ps->depth == DEPTH_MAX)
            return false;
        ps->depth++;
        char close = *ps->p++ == '{' ? '}' : ']';
        bool ok = skip_container(ps, close);
        ps->depth--;
        return ok;
    }
    case '"': {
        const char *s;
        size_t n;
        ps->p++;
        return string(ps, &s, &n);
    }
    case 't':
        return literal(ps, "true", 4);
    case 'f':
        return literal(ps, "false", 5);
    case 'n':
        return literal(ps, "null", 4);
    default:
        return number(ps, NULL);
    }
}

json_t *mts_json_fast_parse_pruned(const char *buf, size_t len, const char *const *drop)
{
    struct parser ps = {.p = buf, .end = buf + len, .drop = drop};
    for (; drop && drop[ps.n_drop]; ps.n_drop++) {
        if (ps.n_drop == DROP_MAX)
            return NULL;
        ps.drop_len[ps.n_drop] = strlen(drop[ps.n_drop]);
    }
    skip_space(&ps);
    if (ps.p == ps.end || (*ps.p != '{' && *ps.p != '['))
        return NULL;
    json_t *v = value(&ps);
    skip_space(&ps);
    if (v && ps.p != ps.end) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

json_t *mts_json_fast_parse(const char *buf, size_t len)
{
    return mts_json_fast_parse_pruned(buf, len, NULL);
}

static bool listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

void mts_json_prune(json_t *v, const char *const *drop)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) mts_json_prune(e, drop);
        return;
    }
    const char *key;
    json_t *e, *tmp;
    json_object_foreach_safe(v, tmp, key, e)
    {
        if (listed(drop, key))
            json_object_del(v, key);
        else
            mts_json_prune(e, drop);
    }
}
