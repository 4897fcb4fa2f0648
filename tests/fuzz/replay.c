/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput over files and directories of inputs, without
 * libFuzzer: how every build (and the sanitizer build) replays the seed corpora and the
 * inputs that once crashed (tests/fuzz/corpus/TARGET). Exits 1 when an argument cannot be
 * read; a failing input aborts, like under libFuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (!bad)
        LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return bad ? -1 : 0;
}

static int run_path(const char *path, unsigned *count)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    struct dirent **entries;
    int n = scandir(path, &entries, NULL, alphasort);
    if (n < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char sub[4096];
        if (entries[i]->d_name[0] != '.' &&
            (size_t)snprintf(sub, sizeof sub, "%s/%s", path, entries[i]->d_name) < sizeof sub &&
            run_path(sub, count) != 0)
            rc = -1;
        free(entries[i]);
    }
    free(entries);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count) != 0) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 1;
        }
    printf("replay: %u inputs passed\n", count);
    return count > 0 ? 0 : 1;
}
