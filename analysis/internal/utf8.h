/* UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing past U+10FFFF. */
#ifndef MTS_ANALYSIS_UTF8_H
#define MTS_ANALYSIS_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s (n >= 1 bytes left), 0 if ill-formed. */
size_t mts_utf8_seq(const unsigned char *s, size_t n);

#endif
