/*
 * timer.c - binary min-heap of timers ordered by (due_ns, seq).
 *
 * A timer armed by a callback during timer_heap_run() does not enter the heap
 * until that run ends: it waits in the `later` array (its slot_ indexes that
 * array, deferred_ says which). So a callback that re-arms itself for a time
 * already past neither fires twice in one run nor, sitting at the top of the
 * heap, hides other due timers from the run.
 */
#include "timer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    memset(h, 0, sizeof(*h));
}

void timer_heap_free(timer_heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->v[i]->slot_ = 0;
    for (size_t i = 0; i < h->nlater; i++) {
        h->later[i]->slot_ = 0;
        h->later[i]->deferred_ = 0;
    }
    free(h->v);
    free(h->later);
    timer_heap_init(h);
}

static int grow(timer ***v, size_t *cap, size_t n)
{
    if (n < *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    timer **nv = realloc(*v, ncap * sizeof(*nv));
    if (!nv) return -ENOMEM;
    *v = nv;
    *cap = ncap;
    return 0;
}

static void remove_later(timer_heap *h, timer *t)
{
    size_t i = t->slot_ - 1;
    t->slot_ = 0;
    t->deferred_ = 0;
    h->later[i] = h->later[--h->nlater];
    if (i < h->nlater) h->later[i]->slot_ = i + 1;
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

void timer_cancel(timer_heap *h, timer *t)
{
    if (!t->slot_) return;
    if (t->deferred_)
        remove_later(h, t);
    else
        remove_at(h, t->slot_ - 1);
}

int timer_start(timer_heap *h, timer *t, uint64_t due_ns, timer_cb cb, void *data)
{
    timer_cancel(h, t);
    if (h->running ? grow(&h->later, &h->later_cap, h->nlater) : grow(&h->v, &h->cap, h->n))
        return -ENOMEM;
    t->due_ns = due_ns;
    t->cb = cb;
    t->data = data;
    t->seq_ = h->seq++;
    if (h->running) {
        h->later[h->nlater++] = t;
        t->slot_ = h->nlater;
        t->deferred_ = 1;
        return 0;
    }
    h->v[h->n] = t;
    h->n++;
    sift_up(h, h->n - 1);
    return 0;
}

uint64_t timer_heap_next_due(const timer_heap *h)
{
    uint64_t due = h->n ? h->v[0]->due_ns : UINT64_MAX;
    for (size_t i = 0; i < h->nlater; i++) /* non-empty only while a run is going on */
        if (h->later[i]->due_ns < due) due = h->later[i]->due_ns;
    return due;
}

/* Moves the timers armed during a run into the heap; on OOM the rest wait for the next run. */
static void admit_later(timer_heap *h)
{
    for (size_t i = 0; i < h->nlater; i++) {
        timer *t = h->later[i];
        if (grow(&h->v, &h->cap, h->n) < 0) { /* keep the rest for the next run */
            memmove(h->later, h->later + i, (h->nlater - i) * sizeof(*h->later));
            h->nlater -= i;
            for (size_t k = 0; k < h->nlater; k++)
                h->later[k]->slot_ = k + 1;
            return;
        }
        t->deferred_ = 0;
        h->v[h->n] = t;
        h->n++;
        sift_up(h, h->n - 1);
    }
    h->nlater = 0;
}

size_t timer_heap_run(timer_heap *h, uint64_t now_ns)
{
    size_t fired = 0;
    admit_later(h);
    h->running = 1; /* timers armed from here on wait in `later` for the next run */
    while (h->n > 0) {
        timer *t = h->v[0];
        if (t->due_ns > now_ns) break;
        remove_at(h, 0);
        fired++;
        t->cb(t);
    }
    h->running = 0;
    admit_later(h);
    return fired;
}
