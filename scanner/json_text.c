#include "json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mts_jt_init(struct mts_jt *t)
{
    memset(t, 0, sizeof *t);
}

void mts_jt_free(struct mts_jt *t)
{
    free(t->buf);
    mts_jt_init(t);
}

/* Room for n more bytes and a NUL; false (and oom set) when it cannot be had. */
static bool reserve(struct mts_jt *t, size_t n)
{
    if (t->oom)
        return false;
    if (t->len + n + 1 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 512;
    while (cap < t->len + n + 1)
        cap *= 2;
    char *b = realloc(t->buf, cap);
    if (!b) {
        t->oom = true;
        return false;
    }
    t->buf = b;
    t->cap = cap;
    return true;
}

static void put(struct mts_jt *t, const char *s, size_t n)
{
    if (!reserve(t, n))
        return;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

/* The comma before a key, or before a value that is not a key's. */
static void sep(struct mts_jt *t)
{
    if (t->len && !t->oom) {
        char last = t->buf[t->len - 1];
        if (last != '{' && last != '[' && last != ':' && reserve(t, 1))
            t->buf[t->len++] = ',';
    }
}

void mts_jt_open(struct mts_jt *t, char bracket)
{
    sep(t);
    put(t, &bracket, 1);
}

void mts_jt_close(struct mts_jt *t, char bracket)
{
    put(t, &bracket, 1);
}

/* One reservation for the quoted key and its colon: an observation has a dozen keys. */
void mts_jt_key(struct mts_jt *t, const char *key)
{
    size_t n = strlen(key);
    sep(t);
    if (!reserve(t, n + 3))
        return;
    char *o = t->buf + t->len;
    *o++ = '"';
    memcpy(o, key, n);
    o += n;
    *o++ = '"';
    *o++ = ':';
    t->len = (size_t)(o - t->buf);
}

/* The string s[0..n) quoted, with '"', '\\' and control bytes escaped; hex is the digit
   set of \u escapes (jansson writes them in upper case, this builder in lower case). */
static void put_string(struct mts_jt *t, const char *s, size_t n, const char *hex)
{
    /* Worst case: every byte a six-byte \u escape, and the quotes. */
    if (!reserve(t, 6 * n + 2))
        return;
    char *o = t->buf + t->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            *o++ = '\\';
            switch (c) {
            case '\b':
                *o++ = 'b';
                break;
            case '\f':
                *o++ = 'f';
                break;
            case '\n':
                *o++ = 'n';
                break;
            case '\r':
                *o++ = 'r';
                break;
            case '\t':
                *o++ = 't';
                break;
            default:
                memcpy(o, "u00", 3);
                o[3] = hex[c >> 4];
                o[4] = hex[c & 0xf];
                o += 5;
            }
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    t->len = (size_t)(o - t->buf);
}

void mts_jt_str(struct mts_jt *t, const char *s, size_t n)
{
    sep(t);
    put_string(t, s, n, "0123456789abcdef");
}

void mts_jt_cstr(struct mts_jt *t, const char *s)
{
    if (s) {
        mts_jt_str(t, s, strlen(s));
    } else {
        sep(t);
        put(t, "null", 4);
    }
}

/* Written by hand: snprintf's parsing of the format was a visible share of every record. */
void mts_jt_int(struct mts_jt *t, long long v)
{
    char b[24];
    size_t n = sizeof b;
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;

    do
        b[--n] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        b[--n] = '-';
    sep(t);
    put(t, b + n, sizeof b - n);
}

void mts_jt_real(struct mts_jt *t, double v, int decimals)
{
    char b[64];
    int n = snprintf(b, sizeof b, "%.*f", decimals < 1 ? 1 : decimals, v);
    sep(t);
    put(t, b, n > 0 && (size_t)n < sizeof b ? (size_t)n : 0);
}

void mts_jt_bool(struct mts_jt *t, bool v)
{
    sep(t);
    put(t, v ? "true" : "false", v ? 4 : 5);
}

void mts_jt_raw(struct mts_jt *t, const char *json, size_t n)
{
    sep(t);
    put(t, json, n);
}

char *mts_jt_take(struct mts_jt *t, size_t *len)
{
    if (!reserve(t, 0)) {
        mts_jt_free(t);
        return NULL;
    }
    t->buf[t->len] = '\0';
    char *out = t->buf;
    if (len)
        *len = t->len;
    mts_jt_init(t);
    return out;
}

/* A real as jansson writes it at JSON_REAL_PRECISION(15): %.15g, ".0" when that reads as
   an integer, and the exponent without '+' or leading zeros. */
static void put_jansson_real(struct mts_jt *t, double v)
{
    char b[64];
    int n = snprintf(b, sizeof b, "%.15g", v);
    if (n <= 0 || (size_t)n >= sizeof b - 2)
        return;
    size_t len = (size_t)n;
    if (!strchr(b, '.') && !strchr(b, 'e')) {
        memcpy(b + len, ".0", 3);
        len += 2;
    }
    char *e = strchr(b, 'e');
    if (e) {
        char *digits = e + 1 + (e[1] == '-');
        char *from = e + 2; /* past the sign */
        while (*from == '0')
            from++;
        memmove(digits, from, len - (size_t)(from - b) + 1);
        len -= (size_t)(from - digits);
    }
    put(t, b, len);
}

void mts_jt_json(struct mts_jt *t, const json_t *v)
{
    static const char upper[] = "0123456789ABCDEF";
    const char *key;
    const json_t *item;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        mts_jt_open(t, '{');
        json_object_foreach((json_t *)v, key, item)
        {
            sep(t);
            put_string(t, key, strlen(key), upper);
            put(t, ":", 1);
            mts_jt_json(t, item);
        }
        mts_jt_close(t, '}');
        break;
    case JSON_ARRAY:
        mts_jt_open(t, '[');
        json_array_foreach(v, i, item) mts_jt_json(t, item);
        mts_jt_close(t, ']');
        break;
    case JSON_STRING:
        sep(t);
        put_string(t, json_string_value(v), json_string_length(v), upper);
        break;
    case JSON_INTEGER:
        mts_jt_int(t, json_integer_value(v));
        break;
    case JSON_REAL:
        sep(t);
        put_jansson_real(t, json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        mts_jt_bool(t, json_is_true(v));
        break;
    case JSON_NULL:
        sep(t);
        put(t, "null", 4);
        break;
    }
}
