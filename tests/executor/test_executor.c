/*
 * test_executor.c - the worker pool (executor/executor.c): FIFO order, the
 * bounded queue, cancellation of queued and running jobs, where done() runs,
 * shutdown, counters, the completion eventfd and per-job bookkeeping.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cpu_heavy.h"
#include "executor.h"

TestSuite(executor, .timeout = 60);

#define MS 1000000ull

enum kind { K_LOG, K_GATE, K_BURN, K_HEAVY };

typedef struct shared {
    pthread_mutex_t mu;
    int work_log[256], done_log[256];
    int work_n, done_n; /* done_n: main thread only */
    atomic_int gate;    /* K_GATE jobs wait for it */
} shared;

typedef struct tjob {
    executor_job j; /* first: work() and done() cast back */
    shared *sh;
    int id;
    enum kind kind;
    uint64_t amount; /* ms for K_BURN, iterations for K_HEAVY */
    /* written by work() */
    atomic_int started;
    pthread_t work_thread;
    int work_rc;
    cpu_heavy_out out;
    int nice;
    /* written by done() */
    int done_count, done_status, cancel_seen;
    pthread_t done_thread;
    uint64_t done_ns;
    int resubmit; /* done() submits the job again this many times */
    executor *ex;
} tjob;

static shared *shared_new(void)
{
    static shared sh;
    sh = (shared){.work_n = 0};
    pthread_mutex_init(&sh.mu, NULL);
    return &sh;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_work(executor_job *ej)
{
    tjob *t = (tjob *)ej;
    t->work_thread = pthread_self();
    t->nice = getpriority(PRIO_PROCESS, 0); /* Linux: the calling thread's nice */
    atomic_store(&t->started, 1);
    switch (t->kind) {
    case K_LOG:
        pthread_mutex_lock(&t->sh->mu);
        t->sh->work_log[t->sh->work_n++] = t->id;
        pthread_mutex_unlock(&t->sh->mu);
        break;
    case K_GATE:
        while (!atomic_load(&t->sh->gate) && !atomic_load(&ej->cancel))
            usleep(500);
        break;
    case K_BURN:
        t->work_rc = cpu_heavy_burn(3, t->amount, &ej->cancel, &t->out);
        break;
    case K_HEAVY:
        t->work_rc = cpu_heavy(3, t->amount, &ej->cancel, &t->out);
        break;
    }
}

static void on_done(executor_job *ej, int status)
{
    tjob *t = (tjob *)ej;
    t->done_count++;
    t->done_status = status;
    t->cancel_seen = atomic_load(&ej->cancel);
    t->done_thread = pthread_self();
    t->done_ns = now_ns();
    cr_assert_lt(t->sh->done_n, 256);
    t->sh->done_log[t->sh->done_n++] = t->id;
    if (t->resubmit > 0) {
        t->resubmit--;
        atomic_store(&t->started, 0);
        cr_assert_eq(executor_submit(t->ex, ej), 0);
    }
}

static void job_init(tjob *t, shared *sh, int id, enum kind kind, uint64_t amount)
{
    *t = (tjob){.sh = sh, .id = id, .kind = kind, .amount = amount};
    t->j.work = on_work;
    t->j.done = on_done;
    t->j.data = t;
}

static executor *new_executor(size_t workers, size_t cap)
{
    executor *ex = NULL;
    cr_assert_eq(executor_new(&ex, workers, cap, 0), 0);
    cr_assert_not_null(ex);
    return ex;
}

/* Runs completions on this thread until `target` done() calls happened in total. */
static void drain(executor *ex, shared *sh, int target)
{
    uint64_t deadline = now_ns() + 20000 * MS;
    while (sh->done_n < target) {
        cr_assert_lt(now_ns(), deadline, "only %d of %d done() ran", sh->done_n, target);
        struct pollfd pfd = {.fd = executor_fd(ex), .events = POLLIN};
        poll(&pfd, 1, 50);
        executor_run_done(ex);
    }
    cr_assert_eq(sh->done_n, target);
}

static void wait_started(tjob *t)
{
    uint64_t deadline = now_ns() + 10000 * MS;
    while (!atomic_load(&t->started)) {
        cr_assert_lt(now_ns(), deadline, "job %d never started", t->id);
        usleep(1000);
    }
}

static executor_stats stats(executor *ex)
{
    executor_stats st;
    executor_get_stats(ex, &st);
    return st;
}

/* Threads of this process named like the executor's workers ("iocpu-worker<i>"). */
static int worker_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) {
        char path[300], comm[32] = "";
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* exited meanwhile */
        if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iocpu-worker", 12)) n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

Test(executor, rejects_bad_arguments)
{
    executor *ex = NULL;
    cr_assert_eq(executor_new(&ex, 0, 8, 0), -EINVAL);
    cr_assert_eq(executor_new(&ex, 2, 0, 0), -EINVAL);
    cr_assert_null(ex);
}

Test(executor, one_worker_runs_jobs_in_fifo_order)
{
    enum { N = 40 };
    shared *sh = shared_new();
    executor *ex = new_executor(1, 64);
    static tjob gate, jobs[N];
    job_init(&gate, sh, -1, K_GATE, 0);
    cr_assert_eq(executor_submit(ex, &gate.j), 0);
    wait_started(&gate); /* everything below queues behind it */
    for (int i = 0; i < N; i++) {
        job_init(&jobs[i], sh, i, K_LOG, 0);
        cr_assert_eq(executor_submit(ex, &jobs[i].j), 0);
    }
    atomic_store(&sh->gate, 1);
    drain(ex, sh, N + 1);
    cr_assert_eq(sh->work_n, N);
    cr_assert_eq(sh->done_log[0], -1);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(sh->work_log[i], i, "work #%d", i);
        cr_assert_eq(sh->done_log[i + 1], i, "done #%d", i);
        cr_assert_eq(jobs[i].done_status, 0);
        cr_assert_eq(jobs[i].j.worker, 0);
    }
    executor_free(ex);
}

