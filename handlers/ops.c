/*
 * ops.c - liveness and readiness.
 */
#include <string.h>

#include "common.h"

static void healthz(http_req *r)
{
    http_respond_data(r, 200, "application/json", strdup("{\"status\":\"ok\"}"), 15);
}

static void readyz(http_req *r)
{
    if (http_app(r)->draining)
        http_respond_busy(r, "draining");
    else
        http_respond_data(r, 200, "application/json", strdup("{\"status\":\"ready\"}"), 18);
}

/* What the loop is holding right now (the lag probe joins it with /metrics). */
static void loop_state(http_req *r)
{
    app *a = http_app(r);
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    executor_stats es;
    executor_get_stats(a->ex, &es);
    json_t *o = json_pack(
        "{s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I}}", "active_timers", (json_int_t)loop_timer_count(a->loop),
        "connections", (json_int_t)(di ? di->num_connections : 0), "requests", (json_int_t)a->nreqs,
        "suspended", (json_int_t)a->nsuspended, "executor", "busy", (json_int_t)es.busy, "queued",
        (json_int_t)es.queued, "workers", (json_int_t)es.workers);
    http_respond_json(r, 200, o);
}

static const route ROUTES[] = {
    {"GET", "/healthz", healthz, "liveness: answers as long as the loop turns"},
    {"GET", "/readyz", readyz, "readiness: 503 while the server drains"},
    {"GET", "/loop", loop_state, "the loop's own state: timers, connections, waiting requests"},
};

const route *ops_routes(size_t *n)
{
    *n = sizeof(ROUTES) / sizeof(ROUTES[0]);
    return ROUTES;
}
