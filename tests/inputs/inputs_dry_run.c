/*
 * A tiny driver for mts_input_dry_run(), the code behind `mtasts-scan --dry-run`, so the
 * shell tests and the benchmark can run the reader end to end on files, gzip and stdin.
 * Usage: inputs_dry_run [--strict] [--shard K/N] [--exclude FILE] FILE|- ...
 */
#include "mts_exclude.h"
#include "mts_hash.h"
#include "mts_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct mts_input_opts opts = {0};
    struct mts_exclude *ex = NULL;
    int i = 1, rc;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--strict") == 0) {
            opts.strict = true;
        } else if (strcmp(argv[i], "--shard") == 0 && i + 1 < argc) {
            if (mts_shard_parse(argv[++i], &opts.shard_k, &opts.shard_n)) {
                fprintf(stderr, "inputs_dry_run: bad shard spec %s (want K/N, 0 <= K < N)\n",
                        argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--exclude") == 0 && i + 1 < argc) {
            char msg[512];
            if (!ex && mts_exclude_new(&ex))
                return 2;
            if ((rc = mts_exclude_load(ex, argv[++i], msg, sizeof msg))) {
                fprintf(stderr, "inputs_dry_run: %s\n", msg);
                mts_exclude_free(ex);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: inputs_dry_run [--strict] [--shard K/N] [--exclude FILE] "
                            "FILE|- ...\n");
            mts_exclude_free(ex);
            return 2;
        }
    }
    opts.paths = (const char *const *)(argv + i);
    opts.npaths = (size_t)(argc - i);
    opts.exclude = ex;
    rc = mts_input_dry_run(&opts, stdout, stderr);
    mts_exclude_free(ex);
    return rc ? 1 : 0;
}
