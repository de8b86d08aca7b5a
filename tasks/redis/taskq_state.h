/*
 * taskq_state.h - the state of the Redis task backend (types only), shared
 * by its files: taskq.c (connections, the HTTP operations and their
 * waiters), taskq_run.c (claiming and running jobs), taskq_lua.c (the
 * layout, the scripts and sending them) and redis_backend.c (the backend
 * interface).
 *
 * Redis layout (one standalone Redis, every replica the same):
 *   iocpu:task:<id>   hash: the task (spec, status, times, result, attempts,
 *                     runner, stream entry, owner: the SHA-256 of its owner
 *                     token in hex, never the token); EXPIREs --task-ttl after
 *                     it ends
 *   iocpu:jobs:cpu    stream of CPU jobs, consumer group "iocpu"
 *   iocpu:jobs:io     stream of IO jobs, consumer group "iocpu"
 *   iocpu:jobs:dead   dead-letter stream: entries of the job streams that name
 *                     no valid task ("poison"), with the reason and their
 *                     source stream; capped (XADD MAXLEN ~ TQ_DEAD_MAXLEN)
 *   iocpu:tasks       sorted set of ids by creation time (GET /tasks)
 *   iocpu:events      Pub/Sub channel: "done <id>" wakes waiters on every
 *                     replica, "cancel <id>" stops the job where it runs
 * Every state change is one Lua script, so replicas never race on a task.
 *
 * Threads: loop 0's thread only; executor workers only run a job's work()
 * (see taskq_run.c for what they share).
 */
#ifndef IOCPU_TASKQ_STATE_H
#define IOCPU_TASKQ_STATE_H

#include <hiredis/async.h>
#include <stdatomic.h>

#include "backend.h"
#include "list.h"
#include "lograte.h"
#include "redisconn.h"
#include "run.h"

#define TQ_KEY_PREFIX "iocpu:task:"
#define TQ_INDEX "iocpu:tasks"
#define TQ_CHANNEL "iocpu:events"
#define TQ_GROUP "iocpu"
#define TQ_DEAD "iocpu:jobs:dead"
#define TQ_DEAD_MAXLEN "10000" /* entries kept in TQ_DEAD (about: MAXLEN ~) */
#define TQ_WAIT_BUCKETS 1024
#define TQ_OWNED_BUCKETS 256

enum { TQ_CPU, TQ_IO, TQ_NKINDS };

/* Why a stream entry was dead-lettered (the names are TQ_DEAD_REASON[]):
 * no "id" field, an id that is no task id, fields besides the id, no task
 * at the id, a key of another type at the id, a task record that fails
 * validation, an entry deleted while a replica held it. */
enum {
    TQ_DL_NO_ID,
    TQ_DL_BAD_ID,
    TQ_DL_EXTRA_FIELDS,
    TQ_DL_MISSING_TASK,
    TQ_DL_WRONG_TYPE,
    TQ_DL_INVALID_TASK,
    TQ_DL_DELETED,
    TQ_DL_NREASONS
};

typedef struct taskq taskq;
typedef struct tq_op tq_op;
typedef struct tq_job tq_job;

/* One /tasks operation in flight (see taskq.c). */
struct tq_op {
    taskq *q;
    task_wait *tw; /* NULL once the request left: the op only waits for its reply */
    enum task_op op;
    char id[TASK_ID_LEN + 1];
    double wait;
    int inflight;  /* a command of this op is awaiting its reply */
    int dirty;     /* a "done" event came while a fetch was in flight */
    int waiting;   /* in the waiter table, timer armed */
    int expired;   /* the wait is over: answer with the next fetch */
    int timed_out; /* --redis-timeout passed before the reply: answered 503 */
    int admin;     /* cancel: the admin token was presented */
    uint8_t token_hash[TASK_OWNER_HASH_BYTES]; /* cancel: the presented token's SHA-256 */
    json_t *last;                              /* the task as last fetched (waiting) */
    timer tm;
    timer cmd_tm;    /* armed while a command is in flight: --redis-timeout */
    list_node wlink; /* in its waiter table bucket while waiting */
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
    trace_ctx trace; /* the creating request's span (from the task's "trace"), or all zero */
    uint64_t started_ns;
    int cancelled;    /* a "cancel" event came for it */
    char invalid[96]; /* not "": its record in Redis fails validation (why); reported failed */
    int unsent;       /* STARTING: START is still to be sent (no connection, or a lost reply) */
    task_run run;     /* its work: a timer or an executor job (tasks/run.h) */
    list_node link;   /* in taskq.jobs */
};

struct taskq {
    task_backend base; /* first: the backend interface (redis_backend.c) */
    loop *l;
    executor *ex;
    unsigned channel;        /* the owner loop's executor completion channel */
    long attempts;           /* --task-attempts */
    double claim_idle_s;     /* --task-claim-idle */
    task_limits lim;         /* a task read back from Redis is checked against these */
    access_log *alog;        /* a task_run line per job run here, or NULL */
    uint64_t cmd_timeout_ns; /* --redis-timeout: a command's answer is awaited this long */
    timer ping;              /* every cmd_timeout: is Redis still answering? */
    uint64_t ping_sent_ns;   /* a PING is awaited since then (0: none) */
    int stalled;             /* Redis took longer than cmd_timeout to answer: not ready */
    long max_live, keep;     /* --max-tasks, --task-keep */
    redis_url url;
    redisconn cmd;              /* commands and scripts */
    redisconn events;           /* SUBSCRIBE iocpu:events */
    redisconn claim[TQ_NKINDS]; /* blocking XREADGROUP, one per stream */
    atomic_int ready;
    int subscribed, version_ok, draining, closing;
    char consumer[160];
    uint64_t ttl_s;
    list_node waiters[TQ_WAIT_BUCKETS]; /* tq_op.wlink by bucket of id, the latest first */
    /* CPU tasks created through this replica, until they end (taskq_owned.c) */
    list_node owned[TQ_OWNED_BUCKETS];
    task_quota *quota; /* their count per client */
    size_t per_client; /* --max-task-queue-per-client */
    /* runner */
    list_node jobs; /* tq_job.link, the latest first */
    size_t njobs[TQ_NKINDS], starting;
    int claiming[TQ_NKINDS], group_ok[TQ_NKINDS];
    timer heartbeat, reclaim, retry_claim;
    timer group_retry[TQ_NKINDS]; /* XGROUP CREATE failed (the key is no stream): again in 1 s */
    int group_failed[TQ_NKINDS];  /* ... and that was logged */
    int retry_armed;
    /* for /metrics: written on loop 0, read there when it publishes (taskq_metrics:
     * atomics, so any thread may read them) */
    _Atomic uint64_t n_local, n_claimed, n_reclaimed, n_requeued, n_lost;
    _Atomic uint64_t n_dead[TQ_DL_NREASONS]; /* entries dead-lettered here, by reason */
    lograte log; /* the backend's lines about what it finds in Redis (tq_log) */
};

#endif
