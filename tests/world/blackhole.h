/*
 * Connect timeouts on a shared listener. The HTTPS and SMTP servers listen on INADDR_ANY,
 * so the kernel completes every TCP handshake before the world even knows which host was
 * dialled. For the hosts whose model says connect TIMEOUT, this module binds a listener to
 * that host's own address and port (more specific than the wildcard, so it receives those
 * SYNs) with an accept queue of one, and fills the queue with a connection of its own:
 * from then on the kernel drops every SYN to that address and port, and a client's connect
 * times out exactly as against a host that never answers.
 */
#ifndef WORLD_BLACKHOLE_H
#define WORLD_BLACKHOLE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#include <event2/listener.h>

struct world_blackholes;

/*
 * The wildcard listener the HTTPS and SMTP servers use: INADDR_ANY:port (0 = a free port,
 * returned in *bound), with SO_REUSEPORT set after the bind so that the blackholes, and
 * nothing else, can bind the same port on single addresses. who names the server in the
 * error sentence. Returns the listener, or NULL with a sentence in err.
 */
struct evconnlistener *world_listen_any(struct event_base *base, uint16_t port,
                                        evconnlistener_cb cb, void *arg, uint16_t *bound,
                                        const char *who, char *err, size_t errlen);

/*
 * Creates the blackholes of w (scenario worlds; a generated world has no connect timeouts)
 * on https_port and smtp_port. The wildcard listeners on those ports must have been opened
 * with SO_REUSEPORT. Returns 0 and *out (freed with world_blackholes_free), or -1 with a
 * sentence in err.
 */
int world_blackholes_new(struct world_blackholes **out, const struct world *w, uint16_t https_port,
                         uint16_t smtp_port, char *err, size_t errlen);

/* Number of addresses blackholed (for the start-up message). */
size_t world_blackholes_count(const struct world_blackholes *b);

void world_blackholes_free(struct world_blackholes *b);

#endif
