/*
 * app.h - the per-loop core of a running server: one app per event loop
 * (`--loops N` runs N of them), shared by the HTTP glue and the handler
 * groups. What a handler group keeps lives in the group's own state
 * (group.h), reached with app_group_state().
 *
 * Threads and ownership:
 *   - owned by this loop's thread: everything not listed below (its loop,
 *     daemon, requests, receive deadlines, body bytes, lag probe, access
 *     log, metrics writes, group states);
 *   - `stats`: this loop's slot of the shared board (loopstats.h): the loop
 *     writes its metrics only with the slot's mutex held (app_stats_lock),
 *     and other loops read the slot under it;
 *   - `draining`: atomic, any thread or a signal handler sets it;
 *   - shared by every loop and thread-safe or read-only once the loops run:
 *     `ex` (executor.h; this loop's jobs name completion channel `index`),
 *     `cfg`, `router`, `groups`, `board`, `mailboxes` (another loop is
 *     reached only by posting a mail to its mailbox: app_post()).
 */
#ifndef IOCPU_APP_H
#define IOCPU_APP_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "access_log.h"
#include "config.h"
#include "deadline.h"
#include "executor.h"
#include "group.h"
#include "lagprobe.h"
#include "list.h"
#include "loop.h"
#include "loopstats.h"
#include "mailbox.h"
#include "metrics.h"
#include "router.h"

struct app {
    /* who this loop is (read-only once the loops run) */
    config cfg;
    unsigned index;      /* this loop's number: 0 .. nloops-1 */
    char index_text[12]; /* index in decimal (the X-Iocpu-Loop header) */
    size_t nloops;
    uint16_t port;
    uint64_t started_ns;
    /* shared by every loop (see above) */
    executor *ex;
    const router *router;
    http_groups groups;
    void **group_state;         /* this loop's state of groups.v[i], by index */
    mailbox *const *mailboxes;  /* every loop's mailbox, by index: post only */
    loop_stats *board, *stats;  /* every loop's published stats; this loop's slot */
    size_t body_budget_total;   /* --max-body-buffer as the loops share it */
    /* this loop's own */
    loop *loop;
    mailbox *mbox; /* calls from other threads into this loop */
    struct MHD_Daemon *mhd;
    loop_watcher mhd_w; /* MHD's epoll fd inside our epoll set */
    list_node reqs;     /* every request in progress (http.c) */
    size_t nreqs, nsuspended;
    deadline_queue rxq;   /* --header-timeout: connections receiving a request (http_conn.h) */
    uint64_t rx_timeouts; /* connections it closed */
    /* --max-body-buffer: this loop's share and the request body bytes it holds */
    size_t body_budget, body_buffered;
    /* The one readiness switch: once set (SIGTERM drain, shutdown) /readyz
     * answers 503 and /metrics shows iocpu_draining 1. Any thread may set it. */
    atomic_int draining;
    metrics *metrics; /* request, loop-lag and executor-job metrics */
    lagprobe *probe;  /* the 10 ms loop-lag probe timer */
    access_log *alog; /* JSON lines on stdout; NULL without --access-log */
};

/* Guards this loop's metrics writes and its published stats (loopstats.h). */
static inline void app_stats_lock(app *a)
{
    loopstats_lock(a->stats);
}
static inline void app_stats_unlock(app *a)
{
    loopstats_unlock(a->stats);
}

/* This loop's state of group g (NULL if g is not a group of the server or
 * keeps no state). */
void *app_group_state(const app *a, const http_group *g);

/* Hands m to loop `to` (its fn runs there, mailbox.h); any thread. */
void app_post(const app *a, unsigned to, mail *m);

/* Why the server is not ready: "draining", a group's reason, or NULL. */
const char *app_unready(app *a);

/* Loop timers armed by requests: the lag probe's and the receive deadlines'
 * own timers are not counted. */
static inline size_t app_active_timers(const app *a)
{
    return loop_timer_count(a->loop) - (size_t)(a->probe && lagprobe_armed(a->probe)) -
           (size_t)deadline_timer_armed(&a->rxq);
}

#endif
