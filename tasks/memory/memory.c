/*
 * memory.c - the memory backend's operations (memory.h) over the store.
 *
 * A GET ?wait= that waits is a mem_wait (tw->priv_): a waiter of the task
 * plus a timer of its own; whichever fires first answers, and a client that
 * leaves detaches both (wait_cancel) without touching the task.
 */
#include "memory.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskstore.h"

typedef struct mem_backend {
    task_backend base; /* first */
    taskstore *ts;
    loop *l;
    char replica_id[64];
    size_t per_client; /* --max-task-queue-per-client */
    access_log *alog;  /* a task_run line per task, or NULL */
} mem_backend;

typedef struct mem_wait {
    mem_backend *mb;
    task_wait *tw;
    task *t;
    task_waiter w;
    timer tm;
} mem_wait;

static int mem_accepts(const char *url)
{
    return strcmp(url, "memory") == 0;
}

static json_t *task_json(mem_backend *mb, task *t)
{
    task_view v;
    taskstore_view(mb->ts, t, &v);
    char id[TASK_PATH_ID_MAX];
    if (mb->replica_id[0]) /* "<replica>-<hex>": routable to this replica (store_id) */
        snprintf(id, sizeof(id), "%s-%s", mb->replica_id, v.id);
    else
        snprintf(id, sizeof(id), "%s", v.id);
    return task_view_json(&v, id);
}

/* The store id inside a client's id: with --replica-id, "<replica>-<hex>". */
static const char *store_id(const mem_backend *mb, const char *id)
{
    size_t n = strlen(mb->replica_id);
    if (!n) return id;
    if (strncmp(id, mb->replica_id, n) || id[n] != '-') return ""; /* another replica's */
    return id + n + 1;
}

/* The task q names, or NULL with a 404 in tw->out. */
static task *find(mem_backend *mb, const task_request *q, task_wait *tw)
{
    task *t = taskstore_find(mb->ts, store_id(mb, q->id));
    if (!t) task_outcome_detail(&tw->out, 404, "Not Found");
    return t;
}

static int mem_create(task_backend *b, const task_request *q, task_wait *tw)
{
    mem_backend *mb = (mem_backend *)b;
    task *t;
    char token[TASK_OWNER_TOKEN_LEN + 1];
    uint8_t hash[TASK_OWNER_HASH_BYTES];
    int rc = task_owner_new(token, hash);
    rc = rc == 0 ? taskstore_create_for(mb->ts, &q->spec, &q->client, &t) : rc < 0 ? rc : -EIO;
    if (rc == -ENOSPC) {
        task_outcome_detail(&tw->out, 503, "too many tasks");
    } else if (rc == -EDQUOT) {
        task_quota_refusal(&tw->out, &q->client, mb->per_client);
    } else if (rc == -EAGAIN) {
        task_outcome_detail(&tw->out, 503, "executor queue full");
    } else if (rc < 0) {
        task_outcome_detail(&tw->out, 500, strerror(-rc));
    } else {
        memcpy(taskstore_owner(t), hash, sizeof(hash)); /* only the hash is kept */
        *taskstore_trace(t) = q->trace;
        json_t *body = task_json(mb, t);
        /* it runs from now on (a CPU task waits for a worker), here */
        task_run_log(mb->alog, json_string_value(json_object_get(body, "id")), &q->spec, 0,
                     &q->trace);
        snprintf(tw->out.location, sizeof(tw->out.location), "/tasks/%s",
                 json_string_value(json_object_get(body, "id")));
        json_object_set_new(body, "owner_token", json_string(token)); /* shown this once */
        task_outcome_set(&tw->out, 202, body);
    }
    memset(token, 0, sizeof(token));
    return 1;
}

static int mem_cancel(task_backend *b, const task_request *q, task_wait *tw)
{
    mem_backend *mb = (mem_backend *)b;
    task *t = find(mb, q, tw);
    if (!t) return 1;
    if (!q->admin && !task_owner_eq(taskstore_owner(t), q->token_hash))
        task_outcome_detail(&tw->out, 403, TASK_NOT_OWNER);
    else if (taskstore_cancel(mb->ts, t) == -EALREADY)
        task_outcome_detail(&tw->out, 409, "task already finished");
    else
        task_outcome_set(&tw->out, 200, task_json(mb, t));
    return 1;
}

static int mem_list(task_backend *b, const task_request *q, task_wait *tw)
{
    mem_backend *mb = (mem_backend *)b;
    json_t *list = json_array();
    size_t n = 0;
    for (task *t = taskstore_newest(mb->ts); t && n < q->limit; t = taskstore_older(t), n++)
        json_array_append_new(list, task_json(mb, t));
    taskstore_stats st;
    taskstore_get_stats(mb->ts, &st);
    task_outcome_set(&tw->out, 200,
                     json_pack("{s:o,s:I,s:I}", "tasks", list, "count", (json_int_t)n, "total",
                               (json_int_t)st.live + (json_int_t)st.finished));
    return 1;
}

