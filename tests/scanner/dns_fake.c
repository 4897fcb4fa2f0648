/*
 * The fake authoritative responder behind the DNS engine's tests: every misbehaviour the
 * engine must survive (drops, truncation, spoofed replies, latency) is scripted per name,
 * and the server counts what it saw so that tests can assert on the engine's traffic
 * (queries per name, outstanding queries, arrival times) rather than on its own word.
 */
#include "dns_fake.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#define SOA "test. 300 IN SOA ns.test. host.test. 1 3600 600 86400 60"

struct delayed {
    struct delayed *next, *prev;
    struct fake_dns *f;
    struct event *ev;
    struct sockaddr_storage to;
    socklen_t tolen;
    uint8_t *wire;
    size_t len;
};

struct fake_dns {
    struct event_base *base;
    struct fake_rule *rules;
    size_t nrules;
    int delay_ms;
    int udp, udp2; /* udp2: the wrong port spoofed replies come from */
    uint16_t port;
    struct event *ev_udp;
    struct evconnlistener *listener;
    struct delayed *pending;
    struct bufferevent *conns[64];
    struct fake_dns_counts c;
    double *arrivals;
    size_t cap;
};

double fake_dns_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct fake_rule *find_rule(struct fake_dns *f, const char *name, ldns_rr_type t)
{
    for (size_t i = 0; i < f->nrules; i++)
        if (strcmp(f->rules[i].name, name) == 0 && (!f->rules[i].qtype || f->rules[i].qtype == t))
            return &f->rules[i];
    return NULL;
}

static void push_str(ldns_pkt *p, ldns_pkt_section sec, const char *s)
{
    ldns_rr *rr = NULL;
    if (ldns_rr_new_frm_str(&rr, s, 300, NULL, NULL) != LDNS_STATUS_OK) {
        fprintf(stderr, "fake_dns: bad RR %s\n", s);
        abort();
    }
    ldns_pkt_push_rr(p, sec, rr);
}

static ldns_pkt *reply_new(const ldns_pkt *q, uint16_t id, const ldns_rr *question)
{
    ldns_pkt *r = ldns_pkt_new();
    ldns_pkt_set_id(r, id);
    ldns_pkt_set_qr(r, true);
    ldns_pkt_set_aa(r, true);
    ldns_pkt_set_rd(r, ldns_pkt_rd(q));
    ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(question));
    return r;
}

static uint8_t *to_wire(ldns_pkt *r, size_t *len)
{
    uint8_t *w = NULL;
    if (ldns_pkt2wire(&w, r, len) != LDNS_STATUS_OK)
        abort();
    ldns_pkt_free(r);
    return w;
}

/* The scripted reply to q (NULL: drop). *rule_out is the rule that matched, if any. */
static uint8_t *answer(struct fake_dns *f, const ldns_pkt *q, bool tcp, size_t *len,
                       struct fake_rule **rule_out)
{
    const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    char *owner, name[300];
    size_t n;
    struct fake_rule *rule;
    ldns_pkt *r;

    if (!question)
        return NULL;
    owner = ldns_rdf2str(ldns_rr_owner(question));
    snprintf(name, sizeof(name), "%s", owner);
    free(owner);
    n = strlen(name);
    if (n > 1 && name[n - 1] == '.')
        name[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)name[i]);
    rule = *rule_out = find_rule(f, name, ldns_rr_get_type(question));
    r = reply_new(q, ldns_pkt_id(q), question);
    if (!rule) {
        if (n > 10 && strcmp(name + n - 10, ".bulk.test") == 0 &&
            ldns_rr_get_type(question) == LDNS_RR_TYPE_A) {
            char rr[400];
            snprintf(rr, sizeof(rr), "%s. 300 IN A 192.0.2.1", name);
            push_str(r, LDNS_SECTION_ANSWER, rr);
        } else {
            ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
            push_str(r, LDNS_SECTION_AUTHORITY, SOA);
        }
        return to_wire(r, len);
    }
    rule->asked++;
    if (rule->kind == FAKE_DROP || (int)rule->asked <= rule->drop_first) {
        ldns_pkt_free(r);
        return NULL;
    }
    switch (rule->kind) {
    case FAKE_NXDOMAIN:
        ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
        push_str(r, LDNS_SECTION_AUTHORITY, SOA);
        break;
    case FAKE_SERVFAIL:
        ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
        break;
    case FAKE_TC_HANG:
        if (tcp) {
            ldns_pkt_free(r);
            return NULL;
        }
        /* fall through */
    case FAKE_TC:
        if (!tcp) {
            ldns_pkt_set_tc(r, true);
            break;
        }
        /* fall through */
    default:
        for (int i = 0; i < 6 && rule->rr[i]; i++)
            push_str(r, LDNS_SECTION_ANSWER, rule->rr[i]);
        if (!rule->rr[0])
            push_str(r, LDNS_SECTION_AUTHORITY, SOA);
        break;
    }
    return to_wire(r, len);
}

