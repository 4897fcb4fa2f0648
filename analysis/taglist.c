/*
 * Why: the MTA-STS and TLS-RPT TXT records share one tag-list grammar, and the bugs public
 * validators shipped were in exactly this part (rejecting "v=STSv1 ; id=1", splitting on
 * ";" and trimming freely). One careful implementation serves both records.
 */
#include "taglist.h"
#include "mts_txt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int mts_txt_select(const struct mts_txt_record *records, size_t n, const char *prefix,
                   size_t *count, char **text, size_t *len)
{
    size_t plen = strlen(prefix);
    const struct mts_txt_record *chosen = NULL;
    *count = 0;
    *text = NULL;
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        /* Compare the prefix across character-string boundaries. */
        size_t matched = 0;
        for (size_t s = 0; s < records[i].n && matched < plen; s++) {
            const struct mts_txt_string *str = &records[i].strings[s];
            size_t take = str->len < plen - matched ? str->len : plen - matched;
            if (take && memcmp(str->data, prefix + matched, take) != 0)
                break;
            matched += take;
        }
        if (matched == plen) {
            ++*count;
            chosen = &records[i];
        }
    }
    if (*count != 1)
        return 0;
    size_t total = 0;
    for (size_t s = 0; s < chosen->n; s++)
        total += chosen->strings[s].len;
    char *out = malloc(total + 1);
    if (!out)
        return -ENOMEM;
    size_t off = 0;
    for (size_t s = 0; s < chosen->n; s++) {
        if (chosen->strings[s].len)
            memcpy(out + off, chosen->strings[s].data, chosen->strings[s].len);
        off += chosen->strings[s].len;
    }
    out[total] = '\0';
    *text = out;
    *len = total;
    return 0;
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool mts_taglist_name_ok(const char *s, size_t len)
{
    if (len < 1 || len > 32 || !is_alnum(s[0]))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

bool mts_taglist_ext_value_ok(const char *value, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
            return false;
    }
    return true;
}

bool mts_tag_is(const struct mts_tag *tag, const char *name)
{
    return tag->name_len == strlen(name) && memcmp(tag->name, name, tag->name_len) == 0;
}

bool mts_tag_is_nocase(const struct mts_tag *tag, const char *name)
{
    return tag->name_len == strlen(name) && strncasecmp(tag->name, name, tag->name_len) == 0;
}

enum mts_taglist_result mts_taglist_parse(const char *text, size_t len, const char *version,
                                          struct mts_tag *tags, size_t *ntags, const char **why)
{
    size_t vlen = strlen(version);
    *ntags = 0;
    *why = NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x80)
            return MTS_TAGLIST_NON_ASCII;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *why = "control character";
            return MTS_TAGLIST_SYNTAX;
        }
    }
    if (len < vlen || memcmp(text, version, vlen) != 0) {
        *why = "does not begin with the version";
        return MTS_TAGLIST_SYNTAX;
    }
    size_t p = vlen;
    for (;;) {
        /* sts-field-delim = *WSP ";" *WSP */
        size_t q = p;
        while (q < len && is_wsp(text[q]))
            q++;
        if (q == len) {
            if (q != p) {
                *why = "white space at the end without a \";\"";
                return MTS_TAGLIST_SYNTAX;
            }
            return *ntags ? MTS_TAGLIST_OK : MTS_TAGLIST_NO_FIELDS;
        }
        if (text[q] != ';') {
            *why = p == vlen ? "the version must be followed by \";\""
                             : "fields must be separated by \";\"";
            return MTS_TAGLIST_SYNTAX;
        }
        q++;
        while (q < len && is_wsp(text[q]))
            q++;
        if (q == len) /* the optional final delimiter */
            return *ntags ? MTS_TAGLIST_OK : MTS_TAGLIST_NO_FIELDS;
        /* field: name "=" value; the value runs to the next ";" */
        size_t name = q;
        while (q < len && text[q] != '=' && text[q] != ';' && !is_wsp(text[q]))
            q++;
        if (q == len || text[q] != '=') {
            *why = q == name ? "empty field" : "field without \"=\"";
            return MTS_TAGLIST_SYNTAX;
        }
        if (!mts_taglist_name_ok(text + name, q - name)) {
            *why = "bad field name";
            return MTS_TAGLIST_SYNTAX;
        }
        size_t value = ++q;
        while (q < len && text[q] != ';')
            q++;
        size_t end = q;
        while (end > value && is_wsp(text[end - 1]))
            end--;
        if (*ntags == MTS_TAGLIST_MAX) {
            *why = "too many fields";
            return MTS_TAGLIST_SYNTAX;
        }
        tags[*ntags] = (struct mts_tag){.name = text + name,
                                        .name_len = value - 1 - name,
                                        .value = text + value,
                                        .value_len = end - value};
        ++*ntags;
        p = end;
    }
}

int mts_taglist_judge(const char *text, size_t len, const struct mts_taglist_codes *codes,
                      struct mts_findings *findings, struct mts_tag *tags, size_t *ntags)
{
    const char *why;
    switch (mts_taglist_parse(text, len, codes->version, tags, ntags, &why)) {
    case MTS_TAGLIST_OK:
        return 0;
    case MTS_TAGLIST_NON_ASCII:
        *ntags = 0;
        return mts_findings_add(findings, codes->non_ascii, MTS_SEV_ERROR, 0,
                                "a byte outside US-ASCII");
    case MTS_TAGLIST_NO_FIELDS:
        *ntags = 0;
        return mts_findings_add(findings, codes->no_fields, MTS_SEV_ERROR, 0, "no field after %s",
                                codes->version);
    case MTS_TAGLIST_SYNTAX:
        break;
    }
    return mts_findings_add(findings, codes->syntax, MTS_SEV_ERROR, 0, "%s", why);
}

int mts_taglist_judge_ext(const struct mts_tag *tag, const struct mts_taglist_codes *codes,
                          struct mts_findings *findings)
{
    if (mts_taglist_ext_value_ok(tag->value, tag->value_len))
        return 0;
    return mts_findings_add(findings, codes->syntax, MTS_SEV_ERROR, 0,
                            "bad value for extension field %.*s", (int)tag->name_len, tag->name);
}
