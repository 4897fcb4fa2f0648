/*
 * oom_shim: preloaded into mtasts-scan by test_process_fault.sh. Turning any name that
 * contains "oom-" into its wire form fails as if memory ran out (ldns_str2rdf_dname returns
 * LDNS_STATUS_MEM_ERR: the DNS engine's first allocation for a lookup), so the test can
 * check that a fault of the process ends the scan without storing anything as a fact about
 * the domain.
 */
#include <dlfcn.h>
#include <string.h>

#include <ldns/ldns.h>

ldns_status ldns_str2rdf_dname(ldns_rdf **rd, const char *str)
{
    static ldns_status (*real)(ldns_rdf **, const char *);
    if (str && strstr(str, "oom-") != NULL)
        return LDNS_STATUS_MEM_ERR;
    if (!real)
        real = (ldns_status(*)(ldns_rdf **, const char *))dlsym(RTLD_NEXT, "ldns_str2rdf_dname");
    return real(rd, str);
}