static void send_now(int fd, const uint8_t *w, size_t len, const struct sockaddr_storage *to,
                     socklen_t tolen)
{
    if (sendto(fd, w, len, 0, (const struct sockaddr *)to, tolen) < 0)
        perror("fake_dns sendto");
}

static void delayed_free(struct delayed *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->f->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    event_free(p->ev);
    free(p->wire);
    free(p);
}

static void on_delayed(evutil_socket_t fd, short what, void *arg)
{
    struct delayed *p = arg;
    (void)fd, (void)what;
    send_now(p->f->udp, p->wire, p->len, &p->to, p->tolen);
    p->f->c.outstanding--;
    delayed_free(p);
}

static void spoof(struct fake_dns *f, const ldns_pkt *q, const struct sockaddr_storage *to,
                  socklen_t tolen)
{
    const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    ldns_rr *evil = NULL;
    uint8_t *w;
    size_t len;
    ldns_pkt *r;
    char rr[400], *owner = ldns_rdf2str(ldns_rr_owner(question));

    snprintf(rr, sizeof(rr), "%s 300 IN A 6.6.6.6", owner);
    free(owner);
    r = reply_new(q, (uint16_t)(ldns_pkt_id(q) ^ 0x5a5a), question); /* wrong ID */
    push_str(r, LDNS_SECTION_ANSWER, rr);
    w = to_wire(r, &len);
    send_now(f->udp, w, len, to, tolen);
    free(w);

    ldns_rr_new_question_frm_str(&evil, "evil.test. IN A", NULL, NULL); /* wrong question */
    r = reply_new(q, ldns_pkt_id(q), evil);
    ldns_rr_free(evil);
    push_str(r, LDNS_SECTION_ANSWER, "evil.test. 300 IN A 6.6.6.6");
    w = to_wire(r, &len);
    send_now(f->udp, w, len, to, tolen);
    free(w);

    r = reply_new(q, ldns_pkt_id(q), question); /* right ID and question, wrong port */
    push_str(r, LDNS_SECTION_ANSWER, rr);
    w = to_wire(r, &len);
    send_now(f->udp2, w, len, to, tolen);
    free(w);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
    struct fake_dns *f = arg;
    uint8_t buf[4096];
    (void)what;

    for (;;) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n =
            recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
        ldns_pkt *q = NULL;
        struct fake_rule *rule = NULL;
        uint8_t *w;
        size_t len;
        int delay;

        if (n < 0)
            return;
        if (f->c.narrivals == f->cap) {
            f->cap = f->cap ? 2 * f->cap : 1024;
            f->arrivals = realloc(f->arrivals, f->cap * sizeof *f->arrivals);
        }
        f->arrivals[f->c.narrivals++] = fake_dns_now_ms();
        f->c.arrivals = f->arrivals;
        f->c.udp++;
        if (ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
            continue;
        w = answer(f, q, false, &len, &rule);
        if (w && rule && rule->kind == FAKE_SPOOF)
            spoof(f, q, &from, fromlen);
        ldns_pkt_free(q);
        if (!w)
            continue;
        delay = rule ? rule->delay_ms : f->delay_ms;
        f->c.outstanding++;
        if (f->c.outstanding > f->c.max_outstanding)
            f->c.max_outstanding = f->c.outstanding;
        if (delay <= 0) {
            send_now(fd, w, len, &from, fromlen);
            f->c.outstanding--;
            free(w);
        } else {
            struct delayed *p = calloc(1, sizeof *p);
            struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
            p->f = f;
            p->wire = w;
            p->len = len;
            p->to = from;
            p->tolen = fromlen;
            p->ev = evtimer_new(f->base, on_delayed, p);
            p->next = f->pending;
            if (f->pending)
                f->pending->prev = p;
            f->pending = p;
            evtimer_add(p->ev, &tv);
        }
    }
}

