/*
 * Why: real servers (nginx, postfix) in the real-server fixture must present certificates
 * from the same test root as mtasts-world, so that one --ca-file serves a whole scan. This
 * writes one minted certificate and its key as PEM files, using the root kept in CA_DIR
 * (created there when missing, exactly as mtasts-world --ca-dir does).
 */
#include <stdio.h>
#include <string.h>

#include "ca.h"

int main(int argc, char **argv)
{
    if (argc != 6 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr,
                "usage: world-mkcert CA_DIR NAME KIND CERT_FILE KEY_FILE\n"
                "  KIND: valid, expired, not-yet-valid, wrong-name, self-signed, untrusted-ca\n"
                "  NAME: the name the certificate is issued to (may be *.zone)\n");
        return 2;
    }
    int kind = world_ca_kind_parse(argv[3]);
    if (kind < 0) {
        fprintf(stderr, "world-mkcert: unknown kind '%s'\n", argv[3]);
        return 2;
    }
    char err[256] = "";
    struct world_ca *ca = world_ca_new(argv[1], err, sizeof err);
    if (ca == NULL) {
        fprintf(stderr, "world-mkcert: %s\n", err);
        return 1;
    }
    int rc = world_ca_write_pem(ca, argv[2], (enum world_cert)kind, argv[4], argv[5]);
    if (rc != 0)
        perror("world-mkcert");
    world_ca_free(ca);
    return rc != 0;
}
