/*
 * iowait.c - the two other ways FastAPI code waits on IO, beside /io/job's
 * loop timer (`await asyncio.sleep`):
 *
 *   /io/threadpool  a plain `def` endpoint: FastAPI runs it on anyio's worker
 *                   threads (40), so a blocking wait holds one IO thread
 *                   (http/iopool.h) and the loop goes on; beyond the threads,
 *                   waits queue for one;
 *   /io/blocking    `time.sleep` inside `async def`: the loop thread itself
 *                   sleeps, and every request on that loop waits with it.
 *
 * Threads: a tp_call's `slept_ns` is written by work() on an IO thread and
 * read by done() on the loop after the pool hands the job back (its mutex
 * orders the two); `running` is atomic (set by work(), read by the loop when
 * the client leaves). Everything else is loop-thread only. A tp_call is owned
 * by its request; if the request ends first (client gone), a queued job is
 * cancelled, a running one keeps its thread to the end of its wait (as a
 * Python thread in time.sleep does), and the call lives on, detached, until
 * done() frees it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"
#include "handlers.h"
#include "iopool.h"

/* A running wait looks at its cancel flag (server stopping) this often. */
#define SLICE_NS (20 * 1000000ull)

typedef struct tp_call {
    executor_job job;
    http_req *r; /* NULL once the request ended */
    app *a;
    double delay;
    uint64_t slept_ns;  /* work(): how long the thread was blocked */
    atomic_int running; /* work() began */
    int in_flight;      /* submitted, done() not run yet */
} tp_call;

/* Sleeps the calling thread until the monotonic time end_ns, in slices of at
 * most slice_ns (0: one sleep), or until stop(arg) says to stop (NULL: never). */
static void sleep_until(uint64_t end_ns, uint64_t slice_ns, int (*stop)(void *), void *arg)
{
    for (uint64_t now = loop_now_ns(); now < end_ns; now = loop_now_ns()) {
        if (stop && stop(arg)) return;
        uint64_t until = slice_ns && end_ns - now > slice_ns ? now + slice_ns : end_ns;
        struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: loop again */
    }
}

static int job_stopped(void *arg)
{
    return iopool_cancelled(arg);
}

/* On an IO thread: the blocking wait (time.sleep in a `def` endpoint). */
static void tp_work(executor_job *j)
{
    tp_call *c = j->data;
    atomic_store(&c->running, 1);
    uint64_t t0 = loop_now_ns();
    sleep_until(t0 + secs_to_ns(c->delay), SLICE_NS, job_stopped, j);
    c->slept_ns = loop_now_ns() - t0;
}

static void tp_respond(tp_call *c)
{
    executor_job *j = &c->job;
    http_req *r = c->r;
    char name[32];
    snprintf(name, sizeof(name), IOPOOL_THREAD_PREFIX "%d", j->worker);
    http_add_timing(r, "queue", (double)(j->started_ns - j->queued_ns) / 1e6);
    http_add_timing(r, "wait", (double)c->slept_ns / 1e6);
    executor_stats st;
    iopool_stats(c->a, &st);
    json_t *o = json_pack(
        "{s:f,s:f,s:f,s:f,s:i,s:s,s:I,s:s}", "delay", c->delay, "elapsed",
        secs_since(http_start_ns(r)), "queued_for", secs_between(j->queued_ns, j->started_ns),
        "waited", round((double)c->slept_ns / 1e3) / 1e6, "thread", j->worker, "thread_name", name,
        "io_threads", (json_int_t)st.workers, "ran_on", "io_thread");
    http_respond_json(r, 200, o);
}

/* Back on the loop that submitted the job. */
static void tp_done(executor_job *j, int status)
{
    tp_call *c = j->data;
    c->in_flight = 0;
    if (!c->r) { /* the request is gone */
        free(c);
        return;
    }
    if (status < 0)
        http_respond_busy(c->r, "io pool stopping");
    else
        tp_respond(c);
}

/* The request ended: a job still queued is dropped; a running one keeps its
 * thread to the end (a blocked thread cannot be interrupted). */
static void tp_free(void *p)
{
    tp_call *c = p;
    c->r = NULL;
    if (c->in_flight && !atomic_load(&c->running)) iopool_cancel(c->a, &c->job);
    if (!c->in_flight) free(c);
}

/* ?delay= as /io/job takes it: 0 .. --max-delay, default 1; 0, or -1 after
 * answering 422. */
static int parse_delay(http_req *r, double *delay)
{
    params p;
    params_init(&p, "query");
    param_double(&p, "delay", http_arg(r, "delay"), 1.0, 0, http_app(r)->cfg.max_delay, delay);
    int ok = params_ok(&p);
    if (!ok) http_respond_invalid(r, &p);
    params_free(&p);
    return ok ? 0 : -1;
}

static void io_threadpool(http_req *r)
{
    double delay;
    if (parse_delay(r, &delay) < 0) return;
    tp_call *c = calloc(1, sizeof(*c));
    if (!c) {
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    c->r = r;
    c->a = http_app(r);
    c->delay = delay;
    c->job.work = tp_work;
    c->job.done = tp_done;
    c->job.data = c;
    if (iopool_submit(c->a, &c->job) < 0) {
        free(c);
        http_respond_busy(r, IOPOOL_FULL);
        return;
    }
    c->in_flight = 1;
    http_set_ctx(r, c, tp_free);
    http_defer(r);
}

/* The anti-pattern: the loop thread itself sleeps; nothing else on this loop
 * runs meanwhile (no timer, no other request, not even /healthz). */
static void io_blocking(http_req *r)
{
    double delay;
    if (parse_delay(r, &delay) < 0) return;
    uint64_t t0 = loop_now_ns();
    sleep_until(t0 + secs_to_ns(delay), 0, NULL, NULL);
    uint64_t t1 = loop_now_ns();
    http_add_timing(r, "wait", (double)(t1 - t0) / 1e6);
    json_t *o =
        json_pack("{s:f,s:f,s:s,s:f}", "delay", delay, "elapsed", secs_since(http_start_ns(r)),
                  "ran_on", "event_loop", "blocked_loop_for", secs_between(t0, t1));
    http_respond_json(r, 200, o);
}

static const route ROUTES[] = {
    {"GET", "/io/threadpool", io_threadpool,
     "a `def` endpoint: the wait blocks one of --io-threads IO threads (40, as anyio), the "
     "loop keeps serving; beyond the threads, waits queue"},
    {"GET", "/io/blocking", io_blocking,
     "the anti-pattern: time.sleep inside `async def` stalls the loop and every request "
     "on it"},
};

const http_group iowait_group = {
    .name = "iowait",
    .routes = ROUTES,
    .nroutes = sizeof(ROUTES) / sizeof(ROUTES[0]),
};
