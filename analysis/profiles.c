/*
 * Sender profiles (docs/validation.md, section 6) and postfix-mta-sts-resolver's reading
 * of records and policies, written from its code as packaged in Debian (version 1.1.2:
 * postfix_mta_sts_resolver/resolver.py, utils.py, responder.py).
 */
#include "mts_profiles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RESOLVER_SOURCE "postfix-mta-sts-resolver 1.1.2 (Debian): resolver.py, utils.py"

const struct mts_sender_profile mts_sender_profiles[MTS_N_PROFILES] = {
    [MTS_PROFILE_RFC8461] = {"rfc8461", "RFC 8461 read strictly (docs/validation.md, sections 1-4)",
                             MTS_READ_RFC8461, MTS_TESTING_TESTING},
    [MTS_PROFILE_RESOLVER] = {"postfix-mta-sts-resolver",
                              RESOLVER_SOURCE ", responder.py (strict_testing: false, default)",
                              MTS_READ_RESOLVER, MTS_TESTING_IGNORED},
    [MTS_PROFILE_RESOLVER_STRICT_TESTING] = {"postfix-mta-sts-resolver-strict-testing",
                                             RESOLVER_SOURCE
                                             ", responder.py (strict_testing: true)",
                                             MTS_READ_RESOLVER, MTS_TESTING_ENFORCE},
    [MTS_PROFILE_MADDY] = {"maddy",
                           "maddy (foxcpp/maddy) internal/mtasts/mtasts.go and cache.go at commit "
                           "bf188e4; internal/target/remote/security.go (only enforce refuses)",
                           MTS_READ_MADDY, MTS_TESTING_TESTING},
    [MTS_PROFILE_NO_MTA_STS] = {"no-mta-sts",
                                "senders without client-side MTA-STS (Exim, Postfix without a "
                                "policy service)",
                                MTS_READ_NOTHING, MTS_TESTING_TESTING},
};

/* A decoded character of the body: its code point and its length in bytes. */
struct uchar {
    uint32_t cp;
    size_t len;
};

/* Decode one character; cp = UINT32_MAX when the bytes are not valid in the charset. */
static struct uchar decode(const unsigned char *s, size_t len, bool utf8)
{
    struct uchar bad = {UINT32_MAX, 1};
    if (s[0] < 0x80)
        return (struct uchar){s[0], 1};
    if (!utf8 || s[0] < 0xc2 || s[0] > 0xf4)
        return bad;
    size_t n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    if (len < n)
        return bad;
    uint32_t cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return bad;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return bad;
    return (struct uchar){cp, n};
}

