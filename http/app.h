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
 *   - `obs.stats`: this loop's slot of the shared board (loopstats.h): the loop
 *     writes its metrics only with the slot's mutex held (app_stats_lock),
 *     and other loops read the slot under it;
 *   - `draining`: atomic, any thread or a signal handler sets it;
 *   - shared by every loop and thread-safe or read-only once the loops run:
 *     `ex` (executor.h; this loop's jobs name completion channel `index`),
 *     `io` (the IO thread pool, a second executor: iopool.h; the same),
 *     `cfg`, `router`, `groups`, `obs.board`, `mailboxes` (another loop is
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

/* Why a stream was cut off: its client took nothing for --stream-write-timeout
 * while bytes waited for it, or it fell --stream-buffer-bytes behind. */
enum { HTTP_CUT_STALLED, HTTP_CUT_BUFFER, HTTP_CUT_REASONS };

/* One loop's libmicrohttpd side (http.c, http_conn.c). */
typedef struct app_http {
    struct MHD_Daemon *mhd;
    loop_watcher mhd_w; /* MHD's epoll fd inside our epoll set */
    /* loop 0 with --admin-port: the admin listener's daemon (its own socket
     * and connection limit; only the paths groups list in admin_paths answer
     * there), NULL otherwise */
    struct MHD_Daemon *admin;
    loop_watcher admin_w;
    list_node reqs; /* every request in progress */
    size_t nreqs, nsuspended;
    deadline_queue rxq;      /* --header-timeout: connections receiving a request (http_conn.h) */
    uint64_t rx_timeouts;    /* connections it closed */
    uint64_t early_refusals; /* requests answered from their first bytes (prescreen.h) */
    uint64_t lost_heads;     /* heads read by libmicrohttpd before they were seen */
    list_node heads;         /* connections whose request head came in part (http_conn.h) */
    char *peek;              /* --conn-memory + 1 bytes: where they are looked at */
    size_t peek_cap;
    /* --max-body-buffer: this loop's share, the request body bytes it holds,
     * and the whole server's (every loop's share together) */
    size_t body_budget, body_buffered, body_budget_total;
    /* streams (http.c): the bytes they hold for their clients (each at most
     * --stream-buffer-bytes), the progress checks of their clients
     * (--stream-write-timeout), and the streams cut off, by reason */
    size_t stream_buffered;
    deadline_queue txq; /* set up by the first stream */
    unsigned txq_ready;
    uint64_t stream_cuts[HTTP_CUT_REASONS];
} app_http;

/* What one loop observes of itself, and where it shows it to the others. */
typedef struct app_obs {
    metrics *metrics;          /* request, loop-lag and executor-job metrics */
    lagprobe *probe;           /* the 10 ms loop-lag probe timer */
    access_log *alog;          /* JSON lines on stdout; NULL without --access-log */
    loop_stats *board, *stats; /* every loop's published stats (shared); this loop's slot */
} app_obs;

struct app {
    /* who this loop is (read-only once the loops run) */
    config cfg;
    unsigned index;      /* this loop's number: 0 .. nloops-1 */
    char index_text[12]; /* index in decimal (the X-Iocpu-Loop header) */
    size_t nloops;
    uint16_t port;
    uint64_t started_ns;
    /* this loop's own */
    loop *loop;
    mailbox *mbox; /* calls from other threads into this loop */
    app_http http;
    app_obs obs;
    void **group_state; /* this loop's state of groups.v[i], by index */
    /* shared by every loop (see above) */
    executor *ex;
    executor *io; /* the IO thread pool (iopool.h); its channel `index` is this loop's */
    const router *router;
    http_groups groups;
    mailbox *const *mailboxes; /* every loop's mailbox, by index: post only */
    /* The one readiness switch: once set (SIGTERM drain, shutdown) /readyz
     * answers 503 and /metrics shows iocpu_draining 1. Any thread may set it. */
    atomic_int draining;
};

/* Guards this loop's metrics writes and its published stats (loopstats.h). */
static inline void app_stats_lock(app *a)
{
    loopstats_lock(a->obs.stats);
}
static inline void app_stats_unlock(app *a)
{
    loopstats_unlock(a->obs.stats);
}

/* This loop's state of group g (NULL if g is not a group of the server or
 * keeps no state). */
void *app_group_state(const app *a, const http_group *g);

/* Hands m to loop `to` (its fn runs there, mailbox.h); any thread. */
void app_post(const app *a, unsigned to, mail *m);

/* Why the server is not ready: "draining", a group's reason, or NULL. */
const char *app_unready(app *a);

/* Loop timers armed by requests: the lag probe's, the receive deadlines' and
 * the stream checks' own timers are not counted. */
static inline size_t app_active_timers(const app *a)
{
    return loop_timer_count(a->loop) - (size_t)(a->obs.probe && lagprobe_armed(a->obs.probe)) -
           (size_t)deadline_timer_armed(&a->http.rxq) -
           (size_t)(a->http.txq_ready && deadline_timer_armed(&a->http.txq));
}

#endif
