/*
 * Why: both the MX host names (from DNS) and the policy's mx patterns (from a web server)
 * are remote bytes. The input is "host NUL pattern". libFuzzer looks for inputs that crash
 * the matcher or break its documented rules: ASCII case and one trailing dot do not change
 * the verdict, and mts_mx_match_any agrees with mts_mx_match.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mts_mx_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *upper_with_dot(const char *s)
{
    size_t n = strlen(s);
    char *u = malloc(n + 2);
    if (!u)
        abort();
    for (size_t i = 0; i < n; i++)
        u[i] = (char)toupper((unsigned char)s[i]);
    /* one trailing dot is ignored: add one where there is none */
    u[n] = '.';
    u[n + 1] = '\0';
    if (n > 0 && s[n - 1] == '.')
        u[n] = '\0';
    return u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *host = buf;
    size_t hlen = strlen(host);
    char *pattern = hlen < size ? buf + hlen + 1 : buf + size;

    bool match = mts_mx_match(host, pattern);
    char *uh = upper_with_dot(host), *up = upper_with_dot(pattern);
    if (mts_mx_match(uh, up) != match)
        abort();
    char *const patterns[] = {uh, pattern};
    long any = mts_mx_match_any(host, patterns, 2);
    long want = mts_mx_match(host, uh) ? 0 : match ? 1 : -1;
    if (any != want)
        abort();
    free(uh);
    free(up);
    free(buf);
    return 0;
}
