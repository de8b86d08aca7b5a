/*
 * run.c - see run.h.
 */
#include "run.h"

#include <errno.h>
#include <time.h>

static void cpu_work(executor_job *j)
{
    task_run *r = j->data;
    atomic_store_explicit(&r->run_ns_, loop_now_ns(), memory_order_release);
    r->rc = cpu_heavy_run(r->spec_.n, r->spec_.iterations, r->spec_.ms, &j->cancel, &r->out);
}

static void cpu_done(executor_job *j, int status)
{
    task_run *r = j->data;
    r->held_ = 0;
    r->done(r, status);
}

static void io_fired(timer *t)
{
    task_run *r = t->data;
    r->done(r, 0);
}

int task_run_start(task_run *r, loop *l, executor *ex, unsigned channel, const task_spec *spec)
{
    r->spec_ = *spec;
    r->l_ = l;
    r->ex_ = ex;
    r->rc = 0;
    atomic_store(&r->run_ns_, 0);
    if (spec->kind == TASK_IO)
        return loop_timer_start(l, &r->tm_, secs_to_ns(spec->delay), io_fired, r);
    if (spec->kind != TASK_CPU) return -EINVAL;
    r->job.work = cpu_work;
    r->job.done = cpu_done;
    r->job.data = r;
    r->job.channel = channel;
    r->job.background = 1; /* leaves the executor's reserve to requests */
    atomic_store(&r->job.cancel, 0);
    int rc = executor_submit(ex, &r->job);
    if (rc == 0) r->held_ = 1;
    return rc;
}

int task_run_cancel(task_run *r)
{
    if (!r->l_) return 0; /* never started: nothing runs */
    if (r->spec_.kind == TASK_IO) {
        loop_timer_cancel(r->l_, &r->tm_);
        return 0;
    }
    return executor_cancel(r->ex_, &r->job);
}

void task_run_log(access_log *al, const char *id, const task_spec *spec, unsigned attempt,
                  const trace_ctx *origin)
{
    if (!al) return;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    access_log_task e = {
        .wall_ns = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec,
        .task = id,
        .kind = spec->kind == TASK_IO ? "io" : "cpu",
        .attempt = attempt,
    };
    char trace_id[TRACE_ID_HEX + 1], span_id[TRACE_SPAN_HEX + 1], parent_id[TRACE_SPAN_HEX + 1];
    if (origin && trace_valid(origin)) {
        trace_ctx run;
        trace_child(origin, &run, NULL);
        trace_hex(run.trace_id, TRACE_ID_BYTES, trace_id);
        trace_hex(run.span_id, TRACE_SPAN_BYTES, span_id);
        trace_hex(run.parent_id, TRACE_SPAN_BYTES, parent_id);
        e.trace_id = trace_id;
        e.span_id = span_id;
        e.parent_id = parent_id;
    }
    access_log_write_task(al, &e);
}
