/*
 * The authoritative DNS server of the simulated Internet.
 *
 * Why hand-built packets instead of ldns_pkt: the server must sustain the scanner's full query
 * rate on one core (it is the yardstick the scanner's DNS stage is measured against), so the hot
 * path parses the question and writes the reply into preallocated buffers with no allocation
 * per query. Delayed replies (latency, jitter) wait in a pool of reusable slots, each with its
 * own libevent timer; the pool only grows to the peak number of replies in flight. ldns is used
 * by the tests to read what this server writes.
 */
#include "dns_server.h"
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TYPE_A     1
#define TYPE_NS    2
#define TYPE_CNAME 5
#define TYPE_SOA   6
#define TYPE_OPT   41
#define TYPE_ANY   255
#define CLASS_IN   1

#define RCODE_NOERROR  0
#define RCODE_FORMERR  1
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3
#define RCODE_NOTIMP   4
#define RCODE_REFUSED  5

#define MAX_QUERY     512   /* a question we accept (UDP payload read) */
#define MAX_REPLY     16384 /* our largest reply (TCP); UDP is further bounded by the client */
#define EDNS_PAYLOAD  1232  /* the UDP size we advertise */
#define TTL           300
#define UDP_BATCH     64
#define SLOT_CHUNK    256
#define TCP_MAX_CONNS 4096

const char *world_dns_result_name(enum world_dns_result r)
{
    static const char *const names[] = {"answer",   "nodata",  "nxdomain",
                                        "servfail", "timeout", "refused"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "error";
}

int world_dns_resolve(const struct world *w, const char *qname, uint16_t qtype,
                      struct world_resolution *out)
{
    out->nnodes = 0;
    out->latency_ms = 0;
    out->truncate = false;
    const char *name = qname;
    for (;;) {
        struct world_node *n = &out->node[out->nnodes];
        int rc = world_dns_node(w, name, n);
        if (rc < 0)
            return rc;
        out->nnodes++;
        out->latency_ms += n->latency_ms;
        out->truncate = out->truncate || n->truncate;
        if (n->fault != WORLD_DNS_FAULT_NONE) {
            out->result = n->fault == WORLD_DNS_FAULT_SERVFAIL  ? WORLD_DNS_SERVFAIL
                          : n->fault == WORLD_DNS_FAULT_TIMEOUT ? WORLD_DNS_TIMEOUT
                                                                : WORLD_DNS_REFUSED;
            return 0;
        }
        if (!n->exists) {
            out->result = WORLD_DNS_NXDOMAIN;
            return 0;
        }
        if (n->cname[0] && qtype != TYPE_CNAME) {
            if (out->nnodes == WORLD_CHAIN_MAX + 1) {
                out->result = WORLD_DNS_SERVFAIL;
                return 0;
            }
            name = n->cname;
            continue;
        }
        out->result = WORLD_DNS_NODATA;
        if (n->cname[0] && qtype == TYPE_CNAME)
            out->result = WORLD_DNS_ANSWER;
        for (unsigned i = 0; i < n->nrr; i++)
            if (qtype == TYPE_ANY || n->rr[i].type == qtype)
                out->result = WORLD_DNS_ANSWER;
        return 0;
    }
}

/* ---- packets ---------------------------------------------------------------------------- */

struct query {
    uint16_t id, flags, qtype, qclass;
    size_t qend; /* end of the question section in the packet */
    bool edns;
    uint16_t udp_size; /* from the client's OPT (0 without EDNS) */
    bool name_ok;      /* qname made only of characters the world uses */
    char qname[WORLD_NAME_MAX];
};

/* Parse a query. Returns an rcode to answer with, RCODE_NOERROR when it is a normal query, or
 * -1 when the packet must be dropped (too short to even answer). */
static int parse_query(const unsigned char *p, size_t len, struct query *q)
{
    if (len < 12)
        return -1;
    q->id = (uint16_t)(p[0] << 8 | p[1]);
    q->flags = (uint16_t)(p[2] << 8 | p[3]);
    if (q->flags & 0x8000)
        return -1; /* a response: never answer it */
    unsigned qd = (unsigned)(p[4] << 8 | p[5]), ar = (unsigned)(p[10] << 8 | p[11]);
    unsigned an = (unsigned)(p[6] << 8 | p[7]), ns = (unsigned)(p[8] << 8 | p[9]);
    q->qend = 12;
    q->edns = false;
    q->udp_size = 0;
    q->name_ok = true;
    if (((q->flags >> 11) & 0xf) != 0)
        return RCODE_NOTIMP;
    if (qd != 1 || an != 0 || ns != 0)
        return RCODE_FORMERR;
    size_t o = 12, t = 0;
    for (;;) {
        if (o >= len)
            return RCODE_FORMERR;
        unsigned l = p[o++];
        if (l == 0)
            break;
        if (l > 63 || o + l > len || t + l + 1 >= WORLD_NAME_MAX)
            return RCODE_FORMERR;
        if (t)
            q->qname[t++] = '.';
        for (unsigned i = 0; i < l; i++) {
            unsigned char c = p[o + i];
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            if (c == WORLD_CTRL_BYTE)
                c = WORLD_CTRL_CHAR;
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '*' || c == WORLD_CTRL_CHAR))
                q->name_ok = false, c = '?';
            q->qname[t++] = (char)c;
        }
        o += l;
    }
    q->qname[t] = '\0';
    if (o + 4 > len)
        return RCODE_FORMERR;
    q->qtype = (uint16_t)(p[o] << 8 | p[o + 1]);
    q->qclass = (uint16_t)(p[o + 2] << 8 | p[o + 3]);
    o += 4;
    q->qend = o;
    /* additional section: look for OPT */
    for (unsigned i = 0; i < ar; i++) {
        if (o + 11 > len || p[o] != 0)
            return RCODE_FORMERR; /* OPT's owner is the root; we accept nothing else */
        uint16_t type = (uint16_t)(p[o + 1] << 8 | p[o + 2]);
        uint16_t cls = (uint16_t)(p[o + 3] << 8 | p[o + 4]);
        uint16_t rdlen = (uint16_t)(p[o + 9] << 8 | p[o + 10]);
        if (type != TYPE_OPT || o + 11 + rdlen > len)
            return RCODE_FORMERR;
        q->edns = true;
        q->udp_size = cls < 512 ? 512 : cls;
        o += 11u + rdlen;
    }
    if (q->qclass != CLASS_IN)
        return RCODE_REFUSED;
    return RCODE_NOERROR;
}