Test(executor, full_queue_returns_eagain_and_counts_rejected)
{
    shared *sh = shared_new();
    executor *ex = new_executor(1, 3);
    tjob gate, q[3], extra[2];
    job_init(&gate, sh, 100, K_GATE, 0);
    cr_assert_eq(executor_submit(ex, &gate.j), 0);
    wait_started(&gate);
    for (int i = 0; i < 3; i++) {
        job_init(&q[i], sh, i, K_LOG, 0);
        cr_assert_eq(executor_submit(ex, &q[i].j), 0);
    }
    for (int i = 0; i < 2; i++) {
        job_init(&extra[i], sh, 10 + i, K_LOG, 0);
        cr_assert_eq(executor_submit(ex, &extra[i].j), -EAGAIN);
    }
    executor_stats st = stats(ex);
    cr_assert_eq(st.queued, 3);
    cr_assert_eq(st.busy, 1);
    cr_assert_eq(st.submitted, 4);
    cr_assert_eq(st.rejected, 2);

    atomic_store(&sh->gate, 1);
    drain(ex, sh, 4);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(extra[i].done_count, 0, "a rejected job never completes");
        cr_assert_eq(atomic_load(&extra[i].started), 0);
    }
    /* Room again. */
    cr_assert_eq(executor_submit(ex, &extra[0].j), 0);
    drain(ex, sh, 5);
    cr_assert_eq(extra[0].done_count, 1);
    executor_free(ex);
}

Test(executor, cancel_queued_job_completes_with_ecanceled)
{
    shared *sh = shared_new();
    executor *ex = new_executor(1, 8);
    tjob gate, a, b;
    job_init(&gate, sh, 0, K_GATE, 0);
    job_init(&a, sh, 1, K_LOG, 0);
    job_init(&b, sh, 2, K_LOG, 0);
    cr_assert_eq(executor_submit(ex, &gate.j), 0);
    wait_started(&gate);
    cr_assert_eq(executor_submit(ex, &a.j), 0);
    cr_assert_eq(executor_submit(ex, &b.j), 0);
    cr_assert_eq(executor_cancel(ex, &a.j), 0);
    cr_assert_eq(executor_cancel(ex, &a.j), -EALREADY, "already out of the queue");
    cr_assert_eq(stats(ex).queued, 1);

    /* Its done() is pending now, before the gate opens. */
    drain(ex, sh, 1);
    cr_assert_eq(a.done_count, 1);
    cr_assert_eq(a.done_status, -ECANCELED);
    cr_assert_eq(a.j.worker, -1);
    cr_assert_eq(a.j.started_ns, 0);
    cr_assert_eq(atomic_load(&a.started), 0, "a cancelled queued job never runs");

    atomic_store(&sh->gate, 1);
    drain(ex, sh, 3);
    cr_assert_eq(atomic_load(&a.started), 0);
    cr_assert_eq(a.done_count, 1);
    cr_assert_eq(b.done_status, 0);
    cr_assert_eq(sh->work_n, 1);
    cr_assert_eq(sh->work_log[0], 2);
    cr_assert_eq(executor_cancel(ex, &b.j), -EALREADY);
    executor_free(ex);
}

