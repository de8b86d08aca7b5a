/*
 * test_cpu_heavy.c - cpu_heavy (workload/cpu_heavy.c) against an independent
 * reference: Python's (i * n) % 7 computed with a 128-bit product and a
 * normalized remainder, plus the closed form over blocks of 7.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "cpu_heavy.h"

TestSuite(cpu_heavy, .timeout = 120);

#define MS 1000000ull

static const int64_t NS[] = {0,         1,
                             2,         3,
                             5,         6,
                             7,         -1,
                             -3,        -5,
                             -7,        1000000007,
                             INT64_MIN, INT64_MIN + 1,
                             INT64_MAX, INT64_MAX - 1};
#define NNS (sizeof(NS) / sizeof(NS[0]))

/* Python's (i * n) % 7: exact product, then a remainder in [0, 7). */
static unsigned ref_term(int64_t n, uint64_t i)
{
    __int128 prod = (__int128)i * (__int128)n;
    int r = (int)(prod % 7);
    return (unsigned)(r < 0 ? r + 7 : r);
}

static uint64_t ref_sum(int64_t n, uint64_t iterations)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < iterations; i++)
        s += ref_term(n, i);
    return s;
}

/* Every full block of 7 consecutive i sums to 21 (0 when 7 divides n). */
static uint64_t ref_closed(int64_t n, uint64_t iterations)
{
    uint64_t blocks = iterations / 7, s = blocks * (n % 7 != 0 ? 21u : 0u);
    for (uint64_t i = blocks * 7; i < iterations; i++)
        s += ref_term(n, i);
    return s;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

Test(cpu_heavy, reference_self_check)
{
    /* Python: (-1 * 3) % 7 == 4, (INT64_MIN * 1) % 7 == 6, (INT64_MAX * 2) % 7 == 0 */
    cr_assert_eq(ref_term(-1, 3), 4);
    cr_assert_eq(ref_term(INT64_MIN, 1), 6);
    cr_assert_eq(ref_term(INT64_MAX, 2), 0);
    cr_assert_eq(ref_term(INT64_MIN, 3), 4);
    /* The closed form agrees with the plain sum, and blocks anywhere sum to 21 or 0. */
    for (size_t k = 0; k < NNS; k++) {
        cr_assert_eq(ref_closed(NS[k], 12345), ref_sum(NS[k], 12345), "n=%lld", (long long)NS[k]);
        for (uint64_t start = 0; start < (uint64_t)1 << 62; start = start * 5 + 7) {
            uint64_t b = 0;
            for (uint64_t i = start - start % 7; i < start - start % 7 + 7; i++)
                b += ref_term(NS[k], i);
            cr_assert_eq(b, NS[k] % 7 ? 21u : 0u, "n=%lld block at %llu", (long long)NS[k],
                         (unsigned long long)start);
        }
    }
}

Test(cpu_heavy, matches_reference_for_small_iteration_counts)
{
    static const uint64_t ITS[] = {0, 1, 2, 6, 7, 8, 100, 12345};
    atomic_int never = 0;
    for (size_t k = 0; k < NNS; k++)
        for (size_t m = 0; m < sizeof(ITS) / sizeof(ITS[0]); m++) {
            cpu_heavy_out out = {99, 99};
            int rc = cpu_heavy(NS[k], ITS[m], m % 2 ? &never : NULL, &out);
            cr_assert_eq(rc, 0);
            cr_assert_eq(out.iterations, ITS[m]);
            cr_assert_eq(out.sum, ref_sum(NS[k], ITS[m]), "cpu_heavy(%lld, %llu) = %llu",
                         (long long)NS[k], (unsigned long long)ITS[m], (unsigned long long)out.sum);
        }
}

Test(cpu_heavy, seed_values)
{
    cpu_heavy_out out;
    uint64_t ref3 = ref_sum(3, 1000000), ref5 = ref_sum(5, 1000000);
    cr_assert_eq(ref3, 2999997, "the reference disagrees with Python");
    cr_assert_eq(ref5, 2999997);
    cr_assert_eq(cpu_heavy(3, 1000000, NULL, &out), 0);
    cr_assert_eq(out.sum, ref3);
    cr_assert_eq(cpu_heavy(5, 1000000, NULL, &out), 0);
    cr_assert_eq(out.sum, ref5);
}

Test(cpu_heavy, ten_million_iterations_match_the_closed_form)
{
    for (size_t k = 0; k < NNS; k++) {
        cpu_heavy_out out;
        cr_assert_eq(cpu_heavy(NS[k], 10000000, NULL, &out), 0);
        cr_assert_eq(out.iterations, 10000000);
        cr_assert_eq(out.sum, ref_closed(NS[k], 10000000), "n=%lld", (long long)NS[k]);
    }
}

Test(cpu_heavy, hundred_million_and_three_iterations)
{
    static const int64_t some[] = {3, INT64_MIN, 14};
    for (size_t k = 0; k < 3; k++) {
        cpu_heavy_out out;
        cr_assert_eq(cpu_heavy(some[k], 100000003, NULL, &out), 0);
        cr_assert_eq(out.sum, ref_closed(some[k], 100000003), "n=%lld", (long long)some[k]);
    }
    cr_assert_eq(ref_closed(3, 100000003), 14285714ull * 21 + (0 + 3 + 6 + 2 + 5));
}

Test(cpu_heavy, preset_cancel_returns_at_once)
{
    atomic_int cancel = 1;
    cpu_heavy_out out = {123, 456};
    uint64_t t0 = mono_ns();
    int rc = cpu_heavy(3, UINT64_MAX / 2, &cancel, &out); /* centuries of work */
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_lt(mono_ns() - t0, 1000 * MS);
    cr_assert_lt(out.iterations, UINT64_MAX / 2);
    cr_assert_eq(out.sum, ref_closed(3, out.iterations), "partial sum is consistent");

    out = (cpu_heavy_out){123, 456};
    cr_assert_eq(cpu_heavy_burn(3, 60000, &cancel, &out), -ECANCELED);
    cr_assert_eq(out.sum, ref_closed(3, out.iterations));
    cr_assert_lt(mono_ns() - t0, 2000 * MS);
}

typedef struct canceller {
    atomic_int *flag;
    uint64_t set_ns;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    usleep(50000);
    c->set_ns = mono_ns();
    atomic_store(c->flag, 1);
    return NULL;
}

Test(cpu_heavy, cancel_from_another_thread_keeps_a_consistent_partial_sum)
{
    atomic_int cancel = 0;
    canceller c = {&cancel, 0};
    pthread_t th;
    cpu_heavy_out out;
    cr_assert_eq(pthread_create(&th, NULL, cancel_later, &c), 0);
    int rc = cpu_heavy(-5, (uint64_t)1 << 50, &cancel, &out);
    uint64_t back = mono_ns();
    pthread_join(th, NULL);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_lt(out.iterations, (uint64_t)1 << 50);
    cr_assert_eq(out.sum, ref_closed(-5, out.iterations));
    cr_assert_lt(back - c.set_ns, 1000 * MS, "noticed the flag %llu ms late",
                 (unsigned long long)((back - c.set_ns) / MS));
}

Test(cpu_heavy, burn_uses_the_requested_thread_cpu_time)
{
    cpu_heavy_out out;
    uint64_t c0 = thread_cpu_ns();
    cr_assert_eq(cpu_heavy_burn(-3, 50, NULL, &out), 0);
    uint64_t used = thread_cpu_ns() - c0;
    cr_assert_geq(used, 50 * MS, "burned only %llu us", (unsigned long long)(used / 1000));
    cr_assert_lt(used, 2000 * MS);
    cr_assert_gt(out.iterations, 0);
    cr_assert_eq(out.sum, ref_closed(-3, out.iterations));

    /* The same steps through cpu_heavy give the same sum. */
    cpu_heavy_out again;
    cr_assert_eq(cpu_heavy(-3, out.iterations, NULL, &again), 0);
    cr_assert_eq(again.sum, out.sum);

    cr_assert_eq(cpu_heavy_burn(-3, 0, NULL, &out), 0);
    cr_assert_eq(out.iterations, 0);
    cr_assert_eq(out.sum, 0);
}
