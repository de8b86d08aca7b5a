/*
 * taskstore.c - the task store: ids, the state machine, waiters, eviction.
 *
 * DESIGN
 * Ownership: the store owns every task. A task is in three structures: a
 * table by id (base/keymap.h: lookup and insert are O(1) amortised), a list in creation order (GET
 * /tasks walks it from the newest), and, once it has ended and nothing outside the store refers to
 * it any more ("retired"), a FIFO of finished tasks. Eviction only ever takes the head of that
 * FIFO: while it holds more than `keep` tasks or its head is older than `ttl`, the head is freed.
 * It runs in the store's own sweep timer (armed for the head's expiry, or at once when the count is
 * over), never inside a call made by a handler, so a task a handler just looked up stays valid
 * until that handler returns. Each task is evicted once: O(1) amortised.
 *
 * Threads: everything runs on the loop thread except a CPU task's work,
 * which runs on an executor worker; what the two share is the task's
 * task_run, and tasks/run.h says how (its result is read only once the
 * executor handed the job back, or executor_cancel() returned -EALREADY;
 * the time the worker began is atomic and tells `queued` from `running`).
 * Everything else (status, times, lists, waiters) is loop-thread only.
 *
 * Lifetimes: an IO task holds a loop timer while running; a CPU task is held
 * by the executor from submit until its done() ran (task_run_held), even when it
 * was cancelled while running: it is retired (evictable) only after that.
 * A task with waiters has not ended, so it is never retired nor evicted.
 */
#define _GNU_SOURCE
#include "taskstore.h"

#include "keymap.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_BYTES TASK_ID_BYTES

struct task {
    taskstore *ts;
    keymap_node byid; /* its key: the id's 128 bits; in taskstore.byid */
    char id[TASK_ID_LEN + 1];
    task_spec spec;
    enum task_status status;
    uint64_t created_ns, started_ns, finished_ns; /* CLOCK_MONOTONIC; 0 = not yet */
    double created_wall;                          /* Unix seconds at created_ns */
    int error;                                    /* failed: negative errno */
    uint8_t owner[TASK_OWNER_HASH_BYTES];         /* SHA-256 of the owner token */
    task_run run;       /* its work: a timer or an executor job (tasks/run.h) */
    task_client client; /* who created it */
    int counted;        /* a CPU task held in client's quota until its job is back */
    /* store bookkeeping */
    list_node waiters; /* task_waiter.link_, the latest first */
    int retired;
    uint64_t retired_ns;
    list_node by_age;   /* in taskstore.tasks */
    list_node fin_link; /* in taskstore.fin while retired */
};

struct taskstore {
    loop *l;
    executor *ex;
    taskstore_limits lim;
    keymap byid;     /* task.byid */
    size_t n, nfin;  /* tasks stored; of which retired */
    list_node tasks; /* task.by_age, the newest first */
    list_node fin;   /* task.fin_link: the finished FIFO, oldest first */
    timer sweep;
    uint64_t created, evicted;
    task_quota *quota; /* CPU tasks queued or running, per client */
};

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the id table --------------------------------------------------------- */

_Static_assert(ID_BYTES == KEYMAP_KEY_BYTES, "a task id is a keymap key");

static task *lookup_raw(const taskstore *ts, const uint8_t *raw)
{
    keymap_node *n = keymap_find(&ts->byid, raw);
    return n ? (task *)(void *)((char *)n - offsetof(task, byid)) : NULL;
}

/* 128 random bits, unique in the store. 0 or -errno. */
static int new_id(taskstore *ts, task *t)
{
    do {
        int rc = task_id_new(t->byid.key, t->id);
        if (rc < 0) return rc;
    } while (lookup_raw(ts, t->byid.key));
    return 0;
}

task *taskstore_find(taskstore *ts, const char *id)
{
    uint8_t raw[ID_BYTES];
    return task_id_parse(id, raw) < 0 ? NULL : lookup_raw(ts, raw);
}

/* --- retirement and eviction ---------------------------------------------- */

static void arm_sweep(taskstore *ts, uint64_t now);

/* The oldest retired task, or NULL. */
static task *fin_head(const taskstore *ts)
{
    /* the analyser loses the list head across frees of removed nodes (a false
     * use-after-free in on_sweep's loop: every node it frees left the list) */
    // NOLINTNEXTLINE(clang-analyzer-unix.Malloc)
    return list_empty(&ts->fin) ? NULL : list_entry(ts->fin.next, task, fin_link);
}

static void evict(taskstore *ts, task *t)
{
    keymap_remove(&ts->byid, &t->byid);
    list_remove(&t->by_age);
    list_remove(&t->fin_link);
    ts->nfin--;
    ts->n--;
    ts->evicted++;
    free(t);
}

static int expired(const taskstore *ts, const task *t, uint64_t now)
{
    return now - t->retired_ns >= ts->lim.ttl_ns;
}