/* Python's str.splitlines() boundaries. */
static bool py_line_break(uint32_t cp)
{
    return cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || (cp >= 0x1c && cp <= 0x1e) ||
           cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

/* Python's str.strip() whitespace. */
static bool py_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* The last character of s[0..len) starts at the returned offset (UTF-8 or ASCII). */
static size_t last_char(const unsigned char *s, size_t len)
{
    size_t i = len - 1;
    while (i > 0 && (s[i] & 0xc0) == 0x80)
        i--;
    return i;
}

static void rstrip(const unsigned char *s, size_t *len, bool utf8)
{
    while (*len) {
        size_t at = last_char(s, *len);
        if (!py_space(decode(s + at, *len - at, utf8).cp))
            return;
        *len = at;
    }
}

static size_t lstrip(const unsigned char *s, size_t len, bool utf8)
{
    size_t i = 0;
    while (i < len) {
        struct uchar c = decode(s + i, len - i, utf8);
        if (!py_space(c.cp))
            break;
        i += c.len;
    }
    return i;
}

/* The last value of each key the resolver checks, as offsets into the body. */
struct fields {
    const unsigned char *version, *mode, *max_age;
    size_t version_len, mode_len, max_age_len;
};

static bool key_is(const unsigned char *k, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(k, name, n) == 0;
}

static int add_mx(struct mts_resolver_policy *p, const unsigned char *v, size_t n)
{
    char **mx = realloc(p->mx, (p->n_mx + 1) * sizeof *mx);
    if (!mx)
        return -ENOMEM;
    p->mx = mx;
    size_t *lens = realloc(p->mx_len, (p->n_mx + 1) * sizeof *lens);
    if (!lens)
        return -ENOMEM;
    p->mx_len = lens;
    if (!(mx[p->n_mx] = malloc(n + 1)))
        return -ENOMEM;
    memcpy(mx[p->n_mx], v, n);
    mx[p->n_mx][n] = '\0';
    lens[p->n_mx++] = n;
    return 0;
}

/* One line of utils.parse_mta_sts_policy: rstrip, partition at the first ':', lstrip the
   value; mx values are collected, every other key is overwritten by a later line. */
static int read_line(struct mts_resolver_policy *p, struct fields *f, const unsigned char *line,
                     size_t len, bool utf8)
{
    rstrip(line, &len, utf8);
    const unsigned char *colon = memchr(line, ':', len);
    size_t klen = colon ? (size_t)(colon - line) : len;
    const unsigned char *v = colon ? colon + 1 : line + len;
    size_t vlen = colon ? len - klen - 1 : 0;
    size_t skip = lstrip(v, vlen, utf8);
    v += skip;
    vlen -= skip;
    if (key_is(line, klen, "mx"))
        return add_mx(p, v, vlen);
    if (key_is(line, klen, "version"))
        f->version = v, f->version_len = vlen;
    else if (key_is(line, klen, "mode"))
        f->mode = v, f->mode_len = vlen;
    else if (key_is(line, klen, "max_age"))
        f->max_age = v, f->max_age_len = vlen;
    return 0;
}

/* Python's int() on an ASCII string: optional sign, digits, single '_' between digits.
   Returns false when int() would raise; values beyond the limit saturate. */
static bool py_int(const unsigned char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return false;
    int64_t v = 0;
    bool digit_before = false;
    for (; i < n; i++) {
        if (s[i] == '_' && digit_before && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
            digit_before = false;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v > INT64_MAX / 20 ? INT64_MAX / 20 : v * 10 + (s[i] - '0');
        digit_before = true;
    }
    *out = neg ? -v : v;
    return true;
}

static enum mts_mode mode_of(const unsigned char *s, size_t n)
{
    if (key_is(s, n, "enforce"))
        return MTS_MODE_ENFORCE;
    if (key_is(s, n, "testing"))
        return MTS_MODE_TESTING;
    if (key_is(s, n, "none"))
        return MTS_MODE_NONE;
    return MTS_MODE_INVALID;
}

/* The checks resolver.py applies after parsing. */
static void judge(struct mts_resolver_policy *p, const struct fields *f)
{
    if (!f->version || !key_is(f->version, f->version_len, "STSv1"))
        return;
    int64_t age = -1;
    if (f->max_age && !py_int(f->max_age, f->max_age_len, &age))
        return;
    if (age < 0 || age > 31557600 || !f->mode)
        return;
    p->mode = mode_of(f->mode, f->mode_len);
    p->max_age = age;
    if (p->mode == MTS_MODE_NONE)
        p->valid = true;
    else
        p->valid = p->mode != MTS_MODE_INVALID && p->n_mx > 0;
}

int mts_resolver_policy_read(struct mts_resolver_policy *out, const unsigned char *body, size_t len,
                             bool utf8)
{
    memset(out, 0, sizeof *out);
    out->mode = MTS_MODE_ABSENT;
    out->max_age = -1;
    if (len > MTS_RESOLVER_BODY_LIMIT)
        return 0;
    for (size_t i = 0; i < len;) /* the whole body must decode */ {
        struct uchar c = decode(body + i, len - i, utf8);
        if (c.cp == UINT32_MAX)
            return 0;
        i += c.len;
    }
    struct fields f = {0};
    size_t start = 0;
    for (size_t i = 0; i < len;) {
        struct uchar c = decode(body + i, len - i, utf8);
        if (!py_line_break(c.cp)) {
            i += c.len;
            continue;
        }
        int rc = read_line(out, &f, body + start, i - start, utf8);
        if (rc)
            return rc;
        i += c.len + (c.cp == '\r' && i + 1 < len && body[i + 1] == '\n');
        start = i;
    }
    if (start < len) {
        int rc = read_line(out, &f, body + start, len - start, utf8);
        if (rc)
            return rc;
    }
    judge(out, &f);
    return 0;
}

void mts_resolver_policy_free(struct mts_resolver_policy *p)
{
    for (size_t i = 0; i < p->n_mx; i++)
        free(p->mx[i]);
    free(p->mx);
    free(p->mx_len);
    memset(p, 0, sizeof *p);
}

/* The record as pycares 4.3 gives it: its character-strings joined, each cut at its first
   NUL (ffi.string); NULL when not ASCII (filter_text drops it) or on ENOMEM (*nomem). */
static char *pycares_text(const struct mts_txt_record *r, size_t *len, bool *nomem)
{
    size_t cap = 0;
    for (size_t s = 0; s < r->n; s++)
        cap += r->strings[s].len;
    char *text = malloc(cap + 1);
    *nomem = !text;
    *len = 0;
    for (size_t s = 0; text && s < r->n; s++) {
        const unsigned char *d = r->strings[s].data;
        for (size_t i = 0; i < r->strings[s].len && d[i]; i++) {
            if (d[i] >= 0x80) {
                free(text);
                return NULL;
            }
            text[(*len)++] = (char)d[i];
        }
    }
    if (text)
        text[*len] = '\0';
    return text;
}

/* utils.parse_mta_sts_record: ';'-separated fields, stripped, empty ones skipped, split at
   the first '='; a later field overwrites an earlier one of the same key. */
static bool record_fields_ok(const char *text, size_t len)
{
    const char *v = NULL, *stop = text + len;
    size_t vlen = 0;
    bool id = false;
    for (const char *f = text; f;) {
        const char *end = memchr(f, ';', (size_t)(stop - f));
        size_t n = end ? (size_t)(end - f) : (size_t)(stop - f);
        size_t skip = lstrip((const unsigned char *)f, n, false);
        f += skip;
        n -= skip;
        rstrip((const unsigned char *)f, &n, false);
        const char *eq = memchr(f, '=', n);
        size_t klen = eq ? (size_t)(eq - f) : n;
        if (n && key_is((const unsigned char *)f, klen, "v"))
            v = eq ? eq + 1 : f + n, vlen = eq ? n - klen - 1 : 0;
        id |= n && key_is((const unsigned char *)f, klen, "id");
        f = end ? end + 1 : NULL;
    }
    return v && key_is((const unsigned char *)v, vlen, "STSv1") && id;
}

int mts_resolver_record_ok(const struct mts_txt_record *records, size_t n, bool *ok)
{
    *ok = false;
    size_t count = 0;
    bool chosen_ok = false;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        bool nomem;
        char *text = pycares_text(&records[i], &len, &nomem);
        if (nomem)
            return -ENOMEM;
        if (text && strncmp(text, "v=STSv1", 7) == 0) {
            count++;
            chosen_ok = record_fields_ok(text, len);
        }
        free(text);
    }
    *ok = count == 1 && chosen_ok;
    return 0;
}

bool mts_resolver_media_type(const char *content_type, bool *utf8)
{
    *utf8 = false;
    if (!content_type)
        return false;
    const char *semi = strchr(content_type, ';');
    size_t n = semi ? (size_t)(semi - content_type) : strlen(content_type);
    size_t skip = lstrip((const unsigned char *)content_type, n, false);
    const unsigned char *t = (const unsigned char *)content_type + skip;
    n -= skip;
    rstrip(t, &n, false);
    if (n != 10 || strncasecmp((const char *)t, "text/plain", 10) != 0)
        return false;
    const char *cs = semi ? strcasestr(semi, "charset=") : NULL;
    if (cs) {
        cs += 8;
        cs += *cs == '"';
        *utf8 = strncasecmp(cs, "utf-8", 5) == 0 || strncasecmp(cs, "utf8", 4) == 0;
    }
    return true;
}

/* Go's unicode.IsSpace (strings.TrimSpace); invalid UTF-8 is never space. */
static bool go_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == ' ' || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

/* strings.TrimSpace of s[0..*len): returns the start, updates *len. */
static const unsigned char *go_trim(const unsigned char *s, size_t *len)
{
    size_t i = 0, n = *len;
    while (i < n) {
        struct uchar c = decode(s + i, n - i, true);
        if (!go_space(c.cp))
            break;
        i += c.len;
    }
    while (n > i) {
        size_t at = last_char(s + i, n - i) + i;
        if (!go_space(decode(s + at, n - at, true).cp))
            break;
        n = at;
    }
    *len = n - i;
    return s + i;
}

static size_t count_byte(const unsigned char *s, size_t n, unsigned char b)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == b;
    return k;
}

