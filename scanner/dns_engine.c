/*
 * The asynchronous DNS engine. A scan asks millions of small questions, so the design
 * follows massdns: lookups live in slots preallocated for max_inflight and kept on a free
 * list, a few unconnected UDP sockets carry all of them (matched by socket, random ID,
 * source address and question), per-try timers share one libevent common timeout (O(1)
 * like a timer wheel), and everything beyond the limits waits in a FIFO. The loop does all
 * I/O; ldns only builds and parses packets. Each slot is a small state machine entered
 * through enter_state(); docs/dns-engine.md draws it.
 */
#include "dns_engine.h"
#include "dns_internal.h"
#include "local_error.h"
#include "mts_util.h"
#include "mts_defaults.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUERY_WIRE_MAX    512 /* a query: 12 + 255 + 4 + 11 (OPT) bytes at most */
#define MAX_INFLIGHT_CAP  65536
#define IDS_PER_SOCK      65536
#define RECV_BATCH        256  /* datagrams read per readiness callback */
#define RECV_MMSG         32   /* datagrams read per recvmmsg call */
#define RECV_BUF          4096 /* per datagram: replies are bounded by the EDNS size we offer */
#define SEND_MMSG         32   /* queries sent per sendmmsg call at most */
#define RATE_BURST_PERIOD 0.02
#define LOCAL_SENDS_MAX   8 /* tries this machine could not send before a lookup gives up */

enum dns_state {
    ST_FREE,
    ST_RETRY_WAIT, /* needs a rate token before its next UDP try */
    ST_UDP_WAIT,
    ST_TCP_WAIT, /* truncated: waits for a TCP slot or for this machine to have a socket */
    ST_TCP_CONNECT,
    ST_TCP_WRITE,
    ST_TCP_READ,
};

/* One mts_dns_query call. Lives on the FIFO, a lookup's waiter list, or the done list. */
struct dns_job {
    struct dns_job *next;
    struct dns_job *hnext;   /* coalescing chain (CACHE jobs that own a lookup) */
    struct dns_job *waiters; /* identical CACHE queries that joined this one */
    mts_dns_cb cb;
    void *arg;
    char *obs;                   /* deferred delivery only */
    struct mts_dns_reply *reply; /* a cache hit's: its own copy */
    ldns_rdf *dname;
    struct mts_dns_cache_key key; /* key.name points into text[] */
    ldns_rr_type qtype;
    unsigned flags;
    char text[]; /* qname without trailing dot, NUL, lower-cased wire name */
};

struct dns_slot {
    enum dns_state state;
    bool mapped; /* owns ids[id] of its socket */
    bool tcp;
    uint8_t tries;
    uint8_t local_tries; /* sends and TCP sockets this machine could not make */
    bool unsent;         /* the current UDP try never left: this machine's send failed */
    uint16_t id;
    uint16_t wire_len;
    unsigned sock;
    unsigned resolver;
    struct dns_job *job;
    struct dns_slot *next; /* free list, retry queue or TCP wait queue */
    struct mts_dns *dns;
    struct event *timer;
    double t_first;
    int tcp_fd;
    struct event *tcp_ev;
    uint8_t *tcp_buf;
    size_t tcp_off, tcp_need;
    uint8_t wire[QUERY_WIRE_MAX];
};

struct dns_sock {
    int fd;
    struct event *ev;
    struct mts_dns *dns;
    uint32_t *ids; /* slot index + 1 per ID; 0 = free */
    /* Queries waiting for the socket's next sendmmsg (the wire of their slots). */
    struct mmsghdr out[SEND_MMSG];
    struct iovec oiov[SEND_MMSG];
    unsigned nout;
};

struct dns_resolver {
    struct mts_dns_addr addr;
    char name[MTS_DNS_ADDRSTRLEN];
};

struct mts_dns {
    struct event_base *base;
    struct mts_dns_opts o;
    struct dns_resolver res[MTS_DNS_MAX_RESOLVERS];
    size_t nres;
    unsigned next_resolver;

    struct dns_sock *socks;
    size_t nsocks, sock_first[2], sock_count[2], sock_rr[2]; /* [0] IPv4, [1] IPv6 */

    struct dns_slot *slots, *free_slots;
    struct dns_slot *retry_head, *retry_tail;
    struct dns_slot *tcp_wait_head, *tcp_wait_tail;
    unsigned tcp_open;         /* TCP sockets open now, at most o.max_tcp */
    struct event *ev_tcp_wake; /* starts waiting TCP exchanges from the loop */
    struct dns_job *fifo_head, *fifo_tail;
    struct dns_job *done_head, *done_tail;
    struct event *ev_done;
    struct event *ev_flush; /* sends what the loop's current callbacks queued */
    bool flush_armed;
    const struct timeval *tv_try; /* the common timeout */
    struct timeval tv_tcp;

    struct dns_job **coalesce;
    size_t coalesce_mask;
    struct mts_dns_cache *cache;

    double tokens, burst, t_refill;
    struct event *ev_rate;

    uint64_t rng[4];
    int in_callback;
    struct mts_dns_stats st;
    /* recvmmsg's vectors: one system call takes a whole burst of replies. */
    uint8_t rbuf[RECV_MMSG][RECV_BUF];
    struct mmsghdr rmsg[RECV_MMSG];
    struct iovec riov[RECV_MMSG];
    struct sockaddr_storage rfrom[RECV_MMSG];
    struct mts_wire_rr rrs[MTS_WIRE_RR_CAP(MTS_WIRE_MAX)]; /* of the reply being read */
};

static void pump(struct mts_dns *d);
static void finish(struct mts_dns *d, struct dns_slot *s, const struct mts_dns_reply *reply,
                   const char *noreply);

