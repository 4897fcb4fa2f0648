/*
 * The terminal-safe escaping every text output uses: control bytes (C0, DEL, C1 as UTF-8),
 * invalid UTF-8 and invisible format characters are shown as \xHH, a backslash as \\, and
 * printable text, Latin and CJK letters and emoji are kept; mts_text_printf escapes every
 * %s argument, pads by shown characters, and prints other conversions as fprintf does.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "text_safe.h"

static void check_safe(const char *in, const char *want)
{
    char *got = mts_text_safe(in);
    CHECK_STR(got, want);
    free(got);
}

/* What mts_text_printf(fmt, ...) writes, into the char array buf; rc its return. */
#define PRINTED(buf, rc, ...)                                                                      \
    do {                                                                                           \
        FILE *f_ = fmemopen(buf, sizeof buf, "w");                                                 \
        rc = mts_text_printf(f_, __VA_ARGS__);                                                     \
        fclose(f_);                                                                                \
    } while (0)

int main(void)
{
    check_safe("mx1.example.net", "mx1.example.net");
    check_safe(NULL, "");
    check_safe("v=STSv1; id=1", "v=STSv1; id=1");
    /* The hostile TXT record: set the title, ring, clear the screen. */
    check_safe("\x1b]0;title\x07\x1b[2J", "\\x1b]0;title\\x07\\x1b[2J");
    check_safe("a\tb\r\nc\x7f", "a\\x09b\\x0d\\x0ac\\x7f");
    check_safe("back\\slash \\x1b", "back\\\\slash \\\\x1b");
    /* C1 as UTF-8 (U+009B, the 8-bit CSI) and as a raw byte (invalid UTF-8). */
    check_safe("\xc2\x9b"
               "2J",
               "\\xc2\\x9b2J");
    check_safe("\x9b"
               "2J",
               "\\x9b2J");
    /* Valid UTF-8 is kept: Latin, CJK, emoji. */
    check_safe("caf\xc3\xa9 \xe4\xbe\x8b \xf0\x9f\x93\xa7",
               "caf\xc3\xa9 \xe4\xbe\x8b \xf0\x9f\x93\xa7");
    /* Invalid UTF-8: overlong, surrogate, beyond U+10FFFF, truncated, lone continuation. */
    check_safe("\xc0\xaf", "\\xc0\\xaf");
    check_safe("\xed\xa0\x80", "\\xed\\xa0\\x80");
    check_safe("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
    check_safe("\xe2\x82", "\\xe2\\x82");
    check_safe("a\x80z", "a\\x80z");
    /* Invisible characters that reorder or hide text: RLO, LRI, ZWSP, BOM, LINE SEPARATOR. */
    check_safe("\xe2\x80\xae"
               "abc",
               "\\xe2\\x80\\xaeabc");
    check_safe("\xe2\x81\xa6", "\\xe2\\x81\\xa6");
    check_safe("\xe2\x80\x8b", "\\xe2\\x80\\x8b");
    check_safe("\xef\xbb\xbf", "\\xef\\xbb\\xbf");
    check_safe("\xe2\x80\xa8", "\\xe2\\x80\\xa8");

    int rc;
    char buf[256];
    PRINTED(buf, rc, "[%s] %lld\n", "\x1b[2J", 42LL);
    CHECK_STR(buf, "[\\x1b[2J] 42\n");
    CHECK_INT(rc, 0);
    /* Width counts shown characters: é is one, an escape is four. */
    PRINTED(buf, rc, "[%-6s|%5lld]", "caf\xc3\xa9", -7LL);
    CHECK_STR(buf, "[caf\xc3\xa9  |   -7]");
    PRINTED(buf, rc, "[%6s] %%%lld", "\x07", 5LL);
    CHECK_STR(buf, "[  \\x07] %5");
    PRINTED(buf, rc, "%s%10lld", "", 3LL);
    CHECK_STR(buf, "         3");
    PRINTED(buf, rc, "%7.2f%% %zu %u %c %ld %d|%s", 12.345, (size_t)9, 8u, 'x', -6L, -5, "\x9b");
    CHECK_STR(buf, "  12.35% 9 8 x -6 -5|\\x9b");
    CHECK_INT(rc, 0);
    return check_exit();
}
