/*
 * Why: lists from the wild carry upper case, trailing dots, Unicode names, IP addresses,
 * URLs and junk. Every name the scanner sees must be the one form a DNS query and a
 * de-duplication hash agree on (lower-case A-labels, no trailing dot), and every rejected
 * line must say why in a word that can be counted. libidn2 is called only for names that
 * need it (non-ASCII, or an xn-- label to verify), which keeps plain ASCII lists fast.
 */
#include "mts_name.h"
#include "mts_input.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const reject_names[MTS_REJ_COUNT] = {
    [MTS_REJ_NONE] = "none",
    [MTS_REJ_LINE_TOO_LONG] = "line-too-long",
    [MTS_REJ_CSV_FORMAT] = "csv-format",
    [MTS_REJ_EMPTY_LABEL] = "empty-label",
    [MTS_REJ_IP_ADDRESS] = "ip-address",
    [MTS_REJ_IDN_INVALID] = "idn-invalid",
    [MTS_REJ_INVALID_CHAR] = "invalid-char",
    [MTS_REJ_UNDERSCORE] = "underscore",
    [MTS_REJ_LABEL_TOO_LONG] = "label-too-long",
    [MTS_REJ_LABEL_HYPHEN] = "label-hyphen",
    [MTS_REJ_NAME_TOO_LONG] = "name-too-long",
    [MTS_REJ_SINGLE_LABEL] = "single-label",
    [MTS_REJ_NUMERIC_TLD] = "numeric-tld",
};

const char *mts_reject_name(int reason)
{
    if (reason < 0 || reason >= MTS_REJ_COUNT)
        return "?";
    return reject_names[reason];
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_ip_literal(char *s, size_t len)
{
    unsigned char addr[16];
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s[len - 1] = '\0';
        bool ip = inet_pton(AF_INET6, s + 1, addr) == 1 || inet_pton(AF_INET, s + 1, addr) == 1;
        s[len - 1] = ']';
        return ip;
    }
    return inet_pton(AF_INET, s, addr) == 1 ||
           (strchr(s, ':') && inet_pton(AF_INET6, s, addr) == 1);
}

/* True when libidn2 must see the name: a non-ASCII byte or an "xn--" label to verify. */
static bool needs_idna(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] >= 0x80)
            return true;
        if ((i == 0 || s[i - 1] == '.') && len - i >= 4 && (s[i] == 'x' || s[i] == 'X') &&
            (s[i + 1] == 'n' || s[i + 1] == 'N') && s[i + 2] == '-' && s[i + 3] == '-')
            return true;
    }
    return false;
}

/* Lower-cases in place and checks the characters; returns 0 or a reason. */
static int fold_and_check_chars(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            s[i] = (char)(c - 'A' + 'a');
        else if (c == '_')
            return MTS_REJ_UNDERSCORE;
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return MTS_REJ_INVALID_CHAR;
    }
    return 0;
}

static int check_labels(const char *s, size_t len, unsigned flags)
{
    size_t labels = 0, start = 0;
    bool numeric = true;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            continue;
        }
        size_t llen = i - start;
        if (llen == 0)
            return MTS_REJ_EMPTY_LABEL;
        if (llen > 63)
            return MTS_REJ_LABEL_TOO_LONG;
        if (s[start] == '-' || s[i - 1] == '-')
            return MTS_REJ_LABEL_HYPHEN;
        numeric = strspn(s + start, "0123456789") >= llen;
        labels++;
        start = i + 1;
    }
    if (len > MTS_NAME_MAX)
        return MTS_REJ_NAME_TOO_LONG;
    if (labels < 2 && !(flags & MTS_NAME_ALLOW_SINGLE_LABEL))
        return MTS_REJ_SINGLE_LABEL;
    if (numeric)
        return MTS_REJ_NUMERIC_TLD;
    return 0;
}

int mts_name_normalize(const char *in, size_t len, unsigned flags, char out[MTS_NAME_MAX + 1],
                       const char **detail)
{
    char buf[MTS_LINE_MAX + 1];
    if (detail)
        *detail = NULL;
    while (len > 0 && is_blank(in[0])) {
        in++;
        len--;
    }
    while (len > 0 && is_blank(in[len - 1]))
        len--;
    if (len > MTS_LINE_MAX)
        return MTS_REJ_LINE_TOO_LONG;
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0)
        return MTS_REJ_EMPTY_LABEL;
    memcpy(buf, in, len);
    buf[len] = '\0';

    if (is_ip_literal(buf, len))
        return MTS_REJ_IP_ADDRESS;
    if (needs_idna(buf, len)) {
        char *ascii = NULL;
        int rc = idn2_to_ascii_8z(buf, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc == IDN2_MALLOC)
            return MTS_IN_ENOMEM;
        if (rc == IDN2_TOO_BIG_DOMAIN)
            return MTS_REJ_NAME_TOO_LONG;
        if (rc == IDN2_TOO_BIG_LABEL || rc == IDN2_PUNYCODE_BIG_OUTPUT)
            return MTS_REJ_LABEL_TOO_LONG;
        if (rc != IDN2_OK) {
            if (detail)
                *detail = idn2_strerror_name(rc);
            return MTS_REJ_IDN_INVALID;
        }
        len = strlen(ascii);
        if (len > MTS_NAME_MAX) {
            idn2_free(ascii);
            return MTS_REJ_NAME_TOO_LONG;
        }
        memcpy(buf, ascii, len + 1);
        idn2_free(ascii);
    }
    int reason = fold_and_check_chars(buf, len);
    if (!reason)
        reason = check_labels(buf, len, flags);
    if (reason)
        return reason;
    memcpy(out, buf, len + 1);
    return 0;
}
