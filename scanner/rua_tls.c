/*
 * Why: many domains send their TLS reports to the same few https: collectors, and a
 * scanner must not knock on one host thousands of times to learn one fact. One handshake
 * per (host, port) per scan; every domain that names the host gets the same observation.
 */
#include "rua_tls.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mts_htab.h"
#include "mts_store.h"
#include "mts_util.h"
#include "mts_vocab.h"

#define BUCKETS     1024 /* to start with; the table grows */
#define ENTRY_BYTES 64   /* an entry's own size with allocator overhead, for the bound */

struct waiter {
    struct waiter *next;
    mts_rua_tls_done_fn done;
    void *arg;
    struct entry *entry; /* whose text answers it; NULL: the result limit */
};

struct entry {
    struct mts_htab_node node; /* in t->entries, keyed by "host:port" */
    struct mts_rua_tls *t;
    char *key;  /* "host:port" */
    char *text; /* RUATLS, once the check ended */
    struct waiter *waiters;
    unsigned refs; /* waiters queued for delivery that point here */
    bool forget;   /* not kept: freed once its waiters are answered */
};

struct mts_rua_tls {
    struct event_base *base;
    struct mts_https *https;
    size_t max_bytes;
    struct mts_htab entries;
    struct waiter *ready, **ready_tail; /* answered from the loop by deliver_ev */
    struct event *deliver_ev;
    struct mts_rua_tls_stats st;
};

static uint64_t hash(const char *key)
{
    return mts_fnv1a(MTS_FNV1A_BASIS, key, strlen(key));
}

static struct entry *entry_of(const struct mts_htab_node *node)
{
    return MTS_CONTAINER_OF(node, struct entry, node);
}

static bool entry_is(const struct mts_htab_node *node, const void *key)
{
    return strcmp(entry_of(node)->key, key) == 0;
}

static size_t entry_bytes(const struct entry *e)
{
    return ENTRY_BYTES + strlen(e->key) + 1 + (e->text ? strlen(e->text) + 1 : 0);
}

static void entry_free(struct entry *e)
{
    free(e->key);
    free(e->text);
    free(e);
}

static void queue_ready(struct mts_rua_tls *t, struct waiter *w)
{
    w->next = NULL;
    *t->ready_tail = w;
    t->ready_tail = &w->next;
    if (w->entry)
        w->entry->refs++;
    event_active(t->deliver_ev, EV_TIMEOUT, 1);
}

/* Calls the waiter with its entry's text, or with the result limit when it has none. */
static void answer(const struct waiter *w)
{
    char limit[64];
    if (w->entry) {
        w->done(w->arg, w->entry->text);
        return;
    }
    snprintf(limit, sizeof limit, "{\"result\":\"%s\"}", mts_fetch_result_name(MTS_FETCH_LIMIT));
    w->done(w->arg, limit);
}

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
    struct mts_rua_tls *t = arg;
    (void)fd;
    (void)what;
    /* Take the whole list: callbacks may queue new answers for the next round. */
    struct waiter *w = t->ready;
    t->ready = NULL;
    t->ready_tail = &t->ready;
    while (w) {
        struct waiter *next = w->next;
        struct entry *e = w->entry;
        answer(w);
        if (e && --e->refs == 0 && e->forget)
            entry_free(e);
        free(w);
        w = next;
    }
}

/* The stored form: the fetcher's observation without the certificate chain. */
static char *result_text(json_t *obs, bool *keep)
{
    enum mts_fetch_result r =
        mts_fetch_result_parse(json_string_value(json_object_get(obs, "result")));
    *keep = r != MTS_FETCH_LOCAL_ERROR && r != MTS_FETCH_QUEUE_TIMEOUT;
    json_object_del(json_object_get(obs, "tls"), "chain");
    return json_dumps(obs, MTS_STORE_JSON_FLAGS);
}

