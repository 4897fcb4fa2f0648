/*
 * Named sender profiles: how a real kind of sender reads the same observation, each a
 * small table of behaviours with the source it was read from (docs/validation.md,
 * section 6), and the reader of postfix-mta-sts-resolver, modelled on its code.
 */
#ifndef MTS_PROFILES_H
#define MTS_PROFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mts_policy.h"
#include "mts_txt.h"

enum mts_profile_reader {
    MTS_READ_RFC8461,  /* this project's strict parse (docs/validation.md, section 2) */
    MTS_READ_RESOLVER, /* postfix-mta-sts-resolver's record, fetch and body reading */
    MTS_READ_MADDY,    /* maddy's (Go) record, fetch and body reading */
    MTS_READ_NOTHING,  /* the sender has no client-side MTA-STS */
};

enum mts_testing_as {
    MTS_TESTING_TESTING, /* testing is reported, mail is delivered anyway */
    MTS_TESTING_IGNORED, /* testing gives no policy at all */
    MTS_TESTING_ENFORCE, /* testing is applied like enforce */
};

struct mts_sender_profile {
    const char *name;
    const char *source; /* where the behaviour was read */
    enum mts_profile_reader reader;
    enum mts_testing_as testing;
};

enum {
    MTS_PROFILE_RFC8461,
    MTS_PROFILE_RESOLVER,
    MTS_PROFILE_RESOLVER_STRICT_TESTING,
    MTS_PROFILE_MADDY,
    MTS_PROFILE_NO_MTA_STS,
    MTS_N_PROFILES
};

extern const struct mts_sender_profile mts_sender_profiles[MTS_N_PROFILES];

#define MTS_RESOLVER_BODY_LIMIT 65536 /* its HARD_RESP_LIMIT */

/* A policy as postfix-mta-sts-resolver reads it. */
struct mts_resolver_policy {
    bool valid;         /* every check of its resolver.py passes */
    enum mts_mode mode; /* when valid */
    int64_t max_age;    /* when valid */
    char **mx;          /* every mx value as it keeps it (owned, NUL-terminated) */
    size_t *mx_len;     /* their lengths: a value may hold a NUL byte */
    size_t n_mx;
};

/*
 * Read a body as the resolver does (utils.parse_mta_sts_policy and the checks after it):
 * decoded as UTF-8 when utf8, else as ASCII (its default charset); a body it cannot decode
 * or longer than MTS_RESOLVER_BODY_LIMIT is not valid. Returns 0 or -ENOMEM; release
 * *out with mts_resolver_policy_free, also after an error.
 */
int mts_resolver_policy_read(struct mts_resolver_policy *out, const unsigned char *body, size_t len,
                             bool utf8);
void mts_resolver_policy_free(struct mts_resolver_policy *p);

/*
 * Whether the resolver uses the TXT RRset (*ok): exactly one ASCII record beginning
 * "v=STSv1" (it drops records that are not ASCII first; pycares cuts each
 * character-string at its first NUL), whose fields give v=STSv1 and an id of any value.
 * Returns 0 or -ENOMEM.
 */
int mts_resolver_record_ok(const struct mts_txt_record *records, size_t n, bool *ok);

/* Whether the resolver reads a body served with this Content-Type (text/plain), and
   whether it decodes it as UTF-8 (charset utf-8; otherwise ASCII). */
bool mts_resolver_media_type(const char *content_type, bool *utf8);

/*
 * maddy's reading (internal/mtasts at commit bf188e4: readDNSRecord, downloadPolicy,
 * readPolicy). The record: the RRset must hold exactly one TXT record of any kind.
 * Returns 0 or -ENOMEM for the record; the body and media type functions cannot fail.
 */
int mts_maddy_record_ok(const struct mts_txt_record *records, size_t n, bool *ok);
bool mts_maddy_media_type(const char *content_type);
/* *mode receives the mode when the body is read (true), else MTS_MODE_ABSENT. */
bool mts_maddy_policy_read(const unsigned char *body, size_t len, enum mts_mode *mode);

#endif