/* xoshiro256**: IDs must be unpredictable to an off-path spoofer; seeded from getrandom. */
static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct mts_dns *d)
{
    uint64_t *s = d->rng, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

static void enter_state(struct dns_slot *s, enum dns_state st)
{
    if (s->state == ST_FREE && st == ST_FREE)
        abort(); /* a slot released twice */
    s->state = st;
}

static int family_index(const struct mts_dns_addr *a)
{
    return a->ss.ss_family == AF_INET6;
}

static size_t slot_index(const struct mts_dns *d, const struct dns_slot *s)
{
    return (size_t)(s - d->slots);
}

/* ---- jobs ---- */

static void job_free(struct dns_job *j)
{
    free(j->obs);
    free(j->reply);
    ldns_rdf_deep_free(j->dname);
    free(j);
}

static void job_tree_free(struct dns_job *j)
{
    while (j) {
        struct dns_job *next = j->next;
        job_tree_free(j->waiters);
        job_free(j);
        j = next;
    }
}

static void done_push(struct mts_dns *d, struct dns_job *j)
{
    j->next = NULL;
    if (d->done_tail)
        d->done_tail->next = j;
    else
        d->done_head = j;
    d->done_tail = j;
    event_active(d->ev_done, EV_TIMEOUT, 0);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    struct mts_dns *d = arg;
    struct dns_job *j = d->done_head;

    (void)fd, (void)what;
    d->done_head = d->done_tail = NULL;
    d->in_callback++;
    while (j) {
        struct dns_job *next = j->next;
        char *obs = j->obs;
        j->obs = NULL;
        j->cb(j->arg, obs, j->reply);
        job_free(j);
        j = next;
    }
    d->in_callback--;
}

/* ---- coalescing ---- */

static bool same_key(const struct mts_dns_cache_key *a, const struct mts_dns_cache_key *b)
{
    return a->hash == b->hash && a->qtype == b->qtype && a->dnssec_ok == b->dnssec_ok &&
           a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
}

static struct dns_job **coalesce_find(struct mts_dns *d, const struct mts_dns_cache_key *k)
{
    struct dns_job **p = &d->coalesce[k->hash & d->coalesce_mask];
    while (*p && !same_key(&(*p)->key, k))
        p = &(*p)->hnext;
    return p;
}

/* ---- slots ---- */

static void tcp_close(struct dns_slot *s)
{
    if (s->tcp_ev) {
        event_free(s->tcp_ev);
        s->tcp_ev = NULL;
    }
    if (s->tcp_fd >= 0) {
        close(s->tcp_fd);
        s->tcp_fd = -1;
        /* A socket freed: a waiting exchange may start, from the loop (never re-entered). */
        s->dns->tcp_open--;
        if (s->dns->tcp_wait_head)
            event_active(s->dns->ev_tcp_wake, EV_TIMEOUT, 0);
    }
    free(s->tcp_buf);
    s->tcp_buf = NULL;
}

static void unmap(struct mts_dns *d, struct dns_slot *s)
{
    if (s->mapped) {
        d->socks[s->sock].ids[s->id] = 0;
        s->mapped = false;
    }
}

static void slot_release(struct mts_dns *d, struct dns_slot *s)
{
    evtimer_del(s->timer);
    unmap(d, s);
    tcp_close(s);
    enter_state(s, ST_FREE);
    s->job = NULL;
    s->next = d->free_slots;
    d->free_slots = s;
    d->st.inflight--;
}

size_t mts_dns_query_wire(uint8_t *out, size_t cap, const uint8_t *name, size_t name_len,
                          uint16_t qtype, unsigned edns_size, bool dnssec_ok)
{
    size_t len = 12 + name_len + 4 + (edns_size ? 11 : 0);
    uint8_t *p = out;

    if (len > cap)
        return 0;
    /* Header: ID (set per try), RD, one question, one additional record (the OPT). */
    memset(p, 0, 12);
    p[2] = 0x01;
    p[5] = 1;
    p[11] = edns_size ? 1 : 0;
    p += 12;
    memcpy(p, name, name_len);
    p += name_len;
    *p++ = (uint8_t)(qtype >> 8);
    *p++ = (uint8_t)qtype;
    *p++ = 0;
    *p++ = LDNS_RR_CLASS_IN;
    if (edns_size) {
        /* OPT: root owner, type 41, class = UDP size, TTL = rcode, version 0, DO flag. */
        static const uint8_t opt[3] = {0, 0, 41};
        memcpy(p, opt, sizeof opt);
        p += sizeof opt;
        *p++ = (uint8_t)(edns_size >> 8);
        *p++ = (uint8_t)edns_size;
        *p++ = 0;
        *p++ = 0;
        *p++ = dnssec_ok ? 0x80 : 0;
        *p++ = 0;
        *p++ = 0;
        *p++ = 0;
    }
    return len;
}

/* Builds the query once per lookup, in the slot; retries only change the ID. */
static int slot_start(struct mts_dns *d, struct dns_slot *s, struct dns_job *j)
{
    size_t len = mts_dns_query_wire(
        s->wire, sizeof(s->wire), ldns_rdf_data(j->dname), ldns_rdf_size(j->dname),
        (uint16_t)j->qtype, d->o.no_edns ? 0 : d->o.edns_size, (j->flags & MTS_DNS_DO) != 0);

    if (!len)
        return MTS_DNS_ENOMEM;
    s->wire_len = (uint16_t)len;
    s->job = j;
    s->tries = 0;
    s->local_tries = 0;
    s->tcp = false;
    s->resolver = d->next_resolver++ % d->nres;
    d->st.inflight++;
    if (d->st.inflight > d->st.max_inflight)
        d->st.max_inflight = d->st.inflight;
    return 0;
}

/* A socket of the family and an ID unused on it. Random tries first; the linear scan only
 * runs when a socket is nearly full, and cannot fail because max_inflight is at most a
 * quarter of the family's ID space. */
static size_t pick_id(struct mts_dns *d, int fam, uint16_t *id)
{
    size_t first = d->sock_first[fam], n = d->sock_count[fam], start = d->sock_rr[fam]++;

    for (size_t i = 0; i < n; i++) {
        size_t k = first + (start + i) % n;
        for (int attempt = 0; attempt < 64; attempt++) {
            *id = (uint16_t)(rng_next(d) >> 48);
            if (!d->socks[k].ids[*id])
                return k;
        }
    }
    for (size_t i = 0;; i++) {
        size_t k = first + (start + i / IDS_PER_SOCK) % n;
        *id = (uint16_t)(i % IDS_PER_SOCK);
        if (!d->socks[k].ids[*id])
            return k;
    }
}

/* Sends the socket's queued queries: one system call for up to SEND_MMSG of them. */
static void flush_sock(struct mts_dns *d, struct dns_sock *sk)
{
    unsigned off = 0;
    while (off < sk->nout) {
        int n = sendmmsg(sk->fd, sk->out + off, sk->nout - off, 0);
        if (n <= 0) {
            /* Treated as a lost datagram: the timer retries. One this machine could not
               send (no buffers) is no try at all, and is not held against the resolver. */
            if (mts_errno_is_local(errno)) {
                uint8_t *wire = sk->oiov[off].iov_base;
                struct dns_slot *s =
                    (struct dns_slot *)(void *)(wire - offsetof(struct dns_slot, wire));
                s->unsent = true;
            }
            d->st.send_errors++;
            off++;
        } else {
            d->st.sent += (unsigned)n;
            off += (unsigned)n;
        }
    }
    sk->nout = 0;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    struct mts_dns *d = arg;
    (void)fd, (void)what;
    d->flush_armed = false;
    for (size_t i = 0; i < d->nsocks; i++)
        if (d->socks[i].nout)
            flush_sock(d, &d->socks[i]);
}

/*
 * Queries leave in batches: each is queued on its socket and the batch goes out with one
 * sendmmsg when it is full or when the callbacks of this loop iteration are done (a
 * system call per datagram was the loop's largest single cost).
 */
static void send_try(struct mts_dns *d, struct dns_slot *s)
{
    const struct dns_resolver *r = &d->res[s->resolver];
    uint16_t id;
    size_t k = pick_id(d, family_index(&r->addr), &id);
    struct dns_sock *sk = &d->socks[k];

    sk->ids[id] = (uint32_t)slot_index(d, s) + 1;
    s->sock = (unsigned)k;
    s->id = id;
    s->mapped = true;
    s->wire[0] = (uint8_t)(id >> 8);
    s->wire[1] = (uint8_t)id;
    if (s->tries++ == 0)
        s->t_first = mts_now_ms();
    else
        d->st.retries++;
    s->unsent = false;
    if (sk->nout == SEND_MMSG)
        flush_sock(d, sk);
    sk->oiov[sk->nout] = (struct iovec){.iov_base = s->wire, .iov_len = s->wire_len};
    sk->out[sk->nout].msg_hdr = (struct msghdr){.msg_name = (void *)&r->addr.ss,
                                                .msg_namelen = r->addr.len,
                                                .msg_iov = &sk->oiov[sk->nout],
                                                .msg_iovlen = 1};
    sk->nout++;
    if (!d->flush_armed) {
        d->flush_armed = true;
        event_active(d->ev_flush, EV_TIMEOUT, 0);
    }
    enter_state(s, ST_UDP_WAIT);
    evtimer_add(s->timer, d->tv_try);
}

/* ---- rate limit ---- */

static void on_rate(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    pump(arg);
}

static void refill(struct mts_dns *d)
{
    double now = mts_now_ms();
    d->tokens += (now - d->t_refill) * d->o.rate_qps / 1e3;
    if (d->tokens > d->burst)
        d->tokens = d->burst;
    d->t_refill = now;
}

static bool take_token(struct mts_dns *d)
{
    struct timeval tv;
    double wait_us;

    if (!d->o.rate_qps)
        return true;
    refill(d);
    if (d->tokens >= 1.0) {
        d->tokens -= 1.0;
        return true;
    }
    if (!evtimer_pending(d->ev_rate, NULL)) {
        wait_us = (1.0 - d->tokens) * 1e6 / d->o.rate_qps + 1.0;
        tv.tv_sec = (time_t)(wait_us / 1e6);
        tv.tv_usec = (suseconds_t)(wait_us - (double)tv.tv_sec * 1e6);
        evtimer_add(d->ev_rate, &tv);
    }
    return false;
}

/* A lookup that could not even be built (memory ran out): its queries are answered later,
   from the loop, with no observation. That is this process's fault, never a fact about
   the name or its servers. */
static void fail_deferred(struct mts_dns *d, struct dns_job *j)
{
    struct dns_job *w = j->waiters;

    if (j->flags & MTS_DNS_CACHE) {
        struct dns_job **p = coalesce_find(d, &j->key);
        if (*p == j)
            *p = j->hnext;
    }
    j->waiters = NULL;
    j->obs = NULL;
    done_push(d, j);
    while (w) {
        struct dns_job *next = w->next;
        w->obs = NULL;
        done_push(d, w);
        w = next;
    }
}

/* Feeds waiting work into the network: retries first, then new lookups in FIFO order. */
static void pump(struct mts_dns *d)
{
    for (;;) {
        struct dns_slot *s = d->retry_head;
        struct dns_job *j;

        if (!s && (!d->fifo_head || !d->free_slots))
            return;
        if (!take_token(d))
            return;
        if (s) {
            d->retry_head = s->next;
            if (!d->retry_head)
                d->retry_tail = NULL;
            d->st.queued--;
            send_try(d, s);
            continue;
        }
        j = d->fifo_head;
        d->fifo_head = j->next;
        if (!d->fifo_head)
            d->fifo_tail = NULL;
        j->next = NULL;
        d->st.queued--;
        s = d->free_slots;
        if (slot_start(d, s, j) != 0) {
            fail_deferred(d, j);
            continue;
        }
        d->free_slots = s->next;
        send_try(d, s);
    }
}

/* ---- completion ---- */

/* Hands the observation to the query and, marked as cached, to every query that joined it
   (joined: that observation, written once, NULL when there are no waiters or it could not
   be allocated; each waiter gets a copy). */
static void deliver(struct mts_dns *d, struct dns_job *j, char *obs,
                    const struct mts_dns_reply *reply, const char *joined)
{
    d->in_callback++;
    for (struct dns_job *w = j->waiters, *next; w; w = next) {
        next = w->next;
        w->cb(w->arg, joined ? strdup(joined) : NULL, reply);
        job_free(w);
    }
    j->waiters = NULL;
    j->cb(j->arg, obs, reply);
    job_free(j);
    d->in_callback--;
}

/* A CACHE lookup's reply into the cache, with the observation its hits share. */
static void cache_store(struct mts_dns *d, const struct dns_slot *s, const struct dns_job *j,
                        const struct mts_dns_reply *reply, const char *joined)
{
    uint32_t ttl = mts_dns_obs_ttl(reply, mts_dns_obs_result(reply, j->qtype));
    struct mts_dns_cache_meta cm = {(uint16_t)s->resolver, s->tries, s->tcp, NULL, 0};

    if (ttl > d->o.cache_max_ttl_s)
        ttl = d->o.cache_max_ttl_s;
    if (!ttl)
        return;
    if (joined && (cm.obs_tail = mts_dns_obs_tail(joined, j->text)))
        cm.obs_tail_len = strlen(cm.obs_tail);
    mts_dns_cache_put(d->cache, &j->key, mts_now_ms() / 1e3, ttl, reply->wire, reply->len, &cm);
}

/* Ends a lookup: one observation for its query and every query that joined it. reply is
 * borrowed. Called only from loop callbacks, never from mts_dns_query. */
static void finish(struct mts_dns *d, struct dns_slot *s, const struct mts_dns_reply *reply,
                   const char *noreply)
{
    struct dns_job *j = s->job;
    struct mts_dns_obs_meta meta = {
        .resolver = d->res[s->resolver].name,
        .tries = s->tries,
        .ms = s->tries ? mts_now_ms() - s->t_first : 0.0,
        .tcp = s->tcp,
        .cached = false,
    };
    char *obs = mts_dns_obs_new(j->text, j->qtype, reply, noreply, &meta), *joined = NULL;
    bool store = reply && d->cache && (j->flags & MTS_DNS_CACHE);

    if (reply)
        d->st.answered++;
    else
        d->st.timeouts += mts_dns_result_parse(noreply) == MTS_DNS_RESULT_TIMEOUT;
    if (j->waiters || store) {
        meta.cached = true;
        meta.ms = 0.0;
        joined = mts_dns_obs_new(j->text, j->qtype, reply, noreply, &meta);
    }
    if (j->flags & MTS_DNS_CACHE) {
        struct dns_job **p = coalesce_find(d, &j->key);
        if (*p == j)
            *p = j->hnext;
    }
    if (store)
        cache_store(d, s, j, reply, joined);
    slot_release(d, s);
    deliver(d, j, obs, reply, joined);
    free(joined);
    pump(d);
}

/* ---- TCP after truncation ---- */

static void tcp_fail(struct mts_dns *d, struct dns_slot *s)
{
    finish(d, s, NULL, mts_dns_result_name(MTS_DNS_RESULT_ERROR));
}

/* Reads a reply into r (the engine's RR array) and checks that it answers j. */
static bool reply_for(struct mts_dns *d, struct mts_dns_reply *r, const uint8_t *w, size_t len,
                      const struct dns_job *j)
{
    uint8_t name[MTS_WIRE_NAME_MAX];
    size_t pos;

    if (!mts_wire_read(r, w, len, d->rrs, MTS_WIRE_RR_CAP(len)) || r->qdcount != 1 ||
        r->qtype != j->qtype || r->qclass != LDNS_RR_CLASS_IN)
        return false;
    pos = r->qname;
    size_t n = mts_wire_name(w, len, &pos, name);
    return mts_wire_name_equal(name, n, j->key.name, j->key.len);
}

static void on_tcp(evutil_socket_t fd, short what, void *arg)
{
    struct dns_slot *s = arg;
    struct mts_dns *d = s->dns;
    ssize_t n;

    (void)what;
    if (s->state == ST_TCP_CONNECT) {
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
            tcp_fail(d, s);
            return;
        }
        enter_state(s, ST_TCP_WRITE);
    }
    if (s->state == ST_TCP_WRITE) {
        n = send(fd, s->tcp_buf + s->tcp_off, s->tcp_need - s->tcp_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0) {
            tcp_fail(d, s);
            return;
        }
        s->tcp_off += (size_t)n;
        if (s->tcp_off < s->tcp_need)
            return;
        enter_state(s, ST_TCP_READ);
        s->tcp_off = 0;
        s->tcp_need = 2;
        event_del(s->tcp_ev);
        event_assign(s->tcp_ev, d->base, fd, EV_READ | EV_PERSIST, on_tcp, s);
        event_add(s->tcp_ev, NULL);
        return;
    }
    n = recv(fd, s->tcp_buf + s->tcp_off, s->tcp_need - s->tcp_off, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        tcp_fail(d, s);
        return;
    }
    s->tcp_off += (size_t)n;
    if (s->tcp_off == 2 && s->tcp_need == 2) {
        s->tcp_need = 2 + ((size_t)s->tcp_buf[0] << 8 | s->tcp_buf[1]);
        if (s->tcp_need < 2 + 12) {
            tcp_fail(d, s);
            return;
        }
    }
    if (s->tcp_off < s->tcp_need)
        return;
    {
        struct mts_dns_reply reply;
        uint8_t *buf = s->tcp_buf;

        if (!reply_for(d, &reply, buf + 2, s->tcp_need - 2, s->job) || reply.id != s->id ||
            !reply.qr) {
            d->st.dropped++;
            tcp_fail(d, s);
            return;
        }
        s->tcp_buf = NULL; /* the reply reads it until the callbacks return: the slot goes first */
        finish(d, s, &reply, NULL);
        free(buf);
    }
}

