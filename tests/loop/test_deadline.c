/*
 * test_deadline.c - the fixed-window deadline FIFO (loop/deadline.c) on a
 * real loop and real time: expiry order and timing, re-arming, disarming
 * (also from a callback), a window of 0, and clean-up. Bounds on lateness
 * are wide: the test box is a noisy 2-core machine.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "deadline.h"
#include "loop.h"

TestSuite(deadline, .timeout = 30);

#define MS 1000000ull
#define LATE (1000 * MS) /* how late an expiry may be on a busy machine */

typedef struct item {
    deadline_entry e;
    int id;
    uint64_t armed_ns; /* when it was (last) armed */
    uint64_t fired_ns;
    int fired;
    struct item *other; /* disarmed by this one's expiry, if set */
    int rearm;          /* times to re-arm itself from its own expiry */
} item;

typedef struct fixture {
    loop *l;
    deadline_queue q;
    int order[16], n;
} fixture;

static void on_expire(deadline_queue *q, deadline_entry *e)
{
    fixture *f = q->data;
    item *it = (item *)e; /* e is the first member */
    cr_assert(!deadline_armed(e), "expired entries are disarmed first");
    it->fired_ns = loop_now_ns();
    it->fired++;
    f->order[f->n++] = it->id;
    if (it->other) deadline_disarm(q, &it->other->e);
    if (it->rearm-- > 0) {
        it->armed_ns = loop_now_ns();
        cr_assert_eq(deadline_arm(q, e), 0);
    }
}

static void setup(fixture *f, uint64_t window_ns)
{
    memset(f, 0, sizeof(*f));
    cr_assert_eq(loop_new(&f->l), 0);
    deadline_init(&f->q, f->l, window_ns, on_expire, f);
}

static void arm(fixture *f, item *it)
{
    it->armed_ns = loop_now_ns();
    cr_assert_eq(deadline_arm(&f->q, &it->e), 0);
}

/* An action at a given time, as a plain loop timer. */
typedef struct action {
    timer t;
    fixture *f;
    item *it;
    enum { ARM, DISARM, STOP } what;
} action;

static void on_action(timer *t)
{
    action *a = t->data;
    if (a->what == ARM)
        arm(a->f, a->it);
    else if (a->what == DISARM)
        deadline_disarm(&a->f->q, &a->it->e);
    else
        loop_stop(a->f->l);
}

static void at(action *a, fixture *f, uint64_t ms, int what, item *it)
{
    *a = (action){.f = f, .it = it, .what = what};
    cr_assert_eq(loop_timer_start(f->l, &a->t, ms * MS, on_action, a), 0);
}

static void expired_in_time(const item *it, uint64_t window_ns)
{
    cr_assert_eq(it->fired, 1, "item %d expired %d times", it->id, it->fired);
    uint64_t after = it->fired_ns - it->armed_ns;
    cr_assert_geq(after, window_ns, "item %d expired early: %llu ns", it->id,
                  (unsigned long long)after);
    cr_assert_lt(after, window_ns + LATE, "item %d expired late: %llu ns", it->id,
                 (unsigned long long)after);
}

static void teardown(fixture *f)
{
    deadline_close(&f->q);
    cr_assert_eq(loop_timer_count(f->l), 0, "the queue's timer is gone");
    loop_free(f->l);
}

Test(deadline, entries_expire_one_window_after_their_last_arming)
{
    fixture f;
    setup(&f, 100 * MS);
    item a = {.id = 0}, b = {.id = 1};
    action act[3];
    arm(&f, &a);
    at(&act[0], &f, 30, ARM, &b);
    at(&act[1], &f, 60, ARM, &a); /* re-armed: now due after b */
    at(&act[2], &f, 400, STOP, NULL);
    cr_assert_eq(loop_run(f.l), 0);
    cr_assert_eq(f.n, 2);
    cr_assert_eq(f.order[0], 1, "b is due first");
    cr_assert_eq(f.order[1], 0);
    expired_in_time(&a, 100 * MS);
    expired_in_time(&b, 100 * MS);
    cr_assert_eq(deadline_count(&f.q), 0);
    cr_assert(!deadline_timer_armed(&f.q), "no entry left, no timer");
    teardown(&f);
}

Test(deadline, a_disarmed_head_never_fires_and_the_next_is_on_time)
{
    fixture f;
    setup(&f, 100 * MS);
    item a = {.id = 0}, b = {.id = 1};
    action act[3];
    arm(&f, &a);
    at(&act[0], &f, 50, ARM, &b);
    at(&act[1], &f, 60, DISARM, &a); /* the timer stays armed for a's time */
    at(&act[2], &f, 400, STOP, NULL);
    cr_assert_eq(loop_run(f.l), 0);
    cr_assert_eq(a.fired, 0);
    cr_assert_eq(f.n, 1);
    expired_in_time(&b, 100 * MS);
    teardown(&f);
}

Test(deadline, a_callback_may_rearm_its_entry_and_disarm_others)
{
    fixture f;
    setup(&f, 50 * MS);
    item a = {.id = 0, .rearm = 2}, b = {.id = 1};
    a.other = &b; /* a's first expiry disarms b, due right after it */
    action stop;
    arm(&f, &a);
    arm(&f, &b);
    cr_assert_eq(deadline_count(&f.q), 2);
    at(&stop, &f, 500, STOP, NULL);
    cr_assert_eq(loop_run(f.l), 0);
    cr_assert_eq(b.fired, 0, "b was disarmed by a's expiry");
    cr_assert_eq(a.fired, 3, "a re-armed itself twice");
    cr_assert_eq(f.n, 3);
    uint64_t after = a.fired_ns - a.armed_ns;
    cr_assert_geq(after, 50 * MS);
    cr_assert_lt(after, 50 * MS + LATE);
    cr_assert_eq(deadline_count(&f.q), 0);
    teardown(&f);
}

Test(deadline, a_zero_window_never_arms)
{
    fixture f;
    setup(&f, 0);
    item a = {.id = 0};
    cr_assert_eq(deadline_arm(&f.q, &a.e), 0);
    cr_assert(!deadline_armed(&a.e));
    cr_assert_eq(deadline_count(&f.q), 0);
    cr_assert_eq(loop_timer_count(f.l), 0);
    teardown(&f);
}

Test(deadline, close_forgets_armed_entries)
{
    fixture f;
    setup(&f, 10000 * MS);
    item it[5];
    for (int i = 0; i < 5; i++) {
        it[i] = (item){.id = i};
        arm(&f, &it[i]);
    }
    deadline_disarm(&f.q, &it[2].e);
    deadline_disarm(&f.q, &it[2].e); /* twice: a no-op */
    cr_assert_eq(deadline_count(&f.q), 4);
    cr_assert(deadline_timer_armed(&f.q));
    cr_assert_eq(loop_timer_count(f.l), 1, "one timer for every entry");
    deadline_close(&f.q);
    for (int i = 0; i < 5; i++)
        cr_assert(!deadline_armed(&it[i].e));
    cr_assert_eq(deadline_count(&f.q), 0);
    teardown(&f);
}
