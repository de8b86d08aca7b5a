/*
 * test_taskstore.c - the task store (tasks/memory/taskstore.c) without HTTP: a
 * real loop and executor, driven from the test thread. Ids, the state
 * machine of IO and CPU tasks, cancellation at every stage, waiters, the
 * live cap, eviction by count and by age, and a clean shutdown.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"
#include "taskstore.h"

typedef struct env {
    loop *l;
    executor *ex;
    taskstore *ts;
    loop_watcher ex_w;
} env;

static void on_executor(loop_watcher *w, uint32_t events)
{
    (void)events;
    executor_run_done(w->data);
}

static void env_start(env *e, size_t workers, size_t queue, taskstore_limits lim)
{
    memset(e, 0, sizeof(*e));
    cr_assert_eq(loop_new(&e->l), 0);
    cr_assert_eq(executor_new(&e->ex, workers, queue, 0), 0);
    cr_assert_eq(taskstore_new(&e->ts, e->l, e->ex, &lim), 0);
    e->ex_w.fd = executor_fd(e->ex);
    e->ex_w.cb = on_executor;
    e->ex_w.data = e->ex;
    cr_assert_eq(loop_watch(e->l, &e->ex_w, EPOLLIN), 0);
}

/* The server's order: the executor (joins, runs the last done()), the store, the loop. */
static void env_stop(env *e)
{
    executor_free(e->ex);
    taskstore_free(e->ts);
    loop_free(e->l);
}

static taskstore_limits limits(size_t max_live, size_t keep, double ttl)
{
    return (taskstore_limits){max_live, keep, (uint64_t)(ttl * 1e9), 0, 0};
}

/* --- driving the loop from the test --------------------------------------- */

typedef int (*pred_fn)(env *e, void *arg);

typedef struct poller {
    env *e;
    pred_fn pred;
    void *arg;
    uint64_t deadline;
    int met;
    timer t;
} poller;

static void poll_tick(timer *t)
{
    poller *p = t->data;
    if (p->pred && p->pred(p->e, p->arg)) {
        p->met = 1;
        loop_stop(p->e->l);
    } else if (loop_now_ns() >= p->deadline) {
        loop_stop(p->e->l);
    } else {
        loop_timer_start(p->e->l, &p->t, 1000000, poll_tick, p);
    }
}

/* Runs the loop until pred holds (1) or max_secs pass (0). pred NULL: just run. */
static int run_until(env *e, pred_fn pred, void *arg, double max_secs)
{
    poller p = {.e = e, .pred = pred, .arg = arg};
    p.deadline = loop_now_ns() + (uint64_t)(max_secs * 1e9);
    cr_assert_eq(loop_timer_start(e->l, &p.t, 0, poll_tick, &p), 0);
    cr_assert_eq(loop_run(e->l), 0);
    loop_timer_cancel(e->l, &p.t);
    return p.met;
}

static enum task_status status_of(env *e, task *t)
{
    task_view v;
    taskstore_view(e->ts, t, &v);
    return v.status;
}

static int has_ended(env *e, void *arg)
{
    enum task_status s = status_of(e, arg);
    return s == TASK_DONE || s == TASK_CANCELLED || s == TASK_FAILED;
}

static int is_running(env *e, void *arg)
{
    return status_of(e, arg) == TASK_RUNNING;
}

static int is_gone(env *e, void *arg)
{
    return taskstore_find(e->ts, arg) == NULL;
}

static int finished_count_is(env *e, void *arg)
{
    taskstore_stats st;
    taskstore_get_stats(e->ts, &st);
    return st.finished == *(size_t *)arg;
}

static task *create_io(env *e, double delay)
{
    task_spec s = {.kind = TASK_IO, .delay = delay};
    task *t = NULL;
    int rc = taskstore_create(e->ts, &s, &t);
    cr_assert_eq(rc, 0, "create io: %d", rc);
    return t;
}

static task *create_cpu(env *e, int64_t n, uint64_t iterations, uint64_t ms)
{
    task_spec s = {.kind = TASK_CPU, .n = n, .iterations = iterations, .ms = ms};
    task *t = NULL;
    int rc = taskstore_create(e->ts, &s, &t);
    cr_assert_eq(rc, 0, "create cpu: %d", rc);
    return t;
}

/* Python's sum((i * n) % 7 for i in range(it)), with 128-bit products. */
static uint64_t reference(int64_t n, uint64_t it)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < it; i++) {
        __int128 m = ((__int128)i * n) % 7;
        s += (uint64_t)(m < 0 ? m + 7 : m);
    }
    return s;
}

