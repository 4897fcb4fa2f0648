/*
 * Internal: the tag-list grammar shared by the MTA-STS TXT record (RFC 8461 §3.1) and the
 * TLS-RPT record (RFC 8460 §3): VERSION 1*(*WSP ";" *WSP field) [*WSP ";" *WSP], where a
 * field is name "=" value. Not part of the library's public API.
 */
#ifndef MTS_TAGLIST_H
#define MTS_TAGLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "mts_findings.h"

#define MTS_TAGLIST_MAX 32 /* more fields than this is reported as a syntax error */

struct mts_tag {
    const char *name; /* borrowed from the parsed text */
    size_t name_len;
    const char *value; /* up to the next ";" or the end, trailing WSP removed */
    size_t value_len;
};

enum mts_taglist_result {
    MTS_TAGLIST_OK,
    MTS_TAGLIST_NON_ASCII, /* a byte >= 0x80 */
    MTS_TAGLIST_SYNTAX,    /* *why says what */
    MTS_TAGLIST_NO_FIELDS, /* nothing after the version */
};

/*
 * Parse text (len bytes) that must begin with version. On MTS_TAGLIST_SYNTAX, the fields
 * before the error are in tags and *why is a static message. Tag names are checked against
 * (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."); values are not checked.
 */
enum mts_taglist_result mts_taglist_parse(const char *text, size_t len, const char *version,
                                          struct mts_tag *tags, size_t *ntags, const char **why);

/* The finding codes under which one record type reports the faults of its tag list. */
struct mts_taglist_codes {
    const char *version;   /* what the record begins with: "v=STSv1" */
    const char *non_ascii; /* a byte outside US-ASCII */
    const char *no_fields; /* nothing after the version */
    const char *syntax;    /* the grammar broken, or a bad extension value */
};

/*
 * Parses text (len bytes) as a record of this type and adds the findings its grammar earns.
 * Returns 0 with the fields left to judge in tags and *ntags (after a syntax error, those
 * before it; none when the record has none), or -ENOMEM.
 */
int mts_taglist_judge(const char *text, size_t len, const struct mts_taglist_codes *codes,
                      struct mts_findings *findings, struct mts_tag *tags, size_t *ntags);

/* Adds codes->syntax when tag, an extension field, has a bad value. Returns 0 or -ENOMEM. */
int mts_taglist_judge_ext(const struct mts_tag *tag, const struct mts_taglist_codes *codes,
                          struct mts_findings *findings);

/* (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."): a field name of both records and
 * a policy key (sts-policy-ext-name, RFC 8461 §3.2). */
bool mts_taglist_name_ok(const char *name, size_t len);

/* 1*(%x21-3A / %x3C / %x3E-7E): an extension value of RFC 8461 §3.1 and RFC 8460 §3. */
bool mts_taglist_ext_value_ok(const char *value, size_t len);

/* Whether a tag's name equals name exactly (case-sensitive). */
bool mts_tag_is(const struct mts_tag *tag, const char *name);

/* Whether a tag's name equals name ignoring ASCII case. */
bool mts_tag_is_nocase(const struct mts_tag *tag, const char *name);

#endif