Test(executor, cancel_running_job_stops_it_early)
{
    const uint64_t full_ms = 3000; /* the job's full CPU time */
    shared *sh = shared_new();
    executor *ex = new_executor(1, 8);
    tjob j;
    job_init(&j, sh, 0, K_BURN, full_ms);
    uint64_t t0 = now_ns();
    cr_assert_eq(executor_submit(ex, &j.j), 0);
    wait_started(&j);
    usleep(20000);
    uint64_t tc = now_ns();
    cr_assert_eq(executor_cancel(ex, &j.j), -EBUSY);
    drain(ex, sh, 1);
    uint64_t to_done = j.done_ns - tc, total = j.done_ns - t0;
    cr_assert_lt(to_done, full_ms * MS / 4, "cancel took %llu ms of a %llu ms job",
                 (unsigned long long)(to_done / MS), (unsigned long long)full_ms);
    cr_assert_lt(total, full_ms * MS / 2);
    cr_assert_eq(j.done_status, 0, "work() ran, so the status is 0");
    cr_assert_eq(j.cancel_seen, 1);
    cr_assert_eq(j.work_rc, -ECANCELED);
    cr_assert_lt(j.j.cpu_ns, full_ms * MS / 2);
    cr_assert_eq(executor_cancel(ex, &j.j), -EALREADY);
    executor_free(ex);
}

Test(executor, done_runs_only_on_the_thread_that_calls_run_done)
{
    enum { N = 10 };
    shared *sh = shared_new();
    executor *ex = new_executor(2, 16);
    tjob jobs[N];
    for (int i = 0; i < N; i++) {
        job_init(&jobs[i], sh, i, K_HEAVY, 10000);
        cr_assert_eq(executor_submit(ex, &jobs[i].j), 0);
    }
    uint64_t deadline = now_ns() + 10000 * MS;
    while (stats(ex).completed < N) {
        cr_assert_lt(now_ns(), deadline);
        usleep(1000);
    }
    for (int i = 0; i < N; i++)
        cr_assert_eq(jobs[i].done_count, 0, "done() ran without executor_run_done");
    cr_assert_eq(executor_run_done(ex), N);
    cr_assert_eq(executor_run_done(ex), 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(jobs[i].done_count, 1);
        cr_assert(pthread_equal(jobs[i].done_thread, pthread_self()));
        cr_assert(!pthread_equal(jobs[i].work_thread, pthread_self()), "work() on a worker");
    }
    executor_free(ex);
}

Test(executor, free_cancels_queued_flags_running_and_joins)
{
    enum { W = 2, Q = 4 };
    shared *sh = shared_new();
    int threads0 = worker_threads();
    executor *ex = new_executor(W, 16);
    /* Workers name themselves once they run: give them a moment. */
    for (uint64_t deadline = now_ns() + 10000 * MS; worker_threads() != threads0 + W;) {
        cr_assert_lt(now_ns(), deadline, "%d worker threads", worker_threads());
        usleep(1000);
    }
    tjob run[W], queued[Q];
    for (int i = 0; i < W; i++) {
        job_init(&run[i], sh, i, K_BURN, 20000); /* 20 s unless cancelled */
        cr_assert_eq(executor_submit(ex, &run[i].j), 0);
    }
    for (int i = 0; i < W; i++)
        wait_started(&run[i]);
    for (int i = 0; i < Q; i++) {
        job_init(&queued[i], sh, W + i, K_LOG, 0);
        cr_assert_eq(executor_submit(ex, &queued[i].j), 0);
    }
    uint64_t t0 = now_ns();
    executor_free(ex);
    uint64_t took = now_ns() - t0;
    cr_assert_lt(took, 5000 * MS, "free took %llu ms", (unsigned long long)(took / MS));
    /* pthread_join() returns when a thread has exited; the kernel drops its
     * /proc/self/task entry a moment later */
    for (uint64_t deadline = now_ns() + 1000 * MS;
         worker_threads() != threads0 && now_ns() < deadline;)
        usleep(1000);
    cr_assert_eq(worker_threads(), threads0, "workers joined");
    cr_assert_eq(sh->done_n, W + Q);
    for (int i = 0; i < W; i++) {
        cr_assert_eq(run[i].done_count, 1);
        cr_assert_eq(run[i].done_status, 0);
        cr_assert_eq(run[i].cancel_seen, 1);
        cr_assert_eq(run[i].work_rc, -ECANCELED);
        cr_assert(pthread_equal(run[i].done_thread, pthread_self()));
    }
    for (int i = 0; i < Q; i++) {
        cr_assert_eq(queued[i].done_count, 1);
        cr_assert_eq(queued[i].done_status, -ECANCELED);
        cr_assert_eq(atomic_load(&queued[i].started), 0);
    }
    cr_assert_eq(sh->work_n, 0);
}

