/*
 * app_stats.c - see app_stats.h.
 *
 * Cost: publishing is a lag summary (a sort of at most ~1000 samples), a few
 * integer copies and each group's publish hook (the task group's walks its
 * store on loop 0), every 100 ms per loop. Gathering allocates one metrics
 * object and adds each loop's into it: O(loops x routes) per scrape.
 */
#include "app_stats.h"

#include <errno.h>
#include <stdlib.h>

static uint64_t open_connections(app *a)
{
    const union MHD_DaemonInfo *di =
        a->http.mhd ? MHD_get_daemon_info(a->http.mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;
    return di ? di->num_connections : 0;
}

void app_publish(app *a)
{
    for (size_t i = 0; i < a->groups.n; i++)
        if (a->groups.v[i]->publish) a->groups.v[i]->publish(a->group_state[i]);
    loop_snapshot s = {
        .connections = open_connections(a),
        .requests = a->http.nreqs,
        .suspended = a->http.nsuspended,
        .active_timers = app_active_timers(a),
        .log_lines = a->obs.alog ? access_log_lines(a->obs.alog) : 0,
        .log_dropped = a->obs.alog ? access_log_dropped(a->obs.alog) : 0,
        .body_buffered = a->http.body_buffered,
        .rx_timeouts = a->http.rx_timeouts,
        .early_refusals = a->http.early_refusals,
        .lost_heads = a->http.lost_heads,
        .stream_buffered = a->http.stream_buffered,
        .stream_cut_stalled = a->http.stream_cuts[HTTP_CUT_STALLED],
        .stream_cut_buffer = a->http.stream_cuts[HTTP_CUT_BUFFER],
    };
    lagprobe_summary(a->obs.probe, loop_now_ns(), &s.lag);
    loopstats_set(a->obs.stats, &s);
}

int app_gather(app *a, loops_view *v)
{
    metrics *sum = NULL;
    loop_snapshot *snaps = calloc(a->nloops, sizeof(*snaps));
    if (!snaps || app_new_metrics(a->router, &sum) < 0) {
        free(snaps);
        return -ENOMEM;
    }
    app_publish(a);
    v->loops = snaps;
    loopstats_gather(a->obs.board, a->nloops, a->index, sum, v);
    return 0;
}

int app_new_metrics(const router *rt, metrics **out)
{
    size_t n;
    const route *const *all = router_all(rt, &n);
    metrics_route *labels = calloc(n ? n : 1, sizeof(*labels));
    if (!labels) return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        labels[i] = (metrics_route){all[i]->method, all[i]->path};
    int rc = metrics_new(out, labels, n);
    free(labels);
    return rc;
}
