/*
 * loopstats.h - what one event loop shows the others, and the sums over all
 * loops that /loop and /metrics answer with.
 *
 * Each loop keeps its metrics and state to itself (no atomics on the request
 * path). What another loop may read sits in the loop's slot of a shared
 * board (one loop_stats per loop), under the slot's mutex: the loop's
 * metrics object (written by its own loop with the mutex held, a few array
 * writes per request), and a snapshot of its gauges and lag summary that
 * the loop publishes every LOOPSTATS_PUBLISH_EVERY probe samples (100 ms)
 * and whenever it answers /loop or /metrics itself (http/app_stats.c). So
 * the answering loop's own figures are exact and the other loops' are at
 * most ~100 ms old.
 *
 * Threads: loopstats_set() runs on the loop the slot describes;
 * loopstats_gather() on any loop (it locks each slot's mutex in turn, never
 * two at once, so loops cannot deadlock on each other).
 */
#ifndef IOCPU_LOOPSTATS_H
#define IOCPU_LOOPSTATS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "lagprobe.h"
#include "metrics.h"

/* Probe samples (10 ms each) between two publications of a loop's snapshot. */
#define LOOPSTATS_PUBLISH_EVERY 10

/* One loop's state as it published it. */
typedef struct loop_snapshot {
    lag_summary lag;
    uint64_t connections, requests, suspended, active_timers;
    uint64_t served;                 /* requests finished on this loop since it started */
    uint64_t log_lines, log_dropped; /* its access log (0 without one) */
    uint64_t body_buffered;          /* request body bytes held (--max-body-buffer) */
    uint64_t rx_timeouts;            /* connections closed by --header-timeout */
    uint64_t early_refusals;         /* requests answered from their head (http/prescreen.h) */
    uint64_t lost_heads;             /* heads read by libmicrohttpd before they were judged */
    uint64_t stream_buffered;        /* streamed bytes held for clients (--stream-buffer-bytes) */
    uint64_t stream_cut_stalled;     /* streams cut off by --stream-write-timeout */
    uint64_t stream_cut_buffer;      /* streams cut off by --stream-buffer-bytes */
} loop_snapshot;

/* One loop's slot on the board. */
typedef struct loop_stats {
    pthread_mutex_t mu;
    /* guarded by mu */
    loop_snapshot snap;
    uint64_t served; /* counted as each request finishes */
    metrics *m;      /* the loop's metrics (owned by the loop; read by others under mu) */
    /* loop thread only */
    unsigned lag_samples; /* samples since the last publish */
} loop_stats;

/* Every loop summed, for one answer. */
typedef struct loops_view {
    size_t nloops;
    unsigned self;        /* the loop that answers */
    loop_snapshot *loops; /* nloops snapshots, by index */
    loop_snapshot total;  /* counts summed; lag: the worst loop's last/max/p99 */
    metrics *sum;         /* every loop's metrics added up */
} loops_view;

/* A slot for a loop whose metrics are m. 0 or -errno. */
int loopstats_init(loop_stats *st, metrics *m);
void loopstats_destroy(loop_stats *st);

static inline void loopstats_lock(loop_stats *st)
{
    pthread_mutex_lock(&st->mu);
}
static inline void loopstats_unlock(loop_stats *st)
{
    pthread_mutex_unlock(&st->mu);
}

/* Publishes a snapshot (its `served` is taken from the slot). Its loop only. */
void loopstats_set(loop_stats *st, const loop_snapshot *s);

/* Fills *v (v->loops: n snapshots the caller allocated with malloc) from the
 * n slots of board, answered by loop self, summing every
 * loop's metrics into sum (an empty metrics object for the same routes,
 * which v then owns). loopstats_view_free() releases it. */
void loopstats_gather(loop_stats *board, size_t n, unsigned self, metrics *sum, loops_view *v);
void loopstats_view_free(loops_view *v);

/* Appends the per-loop families (iocpu_loops, iocpu_loop_*{loop="i"}). */
void loopstats_render(const loops_view *v, buf *b);

#endif