struct writer {
    unsigned char *p;
    size_t len, cap;
    bool overflow;
};

static void put(struct writer *w, const void *b, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->p + w->len, b, n);
    w->len += n;
}

static void put16(struct writer *w, unsigned v)
{
    unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    put(w, b, 2);
}

static void put32(struct writer *w, uint32_t v)
{
    put16(w, v >> 16);
    put16(w, v & 0xffff);
}

/* Owner name: a pointer to the question for the first node, the full name otherwise. */
static void put_owner(struct writer *w, const struct world_node *n, bool first)
{
    if (first) {
        put16(w, 0xc00c);
        return;
    }
    unsigned char wire[WORLD_NAME_MAX + 2];
    int l = world_name_to_wire(n->name, wire, sizeof wire);
    if (l < 0)
        w->overflow = true;
    else
        put(w, wire, (size_t)l);
}

static void put_rr(struct writer *w, const struct world_node *n, bool first, uint16_t type,
                   const unsigned char *rdata, size_t rdlen)
{
    put_owner(w, n, first);
    put16(w, type);
    put16(w, CLASS_IN);
    put32(w, TTL);
    put16(w, (unsigned)rdlen);
    put(w, rdata, rdlen);
}

static void put_soa(struct writer *w)
{
    static const unsigned char soa[] = {2,   'n', 's', 5,   'w', 'o', 'r', 'l', 'd', 4,   't', 'e',
                                        's', 't', 0,   10,  'h', 'o', 's', 't', 'm', 'a', 's', 't',
                                        'e', 'r', 5,   'w', 'o', 'r', 'l', 'd', 4,   't', 'e', 's',
                                        't', 0,   0,   0,   0,   1,   0,   0,   14,  16,  0,   0,
                                        2,   88,  0,   1,   81,  128, 0,   0,   0,   60};
    put(w, "", 1); /* owner: the root */
    put16(w, TYPE_SOA);
    put16(w, CLASS_IN);
    put32(w, 60);
    put16(w, sizeof soa);
    put(w, soa, sizeof soa);
}

