/*
 * cpu.c - CPU-bound endpoints: cpu_heavy on the executor (the right way), on
 * the loop thread (the anti-pattern), and several jobs at once.
 *
 * Threads: a cpu_job's `out`/`rc` are written by work() on a worker and read
 * by done() on the loop thread after the executor hands the job back (its
 * mutex orders the two). Everything else is loop-thread only. A cpu_call is
 * owned by its request; if the request ends first (client gone), the call
 * cancels its jobs and lives on, detached, until the last done() frees it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_heavy.h"
#include "common.h"
#include "handlers.h"

typedef struct cpu_call cpu_call;

typedef struct cpu_job {
    executor_job job;
    cpu_call *call;
    int64_t n;
    cpu_heavy_out out;
    int rc;
    int in_flight;
} cpu_job;

struct cpu_call {
    http_req *r; /* NULL once the request ended */
    executor *ex;
    int gather;
    int responded;
    uint64_t iterations, ms; /* ms > 0: burn CPU time instead */
    size_t njobs, pending;
    cpu_job jobs[];
};

/* Validated CPU parameters: n (or ns) and iterations or ms. */
typedef struct cpu_args {
    int64_t n;
    uint64_t iterations, ms;
    int by_time;
} cpu_args;

static void parse_work(http_req *r, params *p, cpu_args *a)
{
    const config *cfg = &http_app(r)->cfg;
    const char *it = http_arg(r, "iterations"), *ms = http_arg(r, "ms");
    a->by_time = ms != NULL;
    a->ms = 0;
    a->iterations = 0;
    if (it && ms) {
        params_error(p, "ms", -1, "value_error",
                     "Value error, give either iterations or ms, not both", json_string(ms), NULL);
        return;
    }
    if (ms)
        param_uint64(p, "ms", ms, 0, 0, (uint64_t)cfg->max_ms, &a->ms);
    else
        param_uint64(p, "iterations", it, 1000000, 0, (uint64_t)cfg->max_iterations,
                     &a->iterations);
}

static void job_work(executor_job *j)
{
    cpu_job *cj = j->data;
    cpu_call *c = cj->call;
    cj->rc = cpu_heavy_run(cj->n, c->iterations, c->ms, &j->cancel, &cj->out);
}

static double ns_to_ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void respond_one(cpu_call *c)
{
    cpu_job *cj = &c->jobs[0];
    executor_job *j = &cj->job;
    http_req *r = c->r;
    double queued = secs_between(j->queued_ns, j->started_ns);
    http_add_timing(r, "queue", ns_to_ms(j->started_ns - j->queued_ns));
    http_add_timing(r, "cpu", ns_to_ms(j->cpu_ns));
    json_t *o = json_pack("{s:I,s:I,s:I,s:f,s:f,s:f,s:i,s:s}", "n", (json_int_t)cj->n, "iterations",
                          (json_int_t)cj->out.iterations, "result", (json_int_t)cj->out.sum,
                          "elapsed", secs_since(http_start_ns(r)), "queued", queued, "cpu_time",
                          (double)j->cpu_ns / 1e9, "worker", j->worker, "ran_on", "executor");
    if (c->ms) json_object_set_new(o, "ms", json_integer((json_int_t)c->ms));
    http_respond_json(r, 200, o);
}

static void respond_gather(cpu_call *c)
{
    http_req *r = c->r;
    json_t *results = json_array(), *workers = json_array();
    uint64_t cpu = 0, queue = 0;
    for (size_t i = 0; i < c->njobs; i++) {
        executor_job *j = &c->jobs[i].job;
        json_array_append_new(results, json_integer((json_int_t)c->jobs[i].out.sum));
        json_array_append_new(workers, json_integer(j->worker));
        cpu += j->cpu_ns;
        if (j->started_ns - j->queued_ns > queue) queue = j->started_ns - j->queued_ns;
    }
    double elapsed = secs_since(http_start_ns(r));
    double sum = (double)cpu / 1e9;
    http_add_timing(r, "queue", ns_to_ms(queue));
    http_add_timing(r, "cpu", ns_to_ms(cpu));
    json_t *o =
        json_pack("{s:o,s:f,s:f,s:f,s:o}", "results", results, "elapsed", elapsed,
                  "sum_of_job_times", round(sum * 1e6) / 1e6, "speedup",
                  elapsed > 0 ? round(sum / elapsed * 1000) / 1000 : 0.0, "workers", workers);
    http_respond_json(r, 200, o);
}

static void job_done(executor_job *j, int status)
{
    cpu_job *cj = j->data;
    cpu_call *c = cj->call;
    cj->in_flight = 0;
    c->pending--;
    if (!c->r) { /* the request is gone */
        if (c->pending == 0) free(c);
        return;
    }
    if (c->responded || c->pending > 0) return;
    c->responded = 1;
    if (status < 0 || cj->rc < 0)
        http_respond_detail(c->r, 500, "job cancelled");
    else if (c->gather)
        respond_gather(c);
    else
        respond_one(c);
}

