/*
 * test_http_io.c - the IO endpoints over real HTTP: results, timing shape
 * (ratios with wide margins), streaming, races, the semaphore bound, and
 * clean-up when the client goes away.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static test_server ts;

static void setup(void)
{
    ts_start(&ts, NULL);
}

static void teardown(void)
{
    ts_stop(&ts);
}

TestSuite(http_io, .init = setup, .fini = teardown, .timeout = 60);

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

Test(http_io, job_defaults)
{
    http_res r;
    cr_assert_eq(http_get(&ts, "/io/job", &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(str(r.json, "name"), "job");
    cr_assert_float_eq(num(r.json, "delay"), 1.0, 1e-12);
    cr_assert_str_eq(str(r.json, "result"), "job done after 1.0s");
    cr_assert_geq(num(r.json, "elapsed"), 0.99);
    cr_assert_lt(num(r.json, "elapsed"), 3.0);
    http_res_free(&r);
}

Test(http_io, job_name_and_python_float)
{
    http_res r;
    http_get(&ts, "/io/job?name=fetch&delay=0.05", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(str(r.json, "result"), "fetch done after 0.05s");
    cr_assert(strstr(r.body, "\"delay\":0.05,"), "body: %s", r.body);
    http_res_free(&r);
    http_get(&ts, "/io/job?delay=1e-7", &r);
    cr_assert_str_eq(str(r.json, "result"), "job done after 1e-07s");
    http_res_free(&r);
}

Test(http_io, gather_is_max_sequential_is_sum)
{
    http_res g, s;
    http_get(&ts, "/io/gather?delays=0.3,0.3,0.3,0.3", &g);
    http_get(&ts, "/io/sequential?delays=0.3,0.3,0.3,0.3", &s);
    cr_assert_eq(g.status, 200);
    cr_assert_eq(s.status, 200);
    double ge = num(g.json, "elapsed"), se = num(s.json, "elapsed");
    cr_assert_geq(ge, 0.3);
    cr_assert_geq(se, 1.2);
    cr_assert_float_eq(num(g.json, "sum_of_delays"), 1.2, 1e-9);
    /* gather ~ max (0.3), sequential ~ sum (1.2): the ratio is 4, allow down to 2 */
    cr_assert_gt(se / ge, 2.0, "sequential %.3f vs gather %.3f", se, ge);
    http_res_free(&g);
    http_res_free(&s);
}

Test(http_io, gather_defaults_order)
{
    http_res r;
    http_get(&ts, "/io/gather", &r);
    cr_assert_eq(r.status, 200);
    json_t *res = json_object_get(r.json, "results"), *fo = json_object_get(r.json, "finish_order");
    cr_assert_eq(json_array_size(res), 3);
    cr_assert_str_eq(json_string_value(json_array_get(res, 0)), "A done after 1.0s");
    cr_assert_str_eq(json_string_value(json_array_get(res, 1)), "B done after 0.5s");
    cr_assert_str_eq(json_string_value(json_array_get(res, 2)), "C done after 0.2s");
    cr_assert_str_eq(json_string_value(json_array_get(fo, 0)), "C");
    cr_assert_str_eq(json_string_value(json_array_get(fo, 1)), "B");
    cr_assert_str_eq(json_string_value(json_array_get(fo, 2)), "A");
    double e = num(r.json, "elapsed");
    cr_assert(e >= 1.0 && e < 1.7 * 0.9, "elapsed %.3f is not ~max", e);
    http_res_free(&r);
}

Test(http_io, gather_names_and_sequential_order)
{
    http_res r;
    http_get(&ts, "/io/sequential?delays=0.2,0.1&names=slow,fast", &r);
    cr_assert_eq(r.status, 200);
    json_t *fo = json_object_get(r.json, "finish_order");
    cr_assert_str_eq(json_string_value(json_array_get(fo, 0)), "slow");
    cr_assert_str_eq(json_string_value(json_array_get(fo, 1)), "fast");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r.json, "results"), 1)),
                     "fast done after 0.1s");
    cr_assert_float_eq(num(r.json, "sum_of_delays"), 0.30000000000000004, 1e-12);
    http_res_free(&r);
}