static void put_opt(struct writer *w)
{
    put(w, "", 1);
    put16(w, TYPE_OPT);
    put16(w, EDNS_PAYLOAD);
    put32(w, 0);
    put16(w, 0);
}

static void put_header(struct writer *w, const struct query *q, unsigned rcode, bool aa, bool tc,
                       unsigned an, unsigned ns, unsigned ar)
{
    unsigned flags = 0x8000u | (q->flags & 0x7900u) /* opcode, RD */ | (aa ? 0x0400u : 0) |
                     (tc ? 0x0200u : 0) | (q->flags & 0x0010u) /* CD */ | rcode;
    w->len = 0;
    put16(w, q->id);
    put16(w, flags);
    put16(w, 1);
    put16(w, an);
    put16(w, ns);
    put16(w, ar);
}

/* A reply with the question and no records (errors, truncation). */
static size_t reply_empty(const unsigned char *qpkt, const struct query *q, unsigned rcode, bool tc,
                          unsigned char *out, size_t cap)
{
    struct writer w = {.p = out, .cap = cap};
    put_header(&w, q, rcode, rcode != RCODE_REFUSED && rcode != RCODE_FORMERR, tc, 0, 0,
               q->edns ? 1 : 0);
    if (q->qend > 12)
        put(&w, qpkt + 12, q->qend - 12);
    else
        w.p[5] = 0; /* no question could be parsed */
    if (q->edns)
        put_opt(&w);
    return w.overflow ? 0 : w.len;
}

/* The full reply for a resolution; 0 when it does not fit in cap. */
static size_t reply_resolution(const unsigned char *qpkt, const struct query *q,
                               const struct world_resolution *r, unsigned char *out, size_t cap)
{
    struct writer w = {.p = out, .cap = cap};
    unsigned rcode = r->result == WORLD_DNS_NXDOMAIN   ? RCODE_NXDOMAIN
                     : r->result == WORLD_DNS_SERVFAIL ? RCODE_SERVFAIL
                     : r->result == WORLD_DNS_REFUSED  ? RCODE_REFUSED
                                                       : RCODE_NOERROR;
    if (rcode == RCODE_SERVFAIL || rcode == RCODE_REFUSED)
        return reply_empty(qpkt, q, rcode, false, out, cap);
    put_header(&w, q, rcode, true, false, 0, 0, 0);
    put(&w, qpkt + 12, q->qend - 12);
    unsigned an = 0;
    for (unsigned i = 0; i < r->nnodes; i++) {
        const struct world_node *n = &r->node[i];
        bool last = i + 1 == r->nnodes;
        if (n->cname[0] && (!last || q->qtype == TYPE_CNAME || q->qtype == TYPE_ANY)) {
            unsigned char wire[WORLD_NAME_MAX + 2];
            int l = world_name_to_wire(n->cname, wire, sizeof wire);
            if (l < 0)
                return 0;
            put_rr(&w, n, i == 0, TYPE_CNAME, wire, (size_t)l);
            an++;
        }
        if (!last || !n->exists)
            continue;
        for (unsigned k = 0; k < n->nrr; k++) {
            if (q->qtype != TYPE_ANY && n->rr[k].type != q->qtype)
                continue;
            put_rr(&w, n, i == 0, n->rr[k].type, n->data + n->rr[k].off, n->rr[k].rdlen);
            an++;
        }
    }
    unsigned ns = 0;
    if (r->result == WORLD_DNS_NXDOMAIN || r->result == WORLD_DNS_NODATA) {
        put_soa(&w);
        ns = 1;
    }
    if (q->edns)
        put_opt(&w);
    if (w.overflow)
        return 0;
    out[6] = (unsigned char)(an >> 8);
    out[7] = (unsigned char)an;
    out[8] = 0;
    out[9] = (unsigned char)ns;
    out[10] = 0;
    out[11] = q->edns ? 1 : 0;
    return w.len;
}

/* ---- the server ------------------------------------------------------------------------- */

struct tcp_conn;

