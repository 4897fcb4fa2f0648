/*
 * Why escape rather than drop: a researcher reading `explain` must see that a TXT record
 * held an ESC byte (it is part of what is wrong), without the terminal acting on it. One
 * escape per byte keeps the original bytes recoverable from what is printed.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "text_safe.h"

/* The length (2-4) of the valid UTF-8 sequence at s, its code point in *cp; 0 if none. */
static size_t utf8_seq(const unsigned char *s, unsigned *cp)
{
    size_t n;
    unsigned min;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, min = 0x80, *cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, min = 0x800, *cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, min = 0x10000, *cp = s[0] & 0x07u;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3fu);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return n;
}

/* Code points that are controls, or print nothing and move or reorder the text around them
   (line separators, bidirectional overrides and isolates, zero-width characters). */
static bool invisible(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
           (cp >= 0xfff9 && cp <= 0xfffb);
}

size_t mts_text_piece(const char **str, char piece[MTS_TEXT_PIECE])
{
    const unsigned char *s = (const unsigned char *)*str;
    unsigned cp = 0;
    size_t len = *s >= 0x80 ? utf8_seq(s, &cp) : 0;
    if (len && !invisible(cp)) {
        memcpy(piece, s, len);
        piece[len] = '\0';
        *str += len;
        return 1;
    }
    if (!len && *s >= 0x20 && *s < 0x7f) {
        piece[0] = (char)*s, piece[1] = *s == '\\' ? '\\' : '\0', piece[2] = '\0';
        *str += 1;
        return *s == '\\' ? 2 : 1;
    }
    len = len ? len : 1;
    for (size_t i = 0; i < len; i++)
        snprintf(piece + 4 * i, 5, "\\x%02x", s[i]);
    *str += len;
    return 4 * len;
}

char *mts_text_safe(const char *s)
{
    const char *p = s ? s : "";
    char *out = malloc(4 * strlen(p) + 1), piece[MTS_TEXT_PIECE];
    if (!out)
        return NULL;
    size_t n = 0;
    while (*p) {
        mts_text_piece(&p, piece);
        size_t len = strlen(piece);
        memcpy(out + n, piece, len);
        n += len;
    }
    out[n] = '\0';
    return out;
}

/* One %s: s as shown, padded to width characters (left-aligned with '-'). */
static int put_string(FILE *out, const char *s, bool left, size_t width)
{
    const char *start = s ? s : "", *p = start;
    char piece[MTS_TEXT_PIECE];
    size_t chars = 0;
    while (*p)
        chars += mts_text_piece(&p, piece);
    size_t pad = width > chars ? width - chars : 0;
    int rc = 0;
    for (size_t i = 0; !left && i < pad; i++)
        rc |= fputc(' ', out) == EOF;
    for (p = start; *p;) {
        mts_text_piece(&p, piece);
        rc |= fputs(piece, out) == EOF;
    }
    for (size_t i = 0; left && i < pad; i++)
        rc |= fputc(' ', out) == EOF;
    return rc ? -1 : 0;
}

/* One conversion other than %s, spec its text ("%-10lld"), printed by fprintf. spec is a
   piece of the caller's literal format, which the compiler checked at the call. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int put_other(FILE *out, const char *spec, size_t len, va_list *ap)
{
    char conv = spec[len - 1];
    bool ll = len >= 3 && spec[len - 2] == 'l' && spec[len - 3] == 'l';
    bool l = !ll && spec[len - 2] == 'l', z = spec[len - 2] == 'z';
    bool is_signed = conv == 'd' || conv == 'i';
    int rc;
    if (conv == 'f' || conv == 'g' || conv == 'e')
        rc = fprintf(out, spec, va_arg(*ap, double));
    else if (conv == 'c')
        rc = fprintf(out, spec, va_arg(*ap, int));
    else if (ll)
        rc = is_signed ? fprintf(out, spec, va_arg(*ap, long long))
                       : fprintf(out, spec, va_arg(*ap, unsigned long long));
    else if (l)
        rc = is_signed ? fprintf(out, spec, va_arg(*ap, long))
                       : fprintf(out, spec, va_arg(*ap, unsigned long));
    else if (z)
        rc = fprintf(out, spec, va_arg(*ap, size_t));
    else
        rc = is_signed ? fprintf(out, spec, va_arg(*ap, int))
                       : fprintf(out, spec, va_arg(*ap, unsigned));
    return rc < 0 ? -1 : 0;
}
#pragma GCC diagnostic pop

int mts_text_printf(FILE *out, const char *fmt, ...)
{
    va_list ap;
    int rc = 0;
    va_start(ap, fmt);
    while (rc == 0 && *fmt) {
        const char *pct = strchr(fmt, '%');
        size_t lit = pct ? (size_t)(pct - fmt) : strlen(fmt);
        if (lit && fwrite(fmt, 1, lit, out) != lit)
            rc = -1;
        if (!pct || rc)
            break;
        if (pct[1] == '%') {
            rc = fputc('%', out) == EOF ? -1 : 0;
            fmt = pct + 2;
            continue;
        }
        size_t len = 1 + strspn(pct + 1, "-+ #0");
        bool left = memchr(pct, '-', len) != NULL;
        size_t width = strtoul(pct + len, NULL, 10);
        len += strspn(pct + len, "0123456789.");
        len += strspn(pct + len, "lz");
        char spec[32];
        if (!pct[len] || len + 2 > sizeof spec || !strchr("sdiuxXcfge", pct[len])) {
            rc = -1; /* a conversion this module does not know: a bug in the caller */
            break;
        }
        len++;
        memcpy(spec, pct, len);
        spec[len] = '\0';
        rc = spec[len - 1] == 's' ? put_string(out, va_arg(ap, const char *), left, width)
                                  : put_other(out, spec, len, &ap);
        fmt = pct + len;
    }
    va_end(ap);
    return rc;
}
