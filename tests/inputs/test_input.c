/*
 * The input stream end to end on odd real-world lists: BOM, CRLF, comments, IDNs, junk,
 * IP addresses, underscores, over-long labels and lines, CSV with a rank column (Tranco,
 * Umbrella with a header), duplicates across files, gzip (written here with zlib), a
 * truncated gzip, stdin, the opt-out list, strict mode, the digest and the error paths.
 * Every test asserts the exact names, messages and counters.
 */
#include "check.h"
#include "mts_exclude.h"
#include "mts_input.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#define DATA MTS_INPUTS_DATA "/"

struct text {
    char buf[16384];
    size_t len;
};

static void append(struct text *t, const char *s)
{
    /* Messages name the data directory: drop it so expectations are relative. */
    if (strncmp(s, DATA, strlen(DATA)) == 0)
        s += strlen(DATA);
    size_t n = strlen(s);
    if (t->len + n + 2 < sizeof t->buf) {
        memcpy(t->buf + t->len, s, n);
        t->len += n;
        t->buf[t->len++] = '\n';
        t->buf[t->len] = '\0';
    }
}

static void on_reject(void *ctx, const char *message)
{
    append(ctx, message);
}

static struct text names, msgs;
static struct mts_input_stats st;
static char digest[65];

/* Reads the whole stream; returns the last code of mts_input_next (0 at the end). */
static int run(struct mts_input_opts opts)
{
    struct mts_input *in;
    const char *name;
    int rc;
    memset(&names, 0, sizeof names);
    memset(&msgs, 0, sizeof msgs);
    memset(&st, 0, sizeof st);
    digest[0] = '\0';
    opts.on_reject = on_reject;
    opts.on_reject_ctx = &msgs;
    rc = mts_input_open(&in, &opts, NULL, 0);
    if (rc)
        return rc;
    while ((rc = mts_input_next(in, &name)) == 1)
        append(&names, name);
    if (rc < 0)
        append(&msgs, mts_input_message(in));
    mts_input_get_stats(in, &st);
    CHECK_INT(mts_input_digest(in, digest), 0);
    mts_input_free(in);
    return rc;
}

static struct mts_input_opts files(const char *const *paths, size_t n)
{
    return (struct mts_input_opts){.paths = paths, .npaths = n};
}

static const char mixed_names[] = "example.com\n"
                                  "www.example.org\n"
                                  "xn--bcher-kva.example\n"
                                  "xn--fa-hia.de\n"
                                  "good.example\n"
                                  "last.example\n";

static const char mixed_rejects[] =
    "mixed.txt:8: ip-address: \"192.0.2.1\"\n"
    "mixed.txt:9: ip-address: \"[2001:db8::1]\"\n"
    "mixed.txt:10: ip-address: \"2001:db8::2\"\n"
    "mixed.txt:11: underscore: \"_dmarc.example.com\"\n"
    "mixed.txt:12: underscore: \"under_score.example\"\n"
    "mixed.txt:13: label-hyphen: \"-bad.example\"\n"
    "mixed.txt:14: label-hyphen: \"bad-.example\"\n"
    "mixed.txt:15: empty-label: \"a..example\"\n"
    "mixed.txt:16: single-label: \"localhost\"\n"
    "mixed.txt:17: numeric-tld: \"example.123\"\n"
    "mixed.txt:18: label-too-long: "
    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\"\n"
    "mixed.txt:19: name-too-long: "
    "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.bbbbbbbbbbbbbbbb...\"\n"
    "mixed.txt:20: idn-invalid (IDN2_PUNYCODE_BAD_INPUT): \"xn--zz.example\"\n"
    "mixed.txt:21: invalid-char: \"http://example.net/\"\n"
    "mixed.txt:24: invalid-char: \"ex ample.net\"\n"
    "mixed.txt:27: invalid-char: \"*.wildcard.example\"\n"
    "mixed.txt:28: ip-address: \"1.2.3.4.\"\n";