/* A reply waiting for its latency to pass. */
struct slot {
    struct world_dns_server *srv;
    struct event *timer;
    struct slot *next_free;
    struct tcp_conn *conn; /* NULL: UDP */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    size_t len;
    unsigned char buf[MAX_REPLY];
};

struct tcp_conn {
    struct world_dns_server *srv;
    struct bufferevent *bev;
    struct tcp_conn *prev, *next;
    unsigned pending; /* delayed replies still referring to this connection */
    bool closed;
};

struct world_dns_server {
    struct event_base *base;
    const struct world *w;
    struct world_dns_knobs knobs;
    int udp_fd;
    struct event *udp_ev;
    struct evconnlistener *listener;
    uint16_t port;
    struct in_addr self; /* the address it listens on */
    uint64_t rng;
    struct world_dns_stats stats;
    struct world_resolution res; /* scratch: one query at a time */
    unsigned char reply[MAX_REPLY];
    struct slot **chunks; /* slot storage, SLOT_CHUNK per chunk */
    size_t nchunks;
    struct slot *free_slots;
    struct tcp_conn *conns;
    unsigned nconns;
};

static uint64_t rng_next(struct world_dns_server *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static void conn_free(struct tcp_conn *c)
{
    struct world_dns_server *s = c->srv;
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    if (!c->closed) {
        c->closed = true;
        s->nconns--;
    }
    if (c->pending)
        return; /* freed by the last delayed reply */
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

static void send_reply(struct world_dns_server *s, struct tcp_conn *conn,
                       const struct sockaddr *peer, socklen_t peer_len, const unsigned char *buf,
                       size_t len)
{
    if (conn) {
        if (conn->closed || !conn->bev)
            return;
        unsigned char l[2] = {(unsigned char)(len >> 8), (unsigned char)len};
        bufferevent_write(conn->bev, l, 2);
        bufferevent_write(conn->bev, buf, len);
    } else {
        /* UDP: a full socket buffer drops the reply, as a real network would */
        (void)sendto(s->udp_fd, buf, len, 0, peer, peer_len);
    }
}

static void slot_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct slot *sl = arg;
    struct world_dns_server *s = sl->srv;
    send_reply(s, sl->conn, (const struct sockaddr *)&sl->peer, sl->peer_len, sl->buf, sl->len);
    if (sl->conn) {
        sl->conn->pending--;
        if (sl->conn->closed)
            conn_free(sl->conn);
        sl->conn = NULL;
    }
    sl->next_free = s->free_slots;
    s->free_slots = sl;
}

static struct slot *slot_get(struct world_dns_server *s)
{
    if (!s->free_slots) {
        struct slot **nc = realloc(s->chunks, (s->nchunks + 1) * sizeof *nc);
        if (!nc)
            return NULL;
        s->chunks = nc;
        struct slot *chunk = calloc(SLOT_CHUNK, sizeof *chunk);
        if (!chunk)
            return NULL;
        for (size_t i = 0; i < SLOT_CHUNK; i++) {
            chunk[i].srv = s;
            chunk[i].timer = evtimer_new(s->base, slot_fire, &chunk[i]);
            if (!chunk[i].timer) {
                for (size_t j = 0; j < i; j++)
                    event_free(chunk[j].timer);
                free(chunk);
                return NULL;
            }
            chunk[i].next_free = s->free_slots;
            s->free_slots = &chunk[i];
        }
        s->chunks[s->nchunks++] = chunk;
    }
    struct slot *sl = s->free_slots;
    s->free_slots = sl->next_free;
    return sl;
}

/* The server as the world's only name server: "." NS ns.world.test, and ns.world.test A is the
 * address it listens on, so a resolver with a stub zone for "." can prime and then keep
 * asking this server. */
static void add_self(const struct world_dns_server *s, const struct query *q,
                     struct world_resolution *r)
{
    static const unsigned char ns_wire[] = {2,   'n', 's', 5,   'w', 'o', 'r', 'l',
                                            'd', 4,   't', 'e', 's', 't', 0};
    struct world_node *n = &r->node[0];
    if (r->nnodes != 1)
        return;
    if (q->qname[0] == '\0' && (q->qtype == TYPE_NS || q->qtype == TYPE_ANY)) {
        if (world_node_add(n, TYPE_NS, ns_wire, sizeof ns_wire) == 0)
            r->result = WORLD_DNS_ANSWER;
    } else if (strcmp(q->qname, "ns.world.test") == 0 && !n->exists) {
        world_node_init(n, q->qname);
        if (q->qtype == TYPE_A || q->qtype == TYPE_ANY) {
            world_node_add(n, TYPE_A, &s->self.s_addr, 4);
            r->result = WORLD_DNS_ANSWER;
        } else {
            r->result = WORLD_DNS_NODATA;
        }
    }
}

/* Answer one query (over UDP when conn is NULL). */
static void handle_query(struct world_dns_server *s, const unsigned char *pkt, size_t len,
                         struct tcp_conn *conn, const struct sockaddr *peer, socklen_t peer_len)
{
    struct query q;
    s->stats.queries++;
    int rc = parse_query(pkt, len, &q);
    if (rc < 0) {
        s->stats.malformed++;
        return;
    }
    if (s->knobs.loss > 0 && (double)(rng_next(s) >> 11) / 9007199254740992.0 < s->knobs.loss) {
        s->stats.dropped_loss++;
        return;
    }
    size_t limit = MAX_REPLY;
    if (!conn)
        limit = q.edns ? (q.udp_size < MAX_REPLY ? q.udp_size : MAX_REPLY) : 512;
    size_t out = 0;
    unsigned extra_ms = 0;
    if (rc != RCODE_NOERROR) {
        if (rc == RCODE_FORMERR)
            s->stats.malformed++;
        out = reply_empty(pkt, &q, (unsigned)rc, false, s->reply, limit);
        s->stats.rcode[rc]++;
    } else {
        struct world_resolution *r = &s->res;
        if (!q.name_ok) {
            r->result = WORLD_DNS_NXDOMAIN;
            r->nnodes = 1;
            r->latency_ms = 0;
            r->truncate = false;
            world_node_init(&r->node[0], "");
            r->node[0].exists = false;
        } else if (world_dns_resolve(s->w, q.qname, q.qtype, r) < 0) {
            out = reply_empty(pkt, &q, RCODE_FORMERR, false, s->reply, limit);
            s->stats.rcode[RCODE_FORMERR]++;
            goto send;
        } else {
            add_self(s, &q, r);
        }
        if (r->result == WORLD_DNS_TIMEOUT) {
            s->stats.dropped_timeout++;
            return;
        }
        extra_ms = r->latency_ms;
        bool tc = !conn && r->truncate;
        if (!tc) {
            out = reply_resolution(pkt, &q, r, s->reply, limit);
            tc = out == 0 && !conn;
        }
        if (tc) {
            s->stats.truncated++;
            out = reply_empty(pkt, &q, RCODE_NOERROR, true, s->reply, limit);
        }
        s->stats.rcode[s->reply[3] & 0xf]++;
    }
send:
    if (out == 0) {
        s->stats.malformed++;
        return;
    }
    if (conn)
        s->stats.tcp++;
    else
        s->stats.udp++;
    unsigned ms = s->knobs.latency_ms + extra_ms;
    if (s->knobs.jitter_ms)
        ms += (unsigned)(rng_next(s) % (s->knobs.jitter_ms + 1u));
    if (ms == 0) {
        send_reply(s, conn, peer, peer_len, s->reply, out);
        return;
    }
    struct slot *sl = slot_get(s);
    if (!sl)
        return; /* out of memory: behave like a lost reply */
    memcpy(sl->buf, s->reply, out);
    sl->len = out;
    sl->conn = conn;
    if (conn) {
        conn->pending++;
    } else {
        memcpy(&sl->peer, peer, peer_len);
        sl->peer_len = peer_len;
    }
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    evtimer_add(sl->timer, &tv);
}

static void udp_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct world_dns_server *s = arg;
    unsigned char buf[MAX_QUERY];
    for (int i = 0; i < UDP_BATCH; i++) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &pl);
        if (n < 0)
            return; /* EAGAIN, or a transient error: wait for the next readiness */
        handle_query(s, buf, (size_t)n, NULL, (const struct sockaddr *)&peer, pl);
    }
}

