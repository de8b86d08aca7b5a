/*
 * test_run.c - one task's work (tasks/run.c) without a store and without
 * sockets: a real loop driven from the test thread, a real executor whose
 * completions the loop drains. IO runs are loop timers, CPU runs are
 * cpu_heavy on a worker; cancel at each stage. Time bounds are wide (two
 * shared, noisy cores).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cpu_heavy.h"
#include "helpers.h"
#include "executor.h"
#include "loop.h"
#include "run.h"

TestSuite(run, .timeout = 60);

typedef struct env {
    loop *l;
    executor *ex;
    loop_watcher ex_w;
} env;

static void on_executor(loop_watcher *w, uint32_t events)
{
    (void)events;
    executor_run_done(w->data);
}

static void env_start(env *e, size_t workers)
{
    memset(e, 0, sizeof(*e));
    cr_assert_eq(loop_new(&e->l), 0);
    cr_assert_eq(executor_new(&e->ex, workers, 16, 0), 0);
    e->ex_w.fd = executor_fd(e->ex);
    e->ex_w.cb = on_executor;
    e->ex_w.data = e->ex;
    cr_assert_eq(loop_watch(e->l, &e->ex_w, EPOLLIN), 0);
}

static void env_stop(env *e)
{
    executor_free(e->ex);
    loop_free(e->l);
}

/* What done() saw. */
typedef struct seen {
    env *e;
    int calls;
    int status;
    int rc;
    uint64_t at_ns;
    pthread_t thread;
} seen;

static void on_done(task_run *r, int status)
{
    seen *s = r->data;
    s->calls++;
    s->status = status;
    s->rc = r->rc;
    s->at_ns = loop_now_ns();
    s->thread = pthread_self();
}

/* Runs the loop until *flag (1) or max_secs (0); flag NULL: just run. */
static int run_until(env *e, const int *flag, double max_secs)
{
    return loop_run_until(e->l, flag, max_secs);
}

static void start(env *e, task_run *r, seen *s, task_spec spec)
{
    memset(r, 0, sizeof(*r));
    memset(s, 0, sizeof(*s));
    s->e = e;
    s->status = 12345;
    r->done = on_done;
    r->data = s;
    int rc = task_run_start(r, e->l, e->ex, 0, &spec);
    cr_assert_eq(rc, 0, "task_run_start: %d", rc);
}

Test(run, io_run_calls_done_after_its_delay_on_the_loop)
{
    env e;
    env_start(&e, 1);
    task_run r;
    seen s;
    uint64_t t0 = loop_now_ns();
    start(&e, &r, &s, (task_spec){.kind = TASK_IO, .delay = 0.2});
    cr_assert_eq(s.calls, 0, "done is not called from start");
    cr_assert_eq(loop_timer_count(e.l), 1, "an IO run is one loop timer");
    cr_assert(run_until(&e, &s.calls, 10), "done came");
    double took = secs_between(t0, s.at_ns);
    cr_assert_geq(took, 0.195, "not before its delay: %.3f s", took);
    cr_assert_lt(took, 3.0, "soon after its delay: %.3f s", took);
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(s.status, 0);
    cr_assert(pthread_equal(s.thread, pthread_self()), "on the loop's thread");
    cr_assert_eq(task_run_held(&r), 0, "an IO run is never held by the executor");
    /* and only once */
    run_until(&e, NULL, 0.1);
    cr_assert_eq(s.calls, 1);
    env_stop(&e);
}

Test(run, cpu_run_reports_cpu_heavys_sum)
{
    env e;
    env_start(&e, 2);
    task_run r;
    seen s;
    const int64_t n = -123456789;
    const uint64_t it = 300000;
    start(&e, &r, &s, (task_spec){.kind = TASK_CPU, .n = n, .iterations = it});
    cr_assert_eq(task_run_held(&r), 1, "the executor holds the job");
    cr_assert(run_until(&e, &s.calls, 20), "done came");
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(s.status, 0);
    cr_assert_eq(s.rc, 0);
    cr_assert(pthread_equal(s.thread, pthread_self()), "done on the loop's thread");
    cpu_heavy_out want;
    cr_assert_eq(cpu_heavy(n, it, NULL, &want), 0);
    cr_assert_gt(want.sum, 0);
    cr_assert_eq(r.out.sum, want.sum, "sum %lu, cpu_heavy says %lu", (unsigned long)r.out.sum,
                 (unsigned long)want.sum);
    cr_assert_eq(r.out.iterations, it);
    cr_assert_eq(task_run_held(&r), 0);
    cr_assert_neq(task_run_began_ns(&r), 0);
    cr_assert_geq(r.job.finished_ns, r.job.started_ns);
    cr_assert_eq(task_run_cancel(&r), -EALREADY, "a finished job cannot be cancelled");
    env_stop(&e);
}

