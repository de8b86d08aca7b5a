/*
 * app.h - the state of one running server, shared by the HTTP glue and the
 * handlers. Owned by the loop thread: nothing here is touched by executor
 * workers (they only see their own jobs), except through executor.h.
 */
#ifndef IOCPU_APP_H
#define IOCPU_APP_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "../executor/executor.h"
#include "config.h"
#include "loop.h"

typedef struct http_req http_req;
typedef struct taskstore taskstore;

struct app {
    config cfg;
    loop *loop;
    executor *ex;
    taskstore *tasks;   /* background tasks (handlers/taskstore.h) */
    struct MHD_Daemon *mhd;
    loop_watcher mhd_w; /* MHD's epoll fd inside our epoll set */
    loop_watcher ex_w;  /* the executor's completion eventfd */
    uint16_t port;
    uint64_t started_ns;
    http_req *reqs;     /* every request in progress (intrusive list) */
    size_t nreqs, nsuspended;
    int draining;       /* set on shutdown: /readyz answers 503 */
};

/* Route groups (one per handlers/ file); each returns its table and size. */
const struct route *io_routes(size_t *n);
const struct route *cpu_routes(size_t *n);
const struct route *ops_routes(size_t *n);
const struct route *tasks_routes(size_t *n);

#endif
