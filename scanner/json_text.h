/*
 * JSON written straight into a growing buffer, for the records the scanner makes by the
 * million: building a json_t tree per observation and serialising it on the writer thread
 * cost more than the DNS exchange itself (docs/PERFORMANCE.md). Separators are implicit:
 * a key or value after another in the same object or array gets its comma. An allocation
 * failure is remembered and reported once, by mts_jt_take.
 */
#ifndef MTS_JSON_TEXT_H
#define MTS_JSON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct mts_jt {
    char *buf; /* owned */
    size_t len, cap;
    bool oom;
};

/* Start an empty text (zero-initialising does the same). */
void mts_jt_init(struct mts_jt *t);
/* Free the buffer; the text is empty again. */
void mts_jt_free(struct mts_jt *t);

void mts_jt_open(struct mts_jt *t, char bracket); /* '{' or '[' (a value: takes a comma) */
void mts_jt_close(struct mts_jt *t, char bracket);
void mts_jt_key(struct mts_jt *t, const char *key);         /* key: a plain ASCII literal */
void mts_jt_str(struct mts_jt *t, const char *s, size_t n); /* escaped; bytes kept as they are */
void mts_jt_cstr(struct mts_jt *t, const char *s);          /* NULL writes null */
void mts_jt_int(struct mts_jt *t, long long v);
void mts_jt_real(struct mts_jt *t, double v, int decimals); /* always with a decimal point */
void mts_jt_bool(struct mts_jt *t, bool v);
void mts_jt_raw(struct mts_jt *t, const char *json, size_t n); /* a complete JSON value */
/* A jansson value, byte for byte as the store's json_dumps (MTS_STORE_JSON_FLAGS) writes
   it: for the observations the HTTPS fetcher builds as trees. */
void mts_jt_json(struct mts_jt *t, const json_t *v);

/* The text (NUL-terminated, *len without the NUL; caller frees), or NULL after an
   allocation failure. The builder is empty afterwards either way. */
char *mts_jt_take(struct mts_jt *t, size_t *len);

#endif