static void tcp_wait_push(struct mts_dns *d, struct dns_slot *s)
{
    enter_state(s, ST_TCP_WAIT);
    s->next = NULL;
    if (d->tcp_wait_tail)
        d->tcp_wait_tail->next = s;
    else
        d->tcp_wait_head = s;
    d->tcp_wait_tail = s;
}

static void tcp_wait_remove(struct mts_dns *d, struct dns_slot *s)
{
    struct dns_slot **p = &d->tcp_wait_head, *prev = NULL;
    while (*p && *p != s) {
        prev = *p;
        p = &(*p)->next;
    }
    if (!*p)
        return;
    *p = s->next;
    if (d->tcp_wait_tail == s)
        d->tcp_wait_tail = prev;
    s->next = NULL;
}

/* Opens the exchange's socket and connects; false when this machine could not (errno says
 * why; nothing is left open). */
static bool tcp_open(struct mts_dns *d, struct dns_slot *s)
{
    const struct mts_dns_addr *a = &d->res[s->resolver].addr;
    s->tcp_fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->tcp_fd < 0)
        return false;
    d->tcp_open++;
    if (connect(s->tcp_fd, (const struct sockaddr *)&a->ss, a->len) < 0 && errno != EINPROGRESS) {
        int err = errno;
        close(s->tcp_fd);
        s->tcp_fd = -1;
        d->tcp_open--;
        errno = err;
        return false;
    }
    return true;
}

