/*
 * DNS TXT records as the validators take them: a record is a list of character-strings
 * (bytes with lengths, not NUL-terminated, possibly holding any byte). The types only
 * borrow the bytes; nothing here allocates except mts_txt_select.
 */
#ifndef MTS_TXT_H
#define MTS_TXT_H

#include <stddef.h>

struct mts_txt_string {
    const unsigned char *data; /* borrowed */
    size_t len;
};

struct mts_txt_record {
    const struct mts_txt_string *strings; /* borrowed array of n character-strings */
    size_t n;
};

/*
 * Select the records whose concatenated character-strings (no separator, RFC 8461 §3.1,
 * RFC 8460 §3) begin with prefix. *count receives how many do. When exactly one does,
 * *text receives a NUL-terminated copy of it (caller frees; it may hold NUL bytes, so use
 * *len) and *len its length; otherwise *text is NULL and *len 0.
 * Returns 0 or -ENOMEM.
 */
int mts_txt_select(const struct mts_txt_record *records, size_t n, const char *prefix,
                   size_t *count, char **text, size_t *len);

#endif
