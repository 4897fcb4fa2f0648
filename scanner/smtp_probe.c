/*
 * Why: the MX side of MTA-STS is decided by what a sending MTA would see: does the server
 * answer, offer STARTTLS after EHLO, and present a certificate valid for the MX name? The
 * Internet's mail servers include every kind of broken and hostile peer (endless banners,
 * one byte per minute, resets, garbage, bytes injected after "220 Ready to start TLS"), so
 * each session is an explicit state machine with one entry point (enter_state) where every
 * stage arms its own timer, a whole-session deadline that nothing can extend, and hard
 * bounds on reply lines. Every way a session ends is a typed result stored in the record;
 * nothing is only logged.
 */
#include "smtp_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <ldns/ldns.h>
#include <openssl/err.h>

#include "conn_limit.h"
#include "local_error.h"
#include "mts_util.h"
#include "mts_defaults.h"
#include "tls_observe.h"

/* Most bytes counted (and discarded) as STARTTLS injection straight from the socket. */
#define INJECTION_READ_MAX 65536
/* Connection attempts that fail for lack of local resources before the session gives up. */
#define LOCAL_TRIES_MAX 8

enum smtp_state {
    SMTP_WAIT_SLOT, /* waiting for a connection slot (politeness) */
    SMTP_BACKOFF,   /* this machine had no socket to give: waiting to try again */
    SMTP_CONNECT,   /* TCP connect in progress */
    SMTP_BANNER,    /* reading the greeting */
    SMTP_EHLO,      /* EHLO sent, reading capabilities */
    SMTP_STARTTLS,  /* STARTTLS sent, reading the reply */
    SMTP_HANDSHAKE, /* TLS handshake on the same connection */
    SMTP_QUIT,      /* QUIT sent, reading the goodbye */
    SMTP_DONE,      /* record complete; the session is freed */
    SMTP_STATE_COUNT
};

static const char *const state_names[SMTP_STATE_COUNT] = {
    "wait-slot", "backoff", "connect", "banner", "ehlo", "starttls", "handshake", "quit", "done"};

static const char *smtp_state_name(enum smtp_state st)
{
    return st < SMTP_STATE_COUNT ? state_names[st] : "?";
}

/* The record's "stage" for a session that ends while in a state. */
static const enum mts_smtp_stage state_stage[SMTP_STATE_COUNT] = {
    MTS_SMTP_STAGE_CONNECT,   MTS_SMTP_STAGE_CONNECT, MTS_SMTP_STAGE_CONNECT,
    MTS_SMTP_STAGE_BANNER,    MTS_SMTP_STAGE_EHLO,    MTS_SMTP_STAGE_STARTTLS,
    MTS_SMTP_STAGE_HANDSHAKE, MTS_SMTP_STAGE_QUIT,    MTS_SMTP_STAGE_DONE};

/* The record field holding the reply lines read in a state. */
static const char *const state_lines[SMTP_STATE_COUNT] = {
    NULL, NULL, NULL, "banner", "ehlo", "starttls", NULL, "quit", NULL};

struct session;
TAILQ_HEAD(session_list, session);

struct mts_smtp {
    struct event_base *base;
    char *ehlo_name, *scan_id;
    unsigned port;
    unsigned stage_ms[SMTP_STATE_COUNT]; /* per-state timeout; 0: none */
    unsigned session_ms, max_line, max_lines;
    SSL_CTX *ssl_ctx;
    int own_ctx;
    struct mts_conn_limit *limit;
    int own_limit;
    void (*trace)(void *arg, const char *line);
    void *trace_arg;
    struct session_list sessions;
    struct mts_smtp_stats stats;
};

/* Progress of the reply being read. */
struct reply {
    int code;        /* of the first line; 0 before it */
    unsigned nlines; /* lines so far */
    json_t *lines;   /* the record's array for this state (borrowed from the record) */
};