static void tcp_read(struct bufferevent *bev, void *arg)
{
    struct tcp_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        if (avail < 2)
            return;
        unsigned char *p = evbuffer_pullup(in, 2);
        size_t l = (size_t)(p[0] << 8 | p[1]);
        if (l > MAX_QUERY) {
            conn_free(c);
            return;
        }
        if (avail < 2 + l)
            return;
        p = evbuffer_pullup(in, (ev_ssize_t)(2 + l));
        handle_query(c->srv, p + 2, l, c, NULL, 0);
        evbuffer_drain(in, 2 + l);
    }
}

static void tcp_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_free(arg);
}

static void tcp_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                       void *arg)
{
    (void)l;
    (void)sa;
    (void)salen;
    struct world_dns_server *s = arg;
    struct tcp_conn *c = s->nconns < TCP_MAX_CONNS ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->srv = s;
    c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    struct timeval idle = {30, 0};
    bufferevent_set_timeouts(c->bev, &idle, NULL);
    bufferevent_setcb(c->bev, tcp_read, NULL, tcp_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static int bind_pair(struct world_dns_server *s, const struct sockaddr_in *want)
{
    struct sockaddr_in sin = *want;
    s->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->udp_fd < 0)
        return -1;
    /* Scanners send in bursts; rmem_max (about 200 KB) holds only a few hundred queries.
       FORCE passes the cap when privileged (tests and benchmarks run as root). */
    int big = 8 << 20;
    if (setsockopt(s->udp_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
        (void)setsockopt(s->udp_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (setsockopt(s->udp_fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0)
        (void)setsockopt(s->udp_fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    if (bind(s->udp_fd, (struct sockaddr *)&sin, sizeof sin) < 0)
        goto fail;
    socklen_t sl = sizeof sin;
    if (getsockname(s->udp_fd, (struct sockaddr *)&sin, &sl) < 0)
        goto fail;
    s->listener =
        evconnlistener_new_bind(s->base, tcp_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                1024, (struct sockaddr *)&sin, sizeof sin);
    if (!s->listener)
        goto fail;
    s->port = ntohs(sin.sin_port);
    s->self = sin.sin_addr;
    return 0;
fail:
    close(s->udp_fd);
    s->udp_fd = -1;
    return -1;
}

int world_dns_start(struct event_base *base, const struct world *w,
                    const struct world_dns_knobs *knobs, const char *addr, uint16_t port,
                    struct world_dns_server **out)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        errno = EINVAL;
        return -WORLD_E_ARG;
    }
    struct world_dns_server *s = calloc(1, sizeof *s);
    if (!s)
        return -WORLD_E_NOMEM;
    s->base = base;
    s->w = w;
    s->knobs = *knobs;
    s->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
    s->udp_fd = -1;
    /* with port 0 the kernel picks the UDP port; TCP may find it taken: try a few times */
    int rc = -1;
    for (int attempt = 0; attempt < (port ? 1 : 20) && rc < 0; attempt++)
        rc = bind_pair(s, &sin);
    if (rc < 0) {
        int e = errno;
        free(s);
        errno = e;
        return -WORLD_E_IO;
    }
    s->udp_ev = event_new(base, s->udp_fd, EV_READ | EV_PERSIST, udp_read, s);
    if (!s->udp_ev || event_add(s->udp_ev, NULL) < 0) {
        world_dns_free(s);
        return -WORLD_E_NOMEM;
    }
    *out = s;
    return 0;
}

uint16_t world_dns_port(const struct world_dns_server *s)
{
    return s->port;
}

void world_dns_get_stats(const struct world_dns_server *s, struct world_dns_stats *out)
{
    *out = s->stats;
}

void world_dns_free(struct world_dns_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nchunks; i++) {
        for (size_t j = 0; j < SLOT_CHUNK; j++)
            event_free(s->chunks[i][j].timer);
        free(s->chunks[i]);
    }
    free(s->chunks);
    while (s->conns) {
        struct tcp_conn *c = s->conns;
        c->pending = 0; /* their timers are gone */
        conn_free(c);
    }
    if (s->udp_ev)
        event_free(s->udp_ev);
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->udp_fd >= 0)
        close(s->udp_fd);
    free(s);
}