Test(http_io, as_completed_streams_live)
{
    char *lines[8];
    double at[8];
    int n = http_get_lines(&ts, "/io/as_completed?delays=0.9,0.1,0.5", lines, at, 8);
    cr_assert_eq(n, 4, "got %d lines", n);
    const char *want[] = {"B", "C", "A"};
    for (int i = 0; i < 3; i++) {
        json_t *o = json_loads(lines[i], 0, NULL);
        cr_assert_not_null(o, "line %d: %s", i, lines[i]);
        cr_assert_str_eq(str(o, "name"), want[i]);
        json_decref(o);
    }
    json_t *last = json_loads(lines[3], 0, NULL);
    cr_assert(json_is_true(json_object_get(last, "done")));
    json_decref(last);
    json_t *first = json_loads(lines[0], 0, NULL);
    cr_assert_str_eq(str(first, "result"), "res 0.1");
    cr_assert_eq(json_integer_value(json_object_get(first, "index")), 1);
    json_decref(first);
    /* the first line left at ~0.1 s, the last job's at ~0.9 s: it was not buffered */
    cr_assert_lt(at[0], 0.5 * at[2], "first line at %.3f, third at %.3f", at[0], at[2]);
    cr_assert_geq(at[2], 0.85);
    for (int i = 0; i < n; i++)
        free(lines[i]);
}

Test(http_io, cancel_both_ways)
{
    http_res r;
    http_get(&ts, "/io/cancel", &r);
    cr_assert_eq(r.status, 200);
    cr_assert(json_is_true(json_object_get(r.json, "cancelled")));
    cr_assert_str_eq(str(r.json, "message"), "slow task cancelled safely");
    double e = num(r.json, "elapsed");
    cr_assert(e >= 0.7 && e < 2.5, "elapsed %.3f: ~after (0.7), not ~delay (5)", e);
    http_res_free(&r);
    http_get(&ts, "/io/cancel?delay=0.1&after=0.6", &r);
    cr_assert(json_is_false(json_object_get(r.json, "cancelled")));
    cr_assert_str_eq(str(r.json, "result"), "slow done after 0.1s");
    http_res_free(&r);
}

/* The job ends first: the seed's caller still sleeps `after` before its
 * task.cancel() (which then finds the task done), so the answer comes at
 * `after`, not at the job's end. */
Test(http_io, cancel_after_the_job_ended_answers_at_after)
{
    http_res r;
    http_get(&ts, "/io/cancel?delay=0.1&after=0.6", &r);
    cr_assert_eq(r.status, 200);
    cr_assert(json_is_false(json_object_get(r.json, "cancelled")));
    cr_assert_str_eq(str(r.json, "result"), "slow done after 0.1s");
    double e = num(r.json, "elapsed");
    cr_assert(e >= 0.6 && e < 2.0, "elapsed %.3f: the caller sleeps after (0.6), not delay (0.1)",
              e);
    http_res_free(&r);
}

/* Equal deadlines go the way asyncio orders them: the timer armed first runs
 * first, and in the seed that is the canceller / the timeout (see io.c). */
Test(http_io, cancel_tie_goes_to_the_canceller)
{
    static const char *ties[] = {"/io/cancel?delay=0.3&after=0.3", "/io/cancel?delay=0&after=0"};
    for (size_t i = 0; i < 2; i++) {
        http_res r;
        cr_assert_eq(http_get(&ts, ties[i], &r), 0);
        cr_assert_eq(r.status, 200);
        cr_assert(json_is_true(json_object_get(r.json, "cancelled")), "%s: %s", ties[i], r.body);
        cr_assert_str_eq(str(r.json, "message"), "slow task cancelled safely");
        http_res_free(&r);
    }
}

Test(http_io, wait_for_tie_goes_to_the_timeout)
{
    static const char *ties[] = {"/io/wait_for?delay=0.3&timeout=0.3",
                                 "/io/wait_for?delay=0&timeout=0"};
    for (size_t i = 0; i < 2; i++) {
        http_res r;
        cr_assert_eq(http_get(&ts, ties[i], &r), 0);
        cr_assert_eq(r.status, 200);
        cr_assert(json_is_true(json_object_get(r.json, "timed_out")), "%s: %s", ties[i], r.body);
        cr_assert_str_eq(str(r.json, "message"), "timeout!");
        http_res_free(&r);
    }
}

