/*
 * executor.c - worker pool with a bounded FIFO queue.
 *
 * DESIGN
 * Shared state, all guarded by `mu`: the waiting queue (intrusive doubly
 * linked, so a queued job can be cancelled in O(1)), the completed lists, the
 * counters and the job states. Workers sleep on `cv`, take the oldest job,
 * run work() without the lock, then append the job to the completed list of
 * its channel and write that channel's eventfd only when the list goes from
 * empty to non-empty (wake-ups coalesce). The thread that owns a channel (one
 * event loop) moves the whole list out under the lock and calls done() for
 * each job without the lock (libuv's threadpool does the same). Channels are
 * fixed at creation, so their array is never reallocated; one mutex for the
 * queue and every channel keeps the hand-off simple (a push is a few pointer
 * writes; loops only take it to drain or to submit). A job's cancel flag is atomic: set by the loop
 * thread, read by work() on a worker. Shutdown queues no marker job: under the lock it completes
 * every queued job as cancelled, flags the running ones, sets `stopping` and broadcasts; then it
 * joins.
 * Background jobs (tasks) wait in a queue of their own, so that the jobs of
 * requests never wait behind them for a worker kept for them: a worker takes
 * the older of the two heads, the background one only while fewer than
 * bg_max background jobs run (executor_set_reserve).
 */
#define _GNU_SOURCE
#include "executor.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { JOB_IDLE, JOB_QUEUED, JOB_RUNNING, JOB_FINISHED };

typedef struct worker_arg {
    executor *ex;
    int index;
    executor_job *current; /* the job it runs, guarded by mu */
} worker_arg;

/* Jobs handed back to one loop: guarded by mu; efd is written under mu and
 * read by the owning thread. */
typedef struct channel {
    list_node done; /* executor_job.link_ */
    int efd;
} channel;