struct session {
    TAILQ_ENTRY(session) link;
    struct mts_smtp *smtp;
    char *host, *addr; /* host: the MX name in presentation form */
    bool hostname;     /* every label is a host name label: SNI and name check apply */
    struct sockaddr_storage sa;
    int salen;
    enum smtp_state state;
    struct mts_conn_slot *slot;
    struct bufferevent *bev; /* the plain socket, then the TLS filter over it */
    SSL *ssl;                /* owned by the filter */
    struct event *stage_timer, *deadline;
    json_t *rec;
    struct reply reply;
    int have_result;
    enum mts_smtp_result result;
    enum mts_smtp_stage stage;
    double t_state;              /* monotonic ms when the current state began */
    double t_connect;            /* monotonic ms at connect, 0 before */
    double ms[SMTP_STATE_COUNT]; /* time spent per state */
    unsigned char visited[SMTP_STATE_COUNT];
    int quit_replied;     /* a complete reply to QUIT arrived */
    unsigned local_tries; /* connection attempts this machine could not make */
    void (*done)(void *arg, json_t *record);
    void *arg;
};

static void enter_state(struct session *s, enum smtp_state next);
static void finish(struct session *s);
static void local_failure(struct session *s, int err);

__attribute__((format(printf, 2, 3))) static void trace(struct session *s, const char *fmt, ...)
{
    if (s->smtp->trace == NULL)
        return;
    char line[512];
    int n = snprintf(line, sizeof(line), "smtp %s %s [%s]: ", s->host, s->addr,
                     smtp_state_name(s->state));
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    s->smtp->trace(s->smtp->trace_arg, line);
}

/* Durations to 0.1 ms (non-negative; no libm needed). */
static double round_ms(double ms)
{
    return (double)(long long)(ms * 10 + 0.5) / 10;
}

/* Decides the outcome once; the first decision wins (later failures, e.g. in QUIT, don't). */
static void set_result(struct session *s, enum mts_smtp_result r, const char *detail)
{
    if (s->have_result)
        return;
    s->have_result = 1;
    s->result = r;
    /* A refusal belongs to the connect stage even when noticed while awaiting the banner. */
    s->stage = r == MTS_SMTP_CONNECT_REFUSED ? MTS_SMTP_STAGE_CONNECT : state_stage[s->state];
    if (detail)
        json_object_set_new(s->rec, "detail", json_string(detail));
    trace(s, "result %s (%s)", mts_smtp_result_name(r), detail ? detail : "");
}

/* Ends the session with r: politely through QUIT when the connection allows it. */
static void fail(struct session *s, enum mts_smtp_result r, const char *detail, int quit)
{
    set_result(s, r, detail);
    enter_state(s, quit ? SMTP_QUIT : SMTP_DONE);
}

static void send_line(struct session *s, const char *cmd, const char *arg)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    evbuffer_add_printf(out, "%s%s%s\r\n", cmd, arg ? " " : "", arg ? arg : "");
}

int mts_smtp_reply_line(int *code, const char *line, size_t len)
{
    if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
        line[2] < '0' || line[2] > '9')
        return -1;
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return -1;
    int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (*code && c != *code)
        return -1;
    *code = c;
    return len == 3 || line[3] == ' ';
}

