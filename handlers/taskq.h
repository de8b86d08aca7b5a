/*
 * taskq.h - the /tasks operations on Redis (--tasks-backend redis://...):
 * the same API as the in-memory store, shared by every replica that points
 * at the same Redis. Any replica accepts a task, any replica's executor
 * runs it, any replica answers for it, waits on it or cancels it.
 *
 * Threads: everything runs on loop 0's thread (the loop that would own the
 * memory store), except taskq_ready(), which any loop may call. Other loops
 * forward their /tasks operations to loop 0 as they do for the memory store.
 */
#ifndef IOCPU_HANDLERS_TASKQ_H
#define IOCPU_HANDLERS_TASKQ_H

#include "../server/app.h"
#include "taskops.h"

typedef struct taskq taskq;

/* Starts the backend of a->cfg.tasks_backend on loop 0 (a): connections
 * are made in the background. 0 or a negative errno. */
int taskq_new(taskq **out, app *a);
/* Server shutdown, after the loops stopped and before the executor is
 * freed: closes the connections; jobs still running here are abandoned
 * (unacknowledged, another replica reclaims them). */
void taskq_close(taskq *q);
/* Frees q (after taskq_close() and executor_free()). */
void taskq_free(taskq *q);

/* 1 when Redis answers (commands and events connections up); any thread. */
int taskq_ready(const taskq *q);
/* The backend's gauges and counters for /metrics; any thread. */
void taskq_metrics(const taskq *q, metrics_taskq *out);
/* SIGTERM: claim no more jobs; the drain waits while taskq_busy(). */
void taskq_drain(taskq *q);
/* Jobs claimed here and not yet reported back to Redis. */
size_t taskq_busy(const taskq *q);

/* As taskops_start(); in Redis mode every operation is a round trip, so it
 * returns 0 (tw->finish runs later) unless it can answer at once. */
int taskq_start(taskq *q, const task_request *r, task_wait *tw);
void taskq_wait_cancel(task_wait *tw);
void taskq_wait_expire(task_wait *tw);

#endif
