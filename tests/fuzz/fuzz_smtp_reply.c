/*
 * Why: an MX host answers the prober with any bytes it likes. The reply reader splits them
 * into lines (LF or CRLF, as libevent's EVBUFFER_EOL_CRLF does) and parses each with the
 * prober's own line and EHLO keyword parsers. libFuzzer looks for lines that crash them or
 * break their promises: a code in 200..599 shared by all lines of a reply, a keyword within
 * its buffer, upper case, without space or '='.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_keyword(const char *line, size_t len)
{
    char kw[64];
    size_t n = mts_smtp_capability(line, len, kw, sizeof kw);
    if (n >= sizeof kw || kw[n] != '\0')
        abort();
    for (size_t i = 0; i < n; i++)
        if (kw[i] == ' ' || kw[i] == '=' || (kw[i] >= 'a' && kw[i] <= 'z'))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    int code = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break; /* an unfinished line waits for more bytes */
        size_t len = (size_t)(nl - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        /* a heap copy of exactly len bytes, so ASan sees a read past the line */
        char *line = malloc(len ? len : 1);
        if (!line)
            abort();
        memcpy(line, p, len);
        int before = code;
        int last = mts_smtp_reply_line(&code, line, len);
        if (last >= 0 && (code < 200 || code > 599 || (before && code != before)))
            abort();
        check_keyword(line, len);
        free(line);
        if (last != 0)
            code = 0; /* a reply ended (or broke): the next one starts afresh */
        p = nl + 1;
    }
    return 0;
}
