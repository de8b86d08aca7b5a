/*
 * iopool.h - the IO thread pool: where a handler runs a blocking call (a
 * nanosleep, a blocking libcurl easy handle, a blocking recv) without
 * blocking its loop, the way FastAPI runs a plain `def` endpoint on anyio's
 * worker threads (40 by default).
 *
 * It is a second executor (executor.h), apart from the CPU one, shared by
 * every loop: --io-threads threads named "iocpu-io<i>" at the loops' own
 * priority, and a FIFO queue of at most --io-queue waiting calls. Each loop
 * has its completion channel in it, so done() runs on the loop that
 * submitted the job (app.h: `io`).
 *
 * How to use it, on a loop thread (a handler, a timer or a done()):
 *
 *     typedef struct my_call { executor_job job; http_req *r; ... } my_call;
 *
 *     static void my_work(executor_job *j)  // an IO thread: may block
 *     {
 *         my_call *c = j->data;             // the loop does not touch c now
 *         ... blocking call; poll iopool_cancelled(j) if it can stop early ...
 *     }
 *     static void my_done(executor_job *j, int status)  // back on the loop
 *     {
 *         my_call *c = j->data;   // status 0: my_work ran; -ECANCELED: it
 *         ...                     // never started (cancelled while queued,
 *     }                           // or the server stopped first)
 *
 *     c->job.work = my_work;
 *     c->job.done = my_done;
 *     c->job.data = c;
 *     int rc = iopool_submit(http_app(r), &c->job);
 *     if (rc == -EAGAIN) http_respond_busy(r, IOPOOL_FULL);  // 503 + Retry-After
 *     else if (rc == 0) http_defer(r);
 *
 * The contract:
 *   - iopool_submit() sets job->channel (this loop) and job->background (0);
 *     the caller sets work, done and data. The job must stay allocated until
 *     done() ran: done() runs exactly once for every job submitted (0
 *     returned), on this loop's thread, or while the server is freed (after
 *     every loop stopped, before the groups' free hooks) on the thread
 *     that frees it.
 *   - What work() writes is read by done() without a lock: the pool's mutex
 *     orders the two. Between submit and done() the loop must not touch what
 *     work() uses.
 *   - iopool_cancel() on a queued job takes it out: done() follows (on the
 *     next turn of the loop, never inside the call) with -ECANCELED. On a
 *     running job it only sets the job's cancel flag (iopool_cancelled()); a
 *     blocking call that does not poll it runs to its end, as a Python thread
 *     does (threads cannot be interrupted). A request whose client leaves
 *     cancels its job from its ctx free (http_set_ctx) and, like cpu.c, lets
 *     the job's done() free what it shares with work().
 *   - When the server stops, queued jobs complete with -ECANCELED and running
 *     ones get their cancel flag set; the server then waits for them (the
 *     pool's threads are joined), so a long blocking call should poll the
 *     flag at least every few tens of milliseconds.
 *   - job->queued_ns, started_ns, finished_ns (CLOCK_MONOTONIC, as
 *     loop_now_ns()) and job->worker (the IO thread's index) are there for
 *     done() to report: queued_for = started_ns - queued_ns.
 */
#ifndef IOCPU_IOPOOL_H
#define IOCPU_IOPOOL_H

#include <stdatomic.h>

#include "app.h"
#include "executor.h"

/* The detail of the 503 a handler answers when the pool's queue is full. */
#define IOPOOL_FULL "io pool queue full"

/* Thread names: IOPOOL_THREAD_PREFIX followed by the thread's index. */
#define IOPOOL_THREAD_PREFIX "iocpu-io"

/* Queues job on the IO pool, its done() to run on a's loop. 0, -EAGAIN when
 * the queue is full or the pool is stopping (nothing was queued: answer 503). */
int iopool_submit(app *a, executor_job *job);

/*
 * Cancels a job submitted from a's loop: 0 if it was still queued (done()
 * follows with -ECANCELED), -EBUSY if it runs (its cancel flag is set), and
 * -EALREADY if it had finished (done() is coming or came).
 */
int iopool_cancel(app *a, executor_job *job);

/* On the IO thread, in work(): 1 once the job was cancelled or the server
 * stops, so a blocking call that can stop early should stop. */
static inline int iopool_cancelled(executor_job *job)
{
    return atomic_load_explicit(&job->cancel, memory_order_relaxed) != 0;
}

/* The pool's counters (threads, queue capacity and depth, busy threads,
 * submitted, completed, rejected, cancelled); any loop thread. */
void iopool_stats(app *a, executor_stats *st);

#endif