size_t mts_smtp_capability(const char *line, size_t len, char *buf, size_t cap)
{
    size_t n = 0;
    if (len > 4 && cap > 0) {
        const char *kw = line + 4;
        size_t max = len - 4;
        while (n < max && n < cap - 1 && kw[n] != ' ' && kw[n] != '=') {
            char c = kw[n];
            buf[n++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
        }
    }
    if (cap > 0)
        buf[n] = '\0';
    return n;
}

/* Adds the keyword of an EHLO line ("250-SIZE 1000" -> "SIZE") to "capabilities". */
static void add_capability(struct session *s, const char *line, size_t len)
{
    char buf[64];
    size_t n = mts_smtp_capability(line, len, buf, sizeof(buf));
    if (n == 0)
        return;
    json_t *caps = json_object_get(s->rec, "capabilities");
    if (caps == NULL) {
        caps = json_array();
        json_object_set_new(s->rec, "capabilities", caps);
    }
    json_array_append_new(caps, mts_json_bytes(buf, n));
}

static int has_capability(struct session *s, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(s->rec, "capabilities"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return 1;
    }
    return 0;
}

/* A complete reply arrived in the current state. */
static void on_reply(struct session *s)
{
    int code = s->reply.code;
    switch (s->state) {
    case SMTP_BANNER:
        if (code == 220)
            enter_state(s, SMTP_EHLO);
        else if (code >= 400 && code < 500)
            fail(s, MTS_SMTP_BANNER_4XX, NULL, 1);
        else if (code >= 500)
            fail(s, MTS_SMTP_BANNER_5XX, NULL, 1);
        else
            fail(s, MTS_SMTP_BANNER_MALFORMED, "unexpected code", 1);
        break;
    case SMTP_EHLO:
        if (code != 250)
            fail(s, MTS_SMTP_EHLO_REJECTED, NULL, 1);
        else if (!has_capability(s, "STARTTLS"))
            fail(s, MTS_SMTP_NO_STARTTLS, NULL, 1);
        else
            enter_state(s, SMTP_STARTTLS);
        break;
    case SMTP_STARTTLS:
        if (code == 220)
            enter_state(s, SMTP_HANDSHAKE);
        else
            fail(s, MTS_SMTP_STARTTLS_REJECTED, NULL, 1);
        break;
    case SMTP_QUIT:
        s->quit_replied = 1;
        enter_state(s, SMTP_DONE);
        break;
    default:
        abort(); /* replies are read only in the states above */
    }
}

/* A reply broke a bound or the grammar. */
static void on_bad_reply(struct session *s, enum mts_smtp_result r, const char *detail)
{
    if (s->state == SMTP_QUIT) {
        enter_state(s, SMTP_DONE);
        return;
    }
    if (s->state == SMTP_BANNER && r == MTS_SMTP_ERROR)
        r = MTS_SMTP_BANNER_MALFORMED;
    /* The rest of the garbage is of no use: QUIT, then read only the goodbye. */
    evbuffer_drain(bufferevent_get_input(s->bev),
                   evbuffer_get_length(bufferevent_get_input(s->bev)));
    fail(s, r, detail, 1);
}

static int reading_state(enum smtp_state st)
{
    return st == SMTP_BANNER || st == SMTP_EHLO || st == SMTP_STARTTLS || st == SMTP_QUIT;
}

/* Consumes complete reply lines while the current state reads replies. */
static void process_input(struct session *s)
{
    struct mts_smtp *smtp = s->smtp;
    while (reading_state(s->state)) {
        struct evbuffer *in = bufferevent_get_input(s->bev);
        size_t avail = evbuffer_get_length(in), eol_len = 0;
        struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
        size_t len = eol.pos < 0 ? avail : (size_t)eol.pos;
        if (len > smtp->max_line) {
            char *head = malloc(smtp->max_line);
            if (head) {
                evbuffer_copyout(in, head, smtp->max_line);
                json_array_append_new(s->reply.lines, mts_json_bytes(head, smtp->max_line));
                free(head);
            }
            on_bad_reply(s, MTS_SMTP_TOO_LONG, "line");
            continue;
        }
        if (eol.pos < 0)
            return; /* wait for the rest of the line */
        if (s->reply.nlines == smtp->max_lines) {
            on_bad_reply(s, MTS_SMTP_TOO_LONG, "lines");
            continue;
        }
        char *line = malloc(len + 1);
        if (line == NULL) {
            on_bad_reply(s, MTS_SMTP_ERROR, "out of memory");
            continue;
        }
        evbuffer_remove(in, line, len);
        evbuffer_drain(in, eol_len);
        s->reply.nlines++;
        json_array_append_new(s->reply.lines, mts_json_bytes(line, len));
        int last = mts_smtp_reply_line(&s->reply.code, line, len);
        if (last >= 0 && s->state == SMTP_EHLO && s->reply.code == 250 && s->reply.nlines > 1)
            add_capability(s, line, len);
        free(line);
        if (last < 0)
            on_bad_reply(s, MTS_SMTP_ERROR, "malformed reply");
        else if (last)
            on_reply(s);
    }
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    process_input(arg);
}

/* Why a TLS handshake stopped: the first OpenSSL error queued by the filter, if any. */
static void handshake_failed(struct session *s)
{
    unsigned long e, first = 0;
    while ((e = bufferevent_get_openssl_error(s->bev)) != 0)
        if (first == 0)
            first = e;
    if (s->ssl && SSL_get0_peer_certificate(s->ssl))
        json_object_set_new(s->rec, "tls", mts_tls_observe(s->ssl));
    if (first == 0 || ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        fail(s, MTS_SMTP_RESET, NULL, 0);
        return;
    }
    char text[256];
    ERR_error_string_n(first, text, sizeof(text));
    fail(s, MTS_SMTP_HANDSHAKE_FAILED, text, 0);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct session *s = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        if (s->state == SMTP_CONNECT)
            enter_state(s, SMTP_BANNER);
        else if (s->state == SMTP_HANDSHAKE) {
            json_object_set_new(s->rec, "tls", mts_tls_observe(s->ssl));
            set_result(s, MTS_SMTP_OK, NULL);
            enter_state(s, SMTP_QUIT);
        }
        return;
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        return;
    int err = EVUTIL_SOCKET_ERROR();
    /* A reset before the server sent a single byte refuses the session, whether it came
       as an answer to the SYN or right after it: which of the two the client notices
       first is a race, so both are one outcome. */
    bool nothing_received =
        s->reply.nlines == 0 && evbuffer_get_length(bufferevent_get_input(s->bev)) == 0;
    if (err == ECONNREFUSED || (err == ECONNRESET && !(what & BEV_EVENT_EOF) && nothing_received &&
                                (s->state == SMTP_CONNECT || s->state == SMTP_BANNER))) {
        fail(s, MTS_SMTP_CONNECT_REFUSED, err == ECONNRESET ? "reset before the greeting" : NULL,
             0);
        return;
    }
    /* Lines that arrived with the close still count. */
    if (reading_state(s->state))
        process_input(s);
    switch (s->state) {
    case SMTP_CONNECT:
        if (err == ETIMEDOUT)
            fail(s, MTS_SMTP_CONNECT_TIMEOUT, NULL, 0);
        else if (mts_errno_is_local(err))
            local_failure(s, err);
        else
            fail(s, MTS_SMTP_ERROR, evutil_socket_error_to_string(err), 0);
        break;
    case SMTP_BANNER:
    case SMTP_EHLO:
    case SMTP_STARTTLS:
        fail(s, MTS_SMTP_RESET, (what & BEV_EVENT_EOF) ? "eof" : evutil_socket_error_to_string(err),
             0);
        break;
    case SMTP_HANDSHAKE:
        handshake_failed(s);
        break;
    case SMTP_QUIT:
        enter_state(s, SMTP_DONE);
        break;
    default: /* already done */
        break;
    }
}

static void stage_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;
    (void)fd;
    (void)what;
    switch (s->state) {
    case SMTP_BACKOFF:
        enter_state(s, SMTP_CONNECT);
        break;
    case SMTP_CONNECT:
        fail(s, MTS_SMTP_CONNECT_TIMEOUT, NULL, 0);
        break;
    case SMTP_EHLO: /* the greeting worked: the connection is still usable for QUIT */
        fail(s, MTS_SMTP_TIMEOUT, NULL, 1);
        break;
    case SMTP_QUIT:
        enter_state(s, SMTP_DONE);
        break;
    case SMTP_DONE:
        finish(s);
        break;
    default: /* banner, starttls, handshake: the peer's protocol state is unknown */
        fail(s, MTS_SMTP_TIMEOUT, NULL, 0);
        break;
    }
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;
    (void)fd;
    (void)what;
    trace(s, "session deadline");
    if (s->state == SMTP_BACKOFF)
        fail(s, MTS_SMTP_LOCAL_ERROR, "deadline while backing off", 0);
    else
        fail(s, s->state == SMTP_CONNECT ? MTS_SMTP_CONNECT_TIMEOUT : MTS_SMTP_TIMEOUT, "deadline",
             0);
}

