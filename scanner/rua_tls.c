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

#include "mts_store.h"

#define BUCKETS     16384 /* a power of two */
#define ENTRY_BYTES 64    /* an entry's own size with allocator overhead, for the bound */
#define LIMIT_TEXT  "{\"result\":\"limit\"}"

struct waiter {
    struct waiter *next;
    mts_rua_tls_done_fn done;
    void *arg;
    struct entry *entry; /* whose text answers it; NULL: LIMIT_TEXT */
};

struct entry {
    struct entry *next; /* bucket chain */
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
    struct entry *buckets[BUCKETS];
    struct waiter *ready, **ready_tail; /* answered from the loop by deliver_ev */
    struct event *deliver_ev;
    struct mts_rua_tls_stats st;
};

static size_t hash(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h & (BUCKETS - 1);
}

static size_t entry_bytes(const struct entry *e)
{
    return ENTRY_BYTES + strlen(e->key) + 1 + (e->text ? strlen(e->text) + 1 : 0);
}

static void unlink_entry(struct mts_rua_tls *t, struct entry *e)
{
    for (struct entry **p = &t->buckets[hash(e->key)]; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            return;
        }
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
        w->done(w->arg, e ? e->text : LIMIT_TEXT);
        if (e && --e->refs == 0 && e->forget)
            entry_free(e);
        free(w);
        w = next;
    }
}

/* The stored form: the fetcher's observation without the certificate chain. */
static char *result_text(json_t *obs, bool *keep)
{
    const char *result = json_string_value(json_object_get(obs, "result"));
    *keep = !result || (strcmp(result, "local-error") != 0 && strcmp(result, "queue-timeout") != 0);
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
        unlink_entry(t, e); /* asked again, it is checked again */
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
    if (!(t->deliver_ev = event_new(base, -1, 0, on_deliver, t))) {
        free(t);
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

static struct entry *find(struct mts_rua_tls *t, const char *key)
{
    for (struct entry *e = t->buckets[hash(key)]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
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
    size_t b = hash(key);
    e->next = t->buckets[b];
    t->buckets[b] = e;
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
    for (size_t b = 0; b < BUCKETS; b++)
        for (struct entry *e = t->buckets[b]; e;) {
            struct entry *next = e->next;
            for (struct waiter *w = e->waiters; w;) {
                struct waiter *wn = w->next;
                free(w);
                w = wn;
            }
            entry_free(e);
            e = next;
        }
    event_free(t->deliver_ev);
    free(t);
}
