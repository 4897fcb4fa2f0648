/*
 * raw_export: prints one scan of a store as raw JSON Lines (domain records with their MX
 * probe records and policy bodies inlined), with --meta the scan's metadata record, or with
 * --probes the key of every MX probe record the store holds ("host<TAB>addr" lines).
 * The integration tests compare this, the scanner's own observations, with the simulated
 * world's ground truth and with other scans.
 */
#include <stdio.h>
#include <string.h>

#include "mts_export.h"
#include "mts_store.h"

static int print_meta(struct mts_store *store, const char *scan)
{
    json_t *meta;
    int rc = mts_store_scan_get(store, scan, &meta);
    if (rc == 0) {
        json_dumpf(meta, stdout, MTS_STORE_JSON_FLAGS);
        putchar('\n');
        json_decref(meta);
    }
    return rc;
}

static int print_probe_key(void *arg, const char *host, const char *addr, json_t *rec)
{
    (void)arg;
    json_decref(rec);
    printf("%s\t%s\n", host, addr);
    return 0;
}

int main(int argc, char **argv)
{
    int meta = argc == 4 && strcmp(argv[3], "--meta") == 0;
    int probes = argc == 4 && strcmp(argv[3], "--probes") == 0;
    if (argc != 3 && !meta && !probes) {
        fprintf(stderr, "usage: raw_export DB SCAN-ID [--meta | --probes]\n");
        return 2;
    }
    struct mts_store *store;
    int rc = mts_store_open(&store, argv[1], MTS_STORE_RDONLY, 0);
    if (rc == 0) {
        rc = meta     ? print_meta(store, argv[2])
             : probes ? mts_store_foreach_mxprobe(store, argv[2], print_probe_key, NULL)
                      : mts_export_raw_jsonl(store, argv[2], stdout);
        mts_store_close(store);
    }
    if (rc != 0)
        fprintf(stderr, "raw_export: %s: %s\n", argv[1], mts_store_strerror(rc));
    return rc == 0 ? 0 : 1;
}
