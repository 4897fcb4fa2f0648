/*
 * Why: the TXT record parser reads bytes from any DNS server on the Internet; libFuzzer
 * looks for inputs that crash it or make it read out of bounds. The input is split into
 * character-strings at 0xff bytes to exercise concatenation too.
 */
#include <stddef.h>
#include <stdint.h>

#include "mts_sts_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mts_txt_string strings[16];
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < 16; i++)
        if (i == size || data[i] == 0xff) {
            strings[n++] = (struct mts_txt_string){data + start, i - start};
            start = i + 1;
        }
    struct mts_txt_record rec = {strings, n};
    struct mts_sts_record out;
    if (mts_sts_record_parse(&out, &rec, 1) == 0)
        json_decref(mts_sts_record_json(&out));
    mts_sts_record_free(&out);
    return 0;
}