/* readDNSRecord: ';'-separated parts, trimmed, empty ones skipped; each exactly one '=',
   no space or tab in it; v must be STSv1 every time; the last id must not be empty. */
static bool maddy_record_text_ok(const unsigned char *text, size_t len)
{
    bool version = false, id = false;
    for (size_t start = 0; start <= len;) {
        const unsigned char *semi = memchr(text + start, ';', len - start);
        size_t end = semi ? (size_t)(semi - text) : len, n = end - start;
        const unsigned char *part = go_trim(text + start, &n);
        start = end + 1;
        if (n == 0)
            continue;
        if (count_byte(part, n, '=') != 1 || memchr(part, ' ', n) || memchr(part, '\t', n))
            return false;
        const unsigned char *eq = memchr(part, '=', n);
        size_t klen = (size_t)(eq - part), vlen = n - klen - 1;
        if (key_is(part, klen, "v")) {
            if (!key_is(eq + 1, vlen, "STSv1"))
                return false;
            version = true;
        } else if (key_is(part, klen, "id")) {
            id = vlen > 0;
        }
    }
    return version && id;
}

int mts_maddy_record_ok(const struct mts_txt_record *records, size_t n, bool *ok)
{
    *ok = false;
    if (n != 1)
        return 0;
    size_t len = 0;
    for (size_t s = 0; s < records[0].n; s++)
        len += records[0].strings[s].len;
    unsigned char *text = malloc(len + 1);
    if (!text)
        return -ENOMEM;
    size_t at = 0;
    for (size_t s = 0; s < records[0].n; s++) {
        memcpy(text + at, records[0].strings[s].data, records[0].strings[s].len);
        at += records[0].strings[s].len;
    }
    *ok = maddy_record_text_ok(text, len);
    free(text);
    return 0;
}

