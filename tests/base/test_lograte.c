/*
 * test_lograte.c - the log rate limit (base/lograte.c): at most N lines a
 * window, the rest counted and reported once, with the next line or at exit.
 */
#include <criterion/criterion.h>

#include "lograte.h"

#define SEC 1000000000ull

Test(lograte, allows_max_per_window_then_counts)
{
    lograte lr;
    uint64_t rep;
    lograte_init(&lr, 3, SEC);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(lograte_allow(&lr, 10 * SEC + (uint64_t)i, &rep), 1);
        cr_assert_eq(rep, 0);
    }
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(lograte_allow(&lr, 10 * SEC + 100 + (uint64_t)i, &rep), 0);
        cr_assert_eq(rep, 0, "a count is only reported when a new window begins");
    }
    /* the next window: the first line carries the count, exactly once */
    cr_assert_eq(lograte_allow(&lr, 11 * SEC, &rep), 1);
    cr_assert_eq(rep, 1000);
    cr_assert_eq(lograte_allow(&lr, 11 * SEC + 1, &rep), 1);
    cr_assert_eq(rep, 0);
    cr_assert_eq(lr.dropped_total, 1000);
}

Test(lograte, quiet_windows_report_nothing)
{
    lograte lr;
    uint64_t rep;
    lograte_init(&lr, 2, SEC);
    for (uint64_t s = 1; s < 50; s++) {
        cr_assert_eq(lograte_allow(&lr, s * SEC, &rep), 1);
        cr_assert_eq(rep, 0);
    }
    cr_assert_eq(lograte_flush(&lr), 0);
}

Test(lograte, flush_hands_over_what_was_not_reported)
{
    lograte lr;
    uint64_t rep;
    lograte_init(&lr, 1, SEC);
    cr_assert_eq(lograte_allow(&lr, SEC, &rep), 1);
    cr_assert_eq(lograte_allow(&lr, SEC + 1, &rep), 0);
    cr_assert_eq(lograte_allow(&lr, SEC + 2, &rep), 0);
    cr_assert_eq(lograte_flush(&lr), 2);
    cr_assert_eq(lograte_flush(&lr), 0, "flushed counts are forgotten");
    /* a line much later starts a window and reports nothing already flushed */
    cr_assert_eq(lograte_allow(&lr, 100 * SEC, &rep), 1);
    cr_assert_eq(rep, 0);
}

Test(lograte, a_flood_costs_at_most_max_lines_per_window)
{
    lograte lr;
    uint64_t rep, written = 0, reported = 0;
    lograte_init(&lr, 10, SEC);
    /* 100,000 messages over 10 s: at most 10 a second get out */
    for (uint64_t i = 0; i < 100000; i++) {
        written += (uint64_t)lograte_allow(&lr, 5 * SEC + i * 100000, &rep);
        reported += rep;
    }
    reported += lograte_flush(&lr);
    cr_assert_leq(written, 10 * 11, "%llu lines written", (unsigned long long)written);
    cr_assert_eq(written + reported, 100000, "every message is written or counted");
}
