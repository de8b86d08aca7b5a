/*
 * metrics.c - iocpu's metric set and its exposition (see metrics.h).
 *
 * Storage is fixed at creation: one slot per route plus one per method class
 * for unmatched requests; each slot holds a duration histogram and a small
 * table of (status code, count). Observing is a few array writes on the loop
 * thread; rendering walks everything once per scrape.
 */
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "prom.h"

#define MAX_CODES 16 /* distinct status codes per slot; more go to code="other" */

static const double DURATION_BOUNDS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
static const double LAG_BOUNDS[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
static const double WAIT_BOUNDS[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                     0.1,    0.5,    1,     5,     10,   30};
static const double RUN_BOUNDS[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                    0.5,   1,     2.5,  5,     10,   30,  60};
#define NBOUNDS(a) (sizeof(a) / sizeof((a)[0]))

/* Methods that get their own "unmatched" slot; anything else is "other". */
static const char *const UNMATCHED_METHODS[] = {"GET",    "HEAD",  "POST",    "PUT",
                                                "DELETE", "PATCH", "OPTIONS", "other"};
#define NUNMATCHED (sizeof(UNMATCHED_METHODS) / sizeof(UNMATCHED_METHODS[0]))

typedef struct code_count {
    unsigned code; /* 0 = free */
    uint64_t n;
} code_count;

typedef struct slot {
    const char *method, *route;
    int unmatched;
    code_count codes[MAX_CODES];
    uint64_t other_codes;
    histogram duration;
} slot;

struct metrics {
    size_t nslots, nroutes;
    histogram lag, queue_wait, run;
    histogram io_queue_wait; /* IO-pool jobs: the wait for an IO thread */
    slot slots[];
};

int metrics_new(metrics **out, const metrics_route *routes, size_t n)
{
    metrics *m = calloc(1, sizeof(*m) + (n + NUNMATCHED) * sizeof(slot));
    if (!m) return -ENOMEM;
    m->nroutes = n;
    m->nslots = n + NUNMATCHED;
    for (size_t i = 0; i < m->nslots; i++) {
        slot *s = &m->slots[i];
        s->unmatched = i >= n;
        s->method = s->unmatched ? UNMATCHED_METHODS[i - n] : routes[i].method;
        s->route = s->unmatched ? "unmatched" : routes[i].path;
        histogram_init(&s->duration, DURATION_BOUNDS, NBOUNDS(DURATION_BOUNDS));
    }
    histogram_init(&m->lag, LAG_BOUNDS, NBOUNDS(LAG_BOUNDS));
    histogram_init(&m->queue_wait, WAIT_BOUNDS, NBOUNDS(WAIT_BOUNDS));
    histogram_init(&m->run, RUN_BOUNDS, NBOUNDS(RUN_BOUNDS));
    histogram_init(&m->io_queue_wait, WAIT_BOUNDS, NBOUNDS(WAIT_BOUNDS));
    *out = m;
    return 0;
}

void metrics_free(metrics *m)
{
    free(m);
}

size_t metrics_unmatched_slot(const metrics *m, const char *method)
{
    size_t k = 0;
    while (k < NUNMATCHED - 1 && strcmp(UNMATCHED_METHODS[k], method ? method : ""))
        k++;
    return m->nroutes + k;
}

void metrics_request(metrics *m, size_t slot_i, unsigned status, double secs)
{
    if (slot_i >= m->nslots) slot_i = m->nslots - 1;
    slot *s = &m->slots[slot_i];
    histogram_observe(&s->duration, secs);
    for (size_t i = 0; i < MAX_CODES; i++) {
        if (s->codes[i].code == status || s->codes[i].code == 0) {
            s->codes[i].code = status;
            s->codes[i].n++;
            return;
        }
    }
    s->other_codes++;
}

/* Adds n requests with status code to slot s. */
static void add_code(slot *s, unsigned code, uint64_t n)
{
    for (size_t i = 0; i < MAX_CODES; i++) {
        if (s->codes[i].code == code || s->codes[i].code == 0) {
            s->codes[i].code = code;
            s->codes[i].n += n;
            return;
        }
    }
    s->other_codes += n;
}

void metrics_add(metrics *dst, const metrics *src)
{
    if (dst->nslots != src->nslots) return;
    for (size_t i = 0; i < src->nslots; i++) {
        const slot *s = &src->slots[i];
        slot *d = &dst->slots[i];
        for (size_t k = 0; k < MAX_CODES && s->codes[k].code; k++)
            add_code(d, s->codes[k].code, s->codes[k].n);
        d->other_codes += s->other_codes;
        histogram_add(&d->duration, &s->duration);
    }
    histogram_add(&dst->lag, &src->lag);
    histogram_add(&dst->queue_wait, &src->queue_wait);
    histogram_add(&dst->run, &src->run);
    histogram_add(&dst->io_queue_wait, &src->io_queue_wait);
}

uint64_t metrics_requests(const metrics *m, size_t slot_i, unsigned status)
{
    if (slot_i >= m->nslots) return 0;
    const slot *s = &m->slots[slot_i];
    for (size_t i = 0; i < MAX_CODES && s->codes[i].code; i++)
        if (s->codes[i].code == status) return s->codes[i].n;
    return 0;
}

void metrics_loop_lag(metrics *m, double secs)
{
    histogram_observe(&m->lag, secs);
}

void metrics_job(metrics *m, double queue_secs, double run_secs)
{
    histogram_observe(&m->queue_wait, queue_secs);
    histogram_observe(&m->run, run_secs);
}

void metrics_io_job(metrics *m, double queue_secs)
{
    histogram_observe(&m->io_queue_wait, queue_secs);
}

/* --- exposition ------------------------------------------------------------ */

static void route_labels(const slot *s, char *lbl, size_t cap)
{
    lbl[0] = '\0';
    prom_label(lbl, cap, "method", s->method);
    prom_label(lbl, cap, "route", s->route);
}

static void render_requests(const metrics *m, buf *b)
{
    char lbl[512], code[16];
    prom_family(b, "iocpu_http_requests_total", "counter",
                "Finished HTTP requests by route template and status code (499: the client "
                "left before the answer; 408: its body did not arrive within --header-timeout, "
                "the connection was closed).");
    for (size_t i = 0; i < m->nslots; i++) {
        const slot *s = &m->slots[i];
        for (size_t k = 0; k <= MAX_CODES; k++) {
            uint64_t n = k < MAX_CODES ? s->codes[k].n : s->other_codes;
            if (n == 0) continue;
            route_labels(s, lbl, sizeof(lbl));
            if (k < MAX_CODES)
                snprintf(code, sizeof(code), "%u", s->codes[k].code);
            else
                snprintf(code, sizeof(code), "other");
            prom_label(lbl, sizeof(lbl), "code", code);
            prom_sample_u64(b, "iocpu_http_requests_total", lbl, n);
        }
    }
    prom_family(b, "iocpu_http_request_duration_seconds", "histogram",
                "Time from the first byte of a request to its end, by route template.");
    for (size_t i = 0; i < m->nslots; i++) {
        const slot *s = &m->slots[i];
        if (s->unmatched && s->duration.count == 0)
            continue; /* routed slots always appear, unmatched ones once used */
        route_labels(s, lbl, sizeof(lbl));
        histogram_write(&s->duration, b, "iocpu_http_request_duration_seconds", lbl);
    }
}

/* Streamed responses held for, and cut off from, clients that do not read. */
static void render_streams(const metrics_live *live, buf *b)
{
    prom_gauge_u64(b, "iocpu_http_stream_buffer_bytes",
                   "Streamed bytes held for clients that have not taken them yet (each stream "
                   "at most --stream-buffer-bytes).",
                   live->stream_buffered);
    prom_family(b, "iocpu_http_streams_cut_total", "counter",
                "Streams cut off with their connection because the client did not read: "
                "stalled (it took nothing for --stream-write-timeout while bytes waited) or "
                "buffer (it fell --stream-buffer-bytes behind).");
    prom_sample_u64(b, "iocpu_http_streams_cut_total", "reason=\"stalled\"",
                    live->stream_cut_stalled);
    prom_sample_u64(b, "iocpu_http_streams_cut_total", "reason=\"buffer\"",
                    live->stream_cut_buffer);
}

/* The HTTP layer's gauges and counters. */
static void render_http(const metrics_live *live, buf *b)
{
    prom_gauge_u64(b, "iocpu_http_requests_in_flight", "Requests begun and not yet finished.",
                   live->requests_in_flight);
    prom_gauge_u64(b, "iocpu_http_suspended_requests",
                   "Requests suspended while they wait on a loop timer or an executor job.",
                   live->suspended);
    prom_gauge_u64(b, "iocpu_http_open_connections", "Open client connections.", live->connections);
    prom_gauge_u64(b, "iocpu_http_body_buffer_bytes",
                   "Request body bytes held while requests are received (a declared "
                   "Content-Length counts whole from the start).",
                   live->body_buffered);
    prom_gauge_u64(b, "iocpu_http_body_buffer_limit_bytes",
                   "Request body bytes the server may hold at once (--max-body-buffer, summed over "
                   "loops); beyond it 503.",
                   live->body_budget);
    prom_counter(b, "iocpu_http_receive_timeouts_total",
                 "Connections closed because a request's headers, or then its body, did not arrive "
                 "within --header-timeout.",
                 live->rx_timeouts);
    prom_counter(b, "iocpu_http_early_refusals_total",
                 "Requests answered from their head before libmicrohttpd parsed it: a malformed "
                 "request line, an unsupported HTTP version, a bad Content-Length, or headers over "
                 "--max-header-bytes or the --conn-memory buffer.",
                 live->early_refusals);
    prom_counter(
        b, "iocpu_http_heads_unscreened_total",
        "Request heads libmicrohttpd read before iocpu could judge them (a piece that came "
        "between the poll and its read, or a pipelined request); judged by libmicrohttpd.",
        live->lost_heads);
}

/* The IO thread pool, named like the executor's families. */
static void render_io_pool(const metrics *m, const executor_stats *io, buf *b)
{
    prom_gauge_u64(b, "iocpu_io_pool_threads", "IO threads for blocking calls (--io-threads).",
                   io->workers);
    prom_gauge_u64(b, "iocpu_io_pool_queue_capacity",
                   "Blocking calls the IO pool's queue holds before 503.", io->queue_cap);
    prom_gauge_u64(b, "iocpu_io_pool_queue_depth", "Blocking calls waiting for an IO thread.",
                   io->queued);
    prom_gauge_u64(b, "iocpu_io_pool_busy_threads", "IO threads blocked in a call.", io->busy);
    prom_counter(b, "iocpu_io_pool_jobs_submitted_total", "Blocking calls accepted by the IO pool.",
                 io->submitted);
    prom_counter(b, "iocpu_io_pool_jobs_completed_total",
                 "Blocking calls that ran on an IO thread to their end (or stop).", io->completed);
    prom_counter(b, "iocpu_io_pool_jobs_rejected_total",
                 "Blocking calls refused because the IO pool's queue was full.", io->rejected);
    prom_counter(b, "iocpu_io_pool_jobs_cancelled_total",
                 "Blocking calls cancelled, while queued or while running.", io->cancelled);
    prom_family(b, "iocpu_io_pool_queue_wait_seconds", "histogram",
                "Time a blocking call waited in the IO pool's queue before a thread took it.");
    histogram_write(&m->io_queue_wait, b, "iocpu_io_pool_queue_wait_seconds", NULL);
}

void metrics_render(const metrics *m, const metrics_live *live, buf *b)
{
    prom_gauge(b, "iocpu_uptime_seconds", "Seconds since the server started.", live->uptime_s);
    prom_gauge_u64(b, "iocpu_draining", "1 while the server drains (readiness fails), else 0.",
                   live->draining ? 1u : 0u);
    render_requests(m, b);
    render_http(live, b);
    render_streams(live, b);

    prom_family(b, "iocpu_loop_lag_seconds", "histogram",
                "How late the event loop's 10 ms probe timer fired: time the loop was busy "
                "with something else.");
    histogram_write(&m->lag, b, "iocpu_loop_lag_seconds", NULL);
    prom_gauge_u64(b, "iocpu_loop_active_timers",
                   "Loop timers armed by requests (the lag probe excluded).", live->active_timers);

    const executor_stats *ex = &live->ex;
    prom_gauge_u64(b, "iocpu_executor_workers", "Executor worker threads.", ex->workers);
    prom_gauge_u64(b, "iocpu_executor_queue_capacity", "Jobs the executor queue holds before 503.",
                   ex->queue_cap);
    prom_gauge_u64(b, "iocpu_executor_queue_depth", "Jobs waiting in the executor queue.",
                   ex->queued);
    prom_gauge_u64(b, "iocpu_executor_busy_workers", "Workers running a job.", ex->busy);
    prom_counter(b, "iocpu_executor_jobs_submitted_total", "Jobs accepted by the executor.",
                 ex->submitted);
    prom_counter(b, "iocpu_executor_jobs_completed_total",
                 "Jobs whose work ran to its end (or stop).", ex->completed);
    prom_counter(b, "iocpu_executor_jobs_rejected_total",
                 "Jobs refused because the queue was full.", ex->rejected);
    prom_counter(b, "iocpu_executor_jobs_cancelled_total",
                 "Jobs cancelled, while queued or while running.", ex->cancelled);
    prom_family(b, "iocpu_executor_queue_wait_seconds", "histogram",
                "Time a job waited in the executor queue before a worker took it.");
    histogram_write(&m->queue_wait, b, "iocpu_executor_queue_wait_seconds", NULL);
    prom_family(b, "iocpu_executor_run_seconds", "histogram",
                "Wall time a job ran on a worker thread.");
    histogram_write(&m->run, b, "iocpu_executor_run_seconds", NULL);
    render_io_pool(m, &live->io, b);

    prom_counter(b, "iocpu_access_log_lines_total", "Access-log lines written to stdout.",
                 live->access_log_lines);
    prom_counter(b, "iocpu_access_log_dropped_lines_total",
                 "Access-log lines dropped because stdout was not keeping up.",
                 live->access_log_dropped);
}
