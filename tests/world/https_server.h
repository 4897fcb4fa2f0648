/*
 * The world's HTTPS server: plays every policy host (and every other web host) of the
 * simulated Internet on one listener, answering as the model says for the SNI name and the
 * local address each connection arrived on.
 */
#ifndef WORLD_HTTPS_SERVER_H
#define WORLD_HTTPS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "ca.h"
#include "model.h"

struct world_https_server;

/*
 * Listens on INADDR_ANY:port (0 = the kernel picks; see world_https_server_port()) on
 * base. w and ca are borrowed and must outlive the server. Returns NULL with a message in
 * err on failure.
 */
struct world_https_server *world_https_server_new(struct event_base *base, const struct world *w,
                                                  struct world_ca *ca, uint16_t port, char *err,
                                                  size_t errlen);

/* The port actually bound. */
uint16_t world_https_server_port(const struct world_https_server *srv);

/* Counters for logs and benchmarks. */
struct world_https_stats {
    unsigned long accepted, handshakes, requests, open, max_open;
};
void world_https_server_get_stats(const struct world_https_server *srv,
                                  struct world_https_stats *out);

/* Closes the listener and every open connection. NULL is a no-op. */
void world_https_server_free(struct world_https_server *srv);

#endif
