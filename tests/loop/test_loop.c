/*
 * test_loop.c - the epoll loop (loop/loop.c) on real file descriptors and
 * real time. Bounds on time are wide: the test box is a noisy 2-core machine.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

TestSuite(loop, .timeout = 30);

#define MS 1000000ull

static loop *new_loop(void)
{
    loop *l = NULL;
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_not_null(l);
    return l;
}

static uint64_t proc_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- timers ---- */

typedef struct ltimer {
    timer t;
    loop *l;
    int id;
    int *order;
    int *n;
    uint64_t fired_ns;
    int stop; /* stop the loop when this one fires */
} ltimer;

static void on_ltimer(timer *t)
{
    ltimer *lt = t->data;
    lt->fired_ns = loop_now_ns();
    lt->order[(*lt->n)++] = lt->id;
    if (lt->stop) loop_stop(lt->l);
}

Test(loop, timers_fire_in_due_order_and_on_time)
{
    static const uint64_t delay_ms[] = {300, 100, 0, 200, 150};
    enum { N = sizeof(delay_ms) / sizeof(delay_ms[0]) };
    loop *l = new_loop();
    int order[N], n = 0;
    ltimer t[N];
    uint64_t t0 = loop_now_ns();
    for (int i = 0; i < N; i++) {
        t[i] = (ltimer){.l = l, .id = i, .order = order, .n = &n, .stop = delay_ms[i] == 300};
        cr_assert_eq(loop_timer_start(l, &t[i].t, delay_ms[i] * MS, on_ltimer, &t[i]), 0);
    }
    cr_assert_eq(loop_timer_count(l), N);
    uint64_t cpu0 = proc_cpu_ns();
    cr_assert_eq(loop_run(l), 0);
    uint64_t wall = loop_now_ns() - t0, cpu = proc_cpu_ns() - cpu0;

    cr_assert_eq(n, N);
    static const int expect[] = {2, 1, 4, 3, 0};
    for (int i = 0; i < N; i++)
        cr_assert_eq(order[i], expect[i], "fire #%d", i);
    for (int i = 0; i < N; i++) {
        uint64_t late = t[i].fired_ns - t0;
        cr_assert_geq(late, delay_ms[i] * MS, "timer %d fired early", i);
        cr_assert_lt(late, delay_ms[i] * MS + 2000 * MS, "timer %d fired far too late", i);
    }
    /* The loop sleeps in epoll_wait between timers instead of spinning. */
    cr_assert_lt(cpu, wall / 2, "loop used %llu ns of CPU in %llu ns", (unsigned long long)cpu,
                 (unsigned long long)wall);
    cr_assert_eq(loop_timer_count(l), 0);
    loop_free(l);
}

static void on_cancel_other(timer *t)
{
    ltimer *lt = t->data;
    on_ltimer(t);
    loop_timer_cancel(lt->l, (timer *)(lt + 1)); /* the next ltimer of the array */
}

