/*
 * test_http_loops.c - `--loops N`: several event loops on one port
 * (SO_REUSEPORT). Connections spread across the loops, every endpoint gives
 * the same answers on every loop, /tasks operations from loops other than 0
 * are forwarded to the task store on loop 0 (waits included), /loop and
 * /metrics sum every loop, and a drain stops them all. Also --replica-id.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "prom_check.h"
#include "rawsock.h"

static test_server ts;

static void two_loops(config *c)
{
    c->loops = 2;
}

static void two_loops_short_grace(config *c)
{
    c->loops = 2;
    c->grace = 0.5;
}

static void all_cores(config *c)
{
    c->loops = 0;
}

static void replica_r7(config *c)
{
    c->loops = 2;
    strcpy(c->replica_id, "r7");
}

/* The X-Iocpu-Loop of a response, or -1. */
static int loop_of(const http_res *r)
{
    char v[16];
    return http_header(r, "X-Iocpu-Loop", v, sizeof(v)) == 0 ? atoi(v) : -1;
}

/* The bearer token expect() and on_both_loops() send (NULL: none). */
static const char *auth;

/* GET/DELETE/POST on a new connection (each call is one); asserts the status
 * and records which loop answered in seen[]. */
static void expect(const char *method, const char *path, const char *body, long status, int seen[2],
                   http_res *out)
{
    http_res r;
    cr_assert_eq(http_do_auth(&ts, method, path, body, auth, &r), 0, "%s %s: transport error",
                 method, path);
    cr_assert_eq(r.status, status, "%s %s: %ld %s", method ? method : "GET", path, r.status,
                 r.body);
    int l = loop_of(&r);
    cr_assert(l == 0 || l == 1, "%s: X-Iocpu-Loop %d", path, l);
    seen[l]++;
    if (out)
        *out = r;
    else
        http_res_free(&r);
}

Test(loops, connections_spread_across_loops, .timeout = 60)
{
    ts_start(&ts, two_loops);
    int seen[2] = {0, 0};
    for (int i = 0; i < 64; i++)
        expect(NULL, "/healthz", NULL, 200, seen, NULL);
    /* the kernel hashes each new connection to one of the two listeners */
    cr_assert(seen[0] > 0 && seen[1] > 0, "loop 0: %d, loop 1: %d", seen[0], seen[1]);
    usleep(250000); /* the other loop publishes its figures every 100 ms */
    http_res r;
    cr_assert_eq(http_get(&ts, "/loop", &r), 0);
    json_t *loops = json_object_get(r.json, "loops");
    cr_assert_eq(json_array_size(loops), 2, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "loop")), loop_of(&r));
    long long served = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *l = json_array_get(loops, i);
        cr_assert_eq(json_integer_value(json_object_get(l, "loop")), (json_int_t)i);
        served += json_integer_value(json_object_get(l, "served"));
    }
    /* the 64 health checks, as counted by the loops */
    cr_assert_eq(served, 64, "served %lld: %s", served, r.body);
    http_res_free(&r);
    ts_stop(&ts);
}

