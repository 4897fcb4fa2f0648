/*
 * Why: domain lists come from third parties (top lists, zone files, CSV exports) and may
 * hold any bytes, gzip included. The input reader reads the fuzz input as a file. libFuzzer
 * looks for lists that crash it, or make it hand on a name that is not normalised (one that
 * mts_name_normalize would not give back unchanged).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mts_input.h"
#include "mts_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a file path: one memory file, rewritten for each input. */
static const char *as_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-input", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *paths[] = {as_file(data, size)};
    struct mts_input_opts opts = {.paths = paths, .npaths = 1};
    struct mts_input *in;
    if (mts_input_open(&in, &opts, NULL, 0) != 0)
        abort();
    const char *name;
    while (mts_input_next(in, &name) == 1) {
        char again[MTS_NAME_MAX + 1];
        if (mts_name_normalize(name, strlen(name), 0, again, NULL) != 0 || strcmp(again, name))
            abort();
    }
    mts_input_free(in);
    return 0;
}
