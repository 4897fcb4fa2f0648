/*
 * The classifier: one raw domain record (docs/record-schema.md) in, every conclusion the
 * analysis draws about it out: overall verdict, categories (docs/vocabulary.md), sender
 * profiles and would-bounce, per-MX results, the parsed record/policy/TLS-RPT, and the
 * adoption-funnel stages. Pure: the store is reached only through the two callbacks.
 * Rules: docs/validation.md, sections 4 and 6.
 */
#ifndef MTS_CLASSIFY_H
#define MTS_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "mts_policy.h"
#include "mts_profiles.h"
#include "mts_sts_record.h"
#include "mts_tlsrpt.h"

enum mts_tri {
    MTS_TRI_NO,
    MTS_TRI_YES,
    MTS_TRI_UNKNOWN, /* not observed, or hidden by a DNS failure */
};

/* "no", "yes", "unknown" (static storage). */
const char *mts_tri_name(enum mts_tri t);

enum mts_effect {
    MTS_EFFECT_INFO,
    MTS_EFFECT_WEAK,
    MTS_EFFECT_UNKNOWN,
    MTS_EFFECT_BOUNCE,
    MTS_EFFECT_OFF,
};

/* The effect of a category (the table in vocabulary.c); names not in it give info. */
enum mts_effect mts_category_effect(const char *category);

/* "info", "weak", "unknown", "bounce", "off" (static storage). */
const char *mts_effect_name(enum mts_effect effect);

enum mts_mx_status {
    MTS_MX_PASS,    /* at least one address passes: a compliant sender delivers */
    MTS_MX_REFUSED, /* not covered, or every probed address refused for an MTA-STS reason */
    MTS_MX_UNKNOWN, /* unreachable, not probed, or no probe record */
};

/* "pass", "refused", "unknown" (static storage). */
const char *mts_mx_status_name(enum mts_mx_status s);

struct mts_mx_addr {
    char *addr;          /* owned */
    const char *outcome; /* "pass", a category, "skipped" or "no-probe" (static storage) */
    char *tls_version;   /* owned; NULL when no handshake */
    char *issuer;        /* owned: the leaf certificate's issuer; NULL when none stored */
};

struct mts_mx_result {
    char *host; /* owned, as in the record */
    long pref;
    bool implicit;
    enum mts_tri covered; /* by the parsed policy's patterns; unknown without a policy */
    long pattern;         /* index into policy.mx of the first match, -1 if none */
    enum mts_mx_status status;
    const char *reason; /* when refused: the first refusing category (static storage) */
    struct mts_mx_addr *addrs;
    size_t n_addrs;
};

/* How one named sender profile (mts_profiles.h) reads the same observation
   (docs/validation.md, section 6). */
struct mts_profile_result {
    bool policy_used;      /* the sender reads a policy for the domain */
    enum mts_mode mode;    /* the mode it reads; MTS_MODE_ABSENT when no policy */
    enum mts_mode seen_as; /* the mode it applies ("policy seen as"): testing may become
                              enforce or no policy (MTS_MODE_ABSENT) */
    bool would_bounce;     /* applied as enforce, and every MX host refused */
};

/*
 * Funnel stages, each observed on its own (a stage whose input is missing is "no"). The
 * adoption funnel counts domains whose stages up to k are all "yes".
 */
struct mts_funnel {
    enum mts_tri resolvable;      /* the domain exists (MX query not NXDOMAIN) */
    enum mts_tri has_mx;          /* at least one MX host (not null MX, not implicit) */
    enum mts_tri has_record;      /* at least one "v=STSv1" TXT record */
    enum mts_tri valid_record;    /* exactly one, valid */
    enum mts_tri policy_fetched;  /* 200 over valid HTTPS, text/plain */
    enum mts_tri valid_policy;    /* no error finding */
    enum mts_tri mx_covered;      /* every MX host matches a pattern */
    enum mts_tri mx_tls_valid;    /* every MX host passes STARTTLS and certificate checks */
    enum mts_tri enforce_working; /* strict policy in enforce, covered, TLS valid */
};

struct mts_classification {
    char *domain;            /* owned */
    char *analysis_error;    /* owned: why part of the record could not be read, or NULL */
    const char *verdict;     /* docs/vocabulary.md overall verdict (static storage) */
    const char **categories; /* sorted, unique, static storage; the array is owned */
    size_t n_categories;
    bool would_bounce; /* = strict.would_bounce */
    /* strict: this project's RFC 8461 reading, on which the verdict rests; profiles: every
       named sender profile, indexed as mts_sender_profiles (profiles[MTS_PROFILE_RFC8461]
       equals strict). */
    struct mts_profile_result strict, profiles[MTS_N_PROFILES];
    struct mts_funnel funnel;
    bool has_record; /* record below holds a parse of an answered TXT query */
    struct mts_sts_record record;
    char *fetch_result; /* FETCHOBS result (owned), NULL when no fetch */
    bool media_type_ok; /* Content-Type is text/plain (meaningful when fetched) */
    bool has_policy;    /* policy below holds a parse of a fetched body */
    struct mts_policy policy;
    bool has_tlsrpt;
    struct mts_tlsrpt tlsrpt;
    size_t rua_failing; /* report destinations the scan found unable to take reports */
    struct mts_mx_result *mx;
    size_t n_mx;
};

/* get_policy's answers for a body the analysis cannot have (beside 0 and process faults). */
#define MTS_CLASSIFY_NO_BODY  (-32201) /* no store holds the body */
#define MTS_CLASSIFY_BAD_BODY (-32202) /* the stored body does not match its digest */

struct mts_classify_env {
    /*
     * The MX probe record of (host, address) in the same scan, as a NEW reference that
     * mts_classify releases (json_decref), or NULL when there is none.
     */
    json_t *(*get_probe)(void *ctx, const char *host, const char *addr);
    /*
     * The policy body whose SHA-256 is sha256_hex (64 hex digits): 0 with *body and *len
     * borrowed until the next call or until mts_classify returns; MTS_CLASSIFY_NO_BODY or
     * MTS_CLASSIFY_BAD_BODY, which become that domain's analysis-error category; or another
     * negative code (a fault of the store or the process), which mts_classify returns.
     */
    int (*get_policy)(void *ctx, const char *sha256_hex, const unsigned char **body, size_t *len);
    void *ctx;
};

/*
 * Classify one domain record. *out is overwritten; release it with
 * mts_classification_free, also after an error. The record is only read. A record this
 * code cannot read (another version, a field of the wrong type, a body missing or
 * damaged) is classified all the same, with an analysis-error category and the cause in
 * out->analysis_error (docs/vocabulary.md).
 * Returns 0, -EINVAL (not a JSON object), -ENOMEM, or env->get_policy's fault code.
 */
int mts_classify(struct mts_classification *out, const json_t *record,
                 const struct mts_classify_env *env);

/*
 * The classification of a stored record that does not decode at all: the one category
 * analysis-error/undecodable, why as its cause. Returns 0 or -ENOMEM.
 */
int mts_classify_undecodable(struct mts_classification *out, const char *domain, const char *why);

/* Free what *c owns and zero it; safe on a zeroed struct. */
void mts_classification_free(struct mts_classification *c);

#endif