/* sha256 of mixed_names, as `sha256sum` gives it. */
static const char mixed_digest[] =
    "3330927e771b919198c61c12e2dacb100321ca119502d474d91001736b9e0e6b";

static void test_mixed(void)
{
    const char *paths[] = {DATA "mixed.txt"};
    CHECK_INT(run(files(paths, 1)), 0);
    CHECK_STR(names.buf, mixed_names);
    CHECK_STR(msgs.buf, mixed_rejects);
    CHECK_INT(st.lines, 26);
    CHECK_INT(st.accepted, 6);
    CHECK_INT(st.duplicates, 3);
    CHECK_INT(st.excluded, 0);
    CHECK_INT(st.out_of_shard, 0);
    CHECK_INT(st.rejected, 17);
    CHECK_INT(st.rejected_by[MTS_REJ_IP_ADDRESS], 4);
    CHECK_INT(st.rejected_by[MTS_REJ_UNDERSCORE], 2);
    CHECK_INT(st.rejected_by[MTS_REJ_LABEL_HYPHEN], 2);
    CHECK_INT(st.rejected_by[MTS_REJ_EMPTY_LABEL], 1);
    CHECK_INT(st.rejected_by[MTS_REJ_SINGLE_LABEL], 1);
    CHECK_INT(st.rejected_by[MTS_REJ_NUMERIC_TLD], 1);
    CHECK_INT(st.rejected_by[MTS_REJ_LABEL_TOO_LONG], 1);
    CHECK_INT(st.rejected_by[MTS_REJ_NAME_TOO_LONG], 1);
    CHECK_INT(st.rejected_by[MTS_REJ_IDN_INVALID], 1);
    CHECK_INT(st.rejected_by[MTS_REJ_INVALID_CHAR], 3);
    CHECK_STR(digest, mixed_digest);
    CHECK(st.dedupe_bytes > 0);
}

static void test_csv(void)
{
    const char *paths[] = {DATA "tranco.csv", DATA "umbrella.csv"};
    CHECK_INT(run(files(paths, 2)), 0);
    CHECK_STR(names.buf, "google.com\n"
                         "facebook.com\n"
                         "xn--bcher-kva.example\n"
                         "quoted.example\n"
                         "spaced.example\n"
                         "api.example.net\n"
                         "www.example.net\n");
    CHECK_STR(msgs.buf, "tranco.csv:5: csv-format: \"5,\"\n"
                        "tranco.csv:6: csv-format: \"x,bad-rank.example\"\n"
                        "tranco.csv:7: underscore: \"under_score.example\"\n");
    CHECK_INT(st.lines, 11); /* the Umbrella header is not counted */
    CHECK_INT(st.accepted, 7);
    CHECK_INT(st.duplicates, 1);
    CHECK_INT(st.rejected_by[MTS_REJ_CSV_FORMAT], 2);
}

static void test_several_files(void)
{
    const char *paths[] = {DATA "mixed.txt", DATA "second.txt", DATA "mixed.txt"};
    CHECK_INT(run(files(paths, 3)), 0);
    char want[512];
    snprintf(want, sizeof want, "%snew.example\n", mixed_names);
    CHECK_STR(names.buf, want);
    CHECK_INT(st.accepted, 7);
    CHECK_INT(st.duplicates, 3 + 2 + 9); /* within, second.txt, all of mixed.txt again */
    CHECK_INT(st.rejected, 34);
}

static void write_gz(const char *path, const char *src, long cut)
{
    FILE *f = fopen(src, "rb");
    gzFile gz = gzopen(path, "wb");
    char buf[4096];
    size_t n;
    CHECK(f && gz);
    if (!f || !gz)
        return;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        gzwrite(gz, buf, (unsigned)n);
    fclose(f);
    gzclose(gz);
    if (cut > 0) {
        FILE *g = fopen(path, "rb+");
        CHECK(g != NULL);
        if (g) {
            fseek(g, 0, SEEK_END);
            CHECK_INT(ftruncate(fileno(g), ftell(g) - cut), 0);
            fclose(g);
        }
    }
}