Test(loop, cancelled_timer_never_fires)
{
    loop *l = new_loop();
    int order[3], n = 0;
    ltimer t[3];
    for (int i = 0; i < 3; i++)
        t[i] = (ltimer){.l = l, .id = i, .order = order, .n = &n, .stop = i == 2};
    /* t0 at 10 ms cancels t1 (50 ms, the timerfd may be armed for it); t2 stops at 150 ms. */
    cr_assert_eq(loop_timer_start(l, &t[0].t, 10 * MS, on_cancel_other, &t[0]), 0);
    cr_assert_eq(loop_timer_start(l, &t[1].t, 50 * MS, on_ltimer, &t[1]), 0);
    cr_assert_eq(loop_timer_start(l, &t[2].t, 150 * MS, on_ltimer, &t[2]), 0);
    cr_assert_eq(loop_run(l), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(order[0], 0);
    cr_assert_eq(order[1], 2);
    cr_assert(!timer_active(&t[1].t));
    loop_free(l);
}

Test(loop, timer_count)
{
    loop *l = new_loop();
    int order[4], n = 0;
    ltimer t[3];
    cr_assert_eq(loop_timer_count(l), 0);
    for (int i = 0; i < 3; i++) {
        t[i] = (ltimer){.l = l, .id = i, .order = order, .n = &n, .stop = i == 2};
        cr_assert_eq(loop_timer_start(l, &t[i].t, (uint64_t)(i + 1) * 10 * MS, on_ltimer, &t[i]),
                     0);
        cr_assert_eq(loop_timer_count(l), (size_t)i + 1);
    }
    cr_assert_eq(loop_timer_start(l, &t[0].t, 5 * MS, on_ltimer, &t[0]), 0);
    cr_assert_eq(loop_timer_count(l), 3, "re-arming does not add a timer");
    loop_timer_cancel(l, &t[1].t);
    cr_assert_eq(loop_timer_count(l), 2);
    loop_timer_cancel(l, &t[1].t);
    cr_assert_eq(loop_timer_count(l), 2);
    cr_assert_eq(loop_run(l), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(loop_timer_count(l), 0);
    loop_free(l);
}

/* A timer armed with delay 0 from a callback fires on a later iteration. */
typedef struct chain {
    timer t;
    loop *l;
    int left, fired;
} chain;

static void on_chain(timer *t)
{
    chain *c = t->data;
    c->fired++;
    if (--c->left > 0)
        cr_assert_eq(loop_timer_start(c->l, t, 0, on_chain, c), 0);
    else
        loop_stop(c->l);
}

Test(loop, zero_delay_rearm_chain_completes)
{
    loop *l = new_loop();
    chain c = {.l = l, .left = 1000};
    cr_assert_eq(loop_timer_start(l, &c.t, 0, on_chain, &c), 0);
    cr_assert_eq(loop_run(l), 0);
    cr_assert_eq(c.fired, 1000);
    loop_free(l);
}

/* ---- watchers ---- */

typedef struct pwatch {
    loop_watcher w;
    loop *l;
    int fired;
    uint32_t events;
    char got;
    int read_it; /* consume the byte */
    int unwatch; /* unwatch itself (and `other`) when fired */
    loop_watcher *other;
    int stop;
} pwatch;

static void on_pipe(loop_watcher *w, uint32_t events)
{
    pwatch *p = w->data;
    p->fired++;
    p->events = events;
    if (p->read_it) cr_assert_eq(read(w->fd, &p->got, 1), 1);
    if (p->unwatch) {
        loop_unwatch(p->l, w);
        if (p->other) loop_unwatch(p->l, p->other);
    }
    if (p->stop) loop_stop(p->l);
}

typedef struct writer {
    timer t;
    int fd;
} writer;

static void on_write(timer *t)
{
    writer *wr = t->data;
    cr_assert_eq(write(wr->fd, "x", 1), 1);
}

Test(loop, pipe_watcher_fires_when_readable)
{
    loop *l = new_loop();
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pwatch p = {.w = {.fd = fds[0], .cb = on_pipe}, .l = l, .read_it = 1, .stop = 1};
    p.w.data = &p;
    writer wr = {.fd = fds[1]};
    cr_assert_eq(loop_watch(l, &p.w, EPOLLIN), 0);
    uint64_t t0 = loop_now_ns();
    cr_assert_eq(loop_timer_start(l, &wr.t, 30 * MS, on_write, &wr), 0);
    cr_assert_eq(loop_run(l), 0);
    cr_assert_geq(loop_now_ns() - t0, 30 * MS, "watcher fired before the write");
    cr_assert_eq(p.fired, 1);
    cr_assert(p.events & EPOLLIN);
    cr_assert_eq(p.got, 'x');
    loop_unwatch(l, &p.w);
    loop_free(l);
    close(fds[0]);
    close(fds[1]);
}

static void on_stop_timer(timer *t)
{
    loop_stop(t->data);
}

Test(loop, unwatch_stops_a_level_triggered_watcher)
{
    loop *l = new_loop();
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], "x", 1), 1); /* never read: stays readable */
    pwatch p = {.w = {.fd = fds[0], .cb = on_pipe}, .l = l, .unwatch = 1};
    p.w.data = &p;
    timer stop = {0}; /* a timer must start zeroed (not armed) */
    cr_assert_eq(loop_watch(l, &p.w, EPOLLIN), 0);
    cr_assert_eq(loop_timer_start(l, &stop, 100 * MS, on_stop_timer, l), 0);
    cr_assert_eq(loop_run(l), 0);
    cr_assert_eq(p.fired, 1, "fired %d times after unwatch", p.fired);

    /* Watching again resumes it (still level-triggered, still readable). */
    p.unwatch = 0;
    p.stop = 1;
    cr_assert_eq(loop_watch(l, &p.w, EPOLLIN), 0);
    cr_assert_eq(loop_run(l), 0);
    cr_assert_eq(p.fired, 2);
    loop_unwatch(l, &p.w);
    loop_unwatch(l, &p.w); /* inactive: no-op */
    loop_free(l);
    close(fds[0]);
    close(fds[1]);
}