struct executor {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    list_node queue;    /* waiting jobs of requests (executor_job.link_), oldest first */
    list_node bg_queue; /* waiting background jobs, oldest first */
    channel *chans;
    size_t nchans;
    size_t queued, busy, queue_cap, nworkers; /* queued and busy: every job */
    size_t bg_queued, bg_busy;                /* of which background jobs */
    size_t bg_queue_cap, bg_max;              /* what background jobs may take */
    uint64_t submitted, completed, rejected, cancelled;
    int stopping;
    int nice_delta;
    char prefix[16];            /* thread names: prefix + index (15 bytes kept) */
    executor_observer observer; /* set before jobs flow; read on done() threads */
    void *observer_arg;
    pthread_t *threads;
    worker_arg *args;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Called with mu held. */
static void unlink_queued(executor *ex, executor_job *j)
{
    list_remove(&j->link_);
    ex->queued--;
    if (j->background) ex->bg_queued--;
}

static executor_job *head_of(list_node *q)
{
    list_node *n = list_first(q);
    return n ? list_entry(n, executor_job, link_) : NULL;
}

/* Called with mu held: a waiting job (any), or NULL. */
static executor_job *first_queued(executor *ex)
{
    executor_job *j = head_of(&ex->queue);
    return j ? j : head_of(&ex->bg_queue);
}

/* Called with mu held: the job a free worker takes next, or NULL: the older
 * head, a background one only while background jobs may have another worker. */
static executor_job *next_job(executor *ex)
{
    executor_job *fg = head_of(&ex->queue);
    executor_job *bg = ex->bg_busy < ex->bg_max ? head_of(&ex->bg_queue) : NULL;
    if (!fg || !bg) return fg ? fg : bg;
    return bg->queued_ns < fg->queued_ns ? bg : fg;
}

/* Called with mu held: appends j to its channel's completed list, waking that
 * channel's loop if needed. */
static void push_done(executor *ex, executor_job *j)
{
    channel *c = &ex->chans[j->channel];
    j->state_ = JOB_FINISHED;
    if (list_empty(&c->done)) {
        uint64_t one = 1;
        ssize_t r = write(c->efd, &one, sizeof(one));
        (void)r; /* EAGAIN: the counter is saturated, the loop wakes anyway */
    }
    list_insert_tail(&c->done, &j->link_);
}

static void *worker_main(void *p)
{
    worker_arg *a = p;
    executor *ex = a->ex;
    char name[32];
    if (ex->nice_delta)
        setpriority(PRIO_PROCESS, (id_t)gettid(), getpriority(PRIO_PROCESS, 0) + ex->nice_delta);
    /* named only once reniced, so a thread listed by name has its final priority */
    snprintf(name, sizeof(name), "%s%d", ex->prefix, a->index);
    name[15] = '\0'; /* what the kernel keeps */
    pthread_setname_np(pthread_self(), name);

    pthread_mutex_lock(&ex->mu);
    for (;;) {
        executor_job *j;
        while (!(j = next_job(ex)) && !ex->stopping)
            pthread_cond_wait(&ex->cv, &ex->mu);
        if (!j) break; /* stopping and nothing queued */
        unlink_queued(ex, j);
        j->state_ = JOB_RUNNING;
        j->worker = a->index;
        a->current = j;
        ex->busy++;
        ex->bg_busy += j->background != 0;
        pthread_mutex_unlock(&ex->mu);

        j->started_ns = mono_ns();
        uint64_t cpu0 = thread_cpu_ns();
        j->work(j);
        j->cpu_ns = thread_cpu_ns() - cpu0;
        j->finished_ns = mono_ns();

        pthread_mutex_lock(&ex->mu);
        a->current = NULL;
        ex->busy--;
        ex->bg_busy -= j->background != 0;
        ex->completed++;
        push_done(ex, j);
    }
    pthread_mutex_unlock(&ex->mu);
    return NULL;
}

int executor_new(executor **out, size_t workers, size_t queue_cap, int nice_delta)
{
    return executor_new_channels(out, workers, queue_cap, nice_delta, 1);
}

static void close_channels(executor *ex)
{
    for (size_t i = 0; i < ex->nchans; i++)
        close(ex->chans[i].efd);
    free(ex->chans);
}

int executor_new_channels(executor **out, size_t workers, size_t queue_cap, int nice_delta,
                          size_t channels)
{
    return executor_new_named(out, "iocpu-worker", workers, queue_cap, nice_delta, channels);
}

int executor_new_named(executor **out, const char *prefix, size_t workers, size_t queue_cap,
                       int nice_delta, size_t channels)
{
    int err;
    if (workers < 1 || queue_cap < 1 || channels < 1) return -EINVAL;
    executor *ex = calloc(1, sizeof(*ex));
    if (!ex) return -ENOMEM;
    char name[sizeof(ex->prefix)];
    snprintf(name, sizeof(name), "%s", prefix);
    memcpy(ex->prefix, name, sizeof(name)); /* not snprintf() into ex: the analyzer then
                                               forgets what calloc() zeroed in it */
    list_init(&ex->queue);
    list_init(&ex->bg_queue);
    ex->queue_cap = ex->bg_queue_cap = queue_cap;
    ex->bg_max = workers;
    ex->nice_delta = nice_delta;
    ex->threads = calloc(workers, sizeof(*ex->threads));
    ex->args = calloc(workers, sizeof(*ex->args));
    ex->chans = calloc(channels, sizeof(*ex->chans));
    if (!ex->threads || !ex->args || !ex->chans) {
        err = -ENOMEM;
        goto err_alloc;
    }
    for (; ex->nchans < channels; ex->nchans++) {
        list_init(&ex->chans[ex->nchans].done);
        ex->chans[ex->nchans].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (ex->chans[ex->nchans].efd < 0) {
            err = -errno;
            goto err_alloc;
        }
    }
    pthread_mutex_init(&ex->mu, NULL);
    pthread_cond_init(&ex->cv, NULL);
    for (size_t i = 0; i < workers; i++) {
        ex->args[i].ex = ex;
        ex->args[i].index = (int)i;
        int rc = pthread_create(&ex->threads[i], NULL, worker_main, &ex->args[i]);
        if (rc) {
            err = -rc;
            goto err_threads;
        }
        ex->nworkers++;
    }
    *out = ex;
    return 0;

err_threads:
    executor_free(ex); /* joins the threads already started */
    return err;
err_alloc:
    close_channels(ex);
    free(ex->args);
    free(ex->threads);
    free(ex);
    return err;
}

void executor_free(executor *ex)
{
    if (!ex) return;
    pthread_mutex_lock(&ex->mu);
    ex->stopping = 1;
    executor_job *j;
    while ((j = first_queued(ex))) {
        unlink_queued(ex, j);
        ex->cancelled++;
        push_done(ex, j);
    }
    for (size_t i = 0; i < ex->nworkers; i++)
        if (ex->args[i].current)
            atomic_store_explicit(&ex->args[i].current->cancel, 1, memory_order_relaxed);
    pthread_cond_broadcast(&ex->cv);
    pthread_mutex_unlock(&ex->mu);
    for (size_t i = 0; i < ex->nworkers; i++)
        pthread_join(ex->threads[i], NULL);
    for (size_t i = 0; i < ex->nchans; i++)
        executor_channel_run_done(ex, i);
    close_channels(ex);
    pthread_cond_destroy(&ex->cv);
    pthread_mutex_destroy(&ex->mu);
    free(ex->args);
    free(ex->threads);
    free(ex);
}

void executor_set_reserve(executor *ex, size_t slots, size_t workers)
{
    pthread_mutex_lock(&ex->mu);
    ex->bg_queue_cap = slots < ex->queue_cap ? ex->queue_cap - slots : 1;
    ex->bg_max = workers < ex->nworkers ? ex->nworkers - workers : 1;
    pthread_mutex_unlock(&ex->mu);
}

int executor_submit(executor *ex, executor_job *j)
{
    if (j->channel >= ex->nchans) return -EINVAL; /* nchans never changes: no lock */
    pthread_mutex_lock(&ex->mu);
    if (ex->queued >= ex->queue_cap || ex->stopping ||
        (j->background && ex->queued >= ex->bg_queue_cap)) {
        ex->rejected++;
        pthread_mutex_unlock(&ex->mu);
        return -EAGAIN;
    }
    atomic_store_explicit(&j->cancel, 0, memory_order_relaxed);
    j->queued_ns = mono_ns();
    j->started_ns = j->finished_ns = j->cpu_ns = 0;
    j->worker = -1;
    j->state_ = JOB_QUEUED;
    list_insert_tail(j->background ? &ex->bg_queue : &ex->queue, &j->link_);
    ex->queued++;
    ex->bg_queued += j->background != 0;
    ex->submitted++;
    pthread_cond_signal(&ex->cv);
    pthread_mutex_unlock(&ex->mu);
    return 0;
}

int executor_cancel(executor *ex, executor_job *j)
{
    int rc;
    pthread_mutex_lock(&ex->mu);
    switch (j->state_) {
    case JOB_QUEUED:
        unlink_queued(ex, j);
        ex->cancelled++;
        push_done(ex, j);
        rc = 0;
        break;
    case JOB_RUNNING:
        if (!atomic_exchange_explicit(&j->cancel, 1, memory_order_relaxed))
            ex->cancelled++; /* count a job once, however often it is cancelled */
        rc = -EBUSY;
        break;
    default:
        rc = -EALREADY;
    }
    pthread_mutex_unlock(&ex->mu);
    return rc;
}

int executor_fd(const executor *ex)
{
    return executor_channel_fd(ex, 0);
}

size_t executor_run_done(executor *ex)
{
    return executor_channel_run_done(ex, 0);
}

size_t executor_channels(const executor *ex)
{
    return ex->nchans;
}

int executor_channel_fd(const executor *ex, size_t ch)
{
    return ch < ex->nchans ? ex->chans[ch].efd : -1;
}

size_t executor_channel_run_done(executor *ex, size_t ch)
{
    uint64_t n;
    if (ch >= ex->nchans) return 0;
    channel *c = &ex->chans[ch];
    while (read(c->efd, &n, sizeof(n)) > 0) {
    }
    list_node done, *node;
    list_init(&done);
    pthread_mutex_lock(&ex->mu);
    list_splice_tail(&done, &c->done);
    pthread_mutex_unlock(&ex->mu);
    size_t ran = 0;
    while ((node = list_first(&done))) {
        executor_job *j = list_entry(node, executor_job, link_);
        int status = j->started_ns ? 0 : -ECANCELED;
        j->state_ = JOB_IDLE;
        list_remove(node);
        if (ex->observer) ex->observer(ex->observer_arg, j, status);
        j->done(j, status); /* may free or resubmit j */
        ran++;
    }
    return ran;
}

void executor_set_observer(executor *ex, executor_observer fn, void *arg)
{
    ex->observer = fn;
    ex->observer_arg = arg;
}

void executor_get_stats(executor *ex, executor_stats *st)
{
    pthread_mutex_lock(&ex->mu);
    st->workers = ex->nworkers;
    st->queue_cap = ex->queue_cap;
    st->queued = ex->queued;
    st->busy = ex->busy;
    st->bg_queued = ex->bg_queued;
    st->bg_busy = ex->bg_busy;
    st->bg_queue_cap = ex->bg_queue_cap;
    st->bg_max = ex->bg_max;
    st->submitted = ex->submitted;
    st->completed = ex->completed;
    st->rejected = ex->rejected;
    st->cancelled = ex->cancelled;
    pthread_mutex_unlock(&ex->mu);
}
