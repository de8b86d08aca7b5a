/*
 * timer.c - binary min-heap of timers ordered by (due_ns, seq).
 */
#include "timer.h"

#include <errno.h>
#include <stdlib.h>

static int less(const timer *a, const timer *b)
{
    return a->key_ < b->key_ || (a->key_ == b->key_ && a->seq_ < b->seq_);
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
        if (!less(t, h->v[parent])) break;
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
        if (c >= h->n) break;
        if (c + 1 < h->n && less(h->v[c + 1], h->v[c])) c++;
        if (!less(h->v[c], t)) break;
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
    h->floor = 0;
}

void timer_heap_free(timer_heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->v[i]->slot_ = 0;
    free(h->v);
    timer_heap_init(h);
}

static void remove_at(timer_heap *h, size_t i)
{
    timer *t = h->v[i];
    t->slot_ = 0;
    h->n--;
    if (i == h->n) return;
    timer *last = h->v[h->n];
    place(h, i, last);
    if (i > 0 && less(last, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

int timer_start(timer_heap *h, timer *t, uint64_t due_ns, timer_cb cb, void *data)
{
    if (t->slot_) remove_at(h, t->slot_ - 1);
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        timer **v = realloc(h->v, cap * sizeof(*v));
        if (!v) return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    t->due_ns = due_ns;
    /* Armed during a run for a time before it: order it as due at the run's
     * time, behind every timer that run must still fire. */
    t->key_ = due_ns > h->floor ? due_ns : h->floor;
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
    if (t->slot_) remove_at(h, t->slot_ - 1);
}

uint64_t timer_heap_next_due(const timer_heap *h)
{
    return h->n ? h->v[0]->key_ : UINT64_MAX;
}

size_t timer_heap_run(timer_heap *h, uint64_t now_ns)
{
    return timer_heap_run_some(h, now_ns, SIZE_MAX);
}

size_t timer_heap_run_some(timer_heap *h, uint64_t now_ns, size_t max)
{
    uint64_t limit = h->seq; /* timers armed from here on wait for the next run */
    size_t fired = 0;
    h->floor = now_ns;
    while (h->n > 0 && fired < max) {
        timer *t = h->v[0];
        if (t->key_ > now_ns || t->seq_ >= limit) break;
        remove_at(h, 0);
        fired++;
        t->cb(t);
    }
    h->floor = 0;
    return fired;
}
