/*
 * Terminal-safe text: every string a text output prints was written by someone on the
 * Internet (TXT records, Content-Type, Location, policy lines, host names), and a raw
 * ESC or C1 byte reaching a terminal can set its title, clear it or worse. Every text
 * writer (explain, summary/text, Markdown, HTML, domains, diff) prints such strings
 * through this module; JSON and CSV stay exact. Rules: docs/analyze.md, "Terminal-safe
 * output".
 */
#ifndef MTS_TEXT_SAFE_H
#define MTS_TEXT_SAFE_H

#include <stdio.h>

/*
 * s with every byte that is not printable text shown as a visible escape: C0 controls,
 * DEL, bytes of invalid UTF-8, and the UTF-8 of C1 controls (U+0080-U+009F), Unicode
 * line/paragraph separators, bidirectional and other invisible format characters become
 * \xHH (one per byte); a backslash becomes \\ so that no escape is ambiguous. Printable
 * ASCII and other valid UTF-8 are kept. A new malloc'd string; NULL on ENOMEM. s NULL
 * reads as "".
 */
char *mts_text_safe(const char *s);

#define MTS_TEXT_PIECE 17

/*
 * The next piece of *s as mts_text_safe shows it, into piece (a NUL-terminated string): a
 * character kept, or the escapes of one byte or of one invisible character. Advances *s
 * past it and returns how many characters the piece shows. *s must not be at its NUL.
 * For writers that escape further (Markdown, HTML) piece by piece.
 */
size_t mts_text_piece(const char **s, char piece[MTS_TEXT_PIECE]);

/*
 * fprintf in which every %s argument is printed as mts_text_safe would show it (a width
 * such as %-34s counts characters of the escaped text). Other conversions (d i u x c f,
 * with flags, width, precision and the l ll z length modifiers) are printed as fprintf
 * would. Needs no memory. Returns 0, or -1 on a write error.
 */
int mts_text_printf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
