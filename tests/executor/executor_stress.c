/*
 * executor_stress.c - a plain driver (no criterion, so it also runs under
 * ThreadSanitizer) that hammers the executor from one "loop" thread:
 * thousands of small jobs, a bounded queue that keeps filling up, random
 * cancels of queued and running jobs, completions drained with poll() on
 * executor_fd() + executor_run_done(), a thread reading the stats, and a
 * shutdown with jobs still queued and running. It checks that every done()
 * ran exactly once, on this thread, with the right status, and that the
 * counters add up. A second phase runs one executor for several "loop"
 * threads (completion channels, as --loops N uses it): each thread submits,
 * cancels and drains its own jobs concurrently with the others, and every
 * done() must come back on the thread that owns the job's channel. Exit
 * status 0 only if every check passed.
 *
 * usage: executor_stress [seed]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu_heavy.h" /* iocpu_executor exports no include path */
#include "executor.h"

#define WORKERS 4
#define QUEUE_CAP 64
#define NJOBS 6000
#define NFINAL (WORKERS + QUEUE_CAP / 2)

static _Atomic long passed, failed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            if (failed <= 20) {                                                                    \
                fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                    \
                fprintf(stderr, __VA_ARGS__);                                                      \
                fputc('\n', stderr);                                                               \
            }                                                                                      \
        }                                                                                          \
    } while (0)

enum { NOT_CANCELLED = 1 };

typedef struct sjob {
    executor_job j; /* first: work() and done() cast back */
    int id;
    int64_t n;
    uint64_t iterations; /* 0 with burn_ms > 0: a longer, time-based job */
    uint64_t burn_ms;
    /* worker side */
    atomic_int ran;
    int work_rc;
    cpu_heavy_out out;
    /* loop-thread side */
    int submitted, cancel_rc, done_count, status, cancel_seen;
} sjob;

static sjob jobs[NJOBS + NFINAL];
static pthread_t loop_thread;
static long done_total;

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Python's sum((i * n) % 7 for i in range(iterations)), independently. */
static uint64_t reference(int64_t n, uint64_t iterations)
{
    uint64_t s = iterations / 7 * (n % 7 ? 21u : 0u);
    for (uint64_t i = iterations / 7 * 7; i < iterations; i++) {
        int r = (int)(((__int128)i * n) % 7);
        s += (uint64_t)(r < 0 ? r + 7 : r);
    }
    return s;
}

static void work(executor_job *ej)
{
    sjob *s = (sjob *)ej;
    atomic_store(&s->ran, 1);
    if (s->burn_ms)
        s->work_rc = cpu_heavy_burn(s->n, s->burn_ms, &ej->cancel, &s->out);
    else
        s->work_rc = cpu_heavy(s->n, s->iterations, &ej->cancel, &s->out);
}

static void done(executor_job *ej, int status)
{
    sjob *s = (sjob *)ej;
    s->done_count++;
    s->status = status;
    s->cancel_seen = atomic_load(&ej->cancel);
    done_total++;
    CHECK(pthread_equal(pthread_self(), loop_thread), "job %d: done() on another thread", s->id);
    CHECK(s->done_count == 1, "job %d: done() ran %d times", s->id, s->done_count);
    CHECK(s->submitted, "job %d: done() for a job never accepted", s->id);
    if (s->cancel_rc == 0) { /* removed from the queue */
        CHECK(status == -ECANCELED, "job %d: status %d after a queued cancel", s->id, status);
        CHECK(!atomic_load(&s->ran), "job %d: ran although cancelled while queued", s->id);
        CHECK(ej->worker == -1, "job %d: worker %d", s->id, ej->worker);
        return;
    }
    CHECK(status == 0, "job %d: status %d (cancel_rc %d)", s->id, status, s->cancel_rc);
    CHECK(atomic_load(&s->ran), "job %d: status 0 but work() never ran", s->id);
    CHECK(ej->worker >= 0 && ej->worker < WORKERS, "job %d: worker %d", s->id, ej->worker);
    CHECK(ej->queued_ns <= ej->started_ns && ej->started_ns <= ej->finished_ns,
          "job %d: timestamps out of order", s->id);
    CHECK(s->out.sum == reference(s->n, s->out.iterations), "job %d: sum %" PRIu64 " wrong", s->id,
          s->out.sum);
    if (s->cancel_rc == -EBUSY)
        CHECK(s->cancel_seen, "job %d: running cancel did not set the flag", s->id);
    if (s->work_rc == -ECANCELED)
        CHECK(s->cancel_seen, "job %d: stopped early without a cancel", s->id);
    else
        CHECK(s->work_rc == 0 && (s->burn_ms || s->out.iterations == s->iterations),
              "job %d: rc %d, %" PRIu64 " of %" PRIu64 " iterations", s->id, s->work_rc,
              s->out.iterations, s->iterations);
}

