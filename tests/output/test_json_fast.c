/*
 * The store's fast JSON reader against jansson: on plain input it must take the fast path
 * and build a tree equal to jansson's; on anything it gives up on, jansson decides; and it
 * must never accept what jansson refuses. The pruned read (members left out) gives up
 * exactly where the full one does and builds jansson's tree less those members. Checked on
 * fixed cases, on records shaped like the scanner's, and on a few hundred thousand random
 * mutations of valid documents.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "json_fast.h"
#include "mts_store.h"
#include "util.h"

/* Members the pruned reads below leave out: numbers, strings, objects, arrays. */
static const char *const drop[] = {"ms", "host", "a", "no", "answer", NULL};

/*
 * fast must agree with jansson wherever it answers, and the pruned read must answer
 * exactly where fast does, with jansson's tree less the dropped members; returns whether
 * fast answered.
 */
static bool agrees(const char *text, size_t len)
{
    json_t *fast = mts_json_fast_parse(text, len);
    json_t *pruned = mts_json_fast_parse_pruned(text, len, drop);
    if ((fast == NULL) != (pruned == NULL))
        fprintf(stderr, "pruned read %s on [%.*s]\n", pruned ? "answered" : "gave up", (int)len,
                text);
    CHECK((fast == NULL) == (pruned == NULL));
    if (!fast) {
        json_decref(pruned);
        return false;
    }
    json_t *ref = json_loadb(text, len, 0, NULL);
    bool same = ref && json_equal(fast, ref);
    if (!same)
        fprintf(stderr, "disagree on [%.*s]\n", (int)len, text);
    CHECK(same);
    if (ref && pruned) {
        mts_json_prune(ref, drop);
        if (!json_equal(pruned, ref))
            fprintf(stderr, "pruned tree differs on [%.*s]\n", (int)len, text);
        CHECK(json_equal(pruned, ref));
    }
    json_decref(pruned);
    json_decref(fast);
    json_decref(ref);
    return true;
}

static void check_plain(const char *text)
{
    if (!agrees(text, strlen(text))) {
        fprintf(stderr, "fast path not taken on [%s]\n", text);
        CHECK(!"fast path taken");
    }
}

static void check_refused(const char *text)
{
    json_t *fast = mts_json_fast_parse(text, strlen(text));
    if (fast)
        fprintf(stderr, "accepted [%s]\n", text);
    CHECK(fast == NULL);
    json_decref(fast);
    /* The same array or object as the value of a member the pruned read drops: checked all
       the same (a scalar is refused only at the top). */
    if (text[0] != '[' && text[0] != '{')
        return;
    char wrapped[512];
    snprintf(wrapped, sizeof wrapped, "{\"ms\":%s}", text);
    json_t *pruned = mts_json_fast_parse_pruned(wrapped, strlen(wrapped), drop);
    if (pruned)
        fprintf(stderr, "pruned read accepted [%s]\n", wrapped);
    CHECK(pruned == NULL);
    json_decref(pruned);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(void)
{
    static const char *const plain[] = {"{}",
                                        "[]",
                                        " \t\r\n{ } ",
                                        "{\"a\":1}",
                                        "[1,-1,0,-0,9223372036854775807]",
                                        "[-9223372036854775808]",
                                        "[1.5,-0.25,1e3,1E+3,2.5e-3,0.0,12.0]",
                                        "[true,false,null]",
                                        "{\"a\":{\"b\":[{\"c\":\"d\"}]},\"e\":[]}",
                                        "{\"\":\"\"}",
                                        "{\"s\":\"q\\\"b\\\\s\\/f\\bf\\fn\\nr\\rt\\t\"}",
                                        "{\"k\\n\":\"v\"}",
                                        "{\"a\":1,\"a\":2}",
                                        "[ 1 , 2 ,\n3 ]",
                                        "{ \"a\" : [ ] , \"b\" : { } }",
                                        "[\"~\x7f\"]"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        check_plain(plain[i]);

    /* Invalid JSON, and valid JSON the fast reader leaves to jansson. */
    static const char *const refused[] = {"",
                                          " ",
                                          "1",
                                          "\"s\"",
                                          "{",
                                          "[",
                                          "{\"a\"}",
                                          "{\"a\":}",
                                          "{\"a\":1,}",
                                          "[1,]",
                                          "[01]",
                                          "[1.]",
                                          "[.5]",
                                          "[-]",
                                          "[1e]",
                                          "[+1]",
                                          "[tru]",
                                          "[nul]",
                                          "{} x",
                                          "[]]",
                                          "{a:1}",
                                          "[\"unterminated]",
                                          "[\"tab\there\"]",
                                          "[\"\\x\"]",
                                          "[\"\\u0041\"]",
                                          "[\"\xc3\xa9\"]",
                                          "[99999999999999999999]",
                                          "[1e999]",
                                          "{\"a\":1 \"b\":2}",
                                          "[1 2]"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        check_refused(refused[i]);

    /* Nesting deeper than the fast reader goes: jansson's (it reads this fine). */
    char deep[2 * 100 + 1];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    check_refused(deep);
    json_t *ref = json_loads(deep, 0, NULL);
    CHECK(ref != NULL);
    json_decref(ref);

    /* Records shaped like the scanner's, as the store writes them. */
    for (long i = 0; i < 50; i++) {
        json_t *rec = util_domain_record("fast", "d.example", i, (int)(i % 2));
        char *text = json_dumps(rec, MTS_STORE_JSON_FLAGS);
        check_plain(text);
        free(text);
        json_decref(rec);
    }

    /* Random mutations of valid documents: wherever the fast reader answers, jansson
       must give the same tree. */
    static const char *const seeds[] = {
        "{\"v\":1,\"dns\":{\"mx\":{\"ms\":12.5,\"answer\":[{\"pref\":10,\"host\":\"mx.\"}]}},"
        "\"ok\":true,\"no\":null,\"s\":\"a\\\"b\\n\"}",
        "[1,-2.5e-3,[],{},[{\"a\":[true,false]}],\"x\\\\y\"]"};
    const char alphabet[] = "{}[]:,\"\\ 0123456789.-+eEtrufalsn\x01\x7f\xc3";
    size_t answered = 0, tried = 0;
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        size_t n = strlen(seeds[s]);
        for (int round = 0; round < 150000; round++) {
            char buf[256];
            memcpy(buf, seeds[s], n);
            size_t len = n;
            for (int m = 1 + (int)(next() % 3); m > 0; m--) {
                size_t at = next() % len;
                char c = alphabet[next() % (sizeof alphabet - 1)];
                switch (next() % 3) {
                case 0:
                    buf[at] = c;
                    break;
                case 1: /* delete */
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                    break;
                default: /* insert */
                    if (len < sizeof buf) {
                        memmove(buf + at + 1, buf + at, len - at);
                        buf[at] = c;
                        len++;
                    }
                }
            }
            tried++;
            answered += agrees(buf, len);
        }
    }
    /* Some mutations stay valid and plain: the fast path was exercised, not bypassed. */
    CHECK(answered > tried / 100);
    fprintf(stderr, "mutations: %zu, answered by the fast reader: %zu\n", tried, answered);
    return check_exit();
}
