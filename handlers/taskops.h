/*
 * taskops.h - one /tasks operation, validated, and its answer, independent
 * of the HTTP request that asked for it. tasks.c parses a request into a
 * task_request; the loop that owns the task store (loop 0) runs it with
 * taskops_start() and gets a task_outcome to send. With one loop that is
 * the same thread; with several, taskfwd.c carries the request to loop 0
 * and the outcome back.
 *
 * Threads: every function here runs on the thread of the loop that owns the
 * store (owner->tasks != NULL).
 */
#ifndef IOCPU_HANDLERS_TASKOPS_H
#define IOCPU_HANDLERS_TASKOPS_H

#include <jansson.h>
#include <stdint.h>

#include "../server/app.h"
#include "taskstore.h"

enum task_op { TASK_OP_CREATE, TASK_OP_GET, TASK_OP_CANCEL, TASK_OP_LIST };

/* Longest task id a client can send that we look at (replica prefix + 32 hex). */
#define TASK_PATH_ID_MAX 112

typedef struct task_request {
    enum task_op op;
    task_spec spec;            /* create */
    char id[TASK_PATH_ID_MAX]; /* get, cancel: as the client wrote it */
    double wait;               /* get: seconds, 0 = answer at once */
    uint64_t limit;            /* list */
} task_request;

/* The answer: status, body (owned), optional Location and Retry-After. */
typedef struct task_outcome {
    unsigned status;
    json_t *body;
    char location[TASK_PATH_ID_MAX + 16];
    int retry_after;
} task_outcome;

typedef struct task_wait task_wait;

/* A GET ?wait= in progress: caller-allocated, see taskops_start(). */
struct task_wait {
    /* public: set before taskops_start(); finish runs once, on the owner's
     * loop, when the outcome is ready (tw is detached by then) */
    void (*finish)(task_wait *tw);
    void *data;
    task_outcome out;
    /* private */
    app *owner_;
    task *task_;
    task_waiter w_;
    timer tm_;
    int armed_;
    struct tq_op *rop_; /* Redis backend (taskq.c): the operation in flight */
};

/*
 * Runs q on owner's store. Returns 1 when tw->out holds the answer now, or 0
 * when a GET waits: tw->finish(tw) runs later with tw->out filled (unless
 * taskops_wait_cancel() comes first).
 */
int taskops_start(app *owner, const task_request *q, task_wait *tw);
/* Detaches a waiting tw from its task and disarms its timer; a no-op otherwise. */
void taskops_wait_cancel(task_wait *tw);
/* Answers a waiting tw now with the task as it is (drain deadline). */
void taskops_wait_expire(task_wait *tw);
/* A task as the API shows it, under the id the client uses. */
json_t *task_view_json(const task_view *v, const char *public_id);

/* Releases what an outcome still holds. */
void taskops_outcome_free(task_outcome *out);

#endif