Test(loops, metrics_sum_every_loop, .timeout = 60)
{
    ts_start(&ts, two_loops);
    int seen[2] = {0, 0};
    for (int i = 0; i < 40; i++)
        expect(NULL, "/io/job?delay=0", NULL, 200, seen, NULL);
    cr_assert(seen[0] > 0 && seen[1] > 0);
    usleep(250000); /* let both loops publish */
    http_res r;
    cr_assert_eq(http_get(&ts, "/metrics", &r), 0);
    prom_doc d;
    char err[256];
    cr_assert_eq(prom_parse(r.body, &d, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(prom_value_of(&d, "iocpu_http_requests_total",
                               "method=\"GET\",route=\"/io/job\",code=\"200\""),
                 40.0, "%s", r.body);
    cr_assert_eq(prom_value_of(&d, "iocpu_loops", ""), 2.0);
    cr_assert_str_eq(prom_type_of(&d, "iocpu_loop_requests_total"), "counter");
    double l0 = prom_value_of(&d, "iocpu_loop_requests_total", "loop=\"0\"");
    double l1 = prom_value_of(&d, "iocpu_loop_requests_total", "loop=\"1\"");
    cr_assert_eq(l0 + l1, 40.0, "loop 0 %g + loop 1 %g", l0, l1);
    cr_assert(l0 > 0 && l1 > 0);
    prom_doc_free(&d);
    http_res_free(&r);
    ts_stop(&ts);
}

/* Each endpoint, several times on new connections, until both loops served it. */
static void on_both_loops(const char *method, const char *path, const char *body, long status,
                          const char *needle)
{
    int seen[2] = {0, 0};
    for (int i = 0; i < 200 && (!seen[0] || !seen[1]); i++) {
        http_res r;
        expect(method, path, body, status, seen, &r);
        if (needle) cr_assert(strstr(r.body, needle), "%s: %s", path, r.body);
        http_res_free(&r);
    }
    cr_assert(seen[0] && seen[1], "%s never reached both loops", path);
}

Test(loops, every_endpoint_on_every_loop, .timeout = 120)
{
    ts_start(&ts, two_loops);
    on_both_loops(NULL, "/", NULL, 200, "\"endpoints\"");
    on_both_loops(NULL, "/healthz", NULL, 200, "\"ok\"");
    on_both_loops(NULL, "/readyz", NULL, 200, "ready");
    on_both_loops(NULL, "/openapi.json", NULL, 200, "\"openapi\"");
    on_both_loops(NULL, "/io/job?name=x&delay=0.01", NULL, 200, "x done after 0.01s");
    on_both_loops(NULL, "/io/gather?delays=0.02,0.01", NULL, 200, "\"finish_order\":[\"B\",\"A\"]");
    on_both_loops(NULL, "/io/sequential?delays=0.01,0.01", NULL, 200, "sum_of_delays");
    on_both_loops(NULL, "/io/as_completed?delays=0.02,0.01", NULL, 200, "\"done\":true");
    on_both_loops(NULL, "/io/cancel?delay=1&after=0.01", NULL, 200, "\"cancelled\":true");
    on_both_loops(NULL, "/io/wait_for?delay=1&timeout=0.01", NULL, 200, "timeout!");
    on_both_loops(NULL, "/io/semaphore?jobs=3&limit=2&delays=0.01,0.01,0.01", NULL, 200,
                  "\"max_in_flight\":2");
    on_both_loops(NULL, "/cpu/executor?n=3&iterations=1000", NULL, 200, "\"result\":2999");
    on_both_loops(NULL, "/cpu/blocking?n=3&iterations=1000", NULL, 200, "\"result\":2999");
    on_both_loops(NULL, "/cpu/gather?ns=3,5&iterations=1000", NULL, 200, "\"results\":[2999,3001]");
    on_both_loops(NULL, "/loop", NULL, 200, "\"loops\"");
    on_both_loops(NULL, "/metrics", NULL, 200, "iocpu_loops 2");
    on_both_loops(NULL, "/io/job?delay=-1", NULL, 422, "greater_than_equal");
    on_both_loops(NULL, "/nope", NULL, 404, "Not Found");
    on_both_loops("POST", "/io/job", NULL, 405, "Method Not Allowed");
    /* tasks: the store is on loop 0, loop 1 forwards */
    on_both_loops("POST", "/tasks", "{\"kind\":\"io\",\"delay\":0}", 202, "\"id\"");
    on_both_loops("POST", "/tasks", "{\"kind\":\"cpu\",\"iterations\":1000}", 202, "\"id\"");
    on_both_loops("POST", "/tasks", "{\"kind\":\"io\",\"delay\":-1}", 422, "greater_than_equal");
    on_both_loops(NULL, "/tasks?limit=3", NULL, 401, "Not authenticated");
    auth = TEST_ADMIN_TOKEN;
    on_both_loops(NULL, "/tasks?limit=3", NULL, 200, "\"count\":3");
    on_both_loops(NULL, "/tasks/0123456789abcdef0123456789abcdef", NULL, 404, "Not Found");
    on_both_loops("DELETE", "/tasks/0123456789abcdef0123456789abcdef", NULL, 404, "Not Found");
    auth = NULL;
    ts_stop(&ts);
}

static char owner_token[80]; /* of the task create() made last */

/* POSTs a task, returns its id (static buffer); its owner token in owner_token. */
static const char *create(const char *body)
{
    static char id[80];
    http_res r;
    cr_assert_eq(http_do(&ts, "POST", "/tasks", body, &r), 0);
    cr_assert_eq(r.status, 202, "%s", r.body);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r.json, "id")));
    snprintf(owner_token, sizeof(owner_token), "%s",
             json_string_value(json_object_get(r.json, "owner_token")));
    http_res_free(&r);
    return id;
}

