/*
 * ops.c - operations endpoints: the index, liveness, readiness, the loop's
 * state and lag, Prometheus metrics and the OpenAPI document.
 *
 * Everything runs on the loop thread that received the request. /loop and
 * /metrics take the executor's and the IO pool's mutex once per call
 * (executor_get_stats) and
 * each loop's stats mutex once (loopstats_gather); nothing on the request
 * path of other endpoints does.
 */
#include <stdlib.h>
#include <string.h>

#include "app_stats.h"
#include "common.h"
#include "handlers.h"
#include "iopool.h"
#include "metrics.h"
#include "openapi.h"
#include "prom.h"
#include "router.h"

#define LESSON "IO-bound work on the event loop, CPU-bound work on a worker pool"

/* The server-wide injection (--inject-error, --inject-delay), when on. */
static void add_injection(const config *cfg, json_t *o)
{
    if (!cfg->inject_rate && !cfg->inject_delay[0]) return;
    json_t *in = json_pack("{s:[s,s,s,s]}", "applies_to", "/io/", "/cpu/", "/tasks", "/status/");
    if (cfg->inject_rate) {
        json_object_set_new(in, "error_rate", json_real(cfg->inject_rate));
        json_object_set_new(in, "error_code", json_integer(cfg->inject_code));
    }
    if (cfg->inject_delay[0]) json_object_set_new(in, "delay", json_string(cfg->inject_delay));
    json_object_set_new(o, "injection", in);
}

static void index_page(http_req *r)
{
    size_t n;
    const route *const *all = router_all(http_app(r)->router, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "method", all[i]->method, "path",
                                              all[i]->path, "lesson", all[i]->lesson));
    json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "service", "iocpu", "lesson", LESSON, "ui", "/ui",
                          "endpoints", list);
    add_injection(&http_app(r)->cfg, o);
    http_respond_json(r, 200, o);
}

static void healthz(http_req *r)
{
    http_respond_static(r, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

/* The readiness switch (app->draining) and every group's own (app_unready). */
static void readyz(http_req *r)
{
    const char *why = app_unready(http_app(r));
    if (why)
        http_respond_busy(r, why);
    else
        http_respond_static(r, 200, "application/json", "{\"status\":\"ready\"}", 18);
}

static json_t *lag_json(const lag_summary *lag)
{
    return json_pack("{s:f,s:f,s:f,s:I,s:f}", "last", round(lag->last_ms * 1000) / 1000, "max",
                     round(lag->max_ms * 1000) / 1000, "p99", round(lag->p99_ms * 1000) / 1000,
                     "samples", (json_int_t)lag->samples, "window_s", lag->window_s);
}

/* The state one loop published (loopstats.h). */
static json_t *loop_json(size_t index, const loop_snapshot *s)
{
    return json_pack("{s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I}", "loop", (json_int_t)index, "lag_ms",
                     lag_json(&s->lag), "active_timers", (json_int_t)s->active_timers,
                     "connections", (json_int_t)s->connections, "requests", (json_int_t)s->requests,
                     "suspended", (json_int_t)s->suspended, "served", (json_int_t)s->served,
                     "body_buffer_bytes", (json_int_t)s->body_buffered);
}

/* The IO thread pool as /loop shows it beside the executor. */
static json_t *pool_json(const executor_stats *io)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I}", "busy", (json_int_t)io->busy, "queued",
                     (json_int_t)io->queued, "threads", (json_int_t)io->workers, "completed",
                     (json_int_t)io->completed, "rejected", (json_int_t)io->rejected);
}

/*
 * What the loops hold right now, and how late their probe timers have been
 * firing. The top level sums every loop (lag: the worst loop's); "loops"
 * lists each one, and "loop" is the one that answered (its own figures are
 * exact, the others' at most ~100 ms old).
 */
