/*
 * Why: the TXT record parser reads bytes from any DNS server on the Internet. The input is
 * a TXT RRset (txt_split.h: records and their character-strings). libFuzzer looks for
 * inputs that crash it or read out of bounds, and for verdicts that break what the analysis
 * relies on: the verdict always renders as JSON (the view would silently lose a member
 * otherwise), valid means exactly one record and no error finding, and the one record of
 * an RRset is judged as its concatenated text would be.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mts_sts_record.h"
#include "txt_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The verdict as JSON; aborts where only running out of memory may fail. */
static json_t *render(const struct mts_sts_record *rec)
{
    json_t *j = mts_sts_record_json(rec);
    if (!j)
        abort();
    return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct txt_split t;
    txt_split(&t, data, size);
    struct mts_sts_record out;
    if (mts_sts_record_parse(&out, t.records, t.n) != 0)
        abort();
    json_t *j = render(&out);
    if (out.valid != (out.records == 1 && !mts_findings_has_error(&out.findings)))
        abort();
    if (out.valid && (!out.id || !out.id_valid))
        abort();
    for (size_t r = 0; r < t.n && out.records == 1; r++) {
        size_t len;
        char *text = txt_concat(&t.records[r], &len);
        if (!text)
            abort();
        struct mts_sts_record alone;
        if (mts_sts_record_parse_text(&alone, text, len) != 0)
            abort();
        if (alone.records == 1) {
            json_t *k = render(&alone);
            if (!json_equal(j, k))
                abort();
            json_decref(k);
        }
        mts_sts_record_free(&alone);
        free(text);
    }
    json_decref(j);
    mts_sts_record_free(&out);
    return 0;
}
