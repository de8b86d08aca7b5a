/*
 * server.h - one iocpu server: one or more event-loop threads, each driving
 * its own libmicrohttpd daemon on the shared port, plus one executor. Used by main.c and by the
 * integration tests (which run it on a thread of their own, on port 0).
 */
#ifndef IOCPU_SERVER_H
#define IOCPU_SERVER_H

#include <stdint.h>

#include "config.h"
#include "group.h"

typedef struct server server;

/* Binds the listening socket and starts the workers, serving the routes of
 * groups (kept by reference: static storage). 0 or a negative errno. */
int server_new(server **out, const config *cfg, const http_groups *groups);
/* The bound port (useful with port 0). */
uint16_t server_port(const server *s);
/* The admin listener's bound port, 0 when there is none (--admin-port 0). */
uint16_t server_admin_port(const server *s);
/* The number of event loops (--loops, with 0 resolved to the core count). */
long server_loops(const server *s);
/* Runs loop 0 on the calling thread (and loops 1..N-1 on threads of their
 * own, joined before it returns) until server_stop() or a drain ends. 0 or
 * -errno. */
int server_run(server *s);
/* Makes server_run() return now; async-signal-safe and callable from any thread. */
void server_stop(server *s);
/*
 * Starts a graceful drain; async-signal-safe and callable from any thread.
 * /readyz turns 503, the listening socket closes (new connections are
 * refused), requests in flight get up to cfg.grace seconds to finish (their
 * responses carry Connection: close); then those still waiting get 503 and
 * streams end. server_run() returns once no request is left.
 */
void server_drain(server *s);
/*
 * Flips the readiness switch: /readyz answers 503 from now on (the first step
 * of a drain). Any thread; async-signal-safe (one atomic store).
 */
void server_set_draining(server *s);
/* Ends every request, joins the workers, frees everything (after run returned). */
void server_free(server *s);

#endif