TestSuite(taskstore, .timeout = 60);

/* --- ids ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(taskstore, ids_are_32_lowercase_hex_and_unique)
{
    enum { N = 3000 };
    env e;
    env_start(&e, 1, 16, limits(N, 10, 60));
    static char *ids[N];
    int first_digit_seen[16] = {0};
    for (int i = 0; i < N; i++) {
        task *t = create_io(&e, 60);
        const char *id = taskstore_id(t);
        cr_assert_eq(strlen(id), TASK_ID_LEN);
        cr_assert_eq(strspn(id, "0123456789abcdef"), TASK_ID_LEN, "%s", id);
        cr_assert_eq(taskstore_find(e.ts, id), t);
        first_digit_seen[id[0] <= '9' ? id[0] - '0' : id[0] - 'a' + 10] = 1;
        ids[i] = strdup(id);
    }
    qsort(ids, N, sizeof(ids[0]), cmp_str);
    for (int i = 1; i < N; i++)
        cr_assert_str_neq(ids[i - 1], ids[i], "duplicate id");
    int digits = 0;
    for (int i = 0; i < 16; i++)
        digits += first_digit_seen[i];
    cr_assert_eq(digits, 16, "3000 random ids start with every hex digit");
    for (int i = 0; i < N; i++)
        free(ids[i]);
    env_stop(&e);
}

Test(taskstore, find_refuses_malformed_ids)
{
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *t = create_io(&e, 60);
    char id[TASK_ID_LEN + 2];
    strcpy(id, taskstore_id(t));
    cr_assert_eq(taskstore_find(e.ts, id), t);
    char upper[TASK_ID_LEN + 1];
    for (int i = 0; i <= TASK_ID_LEN; i++)
        upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
    if (strcmp(upper, id)) cr_assert_null(taskstore_find(e.ts, upper), "ids are lowercase");
    cr_assert_null(taskstore_find(e.ts, ""));
    cr_assert_null(taskstore_find(e.ts, "xyz"));
    strcat(id, "0");
    cr_assert_null(taskstore_find(e.ts, id), "33 characters");
    id[TASK_ID_LEN - 1] = '\0';
    cr_assert_null(taskstore_find(e.ts, id), "31 characters");
    cr_assert_null(taskstore_find(e.ts, "0000000000000000000000000000000g"));
    cr_assert_null(taskstore_find(e.ts, "00000000000000000000000000000000"));
    env_stop(&e);
}

/* --- the state machine ------------------------------------------------------- */

Test(taskstore, io_task_runs_then_is_done)
{
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *t = create_io(&e, 0.1);
    task_view v;
    taskstore_view(e.ts, t, &v);
    cr_assert_eq(v.status, TASK_RUNNING, "an IO task's timer is armed at once");
    cr_assert(v.has_started && !v.has_finished);
    cr_assert_eq(v.started_at, v.created_at);
    cr_assert_eq(v.spec.kind, TASK_IO);
    cr_assert_eq(v.spec.delay, 0.1);
    cr_assert_eq(loop_timer_count(e.l), 1);
    cr_assert(run_until(&e, has_ended, t, 10));
    taskstore_view(e.ts, t, &v);
    cr_assert_eq(v.status, TASK_DONE);
    cr_assert(v.has_finished);
    cr_assert_geq(v.elapsed, 0.099, "elapsed %.6f", v.elapsed);
    cr_assert_lt(v.elapsed, 3.0);
    cr_assert_geq(v.finished_at, v.started_at);
    cr_assert_eq(taskstore_cancel(e.ts, t), -EALREADY, "a done task cannot be cancelled");
    cr_assert_eq(status_of(&e, t), TASK_DONE);
    env_stop(&e);
}

Test(taskstore, cpu_tasks_queue_run_and_give_exact_results)
{
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *a = create_cpu(&e, 3, 0, 300); /* 300 ms of CPU on the only worker */
    task *b = create_cpu(&e, -5, 200000, 0);
    task *c = create_cpu(&e, INT64_MIN, 1001, 0);
    cr_assert(run_until(&e, is_running, a, 10), "the worker picks the first job up");
    task_view v;
    taskstore_view(e.ts, b, &v);
    cr_assert_eq(v.status, TASK_QUEUED, "one worker, busy: the next job waits");
    cr_assert(!v.has_started && !v.has_finished);
    cr_assert(run_until(&e, has_ended, c, 20));
    taskstore_view(e.ts, b, &v);
    cr_assert_eq(v.status, TASK_DONE);
    cr_assert_eq(v.sum, reference(-5, 200000));
    cr_assert_eq(v.iterations, 200000);
    taskstore_view(e.ts, c, &v);
    cr_assert_eq(v.sum, reference(INT64_MIN, 1001));
    taskstore_view(e.ts, a, &v);
    cr_assert_eq(v.status, TASK_DONE);
    cr_assert_gt(v.iterations, 0);
    cr_assert_eq(v.sum, reference(3, v.iterations));
    cr_assert(v.has_started && v.has_finished);
    cr_assert_geq(v.elapsed, 0.29, "300 ms of CPU took %.3f s", v.elapsed);
    cr_assert_geq(v.started_at, v.created_at);
    cr_assert_geq(v.finished_at, v.started_at);
    env_stop(&e);
}