Test(executor, stats_counters)
{
    shared *sh = shared_new();
    executor *ex = new_executor(1, 2);
    executor_stats st = stats(ex);
    cr_assert_eq(st.workers, 1);
    cr_assert_eq(st.queue_cap, 2);
    cr_assert_eq(st.queued + st.busy + st.submitted + st.completed + st.rejected + st.cancelled, 0);

    tjob gate, a, b, c, burn;
    job_init(&gate, sh, 0, K_GATE, 0);
    job_init(&a, sh, 1, K_LOG, 0);
    job_init(&b, sh, 2, K_LOG, 0);
    job_init(&c, sh, 3, K_LOG, 0);
    job_init(&burn, sh, 4, K_BURN, 20000);
    cr_assert_eq(executor_submit(ex, &gate.j), 0);
    wait_started(&gate);
    st = stats(ex);
    cr_assert_eq(st.busy, 1);
    cr_assert_eq(st.queued, 0);
    cr_assert_eq(executor_submit(ex, &a.j), 0);
    cr_assert_eq(executor_submit(ex, &b.j), 0);
    cr_assert_eq(executor_submit(ex, &c.j), -EAGAIN);
    cr_assert_eq(executor_cancel(ex, &a.j), 0);
    st = stats(ex);
    cr_assert_eq(st.submitted, 3);
    cr_assert_eq(st.queued, 1);
    cr_assert_eq(st.rejected, 1);
    cr_assert_eq(st.cancelled, 1);
    cr_assert_eq(st.completed, 0);

    atomic_store(&sh->gate, 1);
    drain(ex, sh, 3);
    st = stats(ex);
    cr_assert_eq(st.completed, 2, "gate and b ran");
    cr_assert_eq(st.busy, 0);
    cr_assert_eq(st.queued, 0);

    /* A running job that is cancelled counts as cancelled and, as work() returned, completed. */
    cr_assert_eq(executor_submit(ex, &burn.j), 0);
    wait_started(&burn);
    cr_assert_eq(executor_cancel(ex, &burn.j), -EBUSY);
    drain(ex, sh, 4);
    st = stats(ex);
    cr_assert_eq(st.submitted, 4);
    cr_assert_eq(st.completed, 3);
    cr_assert_eq(st.cancelled, 2);
    cr_assert_eq(st.rejected, 1);
    cr_assert_eq(st.busy + st.queued, 0);
    executor_free(ex);
}

static int readable(int fd, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int n = poll(&pfd, 1, timeout_ms);
    cr_assert_geq(n, 0);
    return n == 1 && (pfd.revents & POLLIN);
}

