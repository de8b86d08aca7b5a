/*
 * group.h - a handler group: one set of endpoints (its routes) plus the
 * hooks through which the server drives it, in the way h2o's handlers plug
 * into its context. The server walks the list of groups it was given and
 * names none of them; the router builds its table from their routes; each
 * group keeps its own state (per loop, and optionally one object shared by
 * every loop), so struct app holds only the per-loop core.
 *
 * A group may leave any hook NULL. Every per-loop hook gets the state its
 * init() made on that loop (NULL if it made none).
 *
 * Threads and order (see docs/architecture.md):
 *   shared_new        once per server, before any loop exists (main thread);
 *   init              once per loop, on the thread that builds the server,
 *                     loop 0 first, before any loop runs (so what loop 0's
 *                     init stores in the shared object is visible to every
 *                     loop: pthread_create orders it);
 *   publish, drain,   on that loop's own thread;
 *   expire, busy,
 *   metrics, unready
 *   close             on the thread that frees the server, after every loop
 *                     stopped and every request ended, before the executor
 *                     is freed (jobs may still be running);
 *   free              the same thread, after the executor was freed (every
 *                     job handed back), loop N-1 first and loop 0 last;
 *   shared_free       last of all.
 */
#ifndef IOCPU_GROUP_H
#define IOCPU_GROUP_H

#include <stddef.h>

#include "buf.h"
#include "config.h"

typedef struct app app;
typedef struct http_req http_req;
typedef void (*http_handler)(http_req *r);

/* One routed endpoint; path may end in "/{id}" (one path segment). */
typedef struct route {
    const char *method;
    const char *path;
    http_handler fn;
    const char *lesson; /* the one-line lesson shown by GET / */
} route;

typedef struct http_group {
    const char *name;
    const route *routes;
    size_t nroutes;
    /* The paths of its routes that the admin listener (--admin-port) serves
     * too, NULL-terminated; NULL: none. */
    const char *const *admin_paths;
    /* Server-wide state, before the loops exist. 0 or -errno. */
    int (*shared_new)(const config *cfg, void **shared);
    void (*shared_free)(void *shared);
    /* This loop's state (*state starts NULL). 0 or -errno: the server does not start. */
    int (*init)(app *a, void *shared, void **state);
    /* Every LOOPSTATS period (100 ms) and before this loop answers /loop or
     * /metrics: copy what other loops may read into the shared object. */
    void (*publish)(void *state);
    /* The drain begins (SIGTERM): start no new background work. */
    void (*drain)(void *state);
    /* The drain's grace is over: whatever this group still holds answers now. */
    void (*expire)(void *state);
    /* Work of this group on this loop that a drain waits for (0 = none). */
    size_t (*busy)(void *state);
    /* Why the server is not ready (/readyz answers 503 with it), or NULL. */
    const char *(*unready)(void *state);
    /* Appends this group's Prometheus families (the answering loop's thread). */
    void (*metrics)(void *state, buf *out);
    /* Every loop stopped: let go of what other threads still hold. */
    void (*close)(void *state);
    /* Frees the state. */
    void (*free)(void *state);
    /* Server-wide fault injection (--inject-error, --inject-delay): asked on
     * the loop's thread before a routed request's handler runs, and only
     * while one of those flags is on. 1 when it answered r or holds it (then
     * it runs the handler later with http_run_route()), 0: the handler runs
     * now. */
    int (*intercept)(void *state, http_req *r);
} http_group;

/* The groups of a server, in route-table order. */
typedef struct http_groups {
    const http_group *const *v;
    size_t n;
} http_groups;

#endif