/* Counts and discards whatever the peer sent after the 220 to STARTTLS (never TLS input). */
static void drain_injection(struct session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    size_t n = evbuffer_get_length(in);
    evbuffer_drain(in, n);
    evutil_socket_t fd = bufferevent_getfd(s->bev);
    char buf[4096];
    size_t extra = 0;
    ssize_t r;
    while (fd >= 0 && extra < INJECTION_READ_MAX &&
           (r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
        extra += (size_t)r;
    json_object_set_new(s->rec, "injection", json_integer((json_int_t)(n + extra)));
    if (n + extra)
        trace(s, "%zu bytes after the 220 to STARTTLS", n + extra);
}

/* The connection could not be made for lack of something on this machine: try again after
   a back-off, or give up with a local error. Never a fact about the server. */
static void local_failure(struct session *s, int err)
{
    if (s->bev)
        bufferevent_free(s->bev);
    s->bev = NULL;
    if (++s->local_tries >= LOCAL_TRIES_MAX) {
        fail(s, MTS_SMTP_LOCAL_ERROR, strerror(err), 0);
        return;
    }
    trace(s, "local error %s, try %u", strerror(err), s->local_tries);
    enter_state(s, SMTP_BACKOFF);
}

static void start_connect(struct session *s)
{
    /* The socket is ours, so that its errno is read before anything else can change it. */
    int fd = socket(s->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        if (mts_errno_is_local(err))
            local_failure(s, err);
        else
            fail(s, MTS_SMTP_ERROR, strerror(err), 0);
        return;
    }
    s->bev = bufferevent_socket_new(s->smtp->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (s->bev == NULL) {
        close(fd);
        local_failure(s, ENOMEM);
        return;
    }
    bufferevent_setcb(s->bev, read_cb, NULL, event_cb, s);
    bufferevent_enable(s->bev, EV_READ);
    if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&s->sa, s->salen) < 0) {
        int err = EVUTIL_SOCKET_ERROR();
        if (mts_errno_is_local(err))
            local_failure(s, err);
        else
            fail(s, err == ECONNREFUSED ? MTS_SMTP_CONNECT_REFUSED : MTS_SMTP_ERROR,
                 evutil_socket_error_to_string(err), 0);
    }
}

static void start_tls(struct session *s)
{
    drain_injection(s);
    SSL *ssl = SSL_new(s->smtp->ssl_ctx);
    /* A name that is not a host name cannot be sent as SNI nor match a certificate: the
       record says so ("hostname": false) and the chain is still observed. */
    int rc = ssl == NULL ? -ENOMEM : s->hostname ? mts_tls_expect_host(ssl, s->host) : 0;
    if (rc < 0) {
        SSL_free(ssl);
        fail(s, MTS_SMTP_ERROR, rc == -ENOMEM ? "out of memory" : "host name refused", 0);
        return;
    }
    /* On failure the filter may own parts of ssl already: leak them rather than risk a
       double free (only when memory runs out). */
    struct bufferevent *tls = bufferevent_openssl_filter_new(
        s->smtp->base, s->bev, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    if (tls == NULL) {
        fail(s, MTS_SMTP_ERROR, "out of memory", 0);
        return;
    }
    s->bev = tls;
    s->ssl = ssl;
    bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
    bufferevent_setcb(tls, read_cb, NULL, event_cb, s);
    bufferevent_enable(tls, EV_READ);
}

static void arm_timer(struct session *s, unsigned ms)
{
    evtimer_del(s->stage_timer);
    if (ms == 0)
        return;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(s->stage_timer, &tv);
}

/*
 * The one place where a session changes state: accounts the time of the state it leaves,
 * arms the new state's timer, and performs the new state's entry action.
 */
static void enter_state(struct session *s, enum smtp_state next)
{
    struct mts_smtp *smtp = s->smtp;
    double t = mts_now_ms();
    if (s->state != SMTP_WAIT_SLOT && s->state != SMTP_BACKOFF)
        s->ms[s->state] += t - s->t_state;
    trace(s, "-> %s", smtp_state_name(next));
    s->state = next;
    s->t_state = t;
    s->visited[next] = 1;
    s->reply.code = 0;
    s->reply.nlines = 0;
    s->reply.lines = NULL;
    if (state_lines[next]) {
        s->reply.lines = json_array();
        json_object_set_new(s->rec, state_lines[next], s->reply.lines);
    }
    arm_timer(s, next == SMTP_DONE ? 0 : smtp->stage_ms[next]);

    switch (next) {
    case SMTP_WAIT_SLOT:
        break;
    case SMTP_BACKOFF:
        arm_timer(s, mts_local_backoff_ms(s->local_tries));
        break;
    case SMTP_CONNECT: {
        /* The session deadline runs from the first attempt; back-offs count against it. */
        if (!s->t_connect) {
            s->t_connect = t;
            struct timeval tv = {smtp->session_ms / 1000, (smtp->session_ms % 1000) * 1000};
            evtimer_add(s->deadline, &tv);
        }
        start_connect(s);
        break;
    }
    case SMTP_BANNER:
        break;
    case SMTP_EHLO:
        send_line(s, "EHLO", smtp->ehlo_name);
        break;
    case SMTP_STARTTLS:
        send_line(s, "STARTTLS", NULL);
        break;
    case SMTP_HANDSHAKE:
        start_tls(s);
        break;
    case SMTP_QUIT:
        send_line(s, "QUIT", NULL);
        break;
    case SMTP_DONE:
        /* Close now (politeness), report from the loop: callers up the stack may still
           look at the session (process_input's loop, event_cb). */
        if (s->bev)
            bufferevent_free(s->bev);
        s->bev = NULL;
        s->ssl = NULL;
        mts_conn_release(smtp->limit, s->slot);
        s->slot = NULL;
        evtimer_del(s->deadline);
        event_active(s->stage_timer, EV_TIMEOUT, 1);
        break;
    case SMTP_STATE_COUNT:
        abort();
    }
}

static void session_free(struct session *s)
{
    if (s->bev)
        bufferevent_free(s->bev);
    if (s->stage_timer)
        event_free(s->stage_timer);
    if (s->deadline)
        event_free(s->deadline);
    mts_conn_release(s->smtp->limit, s->slot);
    json_decref(s->rec);
    free(s->host);
    free(s->addr);
    free(s);
}

static void finish(struct session *s)
{
    struct mts_smtp *smtp = s->smtp;
    if (!s->have_result)
        abort(); /* every path into DONE decides the result first */
    enum mts_smtp_stage stage = s->stage;
    /* An observation that completed but whose goodbye did not: say so in the stage. */
    if (s->result == MTS_SMTP_OK)
        stage = s->quit_replied ? MTS_SMTP_STAGE_DONE : MTS_SMTP_STAGE_QUIT;
    /* A stage that received no line at all leaves no empty array behind. */
    for (int st = 0; st < SMTP_STATE_COUNT; st++) {
        json_t *l = state_lines[st] ? json_object_get(s->rec, state_lines[st]) : NULL;
        if (l && json_array_size(l) == 0)
            json_object_del(s->rec, state_lines[st]);
    }
    json_object_set_new(s->rec, "result", json_string(mts_smtp_result_name(s->result)));
    json_object_set_new(s->rec, "stage", json_string(mts_smtp_stage_name(stage)));
    json_t *ms = json_object();
    for (int st = SMTP_CONNECT; st < SMTP_DONE; st++)
        if (s->visited[st])
            json_object_set_new(ms, state_names[st], json_real(round_ms(s->ms[st])));
    json_object_set_new(ms, "total",
                        json_real(s->t_connect ? round_ms(mts_now_ms() - s->t_connect) : 0));
    json_object_set_new(s->rec, "ms", ms);

    smtp->stats.sessions--;
    smtp->stats.finished++;
    smtp->stats.by_result[s->result]++;
    TAILQ_REMOVE(&smtp->sessions, s, link);
    void (*done)(void *, json_t *) = s->done;
    void *arg = s->arg;
    json_t *rec = s->rec;
    s->rec = NULL;
    session_free(s);
    done(arg, rec);
}

static void slot_ready(void *arg, struct mts_conn_slot *slot)
{
    struct session *s = arg;
    if (mts_conn_slot_expired(slot)) {
        fail(s, MTS_SMTP_QUEUE_TIMEOUT, "no connection slot to the address in time", 0);
        return;
    }
    enter_state(s, SMTP_CONNECT);
}

static int parse_addr(struct session *s, const char *addr, unsigned port)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)&s->sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&s->sa;
    memset(&s->sa, 0, sizeof(s->sa));
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        s->salen = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        s->salen = sizeof *in6;
        return 0;
    }
    return -EINVAL;
}

