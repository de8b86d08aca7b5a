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
#include "taskstore.h"

#define LIST_DEFAULT 20
#define LIST_MAX 1000

static const char *const KINDS[] = {"io", "cpu", NULL};

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

/* --- the JSON body ---------------------------------------------------------- */

/* An error about the body as a whole: loc ["body"] or ["body", pos]. */
static void body_error(params *p, long pos, const char *type, const char *msg, json_t *input,
                       json_t *ctx)
{
    json_t *loc = json_pack("[s]", p->where);
    if (pos >= 0) json_array_append_new(loc, json_integer(pos));
    json_t *e = json_pack("{s:s,s:o,s:s,s:o}", "type", type, "loc", loc, "msg", msg, "input",
                          input ? input : json_null());
    if (ctx) json_object_set_new(e, "ctx", ctx);
    json_array_append_new(p->errors, e);
}

/* The body as a JSON object, or NULL with the error recorded (as pydantic would). */
static json_t *parse_body(http_req *r, params *p)
{
    size_t len;
    const char *body = http_body(r, &len);
    if (len == 0) {
        body_error(p, -1, "missing", "Field required", NULL, NULL);
        return NULL;
    }
    json_error_t err;
    json_t *o = json_loadb(body, len, JSON_DECODE_ANY, &err);
    if (!o) {
        body_error(p, (long)err.position, "json_invalid", "JSON decode error", json_object(),
                   json_pack("{s:s}", "error", err.text));
        return NULL;
    }
    if (!json_is_object(o)) {
        body_error(p, -1, "model_attributes_type",
                   "Input should be a valid dictionary or object to extract fields from", o, NULL);
        return NULL;
    }
    return o;
}

/* A number field (absent: def). 0 or -1 (error recorded). */
static int body_double(params *p, json_t *o, const char *name, double def, double lo, double hi,
                       double *out)
{
    json_t *v = json_object_get(o, name);
    *out = def;
    if (!v) return 0;
    if (!json_is_number(v)) {
        params_error(p, name, -1, "float_type", "Input should be a valid number", json_incref(v),
                     NULL);
        return -1;
    }
    *out = json_number_value(v);
    return param_check_double(p, name, -1, *out, lo, hi, json_incref(v));
}

/* An integer field: a JSON integer, or a float with no fractional part. */
static int body_int(params *p, json_t *o, const char *name, int64_t def, int64_t lo, int64_t hi,
                    int64_t *out)
{
    json_t *v = json_object_get(o, name);
    *out = def;
    if (!v) return 0;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d)) {
            params_error(p, name, -1, "int_from_float",
                         "Input should be a valid integer, got a number with a fractional part",
                         json_incref(v), NULL);
            return -1;
        }
        if (d < -0x1p63 || d >= 0x1p63) {
            params_error(p, name, -1, "int_parsing_size",
                         "Unable to parse input as an integer, exceeded maximum size",
                         json_incref(v), NULL);
            return -1;
        }
        *out = (int64_t)d;
    } else if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
    } else {
        params_error(p, name, -1, "int_type", "Input should be a valid integer", json_incref(v),
                     NULL);
        return -1;
    }
    return param_check_int(p, name, -1, *out, lo, hi, json_incref(v));
}

/* Fields of each kind; anything else is refused rather than ignored. */
static int allowed_field(enum task_kind kind, const char *key)
{
    static const char *const io[] = {"kind", "delay", NULL};
    static const char *const cpu[] = {"kind", "n", "iterations", "ms", NULL};
    for (const char *const *k = kind == TASK_IO ? io : cpu; *k; k++)
        if (!strcmp(*k, key)) return 1;
    return 0;
}

static void parse_kind(params *p, json_t *o, task_spec *spec)
{
    json_t *v = json_object_get(o, "kind");
    const char *kind = NULL;
    if (!v) {
        params_error(p, "kind", -1, "missing", "Field required", json_incref(o), NULL);
    } else if (!json_is_string(v)) {
        params_error(p, "kind", -1, "literal_error", "Input should be 'io' or 'cpu'",
                     json_incref(v), json_pack("{s:[s,s]}", "expected", KINDS[0], KINDS[1]));
    } else if (param_choice(p, "kind", json_string_value(v), KINDS, &kind) == 0) {
        spec->kind = !strcmp(kind, "io") ? TASK_IO : TASK_CPU;
    }
}

/* Validates the body into *spec (the same limits as /io/job and /cpu/executor). */
static void parse_spec(http_req *r, params *p, json_t *o, task_spec *spec)
{
    const config *cfg = &http_app(r)->cfg;
    memset(spec, 0, sizeof(*spec));
    parse_kind(p, o, spec);
    if (!params_ok(p)) return; /* without a kind, no other field can be judged */
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (!allowed_field(spec->kind, key))
            params_error(p, key, -1, "extra_forbidden", "Extra inputs are not permitted",
                         json_incref(v), NULL);
    }
    if (spec->kind == TASK_IO) {
        body_double(p, o, "delay", 1.0, 0, cfg->max_delay, &spec->delay);
        return;
    }
    int64_t n, it, ms;
    body_int(p, o, "n", 3, INT64_MIN, INT64_MAX, &n);
    json_t *raw_ms = json_object_get(o, "ms");
    if (raw_ms && json_object_get(o, "iterations")) {
        params_error(p, "ms", -1, "value_error",
                     "Value error, give either iterations or ms, not both", json_incref(raw_ms),
                     NULL);
        return;
    }
    spec->n = n;
    if (raw_ms) {
        if (body_int(p, o, "ms", 0, 0, cfg->max_ms, &ms) == 0) spec->ms = (uint64_t)ms;
    } else if (body_int(p, o, "iterations", 1000000, 0, cfg->max_iterations, &it) == 0) {
        spec->iterations = (uint64_t)it;
    }
}

/* --- POST /tasks ------------------------------------------------------------ */

static void tasks_create(http_req *r)
{
    app *a = http_app(r);
    params p;
    task_spec spec;
    params_init(&p, "body");
    json_t *o = parse_body(r, &p);
    if (o) parse_spec(r, &p, o, &spec);
    json_decref(o);
    if (!params_ok(&p)) {
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