Test(http_io, wait_for_both_ways)
{
    http_res r;
    http_get(&ts, "/io/wait_for", &r);
    cr_assert(json_is_true(json_object_get(r.json, "timed_out")));
    cr_assert_str_eq(str(r.json, "message"), "timeout!");
    cr_assert_float_eq(num(r.json, "timeout"), 0.8, 1e-12);
    double e = num(r.json, "elapsed");
    cr_assert(e >= 0.8 && e < 1.9, "elapsed %.3f: ~timeout, not ~delay (2.0)", e);
    http_res_free(&r);
    http_get(&ts, "/io/wait_for?delay=0.05&timeout=1.2", &r);
    cr_assert(json_is_false(json_object_get(r.json, "timed_out")));
    cr_assert_str_eq(str(r.json, "result"), "maybe-slow done after 0.05s");
    http_res_free(&r);
}

Test(http_io, semaphore_defaults_are_the_seed)
{
    http_res r;
    http_get(&ts, "/io/semaphore", &r);
    cr_assert_eq(r.status, 200);
    json_t *res = json_object_get(r.json, "results");
    cr_assert_eq(json_array_size(res), 6);
    cr_assert_str_eq(json_string_value(json_array_get(res, 0)), "job 0 after 0.1s");
    cr_assert_str_eq(json_string_value(json_array_get(res, 1)), "job 1 after 0.30000000000000004s");
    cr_assert_str_eq(json_string_value(json_array_get(res, 2)), "job 2 after 0.5s");
    cr_assert_eq(json_integer_value(json_object_get(r.json, "limit")), 2);
    cr_assert_leq(json_integer_value(json_object_get(r.json, "max_in_flight")), 2);
    http_res_free(&r);
}

Test(http_io, semaphore_never_exceeds_limit)
{
    http_res r;
    http_get(&ts, "/io/semaphore?jobs=9&limit=3&delays=0.1,0.2,0.1,0.3,0.1,0.2,0.1,0.1,0.2", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "max_in_flight")), 3);
    json_t *tl = json_object_get(r.json, "timeline");
    cr_assert_eq(json_array_size(tl), 9);
    /* at every job start, count the jobs whose interval covers that instant */
    for (size_t i = 0; i < 9; i++) {
        double t = num(json_array_get(tl, i), "start");
        int inside = 0;
        for (size_t k = 0; k < 9; k++) {
            json_t *e = json_array_get(tl, k);
            inside += num(e, "start") <= t && t < num(e, "end");
        }
        cr_assert_leq(inside, 3, "%d jobs in flight at %.6f", inside, t);
    }
    /* 9 jobs, 3 at a time: well above the longest job, well below the sum */
    double e = num(r.json, "elapsed");
    cr_assert(e > 0.35 && e < 1.4 * 0.95, "elapsed %.3f", e);
    http_res_free(&r);
}

Test(http_io, many_concurrent_sleepers_on_one_loop)
{
    double secs;
    int ok = http_get_many(&ts, "/io/job?delay=1", 300, &secs);
    cr_assert_eq(ok, 300);
    /* 300 one-second waits at once: ~1 s, nowhere near 300 s */
    cr_assert_lt(secs, 6.0, "took %.2f s", secs);
}

static long loop_field(const char *field)
{
    http_res r;
    http_get(&ts, "/loop", &r);
    long v = (long)json_integer_value(json_object_get(r.json, field));
    http_res_free(&r);
    return v;
}

Test(http_io, disconnect_cancels_timers)
{
    cr_assert_eq(loop_field("active_timers"), 0);
    /* a client that gives up after 0.3 s on a 30 s gather of 3 timers */
    cr_assert_eq(http_get_abandon(&ts, "/io/gather?delays=30,30,30", 300), 0);
    double t0 = now_secs();
    long timers;
    while ((timers = loop_field("active_timers")) != 0 && now_secs() - t0 < 5)
        usleep(20000);
    cr_assert_eq(timers, 0, "the abandoned request's timers are still armed");
    cr_assert_eq(loop_field("suspended"), 0);
}
