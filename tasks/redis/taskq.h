/*
 * taskq.h - the /tasks operations on Redis (--tasks-backend redis://...):
 * the same API as the memory backend, shared by every replica that points
 * at the same Redis. Any replica accepts a task, any replica's executor
 * runs it, any replica answers for it, waits on it or cancels it. Its
 * connections and operations are in taskq.c; redis_backend.c puts them
 * behind the backend interface (tasks/backend.h).
 *
 * Threads: everything runs on the owner loop's thread (loop 0), except
 * taskq_ready() and taskq_metrics(), which any thread may call.
 */
#ifndef IOCPU_TASKQ_H
#define IOCPU_TASKQ_H

#include "backend.h"
#include "buf.h"
#include "taskq_state.h"

/* Starts the backend of env->url on env->loop: connections are made in the
 * background. 0 or a negative errno. */
int taskq_new(taskq **out, const task_env *env);
/* Server shutdown, after the loops stopped and before the executor is
 * freed: closes the connections; jobs still running here are abandoned
 * (unacknowledged, another replica reclaims them). */
void taskq_close(taskq *q);
/* Frees q (after taskq_close() and executor_free()). */
void taskq_free(taskq *q);

/* 1 when Redis answers (commands and events connections up); any thread. */
int taskq_ready(const taskq *q);
/* Appends the backend's gauges and counters (Prometheus text); any thread. */
void taskq_metrics(const taskq *q, buf *b);
/* SIGTERM: claim no more jobs; the drain waits while taskq_busy(). */
void taskq_drain(taskq *q);

/* As the backend's operations: every one is a round trip, so it returns 0
 * (tw->finish runs later) unless it can answer at once (1). */
int taskq_start(taskq *q, const task_request *r, task_wait *tw);
void taskq_wait_cancel(task_wait *tw);
void taskq_wait_expire(task_wait *tw);

/* The readiness flag from the connections' state (taskq.c's callbacks). */
void tq_update_ready(taskq *q);
/* One message of iocpu:events ("done <id>" or "cancel <id>"). */
void tq_on_event(taskq *q, const char *msg, size_t len);

#endif
