/*
 * taskstore.c - the task store: ids, the state machine, waiters, eviction.
 *
 * DESIGN
 * Ownership: the store owns every task. A task is in three structures: a
 * hash table by id (chained, grown by doubling, so lookup and insert are
 * O(1) amortised), a list in creation order (GET /tasks walks it from the
 * newest), and, once it has ended and nothing outside the store refers to it
 * any more ("retired"), a FIFO of finished tasks. Eviction only ever takes
 * the head of that FIFO: while it holds more than `keep` tasks or its head is
 * older than `ttl`, the head is freed. It runs in the store's own sweep timer
 * (armed for the head's expiry, or at once when the count is over), never
 * inside a call made by a handler, so a task a handler just looked up stays
 * valid until that handler returns. Each task is evicted once: O(1) amortised.
 *
 * Threads: everything runs on the loop thread except cpu_work(), which runs
 * on an executor worker. State shared with that worker:
 *   - spec: written before executor_submit(), read-only afterwards;
 *   - out, rc: written by cpu_work(), read on the loop only after the
 *     executor handed the job back (done(), or executor_cancel() returning
 *     -EALREADY); the executor's mutex orders the two;
 *   - run_ns: atomic; cpu_work() stores the time it began, the loop reads it
 *     to tell `queued` from `running`;
 *   - job.cancel: atomic, set through executor_cancel().
 * Everything else (status, times, lists, waiters) is loop-thread only.
 *
 * Lifetimes: an IO task holds a loop timer while running; a CPU task is held
 * by the executor from submit until its done() ran (job_out), even when it
 * was cancelled while running: it is retired (evictable) only after that.
 * A task with waiters has not ended, so it is never retired nor evicted.
 */
#define _GNU_SOURCE
#include "taskstore.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../executor/cpu_heavy.h"

#define ID_BYTES TASK_ID_BYTES
#define MIN_BUCKETS 64

struct task {
    taskstore *ts;
    uint8_t raw[ID_BYTES];
    char id[TASK_ID_LEN + 1];
    task_spec spec;
    enum task_status status;
    uint64_t created_ns, started_ns, finished_ns; /* CLOCK_MONOTONIC; 0 = not yet */
    double created_wall;                          /* Unix seconds at created_ns */
    int error;                                    /* failed: negative errno */
    /* cpu: shared with the worker, see DESIGN */
    executor_job job;
    cpu_heavy_out out;
    int rc;
    _Atomic uint64_t run_ns;
    int job_out; /* the executor holds job: its done() has not run yet */
    /* io */
    timer tm;
    /* store bookkeeping */
    task_waiter *waiters;
    int retired;
    uint64_t retired_ns;
    task *hnext;               /* hash chain */
    task *newer, *older;       /* creation order */
    task *fin_prev, *fin_next; /* finished FIFO, oldest first */
};

struct taskstore {
    loop *l;
    executor *ex;
    taskstore_limits lim;
    task **buckets;
    size_t nbuckets; /* a power of two */
    size_t n, nfin;  /* tasks stored; of which retired */
    task *newest, *oldest;
    task *fin_head, *fin_tail;
    timer sweep;
    uint64_t created, evicted;
};

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ended(const task *t)
{
    return t->status == TASK_DONE || t->status == TASK_CANCELLED || t->status == TASK_FAILED;
}

const char *task_status_name(enum task_status s)
{
    switch (s) {
    case TASK_QUEUED:
        return "queued";
    case TASK_RUNNING:
        return "running";
    case TASK_DONE:
        return "done";
    case TASK_CANCELLED:
        return "cancelled";
    case TASK_FAILED:
        return "failed";
    }
    return "unknown";
}

/* --- the id table --------------------------------------------------------- */

static size_t bucket_of(const taskstore *ts, const uint8_t *raw)
{
    uint64_t h;
    memcpy(&h, raw, sizeof(h)); /* ids are uniformly random: their bits are the hash */
    return (size_t)(h & (ts->nbuckets - 1));
}

static task *lookup_raw(const taskstore *ts, const uint8_t *raw)
{
    for (task *t = ts->buckets[bucket_of(ts, raw)]; t; t = t->hnext)
        if (!memcmp(t->raw, raw, ID_BYTES)) return t;
    return NULL;
}