static void conn_free(struct fake_dns *f, struct bufferevent *bev)
{
    for (size_t i = 0; i < sizeof(f->conns) / sizeof(f->conns[0]); i++)
        if (f->conns[i] == bev)
            f->conns[i] = NULL;
    bufferevent_free(bev);
}

static void on_tcp_written(struct bufferevent *bev, void *arg)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        conn_free(arg, bev);
}

static void on_tcp_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    conn_free(arg, bev);
}

static void on_tcp_read(struct bufferevent *bev, void *arg)
{
    struct fake_dns *f = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    uint8_t hdr[2], *msg, *w;
    size_t len, wlen;
    ldns_pkt *q = NULL;
    struct fake_rule *rule;

    if (evbuffer_copyout(in, hdr, 2) < 2)
        return;
    len = (size_t)hdr[0] << 8 | hdr[1];
    if (evbuffer_get_length(in) < 2 + len)
        return;
    msg = malloc(len);
    evbuffer_drain(in, 2);
    evbuffer_remove(in, msg, len);
    f->c.tcp++;
    if (ldns_wire2pkt(&q, msg, len) == LDNS_STATUS_OK &&
        (w = answer(f, q, true, &wlen, &rule)) != NULL) {
        hdr[0] = (uint8_t)(wlen >> 8);
        hdr[1] = (uint8_t)wlen;
        bufferevent_write(bev, hdr, 2);
        bufferevent_write(bev, w, wlen);
        free(w);
        bufferevent_setcb(bev, NULL, on_tcp_written, on_tcp_event, f);
    }
    ldns_pkt_free(q);
    free(msg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    struct fake_dns *f = arg;
    struct bufferevent *bev =
        bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    size_t i = 0;

    (void)sa, (void)salen;
    while (f->conns[i])
        if (++i == sizeof(f->conns) / sizeof(f->conns[0]))
            abort();
    f->conns[i] = bev;
    bufferevent_setcb(bev, on_tcp_read, NULL, on_tcp_event, arg);
    bufferevent_enable(bev, EV_READ);
}

static int udp_socket(uint16_t port, uint16_t *bound)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), size = 4 << 20;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

struct fake_dns *fake_dns_new(struct event_base *base, struct fake_rule *rules, size_t nrules,
                              int delay_ms)
{
    struct fake_dns *f = calloc(1, sizeof *f);
    uint16_t other;

    f->base = base;
    f->rules = rules;
    f->nrules = nrules;
    f->delay_ms = delay_ms;
    f->udp2 = udp_socket(0, &other);
    /* TCP must listen on the UDP port: try a few ports until both are free. */
    for (int attempt = 0; attempt < 20 && !f->listener; attempt++) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        f->udp = udp_socket(0, &f->port);
        a.sin_port = htons(f->port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        f->listener =
            evconnlistener_new_bind(base, on_accept, f, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                    128, (struct sockaddr *)&a, sizeof(a));
        if (!f->listener)
            close(f->udp);
    }
    if (!f->listener || f->udp2 < 0)
        abort();
    f->ev_udp = event_new(base, f->udp, EV_READ | EV_PERSIST, on_udp, f);
    event_add(f->ev_udp, NULL);
    return f;
}

void fake_dns_free(struct fake_dns *f)
{
    while (f->pending)
        delayed_free(f->pending);
    for (size_t i = 0; i < sizeof(f->conns) / sizeof(f->conns[0]); i++)
        if (f->conns[i])
            bufferevent_free(f->conns[i]);
    event_free(f->ev_udp);
    evconnlistener_free(f->listener);
    close(f->udp);
    close(f->udp2);
    free(f->arrivals);
    free(f);
}

uint16_t fake_dns_port(const struct fake_dns *f)
{
    return f->port;
}

void fake_dns_counts(const struct fake_dns *f, struct fake_dns_counts *out)
{
    *out = f->c;
}
