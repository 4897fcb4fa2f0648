/*
 * The world's SMTP server: plays every MX host of the simulated Internet on one listener.
 * The local address a connection arrived on names the host; the model says how its
 * banner, EHLO, STARTTLS and TLS behave. It also counts concurrent sessions per address so
 * tests can check that a scanner is polite (--per-ip).
 */
#ifndef WORLD_SMTP_SERVER_H
#define WORLD_SMTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "ca.h"
#include "model.h"

struct world_smtp_server;

/*
 * Listens on INADDR_ANY:port (0 = the kernel picks) on base. w and ca are borrowed and
 * must outlive the server. With stats_path != NULL the per-address statistics are written
 * there on SIGUSR1 and by world_smtp_server_free(). Returns NULL with a message in err.
 */
struct world_smtp_server *world_smtp_server_new(struct event_base *base, const struct world *w,
                                                struct world_ca *ca, uint16_t port,
                                                const char *stats_path, char *err, size_t errlen);

/* The port actually bound. */
uint16_t world_smtp_server_port(const struct world_smtp_server *srv);

/*
 * Writes the per-address statistics as one JSON object (atomically, via rename):
 * {"127.1.0.1": {"max_concurrent": 3, "sessions": 40, "open": 0}, ...}.
 * Returns 0, or -1 with errno set.
 */
int world_smtp_server_write_stats(const struct world_smtp_server *srv, const char *path);

/* Writes the statistics (when a path was given), closes the listener and every session. */
void world_smtp_server_free(struct world_smtp_server *srv);

#endif
