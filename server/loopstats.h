/*
 * loopstats.h - what one event loop shows the others, and the sums over all
 * loops that /loop and /metrics answer with.
 *
 * Each loop keeps its metrics and state to itself (no atomics on the request
 * path). What another loop may read sits in the loop's loop_stats, under its
 * mutex: the loop's metrics object (written by its own loop with the mutex
 * held, a few array writes per request), and a snapshot of its gauges and
 * lag summary that the loop publishes every LOOPSTATS_PUBLISH_EVERY probe
 * samples (100 ms) and whenever it answers /loop or /metrics itself. So the
 * answering loop's own figures are exact and the other loops' are at most
 * ~100 ms old. Loop 0, which owns the task store, also publishes the task
 * counts.
 *
 * Threads: loopstats_publish() runs on the loop it describes;
 * loopstats_gather() on any loop (it locks each loop's mutex in turn, never
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

typedef struct app app;

/* One loop's state as it published it. */
typedef struct loop_snapshot {
    lag_summary lag;
    uint64_t connections, requests, suspended, active_timers;
    uint64_t served;                 /* requests finished on this loop since it started */
    uint64_t log_lines, log_dropped; /* its access log (0 without one) */
    uint64_t body_buffered;          /* request body bytes held (--max-body-buffer) */
    uint64_t rx_timeouts;            /* connections closed by --header-timeout */
} loop_snapshot;

typedef struct loop_stats {
    pthread_mutex_t mu;
    /* guarded by mu */
    loop_snapshot snap;
    uint64_t served;      /* counted as each request finishes */
    metrics_tasks tasks;  /* loop 0 only: the task store's counts */
    unsigned lag_samples; /* loop thread only: samples since the last publish */
} loop_stats;

/* Every loop summed, for one answer. */
typedef struct loops_view {
    size_t nloops;
    unsigned self;        /* the loop that answers */
    loop_snapshot *loops; /* nloops snapshots, by index */
    loop_snapshot total;  /* counts summed; lag: the worst loop's last/max/p99 */
    metrics *sum;         /* every loop's metrics added up */
    metrics_tasks tasks;
} loops_view;

int loopstats_init(loop_stats *st);
void loopstats_destroy(loop_stats *st);

/* Publishes a's current snapshot (on a's own loop thread). */
void loopstats_publish(app *a);

/* Fills *v for an answer given by loop self (publishing self first). 0 or
 * -ENOMEM; loopstats_view_free() releases it. */
int loopstats_gather(app *self, loops_view *v);
void loopstats_view_free(loops_view *v);

/* A metrics object labelled with the server's route table. 0 or -ENOMEM. */
int loopstats_new_metrics(metrics **out);

/* Appends the per-loop families (iocpu_loops, iocpu_loop_*{loop="i"}). */
void loopstats_render(const loops_view *v, buf *b);

#endif