Test(loops, task_lifecycle_through_both_loops, .timeout = 60)
{
    ts_start(&ts, two_loops);
    char path[160];
    snprintf(path, sizeof(path), "/tasks/%s", create("{\"kind\":\"cpu\",\"ms\":60000}"));
    int seen[2] = {0, 0};
    for (int i = 0; i < 200 && (!seen[0] || !seen[1]); i++)
        expect(NULL, path, NULL, 200, seen, NULL);
    cr_assert(seen[0] && seen[1]);
    /* the token is checked on loop 0, where its hash is: a forwarded DELETE
     * without it or with another's is refused from either loop */
    char mine[80];
    snprintf(mine, sizeof(mine), "%s", owner_token);
    on_both_loops("DELETE", path, NULL, 401, "Not authenticated");
    create("{\"kind\":\"io\",\"delay\":30}");
    auth = owner_token; /* the other task's */
    on_both_loops("DELETE", path, NULL, 403, "the token does not own this task");
    on_both_loops(NULL, path, NULL, 200, "\"status\":\"running\"");
    /* cancel from whichever loop; then 409 from every loop */
    auth = mine;
    expect("DELETE", path, NULL, 200, seen, NULL);
    on_both_loops("DELETE", path, NULL, 409, "task already finished");
    auth = NULL;
    on_both_loops(NULL, path, NULL, 200, "\"status\":\"cancelled\"");
    ts_stop(&ts);
}

Test(loops, forwarded_waits_are_woken, .timeout = 60)
{
    ts_start(&ts, two_loops);
    char path[200];
    snprintf(path, sizeof(path), "/tasks/%s?wait=10", create("{\"kind\":\"io\",\"delay\":0.6}"));
    enum { N = 16 };
    http_async a[N];
    for (int i = 0; i < N; i++)
        http_get_async(&a[i], &ts, path);
    int seen[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        http_join(&a[i]);
        cr_assert_eq(a[i].res.status, 200, "%s", a[i].res.body);
        cr_assert_str_eq(json_string_value(json_object_get(a[i].res.json, "status")), "done");
        cr_assert(a[i].res.secs < 3.0, "waited %.3f s", a[i].res.secs);
        int l = loop_of(&a[i].res);
        cr_assert(l == 0 || l == 1);
        seen[l]++;
        http_res_free(&a[i].res);
    }
    cr_assert(seen[0] && seen[1], "loop 0: %d, loop 1: %d", seen[0], seen[1]);
    /* a wait that times out answers the task as it is, from either loop */
    snprintf(path, sizeof(path), "/tasks/%s?wait=0.2", create("{\"kind\":\"io\",\"delay\":30}"));
    on_both_loops(NULL, path, NULL, 200, "\"status\":\"running\"");
    ts_stop(&ts);
}