static void on_checked(void *arg, json_t *obs, const unsigned char *body, size_t body_len)
{
    struct entry *e = arg;
    struct mts_rua_tls *t = e->t;
    bool keep = true;
    (void)body;
    (void)body_len;
    e->text = result_text(obs, &keep);
    json_decref(obs);
    if (!e->text || !keep) {
        mts_htab_remove(&t->entries, &e->node); /* asked again, it is checked again */
        e->forget = true;
    } else {
        t->st.bytes += e->text ? strlen(e->text) + 1 : 0;
    }
    if (e->forget)
        t->st.bytes -= ENTRY_BYTES + strlen(e->key) + 1;
    while (e->waiters) {
        struct waiter *w = e->waiters;
        e->waiters = w->next;
        queue_ready(t, w);
    }
    if (e->forget && e->refs == 0)
        entry_free(e);
}

int mts_rua_tls_new(struct mts_rua_tls **out, struct event_base *base, struct mts_https *https,
                    size_t max_bytes)
{
    struct mts_rua_tls *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return -ENOMEM;
    t->base = base;
    t->https = https;
    t->max_bytes = max_bytes;
    t->ready_tail = &t->ready;
    if (mts_htab_init(&t->entries, BUCKETS) != 0 ||
        !(t->deliver_ev = event_new(base, -1, 0, on_deliver, t))) {
        mts_htab_fini(&t->entries, NULL);
        free(t);
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

static struct entry *find(struct mts_rua_tls *t, const char *key)
{
    struct mts_htab_node *node = mts_htab_find(&t->entries, hash(key), entry_is, key);
    return node ? entry_of(node) : NULL;
}

/* A new entry whose check has started, linked into the table; NULL with *rc set. */
static struct entry *start_check(struct mts_rua_tls *t, const char *key, const char *host,
                                 uint16_t port, const char *const *addrs, size_t naddrs, int *rc)
{
    struct entry *e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        free(e);
        *rc = -ENOMEM;
        return NULL;
    }
    e->t = t;
    *rc = mts_https_handshake(t->https, host, port, addrs, naddrs, on_checked, e);
    if (*rc != 0) {
        entry_free(e);
        return NULL;
    }
    e->node.hash = hash(key);
    mts_htab_insert(&t->entries, &e->node);
    t->st.bytes += entry_bytes(e);
    t->st.checks++;
    return e;
}

int mts_rua_tls_request(struct mts_rua_tls *t, const char *host, uint16_t port,
                        const char *const *addrs, size_t naddrs, mts_rua_tls_done_fn done,
                        void *arg)
{
    char key[300];
    if (!t || !host || !done ||
        snprintf(key, sizeof key, "%s:%u", host, (unsigned)port) >= (int)sizeof key)
        return -EINVAL;
    struct waiter *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->done = done;
    w->arg = arg;
    t->st.requests++;
    struct entry *e = find(t, key);
    if (!e && t->max_bytes && t->st.bytes + ENTRY_BYTES + 2 * sizeof key > t->max_bytes) {
        t->st.limited++;
        queue_ready(t, w); /* answered "limit": the table is full */
        return 0;
    }
    int rc = 0;
    if (!e && !(e = start_check(t, key, host, port, addrs, naddrs, &rc))) {
        free(w);
        return rc;
    }
    w->entry = e;
    if (e->text) {
        queue_ready(t, w);
    } else {
        w->next = e->waiters;
        e->waiters = w;
    }
    return 0;
}

void mts_rua_tls_stats(const struct mts_rua_tls *t, struct mts_rua_tls_stats *st)
{
    *st = t->st;
}

/* An entry still in the table at the end, with the requests that wait on it. */
static void entry_release(struct mts_htab_node *node)
{
    struct entry *e = entry_of(node);
    for (struct waiter *w = e->waiters; w;) {
        struct waiter *next = w->next;
        free(w);
        w = next;
    }
    entry_free(e);
}

void mts_rua_tls_free(struct mts_rua_tls *t)
{
    if (!t)
        return;
    for (struct waiter *w = t->ready; w;) {
        struct waiter *next = w->next;
        if (w->entry && --w->entry->refs == 0 && w->entry->forget)
            entry_free(w->entry);
        free(w);
        w = next;
    }
    mts_htab_fini(&t->entries, entry_release);
    event_free(t->deliver_ev);
    free(t);
}
