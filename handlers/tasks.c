/*
 * tasks.c - the task endpoints: create_task, await (with a timeout), cancel
 * and list, over HTTP. The tasks themselves live in the store (taskstore.c),
 * which outlives any request: a request only looks a task up, and a waiting
 * request (?wait=) is a waiter of the task plus a timer of its own.
 *
 * Threads: loop thread only. The store is app->tasks; the only state a
 * request owns is its task_wait (freed with the request through
 * http_set_ctx, which detaches it from the task and disarms its timer, so a
 * client that leaves while waiting does not touch the task).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "taskbody.h"
#include "taskstore.h"

#define LIST_DEFAULT 20
#define LIST_MAX 1000

/* --- rendering ------------------------------------------------------------ */

static json_t *task_json(app *a, task *t)
{
    task_view v;
    taskstore_view(a->tasks, t, &v);
    const task_spec *s = &v.spec;
    int io = s->kind == TASK_IO;
    json_t *o = json_pack("{s:s,s:s,s:s}", "id", v.id, "kind", io ? "io" : "cpu", "status",
                          task_status_name(v.status));
    if (io) {
        json_object_set_new(o, "delay", json_real(s->delay));
    } else {
        json_object_set_new(o, "n", json_integer((json_int_t)s->n));
        if (s->ms)
            json_object_set_new(o, "ms", json_integer((json_int_t)s->ms));
        else
            json_object_set_new(o, "iterations", json_integer((json_int_t)s->iterations));
    }
    if (v.status == TASK_DONE && io) {
        json_object_set_new(o, "result", json_fmt_delay("task done after ", s->delay, "s"));
    } else if (v.status == TASK_DONE) {
        json_object_set_new(o, "result", json_integer((json_int_t)v.sum));
        if (s->ms) /* the iterations that fitted in the CPU time */
            json_object_set_new(o, "iterations", json_integer((json_int_t)v.iterations));
    }
    if (v.status == TASK_FAILED) json_object_set_new(o, "error", json_string(strerror(-v.error)));
    json_object_set_new(o, "created_at", json_real(v.created_at));
    if (v.has_started) json_object_set_new(o, "started_at", json_real(v.started_at));
    if (v.has_finished) json_object_set_new(o, "finished_at", json_real(v.finished_at));
    if (v.has_started && v.has_finished) json_object_set_new(o, "elapsed", json_real(v.elapsed));
    return o;
}

static void respond_task(http_req *r, unsigned status, task *t)
{
    http_respond_json(r, status, task_json(http_app(r), t));
}

/* --- POST /tasks ------------------------------------------------------------ */

static void tasks_create(http_req *r)
{
    app *a = http_app(r);
    params p;
    task_spec spec;
    size_t len;
    const char *body = http_body(r, &len);
    taskbody_limits lim = {a->cfg.max_delay, a->cfg.max_iterations, a->cfg.max_ms};
    params_init(&p, "body");
    if (taskbody_parse(body, len, &lim, &p, &spec) < 0) {
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    params_free(&p);
    task *t;
    int rc = taskstore_create(a->tasks, &spec, &t);
    if (rc == -ENOSPC) {
        http_respond_busy(r, "too many tasks");
    } else if (rc == -EAGAIN) {
        http_respond_busy(r, "executor queue full");
    } else if (rc < 0) {
        http_respond_detail(r, 500, strerror(-rc));
    } else {
        char loc[64];
        snprintf(loc, sizeof(loc), "/tasks/%s", taskstore_id(t));
        http_add_header(r, "Location", loc);
        respond_task(r, 202, t);
    }
}

/* --- GET /tasks/<id>[?wait=S] ---------------------------------------------- */

typedef struct task_wait {
    http_req *r;
    task *t; /* valid while w is attached or tm armed: the task has not ended */
    task_waiter w;
    timer tm;
} task_wait;

static void wait_free(void *p)
{
    task_wait *tw = p;
    taskstore_unwatch(&tw->w); /* a waiter leaving never cancels the task */
    loop_timer_cancel(http_app(tw->r)->loop, &tw->tm);
    free(tw);
}

static void wait_woken(task_waiter *w, task *t)
{
    task_wait *tw = w->data;
    loop_timer_cancel(http_app(tw->r)->loop, &tw->tm);
    respond_task(tw->r, 200, t);
}

static void wait_timed_out(timer *tm)
{
    task_wait *tw = tm->data;
    taskstore_unwatch(&tw->w);
    respond_task(tw->r, 200, tw->t); /* still queued or running */
}

/* Waits for t on the loop. 0, or -EALREADY when it has ended, or -errno. */
static int wait_for(http_req *r, task *t, double secs)
{
    app *a = http_app(r);
    task_wait *tw = calloc(1, sizeof(*tw));
    if (!tw) return -ENOMEM;
    tw->r = r;
    tw->t = t;
    tw->w.cb = wait_woken;
    tw->w.data = tw;
    int rc = taskstore_watch(a->tasks, t, &tw->w);
    if (rc == 0) rc = loop_timer_start(a->loop, &tw->tm, secs_to_ns(secs), wait_timed_out, tw);
    if (rc == 0) rc = http_defer(r);
    if (rc < 0) {
        wait_free(tw);
        return rc;
    }
    http_set_ctx(r, tw, wait_free);
    return 0;
}

static void tasks_get(http_req *r)
{
    app *a = http_app(r);
    params p;
    double wait;
    params_init(&p, "query");
    param_double(&p, "wait", http_arg(r, "wait"), 0, 0, a->cfg.max_delay, &wait);
    if (!params_ok(&p)) {
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    params_free(&p);
    task *t = taskstore_find(a->tasks, http_path_id(r));
    if (!t) {
        http_respond_detail(r, 404, "Not Found");
        return;
    }
    int rc = wait > 0 ? wait_for(r, t, wait) : -EALREADY;
    if (rc == -EALREADY)
        respond_task(r, 200, t);
    else if (rc < 0)
        http_respond_detail(r, 500, strerror(-rc));
}

/* --- DELETE /tasks/<id> ----------------------------------------------------- */

static void tasks_cancel(http_req *r)
{
    app *a = http_app(r);
    task *t = taskstore_find(a->tasks, http_path_id(r));
    if (!t) {
        http_respond_detail(r, 404, "Not Found");
        return;
    }
    if (taskstore_cancel(a->tasks, t) == -EALREADY)
        http_respond_detail(r, 409, "task already finished");
    else
        respond_task(r, 200, t);
}

/* --- GET /tasks?limit=K ----------------------------------------------------- */

static void tasks_list(http_req *r)
{
    app *a = http_app(r);
    params p;
    uint64_t limit;
    params_init(&p, "query");
    param_uint64(&p, "limit", http_arg(r, "limit"), LIST_DEFAULT, 1, LIST_MAX, &limit);
    if (!params_ok(&p)) {
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    params_free(&p);
    json_t *list = json_array();
    size_t n = 0;
    for (task *t = taskstore_newest(a->tasks); t && n < limit; t = taskstore_older(t), n++)
        json_array_append_new(list, task_json(a, t));
    taskstore_stats st;
    taskstore_get_stats(a->tasks, &st);
    http_respond_json(r, 200,
                      json_pack("{s:o,s:I,s:I}", "tasks", list, "count", (json_int_t)n, "total",
                                (json_int_t)(st.live + st.finished)));
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
