/*
 * app.h - the state of one event loop of a running server (one app per
 * loop; `--loops N` runs N of them), shared by the HTTP glue and the
 * handlers.
 *
 * Threads and ownership:
 *   - owned by this loop's thread: everything not listed below (its loop,
 *     daemon, requests, lag probe, access log, metrics writes);
 *   - `stats` (metrics reads by other loops, the published snapshot): under
 *     stats.mu; the owning loop writes `metrics` only with stats.mu held, so
 *     another loop may lock it and sum it (loopstats.h);
 *   - `draining`: atomic, any thread or a signal handler sets it;
 *   - shared by every loop and thread-safe: `ex` (executor.h; this loop's
 *     jobs name completion channel `index`), `cfg` (read-only), `loops`
 *     (read-only after start), another loop's `mbox` (mailbox_post only);
 *   - `tasks`: the task store lives on loop 0 only and only loop 0 touches
 *     it; on other loops it is NULL and /tasks requests are forwarded to loop
 *     0 through its mailbox (handlers/taskfwd.c).
 */
#ifndef IOCPU_APP_H
#define IOCPU_APP_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../executor/executor.h"
#include "access_log.h"
#include "config.h"
#include "deadline.h"
#include "lagprobe.h"
#include "loop.h"
#include "loopstats.h"
#include "mailbox.h"
#include "metrics.h"

typedef struct http_req http_req;
typedef struct app app;
typedef struct taskstore taskstore;

struct app {
    config cfg;
    unsigned index;      /* this loop's number: 0 .. nloops-1 */
    char index_text[12]; /* index in decimal (the X-Iocpu-Loop header) */
    size_t nloops;       /* loops of the server */
    app *const *loops;   /* every loop's app, by index (loops[0] owns the task store) */
    mailbox *mbox;       /* calls from other threads into this loop */
    loop_stats stats;    /* what other loops read (loopstats.h), under stats.mu */
    loop *loop;
    executor *ex;
    taskstore *tasks; /* background tasks (handlers/taskstore.h): loop 0 only, else NULL */
    /* with --tasks-backend redis://: the Redis task queue (handlers/taskq.h)
     * instead of `tasks`; loop 0 only, read-only pointer for other loops
     * (which only call taskq_ready()) */
    struct taskq *taskq;
    struct MHD_Daemon *mhd;
    loop_watcher mhd_w; /* MHD's epoll fd inside our epoll set */
    uint16_t port;
    uint64_t started_ns;
    http_req *reqs; /* every request in progress (intrusive list) */
    size_t nreqs, nsuspended;
    /* --header-timeout: connections receiving a request, by deadline (http_conn.h) */
    deadline_queue rxq;
    uint64_t rx_timeouts; /* connections it closed */
    /* --max-body-buffer: this loop's share (read-only once the loops run;
     * /metrics sums every loop's) and the request body bytes it holds */
    size_t body_budget, body_buffered;
    /* The one readiness switch: once set (SIGTERM drain, shutdown) /readyz
     * answers 503 and /metrics shows iocpu_draining 1. Any thread may set it. */
    atomic_int draining;
    metrics *metrics; /* request, loop-lag and executor-job metrics */
    lagprobe *probe;  /* the 10 ms loop-lag probe timer */
    access_log *alog; /* JSON lines on stdout; NULL without --access-log */
    /* loop 0: task operations forwarded from other loops and not yet answered
     * (handlers/taskfwd.c); a drain waits for them */
    struct task_call *fwd;
    size_t nfwd;
    /* /loop/stream subscribers and their shared ticker (handlers/loopstream.c);
     * exists only while a stream is open */
    struct loopstream *loopstream;
};

/* Guards this loop's metrics writes and its published stats (loopstats.h). */
static inline void app_stats_lock(app *a)
{
    pthread_mutex_lock(&a->stats.mu);
}
static inline void app_stats_unlock(app *a)
{
    pthread_mutex_unlock(&a->stats.mu);
}

/* Loop timers armed by requests: the lag probe's and the receive deadlines'
 * own timers are not counted. */
static inline size_t app_active_timers(const app *a)
{
    return loop_timer_count(a->loop) - (size_t)(a->probe && lagprobe_armed(a->probe)) -
           (size_t)deadline_timer_armed(&a->rxq);
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
