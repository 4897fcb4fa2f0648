/*
 * Why: the scanner must read lists of any size at the speed domains finish, in constant
 * memory apart from the de-duplication set, and with every rejected line accounted for.
 * So the stream pulls: each mts_input_next() reads blocks through zlib (which reads plain
 * files as they are) only until the next accepted name, and each line goes through the
 * same fixed pipeline: parse (comments, CSV, BOM, CRLF), normalise, shard, opt-out,
 * de-duplicate, digest. Nothing here prints, except the dry run to the streams it is given.
 */
#include "mts_input.h"
#include "mts_exclude.h"
#include "mts_hash.h"
#include "mts_name.h"
#include "mts_util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define BLOCK_SIZE (256u * 1024u)
#define MSG_MAX    640
#define TEXT_SHOWN 80 /* bytes of an offending line quoted in a message */

struct mts_input {
    struct mts_input_opts opts;
    size_t file_idx;  /* the file being read, or the next one to open */
    gzFile gz;        /* NULL between files */
    const char *path; /* as shown in messages */
    unsigned long lineno;
    bool header_allowed; /* no counted line yet in this file: a CSV header may come */
    bool skipping;       /* inside an over-long line, discarding up to its newline */
    bool eof;            /* the current file has no more bytes */
    char *buf;           /* BLOCK_SIZE bytes; unread data is buf[start..end) */
    size_t start, end;
    struct mts_dedupe *seen;
    EVP_MD_CTX *md;
    int err; /* sticky error code */
    struct mts_input_stats st;
    char name[MTS_NAME_MAX + 1];
    char msg[MSG_MAX];
};

const char *mts_input_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case MTS_IN_ENOMEM:
        return "out of memory";
    case MTS_IN_EOPEN:
        return "cannot open input";
    case MTS_IN_EREAD:
        return "read error or corrupt compressed input";
    case MTS_IN_EREJECTED:
        return "invalid name in strict mode";
    case MTS_IN_EINVAL:
        return "invalid argument";
    case MTS_IN_ESYNTAX:
        return "syntax error in opt-out list";
    case MTS_IN_EWRITE:
        return "cannot write the names";
    default:
        return "unknown error";
    }
}

static const char *shown_path(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/* Opens path ("-": a duplicate of stdin, so closing it leaves fd 0 alone) for gzread. */
static gzFile open_gz(const char *path)
{
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        int saved = errno;
        close(fd);
        errno = saved ? saved : ENOMEM;
        return NULL;
    }
    gzbuffer(gz, BLOCK_SIZE);
    return gz;
}

static int open_next(struct mts_input *in)
{
    const char *path = in->opts.paths[in->file_idx];
    in->gz = open_gz(path);
    if (!in->gz) {
        snprintf(in->msg, sizeof in->msg, "%s: %s", shown_path(path), strerror(errno));
        return MTS_IN_EOPEN;
    }
    in->path = shown_path(path);
    in->lineno = 0;
    in->header_allowed = true;
    in->skipping = false;
    in->eof = false;
    in->start = in->end = 0;
    return 0;
}

static void close_current(struct mts_input *in)
{
    if (in->gz)
        gzclose(in->gz);
    in->gz = NULL;
    in->file_idx++;
}

/* Copies text into dst as a quoted-safe string: controls, quotes, backslashes and bytes
 * above 0x7e become \xNN; long text is cut with "...". */