static void on_sweep(timer *tm)
{
    taskstore *ts = tm->data;
    uint64_t now = loop_now_ns();
    task *t;
    while ((t = fin_head(ts)) && (ts->nfin > ts->lim.keep || expired(ts, t, now)))
        evict(ts, t);
    arm_sweep(ts, now);
}

/* Arms the sweep for the head's expiry, or at once when over the count. */
static void arm_sweep(taskstore *ts, uint64_t now)
{
    task *h = fin_head(ts);
    if (!h) {
        loop_timer_cancel(ts->l, &ts->sweep);
        return;
    }
    uint64_t due =
        ts->nfin > ts->lim.keep || expired(ts, h, now) ? 0 : h->retired_ns + ts->lim.ttl_ns - now;
    /* without memory for the timer the task stays until the next sweep */
    (void)loop_timer_start(ts->l, &ts->sweep, due, on_sweep, ts);
}

/* The task has ended and nothing outside the store holds it: evictable. */
static void retire(taskstore *ts, task *t)
{
    if (t->retired || task_run_held(&t->run) || !task_status_ended(t->status)) return;
    t->retired = 1;
    t->retired_ns = loop_now_ns();
    list_insert_tail(&ts->fin, &t->fin_link);
    ts->nfin++;
    /* the head only changes when the FIFO was empty; the count can go over */
    if (fin_head(ts) == t || ts->nfin > ts->lim.keep) arm_sweep(ts, t->retired_ns);
}

/* --- state changes ---------------------------------------------------------- */

/* The waiter that came last, or NULL. */
static task_waiter *first_waiter(const task *t)
{
    list_node *n = list_first(&t->waiters);
    return n ? list_entry(n, task_waiter, link_) : NULL;
}

static void wake(task *t)
{
    task_waiter *w;
    while ((w = first_waiter(t))) {
        taskstore_unwatch(w);
        w->cb(w, t);
    }
}

/* A queued CPU task becomes running once its worker has begun. */
static void sync_started(task *t)
{
    if (t->status != TASK_QUEUED) return;
    uint64_t run = task_run_began_ns(&t->run);
    if (run) {
        t->status = TASK_RUNNING;
        t->started_ns = run;
    }
}

/* Records how a CPU job that the executor handed back ended (status: done()'s). */
static void end_cpu(task *t, int status)
{
    sync_started(t);
    if (status == -ECANCELED) { /* never started: the executor shut down */
        t->status = TASK_CANCELLED;
        t->finished_ns = loop_now_ns();
    } else {
        t->finished_ns = t->run.job.finished_ns;
        if (t->run.rc == 0) {
            t->status = TASK_DONE;
        } else if (t->run.rc == -ECANCELED) { /* stopped by a shutdown, not by a DELETE */
            t->status = TASK_CANCELLED;
        } else {
            t->status = TASK_FAILED;
            t->error = t->run.rc;
        }
    }
    wake(t);
}

int taskstore_cancel(taskstore *ts, task *t)
{
    sync_started(t);
    if (task_status_ended(t->status)) return -EALREADY;
    if (t->spec.kind == TASK_IO) {
        task_run_cancel(&t->run);
    } else {
        int rc = task_run_cancel(&t->run);
        if (rc == -EALREADY) { /* work() has returned; its done() is still to come */
            end_cpu(t, 0);
            return -EALREADY;
        }
        if (rc == -EBUSY && !t->started_ns) /* taken by a worker an instant ago */
            t->started_ns = loop_now_ns();
    }
    t->status = TASK_CANCELLED;
    t->finished_ns = loop_now_ns();
    wake(t);
    retire(ts, t); /* an IO task at once; a CPU task when its done() comes back */
    return 0;
}

/* --- creation ------------------------------------------------------------- */

/* The work of t is over (run.h): an IO task's delay passed, a CPU job came back. */
static void run_done(task_run *r, int status)
{
    task *t = r->data;
    if (t->counted) { /* its worker is free: the client's share with it */
        task_quota_give(t->ts->quota, &t->client);
        t->counted = 0;
    }
    if (t->spec.kind == TASK_IO) {
        t->status = TASK_DONE;
        t->finished_ns = loop_now_ns();
        wake(t);
    } else if (!task_status_ended(t->status)) {
        end_cpu(t, status);
    }
    retire(t->ts, t);
}

static int start(taskstore *ts, task *t)
{
    if (t->spec.kind == TASK_IO) {
        t->status = TASK_RUNNING;
        t->started_ns = t->created_ns;
    } else {
        t->status = TASK_QUEUED;
    }
    t->run.done = run_done;
    t->run.data = t;
    return task_run_start(&t->run, ts->l, ts->ex, ts->lim.channel, &t->spec);
}

int taskstore_create(taskstore *ts, const task_spec *spec, task **out)
{
    task_client nobody = {.known = 0};
    return taskstore_create_for(ts, spec, &nobody, out);
}