Test(loops, a_waiter_that_leaves_is_harmless, .timeout = 60)
{
    ts_start(&ts, two_loops);
    char path[200];
    snprintf(path, sizeof(path), "/tasks/%s?wait=0.5", create("{\"kind\":\"io\",\"delay\":30}"));
    for (int i = 0; i < 8; i++)
        cr_assert_eq(http_get_abandon(&ts, path, 100), 0);
    usleep(800000); /* the forwarded waits time out on loop 0 and come back to nobody */
    int seen[2] = {0, 0};
    for (int i = 0; i < 8; i++)
        expect(NULL, "/healthz", NULL, 200, seen, NULL);
    wait_loop_state(&ts, "requests", 1, 5.0); /* only the /loop asking */
    ts_stop(&ts);                             /* ASan: nothing leaked */
}

static double metric(const char *name)
{
    double v = ts_metric(&ts, name, "");
    cr_assert_geq(v, 0, "%s missing", name);
    return v;
}

/* Polls /metrics until name is want, at most secs; returns what it was last. */
static double metric_becomes(const char *name, double want, double secs)
{
    return ts_metric_becomes(&ts, name, "", want, secs);
}

/* N clients send a GET ?wait= and leave: the waits forwarded from loop 1 end
 * on loop 0 with them (its timers and waiter records go), well before the
 * wait would have. */
Test(loops, a_forwarded_wait_ends_on_loop_0_when_its_client_leaves, .timeout = 90)
{
    enum { N = 400 };
    ts_start(&ts, two_loops);
    char path[200];
    snprintf(path, sizeof(path), "/tasks/%s?wait=50", create("{\"kind\":\"io\",\"delay\":60}"));
    /* the task's own timer (another loop's figures may be 100 ms old) */
    double timers0 = metric_becomes("iocpu_loop_active_timers", 1, 5);
    cr_assert_eq(timers0, 1);
    int *fds = calloc(N, sizeof(int));
    char req[300];
    int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    for (int i = 0; i < N; i++) {
        fds[i] = raw_connect(ts.port);
        cr_assert_geq(fds[i], 0);
        cr_assert_eq(raw_send(fds[i], req, (size_t)len), 0);
    }
    cr_assert_eq(metric_becomes("iocpu_http_requests_in_flight", N + 1, 20), N + 1);
    double fwd = metric("iocpu_task_forwarded_calls");
    cr_assert(fwd > 0 && fwd < N, "%g of %d waits forwarded: SO_REUSEPORT used one loop", fwd, N);
    cr_assert_geq(metric("iocpu_loop_active_timers"), timers0 + N, "each wait holds a timer");
    for (int i = 0; i < N; i++)
        close(fds[i]);
    free(fds);
    double left = metric_becomes("iocpu_task_forwarded_calls", 0, 10);
    cr_assert_eq(left, 0, "loop 0 still holds %g of %g forwarded waits", left, fwd);
    double timers = metric_becomes("iocpu_loop_active_timers", timers0, 10);
    cr_assert_eq(timers, timers0, "%g timers left, %g before the waits", timers, timers0);
    cr_assert_eq(metric("iocpu_task_forwarded_waits_cancelled_total"), fwd);
    cr_assert_eq(metric_becomes("iocpu_http_requests_in_flight", 1, 10), 1);
    ts_stop(&ts); /* ASan: every call freed once */
}