/* Starts the TCP exchange now, or queues it while the TCP bound is reached or this machine
 * is out of sockets; the exchange's deadline (its timer) runs either way. */
static void tcp_try(struct mts_dns *d, struct dns_slot *s)
{
    if (d->tcp_open >= d->o.max_tcp) {
        tcp_wait_push(d, s);
        return;
    }
    if (!tcp_open(d, s)) {
        if (!mts_errno_is_local(errno)) {
            tcp_fail(d, s);
            return;
        }
        s->local_tries++;
        tcp_wait_push(d, s);
        if (!evtimer_pending(d->ev_tcp_wake, NULL)) {
            struct timeval tv = {0, 1000 * (suseconds_t)mts_local_backoff_ms(s->local_tries)};
            evtimer_add(d->ev_tcp_wake, &tv);
        }
        return;
    }
    s->tcp_buf[0] = (uint8_t)(s->wire_len >> 8);
    s->tcp_buf[1] = (uint8_t)s->wire_len;
    memcpy(s->tcp_buf + 2, s->wire, s->wire_len);
    s->tcp_off = 0;
    s->tcp_need = 2 + (size_t)s->wire_len;
    if (!(s->tcp_ev = event_new(d->base, s->tcp_fd, EV_WRITE | EV_PERSIST, on_tcp, s)) ||
        event_add(s->tcp_ev, NULL) < 0) {
        tcp_fail(d, s);
        return;
    }
    enter_state(s, ST_TCP_CONNECT);
}