static double wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1e3;
}

/* Whether name (wire form) is a well-formed name of at least one label: labels of 1 to 63
   octets, 255 octets in all, ending at the root exactly at name + len. */
static bool wire_name_ok(const unsigned char *name, size_t len)
{
    if (name == NULL || len < 2 || len > 255)
        return false;
    size_t o = 0;
    while (o < len && name[o] != 0) {
        if (name[o] > 63)
            return false;
        o += 1 + name[o];
    }
    return o == len - 1 && o > 0;
}

/* Whether every label holds only letters, digits, '-' and '_' (names seen as hosts). */
static bool wire_is_hostname(const unsigned char *name)
{
    for (size_t o = 0; name[o] != 0; o += 1 + name[o])
        for (size_t i = 1; i <= name[o]; i++) {
            unsigned char c = name[o + i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_'))
                return false;
        }
    return true;
}

/* The name in presentation form as the domain record writes an MX host: ldns's escapes,
   lower case, no trailing dot. NULL on ENOMEM. */
static char *wire_name_text(const unsigned char *name, size_t len)
{
    ldns_rdf *rdf = ldns_dname_new_frm_data((uint16_t)len, name);
    char *text = rdf ? ldns_rdf2str(rdf) : NULL;
    ldns_rdf_deep_free(rdf);
    if (text == NULL)
        return NULL;
    size_t n = strlen(text);
    if (n > 1 && text[n - 1] == '.')
        text[n - 1] = '\0';
    for (char *p = text; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return text;
}

int mts_smtp_probe(struct mts_smtp *smtp, const unsigned char *name, size_t name_len,
                   const char *addr, void (*done)(void *arg, json_t *record), void *arg)
{
    if (addr == NULL || done == NULL || !wire_name_ok(name, name_len))
        return -EINVAL;
    struct session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->smtp = smtp;
    s->done = done;
    s->arg = arg;
    int rc = parse_addr(s, addr, smtp->port);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->host = wire_name_text(name, name_len);
    s->hostname = wire_is_hostname(name);
    s->addr = strdup(addr);
    s->stage_timer = evtimer_new(smtp->base, stage_timeout_cb, s);
    s->deadline = evtimer_new(smtp->base, deadline_cb, s);
    s->rec = json_pack("{s:i}", "v", 1);
    if (smtp->scan_id)
        json_object_set_new(s->rec, "scan", json_string(smtp->scan_id));
    if (s->host)
        json_object_set_new(s->rec, "host", json_string(s->host));
    if (!s->hostname)
        json_object_set_new(s->rec, "hostname", json_false());
    json_object_set_new(s->rec, "addr", json_string(addr));
    json_object_set_new(s->rec, "port", json_integer(smtp->port));
    json_object_set_new(s->rec, "t_start", json_real(wall_time()));
    /* Placeholders keep the documented key order; finish() fills them in. */
    json_object_set_new(s->rec, "result", json_string(""));
    json_object_set_new(s->rec, "stage", json_string(""));
    if (!s->host || !s->addr || !s->stage_timer || !s->deadline || !s->rec) {
        session_free(s);
        return -ENOMEM;
    }
    s->state = SMTP_WAIT_SLOT;
    s->slot = mts_conn_acquire(smtp->limit, addr, slot_ready, s);
    if (s->slot == NULL) {
        session_free(s);
        return -ENOMEM;
    }
    TAILQ_INSERT_TAIL(&smtp->sessions, s, link);
    smtp->stats.started++;
    if (++smtp->stats.sessions > smtp->stats.max_sessions)
        smtp->stats.max_sessions = smtp->stats.sessions;
    return 0;
}

static int ehlo_name_ok(const char *name)
{
    if (name == NULL || *name == 0 || strlen(name) > 255)
        return 0;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127)
            return 0;
    return 1;
}

static unsigned or_default(unsigned v, unsigned def)
{
    return v ? v : def;
}

int mts_smtp_new(struct mts_smtp **out, struct event_base *base, const struct mts_smtp_opts *o)
{
    if (out == NULL || base == NULL || o == NULL || !ehlo_name_ok(o->ehlo_name) || o->port > 65535)
        return -EINVAL;
    struct mts_smtp *smtp = calloc(1, sizeof *smtp);
    if (smtp == NULL)
        return -ENOMEM;
    TAILQ_INIT(&smtp->sessions);
    smtp->base = base;
    unsigned stage_ms = MTS_DEFAULT_TIMEOUT_SMTP_MS;
    smtp->port = or_default(o->port, MTS_DEFAULT_SMTP_PORT);
    smtp->stage_ms[SMTP_CONNECT] = or_default(o->connect_ms, MTS_DEFAULT_TIMEOUT_CONNECT_MS);
    smtp->stage_ms[SMTP_BANNER] = or_default(o->banner_ms, stage_ms);
    smtp->stage_ms[SMTP_EHLO] = or_default(o->ehlo_ms, stage_ms);
    smtp->stage_ms[SMTP_STARTTLS] = or_default(o->starttls_ms, stage_ms);
    smtp->stage_ms[SMTP_HANDSHAKE] = or_default(o->handshake_ms, stage_ms);
    smtp->stage_ms[SMTP_QUIT] = or_default(o->quit_ms, MTS_DEFAULT_SMTP_QUIT_MS);
    smtp->session_ms = or_default(o->session_ms, MTS_DEFAULT_SMTP_SESSION_STAGES * stage_ms);
    smtp->max_line = or_default(o->max_line, MTS_DEFAULT_SMTP_MAX_LINE);
    smtp->max_lines = or_default(o->max_lines, MTS_DEFAULT_SMTP_MAX_LINES);
    smtp->trace = o->trace;
    smtp->trace_arg = o->trace_arg;
    int rc = -ENOMEM;
    smtp->ehlo_name = strdup(o->ehlo_name);
    if (o->scan_id && (smtp->scan_id = strdup(o->scan_id)) == NULL)
        goto fail;
    if (smtp->ehlo_name == NULL)
        goto fail;
    smtp->ssl_ctx = o->ssl_ctx;
    if (smtp->ssl_ctx == NULL) {
        smtp->own_ctx = 1;
        if ((smtp->ssl_ctx = mts_tls_client_ctx_new(o->ca_file, &rc)) == NULL)
            goto fail;
    }
    smtp->limit = o->conn_limit;
    if (smtp->limit == NULL) {
        smtp->own_limit = 1;
        rc = mts_conn_limit_new(&smtp->limit, base, or_default(o->per_ip, MTS_DEFAULT_PER_IP), ~0u);
        if (rc < 0)
            goto fail;
    }
    *out = smtp;
    return 0;
fail:
    mts_smtp_free(smtp);
    return rc;
}

struct event_base *mts_smtp_base(const struct mts_smtp *smtp)
{
    return smtp->base;
}

const char *mts_smtp_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case -EINVAL:
        return "invalid argument (EHLO name, host, address or port)";
    case -ENOENT:
        return "CA file could not be loaded";
    case -ENOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}

void mts_smtp_stats(const struct mts_smtp *smtp, struct mts_smtp_stats *st)
{
    *st = smtp->stats;
}

void mts_smtp_free(struct mts_smtp *smtp)
{
    if (smtp == NULL)
        return;
    struct session *s;
    while ((s = TAILQ_FIRST(&smtp->sessions)) != NULL) {
        TAILQ_REMOVE(&smtp->sessions, s, link);
        session_free(s);
    }
    if (smtp->own_limit)
        mts_conn_limit_free(smtp->limit);
    if (smtp->own_ctx)
        SSL_CTX_free(smtp->ssl_ctx);
    free(smtp->ehlo_name);
    free(smtp->scan_id);
    free(smtp);
}