/* A wait is over (the task ended, or its time did): answer with the task. */
static void wait_over(mem_wait *mw)
{
    task_wait *tw = mw->tw;
    task_outcome_set(&tw->out, 200, task_json(mw->mb, mw->t));
    tw->priv_ = NULL;
    free(mw);
    tw->finish(tw);
}

static void wait_woken(task_waiter *w, task *t)
{
    mem_wait *mw = w->data;
    (void)t;
    loop_timer_cancel(mw->mb->l, &mw->tm);
    wait_over(mw);
}

static void wait_timed_out(timer *tm)
{
    mem_wait *mw = tm->data;
    taskstore_unwatch(&mw->w);
    wait_over(mw); /* still queued or running */
}

/* Waits for t to end, at most `wait` seconds. 0 (waiting) or -errno. */
static int wait_start(mem_backend *mb, task *t, double wait, task_wait *tw)
{
    mem_wait *mw = calloc(1, sizeof(*mw));
    if (!mw) return -ENOMEM;
    *mw = (mem_wait){.mb = mb, .tw = tw, .t = t};
    mw->w.cb = wait_woken;
    mw->w.data = mw;
    int rc = taskstore_watch(mb->ts, t, &mw->w);
    if (rc == 0) {
        rc = loop_timer_start(mb->l, &mw->tm, secs_to_ns(wait), wait_timed_out, mw);
        if (rc < 0) taskstore_unwatch(&mw->w);
    }
    if (rc < 0) {
        free(mw);
        return rc;
    }
    tw->priv_ = mw;
    return 0;
}

/* GET: at once, or once the task ends or the wait is over. */
static int mem_get(task_backend *b, const task_request *q, task_wait *tw)
{
    mem_backend *mb = (mem_backend *)b;
    task *t = find(mb, q, tw);
    if (!t) return 1;
    int rc = q->wait > 0 ? wait_start(mb, t, q->wait, tw) : -EALREADY;
    if (rc == 0) return 0;
    if (rc == -EALREADY)
        task_outcome_set(&tw->out, 200, task_json(mb, t));
    else
        task_outcome_detail(&tw->out, 500, strerror(-rc));
    return 1;
}

static void mem_wait_cancel(task_backend *b, task_wait *tw)
{
    mem_wait *mw = tw->priv_;
    (void)b;
    taskstore_unwatch(&mw->w); /* a waiter leaving never cancels the task */
    loop_timer_cancel(mw->mb->l, &mw->tm);
    tw->priv_ = NULL;
    free(mw);
}

static void mem_wait_expire(task_backend *b, task_wait *tw)
{
    mem_wait *mw = tw->priv_;
    (void)b;
    taskstore_unwatch(&mw->w);
    loop_timer_cancel(mw->mb->l, &mw->tm);
    wait_over(mw);
}

static int mem_ready(const task_backend *b)
{
    (void)b;
    return 1;
}

static void mem_drain(task_backend *b)
{
    (void)b; /* tasks are this process's: a drain waits for none of them */
}

static size_t mem_busy(const task_backend *b)
{
    (void)b;
    return 0;
}

/* iocpu_tasks: the store's tasks by status (a walk: O(tasks kept)). */
static void mem_metrics(task_backend *b, buf *out)
{
    mem_backend *mb = (mem_backend *)b;
    uint64_t counts[TASK_NSTATUS] = {0};
    for (task *t = taskstore_newest(mb->ts); t; t = taskstore_older(t)) {
        task_view v;
        taskstore_view(mb->ts, t, &v);
        counts[v.status]++;
    }
    task_counts_render(counts, out);
    task_quota_stats qs;
    taskstore_quota_stats(mb->ts, &qs);
    task_quota_render(&qs, out);
}

static void mem_close(task_backend *b)
{
    (void)b; /* nothing outside the process */
}

static void mem_free(task_backend *b)
{
    mem_backend *mb = (mem_backend *)b;
    if (!mb) return;
    taskstore_free(mb->ts);
    free(mb);
}

static int mem_open(task_backend **out, const task_env *env)
{
    mem_backend *mb = calloc(1, sizeof(*mb));
    if (!mb) return -ENOMEM;
    mb->base.type = &task_memory_type;
    mb->l = env->loop;
    snprintf(mb->replica_id, sizeof(mb->replica_id), "%s", env->replica_id);
    mb->per_client = env->max_per_client;
    mb->alog = env->alog;
    taskstore_limits lim = {env->max_live, env->keep, secs_to_ns(env->ttl_s), env->channel,
                            env->max_per_client};
    int rc = taskstore_new(&mb->ts, env->loop, env->ex, &lim);
    if (rc < 0) {
        free(mb);
        return rc;
    }
    *out = &mb->base;
    return 0;
}

const task_backend_type task_memory_type = {
    .name = "memory",
    .accepts = mem_accepts,
    .open = mem_open,
    .create = mem_create,
    .get = mem_get,
    .cancel = mem_cancel,
    .list = mem_list,
    .wait_cancel = mem_wait_cancel,
    .wait_expire = mem_wait_expire,
    .ready = mem_ready,
    .drain = mem_drain,
    .busy = mem_busy,
    .metrics = mem_metrics,
    .close = mem_close,
    .free = mem_free,
};
