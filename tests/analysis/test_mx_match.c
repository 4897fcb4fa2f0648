/*
 * Why: matching MX hosts against patterns is where a popular checker accepted hosts a
 * sender refuses; these are exactly the cases RFC 8461 §4.1 and the checklist name.
 */
#include "check.h"
#include "mts_mx_match.h"

int main(void)
{
    CHECK(mts_mx_match("mail.example.com", "mail.example.com"));
    CHECK(mts_mx_match("MAIL.Example.COM", "mail.example.com"));
    CHECK(mts_mx_match("mail.example.com.", "mail.example.com"));
    CHECK(mts_mx_match("mail.example.com", "mail.example.com."));
    CHECK(!mts_mx_match("mail.example.com.evil.net", "mail.example.com"));
    CHECK(!mts_mx_match("evilmail.example.com", "mail.example.com"));
    CHECK(!mts_mx_match("example.com", "mail.example.com"));
    /* All-digit labels are labels: a numeric MX name matches like any other. */
    CHECK(mts_mx_match("127.25.0.1.", "127.25.0.1"));
    CHECK(mts_mx_match("127.25.0.1", "*.25.0.1"));
    CHECK(!mts_mx_match("127.25.0.10", "127.25.0.1"));

    CHECK(mts_mx_match("mail.example.com", "*.example.com"));
    CHECK(mts_mx_match("MX1.EXAMPLE.com.", "*.example.COM"));
    CHECK(!mts_mx_match("example.com", "*.example.com"));
    CHECK(!mts_mx_match("a.b.example.com", "*.example.com"));
    CHECK(!mts_mx_match("mail.example.com.evil.net", "*.example.com"));
    CHECK(!mts_mx_match("mailexample.com", "*.example.com"));
    CHECK(!mts_mx_match(".example.com", "*.example.com"));
    CHECK(!mts_mx_match("mail.example.com", "*example.com"));
    CHECK(!mts_mx_match("mail.example.com", "mail.*.com"));
    CHECK(!mts_mx_match("mail.example.com", ".example.com")); /* legacy form: never */
    CHECK(!mts_mx_match("mail..example.com", "mail..example.com"));
    CHECK(!mts_mx_match("", ""));
    CHECK(!mts_mx_match(".", "."));
    CHECK(!mts_mx_match(NULL, "a"));

    char *patterns[] = {"mx1.example.net", "*.example.com"};
    CHECK_INT(mts_mx_match_any("b.example.com", patterns, 2), 1);
    CHECK_INT(mts_mx_match_any("mx1.example.net.", patterns, 2), 0);
    CHECK_INT(mts_mx_match_any("a.b.example.com", patterns, 2), -1);
    CHECK_INT(mts_mx_match_any("x", patterns, 0), -1);
    return check_exit();
}
