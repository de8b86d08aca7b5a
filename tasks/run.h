/*
 * run.h - running one task's work, for both backends: an IO task is a loop
 * timer of its delay, a CPU task is cpu_heavy on the executor. The backend
 * keeps the task's state; this only starts, stops and reports the work.
 *
 * Threads: start, cancel and done run on the owner loop's thread; the CPU
 * work runs on an executor worker. Shared with the worker: spec_ (written
 * before executor_submit, then read-only), out and rc (written by the work,
 * read only once done ran: the executor's mutex orders the two), run_ns_
 * (atomic: when the worker began), job.cancel (atomic, executor_cancel).
 */
#ifndef IOCPU_RUN_H
#define IOCPU_RUN_H

#include <stdatomic.h>
#include <stdint.h>

#include "access_log.h"
#include "cpu_heavy.h"
#include "executor.h"
#include "loop.h"
#include "task.h"
#include "trace.h"

typedef struct task_run task_run;

struct task_run {
    /* public: set before task_run_start() */
    /* Runs once the work is over, on the owner loop: status 0 when it ran
     * (io: its delay passed; cpu: see rc), -ECANCELED when a CPU job never
     * started (it left the queue, or the executor shut down). Not called
     * for an IO task that task_run_cancel() stopped. */
    void (*done)(task_run *r, int status);
    void *data;
    /* read-only once done ran (cpu) */
    int rc;            /* 0, -ECANCELED (stopped by a cancel or a shutdown) or -errno */
    cpu_heavy_out out; /* the sum and the iterations done */
    executor_job job;  /* its times: queued_ns, started_ns, finished_ns */
    /* private */
    task_spec spec_;
    loop *l_;
    executor *ex_;
    timer tm_;
    _Atomic uint64_t run_ns_;
    int held_; /* the executor holds job: done() is still to come */
};

/* Starts spec on l (io) or ex (cpu, completing on `channel`). 0, -EAGAIN
 * (executor queue full), -ENOMEM or -EINVAL (unknown kind). */
int task_run_start(task_run *r, loop *l, executor *ex, unsigned channel, const task_spec *spec);

/* Stops the work: a run never started is a no-op (0); an IO timer is
 * disarmed (0; done will not run); a CPU job
 * gets executor_cancel()'s answer (0: it left the queue, -EBUSY: it was
 * running, -EALREADY: it had returned) and done still runs. */
int task_run_cancel(task_run *r);

/*
 * Writes the task_run line of task id to al (NULL: none, the access log is
 * off): its run is a child span of origin, the span of the request that
 * created it (no trace fields when origin holds no trace). attempt: the
 * run's number (Redis), or 0. On the runner's loop thread.
 */
void task_run_log(access_log *al, const char *id, const task_spec *spec, unsigned attempt,
                  const trace_ctx *origin);

/* When a CPU job's worker began it (0 while queued). */
static inline uint64_t task_run_began_ns(task_run *r)
{
    return atomic_load_explicit(&r->run_ns_, memory_order_acquire);
}

/* 1 while the executor holds the job (its done() has not run yet). */
static inline int task_run_held(const task_run *r)
{
    return r->held_;
}

#endif
