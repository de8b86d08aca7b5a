/*
 * loopstream.c - GET /loop/stream (see loopstream.h).
 *
 * DESIGN
 * One hub per loop (the state of the ui group on that loop, made by
 * loopstream_init) holds the open streams and one shared
 * ticker, a loop timer re-armed a period after it fired (a stall gives one
 * late event, not a burst of catch-up ones). Each tick takes one sample and
 * writes the same event text into every stream; between ticks every stream's
 * connection is suspended by the HTTP layer, so no thread waits and nothing
 * spins. The first subscriber creates the hub and arms the ticker; the last
 * one to leave cancels it and empties the hub: an idle loop arms nothing.
 *
 * A subscriber is the request's ctx, so it leaves when its request ends: the
 * client went away (the suspended socket reports it at once), the server
 * stops, or a drain ended the stream. app->draining is checked on every tick
 * (and on subscribe): once set, each stream gets a last "end" event and is
 * ended, and the hub is freed, so a drain waits at most one period for the
 * open pages instead of its whole grace.
 *
 * A client that stops reading: --conn-timeout does not end it (each event
 * resumes the suspended connection, which restarts MHD's idle timer). The
 * HTTP layer does (http.c, streaming): unread events pile up in the socket
 * buffers, then in the stream's own; the stream is cut off once its client
 * has taken nothing for --stream-write-timeout, or once it holds
 * --stream-buffer-bytes, and the subscriber leaves with its request.
 *
 * Threads: everything here runs on the loop thread.
 */
#include "loopstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "iopool.h"

#define PERIOD_NS ((uint64_t)LOOPSTREAM_PERIOD_MS * 1000000u)
#define END_EVENT "event: end\ndata: {\"reason\":\"draining\"}\n\n"

typedef struct loopstream loopstream;

typedef struct sub {
    http_req *r;
    loopstream *hub; /* NULL once detached (ended by a drain, or the hub stopped) */
    list_node link;  /* in hub->subs */
} sub;

struct loopstream {
    app *a;
    timer tick;
    uint64_t last_ns; /* when the previous tick took its sample (or the first stream began) */
    uint64_t seq;     /* id of the last event */
    list_node subs;
    size_t n;
};

static void on_tick(timer *t);

static size_t open_connections(app *a)
{
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(a->http.mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return di ? di->num_connections : 0;
}

/* Appends one event ("id:" and "data:" lines, blank line) for a sample taken
 * now, with the probe's lag since since_ns. */
static void format_event(loopstream *h, uint64_t id, uint64_t since_ns, int first, buf *out)
{
    app *a = h->a;
    uint64_t now = loop_now_ns();
    size_t nlag;
    uint64_t lag = lagprobe_max_since(a->obs.probe, since_ns, &nlag);
    executor_stats es, io;
    executor_get_stats(a->ex, &es);
    iopool_stats(a, &io);
    size_t timers = app_active_timers(a) - (size_t)timer_active(&h->tick);
    json_t *o = json_pack(
        "{s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I},s:{s:I,s:I,s:I}}", "seq", (json_int_t)id,
        "t", secs_between(a->started_ns, now), "lag_ms", round((double)lag / 1e3) / 1e3,
        "lag_samples", (json_int_t)nlag, "active_timers", (json_int_t)timers, "connections",
        (json_int_t)open_connections(a), "suspended", (json_int_t)a->http.nsuspended, "streams",
        (json_int_t)h->n, "executor", "busy", (json_int_t)es.busy, "queued", (json_int_t)es.queued,
        "workers", (json_int_t)es.workers, "io_pool", "busy", (json_int_t)io.busy, "queued",
        (json_int_t)io.queued, "threads", (json_int_t)io.workers);
    if (first) buf_puts(out, "retry: 1000\n");
    buf_printf(out, "id: %llu\ndata: ", (unsigned long long)id);
    json_out_append(out, o);
    buf_puts(out, "\n\n");
    json_decref(o);
}

static void detach(sub *s)
{
    loopstream *h = s->hub;
    if (!h) return;
    list_remove(&s->link);
    s->hub = NULL;
    if (--h->n == 0) /* the last one out stops the ticker */
        loop_timer_cancel(h->a->loop, &h->tick);
}

/* The request's ctx free: runs once when the request ends, however it ends. */
static void sub_free(void *p)
{
    sub *s = p;
    detach(s);
    free(s);
}

/* Ends every stream, after a last event if one is given. */
static void end_all(loopstream *h, const char *last)
{
    while (!list_empty(&h->subs)) {
        sub *s = list_entry(list_first(&h->subs), sub, link);
        if (last) http_stream_write(s->r, last, strlen(last));
        http_stream_end(s->r);
        detach(s);
    }
}

static void on_tick(timer *t)
{
    loopstream *h = t->data;
    if (atomic_load(&h->a->draining)) {
        end_all(h, END_EVENT);
        return;
    }
    buf ev = BUF_INIT;
    format_event(h, ++h->seq, h->last_ns, 0, &ev);
    h->last_ns = loop_now_ns();
    if (ev.oom || loop_timer_start(h->a->loop, &h->tick, PERIOD_NS, on_tick, h) < 0) {
        buf_free(&ev);
        end_all(h, NULL); /* out of memory: end the streams rather than go silent */
        return;
    }
    list_node *n;
    list_foreach (n, &h->subs) /* writes never end a request on the spot */
        http_stream_write(list_entry(n, sub, link)->r, ev.p, ev.len);
    buf_free(&ev);
}

int loopstream_init(app *a, void *shared, void **state)
{
    (void)shared;
    loopstream *h = calloc(1, sizeof(*h));
    if (!h) return -ENOMEM;
    h->a = a;
    list_init(&h->subs);
    *state = h;
    return 0;
}

void loopstream_free(void *state)
{
    loopstream *h = state;
    if (!h) return;
    loop_timer_cancel(h->a->loop, &h->tick);
    while (!list_empty(&h->subs)) /* streams still open (their requests end later) */
        detach(list_entry(list_first(&h->subs), sub, link));
    free(h);
}

/* The first stream of an idle hub starts the ticker. 0 or -ENOMEM. */
static int hub_start(loopstream *h)
{
    if (h->n) return 0;
    h->last_ns = loop_now_ns();
    return loop_timer_start(h->a->loop, &h->tick, PERIOD_NS, on_tick, h);
}

void loopstream_subscribe(http_req *r)
{
    app *a = http_app(r);
    if (atomic_load(&a->draining)) {
        http_respond_busy(r, "draining");
        return;
    }
    loopstream *h = http_group_state(r);
    sub *s = calloc(1, sizeof(*s));
    if (!s || !h || hub_start(h) < 0) {
        free(s);
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    s->r = r;
    s->hub = h;
    list_insert_head(&h->subs, &s->link);
    h->n++;
    http_set_ctx(r, s, sub_free);

    buf first = BUF_INIT; /* a sample of the last period at once: a page draws at once */
    format_event(h, h->seq, loop_now_ns() - PERIOD_NS, 1, &first);
    http_add_header(r, "Cache-Control", "no-cache");
    if (first.oom || http_stream_begin(r, 200, "text/event-stream") < 0) {
        buf_free(&first);
        http_respond_detail(r, 500, "out of memory"); /* the ctx detaches when it ends */
        return;
    }
    http_stream_write(r, first.p, first.len);
    buf_free(&first);
}
