/*
 * oom_shim: preloaded into mtasts-scan by test_process_fault.sh. Building the DNS query of
 * any name that contains "oom-" fails as if memory ran out (ldns_pkt_query_new returns
 * NULL), so the test can check that a fault of the process ends the scan without storing
 * anything as a fact about the domain.
 */
#include <dlfcn.h>
#include <string.h>

#include <ldns/ldns.h>

ldns_pkt *ldns_pkt_query_new(ldns_rdf *name, ldns_rr_type type, ldns_rr_class cls, uint16_t flags)
{
    static ldns_pkt *(*real)(ldns_rdf *, ldns_rr_type, ldns_rr_class, uint16_t);
    char *text = ldns_rdf2str(name);
    bool fail = text && strstr(text, "oom-") != NULL;
    free(text);
    if (fail) {
        ldns_rdf_deep_free(name);
        return NULL;
    }
    if (!real)
        real = (ldns_pkt * (*)(ldns_rdf *, ldns_rr_type, ldns_rr_class, uint16_t))
            dlsym(RTLD_NEXT, "ldns_pkt_query_new");
    return real(name, type, cls, flags);
}
