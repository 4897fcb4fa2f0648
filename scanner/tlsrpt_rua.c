/*
 * Why: TLS-RPT is only useful if reports can be delivered, which a record's syntax cannot
 * tell. The scan looks up each destination; this file finds them in the record text.
 */
#include "tlsrpt_rua.h"

#include <string.h>
#include <strings.h>

#define RECORD_MAX 2048 /* longer records are cut: rua comes early in practice */

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* Copies the name s[0..n) to out in lower case; false when it cannot be a DNS name (labels
   of 1 to 63 octets, at most 253 in all), so that every name kept can be asked for. */
static bool take_name(const char *s, size_t n, char *out)
{
    if (n && s[n - 1] == '.')
        n--;
    if (n == 0 || n > MTS_RUA_HOST_MAX - 1)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (!name_char(c))
            return false;
        label = c == '.' ? 0 : label + 1;
        if (label > 63 || (c == '.' && (i == 0 || s[i - 1] == '.')))
            return false;
        out[i] = c;
    }
    out[n] = '\0';
    return true;
}

/* The port of an https: URI, from what follows its host: ":PORT" before the path, or none
   (0); false when the port is empty, not decimal or out of range. */
static bool take_port(const char *s, size_t n, uint16_t *port)
{
    *port = 0;
    if (n == 0 || s[0] != ':')
        return true;
    unsigned long v = 0;
    size_t i = 1;
    for (; i < n && s[i] >= '0' && s[i] <= '9' && v <= 65535; i++)
        v = v * 10 + (unsigned long)(s[i] - '0');
    if (i == 1 || v == 0 || v > 65535 || (i < n && s[i] != '/' && s[i] != '?'))
        return false;
    *port = (uint16_t)v;
    return true;
}

/* One URI of the rua list (s[0..n), white space trimmed) into t; false if unusable. */
static bool take_uri(const char *s, size_t n, struct mts_rua_target *t)
{
    const char *bang = memchr(s, '!', n);
    t->port = 0;
    if (bang)
        n = (size_t)(bang - s);
    if (n > 7 && strncasecmp(s, "mailto:", 7) == 0) {
        const char *at = NULL;
        for (size_t i = 7; i < n; i++)
            if (s[i] == '@')
                at = s + i;
        t->mailto = true;
        return at && take_name(at + 1, n - (size_t)(at + 1 - s), t->host);
    }
    if (n > 8 && strncasecmp(s, "https://", 8) == 0) {
        size_t end = 8;
        while (end < n && s[end] != '/' && s[end] != ':' && s[end] != '?')
            end++;
        t->mailto = false;
        return take_name(s + 8, end - 8, t->host) && take_port(s + end, n - end, &t->port);
    }
    return false;
}

static bool seen(const struct mts_rua_target *out, size_t n, const struct mts_rua_target *t)
{
    for (size_t i = 0; i < n; i++)
        if (out[i].mailto == t->mailto && out[i].port == t->port &&
            strcmp(out[i].host, t->host) == 0)
            return true;
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

size_t mts_rua_parse(const char *record, size_t len, struct mts_rua_target *out, size_t max)
{
    size_t n = 0, i = 0;
    /* Find the field "rua=" at the start of a ";"-separated field. */
    while (i < len) {
        while (i < len && is_space(record[i]))
            i++;
        size_t end = i;
        while (end < len && record[end] != ';')
            end++;
        if (end - i > 4 && strncasecmp(record + i, "rua=", 4) == 0) {
            for (size_t u = i + 4; u < end && n < max;) {
                size_t stop = u;
                while (stop < end && record[stop] != ',')
                    stop++;
                size_t a = u, b = stop;
                while (a < b && is_space(record[a]))
                    a++;
                while (b > a && is_space(record[b - 1]))
                    b--;
                struct mts_rua_target t;
                if (take_uri(record + a, b - a, &t) && !seen(out, n, &t))
                    out[n++] = t;
                u = stop + 1;
            }
            return n;
        }
        i = end + 1;
    }
    return n;
}

size_t mts_rua_from_reply(const struct mts_dns_reply *reply, struct mts_rua_target *out, size_t max)
{
    char buf[RECORD_MAX];
    size_t found = 0, n = 0;
    for (size_t i = 0; i < reply->nan; i++) {
        if (reply->an[i].type != LDNS_RR_TYPE_TXT)
            continue;
        size_t len = mts_wire_txt_join(reply, &reply->an[i], buf, sizeof buf);
        if (len >= 10 && memcmp(buf, "v=TLSRPTv1", 10) == 0 && found++ == 0)
            n = mts_rua_parse(buf, len, out, max);
    }
    return found == 1 ? n : 0;
}