/* Makes room for one more task (load factor <= 1). 0 or -ENOMEM. */
static int reserve_slot(taskstore *ts)
{
    if (ts->n < ts->nbuckets) return 0;
    size_t nb = ts->nbuckets * 2;
    task **b = calloc(nb, sizeof(*b));
    if (!b) return -ENOMEM;
    task **old = ts->buckets;
    size_t oldn = ts->nbuckets;
    ts->buckets = b;
    ts->nbuckets = nb;
    for (size_t i = 0; i < oldn; i++) {
        for (task *t = old[i], *next; t; t = next) {
            next = t->hnext;
            size_t k = bucket_of(ts, t->raw);
            t->hnext = b[k];
            b[k] = t;
        }
    }
    free(old);
    return 0;
}

static void hash_remove(taskstore *ts, task *t)
{
    for (task **p = &ts->buckets[bucket_of(ts, t->raw)]; *p; p = &(*p)->hnext) {
        if (*p == t) {
            *p = t->hnext;
            return;
        }
    }
}

int task_id_new(uint8_t raw[TASK_ID_BYTES], char id[TASK_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t got = 0;
    while (got < ID_BYTES) {
        ssize_t r = getrandom(raw + got, ID_BYTES - got, 0);
        if (r < 0 && errno != EINTR) return -errno;
        if (r > 0) got += (size_t)r;
    }
    for (int i = 0; i < ID_BYTES; i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[TASK_ID_LEN] = '\0';
    return 0;
}

/* 128 random bits, unique in the store. 0 or -errno. */
static int new_id(taskstore *ts, task *t)
{
    do {
        int rc = task_id_new(t->raw, t->id);
        if (rc < 0) return rc;
    } while (lookup_raw(ts, t->raw));
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int task_id_parse(const char *id, uint8_t raw[TASK_ID_BYTES])
{
    if (strlen(id) != TASK_ID_LEN) return -1;
    for (int i = 0; i < ID_BYTES; i++) {
        int hi = hex_value(id[2 * i]), lo = hex_value(id[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        raw[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

task *taskstore_find(taskstore *ts, const char *id)
{
    uint8_t raw[ID_BYTES];
    return task_id_parse(id, raw) < 0 ? NULL : lookup_raw(ts, raw);
}

/* --- retirement and eviction ---------------------------------------------- */

static void arm_sweep(taskstore *ts, uint64_t now);

static void evict(taskstore *ts, task *t)
{
    hash_remove(ts, t);
    if (t->newer)
        t->newer->older = t->older;
    else
        ts->newest = t->older;
    if (t->older)
        t->older->newer = t->newer;
    else
        ts->oldest = t->newer;
    if (t->fin_prev)
        t->fin_prev->fin_next = t->fin_next;
    else
        ts->fin_head = t->fin_next;
    if (t->fin_next)
        t->fin_next->fin_prev = t->fin_prev;
    else
        ts->fin_tail = t->fin_prev;
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
    while (ts->fin_head && (ts->nfin > ts->lim.keep || expired(ts, ts->fin_head, now)))
        evict(ts, ts->fin_head);
    arm_sweep(ts, now);
}

/* Arms the sweep for the head's expiry, or at once when over the count. */
static void arm_sweep(taskstore *ts, uint64_t now)
{
    task *h = ts->fin_head;
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
    if (t->retired || t->job_out || !ended(t)) return;
    t->retired = 1;
    t->retired_ns = loop_now_ns();
    t->fin_next = NULL;
    t->fin_prev = ts->fin_tail;
    if (ts->fin_tail)
        ts->fin_tail->fin_next = t;
    else
        ts->fin_head = t;
    ts->fin_tail = t;
    ts->nfin++;
    /* the head only changes when the FIFO was empty; the count can go over */
    if (ts->fin_head == t || ts->nfin > ts->lim.keep) arm_sweep(ts, t->retired_ns);
}

/* --- state changes ---------------------------------------------------------- */

static void wake(task *t)
{
    while (t->waiters) {
        task_waiter *w = t->waiters;
        taskstore_unwatch(w);
        w->cb(w, t);
    }
}

/* A queued CPU task becomes running once its worker has begun. */
static void sync_started(task *t)
{
    if (t->status != TASK_QUEUED) return;
    uint64_t run = atomic_load_explicit(&t->run_ns, memory_order_acquire);
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
        t->finished_ns = t->job.finished_ns;
        if (t->rc == 0) {
            t->status = TASK_DONE;
        } else if (t->rc == -ECANCELED) { /* stopped by a shutdown, not by a DELETE */
            t->status = TASK_CANCELLED;
        } else {
            t->status = TASK_FAILED;
            t->error = t->rc;
        }
    }
    wake(t);
}

static void cpu_work(executor_job *j)
{
    task *t = j->data;
    atomic_store_explicit(&t->run_ns, loop_now_ns(), memory_order_release);
    t->rc = cpu_heavy_run(t->spec.n, t->spec.iterations, t->spec.ms, &j->cancel, &t->out);
}

static void cpu_done(executor_job *j, int status)
{
    task *t = j->data;
    t->job_out = 0;
    if (!ended(t)) end_cpu(t, status);
    retire(t->ts, t);
}

static void io_fired(timer *tm)
{
    task *t = tm->data;
    t->status = TASK_DONE;
    t->finished_ns = loop_now_ns();
    wake(t);
    retire(t->ts, t);
}

int taskstore_cancel(taskstore *ts, task *t)
{
    sync_started(t);
    if (ended(t)) return -EALREADY;
    if (t->spec.kind == TASK_IO) {
        loop_timer_cancel(ts->l, &t->tm);
    } else {
        int rc = executor_cancel(ts->ex, &t->job);
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

static int start(taskstore *ts, task *t)
{
    if (t->spec.kind == TASK_IO) {
        t->status = TASK_RUNNING;
        t->started_ns = t->created_ns;
        uint64_t ns = (uint64_t)llround(t->spec.delay * 1e9);
        return loop_timer_start(ts->l, &t->tm, ns, io_fired, t);
    }
    if (t->spec.kind != TASK_CPU) return -EINVAL;
    t->status = TASK_QUEUED;
    t->job.work = cpu_work;
    t->job.done = cpu_done;
    t->job.data = t;
    int rc = executor_submit(ts->ex, &t->job);
    if (rc == 0) t->job_out = 1;
    return rc;
}

int taskstore_create(taskstore *ts, const task_spec *spec, task **out)
{
    int err;
    if (ts->n - ts->nfin >= ts->lim.max_live) return -ENOSPC;
    if ((err = reserve_slot(ts)) < 0) return err;
    task *t = calloc(1, sizeof(*t));
    if (!t) return -ENOMEM;
    t->ts = ts;
    t->spec = *spec;
    if ((err = new_id(ts, t)) < 0) goto err_free;
    t->created_ns = loop_now_ns();
    t->created_wall = wall_now();
    if ((err = start(ts, t)) < 0) goto err_free;
    size_t k = bucket_of(ts, t->raw);
    t->hnext = ts->buckets[k];
    ts->buckets[k] = t;
    t->older = ts->newest;
    if (ts->newest)
        ts->newest->newer = t;
    else
        ts->oldest = t;
    ts->newest = t;
    ts->n++;
    ts->created++;
    *out = t;
    return 0;

err_free:
    free(t);
    return err;
}

/* --- waiters, views, iteration --------------------------------------------- */

int taskstore_watch(taskstore *ts, task *t, task_waiter *w)
{
    sync_started(t);
    (void)ts;
    if (ended(t)) return -EALREADY;
    w->task_ = t;
    w->prev_ = NULL;
    w->next_ = t->waiters;
    if (t->waiters) t->waiters->prev_ = w;
    t->waiters = w;
    return 0;
}

void taskstore_unwatch(task_waiter *w)
{
    task *t = w->task_;
    if (!t) return;
    if (w->prev_)
        w->prev_->next_ = w->next_;
    else
        t->waiters = w->next_;
    if (w->next_) w->next_->prev_ = w->prev_;
    w->task_ = NULL;
    w->prev_ = w->next_ = NULL;
}

const char *taskstore_id(const task *t)
{
    return t->id;
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
        v->sum = t->out.sum;
        v->iterations = t->out.iterations;
    }
    v->error = t->error;
}

task *taskstore_newest(taskstore *ts)
{
    return ts->newest;
}

task *taskstore_older(task *t)
{
    return t->older;
}

void taskstore_get_stats(const taskstore *ts, taskstore_stats *st)
{
    st->live = ts->n - ts->nfin;
    st->finished = ts->nfin;
    st->created = ts->created;
    st->evicted = ts->evicted;
}

/* --- life of the store ------------------------------------------------------ */

int taskstore_new(taskstore **out, loop *l, executor *ex, const taskstore_limits *lim)
{
    if (lim->max_live < 1) return -EINVAL;
    taskstore *ts = calloc(1, sizeof(*ts));
    if (!ts) return -ENOMEM;
    ts->buckets = calloc(MIN_BUCKETS, sizeof(*ts->buckets));
    if (!ts->buckets) {
        free(ts);
        return -ENOMEM;
    }
    ts->nbuckets = MIN_BUCKETS;
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
    for (task *t = ts->newest, *next; t; t = next) {
        next = t->older;
        loop_timer_cancel(ts->l, &t->tm);
        while (t->waiters)
            taskstore_unwatch(t->waiters);
        free(t);
    }
    free(ts->buckets);
    free(ts);
}
