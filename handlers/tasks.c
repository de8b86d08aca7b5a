/*
 * tasks.c - the task endpoints: create_task, await (with a timeout), cancel
 * and list, over HTTP. The tasks themselves live in the store (taskstore.c),
 * which outlives any request: a request only looks a task up, and a waiting
 * request (?wait=) is a waiter of the task plus a timer of its own.
 *
 * Threads: a request is validated on the loop that received it. The store
 * (app->tasks) lives on loop 0 and is only touched there: on loop 0 the
 * operation runs at once (taskops_start); any other loop forwards it to loop
 * 0 and answers when the outcome comes back (taskfwd.c). The only state a
 * local request owns is its local_wait (freed with the request through
 * http_set_ctx, which detaches it from the task and disarms its timer, so a
 * client that leaves while waiting does not touch the task).
 *
 * Ids: with --replica-id R the ids this server hands out are "R-<32 hex>",
 * so a proxy can route /tasks/<id> to the replica that holds the task; an
 * id without this replica's prefix is unknown here (404), never another
 * task.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "taskbody.h"
#include "taskfwd.h"
#include "taskops.h"
#include "taskq.h"
#include "taskstore.h"

#define LIST_DEFAULT 20
#define LIST_MAX 1000

/* --- rendering ------------------------------------------------------------ */

json_t *task_view_json(const task_view *v, const char *public_id)
{
    const task_spec *s = &v->spec;
    int io = s->kind == TASK_IO;
    json_t *o = json_pack("{s:s,s:s,s:s}", "id", public_id, "kind", io ? "io" : "cpu", "status",
                          task_status_name(v->status));
    if (io) {
        json_object_set_new(o, "delay", json_real(s->delay));
    } else {
        json_object_set_new(o, "n", json_integer((json_int_t)s->n));
        if (s->ms)
            json_object_set_new(o, "ms", json_integer((json_int_t)s->ms));
        else
            json_object_set_new(o, "iterations", json_integer((json_int_t)s->iterations));
    }
    if (v->status == TASK_DONE && io) {
        json_object_set_new(o, "result", json_fmt_delay("task done after ", s->delay, "s"));
    } else if (v->status == TASK_DONE) {
        json_object_set_new(o, "result", json_integer((json_int_t)v->sum));
        if (s->ms) /* the iterations that fitted in the CPU time */
            json_object_set_new(o, "iterations", json_integer((json_int_t)v->iterations));
    }
    if (v->status == TASK_FAILED)
        json_object_set_new(o, "error",
                            json_string(v->error_msg ? v->error_msg : strerror(-v->error)));
    json_object_set_new(o, "created_at", json_real(v->created_at));
    if (v->has_started) json_object_set_new(o, "started_at", json_real(v->started_at));
    if (v->has_finished) json_object_set_new(o, "finished_at", json_real(v->finished_at));
    if (v->has_started && v->has_finished) json_object_set_new(o, "elapsed", json_real(v->elapsed));
    if (v->attempts) json_object_set_new(o, "attempts", json_integer((json_int_t)v->attempts));
    if (v->runner) json_object_set_new(o, "runner", json_string(v->runner));
    return o;
}

static json_t *task_json(app *a, task *t)
{
    task_view v;
    taskstore_view(a->tasks, t, &v);
    char id[TASK_PATH_ID_MAX];
    if (a->cfg.replica_id[0]) /* "<replica>-<hex>": routable to this replica (store_id) */
        snprintf(id, sizeof(id), "%s-%s", a->cfg.replica_id, v.id);
    else
        snprintf(id, sizeof(id), "%s", v.id);
    return task_view_json(&v, id);
}

/* --- running an operation on the store (the owner loop) -------------------- */

/* The store id inside a client's id: with --replica-id, "<replica>-<hex>". */
static const char *store_id(const app *a, const char *id)
{
    const char *rid = a->cfg.replica_id;
    size_t n = strlen(rid);
    if (!n) return id;
    if (strncmp(id, rid, n) || id[n] != '-') return ""; /* another replica's: unknown here */
    return id + n + 1;
}

static void outcome(task_outcome *o, unsigned status, json_t *body)
{
    o->status = status;
    o->body = body;
}

static void outcome_detail(task_outcome *o, unsigned status, const char *detail)
{
    outcome(o, status, json_pack("{s:s}", "detail", detail));
    o->retry_after = status == 503;
}

