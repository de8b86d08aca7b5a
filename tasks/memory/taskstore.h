/*
 * taskstore.h - the memory backend's store of background tasks (the model
 * and its state machine: tasks/task.h). The store gives each task a random
 * id, runs it (tasks/run.h), keeps its state, wakes the waiters of a task when it ends, and forgets
 * finished tasks after a time and beyond a count, so its memory stays bounded.
 *
 * Threads: every function here runs on the loop thread. Executor workers
 * only run a CPU task's work (see taskstore.c). No HTTP in here.
 */
#ifndef IOCPU_TASKSTORE_H
#define IOCPU_TASKSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "executor.h"
#include "list.h"
#include "loop.h"
#include "owner.h"
#include "quota.h"
#include "run.h"
#include "task.h"
#include "trace.h"

typedef struct taskstore taskstore;
typedef struct task task;
typedef struct task_waiter task_waiter;

typedef struct taskstore_limits {
    size_t max_live;   /* tasks queued or running at once (>= 1) */
    size_t keep;       /* finished tasks kept at most */
    uint64_t ttl_ns;   /* how long a finished task is kept */
    unsigned channel;  /* the executor completion channel of the store's loop */
    size_t per_client; /* CPU tasks queued or running per client; 0 = no cap */
} taskstore_limits;

/* Someone waiting for a task to end; caller-allocated, see taskstore_watch(). */
struct task_waiter {
    /* public, set before taskstore_watch() */
    void (*cb)(task_waiter *w, task *t);
    void *data;
    /* private */
    task *task_;
    list_node link_; /* in the task's waiters while task_ is set */
};

typedef struct taskstore_stats {
    size_t live;     /* queued or running, or cancelled with the job still on a worker */
    size_t finished; /* ended and still kept */
    uint64_t created, evicted;
} taskstore_stats;

/*
 * Creates an empty store whose IO tasks use loop l and CPU tasks executor ex
 * (both must outlive the store). 0 or a negative errno.
 */
int taskstore_new(taskstore **out, loop *l, executor *ex, const taskstore_limits *lim);

/*
 * Frees the store and every task in it, cancelling their timers; waiters
 * still attached are detached without a call. Call it after the executor was
 * freed (so that no job of the store is still queued or running) and before
 * the loop is.
 */
void taskstore_free(taskstore *ts);

/*
 * Starts a task: an IO task arms its timer and is running at once; a CPU task
 * is queued on the executor. 0 (and *out), -ENOSPC when max_live tasks are
 * live already, -EAGAIN when the executor queue is full, -EINVAL for an
 * unknown kind, -ENOMEM, or the error of getrandom(2).
 */
int taskstore_create(taskstore *ts, const task_spec *spec, task **out);
/*
 * The same for a client: a CPU task counts for it from its creation until
 * its job is handed back (done, failed, or cancelled and off its worker);
 * -EDQUOT when it holds per_client such tasks already.
 */
int taskstore_create_for(taskstore *ts, const task_spec *spec, const task_client *client,
                         task **out);

/*
 * The task with this id (exactly 32 lowercase hex characters), or NULL. A
 * task pointer stays valid at least until the caller returns to the loop:
 * tasks are only evicted from the store's own timer, and never while they
 * have waiters.
 */
task *taskstore_find(taskstore *ts, const char *id);

/*
 * Cancels a task that has not ended: a queued job leaves the executor queue,
 * a running one is asked to stop (its worker is free at its next cancel
 * check), an IO task's timer is disarmed. The task is `cancelled` at once
 * and its waiters are woken. 0, or -EALREADY when it had already ended
 * (also when a CPU job's work has just returned: it is then recorded as done).
 */
int taskstore_cancel(taskstore *ts, task *t);

/*
 * Calls w->cb(w, t) once, when t ends (the waiter is detached first); every
 * waiter of a task is woken. 0, or -EALREADY when t has already ended (w is
 * not attached). A task with waiters is never evicted.
 */
int taskstore_watch(taskstore *ts, task *t, task_waiter *w);
/* Detaches w; a no-op when it is not attached. */
void taskstore_unwatch(task_waiter *w);

/* The id of t: 32 lowercase hex characters, valid while t is in the store. */
const char *taskstore_id(const task *t);

/* The SHA-256 of t's owner token (owner.h): all zero until the caller sets
 * it after taskstore_create(); valid, and writable, while t is in the store. */
uint8_t *taskstore_owner(task *t);

/* The span of the request that created t (trace.h): all zero until the
 * caller sets it. */
trace_ctx *taskstore_trace(task *t);

/* Fills *v with the current state of t. */
void taskstore_view(taskstore *ts, task *t, task_view *v);

/* The most recently created task, then the next older one; NULL at the end. */
task *taskstore_newest(taskstore *ts);
task *taskstore_older(task *t);

/* Counts of the tasks in the store (O(1)). */
void taskstore_get_stats(const taskstore *ts, taskstore_stats *st);
/* The per-client counts (quota.h). */
void taskstore_quota_stats(const taskstore *ts, task_quota_stats *st);

#endif
