/*
 * Why: the TLS-RPT record parser reads bytes from any DNS server on the Internet. The input
 * is a TXT RRset (txt_split.h: records and their character-strings). libFuzzer looks for
 * inputs that crash it or read out of bounds, and for verdicts that break what the analysis
 * relies on: the verdict always renders as JSON, valid means exactly one record, no error
 * finding and at least one report URI, and the one record of an RRset is judged as its
 * concatenated text would be.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mts_tlsrpt.h"
#include "txt_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The verdict as JSON; aborts where only running out of memory may fail. */
static json_t *render(const struct mts_tlsrpt *rpt)
{
    json_t *j = mts_tlsrpt_json(rpt);
    if (!j)
        abort();
    return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct txt_split t;
    txt_split(&t, data, size);
    struct mts_tlsrpt out;
    if (mts_tlsrpt_parse(&out, t.records, t.n) != 0)
        abort();
    json_t *j = render(&out);
    if (out.valid != (out.records == 1 && !mts_findings_has_error(&out.findings)))
        abort();
    if (out.valid && out.n_rua == 0)
        abort();
    for (size_t r = 0; r < t.n && out.records == 1; r++) {
        size_t len;
        char *text = txt_concat(&t.records[r], &len);
        if (!text)
            abort();
        struct mts_tlsrpt alone;
        if (mts_tlsrpt_parse_text(&alone, text, len) != 0)
            abort();
        if (alone.records == 1) {
            json_t *k = render(&alone);
            if (!json_equal(j, k))
                abort();
            json_decref(k);
        }
        mts_tlsrpt_free(&alone);
        free(text);
    }
    json_decref(j);
    mts_tlsrpt_free(&out);
    return 0;
}