/* mime.ParseMediaType then == "text/plain": the type lower-cased and trimmed; every
   parameter must be attribute=value (an approximation of Go's parameter grammar). */
bool mts_maddy_media_type(const char *content_type)
{
    if (!content_type)
        return false;
    const char *semi = strchr(content_type, ';');
    size_t n = semi ? (size_t)(semi - content_type) : strlen(content_type);
    const unsigned char *t = go_trim((const unsigned char *)content_type, &n);
    if (n != 10 || strncasecmp((const char *)t, "text/plain", 10) != 0)
        return false;
    while (semi) {
        const char *param = semi + 1, *next = strchr(param, ';');
        size_t plen = next ? (size_t)(next - param) : strlen(param);
        const unsigned char *p = go_trim((const unsigned char *)param, &plen);
        const unsigned char *eq = memchr(p, '=', plen);
        if (!eq || eq == p)
            return false;
        semi = next;
    }
    return true;
}

/* strconv.Atoi: optional sign, ASCII digits, within int64. */
static bool go_atoi(const unsigned char *s, size_t n)
{
    bool neg = n && s[0] == '-';
    size_t i = n && (s[0] == '+' || s[0] == '-');
    if (i == n)
        return false;
    for (size_t k = i; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            return false;
    while (i + 1 < n && s[i] == '0')
        i++;
    const char *max = neg ? "9223372036854775808" : "9223372036854775807";
    return n - i < 19 || (n - i == 19 && memcmp(s + i, max, 19) <= 0);
}

/* One line of readPolicy; false when it makes the policy fail. */
static bool maddy_line(const unsigned char *line, size_t len, enum mts_mode *mode, bool *version,
                       bool *max_age, size_t *mx)
{
    if (count_byte(line, len, ':') != 1)
        return false;
    const unsigned char *colon = memchr(line, ':', len);
    size_t klen = (size_t)(colon - line), vlen = len - klen - 1;
    const unsigned char *v = go_trim(colon + 1, &vlen);
    if (key_is(line, klen, "version")) {
        *version = true;
        return key_is(v, vlen, "STSv1");
    }
    if (key_is(line, klen, "mode")) {
        *mode = mode_of(v, vlen);
        return *mode != MTS_MODE_INVALID;
    }
    if (key_is(line, klen, "max_age")) {
        *max_age = true;
        return go_atoi(v, vlen);
    }
    *mx += key_is(line, klen, "mx");
    return true;
}

bool mts_maddy_policy_read(const unsigned char *body, size_t len, enum mts_mode *mode)
{
    enum mts_mode m = MTS_MODE_ABSENT;
    bool version = false, max_age = false;
    size_t mx = 0;
    *mode = MTS_MODE_ABSENT;
    for (size_t start = 0; start < len;) {
        const unsigned char *nl = memchr(body + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - body) : len, n = end - start;
        if (n + 1 > 65536) /* bufio.Scanner's MaxScanTokenSize */
            return false;
        if (n && body[start + n - 1] == '\r')
            n--;
        if (!maddy_line(body + start, n, &m, &version, &max_age, &mx))
            return false;
        start = end + 1;
    }
    if (!version || m == MTS_MODE_ABSENT || !max_age || (m != MTS_MODE_NONE && mx == 0))
        return false;
    *mode = m;
    return true;
}
