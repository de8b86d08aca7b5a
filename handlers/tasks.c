/*
 * tasks.c - the task endpoints: create_task, await (with a timeout), cancel
 * and list, over HTTP, and the task group that owns the backend. This file
 * only parses, forwards and answers: the tasks themselves live in the
 * backend (tasks/backend.h: the memory store or the Redis queue), which
 * outlives any request.
 *
 * Who can do what (docs/tasks.md): creating returns the task's owner token
 * (the backend makes it and keeps only its SHA-256); DELETE needs that token
 * or the admin token, GET /tasks the admin token (or it is off). The bearer
 * token is read and hashed here, on the loop that received the request; only
 * the hash (and whether it is the admin's) travels on, and the owner check
 * is the backend's, where the task's hash is.
 *
 * Threads: a request is validated on the loop that received it. The backend
 * lives on loop 0 and is driven only there: on loop 0 the operation runs at
 * once (task_backend_run); any other loop forwards it to loop 0 and answers
 * when the outcome comes back (taskfwd.c). The only state a local request
 * owns is its local_wait (freed with the request through http_set_ctx,
 * which detaches it from the backend, so a client that leaves while waiting
 * does not touch the task).
 *
 * Shared state (tasks_shared, one per server): the backend pointer, set by
 * loop 0's init before any loop runs (read-only afterwards; other loops only
 * call its ready()); loop 0's forwarder, touched only by loop 0; and the
 * backend's metrics text, written by loop 0 when it publishes (every 100 ms)
 * and read by any loop under `mu`.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bearer.h"
#include "common.h"
#include "handlers.h"
#include "memory.h"
#include "prom.h"
#include "redis_backend.h"
#include "shaping.h"
#include "taskbody.h"
#include "taskfwd.h"

#define LIST_DEFAULT 20
#define LIST_MAX 1000

typedef struct tasks_shared {
    task_backend *backend; /* loop 0 drives it; ready() from any loop */
    int has_admin;         /* an admin token is configured (read-only once the loops run) */
    uint8_t admin_hash[TASK_OWNER_HASH_BYTES]; /* its SHA-256 (read-only) */
    taskfwd *owner;                            /* loop 0's forwarder */
    pthread_mutex_t mu;
    buf metrics; /* guarded by mu: the backend's families as loop 0 last published them */
} tasks_shared;

typedef struct tasks_loop {
    app *a;
    tasks_shared *sh;
    taskfwd fwd;
} tasks_loop;

/* --- HTTP: validate, then run here (loop 0) or forward to loop 0 ----------- */

/* Sends an outcome as r's answer (Location, Retry-After); the body is consumed. */
static void reply(http_req *r, task_outcome *o)
{
    if (o->location[0]) http_add_header(r, "Location", o->location);
    if (o->retry_after) http_add_header(r, "Retry-After", "1");
    http_respond_json(r, o->status, o->body);
    o->body = NULL;
}

typedef struct local_wait {
    http_req *r;
    task_backend *b;
    task_wait tw;
} local_wait;

static void local_finish(task_wait *tw)
{
    local_wait *lw = tw->data;
    reply(lw->r, &tw->out);
}

static void local_free(void *p)
{
    local_wait *lw = p;
    task_backend_wait_cancel(lw->b, &lw->tw);
    task_outcome_free(&lw->tw.out);
    free(lw);
}

/* A forwarded operation's outcome, back on r's loop. */
static void forwarded(void *data, task_outcome *o)
{
    http_req *r = data;
    http_set_ctx(r, NULL, NULL); /* the call frees itself */
    reply(r, o);
}

static void forward_detach(void *call)
{
    taskfwd_detach(call);
}

/* Another loop owns the backend: r waits, suspended, while loop 0 runs q. */
static void forward(tasks_loop *tl, http_req *r, const task_request *q)
{
    if (http_defer(r) < 0) {
        http_respond_detail(r, 500, "cannot wait");
        return;
    }
    taskfwd_call *c = taskfwd_forward(&tl->fwd, q, forwarded, r);
    if (c)
        http_set_ctx(r, c, forward_detach); /* the request ending first detaches it */
    else
        http_respond_detail(r, 500, "out of memory");
}

