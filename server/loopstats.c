/*
 * loopstats.c - per-loop snapshots and their sums (see loopstats.h).
 *
 * Cost: publishing is a lag summary (a sort of at most ~1000 samples) and a
 * few integer copies, every 100 ms per loop; on loop 0 also one walk over
 * the task store. Gathering allocates one metrics object and adds each
 * loop's into it, one mutex at a time: O(loops x routes) per scrape.
 */
#include "loopstats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "prom.h"
#include "router.h"

int loopstats_init(loop_stats *st)
{
    memset(st, 0, sizeof(*st));
    return -pthread_mutex_init(&st->mu, NULL);
}

void loopstats_destroy(loop_stats *st)
{
    pthread_mutex_destroy(&st->mu);
}

static uint64_t open_connections(app *a)
{
    const union MHD_DaemonInfo *di =
        a->mhd ? MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;
    return di ? di->num_connections : 0;
}

void loopstats_publish(app *a)
{
    loop_snapshot s = {
        .connections = open_connections(a),
        .requests = a->nreqs,
        .suspended = a->nsuspended,
        .active_timers = app_active_timers(a),
        .log_lines = a->alog ? access_log_lines(a->alog) : 0,
        .log_dropped = a->alog ? access_log_dropped(a->alog) : 0,
        .body_buffered = a->body_buffered,
        .rx_timeouts = a->rx_timeouts,
    };
    lagprobe_summary(a->probe, loop_now_ns(), &s.lag);
    metrics_tasks t;
    if (a->tasks) tasks_count(a, &t);
    app_stats_lock(a);
    s.served = a->stats.served;
    a->stats.snap = s;
    if (a->tasks) a->stats.tasks = t;
    app_stats_unlock(a);
}

static void worst_lag(lag_summary *acc, const lag_summary *l)
{
    if (l->last_ms > acc->last_ms) acc->last_ms = l->last_ms;
    if (l->max_ms > acc->max_ms) acc->max_ms = l->max_ms;
    if (l->p99_ms > acc->p99_ms) acc->p99_ms = l->p99_ms;
    acc->samples += l->samples;
    acc->window_s = l->window_s;
}

int loopstats_gather(app *self, loops_view *v)
{
    memset(v, 0, sizeof(*v));
    v->nloops = self->nloops;
    v->self = self->index;
    v->loops = calloc(v->nloops, sizeof(*v->loops));
    int rc = v->loops ? loopstats_new_metrics(&v->sum) : -ENOMEM;
    if (rc < 0) {
        free(v->loops);
        v->loops = NULL;
        return rc;
    }
    loopstats_publish(self);
    for (size_t i = 0; i < v->nloops; i++) {
        app *a = self->loops[i];
        app_stats_lock(a);
        v->loops[i] = a->stats.snap;
        metrics_add(v->sum, a->metrics);
        if (i == 0) v->tasks = a->stats.tasks;
        app_stats_unlock(a);
        const loop_snapshot *s = &v->loops[i];
        v->total.connections += s->connections;
        v->total.requests += s->requests;
        v->total.suspended += s->suspended;
        v->total.active_timers += s->active_timers;
        v->total.served += s->served;
        v->total.log_lines += s->log_lines;
        v->total.log_dropped += s->log_dropped;
        v->total.body_buffered += s->body_buffered;
        v->total.rx_timeouts += s->rx_timeouts;
        worst_lag(&v->total.lag, &s->lag);
    }
    return 0;
}

void loopstats_view_free(loops_view *v)
{
    free(v->loops);
    metrics_free(v->sum);
    memset(v, 0, sizeof(*v));
}

int loopstats_new_metrics(metrics **out)
{
    size_t n;
    const route *const *all = router_all(&n);
    metrics_route *labels = calloc(n ? n : 1, sizeof(*labels));
    if (!labels) return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        labels[i] = (metrics_route){all[i]->method, all[i]->path};
    int rc = metrics_new(out, labels, n);
    free(labels);
    return rc;
}

/* One sample per loop: name{loop="i"} v. */
static void per_loop(buf *b, const loops_view *v, const char *name, const char *type,
                     const char *help, size_t field)
{
    prom_family(b, name, type, help);
    for (size_t i = 0; i < v->nloops; i++) {
        char lbl[48] = "", idx[24];
        snprintf(idx, sizeof(idx), "%zu", i);
        prom_label(lbl, sizeof(lbl), "loop", idx);
        uint64_t x;
        memcpy(&x, (const char *)&v->loops[i] + field, sizeof(x));
        prom_sample_u64(b, name, lbl, x);
    }
}

void loopstats_render(const loops_view *v, buf *b)
{
    prom_family(b, "iocpu_loops", "gauge", "Event-loop threads serving the port (--loops).");
    prom_sample_u64(b, "iocpu_loops", NULL, v->nloops);
    per_loop(b, v, "iocpu_loop_requests_total", "counter",
             "Requests finished by each event loop (SO_REUSEPORT spreads connections).",
             offsetof(loop_snapshot, served));
    per_loop(b, v, "iocpu_loop_open_connections", "gauge",
             "Open client connections of each event loop.", offsetof(loop_snapshot, connections));
    per_loop(b, v, "iocpu_loop_body_buffer_bytes", "gauge",
             "Request body bytes each event loop holds (its share of --max-body-buffer).",
             offsetof(loop_snapshot, body_buffered));
    prom_family(b, "iocpu_loop_lag_last_seconds", "gauge",
                "The last lag sample of each event loop's probe timer.");
    for (size_t i = 0; i < v->nloops; i++) {
        char lbl[48] = "", idx[24];
        snprintf(idx, sizeof(idx), "%zu", i);
        prom_label(lbl, sizeof(lbl), "loop", idx);
        prom_sample(b, "iocpu_loop_lag_last_seconds", lbl, v->loops[i].lag.last_ms / 1e3);
    }
}
