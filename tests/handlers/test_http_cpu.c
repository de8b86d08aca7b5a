/*
 * test_http_cpu.c - the CPU endpoints over real HTTP: exact results, the
 * executor vs the loop (a stalled loop is many times slower to answer
 * /healthz), a full queue answers 503, a client that leaves frees its worker.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
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

static json_int_t inum(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

TestSuite(http_cpu, .init = setup, .fini = teardown, .timeout = 90);

Test(http_cpu, executor_defaults)
{
    http_res r;
    http_get(&ts, "/cpu/executor", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(inum(r.json, "n"), 3);
    cr_assert_eq(inum(r.json, "iterations"), 1000000);
    cr_assert_eq(inum(r.json, "result"), cpu_heavy_reference(3, 1000000));
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "ran_on")), "executor");
    json_int_t w = inum(r.json, "worker");
    cr_assert(w >= 0 && w < 2);
    cr_assert(json_is_real(json_object_get(r.json, "queued")));
    char st[256];
    cr_assert_eq(http_header(&r, "Server-Timing", st, sizeof(st)), 0);
    cr_assert(strstr(st, "queue;dur=") && strstr(st, "cpu;dur=") && strstr(st, "total;dur="), "%s",
              st);
    http_res_free(&r);
}

Test(http_cpu, exact_for_extreme_n)
{
    const char *paths[] = {"/cpu/executor?n=-5&iterations=1000",
                           "/cpu/executor?n=-9223372036854775808&iterations=999",
                           "/cpu/blocking?n=9223372036854775807&iterations=1001"};
    int64_t ns[] = {-5, INT64_MIN, INT64_MAX}, its[] = {1000, 999, 1001};
    for (int i = 0; i < 3; i++) {
        http_res r;
        http_get(&ts, paths[i], &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cr_assert_eq(inum(r.json, "n"), ns[i]);
        cr_assert_eq(inum(r.json, "result"), cpu_heavy_reference(ns[i], its[i]), "%s", paths[i]);
        http_res_free(&r);
    }
}

Test(http_cpu, ms_burns_cpu_time)
{
    http_res r;
    http_get(&ts, "/cpu/executor?ms=100", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(inum(r.json, "ms"), 100);
    cr_assert_gt(inum(r.json, "iterations"), 0);
    cr_assert_geq(json_number_value(json_object_get(r.json, "cpu_time")), 0.099);
    cr_assert_eq(inum(r.json, "result"), cpu_heavy_reference(3, inum(r.json, "iterations")));
    http_res_free(&r);
}

Test(http_cpu, blocking_reports_the_loop)
{
    http_res r;
    http_get(&ts, "/cpu/blocking?ms=50", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "ran_on")), "event_loop");
    cr_assert_geq(json_number_value(json_object_get(r.json, "blocked_loop_for")), 0.049);
    http_res_free(&r);
}

Test(http_cpu, blocking_stalls_healthz_executor_does_not)
{
    double stalled = ts_healthz_during(&ts, "/cpu/blocking?ms=1000");
    double free_loop = ts_healthz_during(&ts, "/cpu/executor?ms=1000");
    /* the stalled probe waits out the rest of the second; the other answers at once */
    cr_assert_geq(stalled, 0.4, "healthz during /cpu/blocking took %.3f s", stalled);
    cr_assert_gt(stalled / free_loop, 4.0, "blocking %.3f s vs executor %.3f s", stalled,
                 free_loop);
}