static void op_create(app *a, const task_request *q, task_outcome *o)
{
    task *t;
    int rc = taskstore_create(a->tasks, &q->spec, &t);
    if (rc == -ENOSPC) {
        outcome_detail(o, 503, "too many tasks");
    } else if (rc == -EAGAIN) {
        outcome_detail(o, 503, "executor queue full");
    } else if (rc < 0) {
        outcome_detail(o, 500, strerror(-rc));
    } else {
        json_t *body = task_json(a, t);
        snprintf(o->location, sizeof(o->location), "/tasks/%s",
                 json_string_value(json_object_get(body, "id")));
        outcome(o, 202, body);
    }
}

static void op_cancel(app *a, task *t, task_outcome *o)
{
    if (taskstore_cancel(a->tasks, t) == -EALREADY)
        outcome_detail(o, 409, "task already finished");
    else
        outcome(o, 200, task_json(a, t));
}

static void op_list(app *a, uint64_t limit, task_outcome *o)
{
    json_t *list = json_array();
    size_t n = 0;
    for (task *t = taskstore_newest(a->tasks); t && n < limit; t = taskstore_older(t), n++)
        json_array_append_new(list, task_json(a, t));
    taskstore_stats st;
    taskstore_get_stats(a->tasks, &st);
    outcome(o, 200,
            json_pack("{s:o,s:I,s:I}", "tasks", list, "count", (json_int_t)n, "total",
                      (json_int_t)(st.live + st.finished)));
}

static void wait_woken(task_waiter *w, task *t)
{
    task_wait *tw = w->data;
    loop_timer_cancel(tw->owner_->loop, &tw->tm_);
    tw->armed_ = 0;
    outcome(&tw->out, 200, task_json(tw->owner_, t));
    tw->finish(tw);
}

static void wait_timed_out(timer *tm)
{
    task_wait *tw = tm->data;
    taskstore_unwatch(&tw->w_);
    tw->armed_ = 0;
    outcome(&tw->out, 200, task_json(tw->owner_, tw->task_)); /* still queued or running */
    tw->finish(tw);
}

/* GET: at once, or once the task ends or the wait is over. */
static int op_get(app *a, task *t, double wait, task_wait *tw)
{
    if (wait > 0) {
        tw->owner_ = a;
        tw->task_ = t;
        tw->w_.cb = wait_woken;
        tw->w_.data = tw;
        int rc = taskstore_watch(a->tasks, t, &tw->w_);
        if (rc == 0) {
            rc = loop_timer_start(a->loop, &tw->tm_, secs_to_ns(wait), wait_timed_out, tw);
            if (rc < 0) taskstore_unwatch(&tw->w_);
        }
        if (rc == 0) {
            tw->armed_ = 1;
            return 0;
        }
        if (rc != -EALREADY) {
            outcome_detail(&tw->out, 500, strerror(-rc));
            return 1;
        }
    }
    outcome(&tw->out, 200, task_json(a, t));
    return 1;
}

int taskops_start(app *a, const task_request *q, task_wait *tw)
{
    memset(&tw->out, 0, sizeof(tw->out));
    tw->armed_ = 0;
    tw->rop_ = NULL;
    if (a->taskq) return taskq_start(a->taskq, q, tw);
    if (q->op == TASK_OP_CREATE) {
        op_create(a, q, &tw->out);
        return 1;
    }
    if (q->op == TASK_OP_LIST) {
        op_list(a, q->limit, &tw->out);
        return 1;
    }
    task *t = taskstore_find(a->tasks, store_id(a, q->id));
    if (!t) {
        outcome_detail(&tw->out, 404, "Not Found");
        return 1;
    }
    if (q->op == TASK_OP_CANCEL) {
        op_cancel(a, t, &tw->out);
        return 1;
    }
    return op_get(a, t, q->wait, tw);
}

void taskops_wait_cancel(task_wait *tw)
{
    if (tw->rop_) taskq_wait_cancel(tw);
    if (!tw->armed_) return;
    taskstore_unwatch(&tw->w_); /* a waiter leaving never cancels the task */
    loop_timer_cancel(tw->owner_->loop, &tw->tm_);
    tw->armed_ = 0;
}

