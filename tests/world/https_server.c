/*
 * Why this file exists: the scanner's policy fetcher must be exercised against every way a
 * policy host fails in the wild (bad certificates, wrong status, redirects, wrong media
 * type, huge, slow, stalled or reset bodies), at benchmark scale, without the Internet.
 * One libevent listener on INADDR_ANY plays all of them: the accepted socket's local
 * address names the host, the TLS SNI names the domain, and the model says what to do.
 *
 * Each connection is a small state machine (enum conn_state, enter_state()). The TLS
 * configuration happens in the client_hello callback, before OpenSSL picks the version, so
 * that a model's TLS version cap and its certificate both apply. Bodies are added to the
 * output by reference to the world's memory, so a connection costs its TLS state plus a
 * bounded request head, whatever the body size.
 */
#include "https_server.h"
#include "blackhole.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <zlib.h>

#define HEAD_MAX        8192 /* request head bound: longer heads get 431 */
#define HEAD_TIMEOUT_S  60   /* a client that never finishes its request head */
#define POLICY_PATH     "/.well-known/mta-sts.txt"
#define DRIP_DEFAULT_MS 1000
/* A reset mid-body comes this long after the last bytes: an RST arriving with unread data
   makes the client's kernel drop that data, and the head must reach the client first. */
#define RESET_DELAY_MS 200

enum conn_state {
    ST_HOLD,      /* connect = TIMEOUT: accepted, never answered, input discarded */
    ST_HANDSHAKE, /* TLS handshake in progress */
    ST_HEAD,      /* reading the request head */
    ST_LATENCY,   /* head read, waiting latency_ms before answering */
    ST_DRIP,      /* body dripping on a timer */
    ST_FLUSH,     /* everything queued; close cleanly once written */
    ST_CUT,       /* STALL/RESET: cut_after bytes queued; then silence, or RST shortly after */
    ST_STALLED,   /* silent until the client goes away */
};

static const char *const state_names[] = {
    [ST_HOLD] = "hold", [ST_HANDSHAKE] = "handshake", [ST_HEAD] = "head", [ST_LATENCY] = "latency",
    [ST_DRIP] = "drip", [ST_FLUSH] = "flush",         [ST_CUT] = "cut",   [ST_STALLED] = "stalled",
};

struct conn {
    struct world_https_server *srv;
    struct conn *prev, *next;
    struct bufferevent *bev;
    struct event *timer;
    enum conn_state state;
    struct sockaddr_storage local;
    bool policy_request; /* GET of POLICY_PATH: the model answers; otherwise 404 */
    bool head_only;      /* HEAD request: no body */
    int error_status;    /* 400/405/431 for requests the model never sees; else 0 */
    struct world_https h;
    size_t sent; /* body bytes queued */
};

struct world_https_server {
    struct event_base *base;
    const struct world *w;
    struct world_ca *ca;
    SSL_CTX *ctx;
    struct evconnlistener *listener;
    uint16_t port;
    struct conn *conns;
    struct world_https_stats stats;
    bool trace;
};

static void enter_state(struct conn *c, enum conn_state s)
{
    if (c->srv->trace)
        fprintf(stderr, "https %p: %s -> %s\n", (void *)c, state_names[c->state], state_names[s]);
    c->state = s;
}

static void conn_free(struct conn *c)
{
    struct world_https_server *srv = c->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->timer != NULL)
        event_free(c->timer);
    if (c->bev != NULL)
        bufferevent_free(c->bev);
    srv->stats.open--;
    free(c);
}

/* Ends the connection with a TCP RST: SO_LINGER 0 makes close() abort it. */
static void conn_reset(struct conn *c)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    conn_free(c);
}

