/*
 * Why: the pipeline decides its next stages from a few facts of each reply (a published
 * record, the MX hosts, the addresses to contact). Reading them here keeps the walking of
 * ldns packets beside the observation writer (dns_obs.c) and out of the job's stages.
 */
#include "dns_reply.h"

#include <stdlib.h>
#include <string.h>

/* A name from an answer in canonical form: lower case, no trailing dot. */
static char *canonical_name(const char *name)
{
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '.')
        n--;
    char *out = strndup(name, n);
    for (char *p = out; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* Its character-strings joined, of which only the first bytes matter here. */
bool mts_reply_has_sts_record(const ldns_pkt *reply)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
            continue;
        char buf[63];
        size_t len = 0, k;
        for (k = 0; k < ldns_rr_rd_count(rr); k++) {
            const ldns_rdf *rdf = ldns_rr_rdf(rr, k);
            const uint8_t *d = ldns_rdf_data(rdf);
            size_t n = ldns_rdf_size(rdf);
            if (n < 1 || (size_t)d[0] + 1 != n)
                break; /* not a character-string: the observation keeps it as rdata */
            size_t take = d[0] < sizeof buf - len ? d[0] : sizeof buf - len;
            memcpy(buf + len, d + 1, take);
            len += take;
        }
        if (k == ldns_rr_rd_count(rr) && len >= 7 && memcmp(buf, "v=STSv1", 7) == 0)
            return true;
    }
    return false;
}

/* 1 when a CNAME in the reply's answer names a host on the opt-out list (a host reached
   through an alias is as excluded as one named directly), 0 when none does, -1 on ENOMEM. */
static int cname_excluded(const struct mts_exclude *ex, const ldns_pkt *reply)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    for (size_t i = 0; ex && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) != 1)
            continue;
        char *text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        char *canon = text ? canonical_name(text) : NULL;
        int hit = canon ? mts_exclude_name(ex, canon) : -1;
        free(text);
        free(canon);
        if (hit != 0)
            return hit;
    }
    return 0;
}

bool mts_reply_addrs(const ldns_pkt *reply, ldns_rr_type type, const struct mts_exclude *ex,
                     struct mts_addrs *out)
{
    int excluded = cname_excluded(ex, reply);
    if (excluded < 0)
        return false;
    out->cname_excluded = out->cname_excluded || excluded;
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        char buf[INET6_ADDRSTRLEN];
        if (!mts_dns_obs_addr(ldns_rr_list_rr(an, i), type, buf, sizeof buf))
            continue;
        void *grown = realloc(out->addr, (out->n + 1) * sizeof *out->addr);
        if (!grown)
            return false;
        out->addr = grown;
        memcpy(out->addr[out->n++], buf, sizeof buf);
    }
    return true;
}

bool mts_reply_mx(const ldns_pkt *reply, struct mts_mx_name **mx, size_t *n)
{
    const ldns_rr_list *an = ldns_pkt_answer(reply);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_MX || ldns_rr_rd_count(rr) != 2 ||
            ldns_rdf_size(ldns_rr_rdf(rr, 0)) != 2)
            continue;
        char *text = ldns_rdf2str(ldns_rr_rdf(rr, 1));
        char *canon = text && strcmp(text, ".") != 0 ? canonical_name(text) : NULL;
        bool failed = !text;
        free(text);
        if (!canon) {
            if (failed)
                return false;
            continue;
        }
        void *grown = realloc(*mx, (*n + 1) * sizeof **mx);
        if (!grown) {
            free(canon);
            return false;
        }
        *mx = grown;
        (*mx)[(*n)++] =
            (struct mts_mx_name){.host = canon, .pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0))};
    }
    return true;
}
