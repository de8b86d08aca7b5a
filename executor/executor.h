/*
 * executor.h - a fixed pool of worker threads with a bounded FIFO queue
 * (the lesson's ThreadPoolExecutor / run_in_executor).
 *
 * Jobs are caller-allocated. work() runs on a worker thread with no lock held;
 * done() always runs exactly once, on the thread that drains the job's
 * completion channel (its loop thread), after work() finished or the job was
 * cancelled while queued. Workers run at a lower scheduling priority (nice)
 * than the loop threads.
 *
 * Completion channels: one pool of workers can serve several event loops.
 * Each channel is a completed-job list plus an eventfd, drained by exactly
 * one thread (executor_channel_run_done); a job names its channel before it
 * is submitted, and its done() runs on that channel's thread. Channel 0 is
 * the one executor_fd()/executor_run_done() use, so a single-loop user never
 * sees channels.
 */
#ifndef IOCPU_EXECUTOR_H
#define IOCPU_EXECUTOR_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"

typedef struct executor executor;
typedef struct executor_job executor_job;

struct executor_job {
    /* public, set before executor_submit() */
    void (*work)(executor_job *job);
    /* status: 0 when work() ran (check `cancel` to know whether it was asked
     * to stop early), -ECANCELED when it was cancelled before it started */
    void (*done)(executor_job *job, int status);
    void *data;
    /* the completion channel whose thread runs done() (0 unless the executor
     * was made with several); a job is cancelled from that thread too */
    unsigned channel;
    /* 1: a background job (a task, nobody waits on the connection): it may
     * not take the queue slots and workers kept for the others
     * (executor_set_reserve); 0: a job a request waits for */
    int background;
    /* public, read-only; work() must poll cancel at least every millisecond */
    atomic_int cancel;
    uint64_t queued_ns, started_ns, finished_ns; /* CLOCK_MONOTONIC */
    uint64_t cpu_ns;                             /* thread CPU time spent in work() */
    int worker;                                  /* index of the worker that ran it, or -1 */
    /* private */
    list_node link_; /* in the queue or a completed list */
    int state_;
};

typedef struct executor_stats {
    size_t workers, queue_cap;
    size_t queued, busy;
    size_t bg_queued, bg_busy;   /* of which background jobs */
    size_t bg_queue_cap, bg_max; /* what background jobs may take (executor_set_reserve) */
    uint64_t submitted, completed, rejected, cancelled;
} executor_stats;

/*
 * Starts `workers` threads (>= 1) with a queue of at most queue_cap waiting
 * jobs (>= 1), niced by `nice_delta` (0 = same priority as the caller).
 * 0 or a negative errno.
 */
int executor_new(executor **out, size_t workers, size_t queue_cap, int nice_delta);

/*
 * Like executor_new(), with `channels` (>= 1) completion channels, one per
 * thread that submits jobs and runs their done(). -EINVAL when channels is 0.
 */
int executor_new_channels(executor **out, size_t workers, size_t queue_cap, int nice_delta,
                          size_t channels);

/*
 * Like executor_new_channels(), with the threads named `<prefix><index>`
 * (at most 15 bytes are kept, as the kernel does) instead of
 * "iocpu-worker<index>": a second pool (the IO threads) tells itself apart
 * in top -H and /proc.
 */
int executor_new_named(executor **out, const char *prefix, size_t workers, size_t queue_cap,
                       int nice_delta, size_t channels);

/*
 * Cancels every queued job, asks running ones to stop, joins every worker and
 * then runs every pending done() of every channel on the calling thread (so
 * the threads that drained the channels must have stopped by then).
 */
void executor_free(executor *ex);

/*
 * Keeps `slots` queue slots and `workers` workers for jobs that are not
 * background jobs: a background job is refused while the queue holds
 * queue_cap - slots jobs, and at most nworkers - workers background jobs run
 * at once (the others wait in a queue of their own; a free worker takes the
 * oldest job it may take). Both are clamped so that background jobs keep at
 * least one slot and one worker. Call it before the first submit.
 */
void executor_set_reserve(executor *ex, size_t slots, size_t workers);

/* Queues job. 0, -EAGAIN when the queue is full (nothing was queued; for a
 * background job: its share of the queue), or -EINVAL when job->channel is
 * not a channel of ex. */
int executor_submit(executor *ex, executor_job *job);

/*
 * Cancels job: a queued job leaves the queue and completes with -ECANCELED; a
 * running one gets its cancel flag set and completes when work() returns.
 * Returns 0 if it was removed from the queue, -EBUSY if it was running, and
 * -EALREADY if it had already finished (done() not run yet or run).
 */
int executor_cancel(executor *ex, executor_job *job);

/* An eventfd that becomes readable when done() callbacks of channel 0 are pending. */
int executor_fd(const executor *ex);

/* Runs every pending done() of channel 0 on the calling thread; returns how many ran. */
size_t executor_run_done(executor *ex);

/* The number of completion channels. */
size_t executor_channels(const executor *ex);
/* The eventfd of one channel (readable when its done() callbacks are pending). */
int executor_channel_fd(const executor *ex, size_t channel);
/* Runs every pending done() of one channel on the calling thread; how many ran. */
size_t executor_channel_run_done(executor *ex, size_t channel);

/*
 * An observer sees every job handed back, on the thread that runs the done()
 * of the job's channel, just before the job's done() and with the same
 * status (job->channel tells which channel); it must not free, cancel or
 * resubmit the job. Used for metrics (queue wait, run time) without touching
 * the jobs' owners.
 */
typedef void (*executor_observer)(void *arg, const executor_job *job, int status);
/* Sets (or, with NULL, removes) the observer: on the done() thread when there
 * is one channel, before the first submit when there are several. */
void executor_set_observer(executor *ex, executor_observer fn, void *arg);

void executor_get_stats(executor *ex, executor_stats *st);

#endif
