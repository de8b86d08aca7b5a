/*
 * loop.c - epoll event loop with a timer heap behind one timerfd.
 *
 * DESIGN
 * The loop thread owns the epoll set, the timer heap and the timerfd. Each
 * iteration: arm the timerfd for the earliest timer (only when that changed),
 * epoll_wait bounded by the hooks' max_wait_ms, dispatch ready watchers, run
 * due timers, then call the after_poll hook (which drives libmicrohttpd).
 * A watcher's memory must stay valid until the iteration that unwatched it
 * ends (http.c frees requests only inside after_poll, which is safe).
 * Cross-thread: loop_stop()/loop_wake() write an eventfd (non-blocking, the
 * counter coalesces wake-ups) and set an atomic flag; nothing else may be
 * called from another thread.
 */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
/* Due timers run per iteration at most; the rest run in the next one, after
 * the after-poll hook (libmicrohttpd sending what they answered) and without
 * sleeping. Thousands of sleepers due together then get their answers sent
 * progressively instead of all at the end of one long run, so their clients
 * do not come back in one burst again a second later (a burst that, with 10k
 * sleepers, otherwise persists and adds ~100 ms to every answer). */
#define TIMER_BATCH 128

struct loop {
    int epfd;
    timer_heap timers;
    loop_watcher timer_w; /* the timerfd */
    loop_watcher wake_w;  /* the eventfd used by loop_stop/loop_wake */
    uint64_t armed_ns;    /* what the timerfd is armed for, UINT64_MAX = disarmed */
    loop_hooks hooks;
    atomic_int stop;
};

uint64_t loop_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_timerfd(loop_watcher *w, uint32_t events)
{
    loop *l = w->data;
    uint64_t n;
    (void)events;
    while (read(w->fd, &n, sizeof(n)) > 0) {
    }
    l->armed_ns = UINT64_MAX; /* a one-shot timerfd is disarmed once it fired */
}

static void on_wake(loop_watcher *w, uint32_t events)
{
    uint64_t n;
    (void)events;
    while (read(w->fd, &n, sizeof(n)) > 0) {
    }
}

int loop_new(loop **out)
{
    int err;
    loop *l = calloc(1, sizeof(*l));
    if (!l) return -ENOMEM;
    timer_heap_init(&l->timers);
    l->armed_ns = UINT64_MAX;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) goto err_epoll;
    l->timer_w.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->timer_w.fd < 0) goto err_timerfd;
    l->wake_w.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wake_w.fd < 0) goto err_eventfd;
    l->timer_w.cb = on_timerfd;
    l->timer_w.data = l;
    l->wake_w.cb = on_wake;
    l->wake_w.data = l;
    if (loop_watch(l, &l->timer_w, EPOLLIN) < 0 || loop_watch(l, &l->wake_w, EPOLLIN) < 0)
        goto err_watch;
    *out = l;
    return 0;

err_watch:
    err = -errno;
    close(l->wake_w.fd);
    goto err_close_timerfd;
err_eventfd:
    err = -errno;
err_close_timerfd:
    close(l->timer_w.fd);
    goto err_close_epoll;
err_timerfd:
    err = -errno;
err_close_epoll:
    close(l->epfd);
    goto err_free;
err_epoll:
    err = -errno;
err_free:
    free(l);
    return err;
}

void loop_free(loop *l)
{
    if (!l) return;
    close(l->wake_w.fd);
    close(l->timer_w.fd);
    close(l->epfd);
    timer_heap_free(&l->timers);
    free(l);
}

void loop_set_hooks(loop *l, const loop_hooks *hooks)
{
    l->hooks = *hooks;
}

int loop_watch(loop *l, loop_watcher *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(l->epfd, w->active_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, w->fd, &ev) < 0)
        return -errno;
    w->active_ = 1;
    return 0;
}

void loop_unwatch(loop *l, loop_watcher *w)
{
    if (!w->active_) return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->active_ = 0;
}

int loop_timer_start(loop *l, timer *t, uint64_t delay_ns, timer_cb cb, void *data)
{
    return timer_start(&l->timers, t, loop_now_ns() + delay_ns, cb, data);
}

int loop_timer_start_at(loop *l, timer *t, uint64_t due_ns, timer_cb cb, void *data)
{
    return timer_start(&l->timers, t, due_ns, cb, data);
}

void loop_timer_cancel(loop *l, timer *t)
{
    timer_cancel(&l->timers, t);
}

size_t loop_timer_count(const loop *l)
{
    return timer_heap_count(&l->timers);
}

/* Keeps the one-shot timerfd armed for the earliest timer. */
static void arm_timerfd(loop *l)
{
    uint64_t due = timer_heap_next_due(&l->timers);
    if (due == l->armed_ns) return;
    struct itimerspec its = {0};
    if (due != UINT64_MAX) {
        if (due == 0) due = 1; /* 0 would disarm */
        its.it_value.tv_sec = (time_t)(due / 1000000000u);
        its.it_value.tv_nsec = (long)(due % 1000000000u);
    }
    timerfd_settime(l->timer_w.fd, TFD_TIMER_ABSTIME, &its, NULL);
    l->armed_ns = due;
}

int loop_run(loop *l)
{
    struct epoll_event evs[MAX_EVENTS];
    int more_due = 0;
    while (!atomic_load(&l->stop)) {
        arm_timerfd(l);
        int wait = l->hooks.max_wait_ms ? l->hooks.max_wait_ms(l->hooks.arg) : -1;
        if (more_due) wait = 0; /* timers left over from the last batch: no sleeping */
        int n = epoll_wait(l->epfd, evs, MAX_EVENTS, wait);
        if (n < 0 && errno != EINTR) return -errno;
        for (int i = 0; i < n; i++) {
            loop_watcher *w = evs[i].data.ptr;
            if (w->active_) /* an earlier callback of this batch may have unwatched it */
                w->cb(w, evs[i].events);
        }
        more_due = timer_heap_run_some(&l->timers, loop_now_ns(), TIMER_BATCH) == TIMER_BATCH;
        if (l->hooks.after_poll) l->hooks.after_poll(l->hooks.arg);
    }
    atomic_store(&l->stop, 0);
    return 0;
}

void loop_wake(loop *l)
{
    uint64_t one = 1;
    ssize_t r = write(l->wake_w.fd, &one, sizeof(one));
    (void)r; /* EAGAIN means a wake-up is already pending */
}

void loop_stop(loop *l)
{
    atomic_store(&l->stop, 1);
    loop_wake(l);
}
