/*
 * test_timer.c - the timer min-heap (loop/timer.c): order, ties, cancel,
 * re-arm, callbacks that re-arm or cancel, and the heap invariant.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "timer.h"

TestSuite(timer, .timeout = 30);

/* A timer that logs its id into a shared firing log. */
typedef struct fire_log {
    int ids[16384];
    uint64_t dues[16384];
    size_t n;
} fire_log;

typedef struct ttimer {
    timer t; /* first: the callback casts back */
    int id;
    fire_log *log;
    timer_heap *heap;
    timer *victim;  /* for on_fire_cancel / on_fire_rearm_other */
    uint64_t rearm; /* for on_fire_rearm_self */
} ttimer;

static void on_fire(timer *t)
{
    ttimer *tt = (ttimer *)t;
    cr_assert_eq(t->data, tt, "data must be passed through");
    cr_assert(!timer_active(t), "a firing timer is no longer armed");
    cr_assert_lt(tt->log->n, 16384);
    tt->log->ids[tt->log->n] = tt->id;
    tt->log->dues[tt->log->n] = t->due_ns;
    tt->log->n++;
}

static void tt_init(ttimer *tt, int id, fire_log *log, timer_heap *h)
{
    *tt = (ttimer){.id = id, .log = log, .heap = h};
}

static void start(timer_heap *h, ttimer *tt, uint64_t due)
{
    cr_assert_eq(timer_start(h, &tt->t, due, on_fire, tt), 0);
    cr_assert(timer_active(&tt->t));
    cr_assert_eq(tt->t.due_ns, due);
}