Test(taskstore, cancel_queued_then_running_frees_the_worker)
{
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *a = create_cpu(&e, 3, 0, 30000);
    task *b = create_cpu(&e, 3, 0, 30000);
    cr_assert(run_until(&e, is_running, a, 10));
    cr_assert_eq(status_of(&e, b), TASK_QUEUED);

    cr_assert_eq(taskstore_cancel(e.ts, b), 0);
    task_view v;
    taskstore_view(e.ts, b, &v);
    cr_assert_eq(v.status, TASK_CANCELLED);
    cr_assert(!v.has_started, "it never ran");
    cr_assert(v.has_finished);
    cr_assert_eq(taskstore_cancel(e.ts, b), -EALREADY, "twice");

    cr_assert_eq(taskstore_cancel(e.ts, a), 0);
    taskstore_view(e.ts, a, &v);
    cr_assert_eq(v.status, TASK_CANCELLED);
    cr_assert(v.has_started && v.has_finished);
    cr_assert_eq(taskstore_cancel(e.ts, a), -EALREADY);

    /* the worker stops at its next cancel check: a short job runs at once */
    uint64_t t0 = loop_now_ns();
    task *c = create_cpu(&e, 3, 1000, 0);
    cr_assert(run_until(&e, has_ended, c, 20));
    double secs = (double)(loop_now_ns() - t0) / 1e9;
    cr_assert_lt(secs, 5.0, "the short job waited %.3f s for the worker", secs);
    cr_assert_eq(status_of(&e, c), TASK_DONE);
    cr_assert_eq(status_of(&e, a), TASK_CANCELLED, "a job that was stopped stays cancelled");
    size_t three = 3;
    cr_assert(run_until(&e, finished_count_is, &three, 10), "every job came back: all retired");
    taskstore_stats st;
    taskstore_get_stats(e.ts, &st);
    cr_assert_eq(st.live, 0);
    env_stop(&e);
}

Test(taskstore, cancel_after_work_returned_reports_the_result)
{
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *t = create_cpu(&e, 3, 5000, 0);
    /* the loop does not run: the job ends on the worker, its done() waits */
    executor_stats es;
    for (int i = 0; i < 5000; i++) {
        executor_get_stats(e.ex, &es);
        if (es.completed == 1) break;
        usleep(1000);
    }
    cr_assert_eq(es.completed, 1);
    cr_assert_eq(taskstore_cancel(e.ts, t), -EALREADY, "too late: it has finished");
    task_view v;
    taskstore_view(e.ts, t, &v);
    cr_assert_eq(v.status, TASK_DONE);
    cr_assert_eq(v.sum, reference(3, 5000));
    size_t one = 1;
    cr_assert(run_until(&e, finished_count_is, &one, 10), "retired once done() ran");
    cr_assert_eq(status_of(&e, t), TASK_DONE);
    env_stop(&e);
}