/* Request ended: cancel what still runs; free now or when the last job is back. */
static void call_free(void *p)
{
    cpu_call *c = p;
    c->r = NULL;
    for (size_t i = 0; i < c->njobs; i++)
        if (c->jobs[i].in_flight) executor_cancel(c->ex, &c->jobs[i].job);
    if (c->pending == 0) free(c);
}

static void submit_all(http_req *r, const int64_t *ns, size_t n, const cpu_args *a, int gather)
{
    cpu_call *c = calloc(1, sizeof(*c) + n * sizeof(cpu_job));
    if (!c) {
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    c->r = r;
    c->ex = http_app(r)->ex;
    c->gather = gather;
    c->iterations = a->iterations;
    c->ms = a->ms;
    c->njobs = n;
    http_set_ctx(r, c, call_free);
    for (size_t i = 0; i < n; i++) {
        cpu_job *cj = &c->jobs[i];
        cj->call = c;
        cj->n = ns[i];
        cj->job.work = job_work;
        cj->job.done = job_done;
        cj->job.data = cj;
        cj->job.channel = http_app(r)->index; /* done() comes back to this loop */
        if (executor_submit(c->ex, &cj->job) < 0) {
            /* all or nothing: take back what was queued, answer 503 now */
            for (size_t k = 0; k < i; k++)
                executor_cancel(c->ex, &c->jobs[k].job);
            c->responded = 1;
            http_respond_busy(r, "executor queue full");
            return;
        }
        cj->in_flight = 1;
        c->pending++;
    }
    http_defer(r);
}

/* n and iterations (or ms) of a single job; 0, or -1 with the errors in p. */
static int parse_single(http_req *r, params *p, cpu_args *a)
{
    param_int64(p, "n", http_arg(r, "n"), 3, INT64_MIN, INT64_MAX, &a->n);
    parse_work(r, p, a);
    return params_ok(p) ? 0 : -1;
}

static void cpu_executor(http_req *r)
{
    params p;
    params_init(&p, "query");
    cpu_args a;
    if (parse_single(r, &p, &a) == 0)
        submit_all(r, &a.n, 1, &a, 0);
    else
        http_respond_invalid(r, &p);
    params_free(&p);
}

static void cpu_gather(http_req *r)
{
    size_t max = (size_t)http_app(r)->cfg.max_list;
    int64_t *ns = calloc(max, sizeof(*ns));
    params p;
    params_init(&p, "query");
    cpu_args a;
    long n = ns ? param_int64_list(&p, "ns", http_arg(r, "ns"), "3,5", max, ns) : -1;
    parse_work(r, &p, &a);
    if (!params_ok(&p))
        http_respond_invalid(r, &p);
    else if (n < 0)
        http_respond_detail(r, 500, "out of memory");
    else
        submit_all(r, ns, (size_t)n, &a, 1);
    free(ns);
    params_free(&p);
}

/* The anti-pattern: the work runs right here, on the loop thread. */
static void cpu_blocking(http_req *r)
{
    params p;
    params_init(&p, "query");
    cpu_args a;
    if (parse_single(r, &p, &a) < 0) {
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    params_free(&p);
    int64_t n = a.n;
    cpu_heavy_out out;
    uint64_t t0 = loop_now_ns();
    cpu_heavy_run(n, a.iterations, a.ms, NULL, &out); /* nothing else on this loop runs meanwhile */
    uint64_t t1 = loop_now_ns();
    http_add_timing(r, "cpu", ns_to_ms(t1 - t0));
    json_t *o = json_pack("{s:I,s:I,s:I,s:f,s:s,s:f}", "n", (json_int_t)n, "iterations",
                          (json_int_t)out.iterations, "result", (json_int_t)out.sum, "elapsed",
                          secs_since(http_start_ns(r)), "ran_on", "event_loop", "blocked_loop_for",
                          secs_between(t0, t1));
    if (a.ms) json_object_set_new(o, "ms", json_integer((json_int_t)a.ms));
    http_respond_json(r, 200, o);
}

static const route ROUTES[] = {
    {"GET", "/cpu/executor", cpu_executor,
     "loop.run_in_executor: CPU work on the worker pool, "
     "the loop keeps serving"},
    {"GET", "/cpu/blocking", cpu_blocking,
     "the anti-pattern: CPU work inside the loop stalls "
     "every other request"},
    {"GET", "/cpu/gather", cpu_gather,
     "gather of executor jobs: C threads run them in parallel "
     "(no GIL), speedup ~ cores"},
};

const http_group cpu_group = {
    .name = "cpu",
    .routes = ROUTES,
    .nroutes = sizeof(ROUTES) / sizeof(ROUTES[0]),
};