Test(executor, fd_becomes_readable_when_a_job_completes)
{
    shared *sh = shared_new();
    executor *ex = new_executor(1, 4);
    int fd = executor_fd(ex);
    cr_assert_geq(fd, 0);
    cr_assert(!readable(fd, 0));
    tjob gate, a;
    job_init(&gate, sh, 0, K_GATE, 0);
    job_init(&a, sh, 1, K_LOG, 0);
    cr_assert_eq(executor_submit(ex, &gate.j), 0);
    wait_started(&gate);
    cr_assert(!readable(fd, 50), "readable while the only job still runs");
    atomic_store(&sh->gate, 1);
    cr_assert(readable(fd, 10000));
    cr_assert_eq(executor_run_done(ex), 1);
    cr_assert(!readable(fd, 0), "run_done drains the eventfd");

    /* A cancelled queued job also wakes the fd. */
    atomic_store(&sh->gate, 0);
    job_init(&gate, sh, 0, K_GATE, 0);
    cr_assert_eq(executor_submit(ex, &gate.j), 0);
    wait_started(&gate);
    cr_assert_eq(executor_submit(ex, &a.j), 0);
    cr_assert(!readable(fd, 0));
    cr_assert_eq(executor_cancel(ex, &a.j), 0);
    cr_assert(readable(fd, 0));
    cr_assert_eq(executor_run_done(ex), 1);
    cr_assert_eq(a.done_status, -ECANCELED);
    atomic_store(&sh->gate, 1);
    executor_free(ex);
    cr_assert_eq(gate.done_count, 1);
}

Test(executor, worker_index_and_timestamps)
{
    enum { W = 2, N = 8 };
    shared *sh = shared_new();
    executor *ex = new_executor(W, 16);
    tjob jobs[N];
    for (int i = 0; i < N; i++) {
        job_init(&jobs[i], sh, i, K_HEAVY, 2000000);
        cr_assert_eq(executor_submit(ex, &jobs[i].j), 0);
    }
    drain(ex, sh, N);
    for (int i = 0; i < N; i++) {
        executor_job *j = &jobs[i].j;
        cr_assert_eq(jobs[i].work_rc, 0);
        cr_assert_eq(jobs[i].out.iterations, 2000000);
        cr_assert(j->worker >= 0 && j->worker < W, "worker %d", j->worker);
        cr_assert_gt(j->queued_ns, 0);
        cr_assert_leq(j->queued_ns, j->started_ns);
        cr_assert_leq(j->started_ns, j->finished_ns);
        cr_assert_leq(j->finished_ns, jobs[i].done_ns);
        cr_assert_gt(j->cpu_ns, 0, "CPU work takes thread CPU time");
        /* One thread cannot use more CPU than wall time (plus clock granularity). */
        cr_assert_leq(j->cpu_ns, j->finished_ns - j->started_ns + 2 * MS);
    }
    /* Two jobs running at the same time are on two different workers. */
    tjob g[W];
    for (int i = 0; i < W; i++) {
        job_init(&g[i], sh, 100 + i, K_GATE, 0);
        cr_assert_eq(executor_submit(ex, &g[i].j), 0);
    }
    for (int i = 0; i < W; i++)
        wait_started(&g[i]);
    atomic_store(&sh->gate, 1);
    drain(ex, sh, N + W);
    cr_assert_neq(g[0].j.worker, g[1].j.worker);
    cr_assert(g[0].j.worker >= 0 && g[0].j.worker < W && g[1].j.worker >= 0 && g[1].j.worker < W);
    executor_free(ex);
}

Test(executor, workers_are_niced)
{
    shared *sh = shared_new();
    int base = getpriority(PRIO_PROCESS, 0);
    if (base > 16) cr_skip_test("already niced too far to test");
    executor *ex = NULL;
    cr_assert_eq(executor_new(&ex, 1, 4, 3), 0);
    tjob j;
    job_init(&j, sh, 0, K_LOG, 0);
    cr_assert_eq(executor_submit(ex, &j.j), 0);
    drain(ex, sh, 1);
    cr_assert_eq(j.nice, base + 3);
    cr_assert_eq(getpriority(PRIO_PROCESS, 0), base, "the caller keeps its priority");
    executor_free(ex);
}

Test(executor, done_may_resubmit_the_job)
{
    shared *sh = shared_new();
    executor *ex = new_executor(2, 4);
    tjob j;
    job_init(&j, sh, 7, K_LOG, 0);
    j.ex = ex;
    j.resubmit = 3;
    cr_assert_eq(executor_submit(ex, &j.j), 0);
    drain(ex, sh, 4);
    cr_assert_eq(j.done_count, 4);
    cr_assert_eq(sh->work_n, 4);
    cr_assert_eq(j.done_status, 0);
    cr_assert_eq(stats(ex).submitted, 4);
    executor_free(ex);
}