int taskstore_create_for(taskstore *ts, const task_spec *spec, const task_client *client,
                         task **out)
{
    int err;
    if (ts->n - ts->nfin >= ts->lim.max_live) return -ENOSPC;
    task *t = calloc(1, sizeof(*t));
    if (!t) return -ENOMEM;
    list_init(&t->waiters);
    t->ts = ts;
    t->spec = *spec;
    t->client = *client;
    if ((err = new_id(ts, t)) < 0) goto err_free;
    t->created_ns = loop_now_ns();
    t->created_wall = wall_now();
    if (spec->kind == TASK_CPU) {
        if ((err = task_quota_take(ts->quota, client)) < 0) goto err_free;
        t->counted = 1;
    }
    if ((err = start(ts, t)) < 0) goto err_free;
    keymap_insert(&ts->byid, &t->byid);
    list_insert_head(&ts->tasks, &t->by_age);
    ts->n++;
    ts->created++;
    *out = t;
    return 0;

err_free:
    if (t->counted) task_quota_give(ts->quota, client);
    free(t);
    return err;
}

/* --- waiters, views, iteration --------------------------------------------- */

int taskstore_watch(taskstore *ts, task *t, task_waiter *w)
{
    sync_started(t);
    (void)ts;
    if (task_status_ended(t->status)) return -EALREADY;
    w->task_ = t;
    list_insert_head(&t->waiters, &w->link_);
    return 0;
}

void taskstore_unwatch(task_waiter *w)
{
    if (!w->task_) return;
    list_remove(&w->link_);
    w->task_ = NULL;
}

const char *taskstore_id(const task *t)
{
    return t->id;
}

uint8_t *taskstore_owner(task *t)
{
    return t->owner;
}

static double usec_round(double s)
{
    return round(s * 1e6) / 1e6;
}

void taskstore_view(taskstore *ts, task *t, task_view *v)
{
    (void)ts;
    sync_started(t);
    memset(v, 0, sizeof(*v));
    v->id = t->id;
    v->spec = t->spec;
    v->status = t->status;
    v->created_at = usec_round(t->created_wall);
    v->has_started = t->started_ns != 0;
    v->has_finished = t->finished_ns != 0;
    if (v->has_started)
        v->started_at = usec_round(t->created_wall + (double)(t->started_ns - t->created_ns) / 1e9);
    if (v->has_finished)
        v->finished_at =
            usec_round(t->created_wall + (double)(t->finished_ns - t->created_ns) / 1e9);
    if (v->has_started && v->has_finished)
        v->elapsed = usec_round((double)(t->finished_ns - t->started_ns) / 1e9);
    if (t->status == TASK_DONE && t->spec.kind == TASK_CPU) {
        v->sum = t->run.out.sum;
        v->iterations = t->run.out.iterations;
    }
    v->error = t->error;
}

task *taskstore_newest(taskstore *ts)
{
    list_node *n = list_first(&ts->tasks);
    return n ? list_entry(n, task, by_age) : NULL;
}

task *taskstore_older(task *t)
{
    list_node *n = list_next(&t->ts->tasks, &t->by_age);
    return n ? list_entry(n, task, by_age) : NULL;
}

void taskstore_get_stats(const taskstore *ts, taskstore_stats *st)
{
    st->live = ts->n - ts->nfin;
    st->finished = ts->nfin;
    st->created = ts->created;
    st->evicted = ts->evicted;
}

void taskstore_quota_stats(const taskstore *ts, task_quota_stats *st)
{
    task_quota_get_stats(ts->quota, st);
}

/* --- life of the store ------------------------------------------------------ */

int taskstore_new(taskstore **out, loop *l, executor *ex, const taskstore_limits *lim)
{
    if (lim->max_live < 1) return -EINVAL;
    taskstore *ts = calloc(1, sizeof(*ts));
    if (!ts) return -ENOMEM;
    if (keymap_init(&ts->byid) < 0 || task_quota_new(&ts->quota, lim->per_client) < 0) {
        keymap_dispose(&ts->byid);
        free(ts);
        return -ENOMEM;
    }
    list_init(&ts->tasks);
    list_init(&ts->fin);
    ts->l = l;
    ts->ex = ex;
    ts->lim = *lim;
    *out = ts;
    return 0;
}

void taskstore_free(taskstore *ts)
{
    if (!ts) return;
    loop_timer_cancel(ts->l, &ts->sweep);
    for (task *t = taskstore_newest(ts), *next; t; t = next) {
        next = taskstore_older(t);
        task_waiter *w;
        if (t->spec.kind == TASK_IO) task_run_cancel(&t->run);
        while ((w = first_waiter(t)))
            taskstore_unwatch(w);
        free(t);
    }
    task_quota_free(ts->quota);
    keymap_dispose(&ts->byid);
    free(ts);
}
