/*
 * test_lagprobe.c - the loop-lag probe (obs/lagprobe.c): the windowed
 * summary (last, max, nearest-rank p99) from recorded samples, and a real
 * loop whose thread is stalled by a timer callback.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <unistd.h>

#include "lagprobe.h"
#include "loop.h"

TestSuite(lagprobe, .timeout = 30);

#define MS 1000000ull

Test(lagprobe, rejects_bad_periods)
{
    loop *l;
    lagprobe *p;
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(lagprobe_new(&p, l, 0, 1000 * MS, NULL, NULL), -EINVAL);
    cr_assert_eq(lagprobe_new(&p, l, 10 * MS, 5 * MS, NULL, NULL), -EINVAL);
    loop_free(l);
}

Test(lagprobe, summary_over_the_window)
{
    loop *l;
    lagprobe *p;
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(lagprobe_new(&p, l, 10 * MS, 1000 * MS, NULL, NULL), 0);
    lag_summary s;
    lagprobe_summary(p, 5000 * MS, &s);
    cr_assert_eq(s.samples, 0);
    cr_assert_eq(s.max_ms, 0);
    cr_assert_float_eq(s.window_s, 1.0, 1e-12);

    /* an old stall, outside the window by the time we ask */
    lagprobe_record(p, 1000 * MS, 900 * MS);
    /* 100 samples in the window: lag 1..100 ms, the last one 7 ms */
    for (uint64_t i = 1; i <= 99; i++)
        lagprobe_record(p, 2000 * MS + i * 10 * MS, i == 50 ? 100 * MS : i * MS);
    lagprobe_record(p, 2000 * MS + 995 * MS, 7 * MS);
    lagprobe_summary(p, 2000 * MS + 999 * MS, &s);
    cr_assert_eq(s.samples, 100);
    cr_assert_float_eq(s.last_ms, 7.0, 1e-9);
    cr_assert_float_eq(s.max_ms, 100.0, 1e-9, "the 900 ms stall left the window");
    /* nearest rank: the 99th of 100 sorted values (1..99 without 50, plus 7 and 100) */
    cr_assert_float_eq(s.p99_ms, 99.0, 1e-9);

    lagprobe_summary(p, 2000 * MS + 1200 * MS, &s);
    cr_assert_eq(s.samples, 80, "only the samples of the last second count");
    lagprobe_free(p);
    loop_free(l);
}

Test(lagprobe, ring_keeps_the_newest)
{
    loop *l;
    lagprobe *p;
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(lagprobe_new(&p, l, 10 * MS, 100 * MS, NULL, NULL), 0);
    for (uint64_t i = 0; i < 1000; i++) /* far more than the ring holds */
        lagprobe_record(p, i * MS, i == 999 ? 42 * MS : MS);
    lag_summary s;
    lagprobe_summary(p, 999 * MS, &s);
    cr_assert_float_eq(s.last_ms, 42.0, 1e-9);
    cr_assert_float_eq(s.max_ms, 42.0, 1e-9);
    cr_assert_leq(s.samples, 100);
    lagprobe_free(p);
    loop_free(l);
}

typedef struct stall {
    loop *l;
    timer block, stop;
    size_t callbacks;
} stall;

static void on_block(timer *t)
{
    (void)t;
    usleep(120000); /* the loop thread is busy: nothing else runs */
}

static void on_stop(timer *t)
{
    stall *s = t->data;
    loop_stop(s->l);
}

static void count_sample(void *arg, uint64_t lag_ns)
{
    stall *s = arg;
    (void)lag_ns;
    s->callbacks++;
}

Test(lagprobe, measures_a_stalled_loop)
{
    stall st = {0};
    lagprobe *p;
    cr_assert_eq(loop_new(&st.l), 0);
    cr_assert_eq(lagprobe_new(&p, st.l, 5 * MS, 10000 * MS, count_sample, &st), 0);
    cr_assert_eq(lagprobe_start(p), 0);
    cr_assert(lagprobe_armed(p));
    cr_assert_eq(loop_timer_count(st.l), 1, "the probe is one loop timer");
    cr_assert_eq(loop_timer_start(st.l, &st.block, 100 * MS, on_block, &st), 0);
    cr_assert_eq(loop_timer_start(st.l, &st.stop, 400 * MS, on_stop, &st), 0);
    cr_assert_eq(loop_run(st.l), 0);

    lag_summary s;
    lagprobe_summary(p, loop_now_ns(), &s);
    cr_assert_geq(s.samples, 3, "about 280 ms of 5 ms probes, got %zu", s.samples);
    cr_assert_eq(st.callbacks, s.samples);
    cr_assert_geq(s.max_ms, 80.0, "a 120 ms stall showed as %.3f ms", s.max_ms);
    cr_assert_lt(s.max_ms, 2000.0);
    cr_assert(lagprobe_armed(p), "it re-arms itself");
    lagprobe_stop(p);
    cr_assert(!lagprobe_armed(p));
    cr_assert_eq(loop_timer_count(st.l), 0);
    lagprobe_free(p);
    loop_free(st.l);
}

Test(lagprobe, max_since_looks_at_the_newest_samples_only)
{
    loop *l;
    lagprobe *p;
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(lagprobe_new(&p, l, 10 * MS, 50 * MS, NULL, NULL), 0);
    size_t n = 99;
    cr_assert_eq(lagprobe_max_since(p, 0, &n), 0);
    cr_assert_eq(n, 0, "no samples yet");
    lagprobe_record(p, 10 * MS, 5 * MS);
    lagprobe_record(p, 20 * MS, 9 * MS);
    lagprobe_record(p, 30 * MS, 2 * MS);
    cr_assert_eq(lagprobe_max_since(p, 0, &n), 9 * MS);
    cr_assert_eq(n, 3);
    cr_assert_eq(lagprobe_max_since(p, 15 * MS, &n), 9 * MS);
    cr_assert_eq(n, 2);
    cr_assert_eq(lagprobe_max_since(p, 20 * MS, &n), 2 * MS, "a sample at since is not after it");
    cr_assert_eq(n, 1);
    cr_assert_eq(lagprobe_max_since(p, 30 * MS, NULL), 0);
    /* past the ring's capacity (window/period + 16 = 21): the newest still count */
    for (uint64_t i = 4; i <= 40; i++)
        lagprobe_record(p, i * 10 * MS, i == 38 ? 70 * MS : 1 * MS);
    cr_assert_eq(lagprobe_max_since(p, 365 * MS, &n), 70 * MS);
    cr_assert_eq(n, 4);
    cr_assert_eq(lagprobe_max_since(p, 0, &n), 70 * MS);
    cr_assert_eq(n, 21, "the whole ring, and no more");
    lagprobe_free(p);
    loop_free(l);
}
