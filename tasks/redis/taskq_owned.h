/*
 * taskq_owned.h - the Redis backend's share of --max-task-queue-per-client:
 * each replica counts the CPU tasks that clients created through it, from
 * the create until the task ends anywhere (the "done <id>" event every end
 * publishes: finished, failed, cancelled). After the events connection was
 * down, each counted task's status is read again (an end may have been
 * missed). A client spread over several replicas gets the cap on each.
 *
 * Threads: loop 0's thread (the owner's) only.
 */
#ifndef IOCPU_TASKQ_OWNED_H
#define IOCPU_TASKQ_OWNED_H

#include "taskq_state.h"

/* Counts task id for client before its create is sent: 0, -EDQUOT (client
 * holds its cap already), -ENOMEM. An IO task is never counted. */
int tq_owned_take(taskq *q, const char *id, const task_client *client);
/* Task id ended, or its create failed: its client's share comes back (a
 * no-op for a task not counted here). */
void tq_owned_release(taskq *q, const char *id);
/* The events connection (re)subscribed: read the status of every counted
 * task again and release those that ended or are gone meanwhile. */
void tq_owned_recheck(taskq *q);
/* Shutdown: forgets everything. */
void tq_owned_free(taskq *q);

#endif
