/*
 * loop.h - the event loop: one thread, one epoll set, one timerfd for a heap
 * of timers (the asyncio loop of the lesson).
 *
 * Everything here runs on the thread that calls loop_run(), except
 * loop_stop(), which any thread or a signal handler may call.
 */
#ifndef IOCPU_LOOP_H
#define IOCPU_LOOP_H

#include <math.h>
#include <stdint.h>

#include "timer.h"

typedef struct loop loop;
typedef struct loop_watcher loop_watcher;
typedef void (*loop_io_cb)(loop_watcher *w, uint32_t events);

/* A file descriptor watched by the loop; caller-allocated. */
struct loop_watcher {
    int fd;
    loop_io_cb cb;
    void *data;
    int active_; /* private */
};

/* Hooks run once per iteration around epoll_wait (used to drive libmicrohttpd). */
typedef struct loop_hooks {
    /* Longest wait in ms before the next iteration, -1 for no limit. */
    int (*max_wait_ms)(void *arg);
    /* Runs after the ready watchers and due timers of every iteration. */
    void (*after_poll)(void *arg);
    void *arg;
} loop_hooks;

/* Creates a loop. 0 or a negative errno. */
int loop_new(loop **out);
/* Frees the loop; watchers and timers still registered are forgotten. */
void loop_free(loop *l);
void loop_set_hooks(loop *l, const loop_hooks *hooks);

/* Watch w->fd for the epoll events mask (level-triggered). 0 or -errno. */
int loop_watch(loop *l, loop_watcher *w, uint32_t events);
/* Stop watching; a no-op if inactive. */
void loop_unwatch(loop *l, loop_watcher *w);

/* Current CLOCK_MONOTONIC time in ns. */
uint64_t loop_now_ns(void);
/* Seconds between two monotonic readings, rounded to the microsecond. */
static inline double secs_between(uint64_t from_ns, uint64_t to_ns)
{
    return round((double)(to_ns - from_ns) / 1e3) / 1e6;
}
static inline double secs_since(uint64_t from_ns)
{
    return secs_between(from_ns, loop_now_ns());
}
static inline uint64_t secs_to_ns(double s)
{
    return (uint64_t)llround(s * 1e9);
}

/* Arms t to fire delay_ns from now on this loop. 0 or -ENOMEM. */
int loop_timer_start(loop *l, timer *t, uint64_t delay_ns, timer_cb cb, void *data);
/* Arms t to fire at the absolute CLOCK_MONOTONIC time due_ns (loop_now_ns()
 * plus a delay). Timers with equal due times fire in the order they were
 * armed, as asyncio's call_later does. 0 or -ENOMEM. */
int loop_timer_start_at(loop *l, timer *t, uint64_t due_ns, timer_cb cb, void *data);
void loop_timer_cancel(loop *l, timer *t);
size_t loop_timer_count(const loop *l);

/* Runs until loop_stop(). Returns 0, or a negative errno if epoll fails. */
int loop_run(loop *l);
/* Asks the loop to return from loop_run(); async-signal-safe, any thread. */
void loop_stop(loop *l);
/* Wakes the loop from another thread or a signal handler (async-signal-safe). */
void loop_wake(loop *l);

#endif