static void quote_text(char *dst, size_t dstlen, const char *text, size_t len)
{
    size_t o = 0, shown = len > TEXT_SHOWN ? TEXT_SHOWN : len;
    for (size_t i = 0; i < shown && o + 5 < dstlen; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
        else
            dst[o++] = (char)c;
    }
    if (shown < len && o + 4 < dstlen) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

/* Counts a rejected line and builds its message; returns 0, or MTS_IN_EREJECTED (strict). */
static int reject(struct mts_input *in, int reason, const char *detail, const char *text,
                  size_t len)
{
    char quoted[4 * TEXT_SHOWN + 8];
    quote_text(quoted, sizeof quoted, text, len);
    in->st.rejected++;
    in->st.rejected_by[reason]++;
    if (detail)
        snprintf(in->msg, sizeof in->msg, "%s:%lu: %s (%s): \"%s\"", in->path, in->lineno,
                 mts_reject_name(reason), detail, quoted);
    else
        snprintf(in->msg, sizeof in->msg, "%s:%lu: %s: \"%s\"", in->path, in->lineno,
                 mts_reject_name(reason), quoted);
    if (in->opts.strict)
        return MTS_IN_EREJECTED;
    if (in->opts.on_reject)
        in->opts.on_reject(in->opts.on_reject_ctx, in->msg);
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims blanks and one pair of surrounding double quotes from s[0..*len). */
static const char *trim_field(const char *s, size_t *len)
{
    while (*len > 0 && is_blank(s[0])) {
        s++;
        (*len)--;
    }
    while (*len > 0 && is_blank(s[*len - 1]))
        (*len)--;
    if (*len >= 2 && s[0] == '"' && s[*len - 1] == '"') {
        s++;
        *len -= 2;
    }
    return s;
}

/* After normalisation: shard, opt-out, de-duplication, digest. 1 accepted, 0 not, < 0. */
static int filter_name(struct mts_input *in)
{
    size_t len = strlen(in->name);
    if (in->opts.shard_n > 1 && mts_shard_of(in->name, len, in->opts.shard_n) != in->opts.shard_k) {
        in->st.out_of_shard++;
        return 0;
    }
    if (in->opts.exclude && mts_exclude_name(in->opts.exclude, in->name)) {
        in->st.excluded++;
        return 0;
    }
    int rc = mts_dedupe_add(in->seen, in->name, len);
    if (rc <= 0) {
        if (rc == 0)
            in->st.duplicates++;
        return rc;
    }
    if (EVP_DigestUpdate(in->md, in->name, len) != 1 || EVP_DigestUpdate(in->md, "\n", 1) != 1)
        return MTS_IN_ENOMEM;
    in->st.accepted++;
    return 1;
}

/* One line (without its '\n'): 1 when it produced an accepted name, 0 if not, or < 0. */
static int handle_line(struct mts_input *in, const char *line, size_t len)
{
    static const char bom[3] = {'\xef', '\xbb', '\xbf'};
    if (len >= 3 && memcmp(line, bom, 3) == 0) {
        line += 3;
        len -= 3;
    }
    const char *hash = memchr(line, '#', len);
    if (hash)
        len = (size_t)(hash - line);
    while (len > 0 && is_blank(line[0])) {
        line++;
        len--;
    }
    while (len > 0 && is_blank(line[len - 1]))
        len--;
    if (len == 0)
        return 0;
    if (len > MTS_LINE_MAX) {
        in->header_allowed = false;
        in->st.lines++;
        return reject(in, MTS_REJ_LINE_TOO_LONG, NULL, line, len);
    }

    const char *field = line;
    size_t flen = len;
    const char *comma = memchr(line, ',', len);
    if (comma) {
        size_t rlen = (size_t)(comma - line);
        const char *rank = trim_field(line, &rlen);
        bool numeric = rlen > 0 && strspn(rank, "0123456789") >= rlen;
        if (!numeric && in->header_allowed) {
            in->header_allowed = false;
            return 0; /* "rank,domain" */
        }
        in->header_allowed = false;
        in->st.lines++;
        field = comma + 1;
        const char *next = memchr(field, ',', (size_t)(line + len - field));
        flen = (size_t)((next ? next : line + len) - field);
        field = trim_field(field, &flen);
        if (!numeric || flen == 0)
            return reject(in, MTS_REJ_CSV_FORMAT, NULL, line, len);
    } else {
        in->header_allowed = false;
        in->st.lines++;
    }
    const char *detail = NULL;
    int rc = mts_name_normalize(field, flen, 0, in->name, &detail);
    if (rc > 0)
        return reject(in, rc, detail, field, flen);
    if (rc < 0)
        return rc;
    return filter_name(in);
}

/*
 * The next line of the current file in *line and *len (valid until the next read): returns 1,
 * 0 at the end of the file, or MTS_IN_EREAD. Over-long lines are rejected here.
 */
static int read_line(struct mts_input *in, const char **line, size_t *len)
{
    for (;;) {
        char *s = in->buf + in->start;
        size_t avail = in->end - in->start;
        char *nl = memchr(s, '\n', avail);
        if (nl) {
            in->start += (size_t)(nl - s) + 1;
            if (in->skipping) {
                in->skipping = false;
                continue;
            }
            in->lineno++;
            *line = s;
            *len = (size_t)(nl - s);
            return 1;
        }
        if (in->skipping) {
            in->start = in->end = 0; /* still inside the over-long line: drop the block */
            avail = 0;
        } else if (avail > MTS_LINE_MAX) {
            in->lineno++;
            in->st.lines++;
            in->header_allowed = false;
            in->skipping = true;
            in->start = in->end = 0;
            int rc = reject(in, MTS_REJ_LINE_TOO_LONG, NULL, s, avail);
            if (rc)
                return rc;
            continue;
        }
        if (in->eof) {
            if (in->skipping || avail == 0)
                return 0;
            in->lineno++;
            in->start = in->end;
            *line = s;
            *len = avail;
            return 1;
        }
        memmove(in->buf, s, avail);
        in->start = 0;
        in->end = avail;
        int n = gzread(in->gz, in->buf + in->end, (unsigned)(BLOCK_SIZE - in->end));
        int zerr = Z_OK;
        const char *zmsg = gzerror(in->gz, &zerr);
        if (n < 0 || (zerr != Z_OK && zerr != Z_BUF_ERROR) || (n == 0 && zerr == Z_BUF_ERROR)) {
            snprintf(in->msg, sizeof in->msg, "%s: %s", in->path,
                     zerr == Z_ERRNO       ? strerror(errno)
                     : zerr == Z_BUF_ERROR ? "truncated compressed input"
                                           : zmsg);
            return MTS_IN_EREAD;
        }
        if (n == 0)
            in->eof = true;
        in->end += (size_t)n;
    }
}

int mts_input_open(struct mts_input **out, const struct mts_input_opts *opts, char *msg,
                   size_t msglen)
{
    *out = NULL;
    if (!opts || !opts->paths || opts->npaths == 0 ||
        opts->shard_k >= (opts->shard_n ? opts->shard_n : 1) || opts->shard_n > MTS_SHARD_MAX) {
        if (msg)
            snprintf(msg, msglen, "invalid input options (no file, or shard K/N out of range)");
        return MTS_IN_EINVAL;
    }
    for (size_t i = 1; i < opts->npaths; i++) {
        if (strcmp(opts->paths[i], "-") != 0 && access(opts->paths[i], R_OK) != 0) {
            if (msg)
                snprintf(msg, msglen, "%s: %s", opts->paths[i], strerror(errno));
            return MTS_IN_EOPEN;
        }
    }
    struct mts_input *in = calloc(1, sizeof *in);
    if (!in)
        return MTS_IN_ENOMEM;
    in->opts = *opts;
    in->buf = malloc(BLOCK_SIZE);
    in->md = EVP_MD_CTX_new();
    int rc = MTS_IN_ENOMEM;
    if (in->buf && in->md && EVP_DigestInit_ex(in->md, EVP_sha256(), NULL) == 1)
        rc = mts_dedupe_new(&in->seen);
    if (!rc) {
        rc = open_next(in);
        if (rc && msg)
            snprintf(msg, msglen, "%s", in->msg);
    }
    if (rc) {
        mts_input_free(in);
        return rc;
    }
    *out = in;
    return 0;
}

int mts_input_next(struct mts_input *in, const char **name)
{
    while (!in->err) {
        if (!in->gz) {
            if (in->file_idx >= in->opts.npaths)
                return 0;
            in->err = open_next(in);
            continue;
        }
        const char *line = NULL;
        size_t len = 0;
        int rc = read_line(in, &line, &len);
        if (rc == 0) {
            close_current(in);
            continue;
        }
        if (rc > 0)
            rc = handle_line(in, line, len);
        if (rc > 0) {
            *name = in->name;
            return 1;
        }
        in->err = rc;
    }
    if (in->err == MTS_IN_ENOMEM)
        snprintf(in->msg, sizeof in->msg, "%s", mts_input_strerror(MTS_IN_ENOMEM));
    return in->err;
}

const char *mts_input_message(const struct mts_input *in)
{
    return in->msg;
}

void mts_input_get_stats(const struct mts_input *in, struct mts_input_stats *st)
{
    *st = in->st;
    st->dedupe_bytes = mts_dedupe_bytes(in->seen);
}

int mts_input_digest(const struct mts_input *in, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    int ok = copy && EVP_MD_CTX_copy_ex(copy, in->md) == 1 &&
             EVP_DigestFinal_ex(copy, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(copy);
    if (!ok)
        return MTS_IN_ENOMEM;
    *mts_hex_encode(hex, md, 32) = '\0';
    return 0;
}

void mts_input_free(struct mts_input *in)
{
    if (!in)
        return;
    if (in->gz)
        gzclose(in->gz);
    free(in->buf);
    EVP_MD_CTX_free(in->md);
    mts_dedupe_free(in->seen);
    free(in);
}

static void print_reject(void *ctx, const char *message)
{
    fprintf(ctx, "%s\n", message);
}

int mts_input_dry_run(const struct mts_input_opts *opts, FILE *out, FILE *err)
{
    struct mts_input_opts o = *opts;
    o.on_reject = print_reject;
    o.on_reject_ctx = err;
    struct mts_input *in;
    char msg[MSG_MAX];
    int rc = mts_input_open(&in, &o, msg, sizeof msg);
    if (rc) {
        fprintf(err, "inputs: error: %s\n", rc == MTS_IN_ENOMEM ? mts_input_strerror(rc) : msg);
        return rc;
    }
    const char *name;
    while ((rc = mts_input_next(in, &name)) > 0) {
        fputs(name, out);
        putc('\n', out);
    }
    if (rc < 0) {
        fprintf(err, "inputs: error: %s\n", mts_input_message(in));
        mts_input_free(in);
        return rc;
    }
    struct mts_input_stats st;
    char hex[65];
    mts_input_get_stats(in, &st);
    rc = mts_input_digest(in, hex);
    mts_input_free(in);
    if (rc) {
        fprintf(err, "inputs: error: %s\n", mts_input_strerror(rc));
        return rc;
    }
    fprintf(err,
            "inputs: %llu lines, %llu accepted, %llu duplicates, %llu excluded, %llu "
            "out-of-shard, %llu rejected\n",
            (unsigned long long)st.lines, (unsigned long long)st.accepted,
            (unsigned long long)st.duplicates, (unsigned long long)st.excluded,
            (unsigned long long)st.out_of_shard, (unsigned long long)st.rejected);
    for (int r = 1; r < MTS_REJ_COUNT; r++)
        if (st.rejected_by[r])
            fprintf(err, "inputs: rejected %s %llu\n", mts_reject_name(r),
                    (unsigned long long)st.rejected_by[r]);
    fprintf(err, "inputs: sha256 %s\n", hex);
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(err, "inputs: error: %s: %s\n", mts_input_strerror(MTS_IN_EWRITE), strerror(errno));
        return MTS_IN_EWRITE;
    }
    return 0;
}
