/*
 * Why this file exists: the scanner's STARTTLS prober has to meet every way an MX host
 * misbehaves (silent, 4xx/5xx or garbage banners, endless replies, no STARTTLS, 454,
 * resets and stalls at each stage, bytes injected after the 220 to STARTTLS, TLS 1.1, bad
 * certificates) and be measured for politeness, all on loopback. One listener on
 * INADDR_ANY plays every MX host: the accepted socket's local address names the host.
 *
 * A session is an explicit state machine (enum sess_state, enter_state()). Every reply goes
 * through send_reply(), which applies the model's latency and then performs what the reply
 * leads to (close, TLS, a fault). STARTTLS upgrades the existing bufferevent with an
 * OpenSSL filter, as a real server keeps its connection. Concurrent sessions are counted per
 * local address; the maximum is what a --per-ip test checks.
 */
#include "smtp_server.h"
#include "blackhole.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>

#define LINE_MAX_LEN    1000  /* RFC 5321 4.5.3.1.4: text line, with CRLF */
#define INPUT_HIGH_WM   16384 /* stop reading a client that floods us */
#define CLOSE_GRACE_MS  1000  /* after the last reply: time for the client to close first */
#define ENDLESS_BATCH   64    /* continuation lines added each time the output drains */
#define STATS_INIT_SIZE 256

enum sess_state {
    ST_HOLD,      /* silent: read and discard until the client goes (stalls, timeouts) */
    ST_DELAY,     /* a reply waits for the model's latency */
    ST_CMD,       /* reading commands */
    ST_ENDLESS,   /* sending "220-" lines for as long as the client reads */
    ST_CLOSING,   /* last reply queued: FIN once written, then wait for the client's close */
    ST_HS_FAULT,  /* after the 220 to STARTTLS: reset or stall once the ClientHello comes */
    ST_HANDSHAKE, /* TLS handshake in progress */
    ST_RESET,     /* a RST is due: performed by settle() when the callback unwinds */
};

static const char *const state_names[] = {
    [ST_HOLD] = "hold",           [ST_DELAY] = "delay",     [ST_CMD] = "cmd",
    [ST_ENDLESS] = "endless",     [ST_CLOSING] = "closing", [ST_HS_FAULT] = "hs-fault",
    [ST_HANDSHAKE] = "handshake", [ST_RESET] = "reset",
};

/* What follows a reply once it is sent. */
enum after {
    AFTER_CMD,      /* read the next command */
    AFTER_CLOSE,    /* close (221, 421, 554, garbage, line too long) */
    AFTER_STARTTLS, /* send the injection bytes, then start TLS */
};

struct addr_stats {
    uint32_t addr; /* network order; 0 = free slot */
    unsigned cur, max;
    unsigned long total;
};

struct sess {
    struct world_smtp_server *srv;
    struct sess *prev, *next;
    struct bufferevent *bev; /* the socket's, or the TLS filter over it */
    evutil_socket_t fd;
    struct event *timer;
    enum sess_state state;
    enum after after;
    struct evbuffer *pending; /* the reply waiting for its latency */
    uint32_t local_addr;      /* network order */
    bool in_tls;
    bool greeted; /* an EHLO/HELO was accepted (since the last TLS start) */
    struct world_host host;
};

struct world_smtp_server {
    struct event_base *base;
    const struct world *w;
    struct world_ca *ca;
    SSL_CTX *ctx;
    struct evconnlistener *listener;
    struct event *sigusr1;
    char *stats_path;
    uint16_t port;
    struct sess *sessions;
    struct addr_stats *stats; /* open addressing, power-of-two size */
    size_t stats_size, stats_used;
    bool trace;
};

static void process_lines(struct sess *s);

static void enter_state(struct sess *s, enum sess_state st)
{
    if (s->srv->trace)
        fprintf(stderr, "smtp %p %s: %s -> %s\n", (void *)s, s->host.name, state_names[s->state],
                state_names[st]);
    s->state = st;
}

/* ---- per-address statistics ---------------------------------------------------------- */

static struct addr_stats *stats_slot(struct addr_stats *tab, size_t size, uint32_t addr)
{
    size_t i = (addr * 2654435761u) & (size - 1);
    while (tab[i].addr != 0 && tab[i].addr != addr)
        i = (i + 1) & (size - 1);
    return &tab[i];
}