static void test_gzip(void)
{
    write_gz("mixed.txt.gz", DATA "mixed.txt", 0);
    const char *paths[] = {"mixed.txt.gz"};
    CHECK_INT(run(files(paths, 1)), 0);
    CHECK_STR(names.buf, mixed_names);
    CHECK_INT(st.rejected, 17);
    CHECK_STR(digest, mixed_digest);

    /* The gzip trailer cut off: the names read so far come out, then an error. */
    write_gz("truncated.txt.gz", DATA "mixed.txt", 6);
    const char *tpaths[] = {"truncated.txt.gz"};
    CHECK_INT(run(files(tpaths, 1)), MTS_IN_EREAD);
    CHECK(strstr(msgs.buf, "truncated.txt.gz: truncated compressed input\n") != NULL);
    remove("mixed.txt.gz");
    remove("truncated.txt.gz");
}

static void test_stdin(void)
{
    int saved = dup(STDIN_FILENO), fd = open(DATA "tranco.csv", O_RDONLY);
    CHECK(saved >= 0 && fd >= 0);
    dup2(fd, STDIN_FILENO);
    close(fd);
    const char *paths[] = {DATA "second.txt", "-"};
    CHECK_INT(run(files(paths, 2)), 0);
    CHECK_STR(names.buf, "example.com\nnew.example\nwww.example.org\ngoogle.com\n"
                         "facebook.com\nxn--bcher-kva.example\nquoted.example\nspaced.example\n");
    CHECK(strstr(msgs.buf, "<stdin>:5: csv-format: \"5,\"\n") != NULL);
    dup2(saved, STDIN_FILENO);
    close(saved);
}

static void test_strict(void)
{
    const char *paths[] = {DATA "second.txt", DATA "mixed.txt"};
    struct mts_input_opts opts = files(paths, 2);
    opts.strict = true;
    CHECK_INT(run(opts), MTS_IN_EREJECTED);
    CHECK_STR(names.buf, "example.com\nnew.example\nwww.example.org\n"
                         "xn--bcher-kva.example\nxn--fa-hia.de\n");
    CHECK_STR(msgs.buf, "mixed.txt:8: ip-address: \"192.0.2.1\"\n"); /* not via callback */
    CHECK_INT(st.rejected, 1);

    /* Errors are sticky. */
    struct mts_input *in;
    const char *name;
    CHECK_INT(mts_input_open(&in, &opts, NULL, 0), 0);
    while (mts_input_next(in, &name) == 1)
        ;
    CHECK_INT(mts_input_next(in, &name), MTS_IN_EREJECTED);
    mts_input_free(in);
}

static void test_exclude_and_shard(void)
{
    struct mts_exclude *ex;
    CHECK_INT(mts_exclude_new(&ex), 0);
    CHECK_INT(mts_exclude_load(ex, DATA "exclude.txt", NULL, 0), 0);
    const char *paths[] = {DATA "mixed.txt", DATA "tranco.csv"};
    struct mts_input_opts opts = files(paths, 2);
    opts.exclude = ex;
    CHECK_INT(run(opts), 0);
    CHECK_STR(names.buf, "example.com\nxn--bcher-kva.example\nxn--fa-hia.de\ngood.example\n"
                         "last.example\ngoogle.com\nquoted.example\nspaced.example\n");
    CHECK_INT(st.excluded, 2); /* www.example.org, facebook.com */
    CHECK_INT(st.duplicates, 5);

    /* Shards of the same input add up to it. */
    uint64_t acc = 0, dup = 0, exc = 0, out = 0;
    for (unsigned k = 0; k < 3; k++) {
        opts.shard_k = k;
        opts.shard_n = 3;
        CHECK_INT(run(opts), 0);
        acc += st.accepted;
        dup += st.duplicates;
        exc += st.excluded;
        out += st.out_of_shard;
    }
    CHECK_INT(acc, 8);
    CHECK_INT(dup, 5);
    CHECK_INT(exc, 2);
    CHECK_INT(out, 2 * (8 + 5 + 2));
    mts_exclude_free(ex);
}

