/*
 * ops.c - operations endpoints: the index, liveness, readiness, the loop's
 * state and lag, Prometheus metrics and the OpenAPI document.
 *
 * Everything runs on the loop thread. /loop and /metrics take the executor's
 * mutex once per call (executor_get_stats); nothing on the request path of
 * other endpoints does.
 */
#include <stdlib.h>
#include <string.h>

#include "../server/metrics.h"
#include "../server/prom.h"
#include "../server/router.h"
#include "common.h"
#include "openapi.h"

#define LESSON "IO-bound work on the event loop, CPU-bound work on a worker pool"

static void index_page(http_req *r)
{
    size_t n;
    const route *const *all = router_all(&n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "method", all[i]->method, "path",
                                              all[i]->path, "lesson", all[i]->lesson));
    http_respond_json(r, 200,
                      json_pack("{s:s,s:s,s:s,s:o}", "service", "iocpu", "lesson", LESSON, "ui",
                                "/ui", "endpoints", list));
}

static void healthz(http_req *r)
{
    http_respond_data(r, 200, "application/json", strdup("{\"status\":\"ok\"}"), 15);
}

/* Reads app->draining, the one readiness switch (see app.h). */
static void readyz(http_req *r)
{
    if (atomic_load(&http_app(r)->draining))
        http_respond_busy(r, "draining");
    else
        http_respond_data(r, 200, "application/json", strdup("{\"status\":\"ready\"}"), 18);
}

static size_t open_connections(app *a)
{
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return di ? di->num_connections : 0;
}

/* What the loop holds right now, and how late its probe timer has been firing. */
static void loop_state(http_req *r)
{
    app *a = http_app(r);
    executor_stats es;
    executor_get_stats(a->ex, &es);
    lag_summary lag;
    lagprobe_summary(a->probe, loop_now_ns(), &lag);
    json_t *o =
        json_pack("{s:{s:f,s:f,s:f,s:I,s:f},s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I}}", "lag_ms", "last",
                  round(lag.last_ms * 1000) / 1000, "max", round(lag.max_ms * 1000) / 1000, "p99",
                  round(lag.p99_ms * 1000) / 1000, "samples", (json_int_t)lag.samples, "window_s",
                  lag.window_s, "active_timers", (json_int_t)app_active_timers(a), "connections",
                  (json_int_t)open_connections(a), "requests", (json_int_t)a->nreqs, "suspended",
                  (json_int_t)a->nsuspended, "executor", "busy", (json_int_t)es.busy, "queued",
                  (json_int_t)es.queued, "workers", (json_int_t)es.workers);
    http_respond_json(r, 200, o);
}

static void metrics_page(http_req *r)
{
    app *a = http_app(r);
    metrics_live live = {
        .connections = open_connections(a),
        .requests_in_flight = a->nreqs,
        .suspended = a->nsuspended,
        .active_timers = app_active_timers(a),
        .access_log_lines = a->alog ? access_log_lines(a->alog) : 0,
        .access_log_dropped = a->alog ? access_log_dropped(a->alog) : 0,
        .draining = atomic_load(&a->draining),
        .uptime_s = (double)(loop_now_ns() - a->started_ns) / 1e9,
    };
    executor_get_stats(a->ex, &live.ex);
    tasks_count(a, &live.tasks);
    buf b = BUF_INIT;
    metrics_render(a->metrics, &live, &b);
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
    const route *const *all = router_all(&n);
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

const route *ops_routes(size_t *n)
{
    *n = sizeof(ROUTES) / sizeof(ROUTES[0]);
    return ROUTES;
}