/* Background jobs (tasks) may not take the queue slots kept for the others:
 * with 2 slots of 6 kept, the 5th background job is refused while a
 * request's job still gets in, up to the whole queue. */
Test(executor, background_jobs_leave_the_reserved_slots)
{
    shared *sh = shared_new();
    executor *ex = new_executor(1, 6);
    executor_set_reserve(ex, 2, 0);
    static tjob gate, bg[5], fg[3];
    job_init(&gate, sh, -1, K_GATE, 0);
    cr_assert_eq(executor_submit(ex, &gate.j), 0);
    wait_started(&gate);
    for (int i = 0; i < 5; i++) {
        job_init(&bg[i], sh, i, K_LOG, 0);
        bg[i].j.background = 1;
    }
    for (int i = 0; i < 4; i++)
        cr_assert_eq(executor_submit(ex, &bg[i].j), 0, "background job %d", i);
    cr_assert_eq(executor_submit(ex, &bg[4].j), -EAGAIN, "the last 2 slots are reserved");
    for (int i = 0; i < 3; i++)
        job_init(&fg[i], sh, 10 + i, K_LOG, 0);
    cr_assert_eq(executor_submit(ex, &fg[0].j), 0);
    cr_assert_eq(executor_submit(ex, &fg[1].j), 0);
    cr_assert_eq(executor_submit(ex, &fg[2].j), -EAGAIN, "the queue itself is full");
    executor_stats st = stats(ex);
    cr_assert_eq(st.bg_queued, 4);
    cr_assert_eq(st.queued, 6);
    cr_assert_eq(st.bg_queue_cap, 4);
    atomic_store(&sh->gate, 1);
    drain(ex, sh, 7);
    executor_free(ex);
}

/* With 1 of 2 workers kept, a second background job waits while one runs,
 * and a request's job queued after it runs at once on the kept worker. */
Test(executor, background_jobs_leave_the_reserved_workers)
{
    shared *sh = shared_new();
    executor *ex = new_executor(2, 16);
    executor_set_reserve(ex, 0, 1);
    static tjob bg[2], fg;
    for (int i = 0; i < 2; i++) {
        job_init(&bg[i], sh, i, K_GATE, 0);
        bg[i].j.background = 1;
        cr_assert_eq(executor_submit(ex, &bg[i].j), 0);
    }
    wait_started(&bg[0]);
    job_init(&fg, sh, 9, K_LOG, 0);
    cr_assert_eq(executor_submit(ex, &fg.j), 0);
    drain(ex, sh, 1); /* the request's job ran while the background one held its worker */
    cr_assert_eq(sh->done_log[0], 9);
    cr_assert_not(atomic_load(&bg[1].started), "a second background job took the kept worker");
    executor_stats st = stats(ex);
    cr_assert_eq(st.bg_busy, 1);
    cr_assert_eq(st.bg_queued, 1);
    cr_assert_eq(st.bg_max, 1);
    atomic_store(&sh->gate, 1);
    drain(ex, sh, 3);
    executor_free(ex);
}

/* Without a reserve, background jobs take every worker (the old behaviour),
 * and the older head goes first between the two queues. */
Test(executor, background_and_request_jobs_run_oldest_first)
{
    shared *sh = shared_new();
    executor *ex = new_executor(1, 16);
    static tjob gate, a, b, c;
    job_init(&gate, sh, -1, K_GATE, 0);
    cr_assert_eq(executor_submit(ex, &gate.j), 0);
    wait_started(&gate);
    job_init(&a, sh, 1, K_LOG, 0);
    a.j.background = 1;
    job_init(&b, sh, 2, K_LOG, 0);
    job_init(&c, sh, 3, K_LOG, 0);
    c.j.background = 1;
    cr_assert_eq(executor_submit(ex, &a.j), 0);
    cr_assert_eq(executor_submit(ex, &b.j), 0);
    cr_assert_eq(executor_submit(ex, &c.j), 0);
    atomic_store(&sh->gate, 1);
    drain(ex, sh, 4);
    cr_assert_eq(sh->work_n, 3);
    cr_assert_eq(sh->work_log[0], 1);
    cr_assert_eq(sh->work_log[1], 2);
    cr_assert_eq(sh->work_log[2], 3);
    executor_free(ex);
}
