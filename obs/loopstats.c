/*
 * loopstats.c - per-loop snapshots and their sums (see loopstats.h).
 *
 * Cost: publishing is one snapshot copy under the slot's mutex, every
 * 100 ms per loop. Gathering adds each loop's metrics into one object, one
 * mutex at a time: O(loops x routes) per scrape.
 */
#include "loopstats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

int loopstats_init(loop_stats *st, metrics *m)
{
    memset(st, 0, sizeof(*st));
    st->m = m;
    return -pthread_mutex_init(&st->mu, NULL);
}

void loopstats_destroy(loop_stats *st)
{
    pthread_mutex_destroy(&st->mu);
}

void loopstats_set(loop_stats *st, const loop_snapshot *s)
{
    loopstats_lock(st);
    st->snap = *s;
    st->snap.served = st->served;
    loopstats_unlock(st);
}

static void worst_lag(lag_summary *acc, const lag_summary *l)
{
    if (l->last_ms > acc->last_ms) acc->last_ms = l->last_ms;
    if (l->max_ms > acc->max_ms) acc->max_ms = l->max_ms;
    if (l->p99_ms > acc->p99_ms) acc->p99_ms = l->p99_ms;
    acc->samples += l->samples;
    acc->window_s = l->window_s;
}

static void add_snapshot(loop_snapshot *t, const loop_snapshot *s)
{
    t->connections += s->connections;
    t->requests += s->requests;
    t->suspended += s->suspended;
    t->active_timers += s->active_timers;
    t->served += s->served;
    t->log_lines += s->log_lines;
    t->log_dropped += s->log_dropped;
    t->body_buffered += s->body_buffered;
    t->rx_timeouts += s->rx_timeouts;
    t->early_refusals += s->early_refusals;
    t->lost_heads += s->lost_heads;
    t->stream_buffered += s->stream_buffered;
    t->stream_cut_stalled += s->stream_cut_stalled;
    t->stream_cut_buffer += s->stream_cut_buffer;
    worst_lag(&t->lag, &s->lag);
}

void loopstats_gather(loop_stats *board, size_t n, unsigned self, metrics *sum, loops_view *v)
{
    v->nloops = n;
    v->self = self;
    v->sum = sum;
    memset(&v->total, 0, sizeof(v->total));
    for (size_t i = 0; i < n; i++) {
        loopstats_lock(&board[i]);
        v->loops[i] = board[i].snap;
        metrics_add(sum, board[i].m);
        loopstats_unlock(&board[i]);
        add_snapshot(&v->total, &v->loops[i]);
    }
}

void loopstats_view_free(loops_view *v)
{
    free(v->loops);
    metrics_free(v->sum);
    memset(v, 0, sizeof(*v));
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
