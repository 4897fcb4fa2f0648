/*
 * Why: a sender that finds no single valid "_mta-sts" record treats the domain as having
 * no policy, so this parser decides whether protection is on at all. It follows the §3.1
 * grammar to the letter (white space before ";" is legal, base64 ids are not) and turns
 * every way to fail into a named finding instead of a bare "invalid".
 */
#include "mts_sts_record.h"
#include "taglist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STS_VERSION "v=STSv1"

static bool has_wsp(const char *s, size_t len)
{
    return memchr(s, ' ', len) || memchr(s, '\t', len);
}

static bool id_ok(const char *s, size_t len)
{
    if (len < 1 || len > 32)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static const struct mts_taglist_codes sts_codes = {
    .version = STS_VERSION,
    .non_ascii = "sts-txt-invalid/non-ascii",
    .no_fields = "sts-txt-invalid/missing-id",
    .syntax = "sts-txt-invalid/syntax",
};

/* Judge the one selected record; rec->records is already set. */
static int judge(struct mts_sts_record *rec, const char *text, size_t len)
{
    struct mts_tag tags[MTS_TAGLIST_MAX];
    size_t ntags;
    int rc = mts_taglist_judge(text, len, &sts_codes, &rec->findings, tags, &ntags);
    for (size_t i = 0; i < ntags && rc == 0; i++) {
        const struct mts_tag *t = &tags[i];
        bool first = true;
        for (size_t j = 0; j < i; j++)
            if (tags[j].name_len == t->name_len && !memcmp(tags[j].name, t->name, t->name_len))
                first = false;
        if (!first) {
            rc = mts_findings_add(&rec->findings, "sts-txt-warning/duplicate-field",
                                  MTS_SEV_WARNING, 0, "repeated field %.*s: the first one is used",
                                  (int)(t->name_len > 32 ? 32 : t->name_len), t->name);
            continue;
        }
        if (has_wsp(t->value, t->value_len)) {
            rc = mts_findings_add(&rec->findings, sts_codes.syntax, MTS_SEV_ERROR, 0,
                                  "white space inside a field: fields must be separated by \";\"");
        } else if (mts_tag_is(t, "id")) {
            rec->id = strndup(t->value, t->value_len);
            if (!rec->id)
                return -ENOMEM;
            rec->id_valid = id_ok(t->value, t->value_len);
            if (!rec->id_valid)
                rc = mts_findings_add(&rec->findings, "sts-txt-invalid/bad-id", MTS_SEV_ERROR, 0,
                                      "id must be 1 to 32 letters and digits");
        } else if (mts_tag_is_nocase(t, "id")) {
            rc = mts_findings_add(&rec->findings, "sts-txt-warning/field-case", MTS_SEV_WARNING, 0,
                                  "field names are case-sensitive: %.*s is not id",
                                  (int)t->name_len, t->name);
        } else {
            rc = mts_taglist_judge_ext(t, &sts_codes, &rec->findings);
        }
    }
    if (rc == 0 && !rec->id && !mts_findings_has_error(&rec->findings))
        rc = mts_findings_add(&rec->findings, "sts-txt-invalid/missing-id", MTS_SEV_ERROR, 0,
                              "no id field");
    return rc;
}

int mts_sts_record_parse(struct mts_sts_record *out, const struct mts_txt_record *records, size_t n)
{
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    int rc = mts_txt_select(records, n, STS_VERSION, &out->records, &text, &len);
    if (rc)
        return rc;
    if (out->records > 1)
        return mts_findings_add(&out->findings, "sts-txt-invalid/multiple-records", MTS_SEV_ERROR,
                                0, "%zu records begin with v=STSv1", out->records);
    if (out->records == 0)
        return 0;
    rc = judge(out, text, len);
    free(text);
    out->valid = rc == 0 && !mts_findings_has_error(&out->findings);
    return rc;
}

int mts_sts_record_parse_text(struct mts_sts_record *out, const char *text, size_t len)
{
    struct mts_txt_string s = {(const unsigned char *)text, len};
    struct mts_txt_record r = {&s, 1};
    return mts_sts_record_parse(out, &r, 1);
}

json_t *mts_sts_record_json(const struct mts_sts_record *rec)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = json_object_set_new(o, "records", json_integer((json_int_t)rec->records));
    rc |= json_object_set_new(o, "valid", json_boolean(rec->valid));
    if (rec->id)
        rc |= json_object_set_new(o, "id", json_string(rec->id));
    rc |= json_object_set_new(o, "findings", mts_findings_json(&rec->findings));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void mts_sts_record_free(struct mts_sts_record *rec)
{
    free(rec->id);
    mts_findings_free(&rec->findings);
    memset(rec, 0, sizeof *rec);
}
