/*
 * Blackholed listeners: see blackhole.h for why. Each blackhole is two sockets, the
 * listener and the connection that fills its accept queue; nothing is ever accepted, so
 * nothing needs the event loop.
 */
#include "blackhole.h"
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct blackhole {
    int listener, filler;
};

struct world_blackholes {
    struct blackhole *holes;
    size_t n, cap;
};

static int hole_open(struct world_blackholes *b, struct in_addr addr, uint16_t port, char *err,
                     size_t errlen)
{
    for (size_t i = 0; i < b->n; i++) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        if (getsockname(b->holes[i].listener, (struct sockaddr *)&sa, &sl) == 0 &&
            sa.sin_addr.s_addr == addr.s_addr && sa.sin_port == htons(port))
            return 0; /* two hosts or domains on one address and port: one hole is enough */
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 8;
        struct blackhole *h = realloc(b->holes, cap * sizeof *h);
        if (!h) {
            snprintf(err, errlen, "blackhole: out of memory");
            return -1;
        }
        b->holes = h;
        b->cap = cap;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = addr};
    int one = 1;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int f = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* An accept queue of one (backlog 0), full once the filler's handshake is in it. */
    if (l < 0 || f < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 0) < 0 ||
        connect(f, (struct sockaddr *)&sa, sizeof sa) < 0) {
        snprintf(err, errlen, "blackhole %s:%u: %s", inet_ntoa(addr), port, strerror(errno));
        if (l >= 0)
            close(l);
        if (f >= 0)
            close(f);
        return -1;
    }
    b->holes[b->n++] = (struct blackhole){.listener = l, .filler = f};
    return 0;
}

int world_blackholes_new(struct world_blackholes **out, const struct world *w, uint16_t https_port,
                         uint16_t smtp_port, char *err, size_t errlen)
{
    struct world_blackholes *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "blackhole: out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; !w->generated && rc == 0 && i < w->nhosts; i++)
        if (w->hosts[i].smtp.connect == WORLD_CONNECT_TIMEOUT)
            rc = hole_open(b, w->hosts[i].addr, smtp_port, err, errlen);
    for (size_t i = 0; !w->generated && rc == 0 && i < w->ndomains; i++) {
        if (w->domains[i].policy.connect != WORLD_CONNECT_TIMEOUT)
            continue;
        char name[WORLD_NAME_MAX + 8];
        snprintf(name, sizeof name, "mta-sts.%s", w->domains[i].name);
        struct world_node node;
        if (world_dns_node(w, name, &node) < 0)
            continue;
        for (unsigned k = 0; rc == 0 && k < node.nrr; k++) {
            struct in_addr a;
            if (node.rr[k].type != 1 /* A */ || node.rr[k].rdlen != 4)
                continue;
            memcpy(&a.s_addr, node.data + node.rr[k].off, 4);
            rc = hole_open(b, a, https_port, err, errlen);
        }
    }
    if (rc < 0) {
        world_blackholes_free(b);
        return -1;
    }
    *out = b;
    return 0;
}

size_t world_blackholes_count(const struct world_blackholes *b)
{
    return b ? b->n : 0;
}

void world_blackholes_free(struct world_blackholes *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        close(b->holes[i].filler);
        close(b->holes[i].listener);
    }
    free(b->holes);
    free(b);
}

struct evconnlistener *world_listen_any(struct event_base *base, uint16_t port,
                                        evconnlistener_cb cb, void *arg, uint16_t *bound,
                                        const char *who, char *err, size_t errlen)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    struct evconnlistener *l =
        evconnlistener_new_bind(base, cb, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
                                (struct sockaddr *)&sin, sizeof sin);
    if (!l) {
        snprintf(err, errlen, "%s: cannot listen on port %u: %s", who, (unsigned)port,
                 strerror(errno));
        return NULL;
    }
    /* After the bind: a SO_REUSEPORT bind to port 0 could be handed a port another such
       listener already holds. */
    int reuse = 1;
    setsockopt(evconnlistener_get_fd(l), SOL_SOCKET, SO_REUSEPORT, &reuse, sizeof reuse);
    socklen_t sl = sizeof sin;
    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &sl) != 0) {
        snprintf(err, errlen, "%s: getsockname: %s", who, strerror(errno));
        evconnlistener_free(l);
        return NULL;
    }
    *bound = ntohs(sin.sin_port);
    return l;
}
