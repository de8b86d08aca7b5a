/*
 * timer.c - binary min-heap of timers ordered by (due_ns, seq).
 */
#include "timer.h"

#include <errno.h>
#include <stdlib.h>

static int less(const timer *a, const timer *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq_ < b->seq_);
}

static void place(timer_heap *h, size_t i, timer *t)
{
    h->v[i] = t;
    t->slot_ = i + 1;
}

static void sift_up(timer_heap *h, size_t i)
{
    timer *t = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!less(t, h->v[parent]))
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, t);
}

static void sift_down(timer_heap *h, size_t i)
{
    timer *t = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && less(h->v[c + 1], h->v[c]))
            c++;
        if (!less(h->v[c], t))
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, t);
}

void timer_heap_init(timer_heap *h)
{
    h->v = NULL;
    h->n = h->cap = 0;
    h->seq = 0;
    h->parked = NULL;
    h->nparked = 0;
}

void timer_heap_free(timer_heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->v[i]->slot_ = 0;
    for (timer *t = h->parked; t; t = t->park_next_)
        t->slot_ = 0;
    free(h->v);
    timer_heap_init(h);
}

static void park(timer_heap *h, timer *t)
{
    t->slot_ = TIMER_PARKED_;
    t->park_prev_ = NULL;
    t->park_next_ = h->parked;
    if (h->parked)
        h->parked->park_prev_ = t;
    h->parked = t;
    h->nparked++;
}

static void unpark(timer_heap *h, timer *t)
{
    if (t->park_prev_)
        t->park_prev_->park_next_ = t->park_next_;
    else
        h->parked = t->park_next_;
    if (t->park_next_)
        t->park_next_->park_prev_ = t->park_prev_;
    t->park_prev_ = t->park_next_ = NULL;
    t->slot_ = 0;
    h->nparked--;
}

static void remove_at(timer_heap *h, size_t i)
{
    timer *t = h->v[i];
    t->slot_ = 0;
    h->n--;
    if (i == h->n)
        return;
    timer *last = h->v[h->n];
    place(h, i, last);
    if (i > 0 && less(last, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

/* Disarms t, wherever it is. */
static void disarm(timer_heap *h, timer *t)
{
    if (t->slot_ == TIMER_PARKED_)
        unpark(h, t);
    else if (t->slot_)
        remove_at(h, t->slot_ - 1);
}

int timer_start(timer_heap *h, timer *t, uint64_t due_ns, timer_cb cb, void *data)
{
    disarm(h, t);
    /* room for the parked timers too: they go back into the heap after a run */
    if (h->n + h->nparked == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        timer **v = realloc(h->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    t->due_ns = due_ns;
    t->cb = cb;
    t->data = data;
    t->seq_ = h->seq++;
    h->v[h->n] = t;
    h->n++;
    sift_up(h, h->n - 1);
    return 0;
}

void timer_cancel(timer_heap *h, timer *t)
{
    disarm(h, t);
}

uint64_t timer_heap_next_due(const timer_heap *h)
{
    return h->n ? h->v[0]->due_ns : UINT64_MAX;
}

/*
 * A timer (re)armed by a callback of this run for a time already past may sit
 * at the top of the heap, in front of older timers that are due: it is parked
 * (held aside, still armed) so that the run goes on with the others, and put
 * back into the heap, unchanged, when the run ends.
 */
size_t timer_heap_run(timer_heap *h, uint64_t now_ns)
{
    uint64_t limit = h->seq; /* timers armed from here on wait for the next run */
    size_t fired = 0;
    while (h->n > 0) {
        timer *t = h->v[0];
        if (t->due_ns > now_ns)
            break;
        remove_at(h, 0);
        if (t->seq_ >= limit) {
            park(h, t);
            continue;
        }
        fired++;
        t->cb(t);
    }
    while (h->parked) { /* the array has room: timer_start counted them */
        timer *t = h->parked;
        unpark(h, t);
        h->v[h->n] = t;
        h->n++;
        sift_up(h, h->n - 1);
    }
    return fired;
}
