/*
 * app.h - the state of one running server, shared by the HTTP glue and the
 * handlers. Owned by the loop thread: nothing here is touched by executor
 * workers (they only see their own jobs), except through executor.h, and
 * `draining`, which any thread or a signal handler may set.
 */
#ifndef IOCPU_APP_H
#define IOCPU_APP_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../executor/executor.h"
#include "access_log.h"
#include "config.h"
#include "lagprobe.h"
#include "loop.h"
#include "metrics.h"

typedef struct http_req http_req;
typedef struct app app;
typedef struct taskstore taskstore;

struct app {
    config cfg;
    loop *loop;
    executor *ex;
    taskstore *tasks; /* background tasks (handlers/taskstore.h) */
    struct MHD_Daemon *mhd;
    loop_watcher mhd_w; /* MHD's epoll fd inside our epoll set */
    loop_watcher ex_w;  /* the executor's completion eventfd */
    uint16_t port;
    uint64_t started_ns;
    http_req *reqs; /* every request in progress (intrusive list) */
    size_t nreqs, nsuspended;
    /* The one readiness switch: once set (SIGTERM drain, shutdown) /readyz
     * answers 503 and /metrics shows iocpu_draining 1. Any thread may set it. */
    atomic_int draining;
    metrics *metrics; /* request, loop-lag and executor-job metrics */
    lagprobe *probe;  /* the 10 ms loop-lag probe timer */
    access_log *alog; /* JSON lines on stdout; NULL without --access-log */
    /* /loop/stream subscribers and their shared ticker (handlers/loopstream.c);
     * exists only while a stream is open */
    struct loopstream *loopstream;
};

/* Loop timers armed by requests: the lag probe's own timer is not counted. */
static inline size_t app_active_timers(const app *a)
{
    return loop_timer_count(a->loop) - (size_t)(a->probe && lagprobe_armed(a->probe));
}

/* Route groups (one per handlers/ file); each returns its table and size. */
const struct route *io_routes(size_t *n);
const struct route *cpu_routes(size_t *n);
const struct route *ops_routes(size_t *n);

/* Tasks in the store by status, for /metrics (handlers/tasks.c; O(tasks kept)). */
void tasks_count(app *a, metrics_tasks *out);
const struct route *tasks_routes(size_t *n);
/* The live page and its sample stream (handlers/ui.c). */
const struct route *ui_routes(size_t *n);

#endif
