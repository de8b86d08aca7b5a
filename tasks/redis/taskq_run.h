/*
 * taskq_run.h - this replica's share of the Redis queue: claiming, running
 * and reporting jobs, heartbeats and taking over a silent replica's jobs
 * (taskq_run.c). Loop 0's thread (the owner's).
 */
#ifndef IOCPU_TASKQ_RUN_H
#define IOCPU_TASKQ_RUN_H

#include <stddef.h>

#include "taskq_state.h"

void tq_run_up(taskq *q, int kind); /* a claim connection came up */
void tq_run_cmd_up(taskq *q);       /* the commands connection came up */
/* A "cancel <id>" event: stop the job where it runs here. */
void tq_run_event_cancel(taskq *q, const char *id);
void tq_run_stop(taskq *q);  /* drain: claim no more */
void tq_run_close(taskq *q); /* shutdown: abandon what runs here */
void tq_run_free(taskq *q);
/* Jobs claimed here and not yet reported back to Redis. */
size_t taskq_busy(const taskq *q);

#endif