Test(loops, drain_stops_every_loop, .timeout = 60)
{
    ts_start(&ts, two_loops);
    enum { N = 12 };
    http_async a[N];
    for (int i = 0; i < N; i++)
        http_get_async(&a[i], &ts, "/io/job?delay=1");
    usleep(300000);
    server_drain(ts.s);
    int seen[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        http_join(&a[i]);
        cr_assert_eq(a[i].res.status, 200, "%s", a[i].res.body);
        seen[loop_of(&a[i].res) == 1]++;
        http_res_free(&a[i].res);
    }
    cr_assert(seen[0] && seen[1], "in flight on loop 0: %d, loop 1: %d", seen[0], seen[1]);
    /* server_run() returns only once every loop has stopped and been joined */
    double t0 = now_secs();
    int joined = 0;
    while (!joined && now_secs() - t0 < 5) {
        joined = pthread_tryjoin_np(ts.thread, NULL) == 0;
        usleep(10000);
    }
    cr_assert(joined, "the loops did not stop once drained");
    http_res r;
    cr_assert_eq(http_get(&ts, "/healthz", &r), -1, "a new connection was accepted");
    http_res_free(&r);
    server_free(ts.s);
}

Test(loops, drain_deadline_answers_forwarded_waits, .timeout = 60)
{
    ts_start(&ts, two_loops_short_grace);
    char path[200];
    snprintf(path, sizeof(path), "/tasks/%s?wait=30", create("{\"kind\":\"io\",\"delay\":60}"));
    enum { N = 8 };
    http_async a[N];
    for (int i = 0; i < N; i++)
        http_get_async(&a[i], &ts, path);
    usleep(300000);
    double t0 = now_secs();
    server_drain(ts.s);
    for (int i = 0; i < N; i++) {
        http_join(&a[i]);
        /* loop 0 answers its waits with the task as it is; loop 1's own
         * deadline may answer first with 503: either way, within the grace */
        cr_assert(a[i].res.status == 200 || a[i].res.status == 503, "%ld %s", a[i].res.status,
                  a[i].res.body);
        http_res_free(&a[i].res);
    }
    cr_assert_lt(now_secs() - t0, 4.0);
    double t1 = now_secs();
    int joined = 0;
    while (!joined && now_secs() - t1 < 5) {
        joined = pthread_tryjoin_np(ts.thread, NULL) == 0;
        usleep(10000);
    }
    cr_assert(joined);
    server_free(ts.s);
}

Test(loops, zero_means_one_per_core, .timeout = 30)
{
    ts_start(&ts, all_cores);
    cr_assert_eq(server_loops(ts.s), sysconf(_SC_NPROCESSORS_ONLN));
    ts_stop(&ts);
}

Test(loops, replica_prefix_routes_and_never_aliases, .timeout = 60)
{
    ts_start(&ts, replica_r7);
    http_res r;
    cr_assert_eq(http_do(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":30}", &r), 0);
    cr_assert_eq(r.status, 202);
    const char *id = json_string_value(json_object_get(r.json, "id"));
    cr_assert(id && strlen(id) == 3 + 32 && !strncmp(id, "r7-", 3), "id %s", id);
    char hex[40], v[64], path[160];
    snprintf(hex, sizeof(hex), "%s", id + 3);
    cr_assert_eq(http_header(&r, "Location", v, sizeof(v)), 0);
    snprintf(path, sizeof(path), "/tasks/%s", id);
    cr_assert_str_eq(v, path);
    cr_assert_eq(http_header(&r, "X-Iocpu-Replica", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "r7");
    http_res_free(&r);
    on_both_loops(NULL, path, NULL, 200, "\"id\":\"r7-");
    /* the bare store id, or another replica's prefix, is unknown here */
    snprintf(path, sizeof(path), "/tasks/%s", hex);
    on_both_loops(NULL, path, NULL, 404, "Not Found");
    snprintf(path, sizeof(path), "/tasks/r8-%s", hex);
    on_both_loops(NULL, path, NULL, 404, "Not Found");
    auth = TEST_ADMIN_TOKEN;
    on_both_loops("DELETE", path, NULL, 404, "Not Found");
    auth = NULL;
    snprintf(path, sizeof(path), "/tasks/r7%s", hex);
    on_both_loops(NULL, path, NULL, 404, "Not Found");
    ts_stop(&ts);
}
