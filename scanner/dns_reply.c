/*
 * Why: the pipeline decides its next stages from a few facts of each reply (a published
 * record, the MX hosts, the addresses to contact). Reading them here keeps the walking of
 * replies beside the observation writer (dns_obs.c) and out of the job's stages.
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

/* The name at pos of the reply (checked when it was read) in canonical form. */
static char *canonical_at(const struct mts_dns_reply *r, size_t pos)
{
    uint8_t name[MTS_WIRE_NAME_MAX];
    char text[MTS_WIRE_NAME_TEXT_MAX + 1];
    size_t n = mts_wire_name(r->wire, r->len, &pos, name);

    text[mts_wire_name_text(name, n, text)] = '\0';
    return canonical_name(text);
}

/* Its character-strings joined, of which only the first bytes matter here. */
bool mts_reply_has_sts_record(const struct mts_dns_reply *reply)
{
    for (size_t i = 0; i < reply->nan; i++) {
        char buf[63];
        if (reply->an[i].type == LDNS_RR_TYPE_TXT &&
            mts_wire_txt_join(reply, &reply->an[i], buf, sizeof buf) >= 7 &&
            memcmp(buf, "v=STSv1", 7) == 0)
            return true;
    }
    return false;
}

/* 1 when a CNAME in the reply's answer names a host on the opt-out list (a host reached
   through an alias is as excluded as one named directly), 0 when none does, -1 on ENOMEM. */
static int cname_excluded(const struct mts_exclude *ex, const struct mts_dns_reply *reply)
{
    for (size_t i = 0; ex && i < reply->nan; i++) {
        const struct mts_wire_rr *rr = &reply->an[i];
        if (rr->type != LDNS_RR_TYPE_CNAME || rr->fields != 1)
            continue;
        char *canon = canonical_at(reply, rr->rdata);
        int hit = canon ? mts_exclude_name(ex, canon) : -1;
        free(canon);
        if (hit != 0)
            return hit;
    }
    return 0;
}

bool mts_reply_addrs(const struct mts_dns_reply *reply, ldns_rr_type type,
                     const struct mts_exclude *ex, struct mts_addrs *out)
{
    int excluded = cname_excluded(ex, reply);
    if (excluded < 0)
        return false;
    out->cname_excluded = out->cname_excluded || excluded;
    for (size_t i = 0; i < reply->nan; i++) {
        char buf[INET6_ADDRSTRLEN];
        if (!mts_dns_obs_addr(reply, &reply->an[i], type, buf, sizeof buf))
            continue;
        void *grown = realloc(out->addr, (out->n + 1) * sizeof *out->addr);
        if (!grown)
            return false;
        out->addr = grown;
        memcpy(out->addr[out->n++], buf, sizeof buf);
    }
    return true;
}

bool mts_reply_mx(const struct mts_dns_reply *reply, struct mts_mx_name **mx, size_t *n)
{
    for (size_t i = 0; i < reply->nan; i++) {
        const struct mts_wire_rr *rr = &reply->an[i];
        if (rr->type != LDNS_RR_TYPE_MX || rr->fields != 2)
            continue;
        size_t pos = rr->rdata + 2u;
        if (mts_wire_name(reply->wire, reply->len, &pos, NULL) == 1)
            continue; /* the null MX (".") names no host */
        char *canon = canonical_at(reply, rr->rdata + 2u);
        if (!canon)
            return false;
        void *grown = realloc(*mx, (*n + 1) * sizeof **mx);
        if (!grown) {
            free(canon);
            return false;
        }
        *mx = grown;
        const uint8_t *d = reply->wire + rr->rdata;
        (*mx)[(*n)++] = (struct mts_mx_name){.host = canon, .pref = d[0] << 8 | d[1]};
    }
    return true;
}