Test(taskstore, cancel_io_disarms_its_timer)
{
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = create_io(&e, 0.2);
    cr_assert_eq(loop_timer_count(e.l), 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(taskstore_cancel(e.ts, t[i]), 0);
    cr_assert_eq(loop_timer_count(e.l), 1, "only the store's sweep timer is left");
    run_until(&e, NULL, NULL, 0.5); /* past the delay */
    for (int i = 0; i < 3; i++) {
        task_view v;
        taskstore_view(e.ts, t[i], &v);
        cr_assert_eq(v.status, TASK_CANCELLED, "the timer never fired");
        cr_assert_lt(v.elapsed, 0.15);
    }
    env_stop(&e);
}

/* --- waiters ------------------------------------------------------------------ */

/* A waiter that records how often it was called and the state it saw. */
typedef struct probe {
    task_waiter w;
    env *e;
    int calls;
    enum task_status seen;
} probe;

static void on_woken(task_waiter *w, task *t)
{
    probe *p = w->data;
    p->calls++;
    p->seen = status_of(p->e, t);
}

static void probe_init(probe *p, env *e)
{
    *p = (probe){.w = {.cb = on_woken, .data = p}, .e = e};
}

Test(taskstore, every_waiter_is_woken_once)
{
    enum { N = 25 };
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *t = create_io(&e, 0.05);
    probe p[N];
    for (int i = 0; i < N; i++) {
        probe_init(&p[i], &e);
        cr_assert_eq(taskstore_watch(e.ts, t, &p[i].w), 0);
    }
    taskstore_unwatch(&p[7].w); /* a client that went away */
    taskstore_unwatch(&p[7].w); /* twice is harmless */
    cr_assert(run_until(&e, has_ended, t, 10));
    for (int i = 0; i < N; i++) {
        cr_assert_eq(p[i].calls, i == 7 ? 0 : 1, "waiter %d called %d times", i, p[i].calls);
        if (i != 7) cr_assert_eq(p[i].seen, TASK_DONE, "the waiter sees the final state");
    }
    probe late;
    probe_init(&late, &e);
    cr_assert_eq(taskstore_watch(e.ts, t, &late.w), -EALREADY);
    cr_assert_eq(late.calls, 0);
    env_stop(&e);
}

Test(taskstore, cancel_wakes_the_waiters)
{
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *io = create_io(&e, 30);
    task *cpu = create_cpu(&e, 3, 0, 30000);
    probe a, b;
    probe_init(&a, &e);
    probe_init(&b, &e);
    cr_assert_eq(taskstore_watch(e.ts, io, &a.w), 0);
    cr_assert_eq(taskstore_watch(e.ts, cpu, &b.w), 0);
    cr_assert_eq(taskstore_cancel(e.ts, io), 0);
    cr_assert_eq(taskstore_cancel(e.ts, cpu), 0);
    cr_assert_eq(a.calls, 1);
    cr_assert_eq(b.calls, 1);
    cr_assert_eq(a.seen, TASK_CANCELLED);
    cr_assert_eq(b.seen, TASK_CANCELLED);
    env_stop(&e);
}

/* --- bounds ------------------------------------------------------------------- */

Test(taskstore, live_tasks_are_capped)
{
    env e;
    env_start(&e, 1, 16, limits(2, 10, 60));
    task *a = create_io(&e, 30);
    create_io(&e, 30);
    task_spec s = {.kind = TASK_IO, .delay = 1};
    task *t;
    cr_assert_eq(taskstore_create(e.ts, &s, &t), -ENOSPC);
    cr_assert_eq(taskstore_cancel(e.ts, a), 0);
    cr_assert_eq(taskstore_create(e.ts, &s, &t), 0, "a finished task is not live");
    taskstore_stats st;
    taskstore_get_stats(e.ts, &st);
    cr_assert_eq(st.live, 2);
    cr_assert_eq(st.finished, 1);
    cr_assert_eq(st.created, 3);
    env_stop(&e);
}

Test(taskstore, full_executor_queue_is_eagain_and_stores_nothing)
{
    env e;
    env_start(&e, 1, 1, limits(10, 10, 60));
    task *a = create_cpu(&e, 3, 0, 30000);
    cr_assert(run_until(&e, is_running, a, 10));
    create_cpu(&e, 3, 0, 10); /* fills the one queue slot */
    task_spec s = {.kind = TASK_CPU, .n = 3, .ms = 10};
    task *t = NULL;
    cr_assert_eq(taskstore_create(e.ts, &s, &t), -EAGAIN);
    taskstore_stats st;
    taskstore_get_stats(e.ts, &st);
    cr_assert_eq(st.created, 2);
    cr_assert_eq(st.live, 2);
    int n = 0;
    for (task *it = taskstore_newest(e.ts); it; it = taskstore_older(it))
        n++;
    cr_assert_eq(n, 2);
    task_spec bad = {.kind = (enum task_kind)7};
    cr_assert_eq(taskstore_create(e.ts, &bad, &t), -EINVAL);
    env_stop(&e);
}

Test(taskstore, list_is_newest_first)
{
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = create_io(&e, 30);
    task *it = taskstore_newest(e.ts);
    for (int i = 4; i >= 0; i--, it = taskstore_older(it))
        cr_assert_eq(it, t[i], "position %d", 4 - i);
    cr_assert_null(it);
    env_stop(&e);
}

/* --- eviction ----------------------------------------------------------------- */

Test(taskstore, eviction_by_count_forgets_the_oldest_finished)
{
    env e;
    env_start(&e, 1, 16, limits(100, 3, 3600));
    char ids[10][TASK_ID_LEN + 1];
    task *live = create_io(&e, 30);
    for (int i = 0; i < 10; i++)
        strcpy(ids[i], taskstore_id(create_io(&e, 0.001 * (i + 1))));
    size_t three = 3;
    cr_assert(run_until(&e, finished_count_is, &three, 10));
    run_until(&e, NULL, NULL, 0.2); /* no more evictions come */
    taskstore_stats st;
    taskstore_get_stats(e.ts, &st);
    cr_assert_eq(st.finished, 3);
    cr_assert_eq(st.evicted, 7);
    cr_assert_eq(st.live, 1);
    for (int i = 0; i < 7; i++)
        cr_assert_null(taskstore_find(e.ts, ids[i]), "task %d should be evicted", i);
    for (int i = 7; i < 10; i++)
        cr_assert_not_null(taskstore_find(e.ts, ids[i]), "task %d should be kept", i);
    cr_assert_eq(taskstore_find(e.ts, taskstore_id(live)), live, "live tasks are never evicted");
    int n = 0;
    for (task *it = taskstore_newest(e.ts); it; it = taskstore_older(it))
        n++;
    cr_assert_eq(n, 4);
    env_stop(&e);
}

Test(taskstore, eviction_by_age)
{
    env e;
    env_start(&e, 1, 16, limits(100, 100, 0.3));
    task *a = create_io(&e, 0);
    char a_id[TASK_ID_LEN + 1], b_id[TASK_ID_LEN + 1];
    strcpy(a_id, taskstore_id(a));
    task *b = create_io(&e, 0.6);
    strcpy(b_id, taskstore_id(b));
    cr_assert(run_until(&e, has_ended, a, 10));
    uint64_t done_ns = loop_now_ns();
    run_until(&e, NULL, NULL, 0.1);
    cr_assert_not_null(taskstore_find(e.ts, a_id), "kept for its ttl");
    cr_assert(run_until(&e, is_gone, a_id, 10));
    double kept = (double)(loop_now_ns() - done_ns) / 1e9;
    cr_assert_geq(kept, 0.15, "evicted after %.3f s, ttl 0.3", kept);
    cr_assert_lt(kept, 3.0, "evicted after %.3f s, ttl 0.3", kept);
    cr_assert_not_null(taskstore_find(e.ts, b_id), "still running: not evicted");
    cr_assert(run_until(&e, is_gone, b_id, 10), "then evicted once it is done and old");
    taskstore_stats st;
    taskstore_get_stats(e.ts, &st);
    cr_assert_eq(st.evicted, 2);
    cr_assert_eq(st.finished + st.live, 0);
    cr_assert_null(taskstore_newest(e.ts));
    cr_assert_eq(loop_timer_count(e.l), 0, "no sweep is armed for an empty store");
    env_stop(&e);
}

Test(taskstore, keep_zero_forgets_at_once_but_not_while_running)
{
    env e;
    env_start(&e, 1, 16, limits(100, 0, 3600));
    task *t = create_cpu(&e, 3, 0, 200);
    char id[TASK_ID_LEN + 1];
    strcpy(id, taskstore_id(t));
    cr_assert(run_until(&e, is_running, t, 10));
    cr_assert_eq(taskstore_cancel(e.ts, t), 0);
    cr_assert_eq(taskstore_find(e.ts, id), t, "cancelled, but its job is still on the worker");
    cr_assert(run_until(&e, is_gone, id, 10), "evicted once the job came back");
    env_stop(&e);
}

/* --- shutdown ----------------------------------------------------------------- */

Test(taskstore, shutdown_cancels_running_work_quickly)
{
    env e;
    env_start(&e, 1, 16, limits(10, 10, 60));
    task *a = create_cpu(&e, 3, 0, 30000);
    create_cpu(&e, 3, 0, 30000); /* queued behind it */
    task *io = create_io(&e, 30);
    probe p;
    probe_init(&p, &e);
    cr_assert_eq(taskstore_watch(e.ts, io, &p.w), 0);
    cr_assert(run_until(&e, is_running, a, 10));
    uint64_t t0 = loop_now_ns();
    env_stop(&e); /* the executor stops both jobs; the store frees everything */
    double secs = (double)(loop_now_ns() - t0) / 1e9;
    cr_assert_lt(secs, 5.0, "shutdown took %.3f s", secs);
    cr_assert_eq(p.calls, 0, "waiters are detached, not called, at shutdown");
}
