/*
 * redis_backend.c - the backend interface's operations for the Redis queue:
 * each is taskq.c's (a taskq embeds its task_backend first).
 */
#include "redis_backend.h"

#include <string.h>

#include "taskq.h"
#include "taskq_run.h"

static int rb_accepts(const char *url)
{
    return strncmp(url, "redis://", 8) == 0;
}

static int rb_open(task_backend **out, const task_env *env)
{
    taskq *q;
    int rc = taskq_new(&q, env);
    if (rc < 0) return rc;
    q->base.type = &task_redis_type;
    *out = &q->base;
    return 0;
}

static int rb_start(task_backend *b, const task_request *q, task_wait *tw)
{
    return taskq_start((taskq *)b, q, tw);
}

static void rb_wait_cancel(task_backend *b, task_wait *tw)
{
    (void)b;
    taskq_wait_cancel(tw);
}

static void rb_wait_expire(task_backend *b, task_wait *tw)
{
    (void)b;
    taskq_wait_expire(tw);
}

static int rb_ready(const task_backend *b)
{
    return taskq_ready((const taskq *)b);
}

static void rb_drain(task_backend *b)
{
    taskq_drain((taskq *)b);
}

static size_t rb_busy(const task_backend *b)
{
    return taskq_busy((const taskq *)b);
}

/* Like the memory backend's iocpu_tasks family (counts by status are not
 * kept per replica: all zero), then the backend's own. */
static void rb_metrics(task_backend *b, buf *out)
{
    static const uint64_t none[TASK_NSTATUS];
    task_counts_render(none, out);
    taskq_metrics((const taskq *)b, out);
}

static void rb_close(task_backend *b)
{
    taskq_close((taskq *)b);
}

static void rb_free(task_backend *b)
{
    taskq_free((taskq *)b);
}

const task_backend_type task_redis_type = {
    .name = "redis",
    .accepts = rb_accepts,
    .open = rb_open,
    .create = rb_start, /* one entry: the request says which operation */
    .get = rb_start,
    .cancel = rb_start,
    .list = rb_start,
    .wait_cancel = rb_wait_cancel,
    .wait_expire = rb_wait_expire,
    .ready = rb_ready,
    .drain = rb_drain,
    .busy = rb_busy,
    .metrics = rb_metrics,
    .close = rb_close,
    .free = rb_free,
};
