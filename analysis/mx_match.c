/*
 * Why: MX matching is where a well-known checker went wrong (an unanchored regex let
 * "*.example.com" match "a.b.example.com" and "mail.example.com" match
 * "mail.example.com.evil.net"). This is a plain label comparison with no pattern engine:
 * equal names, or one extra left-most label for a wildcard, nothing else.
 */
#include "mts_mx_match.h"

#include <string.h>
#include <strings.h>

/* Length without one trailing dot; 0 when the name is empty or has an empty label. */
static size_t name_len(const char *s)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == '.')
        n--;
    if (n == 0 || s[0] == '.')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] == '.' && s[i - 1] == '.')
            return 0;
    return n;
}

bool mts_mx_match(const char *host, const char *pattern)
{
    if (!host || !pattern)
        return false;
    size_t hn = name_len(host), pn = name_len(pattern);
    if (!hn || !pn)
        return false;
    if (pn >= 2 && pattern[0] == '*' && pattern[1] == '.') {
        const char *dot = memchr(host, '.', hn);
        if (!dot || dot == host)
            return false;
        size_t rest = hn - (size_t)(dot + 1 - host);
        return rest == pn - 2 && strncasecmp(dot + 1, pattern + 2, rest) == 0;
    }
    return hn == pn && strncasecmp(host, pattern, hn) == 0;
}

long mts_mx_match_any(const char *host, char *const *patterns, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (mts_mx_match(host, patterns[i]))
            return (long)i;
    return -1;
}