/* The statistics of addr, created on first use; NULL when out of memory. */
static struct addr_stats *stats_get(struct world_smtp_server *srv, uint32_t addr)
{
    if (addr == 0)
        return NULL;
    if (2 * (srv->stats_used + 1) > srv->stats_size) {
        size_t nsize = srv->stats_size ? 2 * srv->stats_size : STATS_INIT_SIZE;
        struct addr_stats *ntab = calloc(nsize, sizeof *ntab);
        if (ntab == NULL)
            return NULL;
        for (size_t i = 0; i < srv->stats_size; i++)
            if (srv->stats[i].addr != 0)
                *stats_slot(ntab, nsize, srv->stats[i].addr) = srv->stats[i];
        free(srv->stats);
        srv->stats = ntab;
        srv->stats_size = nsize;
    }
    struct addr_stats *st = stats_slot(srv->stats, srv->stats_size, addr);
    if (st->addr == 0) {
        st->addr = addr;
        srv->stats_used++;
    }
    return st;
}

int world_smtp_server_write_stats(const struct world_smtp_server *srv, const char *path)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return -1;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        free(tmp);
        return -1;
    }
    fputc('{', f);
    const char *sep = "";
    for (size_t i = 0; i < srv->stats_size; i++) {
        const struct addr_stats *st = &srv->stats[i];
        char a[INET_ADDRSTRLEN];
        if (st->addr == 0 || inet_ntop(AF_INET, &st->addr, a, sizeof a) == NULL)
            continue;
        fprintf(f, "%s\n\"%s\": {\"max_concurrent\": %u, \"sessions\": %lu, \"open\": %u}", sep, a,
                st->max, st->total, st->cur);
        sep = ",";
    }
    fputs("\n}\n", f);
    int ok = !ferror(f);
    if (fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok)
        remove(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

/* ---- session lifetime ---------------------------------------------------------------- */

static void sess_free(struct sess *s)
{
    struct world_smtp_server *srv = s->srv;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        srv->sessions = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    struct addr_stats *st = stats_get(srv, s->local_addr);
    if (st != NULL && st->cur > 0)
        st->cur--;
    if (s->timer != NULL)
        event_free(s->timer);
    evbuffer_free(s->pending);
    struct bufferevent *under = s->bev != NULL ? bufferevent_get_underlying(s->bev) : NULL;
    if (under != NULL && s->state != ST_RESET) {
        /* What TLS wrote last (an alert) sits in the socket bufferevent, which dies with the
         * filter: hand it to the kernel first, best effort. The socket bufferevent keeps the
         * start of its output frozen for itself; it is about to go, so thaw it. */
        struct evbuffer *out = bufferevent_get_output(under);
        evbuffer_unfreeze(out, 1);
        evbuffer_write(out, s->fd);
    }
    if (s->bev != NULL)
        bufferevent_free(s->bev); /* closes the socket (and frees the filter's SSL) */
    else if (s->fd >= 0)
        evutil_closesocket(s->fd);
    ERR_clear_error();
    free(s);
}

/*
 * Called last by every callback: performs a RST decided deep inside it, so that no code
 * below a reply ever touches a freed session.
 */
static void settle(struct sess *s)
{
    if (s->state != ST_RESET)
        return;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    sess_free(s);
}

static void arm_timer(struct sess *s, unsigned ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    evtimer_add(s->timer, &tv);
}

/* ---- replies ------------------------------------------------------------------------- */

static void start_tls(struct sess *s);

/*
 * Puts the pending reply on the wire and does what follows it. After a delay, commands the
 * client pipelined meanwhile are handled now; otherwise process_lines() is the caller.
 */
static void flush_reply(struct sess *s, bool delayed)
{
    bufferevent_write_buffer(s->bev, s->pending);
    switch (s->after) {
    case AFTER_CMD:
        enter_state(s, ST_CMD);
        if (delayed)
            process_lines(s);
        break;
    case AFTER_CLOSE:
        /* Closing at once would turn the client's next write into a RST that can destroy
         * the reply before it is read: send FIN, then let the client close. */
        enter_state(s, ST_CLOSING);
        arm_timer(s, CLOSE_GRACE_MS);
        break;
    case AFTER_STARTTLS:
        if (s->host.smtp.injection_len > 0)
            bufferevent_write(s->bev, s->host.smtp.injection, s->host.smtp.injection_len);
        /* Plaintext the client sent before our 220 must never reach TLS (RFC 3207 5). */
        evbuffer_drain(bufferevent_get_input(s->bev),
                       evbuffer_get_length(bufferevent_get_input(s->bev)));
        if (s->host.smtp.fault != WORLD_FAULT_NONE &&
            s->host.smtp.fault_stage == WORLD_STAGE_HANDSHAKE)
            enter_state(s, ST_HS_FAULT);
        else
            start_tls(s);
        break;
    }
}

/* Queues a reply (one or more complete lines) and what follows it, after the latency. */
static void send_reply(struct sess *s, const char *text, enum after after)
{
    evbuffer_add(s->pending, text, strlen(text));
    s->after = after;
    if (s->host.smtp.latency_ms > 0) {
        enter_state(s, ST_DELAY);
        arm_timer(s, s->host.smtp.latency_ms);
    } else {
        flush_reply(s, false);
    }
}

/* The model's fault at this stage, if any: the session is reset or goes silent. */
static bool apply_fault(struct sess *s, enum world_stage stage)
{
    const struct world_smtp *m = &s->host.smtp;
    if (m->fault == WORLD_FAULT_NONE || m->fault_stage != stage)
        return false;
    enter_state(s, m->fault == WORLD_FAULT_RESET ? ST_RESET : ST_HOLD);
    return true;
}

static void add_endless_lines(struct sess *s)
{
    for (int i = 0; i < ENDLESS_BATCH; i++)
        evbuffer_add_printf(bufferevent_get_output(s->bev), "220-%s still greeting you\r\n",
                            s->host.smtp.hostname);
}

static void send_banner(struct sess *s)
{
    const struct world_smtp *m = &s->host.smtp;
    char buf[3 * WORLD_NAME_MAX + 128];
    if (apply_fault(s, WORLD_STAGE_BANNER))
        return;
    switch (m->banner) {
    case WORLD_BANNER_NORMAL:
        snprintf(buf, sizeof buf, "220 %s ESMTP mtasts-world\r\n", m->hostname);
        send_reply(s, buf, AFTER_CMD);
        break;
    case WORLD_BANNER_MULTILINE:
        snprintf(buf, sizeof buf,
                 "220-%s ESMTP mtasts-world\r\n220-No UCE, no UBE.\r\n220 %s ready\r\n",
                 m->hostname, m->hostname);
        send_reply(s, buf, AFTER_CMD);
        break;
    case WORLD_BANNER_4XX:
        snprintf(buf, sizeof buf, "421 4.3.2 %s busy, try later\r\n", m->hostname);
        send_reply(s, buf, AFTER_CLOSE);
        break;
    case WORLD_BANNER_5XX:
        snprintf(buf, sizeof buf, "554 5.3.2 %s no SMTP service here\r\n", m->hostname);
        send_reply(s, buf, AFTER_CLOSE);
        break;
    case WORLD_BANNER_NONE:
        enter_state(s, ST_HOLD);
        break;
    case WORLD_BANNER_GARBAGE:
        send_reply(s, "HTTP/1.0 400 Bad Request\r\n", AFTER_CLOSE);
        break;
    case WORLD_BANNER_ENDLESS:
        enter_state(s, ST_ENDLESS);
        add_endless_lines(s);
        break;
    }
}

static void reply_ehlo(struct sess *s)
{
    const struct world_smtp *m = &s->host.smtp;
    char buf[WORLD_NAME_MAX + 160];
    if (apply_fault(s, WORLD_STAGE_EHLO))
        return;
    if (m->ehlo_rejected) {
        send_reply(s, "550 5.7.1 EHLO rejected\r\n", AFTER_CMD);
        return;
    }
    s->greeted = true;
    snprintf(buf, sizeof buf, "250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n%s250 8BITMIME\r\n",
             m->hostname, m->starttls_offered && !s->in_tls ? "250-STARTTLS\r\n" : "");
    send_reply(s, buf, AFTER_CMD);
}

static void reply_starttls(struct sess *s)
{
    const struct world_smtp *m = &s->host.smtp;
    if (s->in_tls) {
        send_reply(s, "503 5.5.1 TLS already active\r\n", AFTER_CMD);
    } else if (!s->greeted) {
        send_reply(s, "503 5.5.1 EHLO first\r\n", AFTER_CMD);
    } else if (!m->starttls_offered) {
        send_reply(s, "502 5.5.1 STARTTLS not offered\r\n", AFTER_CMD);
    } else if (!apply_fault(s, WORLD_STAGE_STARTTLS)) {
        if (m->starttls_rejected)
            send_reply(s, "454 4.7.0 TLS not available due to local problem\r\n", AFTER_CMD);
        else
            send_reply(s, "220 2.0.0 Ready to start TLS\r\n", AFTER_STARTTLS);
    }
}

static bool is_verb(const char *line, size_t n, const char *verb)
{
    size_t v = strlen(verb);
    return n >= v && strncasecmp(line, verb, v) == 0 && (n == v || line[v] == ' ');
}

/* One command line (without its CRLF). */
static void do_command(struct sess *s, const char *line, size_t n)
{
    if (is_verb(line, n, "EHLO") || is_verb(line, n, "HELO"))
        reply_ehlo(s);
    else if (is_verb(line, n, "STARTTLS"))
        reply_starttls(s);
    else if (is_verb(line, n, "QUIT"))
        send_reply(s, "221 2.0.0 Bye\r\n", AFTER_CLOSE);
    else if (is_verb(line, n, "NOOP") || is_verb(line, n, "RSET"))
        send_reply(s, "250 2.0.0 OK\r\n", AFTER_CMD);
    else
        send_reply(s, "502 5.5.2 Command not implemented here\r\n", AFTER_CMD);
}

/* Handles every complete line buffered, as long as the session stays reading commands. */
static void process_lines(struct sess *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    while (s->state == ST_CMD) {
        struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_CRLF);
        if (eol.pos < 0 && evbuffer_get_length(in) < LINE_MAX_LEN)
            return;
        if (eol.pos < 0 || eol.pos > LINE_MAX_LEN - 2) {
            evbuffer_drain(in, evbuffer_get_length(in));
            send_reply(s, "500 5.5.0 Line too long\r\n", AFTER_CLOSE);
            return;
        }
        size_t n;
        char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
        if (line == NULL)
            return;
        do_command(s, line, n);
        free(line);
    }
}