/* Ends the connection after a TLS close_notify (best effort: the socket is non-blocking). */
static void conn_close(struct conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    if (ssl != NULL && SSL_is_init_finished(ssl))
        SSL_shutdown(ssl);
    ERR_clear_error();
    conn_free(c);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 410:
        return "Gone";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static void queue_body(struct conn *c, size_t n)
{
    const unsigned char *body = world_https_body(&c->h);
    if (n > c->h.body_len - c->sent)
        n = c->h.body_len - c->sent;
    if (n > 0)
        evbuffer_add_reference(bufferevent_get_output(c->bev), body + c->sent, n, NULL, NULL);
    c->sent += n;
}

/* The whole body gzip-coded into out; false when zlib fails. */
static bool add_gzip_body(struct evbuffer *out, const struct world_https *h)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    uLong cap = deflateBound(&z, (uLong)h->body_len);
    struct evbuffer_iovec v;
    bool ok = evbuffer_reserve_space(out, (ev_ssize_t)cap, &v, 1) == 1;
    if (ok) {
        z.next_in = (Bytef *)world_https_body(h);
        z.avail_in = (uInt)h->body_len;
        z.next_out = v.iov_base;
        z.avail_out = (uInt)cap;
        ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
        v.iov_len = ok ? z.total_out : 0;
        evbuffer_commit_space(out, &v, 1);
    }
    deflateEnd(&z);
    return ok;
}

/* A complete gzip-coded answer, sent in one piece (the speed keys do not apply). */
static void respond_gzip(struct conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev), *body = evbuffer_new();
    struct world_https *h = &c->h;
    if (!body || !add_gzip_body(body, h)) {
        evbuffer_add_printf(out,
                            "HTTP/1.1 500 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            reason_phrase(500));
    } else {
        evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", h->status, reason_phrase(h->status));
        if (h->content_type[0] != '\0')
            evbuffer_add_printf(out, "Content-Type: %s\r\n", h->content_type);
        evbuffer_add_printf(out,
                            "Content-Encoding: gzip\r\nContent-Length: %zu\r\nConnection: "
                            "close\r\n\r\n",
                            evbuffer_get_length(body));
        if (!c->head_only)
            evbuffer_add_buffer(out, body);
    }
    if (body)
        evbuffer_free(body);
    enter_state(c, ST_FLUSH);
}

static void arm_timer(struct conn *c, unsigned ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* Sends the answer the model (or a request error) calls for. */
static void respond(struct conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->error_status != 0 || !c->policy_request) {
        static const char msg[] = "not found\n";
        int status = c->error_status != 0 ? c->error_status : 404;
        evbuffer_add_printf(out,
                            "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n",
                            status, reason_phrase(status), sizeof msg - 1);
        if (!c->head_only)
            evbuffer_add(out, msg, sizeof msg - 1);
        enter_state(c, ST_FLUSH);
        return;
    }
    struct world_https *h = &c->h;
    if (h->gzip) {
        respond_gzip(c);
        return;
    }
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", h->status, reason_phrase(h->status));
    if (h->content_type[0] != '\0')
        evbuffer_add_printf(out, "Content-Type: %s\r\n", h->content_type);
    if (h->location[0] != '\0')
        evbuffer_add_printf(out, "Location: %s\r\n", h->location);
    if (h->content_encoding[0] != '\0')
        evbuffer_add_printf(out, "Content-Encoding: %s\r\n", h->content_encoding);
    evbuffer_add_printf(out, "Content-Length: %zu\r\nConnection: close\r\n\r\n", h->body_len);
    if (c->head_only) {
        enter_state(c, ST_FLUSH);
        return;
    }
    switch (h->speed) {
    case WORLD_SPEED_NORMAL:
        queue_body(c, h->body_len);
        enter_state(c, ST_FLUSH);
        break;
    case WORLD_SPEED_DRIP:
        queue_body(c, h->drip_bytes > 0 ? h->drip_bytes : 1);
        enter_state(c, c->sent < h->body_len ? ST_DRIP : ST_FLUSH);
        if (c->state == ST_DRIP)
            arm_timer(c, h->drip_interval_ms > 0 ? h->drip_interval_ms : DRIP_DEFAULT_MS);
        break;
    case WORLD_SPEED_STALL:
    case WORLD_SPEED_RESET:
        queue_body(c, h->cut_after);
        enter_state(c, ST_CUT);
        break;
    }
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    if (c->state == ST_LATENCY) {
        respond(c);
    } else if (c->state == ST_CUT) {
        conn_reset(c);
    } else if (c->state == ST_DRIP) {
        queue_body(c, c->h.drip_bytes > 0 ? c->h.drip_bytes : 1);
        if (c->sent < c->h.body_len)
            arm_timer(c, c->h.drip_interval_ms > 0 ? c->h.drip_interval_ms : DRIP_DEFAULT_MS);
        else
            enter_state(c, ST_FLUSH);
    }
}

