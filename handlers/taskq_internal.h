/*
 * taskq_internal.h - the state of the Redis task backend, shared by its
 * files: taskq.c (connections, the HTTP operations and their waiters),
 * taskq_run.c (claiming and running jobs) and taskq_lua.c (the scripts).
 *
 * Redis layout (one standalone Redis, every replica the same):
 *   iocpu:task:<id>   hash: the task (spec, status, times, result, attempts,
 *                     runner, stream entry); EXPIREs --task-ttl after it ends
 *   iocpu:jobs:cpu    stream of CPU jobs, consumer group "iocpu"
 *   iocpu:jobs:io     stream of IO jobs, consumer group "iocpu"
 *   iocpu:tasks       sorted set of ids by creation time (GET /tasks)
 *   iocpu:events      Pub/Sub channel: "done <id>" wakes waiters on every
 *                     replica, "cancel <id>" stops the job where it runs
 * Every state change is one Lua script, so replicas never race on a task.
 *
 * Threads: loop 0's thread only; executor workers only run a job's work()
 * (see taskq_run.c for what they share).
 */
#ifndef IOCPU_HANDLERS_TASKQ_INTERNAL_H
#define IOCPU_HANDLERS_TASKQ_INTERNAL_H

#include <hiredis/async.h>
#include <stdatomic.h>

#include "../executor/cpu_heavy.h"
#include "../server/redisconn.h"
#include "taskq.h"

#define TQ_KEY_PREFIX "iocpu:task:"
#define TQ_INDEX "iocpu:tasks"
#define TQ_CHANNEL "iocpu:events"
#define TQ_GROUP "iocpu"
#define TQ_WAIT_BUCKETS 1024

enum { TQ_CPU, TQ_IO, TQ_NKINDS };
extern const char *const TQ_STREAM[TQ_NKINDS];

typedef struct tq_op tq_op;
typedef struct tq_job tq_job;

/* One /tasks operation in flight (see taskq.c). */
struct tq_op {
    taskq *q;
    task_wait *tw; /* NULL once the request left: the op only waits for its reply */
    enum task_op op;
    char id[TASK_ID_LEN + 1];
    double wait;
    int inflight; /* a command of this op is awaiting its reply */
    int dirty;    /* a "done" event came while a fetch was in flight */
    int waiting;  /* in the waiter table, timer armed */
    int expired;  /* the wait is over: answer with the next fetch */
    json_t *last; /* the task as last fetched (waiting) */
    timer tm;
    tq_op *wprev, *wnext; /* waiter table chain */
};

/* A job claimed by this replica (see taskq_run.c). */
struct tq_job {
    taskq *q;
    int kind; /* TQ_CPU, TQ_IO */
    char id[TASK_ID_LEN + 1];
    char entry[48];   /* stream entry id */
    char attempt[24]; /* the attempt number START gave us, as a string */
    enum { J_STARTING, J_RUNNING, J_FINISHING, J_UNREPORTED } state;
    task_spec spec;
    uint64_t started_ns;
    int cancelled; /* a "cancel" event came for it */
    int unsent;    /* STARTING: START is still to be sent (no connection, or a lost reply) */
    /* cpu: shared with the worker (taskq_run.c) */
    executor_job ej;
    cpu_heavy_out out;
    int rc;
    int in_executor;
    /* io */
    timer tm;
    tq_job *prev, *next;
};

struct taskq {
    app *a;
    loop *l;
    executor *ex;
    redis_url url;
    redisconn cmd;              /* commands and scripts */
    redisconn events;           /* SUBSCRIBE iocpu:events */
    redisconn claim[TQ_NKINDS]; /* blocking XREADGROUP, one per stream */
    atomic_int ready;
    int subscribed, version_ok, draining, closing;
    char consumer[160];
    uint64_t ttl_s;
    tq_op *waiters[TQ_WAIT_BUCKETS];
    /* runner */
    tq_job *jobs;
    size_t njobs[TQ_NKINDS], starting;
    int claiming[TQ_NKINDS], group_ok[TQ_NKINDS];
    timer heartbeat, reclaim, retry_claim;
    int retry_armed;
    /* for /metrics on any loop: written on loop 0, read anywhere */
    _Atomic uint64_t n_local, n_claimed, n_reclaimed, n_requeued, n_lost;
};

/* taskq.c */
void tq_update_ready(taskq *q);
void tq_on_event(taskq *q, const char *msg, size_t len);

/* taskq_run.c */
void tq_run_up(taskq *q, int kind); /* a claim connection came up */
void tq_run_cmd_up(taskq *q);       /* the commands connection came up */
void tq_run_event_cancel(taskq *q, const char *id);
void tq_run_stop(taskq *q);
void tq_run_close(taskq *q);
void tq_run_free(taskq *q);

/* taskq_lua.c */
extern const char TQ_LUA_CREATE[], TQ_LUA_START[], TQ_LUA_FINISH[], TQ_LUA_CANCEL[], TQ_LUA_LIST[],
    TQ_LUA_HEARTBEAT[], TQ_LUA_REQUEUE[];

/* Sends a command built from argv; 0 or -1 (then fn is not called). */
int tq_command(redisconn *c, redisCallbackFn *fn, void *priv, int argc, const char **argv);
/* Unix time now, as Redis stores it ("%.6f"). */
void tq_now(char *dst, size_t len);

#endif