/* ---- callbacks ----------------------------------------------------------------------- */

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct sess *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    switch (s->state) {
    case ST_CMD:
        process_lines(s);
        break;
    case ST_HS_FAULT:
        /* The ClientHello arrived: now cut the handshake as the model says. */
        enter_state(s, s->host.smtp.fault == WORLD_FAULT_RESET ? ST_RESET : ST_HOLD);
        evbuffer_drain(in, evbuffer_get_length(in));
        break;
    case ST_DELAY:
    case ST_HANDSHAKE:
        break; /* keep it for after the reply (bounded by the high watermark) */
    default:
        evbuffer_drain(in, evbuffer_get_length(in));
        break;
    }
    settle(s);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct sess *s = arg;
    if (s->state == ST_CLOSING && !s->in_tls)
        shutdown(s->fd, SHUT_WR); /* over TLS, the bytes may still sit below the filter */
    else if (s->state == ST_ENDLESS)
        add_endless_lines(s);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct sess *s = arg;
    if ((what & BEV_EVENT_CONNECTED) && s->state == ST_HANDSHAKE) {
        s->in_tls = true;
        s->greeted = false; /* RFC 3207 4.2: the client must say EHLO again */
        enter_state(s, ST_CMD);
        process_lines(s);
        settle(s);
        return;
    }
    sess_free(s); /* EOF, reset, or a failed handshake */
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sess *s = arg;
    if (s->state == ST_DELAY) {
        flush_reply(s, true);
        settle(s);
    } else if (s->state == ST_CLOSING) {
        sess_free(s);
    }
}