static void on_tcp_wake(evutil_socket_t fd, short what, void *arg)
{
    struct mts_dns *d = arg;
    (void)fd, (void)what;
    while (d->tcp_wait_head && d->tcp_open < d->o.max_tcp &&
           !evtimer_pending(d->ev_tcp_wake, NULL)) {
        struct dns_slot *s = d->tcp_wait_head;
        d->tcp_wait_head = s->next;
        if (!d->tcp_wait_head)
            d->tcp_wait_tail = NULL;
        s->next = NULL;
        tcp_try(d, s);
    }
}

static void tcp_start(struct mts_dns *d, struct dns_slot *s)
{
    s->tcp = true;
    d->st.tcp_fallbacks++;
    if (d->o.rate_qps) {
        refill(d);
        d->tokens -= 1.0; /* no waiting: the debt delays later sends instead */
    }
    if (!(s->tcp_buf = malloc(2 + 65535))) {
        tcp_fail(d, s);
        return;
    }
    evtimer_add(s->timer, &d->tv_tcp);
    tcp_try(d, s);
}

/* ---- UDP ---- */

static void on_datagram(struct mts_dns *d, struct dns_sock *sk, const uint8_t *w, size_t n,
                        const struct sockaddr *from, socklen_t fromlen)
{
    struct dns_slot *s;
    struct mts_dns_reply reply;
    uint32_t idx;

    if (n < 12 || !(w[2] & 0x80) || !(idx = sk->ids[(uint16_t)(w[0] << 8 | w[1])])) {
        d->st.dropped++;
        return;
    }
    s = &d->slots[idx - 1];
    if (!mts_dns_addr_equal(&d->res[s->resolver].addr, from, fromlen) ||
        !reply_for(d, &reply, w, n, s->job)) {
        d->st.dropped++;
        return;
    }
    unmap(d, s);
    evtimer_del(s->timer);
    if (reply.tc) {
        tcp_start(d, s);
        return;
    }
    finish(d, s, &reply, NULL);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
    struct dns_sock *sk = arg;
    struct mts_dns *d = sk->dns;

    (void)what;
    for (int round = 0; round < RECV_BATCH / RECV_MMSG; round++) {
        for (int i = 0; i < RECV_MMSG; i++) {
            d->riov[i] = (struct iovec){.iov_base = d->rbuf[i], .iov_len = RECV_BUF};
            d->rmsg[i].msg_hdr = (struct msghdr){.msg_name = &d->rfrom[i],
                                                 .msg_namelen = sizeof(d->rfrom[i]),
                                                 .msg_iov = &d->riov[i],
                                                 .msg_iovlen = 1};
        }
        int n = recvmmsg(fd, d->rmsg, RECV_MMSG, MSG_DONTWAIT, NULL);
        for (int i = 0; i < n; i++) {
            const struct msghdr *h = &d->rmsg[i].msg_hdr;
            if (h->msg_flags & MSG_TRUNC) {
                d->st.dropped++; /* larger than any reply to our EDNS size: not ours */
                continue;
            }
            on_datagram(d, sk, d->rbuf[i], d->rmsg[i].msg_len, (const struct sockaddr *)h->msg_name,
                        h->msg_namelen);
        }
        if (n < RECV_MMSG)
            return;
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct dns_slot *s = arg;
    struct mts_dns *d = s->dns;

    (void)fd, (void)what;
    if (s->state == ST_TCP_WAIT) {
        /* Never connected: this machine's shortage, or the TCP bound, not the server. */
        tcp_wait_remove(d, s);
        finish(d, s, NULL,
               mts_dns_result_name(s->local_tries ? MTS_DNS_RESULT_LOCAL_ERROR
                                                  : MTS_DNS_RESULT_QUEUE_TIMEOUT));
        return;
    }
    if (s->state != ST_UDP_WAIT) {
        finish(d, s, NULL,
               mts_dns_result_name(MTS_DNS_RESULT_TIMEOUT)); /* the TCP exchange's deadline */
        return;
    }
    unmap(d, s);
    if (s->unsent) {
        s->tries--;
        if (++s->local_tries >= LOCAL_SENDS_MAX) {
            finish(d, s, NULL, mts_dns_result_name(MTS_DNS_RESULT_LOCAL_ERROR));
            return;
        }
    }
    if (s->tries >= d->o.tries) {
        finish(d, s, NULL, mts_dns_result_name(MTS_DNS_RESULT_TIMEOUT));
        return;
    }
    s->resolver = (s->resolver + 1) % (unsigned)d->nres;
    enter_state(s, ST_RETRY_WAIT);
    s->next = NULL;
    if (d->retry_tail)
        d->retry_tail->next = s;
    else
        d->retry_head = s;
    d->retry_tail = s;
    d->st.queued++;
    pump(d);
}

/* ---- set-up ---- */

static int open_socket(struct mts_dns *d, struct dns_sock *sk, int family)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1, rcvbuf = 4 << 20;

    memset(&ss, 0, sizeof(ss));
    ss.ss_family = (sa_family_t)family;
    len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    sk->dns = d;
    sk->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sk->fd < 0)
        return MTS_DNS_ESOCKET;
    if (family == AF_INET6)
        setsockopt(sk->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    /* Bursts of replies overflow the default buffer; FORCE works when privileged. */
    if (setsockopt(sk->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        setsockopt(sk->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (bind(sk->fd, (struct sockaddr *)&ss, len) < 0) /* port 0: the kernel picks at random */
        return MTS_DNS_ESOCKET;
    sk->ids = calloc(IDS_PER_SOCK, sizeof *sk->ids);
    if (!sk->ids)
        return MTS_DNS_ENOMEM;
    sk->ev = event_new(d->base, sk->fd, EV_READ | EV_PERSIST, on_udp, sk);
    if (!sk->ev || event_add(sk->ev, NULL) < 0)
        return MTS_DNS_EEVENT;
    return 0;
}

static int set_defaults(struct mts_dns_opts *o)
{
    o->timeout_ms = o->timeout_ms ? o->timeout_ms : MTS_DEFAULT_TIMEOUT_DNS_MS;
    o->tries = o->tries ? o->tries : MTS_DEFAULT_DNS_TRIES;
    o->tcp_timeout_ms = o->tcp_timeout_ms ? o->tcp_timeout_ms : MTS_DEFAULT_DNS_TCP_TIMEOUT_MS;
    o->max_tcp = o->max_tcp ? o->max_tcp : MTS_DEFAULT_DNS_TCP_MAX;
    o->max_inflight = o->max_inflight ? o->max_inflight : MTS_DEFAULT_DNS_INFLIGHT;
    o->cache_entries = o->cache_entries ? o->cache_entries : MTS_DEFAULT_DNS_CACHE_ENTRIES;
    o->cache_bytes = o->cache_bytes ? o->cache_bytes : MTS_DEFAULT_DNS_CACHE_BYTES;
    o->cache_max_ttl_s = o->cache_max_ttl_s ? o->cache_max_ttl_s : MTS_DEFAULT_DNS_CACHE_MAX_TTL_S;
    o->sockets = o->sockets ? o->sockets : MTS_DEFAULT_DNS_SOCKETS;
    o->edns_size = o->edns_size ? o->edns_size : MTS_DEFAULT_DNS_EDNS_SIZE;
    o->resolvers = NULL; /* copied into res[] */
    if (o->tries > 255 || o->max_inflight > MAX_INFLIGHT_CAP || o->sockets > 256 ||
        o->edns_size < 512 || o->edns_size > RECV_BUF)
        return MTS_DNS_EINVAL;
    /* Enough sockets that an ID search stays short: at most a quarter of each ID space. */
    while (o->sockets * (IDS_PER_SOCK / 4) < o->max_inflight)
        o->sockets++;
    return 0;
}

static int setup(struct mts_dns *d, const struct mts_dns_opts *opts)
{
    size_t nslots = d->o.max_inflight, nb = 1024;
    int err;

    if (opts->resolvers && opts->nresolvers) {
        if (opts->nresolvers > MTS_DNS_MAX_RESOLVERS)
            return MTS_DNS_EINVAL;
        for (size_t i = 0; i < opts->nresolvers; i++)
            if ((err = mts_dns_addr_parse(opts->resolvers[i], &d->res[i].addr)) != 0)
                return err;
        d->nres = opts->nresolvers;
    } else {
        struct mts_dns_addr a[MTS_DNS_MAX_RESOLVERS];
        err = mts_dns_resolv_conf(opts->resolv_conf ? opts->resolv_conf : "/etc/resolv.conf", a,
                                  MTS_DNS_MAX_RESOLVERS, &d->nres);
        if (err)
            return err;
        for (size_t i = 0; i < d->nres; i++)
            d->res[i].addr = a[i];
    }
    for (size_t i = 0; i < d->nres; i++) {
        mts_dns_addr_format(&d->res[i].addr, d->res[i].name, sizeof(d->res[i].name));
        d->sock_count[family_index(&d->res[i].addr)] = d->o.sockets;
    }
    d->sock_first[1] = d->sock_count[0];
    d->nsocks = d->sock_count[0] + d->sock_count[1];
    d->socks = calloc(d->nsocks, sizeof *d->socks);
    if (!d->socks)
        return MTS_DNS_ENOMEM;
    for (size_t i = 0; i < d->nsocks; i++)
        d->socks[i].fd = -1;
    for (size_t i = 0; i < d->nsocks; i++)
        if ((err = open_socket(d, &d->socks[i], i < d->sock_count[0] ? AF_INET : AF_INET6)))
            return err;

    d->slots = calloc(nslots, sizeof *d->slots);
    if (!d->slots)
        return MTS_DNS_ENOMEM;
    for (size_t i = nslots; i-- > 0;) {
        struct dns_slot *s = &d->slots[i];
        s->dns = d;
        s->tcp_fd = -1;
        if (!(s->timer = evtimer_new(d->base, on_timer, s)))
            return MTS_DNS_EEVENT;
        s->next = d->free_slots;
        d->free_slots = s;
    }
    while (nb < 2 * nslots)
        nb <<= 1;
    d->coalesce = calloc(nb, sizeof *d->coalesce);
    if (!d->coalesce)
        return MTS_DNS_ENOMEM;
    d->coalesce_mask = nb - 1;
    if (!d->o.no_cache &&
        (err = mts_dns_cache_new(&d->cache, d->o.cache_entries, d->o.cache_bytes)))
        return err;

    {
        struct timeval tv = {d->o.timeout_ms / 1000, (d->o.timeout_ms % 1000) * 1000};
        d->tv_try = event_base_init_common_timeout(d->base, &tv);
        d->tv_tcp.tv_sec = d->o.tcp_timeout_ms / 1000;
        d->tv_tcp.tv_usec = (d->o.tcp_timeout_ms % 1000) * 1000;
    }
    d->ev_done = event_new(d->base, -1, 0, on_done, d);
    d->ev_flush = event_new(d->base, -1, 0, on_flush, d);
    d->ev_rate = evtimer_new(d->base, on_rate, d);
    d->ev_tcp_wake = evtimer_new(d->base, on_tcp_wake, d);
    if (!d->tv_try || !d->ev_done || !d->ev_flush || !d->ev_rate || !d->ev_tcp_wake)
        return MTS_DNS_EEVENT;
    d->burst = d->o.rate_qps * RATE_BURST_PERIOD;
    d->burst = d->burst < 1.0 ? 1.0 : d->burst;
    d->tokens = d->burst;
    d->t_refill = mts_now_ms();
    if (getrandom(d->rng, sizeof(d->rng), 0) != (ssize_t)sizeof(d->rng))
        return MTS_DNS_ENOMEM;
    return 0;
}

int mts_dns_new(struct mts_dns **out, struct event_base *base, const struct mts_dns_opts *opts)
{
    struct mts_dns *d;
    int err;

    if (!out || !base || !opts)
        return MTS_DNS_EINVAL;
    d = calloc(1, sizeof *d);
    if (!d)
        return MTS_DNS_ENOMEM;
    d->base = base;
    d->o = *opts;
    if ((err = set_defaults(&d->o)) != 0 || (err = setup(d, opts)) != 0) {
        mts_dns_free(d);
        return err;
    }
    d->st.bytes_per_slot = sizeof(struct dns_slot) + event_get_struct_event_size();
    d->st.bytes_per_queued = sizeof(struct dns_job) + sizeof(ldns_rdf);
    d->st.bytes_fixed = sizeof *d + d->nsocks * IDS_PER_SOCK * sizeof(uint32_t) +
                        (d->coalesce_mask + 1) * sizeof *d->coalesce +
                        d->o.max_inflight * d->st.bytes_per_slot +
                        (d->cache ? mts_dns_cache_fixed_bytes(d->cache) : 0);
    *out = d;
    return 0;
}

void mts_dns_free(struct mts_dns *d)
{
    if (!d)
        return;
    if (d->in_callback)
        abort(); /* documented: never from a callback */
    for (size_t i = 0; d->slots && i < d->o.max_inflight; i++) {
        struct dns_slot *s = &d->slots[i];
        if (s->job)
            job_tree_free(s->job);
        tcp_close(s);
        if (s->timer)
            event_free(s->timer);
    }
    free(d->slots);
    job_tree_free(d->fifo_head);
    job_tree_free(d->done_head);
    for (size_t i = 0; d->socks && i < d->nsocks; i++) {
        if (d->socks[i].ev)
            event_free(d->socks[i].ev);
        if (d->socks[i].fd >= 0)
            close(d->socks[i].fd);
        free(d->socks[i].ids);
    }
    free(d->socks);
    free(d->coalesce);
    mts_dns_cache_free(d->cache);
    if (d->ev_done)
        event_free(d->ev_done);
    if (d->ev_flush)
        event_free(d->ev_flush);
    if (d->ev_rate)
        event_free(d->ev_rate);
    if (d->ev_tcp_wake)
        event_free(d->ev_tcp_wake);
    free(d);
}

/* ---- queries ---- */

/* A new job for qname in *out: 0, MTS_DNS_ENAME (not a domain name, or longer than 255
   octets on the wire) or MTS_DNS_ENOMEM. */
static int job_new(struct dns_job **out, const char *qname, ldns_rr_type qtype, unsigned flags,
                   mts_dns_cb cb, void *arg)
{
    size_t n = strlen(qname);
    ldns_rdf *dname = NULL;
    struct dns_job *j;
    uint8_t *key;

    if (n > 1 && qname[n - 1] == '.')
        n--;
    if (n == 0)
        return MTS_DNS_ENAME;
    ldns_status status = ldns_str2rdf_dname(&dname, qname);
    if (status == LDNS_STATUS_MEM_ERR)
        return MTS_DNS_ENOMEM;
    if (status != LDNS_STATUS_OK)
        return MTS_DNS_ENAME;
    j = calloc(1, sizeof *j + n + 1 + ldns_rdf_size(dname));
    if (!j) {
        ldns_rdf_deep_free(dname);
        return MTS_DNS_ENOMEM;
    }
    memcpy(j->text, qname, n);
    key = (uint8_t *)j->text + n + 1;
    /* Length octets are below 64, so lower-casing the whole wire name only touches letters. */
    for (size_t i = 0; i < ldns_rdf_size(dname); i++)
        key[i] = (uint8_t)(ldns_rdf_data(dname)[i] >= 'A' && ldns_rdf_data(dname)[i] <= 'Z'
                               ? ldns_rdf_data(dname)[i] + 32
                               : ldns_rdf_data(dname)[i]);
    j->key.name = key;
    j->key.len = ldns_rdf_size(dname);
    j->key.qtype = (uint16_t)qtype;
    j->key.dnssec_ok = (flags & MTS_DNS_DO) != 0;
    j->key.hash = mts_dns_key_hash(&j->key);
    j->dname = dname;
    j->qtype = qtype;
    j->flags = flags;
    j->cb = cb;
    j->arg = arg;
    *out = j;
    return 0;
}

static bool answer_from_cache(struct mts_dns *d, struct dns_job *j)
{
    struct mts_dns_cache_meta cm;
    const uint8_t *wire;
    size_t len;
    struct mts_dns_obs_meta meta = {.cached = true};

    if (!d->cache || !mts_dns_cache_get(d->cache, &j->key, mts_now_ms() / 1e3, &wire, &len, &cm) ||
        !(j->reply = mts_wire_copy(wire, len)))
        return false;
    meta.resolver = d->res[cm.resolver].name;
    meta.tries = cm.tries;
    meta.tcp = cm.tcp;
    j->obs = cm.obs_tail ? mts_dns_obs_join(j->text, cm.obs_tail, cm.obs_tail_len)
                         : mts_dns_obs_new(j->text, j->qtype, j->reply, NULL, &meta);
    d->st.cache_hits++;
    done_push(d, j);
    return true;
}

int mts_dns_query(struct mts_dns *d, const char *qname, ldns_rr_type qtype, unsigned flags,
                  mts_dns_cb cb, void *arg)
{
    struct dns_job *j = NULL;

    if (!d || !qname || !cb || (flags & ~(MTS_DNS_CACHE | MTS_DNS_DO)))
        return MTS_DNS_EINVAL;
    int rc = job_new(&j, qname, qtype, flags, cb, arg);
    if (rc != 0)
        return rc;
    d->st.queries++;
    if (flags & MTS_DNS_CACHE) {
        struct dns_job **p;
        if (answer_from_cache(d, j))
            return 0;
        p = coalesce_find(d, &j->key);
        if (*p) {
            j->next = (*p)->waiters;
            (*p)->waiters = j;
            d->st.coalesced++;
            return 0;
        }
        *p = j;
    }
    j->next = NULL;
    if (d->fifo_tail)
        d->fifo_tail->next = j;
    else
        d->fifo_head = j;
    d->fifo_tail = j;
    d->st.queued++;
    pump(d);
    return 0;
}

void mts_dns_stats(const struct mts_dns *d, struct mts_dns_stats *out)
{
    *out = d->st;
    out->cache_used = d->cache ? mts_dns_cache_used(d->cache) : 0;
    out->cache_bytes = d->cache ? mts_dns_cache_bytes(d->cache) : 0;
}

size_t mts_dns_nresolvers(const struct mts_dns *d)
{
    return d->nres;
}

const char *mts_dns_resolver(const struct mts_dns *d, size_t i)
{
    return i < d->nres ? d->res[i].name : NULL;
}

const char *mts_dns_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case MTS_DNS_EINVAL:
        return "invalid argument";
    case MTS_DNS_ENOMEM:
        return "out of memory";
    case MTS_DNS_ERESOLVER:
        return "resolver is not IP[:PORT] or [IPv6]:PORT";
    case MTS_DNS_ENORESOLVER:
        return "no usable nameserver in resolv.conf";
    case MTS_DNS_ESOCKET:
        return "cannot create or bind a UDP socket";
    case MTS_DNS_EEVENT:
        return "libevent refused an event";
    case MTS_DNS_ENAME:
        return "invalid query name";
    default:
        return "unknown error";
    }
}