static void test_long_lines(void)
{
    FILE *f = fopen("long.txt", "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("first.example\n", f);
    for (int i = 0; i < 600000; i++) /* longer than two read blocks */
        putc('x', f);
    fputs("\nsecond.example\n", f);
    for (int i = 0; i < 1025; i++) /* just over the limit, within a block */
        putc('y', f);
    fputs("\n", f);
    for (int i = 0; i < 1020; i++) /* just under: rejected for the name, not the line */
        putc('z', f);
    fputs("\nthird.example\n", f);
    for (int i = 0; i < 5000; i++) /* over-long and unterminated at the end */
        putc('w', f);
    fclose(f);
    const char *paths[] = {"long.txt"};
    CHECK_INT(run(files(paths, 1)), 0);
    CHECK_STR(names.buf, "first.example\nsecond.example\nthird.example\n");
    CHECK_INT(st.lines, 7);
    CHECK_INT(st.rejected_by[MTS_REJ_LINE_TOO_LONG], 3);
    CHECK_INT(st.rejected_by[MTS_REJ_LABEL_TOO_LONG], 1);
    CHECK(strncmp(msgs.buf, "long.txt:2: line-too-long: \"xxxxxxxx", 36) == 0);
    CHECK(strstr(msgs.buf, "long.txt:4: line-too-long: \"yyyy") != NULL);
    CHECK(strstr(msgs.buf, "long.txt:5: label-too-long: \"zzzz") != NULL);
    CHECK(strstr(msgs.buf, "long.txt:7: line-too-long: \"wwww") != NULL);
    remove("long.txt");
}

static void test_errors(void)
{
    struct mts_input *in = (struct mts_input *)&in;
    char msg[256] = "";
    const char *missing[] = {DATA "second.txt", "no-such-file.txt"};
    struct mts_input_opts two = files(missing, 2), one = files(missing + 1, 1),
                          none = files(missing, 0);
    CHECK_INT(mts_input_open(&in, &two, msg, sizeof msg), MTS_IN_EOPEN);
    CHECK(in == NULL);
    CHECK_STR(msg, "no-such-file.txt: No such file or directory");
    CHECK_INT(mts_input_open(&in, &one, msg, sizeof msg), MTS_IN_EOPEN);
    CHECK_STR(msg, "no-such-file.txt: No such file or directory");
    CHECK_INT(mts_input_open(&in, &none, msg, sizeof msg), MTS_IN_EINVAL);
    struct mts_input_opts bad = files(missing, 1);
    bad.shard_k = 3;
    bad.shard_n = 3;
    CHECK_INT(mts_input_open(&in, &bad, msg, sizeof msg), MTS_IN_EINVAL);
    bad.shard_k = 1;
    bad.shard_n = 0;
    CHECK_INT(mts_input_open(&in, &bad, msg, sizeof msg), MTS_IN_EINVAL);

    FILE *f = fopen("empty.txt", "w");
    if (f)
        fclose(f);
    const char *empty[] = {"empty.txt"};
    CHECK_INT(run(files(empty, 1)), 0);
    CHECK_STR(names.buf, "");
    CHECK_STR(digest, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    remove("empty.txt");

    for (int e = 0; e >= -7; e--)
        CHECK(strcmp(mts_input_strerror(e), "unknown error") != 0);
    CHECK_STR(mts_input_strerror(-99), "unknown error");
}

int main(void)
{
    test_mixed();
    test_csv();
    test_several_files();
    test_gzip();
    test_stdin();
    test_strict();
    test_exclude_and_shard();
    test_long_lines();
    test_errors();
    return check_exit();
}