static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
    struct world_smtp_server *srv = arg;
    struct sess *s = SSL_get_app_data(ssl);
    const struct world_tls *tls = &s->host.smtp.tls;
    char sni[WORLD_NAME_MAX];
    const char *name = NULL;
    /* A valid certificate follows the SNI when the SNI is a name of this very host, so one
     * shared MX host can answer for every name that points at it. */
    if (tls->cert == WORLD_CERT_VALID && tls->cert_name[0] != '*' &&
        world_ca_client_hello_sni(ssl, sni, sizeof sni) == 0) {
        struct world_host other;
        if (world_lookup_host_by_name(srv->w, sni, &other) == 0 &&
            other.addr.s_addr == s->local_addr)
            name = sni;
    }
    if (world_ca_apply(srv->ca, ssl, tls, name) != 0) {
        *al = SSL_AD_HANDSHAKE_FAILURE;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

static void start_tls(struct sess *s)
{
    SSL *ssl = SSL_new(s->srv->ctx);
    struct bufferevent *tls = NULL;
    if (ssl != NULL) {
        SSL_set_app_data(ssl, s);
        tls = bufferevent_openssl_filter_new(s->srv->base, s->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
    }
    if (tls == NULL) {
        SSL_free(ssl);
        enter_state(s, ST_CLOSING);
        arm_timer(s, CLOSE_GRACE_MS);
        return;
    }
    s->bev = tls; /* the filter owns the socket's bufferevent from now on */
    enter_state(s, ST_HANDSHAKE);
    bufferevent_setcb(tls, read_cb, write_cb, event_cb, s);
    bufferevent_setwatermark(tls, EV_READ, 0, INPUT_HIGH_WM);
    bufferevent_enable(tls, EV_READ | EV_WRITE);
}

static void accept_cb(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *arg)
{
    (void)lst;
    (void)peer;
    (void)peerlen;
    struct world_smtp_server *srv = arg;
    struct sockaddr_storage local;
    socklen_t sl = sizeof local;
    struct sess *s = calloc(1, sizeof *s);
    bool known = s != NULL && getsockname(fd, (struct sockaddr *)&local, &sl) == 0 &&
                 local.ss_family == AF_INET &&
                 world_lookup_host_by_addr(srv->w, (struct sockaddr *)&local, &s->host) == 0;
    if (known && s->host.smtp.connect == WORLD_CONNECT_REFUSE) {
        /* A refused attempt still counts as a session tried: politeness tests count them. */
        struct addr_stats *st = stats_get(srv, ((struct sockaddr_in *)&local)->sin_addr.s_addr);
        if (st != NULL)
            st->total++;
    }
    if (!known || s->host.smtp.connect == WORLD_CONNECT_REFUSE) {
        /* No MX host there: a RST is the nearest a shared listener gets to a refusal. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        evutil_closesocket(fd);
        free(s);
        return;
    }
    s->srv = srv;
    s->fd = fd;
    s->local_addr = ((struct sockaddr_in *)&local)->sin_addr.s_addr;
    s->timer = evtimer_new(srv->base, timer_cb, s);
    s->pending = evbuffer_new();
    s->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    s->next = srv->sessions;
    if (s->next != NULL)
        s->next->prev = s;
    srv->sessions = s;
    struct addr_stats *st = stats_get(srv, s->local_addr);
    if (st != NULL) {
        st->total++;
        if (++st->cur > st->max)
            st->max = st->cur;
    }
    if (s->timer == NULL || s->pending == NULL || s->bev == NULL) {
        sess_free(s);
        return;
    }
    bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
    bufferevent_setwatermark(s->bev, EV_READ, 0, INPUT_HIGH_WM);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
    if (s->host.smtp.connect == WORLD_CONNECT_TIMEOUT ||
        s->host.smtp.connect == WORLD_CONNECT_TARPIT)
        enter_state(s, ST_HOLD);
    else
        send_banner(s);
    settle(s);
}

static void accept_error_cb(struct evconnlistener *lst, void *arg)
{
    (void)lst;
    (void)arg;
    fprintf(stderr, "mtasts-world: smtp accept: %s\n", strerror(errno));
}

static void sigusr1_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct world_smtp_server *srv = arg;
    if (world_smtp_server_write_stats(srv, srv->stats_path) != 0)
        fprintf(stderr, "mtasts-world: %s: %s\n", srv->stats_path, strerror(errno));
}

struct world_smtp_server *world_smtp_server_new(struct event_base *base, const struct world *w,
                                                struct world_ca *ca, uint16_t port,
                                                const char *stats_path, char *err, size_t errlen)
{
    struct world_smtp_server *srv = calloc(1, sizeof *srv);
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
    if (stats_path != NULL) {
        srv->stats_path = strdup(stats_path);
        srv->sigusr1 = evsignal_new(base, SIGUSR1, sigusr1_cb, srv);
        if (srv->stats_path == NULL || srv->sigusr1 == NULL || evsignal_add(srv->sigusr1, NULL)) {
            snprintf(err, errlen, "cannot set up the statistics");
            goto fail;
        }
    }
    srv->listener = world_listen_any(base, port, accept_cb, srv, &srv->port, "smtp", err, errlen);
    if (srv->listener == NULL)
        goto fail;
    evconnlistener_set_error_cb(srv->listener, accept_error_cb);
    return srv;
fail:
    free(srv->stats_path);
    srv->stats_path = NULL; /* nothing to report from a server that never ran */
    world_smtp_server_free(srv);
    return NULL;
}

uint16_t world_smtp_server_port(const struct world_smtp_server *srv)
{
    return srv->port;
}

void world_smtp_server_free(struct world_smtp_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->listener != NULL)
        evconnlistener_free(srv->listener);
    while (srv->sessions != NULL)
        sess_free(srv->sessions);
    if (srv->stats_path != NULL && world_smtp_server_write_stats(srv, srv->stats_path) != 0)
        fprintf(stderr, "mtasts-world: %s: %s\n", srv->stats_path, strerror(errno));
    if (srv->sigusr1 != NULL)
        event_free(srv->sigusr1);
    free(srv->stats_path);
    free(srv->stats);
    SSL_CTX_free(srv->ctx);
    free(srv);
}
