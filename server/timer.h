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
    size_t slot_; /* index in the heap + 1, or TIMER_PARKED_; 0 = not armed */
    timer *park_prev_, *park_next_;
};

/* slot_ of a timer re-armed for a past time during timer_heap_run(): it is
 * held aside until that run ends, then goes back into the heap. */
#define TIMER_PARKED_ SIZE_MAX

typedef struct timer_heap {
    timer **v;
    size_t n, cap;
    uint64_t seq;
    timer *parked; /* only non-empty inside timer_heap_run() */
    size_t nparked;
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
    return h->n + h->nparked;
}

/*
 * Fires every timer due at or before now_ns that was armed before this call.
 * A callback may start or cancel any timer; one it (re)arms, even for a time
 * already past, waits for the next call, so a re-arming callback cannot starve
 * the loop. Returns the number of callbacks run.
 */
size_t timer_heap_run(timer_heap *h, uint64_t now_ns);

#endif