Test(loop, watcher_unwatched_earlier_in_the_same_batch_does_not_fire)
{
    loop *l = new_loop();
    int a[2], b[2];
    cr_assert_eq(pipe(a), 0);
    cr_assert_eq(pipe(b), 0);
    cr_assert_eq(write(a[1], "x", 1), 1);
    cr_assert_eq(write(b[1], "y", 1), 1);
    pwatch pa = {.w = {.fd = a[0], .cb = on_pipe}, .l = l, .unwatch = 1};
    pwatch pb = {.w = {.fd = b[0], .cb = on_pipe}, .l = l, .unwatch = 1};
    pa.w.data = &pa;
    pb.w.data = &pb;
    pa.other = &pb.w;
    pb.other = &pa.w;
    timer stop = {0}; /* a timer must start zeroed (not armed) */
    cr_assert_eq(loop_watch(l, &pa.w, EPOLLIN), 0);
    cr_assert_eq(loop_watch(l, &pb.w, EPOLLIN), 0);
    cr_assert_eq(loop_timer_start(l, &stop, 50 * MS, on_stop_timer, l), 0);
    cr_assert_eq(loop_run(l), 0);
    cr_assert_eq(pa.fired + pb.fired, 1, "a=%d b=%d", pa.fired, pb.fired);
    loop_free(l);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* An earlier timer armed from a watcher callback re-arms the timerfd. */
typedef struct arm_on_read {
    loop_watcher w;
    loop *l;
    ltimer *t;
} arm_on_read;

static void on_read_arm(loop_watcher *w, uint32_t events)
{
    arm_on_read *a = w->data;
    char c;
    cr_assert_eq(read(w->fd, &c, 1), 1);
    loop_unwatch(a->l, w);
    cr_assert_eq(loop_timer_start(a->l, &a->t->t, 10 * MS, on_ltimer, a->t), 0);
}

typedef struct late_writer {
    int fd;
    unsigned delay_ms;
} late_writer;

static void *write_later(void *arg)
{
    late_writer *lw = arg;
    usleep(lw->delay_ms * 1000);
    cr_assert_eq(write(lw->fd, "x", 1), 1);
    return NULL;
}

Test(loop, earlier_timer_added_while_waiting_fires_first)
{
    loop *l = new_loop();
    int fds[2], order[2], n = 0;
    cr_assert_eq(pipe(fds), 0);
    ltimer slow = {.l = l, .id = 0, .order = order, .n = &n, .stop = 1};
    ltimer quick = {.l = l, .id = 1, .order = order, .n = &n};
    arm_on_read a = {.w = {.fd = fds[0], .cb = on_read_arm}, .l = l, .t = &quick};
    a.w.data = &a;
    late_writer lw = {fds[1], 50};
    pthread_t th;
    uint64_t t0 = loop_now_ns();
    cr_assert_eq(loop_timer_start(l, &slow.t, 1000 * MS, on_ltimer, &slow), 0);
    cr_assert_eq(loop_watch(l, &a.w, EPOLLIN), 0);
    cr_assert_eq(pthread_create(&th, NULL, write_later, &lw), 0);
    cr_assert_eq(loop_run(l), 0); /* the timerfd is armed for `slow` meanwhile */
    pthread_join(th, NULL);
    cr_assert_eq(n, 2);
    cr_assert_eq(order[0], 1);
    uint64_t q = quick.fired_ns - t0, s = slow.fired_ns - t0;
    cr_assert_lt(q, s / 2, "quick timer waited for the slow one: %llu vs %llu ms",
                 (unsigned long long)(q / MS), (unsigned long long)(s / MS));
    loop_free(l);
    close(fds[0]);
    close(fds[1]);
}

/* ---- loop_stop ---- */

typedef struct stopper {
    loop *l;
    unsigned delay_ms;
} stopper;

static void *stop_later(void *arg)
{
    stopper *s = arg;
    usleep(s->delay_ms * 1000);
    loop_stop(s->l);
    return NULL;
}

Test(loop, stop_from_another_thread)
{
    loop *l = new_loop();
    stopper s = {l, 100};
    pthread_t th;
    uint64_t t0 = loop_now_ns();
    cr_assert_eq(pthread_create(&th, NULL, stop_later, &s), 0);
    /* Nothing registered: only the wake-up can make loop_run return. */
    cr_assert_eq(loop_run(l), 0);
    uint64_t took = loop_now_ns() - t0;
    pthread_join(th, NULL);
    cr_assert_geq(took, 100 * MS, "returned before loop_stop was called");
    cr_assert_lt(took, 5000 * MS);
    loop_free(l);
}

Test(loop, stop_before_run_and_reuse)
{
    loop *l = new_loop();
    loop_stop(l);
    uint64_t t0 = loop_now_ns();
    cr_assert_eq(loop_run(l), 0); /* returns at once */
    cr_assert_lt(loop_now_ns() - t0, 2000 * MS);

    /* The stop request was consumed: the next run waits for the timer. */
    timer stop = {0}; /* a timer must start zeroed (not armed) */
    t0 = loop_now_ns();
    cr_assert_eq(loop_timer_start(l, &stop, 50 * MS, on_stop_timer, l), 0);
    cr_assert_eq(loop_run(l), 0);
    cr_assert_geq(loop_now_ns() - t0, 50 * MS);
    cr_assert(!timer_active(&stop));
    loop_free(l);
}

/* ---- hooks ---- */

typedef struct hookstate {
    loop *l;
    int waits, polls;
} hookstate;

static int hook_wait(void *arg)
{
    ((hookstate *)arg)->waits++;
    return 5;
}

static void hook_after(void *arg)
{
    hookstate *h = arg;
    if (++h->polls == 5) loop_stop(h->l);
}

Test(loop, hooks_bound_the_wait_and_run_every_iteration)
{
    loop *l = new_loop();
    hookstate hs = {.l = l};
    loop_hooks hooks = {.max_wait_ms = hook_wait, .after_poll = hook_after, .arg = &hs};
    loop_set_hooks(l, &hooks);
    /* No fd, no timer: only the 5 ms max wait lets iterations happen. */
    cr_assert_eq(loop_run(l), 0);
    cr_assert_eq(hs.polls, 5);
    cr_assert_eq(hs.waits, 5);
    loop_free(l);
}

typedef struct burst {
    loop *l;
    int fired, polls, fired_at_first_poll;
} burst;

static void on_burst_timer(timer *t)
{
    burst *b = t->data;
    b->fired++;
}

static void burst_after(void *arg)
{
    burst *b = arg;
    if (++b->polls == 1) b->fired_at_first_poll = b->fired;
    if (b->fired == 1000) loop_stop(b->l);
}

/* 1000 timers due at once fire in batches with the after-poll hook (the
 * HTTP sends) between them, and without the loop sleeping in between. */
Test(loop, a_burst_of_due_timers_is_run_in_batches_without_sleeping)
{
    loop *l = new_loop();
    burst b = {.l = l};
    loop_hooks hooks = {.after_poll = burst_after, .arg = &b};
    loop_set_hooks(l, &hooks);
    static timer t[1000];
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(loop_timer_start(l, &t[i], 1000000, on_burst_timer, &b), 0);
    usleep(5000); /* every one of them is due before the loop starts */
    uint64_t t0 = loop_now_ns();
    cr_assert_eq(loop_run(l), 0);
    double ms = (double)(loop_now_ns() - t0) / 1e6;
    cr_assert_eq(b.fired, 1000);
    cr_assert_lt(b.fired_at_first_poll, 1000, "all fired before the first after-poll");
    cr_assert_gt(b.fired_at_first_poll, 0);
    cr_assert_geq(b.polls, 4, "%d after-polls for 1000 timers", b.polls);
    cr_assert_lt(ms, 1000, "took %.1f ms: the loop slept between batches", ms);
    loop_free(l);
}
