/*
 * Normalising and validating one domain name from a list: trailing dot, case, IDN to
 * A-label (libidn2, UTS #46 non-transitional, NFC), then the hostname rules of
 * docs/inputs.md. Each rejection has a reason from a fixed vocabulary.
 */
#ifndef MTS_NAME_H
#define MTS_NAME_H

#include <stddef.h>

/* The longest normalised name (bytes, without the NUL) and the longest line read. */
#define MTS_NAME_MAX 253
#define MTS_LINE_MAX 1024

/* Why a line was rejected. The names (mts_reject_name) are stable: reports count them. */
enum mts_reject {
    MTS_REJ_NONE = 0,
    MTS_REJ_LINE_TOO_LONG,  /* "line-too-long" */
    MTS_REJ_CSV_FORMAT,     /* "csv-format": rank not a number, or no name field */
    MTS_REJ_EMPTY_LABEL,    /* "empty-label" */
    MTS_REJ_IP_ADDRESS,     /* "ip-address" */
    MTS_REJ_IDN_INVALID,    /* "idn-invalid" */
    MTS_REJ_INVALID_CHAR,   /* "invalid-char" */
    MTS_REJ_UNDERSCORE,     /* "underscore" */
    MTS_REJ_LABEL_TOO_LONG, /* "label-too-long" */
    MTS_REJ_LABEL_HYPHEN,   /* "label-hyphen" */
    MTS_REJ_NAME_TOO_LONG,  /* "name-too-long" */
    MTS_REJ_SINGLE_LABEL,   /* "single-label" */
    MTS_REJ_NUMERIC_TLD,    /* "numeric-tld" */
    MTS_REJ_COUNT
};

/* Accept a single label ("mil"): used for opt-out suffixes, not for scan inputs. */
#define MTS_NAME_ALLOW_SINGLE_LABEL 1u

/*
 * Normalises len bytes at in (not necessarily NUL-terminated; surrounding blanks are
 * ignored) into out (NUL-terminated, at most MTS_NAME_MAX bytes).
 * Returns 0 on success, a positive enum mts_reject when the name is rejected (out is then
 * unspecified and, when not NULL, *detail is set to a static string refining the reason, such
 * as the libidn2 error name, or NULL), or MTS_IN_ENOMEM.
 */
int mts_name_normalize(const char *in, size_t len, unsigned flags, char out[MTS_NAME_MAX + 1],
                       const char **detail);

/* The stable short name of a reason ("underscore", ...); "none" for 0, "?" if out of range. */
const char *mts_reject_name(int reason);

#endif