static void job_init(sjob *s, int id)
{
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->n = (int64_t)rnd();
    s->cancel_rc = NOT_CANCELLED;
    if (rnd() % 10 == 0)
        s->burn_ms = 1 + rnd() % 3;
    else
        s->iterations = rnd() % 3000;
    s->j.work = work;
    s->j.done = done;
    s->j.data = s;
}

static size_t drain(executor *ex, int timeout_ms)
{
    struct pollfd pfd = {.fd = executor_fd(ex), .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms);
    CHECK(r >= 0, "poll: %s", strerror(errno));
    return executor_run_done(ex);
}

/* A second thread reads the stats concurrently (as /metrics might). */
static atomic_int monitor_stop;
static long monitor_reads;
static long monitor_bad;

static void *monitor(void *arg)
{
    executor *ex = arg;
    while (!atomic_load(&monitor_stop)) {
        executor_stats st;
        executor_get_stats(ex, &st);
        if (st.busy > WORKERS || st.queued > QUEUE_CAP || st.workers != WORKERS ||
            st.completed + st.queued + st.busy > st.submitted)
            monitor_bad++;
        monitor_reads++;
        sched_yield();
    }
    return NULL;
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

/* --- phase 3: several loops, one executor (completion channels) --------- */

#define CHANNELS 3
#define CH_JOBS 1500

typedef struct cjob {
    executor_job j; /* first */
    int id;
    uint64_t iterations;
    atomic_int ran;
    cpu_heavy_out out;
    int work_rc;
    /* owner thread only */
    int done_count, cancel_rc, submitted;
} cjob;

typedef struct chan_loop {
    executor *ex;
    unsigned channel;
    pthread_t thread;
    uint64_t rng;
    cjob jobs[CH_JOBS];
    long done, accepted, cancel_queued, cancel_running;
} chan_loop;

static __thread chan_loop *current_loop; /* the loop running on this thread */

static uint64_t crnd(chan_loop *cl)
{
    cl->rng ^= cl->rng << 13;
    cl->rng ^= cl->rng >> 7;
    cl->rng ^= cl->rng << 17;
    return cl->rng;
}

static void cwork(executor_job *ej)
{
    cjob *c = (cjob *)ej;
    atomic_store(&c->ran, 1);
    c->work_rc = cpu_heavy(3, c->iterations, &ej->cancel, &c->out);
}

static void cdone(executor_job *ej, int status)
{
    cjob *c = (cjob *)ej;
    chan_loop *cl = current_loop;
    CHECK(cl && ej->channel == cl->channel, "job %d of channel %u: done() on loop %d", c->id,
          ej->channel, cl ? (int)cl->channel : -1);
    if (!cl) return;
    c->done_count++;
    cl->done++;
    CHECK(c->done_count == 1, "channel %u job %d: done() ran %d times", cl->channel, c->id,
          c->done_count);
    if (c->cancel_rc == 0)
        CHECK(status == -ECANCELED && !atomic_load(&c->ran), "channel %u job %d: status %d",
              cl->channel, c->id, status);
    else
        CHECK(status == 0 && atomic_load(&c->ran) &&
                  (c->work_rc == -ECANCELED || c->out.sum == reference(3, c->iterations)),
              "channel %u job %d: status %d rc %d", cl->channel, c->id, status, c->work_rc);
}

static void *chan_loop_main(void *p)
{
    chan_loop *cl = p;
    current_loop = cl;
    int next = 0;
    double t0 = now_s();
    while ((next < CH_JOBS || cl->done < cl->accepted) && now_s() - t0 < 120) {
        if (next < CH_JOBS) {
            cjob *c = &cl->jobs[next];
            memset(c, 0, sizeof(*c));
            c->id = next;
            c->iterations = crnd(cl) % 4000;
            c->cancel_rc = NOT_CANCELLED;
            c->j.work = cwork;
            c->j.done = cdone;
            c->j.data = c;
            c->j.channel = cl->channel;
            int rc = executor_submit(cl->ex, &c->j);
            CHECK(rc == 0 || rc == -EAGAIN, "channel %u submit: %d", cl->channel, rc);
            if (rc == 0) {
                c->submitted = 1;
                cl->accepted++;
                next++;
            }
        }
        if (next > 0 && crnd(cl) % 5 == 0) {
            cjob *c = &cl->jobs[crnd(cl) % (uint64_t)next];
            if (c->submitted && !c->done_count && c->cancel_rc == NOT_CANCELLED) {
                c->cancel_rc = executor_cancel(cl->ex, &c->j);
                if (c->cancel_rc == 0) cl->cancel_queued++;
                if (c->cancel_rc == -EBUSY) cl->cancel_running++;
            }
        }
        struct pollfd pfd = {.fd = executor_channel_fd(cl->ex, cl->channel), .events = POLLIN};
        poll(&pfd, 1, next < CH_JOBS ? 0 : 20);
        executor_channel_run_done(cl->ex, cl->channel);
    }
    current_loop = NULL;
    return NULL;
}

/* One executor, CHANNELS loop threads working it at once. */
static void channels_phase(void)
{
    executor *ex;
    int rc = executor_new_channels(&ex, WORKERS, QUEUE_CAP, 0, CHANNELS);
    CHECK(rc == 0, "executor_new_channels: %d", rc);
    if (rc) return;
    CHECK(executor_channels(ex) == CHANNELS, "%zu channels", executor_channels(ex));
    CHECK(executor_channel_fd(ex, CHANNELS) == -1, "fd of a channel that does not exist");
    executor_job stray = {.work = cwork, .done = cdone, .channel = CHANNELS};
    CHECK(executor_submit(ex, &stray) == -EINVAL, "a job for a missing channel was queued");
    static chan_loop loops[CHANNELS];
    for (unsigned i = 0; i < CHANNELS; i++) {
        loops[i].ex = ex;
        loops[i].channel = i;
        loops[i].rng = 0x9e3779b97f4a7c15ull * (i + 1);
        loops[i].done = loops[i].accepted = 0;
        CHECK(pthread_create(&loops[i].thread, NULL, chan_loop_main, &loops[i]) == 0, "create");
    }
    long accepted = 0, cq = 0, cr = 0;
    for (unsigned i = 0; i < CHANNELS; i++) {
        pthread_join(loops[i].thread, NULL);
        CHECK(loops[i].accepted == CH_JOBS && loops[i].done == CH_JOBS,
              "channel %u: %ld accepted, %ld done", i, loops[i].accepted, loops[i].done);
        for (int k = 0; k < CH_JOBS; k++)
            CHECK(loops[i].jobs[k].done_count == 1, "channel %u job %d: done %d times", i, k,
                  loops[i].jobs[k].done_count);
        accepted += loops[i].accepted;
        cq += loops[i].cancel_queued;
        cr += loops[i].cancel_running;
    }
    executor_stats st;
    executor_get_stats(ex, &st);
    CHECK(st.submitted == (uint64_t)accepted, "submitted %" PRIu64 " vs %ld", st.submitted,
          accepted);
    CHECK(st.completed == (uint64_t)(accepted - cq), "completed %" PRIu64, st.completed);
    CHECK(st.cancelled == (uint64_t)(cq + cr), "cancelled %" PRIu64, st.cancelled);
    executor_free(ex);
    printf("executor_stress: channels=%d jobs=%ld cancels: queued=%ld running=%ld\n", CHANNELS,
           accepted, cq, cr);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eed1234abcdull;
    rng = seed ? seed : 1;
    loop_thread = pthread_self();
    double t0 = now_s();
    int threads0 = worker_threads();

    executor *ex = NULL;
    int rc = executor_new(&ex, WORKERS, QUEUE_CAP, 0);
    CHECK(rc == 0, "executor_new: %d", rc);
    if (rc) return 1;
    /* Workers name themselves once they run: give them a moment. */
    for (double w = now_s(); worker_threads() != threads0 + WORKERS && now_s() - w < 10;) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(worker_threads() == threads0 + WORKERS, "%d threads, expected %d", worker_threads(),
          threads0 + WORKERS);
    pthread_t mon;
    CHECK(pthread_create(&mon, NULL, monitor, ex) == 0, "pthread_create");

    /* Phase 1: submit everything, draining and cancelling along the way. */
    long accepted = 0, rejected = 0, cancel_queued = 0, cancel_running = 0, cancel_late = 0;
    int next = 0;
    job_init(&jobs[0], 0);
    while (next < NJOBS || done_total < accepted) {
        if (next < NJOBS) {
            rc = executor_submit(ex, &jobs[next].j);
            if (rc == 0) {
                jobs[next].submitted = 1;
                accepted++;
                if (++next < NJOBS) job_init(&jobs[next], next);
            } else {
                CHECK(rc == -EAGAIN, "submit: %d", rc);
                rejected++;
                drain(ex, 20); /* full: wait for room */
            }
        } else {
            drain(ex, 50);
        }
        /* Cancel a random recent job that has not completed yet. */
        if (next > 0 && rnd() % 6 == 0) {
            int lo = next > QUEUE_CAP + 2 * WORKERS ? next - (QUEUE_CAP + 2 * WORKERS) : 0;
            sjob *s = &jobs[lo + (int)(rnd() % (uint64_t)(next - lo))];
            if (s->submitted && s->done_count == 0 && s->cancel_rc == NOT_CANCELLED) {
                s->cancel_rc = executor_cancel(ex, &s->j);
                if (s->cancel_rc == 0)
                    cancel_queued++;
                else if (s->cancel_rc == -EBUSY)
                    cancel_running++;
                else
                    cancel_late++;
                CHECK(s->cancel_rc == 0 || s->cancel_rc == -EBUSY || s->cancel_rc == -EALREADY,
                      "cancel: %d", s->cancel_rc);
            }
        }
        if (rnd() % 4 == 0) executor_run_done(ex);
        if (now_s() - t0 > 120) {
            CHECK(0, "phase 1 is taking too long (%ld of %ld done)", done_total, accepted);
            break;
        }
    }

    executor_stats st;
    executor_get_stats(ex, &st);
    CHECK(accepted == NJOBS, "accepted %ld", accepted);
    CHECK(done_total == NJOBS, "done %ld", done_total);
    CHECK(st.submitted == (uint64_t)accepted, "submitted %" PRIu64 " vs %ld", st.submitted,
          accepted);
    CHECK(st.rejected == (uint64_t)rejected, "rejected %" PRIu64 " vs %ld", st.rejected, rejected);
    CHECK(st.cancelled == (uint64_t)(cancel_queued + cancel_running), "cancelled %" PRIu64,
          st.cancelled);
    CHECK(st.completed == (uint64_t)(accepted - cancel_queued), "completed %" PRIu64, st.completed);
    CHECK(st.queued == 0 && st.busy == 0, "queued %zu busy %zu", st.queued, st.busy);
    for (int i = 0; i < NJOBS; i++)
        CHECK(jobs[i].done_count == 1, "job %d: done() ran %d times", i, jobs[i].done_count);

    /* Phase 2: shut down with every worker busy and jobs still queued. */
    for (int i = 0; i < NFINAL; i++) {
        sjob *s = &jobs[NJOBS + i];
        job_init(s, NJOBS + i);
        s->burn_ms = i < WORKERS ? 60000 : 0; /* the first ones run until cancelled */
        s->iterations = 1000;
        CHECK(executor_submit(ex, &s->j) == 0, "final submit %d", i);
        s->submitted = 1;
        if (i == WORKERS - 1) /* wait until all the long ones run */
            for (int k = 0; k < WORKERS; k++)
                for (double w = now_s(); !atomic_load(&jobs[NJOBS + k].ran);) {
                    struct timespec ms = {0, 1000000};
                    nanosleep(&ms, NULL);
                    if (now_s() - w > 30) {
                        CHECK(0, "long job %d never started", k);
                        break;
                    }
                }
    }
    atomic_store(&monitor_stop, 1);
    pthread_join(mon, NULL);
    double tf = now_s();
    long before_free = done_total;
    /* done() expects a queued cancel to have cancel_rc 0: mark the queued ones. */
    for (int i = WORKERS; i < NFINAL; i++)
        jobs[NJOBS + i].cancel_rc = 0;
    executor_free(ex);
    double free_s = now_s() - tf;
    CHECK(free_s < 10, "executor_free took %.2f s", free_s);
    CHECK(done_total - before_free == NFINAL, "free ran %ld done()", done_total - before_free);
    for (int i = 0; i < NFINAL; i++) {
        sjob *s = &jobs[NJOBS + i];
        CHECK(s->done_count == 1, "final job %d: done() ran %d times", i, s->done_count);
        if (i < WORKERS)
            CHECK(s->status == 0 && s->cancel_seen && s->work_rc == -ECANCELED,
                  "running job %d at shutdown: status %d flag %d rc %d", i, s->status,
                  s->cancel_seen, s->work_rc);
        else
            CHECK(s->status == -ECANCELED, "queued job %d at shutdown: %d", i, s->status);
    }
    CHECK(worker_threads() == threads0, "%d threads left, expected %d", worker_threads(), threads0);
    CHECK(monitor_bad == 0 && monitor_reads > 0, "monitor: %ld bad of %ld reads", monitor_bad,
          monitor_reads);

    printf("executor_stress: seed=%#" PRIx64 " jobs=%d rejected=%ld cancels: queued=%ld "
           "running=%ld late=%ld stats reads=%ld in %.2f s\n",
           seed, NJOBS + NFINAL, rejected, cancel_queued, cancel_running, cancel_late,
           monitor_reads, now_s() - t0);
    channels_phase();
    printf("executor_stress: %ld checks held, %ld failed\n", passed, failed);
    return failed ? 1 : 0;
}
