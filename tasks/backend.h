/*
 * backend.h - one /tasks operation, validated, and its answer, independent
 * of the HTTP request that asked for it; and the one interface every task
 * backend implements (a table of operations, as redis's ConnectionType).
 *
 * The HTTP side (handlers/tasks.c) parses a request into a task_request; the
 * loop that owns the backend (loop 0) runs it with task_backend_run() and
 * gets a task_outcome to send. With one loop that is the same thread; with
 * several, handlers/taskfwd.c carries the request to loop 0 and the outcome
 * back. The backends: tasks/memory (a store on loop 0) and tasks/redis (a
 * queue shared by replicas through Redis Streams).
 *
 * Threads: every operation runs on the owner loop's thread, except ready(),
 * which any thread may call.
 */
#ifndef IOCPU_BACKEND_H
#define IOCPU_BACKEND_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "access_log.h"
#include "buf.h"
#include "executor.h"
#include "loop.h"
#include "owner.h"
#include "quota.h"
#include "task.h"
#include "trace.h"

enum task_op { TASK_OP_CREATE, TASK_OP_GET, TASK_OP_CANCEL, TASK_OP_LIST };

/* Longest task id a client can send that we look at (replica prefix + 32 hex). */
#define TASK_PATH_ID_MAX 112

typedef struct task_request {
    enum task_op op;
    task_spec spec;            /* create */
    task_client client;        /* create: who asks (--max-task-queue-per-client) */
    trace_ctx trace;           /* create: the request's span; its trace goes with the task */
    char id[TASK_PATH_ID_MAX]; /* get, cancel: as the client wrote it */
    double wait;               /* get: seconds, 0 = answer at once */
    uint64_t limit;            /* list */
    /* cancel: who asks. admin: the admin token was presented (any task);
     * else token_hash is the SHA-256 of the bearer token presented, which
     * must be the task's owner's (owner.h). Never the token itself. */
    int admin;
    uint8_t token_hash[TASK_OWNER_HASH_BYTES];
} task_request;

/* The answer: status, body (owned), optional Location and Retry-After. */
typedef struct task_outcome {
    unsigned status;
    json_t *body;
    char location[TASK_PATH_ID_MAX + 16];
    int retry_after;
} task_outcome;

typedef struct task_wait task_wait;

/* An operation in progress: caller-allocated, see task_backend_run(). */
struct task_wait {
    /* public: set before task_backend_run(); finish runs once, on the owner's
     * loop, when the outcome is ready (the wait is over by then) */
    void (*finish)(task_wait *tw);
    void *data;
    task_outcome out;
    /* private: the backend's own record of the wait, NULL when none */
    void *priv_;
};

/* What a backend is given by the loop that owns it. */
typedef struct task_env {
    loop *loop;               /* the owner loop */
    executor *ex;             /* CPU tasks run here, completing on `channel` */
    unsigned channel;         /* the owner loop's completion channel */
    const char *url;          /* --tasks-backend: "memory" or redis://... */
    const char *replica_id;   /* "" or --replica-id */
    size_t max_live;          /* --max-tasks */
    size_t max_per_client;    /* --max-task-queue-per-client (0: no cap) */
    size_t keep;              /* --task-keep */
    double ttl_s;             /* --task-ttl */
    long attempts;            /* --task-attempts (Redis) */
    double claim_idle_s;      /* --task-claim-idle (Redis) */
    double command_timeout_s; /* --redis-timeout (Redis) */
    const char *password;     /* Redis: overrides the URL's when not "" (a secret) */
    task_limits limits;       /* what a task read back from outside must keep */
    access_log *alog;         /* the owner loop's access log (a task_run line), or NULL */
} task_env;

typedef struct task_backend task_backend;

/* A backend's operations. Each backend embeds a task_backend first. */
typedef struct task_backend_type {
    const char *name;
    /* 1 when this backend serves --tasks-backend url */
    int (*accepts)(const char *url);
    int (*open)(task_backend **out, const task_env *env);
    /* Each returns 1 when tw->out holds the answer now, or 0 when
     * tw->finish(tw) will run later (unless wait_cancel comes first).
     * create's 202 body carries "owner_token" (owner.h), the one time it is
     * shown; the backend keeps only its hash. */
    int (*create)(task_backend *b, const task_request *q, task_wait *tw);
    int (*get)(task_backend *b, const task_request *q, task_wait *tw); /* waits q->wait */
    /* Cancels only for the admin or the task's owner (q->token_hash compared
     * with the stored hash by task_owner_eq): else 403, before its state is
     * looked at. */
    int (*cancel)(task_backend *b, const task_request *q, task_wait *tw);
    int (*list)(task_backend *b, const task_request *q, task_wait *tw);
    /* The asker left: detach tw, finish will not run. A no-op once over. */
    void (*wait_cancel)(task_backend *b, task_wait *tw);
    /* Drain deadline: answer a waiting tw now with the task as it is. */
    void (*wait_expire)(task_backend *b, task_wait *tw);
    /* 1 when it can serve (any thread). */
    int (*ready)(const task_backend *b);
    /* SIGTERM: start no new job here. */
    void (*drain)(task_backend *b);
    /* Jobs running here that a drain waits for. */
    size_t (*busy)(const task_backend *b);
    /* Appends its Prometheus families. */
    void (*metrics)(task_backend *b, buf *out);
    /* Every loop stopped, before the executor is freed: let go of the
     * outside (connections); jobs still running are abandoned. */
    void (*close)(task_backend *b);
    /* After the executor was freed. */
    void (*free)(task_backend *b);
} task_backend_type;

struct task_backend {
    const task_backend_type *type;
};

/* The backend of types[0..n) that accepts env->url, opened. 0, -EINVAL (no
 * type accepts it) or the open's error. */
int task_backend_open(task_backend **out, const task_backend_type *const *types, size_t n,
                      const task_env *env);

/* Runs q (its op picks the operation); tw->out is reset first. */
int task_backend_run(task_backend *b, const task_request *q, task_wait *tw);
void task_backend_wait_cancel(task_backend *b, task_wait *tw);
void task_backend_wait_expire(task_backend *b, task_wait *tw);

/* Sets an answer: status and body (owned). */
void task_outcome_set(task_outcome *o, unsigned status, json_t *body);
/* The 403 of a cancel whose token does not own the task. */
#define TASK_NOT_OWNER "the token does not own this task"

/* {"detail": detail}; a 503 also gets Retry-After. */
void task_outcome_detail(task_outcome *o, unsigned status, const char *detail);
/* 429 with Retry-After: client holds `cap` CPU tasks (--max-task-queue-per-client). */
void task_quota_refusal(task_outcome *o, const task_client *client, size_t cap);
/* Releases what an outcome still holds. */
void task_outcome_free(task_outcome *o);

#endif