void taskops_wait_expire(task_wait *tw)
{
    if (tw->rop_) {
        taskq_wait_expire(tw);
        return;
    }
    if (!tw->armed_) return;
    taskops_wait_cancel(tw);
    outcome(&tw->out, 200, task_json(tw->owner_, tw->task_));
    tw->finish(tw);
}

void taskops_outcome_free(task_outcome *o)
{
    json_decref(o->body);
    o->body = NULL;
}

/* --- HTTP: validate, then run here (loop 0) or forward to loop 0 ----------- */

void tasks_respond(http_req *r, task_outcome *o)
{
    if (o->location[0]) http_add_header(r, "Location", o->location);
    if (o->retry_after) http_add_header(r, "Retry-After", "1");
    http_respond_json(r, o->status, o->body);
    o->body = NULL;
}

typedef struct local_wait {
    http_req *r;
    task_wait tw;
} local_wait;

static void local_finish(task_wait *tw)
{
    local_wait *lw = tw->data;
    tasks_respond(lw->r, &tw->out);
}

static void local_free(void *p)
{
    local_wait *lw = p;
    taskops_wait_cancel(&lw->tw);
    taskops_outcome_free(&lw->tw.out);
    free(lw);
}

/* Runs q for r: on this loop when it owns the store, else through loop 0. */
static void run_op(http_req *r, const task_request *q)
{
    app *a = http_app(r);
    if (a->index != 0) { /* loop 0 owns the store (or the Redis backend) */
        taskfwd_forward(r, q);
        return;
    }
    local_wait *lw = calloc(1, sizeof(*lw));
    if (!lw) {
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    lw->r = r;
    lw->tw.finish = local_finish;
    lw->tw.data = lw;
    if (taskops_start(a, q, &lw->tw)) {
        tasks_respond(r, &lw->tw.out);
        free(lw);
        return;
    }
    http_set_ctx(r, lw, local_free); /* the request leaving detaches the wait */
    if (http_defer(r) < 0) {
        taskops_wait_cancel(&lw->tw);
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

/* POST /tasks */
static void tasks_create(http_req *r)
{
    params p;
    task_request q = {.op = TASK_OP_CREATE};
    size_t len;
    const char *body = http_body(r, &len);
    const config *cfg = &http_app(r)->cfg;
    taskbody_limits lim = {cfg->max_delay, cfg->max_iterations, cfg->max_ms};
    params_init(&p, "body");
    if (taskbody_parse(body, len, &lim, &p, &q.spec) < 0) {
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    params_free(&p);
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

/* DELETE /tasks/<id> */
static void tasks_cancel(http_req *r)
{
    task_request q = {.op = TASK_OP_CANCEL};
    if (copy_id(r, &q) < 0)
        http_respond_detail(r, 404, "Not Found");
    else
        run_op(r, &q);
}

/* GET /tasks?limit=K */
static void tasks_list(http_req *r)
{
    params p;
    task_request q = {.op = TASK_OP_LIST};
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

void tasks_count(app *a, metrics_tasks *out)
{
    memset(out, 0, sizeof(*out));
    for (task *t = taskstore_newest(a->tasks); t; t = taskstore_older(t)) {
        task_view v;
        taskstore_view(a->tasks, t, &v);
        switch (v.status) {
        case TASK_QUEUED:
            out->queued++;
            break;
        case TASK_RUNNING:
            out->running++;
            break;
        case TASK_DONE:
            out->done++;
            break;
        case TASK_CANCELLED:
            out->cancelled++;
            break;
        case TASK_FAILED:
            out->failed++;
            break;
        }
    }
}

static const route ROUTES[] = {
    {"POST", "/tasks", tasks_create,
     "asyncio.create_task: the job starts in the background, its id comes back at once (202)"},
    {"GET", "/tasks", tasks_list,
     "the most recent tasks, newest first; finished ones are kept for a bounded time and count"},
    {"GET", "/tasks/{id}", tasks_get,
     "await asyncio.wait_for(task, wait): the request waits on the loop, no thread held"},
    {"DELETE", "/tasks/{id}", tasks_cancel,
     "task.cancel(): a queued job leaves the queue, a running one stops at its next check"},
};

const route *tasks_routes(size_t *n)
{
    *n = sizeof(ROUTES) / sizeof(ROUTES[0]);
    return ROUTES;
}