static void loop_state(http_req *r)
{
    app *a = http_app(r);
    loops_view v;
    if (app_gather(a, &v) < 0) {
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    executor_stats es, io;
    executor_get_stats(a->ex, &es);
    iopool_stats(a, &io);
    json_t *loops = json_array();
    for (size_t i = 0; i < v.nloops; i++)
        json_array_append_new(loops, loop_json(i, &v.loops[i]));
    json_t *o = json_pack(
        "{s:o,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I},s:o,s:I,s:o}", "lag_ms", lag_json(&v.total.lag),
        "active_timers", (json_int_t)v.total.active_timers, "connections",
        (json_int_t)v.total.connections, "requests", (json_int_t)v.total.requests, "suspended",
        (json_int_t)v.total.suspended, "body_buffer_bytes", (json_int_t)v.total.body_buffered,
        "executor", "busy", (json_int_t)es.busy, "queued", (json_int_t)es.queued, "workers",
        (json_int_t)es.workers, "io_pool", pool_json(&io), "loop", (json_int_t)v.self, "loops",
        loops);
    loopstats_view_free(&v);
    http_respond_json(r, 200, o);
}

/* Each group's own families (the task queue's, ...). */
static void groups_metrics(app *a, buf *b)
{
    for (size_t i = 0; i < a->groups.n; i++)
        if (a->groups.v[i]->metrics) a->groups.v[i]->metrics(a->group_state[i], b);
}

/* Every loop's metrics summed, then the per-loop families. */
static void metrics_page(http_req *r)
{
    app *a = http_app(r);
    loops_view v;
    if (app_gather(a, &v) < 0) {
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    metrics_live live = {
        .connections = v.total.connections,
        .requests_in_flight = v.total.requests,
        .suspended = v.total.suspended,
        .active_timers = v.total.active_timers,
        .access_log_lines = v.total.log_lines,
        .access_log_dropped = v.total.log_dropped,
        .body_buffered = v.total.body_buffered,
        .body_budget = a->http.body_budget_total,
        .rx_timeouts = v.total.rx_timeouts,
        .early_refusals = v.total.early_refusals,
        .lost_heads = v.total.lost_heads,
        .stream_buffered = v.total.stream_buffered,
        .stream_cut_stalled = v.total.stream_cut_stalled,
        .stream_cut_buffer = v.total.stream_cut_buffer,
        .draining = atomic_load(&a->draining),
        .uptime_s = (double)(loop_now_ns() - a->started_ns) / 1e9,
    };
    executor_get_stats(a->ex, &live.ex);
    iopool_stats(a, &live.io);
    buf b = BUF_INIT;
    metrics_render(v.sum, &live, &b);
    groups_metrics(a, &b);
    loopstats_render(&v, &b);
    loopstats_view_free(&v);
    if (b.oom) {
        buf_free(&b);
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    size_t len;
    char *text = buf_steal(&b, &len);
    http_respond_data(r, 200, PROM_CONTENT_TYPE, text, len);
}

static void openapi(http_req *r)
{
    size_t n;
    const route *const *all = router_all(http_app(r)->router, &n);
    json_t *doc = openapi_document(&http_app(r)->cfg, all, n);
    if (doc)
        http_respond_json(r, 200, doc);
    else
        http_respond_detail(r, 500, "cannot build the OpenAPI document");
}

static const route ROUTES[] = {
    {"GET", "/", index_page, "this index: every endpoint with the lesson it demonstrates"},
    {"GET", "/healthz", healthz, "liveness: answers as long as the loop turns"},
    {"GET", "/readyz", readyz, "readiness: 503 while the server drains"},
    {"GET", "/loop", loop_state,
     "event-loop lag from a 10 ms probe timer: ~0 while /cpu/executor works, the whole job "
     "while /cpu/blocking does"},
    {"GET", "/metrics", metrics_page,
     "Prometheus metrics: requests, durations, loop lag, executor queue and workers"},
    {"GET", "/openapi.json", openapi,
     "the OpenAPI document of every endpoint, with this "
     "server's limits"},
};

/* What an orchestrator and a scraper need, on connections of their own. */
static const char *const ADMIN_PATHS[] = {"/healthz", "/readyz", "/metrics", "/loop", NULL};

const http_group ops_group = {
    .name = "ops",
    .routes = ROUTES,
    .nroutes = sizeof(ROUTES) / sizeof(ROUTES[0]),
    .admin_paths = ADMIN_PATHS,
};
