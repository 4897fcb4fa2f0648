/*
 * Fuzz input to a TXT RRset for the record validators: 0xfe bytes separate records, 0xff
 * bytes separate the character-strings of a record. At most TXT_SPLIT_MAX records and
 * TXT_SPLIT_MAX strings in all; the rest of the input goes into the last one.
 */
#ifndef FUZZ_TXT_SPLIT_H
#define FUZZ_TXT_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mts_txt.h"

#define TXT_SPLIT_MAX 16

struct txt_split {
    struct mts_txt_string strings[TXT_SPLIT_MAX];
    struct mts_txt_record records[TXT_SPLIT_MAX];
    size_t n;
};

static void txt_split(struct txt_split *t, const uint8_t *data, size_t size)
{
    size_t ns = 0, start = 0;
    t->n = 0;
    t->records[0] = (struct mts_txt_record){t->strings, 0};
    for (size_t i = 0; i <= size; i++) {
        bool end = i == size || ns == TXT_SPLIT_MAX - 1;
        if (!end && data[i] != 0xfe && data[i] != 0xff)
            continue;
        if (end)
            i = size;
        t->strings[ns++] = (struct mts_txt_string){data + start, i - start};
        t->records[t->n].n++;
        start = i + 1;
        if (end)
            break;
        if (data[i] == 0xfe && t->n + 1 < TXT_SPLIT_MAX)
            t->records[++t->n] = (struct mts_txt_record){t->strings + ns, 0};
    }
    t->n++;
}

/* The concatenated text of record r (caller frees); NULL only when out of memory. */
static char *txt_concat(const struct mts_txt_record *r, size_t *len)
{
    size_t total = 0;
    for (size_t s = 0; s < r->n; s++)
        total += r->strings[s].len;
    char *text = malloc(total + 1);
    if (!text)
        return NULL;
    *len = 0;
    for (size_t s = 0; s < r->n; s++) {
        if (r->strings[s].len)
            memcpy(text + *len, r->strings[s].data, r->strings[s].len);
        *len += r->strings[s].len;
    }
    text[*len] = '\0';
    return text;
}

#endif