Test(http_cpu, gather_runs_every_job)
{
    http_res r;
    http_get(&ts, "/cpu/gather?ns=3,5,-2&iterations=200000", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *res = json_object_get(r.json, "results");
    cr_assert_eq(json_array_size(res), 3);
    int64_t ns[] = {3, 5, -2};
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(json_integer_value(json_array_get(res, i)),
                     cpu_heavy_reference(ns[i], 200000));
    http_res_free(&r);

    http_get(&ts, "/cpu/gather?ms=200", &r);
    cr_assert_eq(r.status, 200);
    double sum = json_number_value(json_object_get(r.json, "sum_of_job_times"));
    double el = json_number_value(json_object_get(r.json, "elapsed"));
    double sp = json_number_value(json_object_get(r.json, "speedup"));
    cr_assert_geq(sum, 0.39, "two 200 ms jobs used %.3f s of CPU", sum);
    cr_assert_float_eq(sp, sum / el, 0.01);
    http_res_free(&r);
}

static void one_worker(config *c)
{
    c->workers = 1;
    c->queue = 1;
}

Test(http_cpu_limits, queue_full_is_503, .timeout = 90)
{
    ts_start(&ts, one_worker);
    http_async running, queued;
    http_get_async(&running, &ts, "/cpu/executor?ms=700");
    usleep(200000);
    http_get_async(&queued, &ts, "/cpu/executor?ms=10");
    usleep(200000);
    http_res r;
    http_get(&ts, "/cpu/executor?ms=10", &r);
    cr_assert_eq(r.status, 503, "%ld %s", r.status, r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "detail")), "executor queue full");
    char ra[16];
    cr_assert_eq(http_header(&r, "Retry-After", ra, sizeof(ra)), 0);
    http_res_free(&r);
    http_join(&running);
    http_join(&queued);
    cr_assert_eq(running.res.status, 200);
    cr_assert_eq(queued.res.status, 200, "the queued job must not be lost");
    http_res_free(&running.res);
    http_res_free(&queued.res);
    ts_stop(&ts);
}

Test(http_cpu_limits, disconnect_frees_the_worker, .timeout = 90)
{
    ts_start(&ts, one_worker);
    /* the only worker takes a 30 s job; its client hangs up after 0.3 s */
    cr_assert_eq(http_get_abandon(&ts, "/cpu/executor?ms=30000", 300), 0);
    http_res r;
    http_get(&ts, "/cpu/executor?ms=10", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_lt(r.secs, 5.0, "the worker was still busy with the abandoned job");
    http_res_free(&r);
    ts_stop(&ts);
}

Test(http_cpu_limits, shutdown_with_running_job_is_clean, .timeout = 90)
{
    ts_start(&ts, one_worker);
    http_async a;
    http_get_async(&a, &ts, "/cpu/executor?ms=30000");
    usleep(300000);
    double t0 = now_secs();
    ts_stop(&ts); /* cancels the job, joins the worker, frees everything */
    cr_assert_lt(now_secs() - t0, 5.0);
    http_join(&a);
    cr_assert_neq(a.res.status, 200);
    http_res_free(&a.res);
}

/* nice value of every thread of this process named like prefix; returns count */
static int thread_nices(const char *prefix, int *nices, int max)
{
    char path[300], comm[64];
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        int ok = fgets(comm, sizeof(comm), f) && !strncmp(comm, prefix, strlen(prefix));
        fclose(f);
        if (!ok) continue;
        errno = 0;
        int nice = getpriority(PRIO_PROCESS, (id_t)atoi(e->d_name));
        if (errno == 0) nices[n++] = nice;
    }
    if (d) closedir(d);
    return n;
}

Test(http_cpu, workers_yield_to_the_loop)
{
    int nices[8];
    int n = 0;
    /* workers name and renice themselves as they start: give them a moment */
    for (double t0 = now_secs(); now_secs() - t0 < 5 && n < 2; usleep(10000))
        n = thread_nices("iocpu-worker", nices, 8);
    cr_assert_eq(n, 2, "expected 2 named worker threads, found %d", n);
    int loop_nice = getpriority(PRIO_PROCESS, 0);
    for (int i = 0; i < n; i++)
        cr_assert_gt(nices[i], loop_nice, "worker nice %d vs loop %d", nices[i], loop_nice);
}