/* Heap order by (due, start order) and back-pointers are consistent. */
static void check_heap(const timer_heap *h)
{
    for (size_t i = 0; i < h->n; i++) {
        cr_assert_eq(h->v[i]->slot_, i + 1, "slot of heap entry %zu", i);
        if (i > 0) {
            const timer *p = h->v[(i - 1) / 2], *c = h->v[i];
            cr_assert(p->due_ns < c->due_ns || (p->due_ns == c->due_ns && p->seq_ < c->seq_),
                      "heap order broken at %zu", i);
        }
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

Test(timer, empty_heap)
{
    timer_heap h;
    timer_heap_init(&h);
    cr_assert_eq(timer_heap_count(&h), 0);
    cr_assert_eq(timer_heap_next_due(&h), UINT64_MAX);
    cr_assert_eq(timer_heap_run(&h, UINT64_MAX), 0);
    timer_heap_free(&h);
}

Test(timer, pops_in_due_order)
{
    static const uint64_t dues[] = {50, 10, 30, 20, 40, 5, 45};
    enum { N = sizeof(dues) / sizeof(dues[0]) };
    timer_heap h;
    fire_log log = {0};
    ttimer t[N];
    timer_heap_init(&h);
    for (int i = 0; i < N; i++) {
        tt_init(&t[i], i, &log, &h);
        start(&h, &t[i], dues[i]);
        check_heap(&h);
    }
    cr_assert_eq(timer_heap_count(&h), N);
    cr_assert_eq(timer_heap_next_due(&h), 5);

    /* Only what is due at or before `now` fires. */
    cr_assert_eq(timer_heap_run(&h, 4), 0);
    cr_assert_eq(timer_heap_run(&h, 20), 3);
    cr_assert_eq(log.n, 3);
    cr_assert_eq(log.ids[0], 5);
    cr_assert_eq(log.ids[1], 1);
    cr_assert_eq(log.ids[2], 3);
    cr_assert_eq(timer_heap_next_due(&h), 30);
    cr_assert_eq(timer_heap_count(&h), N - 3);

    cr_assert_eq(timer_heap_run(&h, 1000), N - 3);
    static const int rest[] = {2, 4, 6, 0};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(log.ids[3 + i], rest[i], "fire %d", 3 + i);
    cr_assert_eq(timer_heap_count(&h), 0);
    cr_assert_eq(timer_heap_next_due(&h), UINT64_MAX);
    timer_heap_free(&h);
}

Test(timer, ties_fire_in_start_order)
{
    enum { N = 200 };
    timer_heap h;
    fire_log log = {0};
    ttimer t[N];
    timer_heap_init(&h);
    /* Even ids share due 100, odd ids share due 50: interleaved starts. */
    for (int i = 0; i < N; i++) {
        tt_init(&t[i], i, &log, &h);
        start(&h, &t[i], i % 2 ? 50 : 100);
    }
    check_heap(&h);
    cr_assert_eq(timer_heap_run(&h, 100), N);
    for (int i = 0; i < N / 2; i++) {
        cr_assert_eq(log.ids[i], 2 * i + 1, "due-50 tie #%d", i);
        cr_assert_eq(log.ids[N / 2 + i], 2 * i, "due-100 tie #%d", i);
    }
    timer_heap_free(&h);
}

Test(timer, cancel_head_middle_last_and_unarmed)
{
    enum { N = 9 };
    timer_heap h;
    fire_log log = {0};
    ttimer t[N], idle;
    timer_heap_init(&h);
    for (int i = 0; i < N; i++) {
        tt_init(&t[i], i, &log, &h);
        start(&h, &t[i], 10 * (uint64_t)(i + 1)); /* id i due 10(i+1) */
    }
    tt_init(&idle, 99, &log, &h);

    timer_cancel(&h, &t[0].t); /* head */
    check_heap(&h);
    cr_assert(!timer_active(&t[0].t));
    cr_assert_eq(timer_heap_next_due(&h), 20);

    timer_cancel(&h, &t[4].t); /* somewhere in the middle */
    check_heap(&h);

    timer *last = h.v[h.n - 1]; /* the last slot of the array */
    int last_id = ((ttimer *)last)->id;
    timer_cancel(&h, last);
    check_heap(&h);
    cr_assert(!timer_active(last));

    size_t before = timer_heap_count(&h);
    timer_cancel(&h, &idle.t); /* never armed: no-op */
    timer_cancel(&h, &t[0].t); /* already cancelled: no-op */
    cr_assert_eq(timer_heap_count(&h), before);
    cr_assert_eq(before, N - 3);
    check_heap(&h);

    cr_assert_eq(timer_heap_run(&h, UINT64_MAX - 1), N - 3);
    int expect = 1;
    for (size_t k = 0; k < log.n; k++, expect++) {
        while (expect == 4 || expect == last_id)
            expect++;
        cr_assert_eq(log.ids[k], expect, "fire %zu", k);
    }
    timer_heap_free(&h);
}

Test(timer, rearm_moves_an_armed_timer)
{
    timer_heap h;
    fire_log log = {0};
    ttimer a, b, c;
    timer_heap_init(&h);
    tt_init(&a, 0, &log, &h);
    tt_init(&b, 1, &log, &h);
    tt_init(&c, 2, &log, &h);
    start(&h, &a, 10);
    start(&h, &b, 20);
    start(&h, &c, 20);
    start(&h, &a, 30); /* later: no duplicate entry */
    check_heap(&h);
    cr_assert_eq(timer_heap_count(&h), 3);
    cr_assert_eq(timer_heap_next_due(&h), 20);
    start(&h, &b, 20); /* same due, re-armed: now behind c */
    check_heap(&h);
    start(&h, &c, 5); /* earlier */
    cr_assert_eq(timer_heap_next_due(&h), 5);
    cr_assert_eq(timer_heap_run(&h, 100), 3);
    cr_assert_eq(log.n, 3);
    cr_assert_eq(log.ids[0], 2);
    cr_assert_eq(log.ids[1], 1);
    cr_assert_eq(log.ids[2], 0);
    cr_assert_eq(log.dues[2], 30);
    timer_heap_free(&h);
}

Test(timer, ten_thousand_random_timers_fire_in_order)
{
    enum { N = 10000 };
    timer_heap h;
    static fire_log log;
    static ttimer t[N];
    timer_heap_init(&h);
    for (int i = 0; i < N; i++) {
        tt_init(&t[i], i, &log, &h);
        start(&h, &t[i], rnd() % 5000); /* many ties */
    }
    check_heap(&h);
    /* Cancel and re-arm a random tenth to exercise removal from any slot. */
    for (int k = 0; k < N / 10; k++) {
        ttimer *x = &t[rnd() % N];
        if (k % 2)
            timer_cancel(&h, &x->t);
        else
            start(&h, x, rnd() % 5000);
    }
    check_heap(&h);
    size_t armed = timer_heap_count(&h);
    cr_assert_gt(armed, N - N / 10 - 1);

    /* Run in steps: each run fires exactly the timers due by then. */
    size_t total = 0;
    for (uint64_t now = 0; now < 5000 + 250; now += 250) {
        size_t fired = timer_heap_run(&h, now);
        total += fired;
        cr_assert(timer_heap_count(&h) == 0 || timer_heap_next_due(&h) > now);
        check_heap(&h);
    }
    cr_assert_eq(total, armed);
    cr_assert_eq(log.n, armed);
    for (size_t k = 1; k < log.n; k++) {
        cr_assert_geq(log.dues[k], log.dues[k - 1], "due order at %zu", k);
        if (log.dues[k] == log.dues[k - 1])
            cr_assert_gt(t[log.ids[k]].t.seq_, t[log.ids[k - 1]].t.seq_, "tie order at %zu", k);
    }
    for (int i = 0; i < N; i++)
        cr_assert(!timer_active(&t[i].t));
    timer_heap_free(&h);
}

static void on_fire_rearm_self(timer *t)
{
    ttimer *tt = (ttimer *)t;
    on_fire(t);
    cr_assert_eq(timer_start(tt->heap, t, tt->rearm, on_fire_rearm_self, tt), 0);
}

Test(timer, self_rearm_in_the_past_fires_once_per_run)
{
    timer_heap h;
    fire_log log = {0};
    ttimer a;
    timer_heap_init(&h);
    tt_init(&a, 0, &log, &h);
    a.rearm = 0; /* long past */
    cr_assert_eq(timer_start(&h, &a.t, 10, on_fire_rearm_self, &a), 0);
    for (int run = 1; run <= 5; run++) {
        cr_assert_eq(timer_heap_run(&h, 100), 1, "run %d", run);
        cr_assert_eq(log.n, (size_t)run);
        cr_assert(timer_active(&a.t));
        cr_assert_eq(timer_heap_count(&h), 1);
    }
    timer_heap_free(&h);
    cr_assert(!timer_active(&a.t), "free forgets armed timers");
}

Test(timer, rearm_at_the_run_time_lets_other_due_timers_fire)
{
    /* What the loop does: a callback re-arms with delay 0, i.e. at "now". */
    timer_heap h;
    fire_log log = {0};
    ttimer a, b;
    timer_heap_init(&h);
    tt_init(&a, 0, &log, &h);
    tt_init(&b, 1, &log, &h);
    a.rearm = 100;
    cr_assert_eq(timer_start(&h, &a.t, 10, on_fire_rearm_self, &a), 0);
    start(&h, &b, 100);
    cr_assert_eq(timer_heap_run(&h, 100), 2);
    cr_assert_eq(log.ids[0], 0);
    cr_assert_eq(log.ids[1], 1);
    cr_assert_eq(timer_heap_run(&h, 100), 1);
    cr_assert_eq(log.ids[2], 0);
    timer_heap_free(&h);
}

/*
 * Disabled: fails today. A timer re-armed for a past time becomes the heap
 * head and timer_heap_run stops at it (seq >= limit), so b and `late`, armed
 * before the run and due, do not fire: as long as `a` keeps re-arming in the
 * past the others starve, against timer.h's contract.
 */
Test(timer, past_rearm_does_not_starve_other_due_timers)
{
    timer_heap h;
    fire_log log = {0};
    ttimer a, b, late;
    timer_heap_init(&h);
    tt_init(&a, 0, &log, &h);
    tt_init(&b, 1, &log, &h);
    tt_init(&late, 2, &log, &h);
    a.rearm = 0;
    b.rearm = 99;
    cr_assert_eq(timer_start(&h, &a.t, 10, on_fire_rearm_self, &a), 0);
    cr_assert_eq(timer_start(&h, &b.t, 10, on_fire_rearm_self, &b), 0);
    start(&h, &late, 200);
    for (int run = 1; run <= 5; run++) {
        cr_assert_eq(timer_heap_run(&h, 100), 2, "run %d", run);
        cr_assert_eq(log.n, (size_t)(2 * run));
    }
    cr_assert_eq(timer_heap_run(&h, 200), 3);
    cr_assert_eq(log.ids[log.n - 1], 2);
    timer_heap_free(&h);
}

static void on_fire_cancel(timer *t)
{
    ttimer *tt = (ttimer *)t;
    on_fire(t);
    timer_cancel(tt->heap, tt->victim);
}

Test(timer, callback_cancels_another_due_timer)
{
    timer_heap h;
    fire_log log = {0};
    ttimer a, b, c;
    timer_heap_init(&h);
    tt_init(&a, 0, &log, &h);
    tt_init(&b, 1, &log, &h);
    tt_init(&c, 2, &log, &h);
    a.victim = &b.t;
    cr_assert_eq(timer_start(&h, &a.t, 10, on_fire_cancel, &a), 0);
    start(&h, &b, 10);
    start(&h, &c, 11);
    cr_assert_eq(timer_heap_run(&h, 50), 2);
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ids[0], 0);
    cr_assert_eq(log.ids[1], 2);
    cr_assert(!timer_active(&b.t));
    cr_assert_eq(timer_heap_count(&h), 0);
    timer_heap_free(&h);
}

static void on_fire_rearm_other(timer *t)
{
    ttimer *tt = (ttimer *)t;
    on_fire(t);
    cr_assert_eq(timer_start(tt->heap, tt->victim, 1, on_fire, tt->victim->data), 0);
}

Test(timer, timer_rearmed_by_a_callback_waits_for_next_run)
{
    timer_heap h;
    fire_log log = {0};
    ttimer a, b;
    timer_heap_init(&h);
    tt_init(&a, 0, &log, &h);
    tt_init(&b, 1, &log, &h);
    a.victim = &b.t;
    cr_assert_eq(timer_start(&h, &a.t, 10, on_fire_rearm_other, &a), 0);
    start(&h, &b, 20);
    cr_assert_eq(timer_heap_run(&h, 50), 1, "b was re-armed during the run: it waits");
    cr_assert(timer_active(&b.t));
    cr_assert_leq(timer_heap_next_due(&h), 50, "due again by the next run");
    cr_assert_eq(timer_heap_run(&h, 50), 1);
    cr_assert_eq(log.ids[1], 1);
    cr_assert_eq(log.dues[1], 1);
    timer_heap_free(&h);
}

Test(timer, next_due_tracks_the_earliest)
{
    timer_heap h;
    fire_log log = {0};
    ttimer a, b, c;
    timer_heap_init(&h);
    tt_init(&a, 0, &log, &h);
    tt_init(&b, 1, &log, &h);
    tt_init(&c, 2, &log, &h);
    start(&h, &a, 300);
    cr_assert_eq(timer_heap_next_due(&h), 300);
    start(&h, &b, 100);
    cr_assert_eq(timer_heap_next_due(&h), 100);
    start(&h, &c, 200);
    cr_assert_eq(timer_heap_next_due(&h), 100);
    timer_cancel(&h, &b.t);
    cr_assert_eq(timer_heap_next_due(&h), 200);
    start(&h, &a, 0);
    cr_assert_leq(timer_heap_next_due(&h), 5000, "timers re-armed in the past are due at once");
    cr_assert_eq(timer_heap_run(&h, 0), 1);
    cr_assert_eq(timer_heap_next_due(&h), 200);
    cr_assert_eq(timer_heap_run(&h, 200), 1);
    cr_assert_eq(timer_heap_next_due(&h), UINT64_MAX);
    timer_heap_free(&h);
}

Test(timer, timer_rearmed_in_the_past_can_be_cancelled_in_the_same_run)
{
    timer_heap h;
    fire_log log = {0};
    ttimer a, b, c, d;
    timer_heap_init(&h);
    tt_init(&a, 0, &log, &h);
    tt_init(&b, 1, &log, &h);
    tt_init(&c, 2, &log, &h);
    tt_init(&d, 3, &log, &h);
    a.victim = &b.t; /* a re-arms b for a past time: b is held aside until the run ends */
    c.victim = &b.t; /* then c, due after a, cancels b while it is held aside */
    cr_assert_eq(timer_start(&h, &a.t, 10, on_fire_rearm_other, &a), 0);
    start(&h, &b, 90);
    cr_assert_eq(timer_start(&h, &c.t, 20, on_fire_cancel, &c), 0);
    start(&h, &d, 30);
    cr_assert_eq(timer_heap_run(&h, 50), 3, "a, c and d fire; b, re-armed at 1, waits");
    cr_assert_eq(log.ids[0], 0);
    cr_assert_eq(log.ids[1], 2);
    cr_assert_eq(log.ids[2], 3);
    cr_assert(!timer_active(&b.t), "cancelled while held aside");
    cr_assert_eq(timer_heap_count(&h), 0);
    cr_assert_eq(timer_heap_run(&h, 100), 0);
    timer_heap_free(&h);
}

Test(timer, parked_timers_go_back_into_the_heap)
{
    enum { N = 200 };
    timer_heap h;
    fire_log log = {0};
    static ttimer t[N];
    timer_heap_init(&h);
    /* every timer re-arms itself in the past: each run fires each exactly once */
    for (int i = 0; i < N; i++) {
        tt_init(&t[i], i, &log, &h);
        t[i].rearm = (uint64_t)i;
        cr_assert_eq(timer_start(&h, &t[i].t, 1000 + (uint64_t)i, on_fire_rearm_self, &t[i]), 0);
    }
    cr_assert_eq(timer_heap_run(&h, 5000), N);
    cr_assert_eq(timer_heap_count(&h), N);
    check_heap(&h);
    cr_assert_leq(timer_heap_next_due(&h), 5000, "timers re-armed in the past are due at once");
    cr_assert_eq(timer_heap_run(&h, 5000), N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(log.ids[N + i], i, "second run in due order");
    timer_heap_free(&h);
    for (int i = 0; i < N; i++)
        cr_assert(!timer_active(&t[i].t));
}

Test(timer, run_some_fires_at_most_max_in_order_and_keeps_the_rest_due)
{
    enum { N = 10 };
    timer_heap h;
    fire_log log = {0};
    ttimer t[N];
    timer_heap_init(&h);
    for (int i = 0; i < N; i++) {
        tt_init(&t[i], i, &log, &h);
        start(&h, &t[i], (uint64_t)(N - i)); /* due 10, 9, ..., 1 */
    }
    cr_assert_eq(timer_heap_run_some(&h, 100, 4), 4);
    cr_assert_eq(log.n, 4);
    for (int k = 0; k < 4; k++)
        cr_assert_eq(log.ids[k], N - 1 - k, "fire %d", k);
    cr_assert_eq(timer_heap_count(&h), N - 4);
    cr_assert_eq(timer_heap_next_due(&h), 5, "the rest stay due");
    cr_assert_eq(timer_heap_run_some(&h, 100, 0), 0);
    cr_assert_eq(timer_heap_run_some(&h, 100, 100), N - 4);
    cr_assert_eq(log.ids[N - 1], 0);
    cr_assert_eq(timer_heap_count(&h), 0);
    timer_heap_free(&h);
}
