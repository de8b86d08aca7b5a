/*
 * timer.h - a min-heap of one-shot timers (the loop's `asyncio.sleep`).
 *
 * Timers are caller-allocated and intrusive: the heap stores pointers and each
 * timer remembers its slot, so start, cancel and pop are O(log n). Ties on the
 * due time fire in start order (a monotonically increasing sequence number).
 * Not thread-safe: a heap belongs to one loop thread.
 */
#ifndef IOCPU_TIMER_H
#define IOCPU_TIMER_H

#include <stddef.h>
#include <stdint.h>

/* A timer must be zeroed (or never armed) before its first timer_start(). */
typedef struct timer timer;
typedef void (*timer_cb)(timer *t);

struct timer {
    /* public, read-only */
    uint64_t due_ns; /* absolute CLOCK_MONOTONIC time */
    /* public, read-write */
    timer_cb cb;
    void *data;
    /* private */
    uint64_t seq_;
    uint64_t key_; /* heap order: due_ns, or the running heap's now if armed for the past */
    size_t slot_;  /* index in the heap + 1; 0 = not armed */
};

typedef struct timer_heap {
    timer **v;
    size_t n, cap;
    uint64_t seq;
    uint64_t floor; /* during timer_heap_run: its now_ns; else 0 */
} timer_heap;

void timer_heap_init(timer_heap *h);
/* Frees the heap's array; armed timers are simply forgotten (not fired). */
void timer_heap_free(timer_heap *h);

/* Arms t to fire at due_ns (re-arms it if already armed). 0 or -ENOMEM. */
int timer_start(timer_heap *h, timer *t, uint64_t due_ns, timer_cb cb, void *data);
/* Disarms t; a no-op if it is not armed. */
void timer_cancel(timer_heap *h, timer *t);
static inline int timer_active(const timer *t)
{
    return t->slot_ != 0;
}

/* Due time of the earliest timer, or UINT64_MAX when the heap is empty. */
uint64_t timer_heap_next_due(const timer_heap *h);
static inline size_t timer_heap_count(const timer_heap *h)
{
    return h->n;
}

/*
 * Fires every timer due at or before now_ns that was armed before this call.
 * A callback may start or cancel any timer; one it (re)arms, even for a time
 * already past, waits for the next call, so a re-arming callback cannot starve
 * the loop. Returns the number of callbacks run.
 */
size_t timer_heap_run(timer_heap *h, uint64_t now_ns);
/* Like timer_heap_run(), firing at most max timers; the rest stay due. */
size_t timer_heap_run_some(timer_heap *h, uint64_t now_ns, size_t max);

#endif