Test(run, cancelled_io_run_never_calls_done)
{
    env e;
    env_start(&e, 1);
    task_run r;
    seen s;
    start(&e, &r, &s, (task_spec){.kind = TASK_IO, .delay = 0.1});
    run_until(&e, NULL, 0.03); /* the loop ran a while with the timer armed */
    cr_assert_eq(s.calls, 0);
    cr_assert_eq(task_run_cancel(&r), 0);
    cr_assert_eq(loop_timer_count(e.l), 0, "its timer is disarmed");
    run_until(&e, NULL, 0.4); /* well past the delay */
    cr_assert_eq(s.calls, 0, "done never runs after a cancel");
    env_stop(&e);
    cr_assert_eq(s.calls, 0);
}

Test(run, cancel_of_a_running_cpu_run_stops_it_soon)
{
    env e;
    env_start(&e, 1);
    task_run r;
    seen s;
    start(&e, &r, &s, (task_spec){.kind = TASK_CPU, .n = 3, .ms = 2000});
    /* wait for the worker to begin it */
    uint64_t until = loop_now_ns() + secs_to_ns(10);
    while (task_run_began_ns(&r) == 0 && loop_now_ns() < until)
        usleep(1000);
    cr_assert_neq(task_run_began_ns(&r), 0, "the worker began the job");
    run_until(&e, NULL, 0.05);
    cr_assert_eq(s.calls, 0, "a 2 s burn is not over yet");
    uint64_t t0 = loop_now_ns();
    cr_assert_eq(task_run_cancel(&r), -EBUSY, "it was running");
    cr_assert_eq(task_run_held(&r), 1, "done is still to come");
    cr_assert(run_until(&e, &s.calls, 10), "done came");
    double took = secs_between(t0, s.at_ns);
    cr_assert_lt(took, 1.2, "done came soon after the cancel, not after the 2 s burn: %.3f s",
                 took);
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(s.status, 0, "the work ran");
    cr_assert_eq(s.rc, -ECANCELED, "rc %d", s.rc);
    cr_assert_eq(task_run_held(&r), 0);
    env_stop(&e);
}

/* A job that keeps the only worker until released. */
typedef struct blocker {
    executor_job job;
    atomic_int go;
    atomic_int started;
    int done;
} blocker;

static void block_work(executor_job *j)
{
    blocker *b = j->data;
    atomic_store(&b->started, 1);
    while (!atomic_load(&b->go) && !atomic_load(&j->cancel))
        usleep(1000);
}

static void block_done(executor_job *j, int status)
{
    (void)status;
    ((blocker *)j->data)->done = 1;
}

static void occupy(env *e, blocker *b)
{
    memset(b, 0, sizeof(*b));
    b->job.work = block_work;
    b->job.done = block_done;
    b->job.data = b;
    cr_assert_eq(executor_submit(e->ex, &b->job), 0);
    uint64_t until = loop_now_ns() + secs_to_ns(10);
    while (!atomic_load(&b->started) && loop_now_ns() < until)
        usleep(1000);
    cr_assert(atomic_load(&b->started), "the blocker holds the worker");
}

Test(run, began_ns_is_zero_until_the_worker_starts)
{
    env e;
    env_start(&e, 1);
    blocker b;
    occupy(&e, &b);
    task_run r;
    seen s;
    start(&e, &r, &s, (task_spec){.kind = TASK_CPU, .n = 5, .iterations = 1000});
    run_until(&e, NULL, 0.1);
    cr_assert_eq(task_run_began_ns(&r), 0, "queued behind the blocker: not begun");
    cr_assert_eq(s.calls, 0);
    uint64_t released = loop_now_ns();
    atomic_store(&b.go, 1);
    cr_assert(run_until(&e, &s.calls, 10), "done came");
    uint64_t began = task_run_began_ns(&r);
    cr_assert_geq(began, released, "began after the worker was free");
    cr_assert_leq(began, s.at_ns, "began before done");
    cr_assert_eq(s.status, 0);
    cr_assert_eq(s.rc, 0);
    run_until(&e, &b.done, 5);
    env_stop(&e);
}

Test(run, cancel_of_a_queued_cpu_run_completes_it_cancelled)
{
    env e;
    env_start(&e, 1);
    blocker b;
    occupy(&e, &b);
    task_run r;
    seen s;
    start(&e, &r, &s, (task_spec){.kind = TASK_CPU, .n = 5, .iterations = 1000});
    cr_assert_eq(task_run_cancel(&r), 0, "it left the queue");
    cr_assert(run_until(&e, &s.calls, 10), "done came");
    cr_assert_eq(s.status, -ECANCELED, "status %d", s.status);
    cr_assert_eq(task_run_began_ns(&r), 0, "never begun");
    cr_assert_eq(task_run_held(&r), 0);
    atomic_store(&b.go, 1);
    run_until(&e, &b.done, 5);
    env_stop(&e);
    cr_assert_eq(s.calls, 1);
}

Test(run, unknown_kind_is_einval)
{
    env e;
    env_start(&e, 1);
    task_run r;
    memset(&r, 0, sizeof(r));
    r.done = on_done;
    task_spec spec = {.kind = (enum task_kind)7};
    cr_assert_eq(task_run_start(&r, e.l, e.ex, 0, &spec), -EINVAL);
    cr_assert_eq(task_run_held(&r), 0);
    cr_assert_eq(loop_timer_count(e.l), 0);
    env_stop(&e);
}
