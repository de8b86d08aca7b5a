/*
 * metrics.h - the server's own counters and histograms, and their rendering
 * in the Prometheus text format (GET /metrics).
 *
 * Requests are counted per route *template* (the route table's method and
 * path, never the raw URL) and status code; requests no route matched share
 * one "unmatched" route label per method, so the number of series is bounded
 * by the route table. Histograms: request duration per route, event-loop lag,
 * executor queue wait and run time.
 *
 * Threads: a metrics object belongs to one loop thread. Every observation
 * (request end, lag sample, executor job done) happens there, so nothing in
 * here is locked or atomic (with several loops, server.c guards each loop's
 * metrics with that loop's stats mutex so another loop can sum them); values that live elsewhere
 * (executor counters, open connections) are gathered by the caller into a metrics_live at
 * scrape time; the handler groups append their own families (the task queue's) after these.
 */
#ifndef IOCPU_METRICS_H
#define IOCPU_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "executor.h"
#include "buf.h"

typedef struct metrics metrics;

/* A routed endpoint as the metrics label it (strings are kept by reference). */
typedef struct metrics_route {
    const char *method, *path;
} metrics_route;

/* Gauges and foreign counters, read by the caller when /metrics is scraped. */
typedef struct metrics_live {
    uint64_t connections;        /* open client connections */
    uint64_t requests_in_flight; /* requests begun and not yet finished */
    uint64_t suspended;          /* of those, suspended (waiting on a timer or a job) */
    uint64_t active_timers;      /* loop timers armed by requests (the lag probe excluded) */
    executor_stats ex;
    executor_stats io; /* the IO thread pool (a second executor) */
    uint64_t access_log_lines, access_log_dropped;
    uint64_t body_buffered, body_budget; /* request body bytes held, and the most allowed */
    uint64_t rx_timeouts;                /* connections closed by --header-timeout */
    uint64_t early_refusals, lost_heads; /* heads answered by iocpu, or left to libmicrohttpd */
    uint64_t stream_buffered;            /* streamed bytes held for clients not yet taken */
    uint64_t stream_cut_stalled, stream_cut_buffer; /* streams cut off, by reason */
    int draining;
    double uptime_s;
} metrics_live;

/* Status recorded for a request whose client left before it was answered. */
#define METRICS_STATUS_CLIENT_CLOSED 499

/*
 * Creates the metrics for a route table of n routes (slot i = routes[i]).
 * 0 or -ENOMEM.
 */
int metrics_new(metrics **out, const metrics_route *routes, size_t n);
void metrics_free(metrics *m);

/* The slot for requests that matched no route, by request method (any string). */
size_t metrics_unmatched_slot(const metrics *m, const char *method);

/* One finished request: its slot (route index or unmatched slot), status and duration. */
void metrics_request(metrics *m, size_t slot, unsigned status, double secs);
/* One event-loop lag sample. */
void metrics_loop_lag(metrics *m, double secs);
/* One executor job handed back: time it waited in the queue and ran (seconds). */
void metrics_job(metrics *m, double queue_secs, double run_secs);
/* One IO-pool job handed back: time it waited for an IO thread (seconds). */
void metrics_io_job(metrics *m, double queue_secs);

/*
 * Adds every count and histogram of src to dst; both were made for the same
 * route table (a multi-loop server keeps one metrics per loop and sums them
 * at scrape time).
 */
void metrics_add(metrics *dst, const metrics *src);

/* Requests counted so far for slot and status (tests, /loop). */
uint64_t metrics_requests(const metrics *m, size_t slot, unsigned status);

/* Appends the whole exposition (every family with # HELP and # TYPE) to out. */
void metrics_render(const metrics *m, const metrics_live *live, buf *b);

#endif