/* Parses the request head in the first len bytes of data (NUL-free, ends with CRLF CRLF). */
static void parse_head(struct conn *c, const char *data, size_t len)
{
    const char *eol = memchr(data, '\n', len);
    size_t line = eol != NULL ? (size_t)(eol - data) : len;
    if (line > 0 && data[line - 1] == '\r')
        line--;
    const char *sp1 = memchr(data, ' ', line);
    const char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', line - (size_t)(sp1 + 1 - data)) : NULL;
    if (sp1 == NULL || sp2 == NULL || (size_t)(data + line - sp2) < 9 ||
        strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        c->error_status = 400;
        return;
    }
    size_t mlen = (size_t)(sp1 - data), plen = (size_t)(sp2 - sp1 - 1);
    c->head_only = mlen == 4 && memcmp(data, "HEAD", 4) == 0;
    if (!c->head_only && !(mlen == 3 && memcmp(data, "GET", 3) == 0)) {
        c->error_status = 405;
        return;
    }
    c->policy_request = plen == sizeof POLICY_PATH - 1 && memcmp(sp1 + 1, POLICY_PATH, plen) == 0;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->state != ST_HEAD) {
        evbuffer_drain(in, evbuffer_get_length(in)); /* nothing more is expected */
        return;
    }
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    size_t avail = evbuffer_get_length(in);
    if (end.pos < 0 && avail < HEAD_MAX)
        return;
    size_t len = end.pos >= 0 ? (size_t)end.pos + 4 : HEAD_MAX;
    if (end.pos < 0 || len > HEAD_MAX) {
        c->error_status = 431;
    } else {
        const char *head = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        if (head == NULL || memchr(head, '\0', len) != NULL)
            c->error_status = 400;
        else
            parse_head(c, head, len);
    }
    evbuffer_drain(in, evbuffer_get_length(in));
    bufferevent_set_timeouts(bev, NULL, NULL);
    c->srv->stats.requests++;
    if (c->error_status == 0 && c->policy_request && c->h.latency_ms > 0) {
        enter_state(c, ST_LATENCY);
        arm_timer(c, c->h.latency_ms);
        return;
    }
    respond(c);
}

/* Called when the output buffer has drained: the moment to close, reset or go silent. */
static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct conn *c = arg;
    if (c->state == ST_FLUSH) {
        conn_close(c);
    } else if (c->state == ST_CUT) {
        if (c->h.speed == WORLD_SPEED_RESET)
            arm_timer(c, RESET_DELAY_MS);
        else
            enter_state(c, ST_STALLED);
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        c->srv->stats.handshakes++;
        enter_state(c, ST_HEAD);
        return;
    }
    /* EOF, error, or the head timeout: the client is gone or will never ask. */
    ERR_clear_error();
    conn_free(c);
}