/* Runs q for r: on this loop when it owns the backend, else through loop 0. */
static void run_op(http_req *r, const task_request *q)
{
    tasks_loop *tl = http_group_state(r);
    if (tl->a->index != 0) {
        forward(tl, r, q);
        return;
    }
    local_wait *lw = calloc(1, sizeof(*lw));
    if (!lw) {
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    lw->r = r;
    lw->b = tl->sh->backend;
    lw->tw.finish = local_finish;
    lw->tw.data = lw;
    if (task_backend_run(lw->b, q, &lw->tw)) {
        reply(r, &lw->tw.out);
        free(lw);
        return;
    }
    http_set_ctx(r, lw, local_free); /* the request leaving detaches the wait */
    if (http_defer(r) < 0) {
        task_backend_wait_cancel(lw->b, &lw->tw);
        http_respond_detail(r, 500, "cannot wait");
    }
}

static int copy_id(http_req *r, task_request *q)
{
    const char *id = http_path_id(r);
    if (strlen(id) >= sizeof(q->id)) return -1;
    strcpy(q->id, id);
    return 0;
}

/* An io task's delay drawn from its shape here, at creation: the task keeps
 * the value (in Redis too), so whichever replica runs it waits the same. */
static int draw_delay(http_req *r, params *p, const taskbody_shape *shp, task_spec *spec)
{
    shaping sh = {.shape = shp->s, .seeded = shp->seeded, .seed = shp->seed};
    if (shaping_draw_task(r, p, &sh) < 0) return -1;
    spec->delay = sh.delay;
    return 0;
}

/* POST /tasks */
static void tasks_create(http_req *r)
{
    params p;
    task_request q = {.op = TASK_OP_CREATE};
    size_t len;
    const char *body = http_body(r, &len);
    const config *cfg = &http_app(r)->cfg;
    taskbody_limits lim = {cfg->max_delay, cfg->max_iterations, cfg->max_ms};
    taskbody_shape shp;
    params_init(&p, "body");
    if (taskbody_parse_shaped(body, len, &lim, &p, &q.spec, &shp) < 0 ||
        (shp.s.dist != SHAPE_FIXED && draw_delay(r, &p, &shp, &q.spec) < 0)) {
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    params_free(&p);
    task_client_from_addr(&q.client, http_client_addr(r)); /* whose share it takes */
    run_op(r, &q);
}

/* GET /tasks/<id>[?wait=S] */
static void tasks_get(http_req *r)
{
    params p;
    task_request q = {.op = TASK_OP_GET};
    params_init(&p, "query");
    param_double(&p, "wait", http_arg(r, "wait"), 0, 0, http_app(r)->cfg.max_delay, &q.wait);
    if (!params_ok(&p)) {
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    params_free(&p);
    if (copy_id(r, &q) < 0)
        http_respond_detail(r, 404, "Not Found");
    else
        run_op(r, &q);
}

/* --- who can do what: the owner token and the admin token ----------------- */

static void unauthorized(http_req *r, const char *detail)
{
    http_add_header(r, "WWW-Authenticate", "Bearer realm=\"iocpu\"");
    http_respond_detail(r, 401, detail);
}

/* The bearer token r presents, hashed into q->token_hash, and q->admin set
 * when it is the admin token (compared as hashes, in constant time). 1, or
 * 0 when r has been answered 401 (no token, or not "Bearer <token>"). The
 * token itself goes nowhere: not into q, not into a log. */
static int authenticate(http_req *r, task_request *q)
{
    const tasks_shared *sh = ((tasks_loop *)http_group_state(r))->sh;
    const char *h = http_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *tok;
    size_t len;
    if (!h) {
        unauthorized(r, "Not authenticated");
        return 0;
    }
    if (bearer_parse(h, strlen(h), &tok, &len) < 0) {
        unauthorized(r, "invalid Authorization header: expected Bearer <token>");
        return 0;
    }
    task_owner_hash(tok, len, q->token_hash);
    q->admin = sh->has_admin && task_owner_eq(q->token_hash, sh->admin_hash);
    return 1;
}

/* DELETE /tasks/<id>: the owner's token or the admin's */
static void tasks_cancel(http_req *r)
{
    task_request q = {.op = TASK_OP_CANCEL};
    if (!authenticate(r, &q)) return;
    if (copy_id(r, &q) < 0)
        http_respond_detail(r, 404, "Not Found");
    else
        run_op(r, &q);
}

#define LISTING_OFF "listing tasks is off: the server has no admin token"

/* GET /tasks?limit=K: the admin's token only; without one configured, off */
static void tasks_list(http_req *r)
{
    params p;
    task_request q = {.op = TASK_OP_LIST};
    if (!((tasks_loop *)http_group_state(r))->sh->has_admin) {
        http_respond_detail(r, 403, LISTING_OFF);
        return;
    }
    if (!authenticate(r, &q)) return;
    if (!q.admin) {
        http_respond_detail(r, 403, "only the admin token lists tasks");
        return;
    }
    params_init(&p, "query");
    param_uint64(&p, "limit", http_arg(r, "limit"), LIST_DEFAULT, 1, LIST_MAX, &q.limit);
    if (!params_ok(&p)) {
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    params_free(&p);
    run_op(r, &q);
}

static const route ROUTES[] = {
    {"POST", "/tasks", tasks_create,
     "asyncio.create_task: the job starts in the background, its id comes back at once (202)"},
    {"GET", "/tasks", tasks_list,
     "the most recent tasks, newest first (admin token only); finished ones are kept for a "
     "bounded time and count"},
    {"GET", "/tasks/{id}", tasks_get,
     "await asyncio.wait_for(task, wait): the request waits on the loop, no thread held"},
    {"DELETE", "/tasks/{id}", tasks_cancel,
     "task.cancel() (owner or admin token): a queued job leaves the queue, a running one stops "
     "at its next check"},
};

/* --- the group: the backend on loop 0, a forwarder on every loop ----------- */

static const task_backend_type *const BACKENDS[] = {&task_memory_type, &task_redis_type};

static int shared_new(const config *cfg, void **shared)
{
    /* the backend is chosen on loop 0 (tasks_init), from its app's config */
    tasks_shared *sh = calloc(1, sizeof(*sh));
    if (!sh) return -ENOMEM;
    sh->has_admin = cfg->admin_token[0] != '\0';
    if (sh->has_admin) task_owner_hash(cfg->admin_token, strlen(cfg->admin_token), sh->admin_hash);
    int rc = -pthread_mutex_init(&sh->mu, NULL);
    if (rc < 0) {
        free(sh);
        return rc;
    }
    *shared = sh;
    return 0;
}

static void shared_free(void *p)
{
    tasks_shared *sh = p;
    if (!sh) return;
    pthread_mutex_destroy(&sh->mu);
    buf_free(&sh->metrics);
    free(sh);
}

static int open_backend(tasks_shared *sh, app *a)
{
    const config *cfg = &a->cfg;
    task_env env = {
        .loop = a->loop,
        .ex = a->ex,
        .channel = a->index,
        .url = cfg->tasks_backend,
        .replica_id = cfg->replica_id,
        .max_live = (size_t)cfg->max_tasks,
        .max_per_client = (size_t)cfg->max_tasks_per_client,
        .keep = (size_t)cfg->task_keep,
        .ttl_s = cfg->task_ttl,
        .attempts = cfg->task_attempts,
        .claim_idle_s = cfg->task_claim_idle,
        .command_timeout_s = cfg->redis_timeout,
        .password = cfg->redis_password,
        .limits = {cfg->max_delay, (uint64_t)cfg->max_iterations, (uint64_t)cfg->max_ms},
    };
    return task_backend_open(&sh->backend, BACKENDS, sizeof(BACKENDS) / sizeof(BACKENDS[0]), &env);
}

/* Loop 0: the backend's families, for any loop's /metrics. */
static void tasks_publish(void *state)
{
    tasks_loop *tl = state;
    if (tl->a->index != 0) return;
    task_backend *b = tl->sh->backend;
    buf text = BUF_INIT;
    b->type->metrics(b, &text);
    prom_gauge_u64(&text, "iocpu_task_forwarded_calls",
                   "/tasks operations from other loops held on loop 0 (a GET ?wait= until its "
                   "task or its wait ends, or its client leaves).",
                   tl->fwd.ncalls);
    prom_counter(&text, "iocpu_task_forwarded_waits_cancelled_total",
                 "Forwarded GET ?wait= ended on loop 0 because their client left.",
                 tl->fwd.ncancelled);
    pthread_mutex_lock(&tl->sh->mu);
    buf old = tl->sh->metrics;
    tl->sh->metrics = text;
    pthread_mutex_unlock(&tl->sh->mu);
    buf_free(&old);
}

static int tasks_init(app *a, void *shared, void **state)
{
    tasks_shared *sh = shared;
    tasks_loop *tl = calloc(1, sizeof(*tl));
    if (!tl) return -ENOMEM;
    tl->a = a;
    tl->sh = sh;
    *state = tl;
    if (a->index != 0) { /* loop 0 ran first: the backend and its forwarder exist */
        taskfwd_init(&tl->fwd, a, sh->owner, NULL);
        return 0;
    }
    int rc = open_backend(sh, a);
    if (rc < 0) {
        free(tl);
        *state = NULL;
        return rc;
    }
    taskfwd_init(&tl->fwd, a, &tl->fwd, sh->backend);
    sh->owner = &tl->fwd;
    tasks_publish(tl); /* every loop's /metrics has the families from the start */
    return 0;
}

static void tasks_metrics(void *state, buf *out)
{
    tasks_loop *tl = state;
    pthread_mutex_lock(&tl->sh->mu);
    buf_append(out, tl->sh->metrics.p, tl->sh->metrics.len);
    pthread_mutex_unlock(&tl->sh->mu);
}

static const char *tasks_unready(void *state)
{
    tasks_loop *tl = state;
    task_backend *b = tl->sh->backend; /* set before the loops started */
    return b->type->ready(b) ? NULL : "task backend unavailable";
}

/* The hooks below act on loop 0, which owns the backend and the waits. */
static task_backend *owned(void *state)
{
    tasks_loop *tl = state;
    return tl && tl->a->index == 0 ? tl->sh->backend : NULL;
}

static void tasks_drain(void *state)
{
    task_backend *b = owned(state);
    if (b) b->type->drain(b); /* claim no more jobs */
}

static void tasks_expire(void *state)
{
    if (owned(state)) taskfwd_expire_all(&((tasks_loop *)state)->fwd);
}

static size_t tasks_busy(void *state)
{
    task_backend *b = owned(state);
    return b ? ((tasks_loop *)state)->fwd.ncalls + b->type->busy(b) : 0;
}

static void tasks_close(void *state)
{
    task_backend *b = owned(state);
    if (!b) return;
    taskfwd_free_all(&((tasks_loop *)state)->fwd); /* their requests are gone */
    b->type->close(b); /* Redis: running jobs are abandoned, reclaimed elsewhere */
}

static void tasks_free(void *state)
{
    task_backend *b = owned(state);
    if (b) b->type->free(b); /* after the executor: every job of it is back */
    free(state);
}

const http_group tasks_group = {
    .name = "tasks",
    .routes = ROUTES,
    .nroutes = sizeof(ROUTES) / sizeof(ROUTES[0]),
    .shared_new = shared_new,
    .shared_free = shared_free,
    .init = tasks_init,
    .publish = tasks_publish,
    .drain = tasks_drain,
    .expire = tasks_expire,
    .busy = tasks_busy,
    .unready = tasks_unready,
    .metrics = tasks_metrics,
    .close = tasks_close,
    .free = tasks_free,
};