static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
    struct world_https_server *srv = arg;
    struct conn *c = SSL_get_app_data(ssl);
    char sni[WORLD_NAME_MAX];
    bool have_sni = world_ca_client_hello_sni(ssl, sni, sizeof sni) == 0;
    if (world_lookup_https(srv->w, (const struct sockaddr *)&c->local, have_sni ? sni : NULL,
                           &c->h) != 0 ||
        world_ca_apply(srv->ca, ssl, &c->h.tls, NULL) != 0) {
        *al = SSL_AD_HANDSHAKE_FAILURE;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

static void accept_cb(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *arg)
{
    (void)lst;
    (void)peer;
    (void)peerlen;
    struct world_https_server *srv = arg;
    struct conn *c = calloc(1, sizeof *c);
    socklen_t sl = sizeof c->local;
    struct world_host host;
    if (c == NULL || getsockname(fd, (struct sockaddr *)&c->local, &sl) != 0) {
        free(c);
        evutil_closesocket(fd);
        return;
    }
    srv->stats.accepted++;
    bool known = world_lookup_host_by_addr(srv->w, (const struct sockaddr *)&c->local, &host) == 0;
    if (!known || host.https.connect == WORLD_CONNECT_REFUSE) {
        /* Nothing listens there: the nearest a shared listener gets to a refusal. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->srv = srv;
    c->timer = evtimer_new(srv->base, timer_cb, c);
    SSL *ssl = NULL;
    if (host.https.connect == WORLD_CONNECT_TIMEOUT || host.https.connect == WORLD_CONNECT_TARPIT) {
        c->state = ST_HOLD;
        c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    } else {
        c->state = ST_HANDSHAKE;
        ssl = SSL_new(srv->ctx);
        if (ssl != NULL) {
            SSL_set_app_data(ssl, c);
            c->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                    BEV_OPT_CLOSE_ON_FREE);
        }
    }
    if (c->timer == NULL || c->bev == NULL) {
        if (c->bev == NULL) {
            SSL_free(ssl);
            evutil_closesocket(fd);
        }
        if (c->timer != NULL)
            event_free(c->timer);
        if (c->bev != NULL)
            bufferevent_free(c->bev);
        free(c);
        return;
    }
    c->next = srv->conns;
    if (c->next != NULL)
        c->next->prev = c;
    srv->conns = c;
    if (++srv->stats.open > srv->stats.max_open)
        srv->stats.max_open = srv->stats.open;
    struct timeval head_timeout = {.tv_sec = HEAD_TIMEOUT_S};
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    bufferevent_set_timeouts(c->bev, c->state == ST_HOLD ? NULL : &head_timeout, NULL);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void accept_error_cb(struct evconnlistener *lst, void *arg)
{
    (void)arg;
    (void)lst;
    /* EMFILE and friends: keep serving the connections we have; the next accept retries. */
    fprintf(stderr, "mtasts-world: https accept: %s\n", strerror(errno));
}

struct world_https_server *world_https_server_new(struct event_base *base, const struct world *w,
                                                  struct world_ca *ca, uint16_t port, char *err,
                                                  size_t errlen)
{
    struct world_https_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->base = base;
    srv->w = w;
    srv->ca = ca;
    srv->trace = getenv("WORLD_TRACE") != NULL;
    srv->ctx = world_ca_server_ctx_new();
    if (srv->ctx == NULL) {
        snprintf(err, errlen, "cannot create the TLS context");
        goto fail;
    }
    SSL_CTX_set_client_hello_cb(srv->ctx, client_hello_cb, srv);
    srv->listener = world_listen_any(base, port, accept_cb, srv, &srv->port, "https", err, errlen);
    if (srv->listener == NULL)
        goto fail;
    evconnlistener_set_error_cb(srv->listener, accept_error_cb);
    return srv;
fail:
    world_https_server_free(srv);
    return NULL;
}

uint16_t world_https_server_port(const struct world_https_server *srv)
{
    return srv->port;
}

void world_https_server_get_stats(const struct world_https_server *srv,
                                  struct world_https_stats *out)
{
    *out = srv->stats;
}

void world_https_server_free(struct world_https_server *srv)
{
    if (srv == NULL)
        return;
    while (srv->conns != NULL)
        conn_free(srv->conns);
    if (srv->listener != NULL)
        evconnlistener_free(srv->listener);
    SSL_CTX_free(srv->ctx);
    free(srv);
}
