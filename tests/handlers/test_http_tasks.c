/*
 * test_http_tasks.c - the task endpoints over real HTTP: create (202 +
 * Location), await with ?wait (early when the task ends, on time when it
 * does not, many waiters at once, a waiter that leaves), cancel at every
 * stage, exact results, every bad body, the body limit, the caps (503),
 * the list, eviction, the flags, and a clean shutdown.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

TestSuite(http_tasks, .init = setup, .fini = teardown, .timeout = 90);

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static json_int_t inum(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* The owner tokens of the tasks this test created (each test is a process). */
static struct {
    char id[33], token[65];
} owners[64];
static size_t nowners;

/* The owner token of id, or a well-formed token that owns nothing. */
static const char *owner_of(const char *id)
{
    for (size_t i = 0; i < nowners; i++)
        if (!strcmp(owners[i].id, id)) return owners[i].token;
    return "0000000000000000000000000000000000000000000000000000000000000000";
}

/* POSTs body to /tasks, expects 202, copies the id out (and keeps its owner
 * token for delete_task); returns the response. */
static void create(const char *body, char id[33], http_res *r)
{
    http_do(&ts, "POST", "/tasks", body, r);
    cr_assert_eq(r->status, 202, "%s -> %ld %s", body, r->status, r->body);
    const char *got = str(r->json, "id"), *token = str(r->json, "owner_token");
    cr_assert_not_null(got, "%s", r->body);
    cr_assert_eq(strlen(got), 32, "%s", got);
    cr_assert(token && strlen(token) == 64 && strspn(token, "0123456789abcdef") == 64, "%s",
              r->body);
    strcpy(id, got);
    if (nowners < sizeof(owners) / sizeof(owners[0])) {
        strcpy(owners[nowners].id, got);
        strcpy(owners[nowners++].token, token);
    }
}

static void create_id(const char *body, char id[33])
{
    http_res r;
    create(body, id, &r);
    http_res_free(&r);
}

/* GET /tasks/<id><query>. */
static void get_task(const char *id, const char *query, http_res *r)
{
    char path[256];
    snprintf(path, sizeof(path), "/tasks/%s%s", id, query);
    http_get(&ts, path, r);
}

/* DELETE /tasks/<id> with token (NULL: no Authorization). */
static void delete_as(const char *id, const char *token, http_res *r)
{
    char path[256];
    snprintf(path, sizeof(path), "/tasks/%s", id);
    http_do_auth(&ts, "DELETE", path, NULL, token, r);
}

/* DELETE /tasks/<id> as its owner. */
static void delete_task(const char *id, http_res *r)
{
    delete_as(id, owner_of(id), r);
}

/* Polls the task until its status is `want` (5 s at most). */
static void await_status(const char *id, const char *want)
{
    double t0 = now_secs();
    for (;;) {
        http_res r;
        get_task(id, "", &r);
        int ok = r.status == 200 && !strcmp(str(r.json, "status"), want);
        http_res_free(&r);
        if (ok) return;
        cr_assert_lt(now_secs() - t0, 5.0, "task %s never became %s", id, want);
        usleep(10000);
    }
}

/* --- create and await ---------------------------------------------------- */

Test(http_tasks, io_task_is_created_then_awaited)
{
    http_res r;
    char id[33];
    create("{\"kind\":\"io\",\"delay\":0.3}", id, &r);
    cr_assert_eq(strspn(id, "0123456789abcdef"), 32, "%s", id);
    char loc[128], want[128];
    cr_assert_eq(http_header(&r, "Location", loc, sizeof(loc)), 0);
    snprintf(want, sizeof(want), "/tasks/%s", id);
    cr_assert_str_eq(loc, want);
    cr_assert_str_eq(str(r.json, "kind"), "io");
    cr_assert_str_eq(str(r.json, "status"), "running");
    cr_assert_float_eq(num(r.json, "delay"), 0.3, 1e-12);
    double created = num(r.json, "created_at");
    cr_assert_lt(fabs(created - (double)time(NULL)), 60, "created_at is Unix time: %f", created);
    cr_assert_null(json_object_get(r.json, "result"));
    cr_assert_null(json_object_get(r.json, "finished_at"));
    http_res_free(&r);

    get_task(id, "?wait=20", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_lt(r.secs, 5.0, "wait returns when the task ends, not after 20 s");
    cr_assert_str_eq(str(r.json, "status"), "done");
    cr_assert_str_eq(str(r.json, "result"), "task done after 0.3s");
    cr_assert_str_eq(str(r.json, "id"), id);
    double el = num(r.json, "elapsed");
    cr_assert_geq(el, 0.299, "elapsed %.6f", el);
    cr_assert_float_eq(num(r.json, "finished_at") - num(r.json, "started_at"), el, 0.002);
    cr_assert_float_eq(num(r.json, "created_at"), created, 1e-9);
    http_res_free(&r);
}

Test(http_tasks, cpu_tasks_give_the_exact_result)
{
    const char *bodies[] = {
        "{\"kind\":\"cpu\"}",
        "{\"kind\":\"cpu\",\"n\":-5,\"iterations\":100000}",
        "{\"kind\":\"cpu\",\"n\":-9223372036854775808,\"iterations\":999}",
        "{\"kind\":\"cpu\",\"n\":9223372036854775807,\"iterations\":1001}",
        "{\"kind\":\"cpu\",\"n\":5.0,\"iterations\":7e3}",
    };
    int64_t ns[] = {3, -5, INT64_MIN, INT64_MAX, 5}, its[] = {1000000, 100000, 999, 1001, 7000};
    char ids[5][33];
    for (int i = 0; i < 5; i++)
        create_id(bodies[i], ids[i]);
    for (int i = 0; i < 5; i++) {
        http_res r;
        get_task(ids[i], "?wait=30", &r);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(str(r.json, "status"), "done", "%s", r.body);
        cr_assert_eq(inum(r.json, "n"), ns[i], "%s", r.body);
        cr_assert_eq(inum(r.json, "iterations"), its[i], "%s", r.body);
        cr_assert_eq(inum(r.json, "result"), cpu_heavy_reference(ns[i], its[i]), "%s", bodies[i]);
        cr_assert_geq(num(r.json, "started_at"), num(r.json, "created_at"));
        cr_assert(json_is_real(json_object_get(r.json, "elapsed")));
        http_res_free(&r);
    }
}

Test(http_tasks, cpu_task_by_time)
{
    char id[33];
    create_id("{\"kind\":\"cpu\",\"ms\":100}", id);
    http_res r;
    get_task(id, "?wait=30", &r);
    cr_assert_str_eq(str(r.json, "status"), "done", "%s", r.body);
    cr_assert_eq(inum(r.json, "ms"), 100);
    json_int_t it = inum(r.json, "iterations");
    cr_assert_gt(it, 0);
    cr_assert_eq(inum(r.json, "result"), cpu_heavy_reference(3, it));
    cr_assert_geq(num(r.json, "elapsed"), 0.099);
    http_res_free(&r);
}

Test(http_tasks, wait_gives_up_on_time_and_zero_does_not_wait)
{
    char id[33];
    create_id("{\"kind\":\"io\",\"delay\":30}", id);
    http_res r;
    get_task(id, "?wait=0.5", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(str(r.json, "status"), "running", "the task goes on");
    cr_assert_geq(r.secs, 0.45, "waited %.3f s of 0.5", r.secs);
    cr_assert_lt(r.secs, 5.0, "waited %.3f s of 0.5", r.secs);
    double waited = r.secs;
    http_res_free(&r);
    get_task(id, "?wait=0", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(str(r.json, "status"), "running");
    cr_assert_lt(r.secs, waited / 2, "wait=0 took %.3f s", r.secs);
    http_res_free(&r);
}

/* Expects a 422 whose first error has this loc and type. */
static void expect_422(const char *method, const char *path, const char *body,
                       const char *const loc[], size_t nloc, const char *type)
{
    http_res r;
    http_do_auth(&ts, method, path, body, TEST_ADMIN_TOKEN, &r); /* GET /tasks needs it */
    cr_assert_eq(r.status, 422, "%s -> %ld %s", body ? body : path, r.status, r.body);
    json_t *e = json_array_get(json_object_get(r.json, "detail"), 0);
    json_t *l = json_object_get(e, "loc");
    cr_assert_eq(json_array_size(l), nloc, "%s: %s", body ? body : path, r.body);
    for (size_t i = 0; i < nloc; i++) {
        json_t *li = json_array_get(l, i);
        if (loc[i])
            cr_assert_str_eq(json_string_value(li), loc[i], "%s: %s", body, r.body);
        else
            cr_assert(json_is_integer(li), "a position in the body: %s", r.body);
    }
    cr_assert_str_eq(str(e, "type"), type, "%s: %s", body ? body : path, r.body);
    cr_assert(json_is_string(json_object_get(e, "msg")));
    http_res_free(&r);
}

#define BODY(...)                                                                                  \
    (const char *const[])                                                                          \
    {                                                                                              \
        "body", __VA_ARGS__                                                                        \
    }

Test(http_tasks, every_bad_body_is_a_422_with_its_loc)
{
    expect_422("POST", "/tasks", "", (const char *const[]){"body"}, 1, "missing");
    expect_422("POST", "/tasks", "abc", BODY(NULL), 2, "json_invalid");
    expect_422("POST", "/tasks", "{\"kind\":\"io\"", BODY(NULL), 2, "json_invalid");
    expect_422("POST", "/tasks", "{\"kind\":\"io\",\"delay\":NaN}", BODY(NULL), 2, "json_invalid");
    expect_422("POST", "/tasks", "[1]", (const char *const[]){"body"}, 1, "model_attributes_type");
    expect_422("POST", "/tasks", "null", (const char *const[]){"body"}, 1, "model_attributes_type");
    expect_422("POST", "/tasks", "\"io\"", (const char *const[]){"body"}, 1,
               "model_attributes_type");
    expect_422("POST", "/tasks", "{}", BODY("kind"), 2, "missing");
    expect_422("POST", "/tasks", "{\"kind\":\"gpu\"}", BODY("kind"), 2, "literal_error");
    expect_422("POST", "/tasks", "{\"kind\":3}", BODY("kind"), 2, "literal_error");
    expect_422("POST", "/tasks", "{\"kind\":\"io\",\"delay\":-1}", BODY("delay"), 2,
               "greater_than_equal");
    expect_422("POST", "/tasks", "{\"kind\":\"io\",\"delay\":60.5}", BODY("delay"), 2,
               "less_than_equal");
    expect_422("POST", "/tasks", "{\"kind\":\"io\",\"delay\":\"1\"}", BODY("delay"), 2,
               "float_type");
    expect_422("POST", "/tasks", "{\"kind\":\"io\",\"delay\":null}", BODY("delay"), 2,
               "float_type");
    expect_422("POST", "/tasks", "{\"kind\":\"io\",\"delay\":1,\"n\":3}", BODY("n"), 2,
               "extra_forbidden");
    expect_422("POST", "/tasks", "{\"kind\":\"cpu\",\"n\":1.5}", BODY("n"), 2, "int_from_float");
    expect_422("POST", "/tasks", "{\"kind\":\"cpu\",\"n\":\"3\"}", BODY("n"), 2, "int_type");
    expect_422("POST", "/tasks", "{\"kind\":\"cpu\",\"n\":true}", BODY("n"), 2, "int_type");
    expect_422("POST", "/tasks", "{\"kind\":\"cpu\",\"n\":1e300}", BODY("n"), 2,
               "int_parsing_size");
    expect_422("POST", "/tasks", "{\"kind\":\"cpu\",\"iterations\":-1}", BODY("iterations"), 2,
               "greater_than_equal");
    expect_422("POST", "/tasks", "{\"kind\":\"cpu\",\"iterations\":5000000001}", BODY("iterations"),
               2, "less_than_equal");
    expect_422("POST", "/tasks", "{\"kind\":\"cpu\",\"ms\":60001}", BODY("ms"), 2,
               "less_than_equal");
    expect_422("POST", "/tasks", "{\"kind\":\"cpu\",\"ms\":10,\"iterations\":10}", BODY("ms"), 2,
               "value_error");
    expect_422("POST", "/tasks", "{\"kind\":\"cpu\",\"delay\":1}", BODY("delay"), 2,
               "extra_forbidden");

    http_res r;
    http_do(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":-1,\"x\":1}", &r);
    cr_assert_eq(json_array_size(json_object_get(r.json, "detail")), 2, "every error: %s", r.body);
    http_res_free(&r);
    http_get_admin(&ts, "/tasks", &r);
    cr_assert_eq(inum(r.json, "count"), 0, "no bad body created a task: %s", r.body);
    http_res_free(&r);
}

Test(http_tasks, bad_query_parameters_are_422)
{
    char id[33];
    create_id("{\"kind\":\"io\",\"delay\":0}", id);
    char path[128];
    const char *waits[] = {"-1", "60.5", "abc", "nan"};
    const char *types[] = {"greater_than_equal", "less_than_equal", "float_parsing",
                           "finite_number"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "/tasks/%s?wait=%s", id, waits[i]);
        expect_422("GET", path, NULL, (const char *const[]){"query", "wait"}, 2, types[i]);
    }
    /* validated before the lookup, like FastAPI */
    expect_422("GET", "/tasks/nope?wait=-1", NULL, (const char *const[]){"query", "wait"}, 2,
               "greater_than_equal");
    expect_422("GET", "/tasks?limit=0", NULL, (const char *const[]){"query", "limit"}, 2,
               "greater_than_equal");
    expect_422("GET", "/tasks?limit=1001", NULL, (const char *const[]){"query", "limit"}, 2,
               "less_than_equal");
    expect_422("GET", "/tasks?limit=x", NULL, (const char *const[]){"query", "limit"}, 2,
               "int_parsing");
}

Test(http_tasks, body_limit_is_64_kib)
{
    enum { MAX = 64 * 1024 };
    const char *json = "{\"kind\":\"io\",\"delay\":0}";
    char *body = malloc(MAX + 2);
    memset(body, ' ', MAX + 1);
    memcpy(body, json, strlen(json));
    body[MAX] = '\0'; /* exactly 64 KiB of valid JSON */
    http_res r;
    http_do(&ts, "POST", "/tasks", body, &r);
    cr_assert_eq(r.status, 202, "64 KiB is allowed: %ld %s", r.status, r.body);
    http_res_free(&r);

    body[MAX] = ' ';
    body[MAX + 1] = '\0';
    http_do(&ts, "POST", "/tasks", body, &r);
    cr_assert_eq(r.status, 413, "64 KiB + 1: %ld %s", r.status, r.body);
    cr_assert_str_eq(str(r.json, "detail"), "Request body too large");
    http_res_free(&r);

    http_post_chunked(&ts, "/tasks", body, MAX + 1, &r);
    cr_assert_eq(r.status, 413, "chunked, no Content-Length: %ld %s", r.status, r.body);
    http_res_free(&r);
    free(body);

    /* a big declared body is refused before it is sent */
    size_t big = 32u << 20;
    char *huge = malloc(big + 1);
    memset(huge, 'x', big);
    huge[big] = '\0';
    http_do(&ts, "POST", "/tasks", huge, &r);
    cr_assert_eq(r.status, 413);
    cr_assert_lt(r.secs, 5.0);
    http_res_free(&r);
    free(huge);

    http_get(&ts, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
}

/* --- cancel ----------------------------------------------------------------- */

static void one_worker(config *c)
{
    c->workers = 1;
    c->queue = 4;
}

Test(http_tasks_1w, cancel_queued_and_running_cpu_tasks, .timeout = 90)
{
    ts_start(&ts, one_worker);
    char a[33], b[33], c[33];
    create_id("{\"kind\":\"cpu\",\"ms\":30000}", a);
    await_status(a, "running");
    create_id("{\"kind\":\"cpu\",\"ms\":30000}", b);
    http_res r;
    get_task(b, "", &r);
    cr_assert_str_eq(str(r.json, "status"), "queued", "one worker, busy: %s", r.body);
    http_res_free(&r);

    delete_task(b, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(str(r.json, "status"), "cancelled");
    cr_assert_null(json_object_get(r.json, "started_at"), "it never ran: %s", r.body);
    cr_assert_not_null(json_object_get(r.json, "finished_at"));
    http_res_free(&r);

    delete_task(a, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(str(r.json, "status"), "cancelled");
    cr_assert_not_null(json_object_get(r.json, "started_at"), "%s", r.body);
    cr_assert_null(json_object_get(r.json, "result"));
    http_res_free(&r);

    /* the only worker is free right after: a short job does not wait 30 s */
    double t0 = now_secs();
    create_id("{\"kind\":\"cpu\",\"iterations\":1000}", c);
    get_task(c, "?wait=30", &r);
    cr_assert_str_eq(str(r.json, "status"), "done", "%s", r.body);
    cr_assert_eq(inum(r.json, "result"), cpu_heavy_reference(3, 1000));
    cr_assert_lt(now_secs() - t0, 5.0, "the cancelled job still held the worker");
    http_res_free(&r);

    for (int i = 0; i < 2; i++) {
        delete_task(i ? b : a, &r);
        cr_assert_eq(r.status, 409, "cancel twice: %ld %s", r.status, r.body);
        cr_assert_str_eq(r.body, "{\"detail\":\"task already finished\"}");
        http_res_free(&r);
    }
    get_task(a, "", &r);
    cr_assert_str_eq(str(r.json, "status"), "cancelled", "it stays cancelled");
    http_res_free(&r);
    ts_stop(&ts);
}

Test(http_tasks, cancel_io_task_and_finished_task)
{
    char id[33], done[33], path[128];
    double t0 = now_secs();
    create_id("{\"kind\":\"io\",\"delay\":1.5}", id);
    snprintf(path, sizeof(path), "/tasks/%s?wait=30", id);
    http_async waiter;
    http_get_async(&waiter, &ts, path);
    usleep(200000);
    http_res r;
    delete_task(id, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(str(r.json, "status"), "cancelled");
    http_res_free(&r);
    http_join(&waiter);
    cr_assert_eq(waiter.res.status, 200);
    cr_assert_str_eq(str(waiter.res.json, "status"), "cancelled", "the waiter is woken");
    cr_assert_lt(waiter.res.secs, 5.0);
    http_res_free(&waiter.res);
    while (now_secs() - t0 < 2.0) /* past its delay: the timer was removed, it never fires */
        usleep(50000);
    get_task(id, "", &r);
    cr_assert_str_eq(str(r.json, "status"), "cancelled");
    cr_assert_null(json_object_get(r.json, "result"));
    http_res_free(&r);

    create_id("{\"kind\":\"io\",\"delay\":0}", done);
    get_task(done, "?wait=5", &r);
    cr_assert_str_eq(str(r.json, "status"), "done");
    http_res_free(&r);
    delete_task(done, &r);
    cr_assert_eq(r.status, 409);
    cr_assert_str_eq(r.body, "{\"detail\":\"task already finished\"}");
    http_res_free(&r);
}

Test(http_tasks, unknown_and_malformed_ids_are_404)
{
    char id[33], upper[33];
    create_id("{\"kind\":\"io\",\"delay\":30}", id);
    for (int i = 0; i < 33; i++)
        upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
    char longer[40];
    snprintf(longer, sizeof(longer), "%s0", id);
    char huge[121];
    memset(huge, 'a', 120);
    huge[120] = '\0';
    const char *bad[] = {"00000000000000000000000000000000", "xyz", longer, huge,
                         strcmp(upper, id) ? upper : "0000000000000000000000000000000Z"};
    for (int i = 0; i < 5; i++) {
        http_res r;
        get_task(bad[i], "", &r);
        cr_assert_eq(r.status, 404, "GET %s", bad[i]);
        cr_assert_str_eq(r.body, "{\"detail\":\"Not Found\"}");
        http_res_free(&r);
        delete_task(bad[i], &r);
        cr_assert_eq(r.status, 404, "DELETE %s", bad[i]);
        cr_assert_str_eq(r.body, "{\"detail\":\"Not Found\"}");
        http_res_free(&r);
    }
    http_res r;
    get_task(id, "", &r);
    cr_assert_eq(r.status, 200, "the real id still works");
    http_res_free(&r);
}

Test(http_tasks, wrong_methods_are_405)
{
    http_res r;
    char allow[64];
    http_do(&ts, "PUT", "/tasks", "{}", &r);
    cr_assert_eq(r.status, 405);
    cr_assert_eq(http_header(&r, "Allow", allow, sizeof(allow)), 0);
    cr_assert_str_eq(allow, "POST, GET");
    http_res_free(&r);
    http_do(&ts, "POST", "/tasks/00000000000000000000000000000000", "{}", &r);
    cr_assert_eq(r.status, 405);
    cr_assert_eq(http_header(&r, "Allow", allow, sizeof(allow)), 0);
    cr_assert_str_eq(allow, "GET, DELETE");
    http_res_free(&r);
}

/* --- waiters ------------------------------------------------------------------- */

Test(http_tasks, many_waiters_on_one_task_are_all_woken)
{
    char id[33], path[128];
    create_id("{\"kind\":\"io\",\"delay\":1.5}", id);
    snprintf(path, sizeof(path), "/tasks/%s?wait=30", id);
    double secs;
    int done = http_get_many_matching(&ts, path, 25, "\"status\":\"done\"", &secs);
    cr_assert_eq(done, 25, "only %d of 25 waiters saw the task done", done);
    cr_assert_lt(secs, 10.0, "woken at the end (~1.5 s), not at their 30 s timeout: %.2f", secs);
}

Test(http_tasks, a_waiter_that_leaves_does_not_cancel_the_task)
{
    char id[33];
    create_id("{\"kind\":\"io\",\"delay\":2.0}", id);
    char path[128];
    snprintf(path, sizeof(path), "/tasks/%s?wait=20", id);
    cr_assert_eq(http_get_abandon(&ts, path, 300), 0, "the client gave up");
    http_res r;
    get_task(id, "", &r);
    cr_assert_str_eq(str(r.json, "status"), "running", "%s", r.body);
    http_res_free(&r);
    get_task(id, "?wait=20", &r);
    cr_assert_str_eq(str(r.json, "status"), "done", "%s", r.body);
    cr_assert_str_eq(str(r.json, "result"), "task done after 2.0s");
    http_res_free(&r);
    /* the abandoned request is gone: nothing waits any more */
    double t0 = now_secs();
    long suspended;
    for (;;) {
        http_get(&ts, "/loop", &r);
        suspended = (long)inum(r.json, "suspended");
        http_res_free(&r);
        if (suspended == 0 || now_secs() - t0 > 5) break;
        usleep(20000);
    }
    cr_assert_eq(suspended, 0);
}

Test(http_tasks_1w, a_waiter_that_leaves_does_not_cancel_a_cpu_task, .timeout = 90)
{
    ts_start(&ts, one_worker);
    char id[33], path[128];
    create_id("{\"kind\":\"cpu\",\"ms\":700}", id);
    snprintf(path, sizeof(path), "/tasks/%s?wait=20", id);
    cr_assert_eq(http_get_abandon(&ts, path, 200), 0);
    http_res r;
    get_task(id, "?wait=30", &r);
    cr_assert_str_eq(str(r.json, "status"), "done", "%s", r.body);
    cr_assert_eq(inum(r.json, "result"), cpu_heavy_reference(3, inum(r.json, "iterations")));
    http_res_free(&r);
    ts_stop(&ts);
}

/* --- ids and the list -------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(http_tasks, ids_are_unique_hex_and_located)
{
    enum { N = 40 };
    static char ids[N][33];
    char *sorted[N];
    for (int i = 0; i < N; i++) {
        http_res r;
        create("{\"kind\":\"io\",\"delay\":0}", ids[i], &r);
        cr_assert_eq(strspn(ids[i], "0123456789abcdef"), 32, "%s", ids[i]);
        char loc[64], want[48];
        cr_assert_eq(http_header(&r, "Location", loc, sizeof(loc)), 0);
        snprintf(want, sizeof(want), "/tasks/%.32s", ids[i]);
        cr_assert_str_eq(loc, want);
        http_res_free(&r);
        sorted[i] = ids[i];
    }
    qsort(sorted, N, sizeof(sorted[0]), cmp_str);
    for (int i = 1; i < N; i++)
        cr_assert_str_neq(sorted[i - 1], sorted[i]);
}

Test(http_tasks, list_is_newest_first)
{
    char ids[3][33];
    for (int i = 0; i < 3; i++)
        create_id("{\"kind\":\"io\",\"delay\":30}", ids[i]);
    http_res r;
    http_get_admin(&ts, "/tasks?limit=2", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(inum(r.json, "count"), 2, "%s", r.body);
    cr_assert_eq(inum(r.json, "total"), 3);
    json_t *tasks = json_object_get(r.json, "tasks");
    cr_assert_eq(json_array_size(tasks), 2);
    cr_assert_str_eq(str(json_array_get(tasks, 0), "id"), ids[2]);
    cr_assert_str_eq(str(json_array_get(tasks, 1), "id"), ids[1]);
    cr_assert_str_eq(str(json_array_get(tasks, 0), "status"), "running");
    http_res_free(&r);
    http_get_admin(&ts, "/tasks", &r);
    cr_assert_eq(inum(r.json, "count"), 3);
    cr_assert_str_eq(str(json_array_get(json_object_get(r.json, "tasks"), 2), "id"), ids[0]);
    http_res_free(&r);
}

/* --- caps and eviction -------------------------------------------------------- */

static void two_tasks(config *c)
{
    c->max_tasks = 2;
}

Test(http_tasks_limits, max_tasks_is_503_with_retry_after, .timeout = 60)
{
    ts_start(&ts, two_tasks);
    char a[33], b[33];
    create_id("{\"kind\":\"io\",\"delay\":30}", a);
    create_id("{\"kind\":\"io\",\"delay\":30}", b);
    http_res r;
    http_do(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":1}", &r);
    cr_assert_eq(r.status, 503, "%ld %s", r.status, r.body);
    cr_assert_str_eq(str(r.json, "detail"), "too many tasks");
    char ra[16];
    cr_assert_eq(http_header(&r, "Retry-After", ra, sizeof(ra)), 0);
    http_res_free(&r);
    delete_task(a, &r);
    http_res_free(&r);
    http_do(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":1}", &r);
    cr_assert_eq(r.status, 202, "a cancelled task no longer counts: %s", r.body);
    http_res_free(&r);
    ts_stop(&ts);
}

static void tiny_queue(config *c)
{
    c->workers = 1;
    c->queue = 1;
}

Test(http_tasks_limits, full_executor_queue_is_503, .timeout = 60)
{
    ts_start(&ts, tiny_queue);
    char a[33], b[33];
    create_id("{\"kind\":\"cpu\",\"ms\":30000}", a);
    await_status(a, "running");
    create_id("{\"kind\":\"cpu\",\"ms\":10}", b);
    http_res r;
    http_do(&ts, "POST", "/tasks", "{\"kind\":\"cpu\",\"ms\":10}", &r);
    cr_assert_eq(r.status, 503, "%ld %s", r.status, r.body);
    cr_assert_str_eq(str(r.json, "detail"), "executor queue full");
    char ra[16];
    cr_assert_eq(http_header(&r, "Retry-After", ra, sizeof(ra)), 0);
    http_res_free(&r);
    delete_task(a, &r);
    http_res_free(&r);
    get_task(b, "?wait=30", &r);
    cr_assert_str_eq(str(r.json, "status"), "done", "the queued one was not lost: %s", r.body);
    http_res_free(&r);
    http_get_admin(&ts, "/tasks", &r);
    cr_assert_eq(inum(r.json, "total"), 2, "the refused task was not stored");
    http_res_free(&r);
    ts_stop(&ts);
}

static void keep_two(config *c)
{
    c->task_keep = 2;
}

Test(http_tasks_limits, finished_tasks_beyond_keep_are_forgotten, .timeout = 60)
{
    ts_start(&ts, keep_two);
    char ids[4][33];
    http_res r;
    for (int i = 0; i < 4; i++) {
        create_id("{\"kind\":\"io\",\"delay\":0}", ids[i]);
        get_task(ids[i], "?wait=5", &r);
        cr_assert_str_eq(str(r.json, "status"), "done");
        http_res_free(&r);
    }
    double t0 = now_secs();
    json_int_t total;
    for (;;) {
        http_get_admin(&ts, "/tasks", &r);
        total = inum(r.json, "total");
        http_res_free(&r);
        if (total == 2 || now_secs() - t0 > 5) break;
        usleep(10000);
    }
    cr_assert_eq(total, 2);
    for (int i = 0; i < 4; i++) {
        get_task(ids[i], "", &r);
        cr_assert_eq(r.status, i < 2 ? 404 : 200, "task %d: %ld", i, r.status);
        http_res_free(&r);
    }
    ts_stop(&ts);
}

static void short_ttl(config *c)
{
    c->task_ttl = 0.3;
}

Test(http_tasks_limits, finished_tasks_are_forgotten_after_the_ttl, .timeout = 60)
{
    ts_start(&ts, short_ttl);
    char id[33], live[33];
    create_id("{\"kind\":\"io\",\"delay\":0}", id);
    create_id("{\"kind\":\"io\",\"delay\":30}", live);
    http_res r;
    get_task(id, "?wait=5", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(str(r.json, "status"), "done");
    http_res_free(&r);
    double t0 = now_secs();
    long status;
    for (;;) {
        get_task(id, "", &r);
        status = r.status;
        http_res_free(&r);
        if (status != 200 || now_secs() - t0 > 5) break;
        usleep(20000);
    }
    cr_assert_eq(status, 404, "still there after %.2f s", now_secs() - t0);
    get_task(live, "", &r);
    cr_assert_eq(r.status, 200, "a running task is never forgotten");
    http_res_free(&r);
    ts_stop(&ts);
}

/* --- who can do what: owner tokens and the admin token --------------------------- */

/* A 401 with WWW-Authenticate: Bearer, or a 403, with this detail. */
static void expect_refused(const http_res *r, long status, const char *detail)
{
    cr_assert_eq(r->status, status, "%ld %s", r->status, r->body);
    cr_assert_str_eq(str(r->json, "detail"), detail, "%s", r->body);
    char v[64];
    if (status == 401) {
        cr_assert_eq(http_header(r, "WWW-Authenticate", v, sizeof(v)), 0);
        cr_assert_str_eq(v, "Bearer realm=\"iocpu\"");
    }
}

Test(http_tasks, the_owner_token_is_shown_once)
{
    http_res r;
    char id[33], token[65];
    create("{\"kind\":\"io\",\"delay\":0.2}", id, &r);
    strcpy(token, str(r.json, "owner_token"));
    http_res_free(&r);
    char other[33];
    create_id("{\"kind\":\"io\",\"delay\":0.2}", other);
    cr_assert_str_neq(owner_of(other), token, "each task has its own token");
    const char *paths[] = {"", "?wait=5"};
    for (int i = 0; i < 2; i++) {
        get_task(id, paths[i], &r);
        cr_assert_eq(r.status, 200);
        cr_assert_null(json_object_get(r.json, "owner_token"), "%s", r.body);
        cr_assert_null(strstr(r.body, token), "%s", r.body);
        http_res_free(&r);
    }
    http_get_admin(&ts, "/tasks", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_null(strstr(r.body, token), "not even to the admin: %s", r.body);
    cr_assert_null(strstr(r.body, "owner"), "%s", r.body);
    http_res_free(&r);
}

Test(http_tasks, delete_needs_the_owner_token)
{
    char a[33], b[33];
    create_id("{\"kind\":\"io\",\"delay\":30}", a);
    create_id("{\"kind\":\"io\",\"delay\":30}", b);
    http_res r;
    delete_as(a, NULL, &r);
    expect_refused(&r, 401, "Not authenticated");
    http_res_free(&r);
    char path[128], hdr[160];
    snprintf(path, sizeof(path), "/tasks/%s", a);
    const char *bad[] = {"Basic dXNlcjpwYXNz", "Bearer",     "Bearer ",
                         "Bearer a b",         "Bearer a=b", "Token abc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(hdr, sizeof(hdr), "Authorization: %s", bad[i]);
        http_res_free(&r);
        http_do_hdr(&ts, "DELETE", path, NULL, hdr, &r);
        expect_refused(&r, 401, "invalid Authorization header: expected Bearer <token>");
    }
    http_res_free(&r);
    delete_as(a, owner_of(b), &r); /* another task's owner */
    expect_refused(&r, 403, "the token does not own this task");
    http_res_free(&r);
    delete_as(a, "not-the-token", &r);
    expect_refused(&r, 403, "the token does not own this task");
    http_res_free(&r);
    get_task(a, "", &r);
    cr_assert_str_eq(str(r.json, "status"), "running", "a refused DELETE cancels nothing");
    http_res_free(&r);
    delete_task(a, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(str(r.json, "status"), "cancelled");
    http_res_free(&r);
    delete_as(a, owner_of(b), &r);
    expect_refused(&r, 403, "the token does not own this task"); /* before its state shows */
    http_res_free(&r);
    delete_as(b, TEST_ADMIN_TOKEN, &r);
    cr_assert_eq(r.status, 200, "the admin cancels any task: %s", r.body);
    http_res_free(&r);
}

Test(http_tasks, the_list_needs_the_admin_token)
{
    char id[33];
    create_id("{\"kind\":\"io\",\"delay\":30}", id);
    http_res r;
    http_get(&ts, "/tasks", &r);
    expect_refused(&r, 401, "Not authenticated");
    http_res_free(&r);
    http_do_auth(&ts, NULL, "/tasks", NULL, owner_of(id), &r);
    expect_refused(&r, 403, "only the admin token lists tasks");
    http_res_free(&r);
    http_do_auth(&ts, NULL, "/tasks", NULL, TEST_ADMIN_TOKEN "x", &r);
    expect_refused(&r, 403, "only the admin token lists tasks");
    http_res_free(&r);
    http_do_auth(&ts, NULL, "/tasks?limit=x", NULL, NULL, &r);
    expect_refused(&r, 401, "Not authenticated"); /* nothing is validated for a stranger */
    http_res_free(&r);
    http_get_admin(&ts, "/tasks", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(inum(r.json, "count"), 1);
    http_res_free(&r);
}

static void no_admin(config *c)
{
    c->admin_token[0] = '\0';
}

Test(tasks_owner, without_an_admin_token_listing_is_off)
{
    ts_start(&ts, no_admin);
    char id[33];
    create_id("{\"kind\":\"io\",\"delay\":30}", id);
    http_res r;
    const char *tokens[] = {NULL, TEST_ADMIN_TOKEN, owner_of(id)};
    for (int i = 0; i < 3; i++) {
        http_do_auth(&ts, NULL, "/tasks", NULL, tokens[i], &r);
        expect_refused(&r, 403, "listing tasks is off: the server has no admin token");
        http_res_free(&r);
    }
    delete_as(id, TEST_ADMIN_TOKEN, &r);
    expect_refused(&r, 403, "the token does not own this task");
    http_res_free(&r);
    delete_task(id, &r);
    cr_assert_eq(r.status, 200, "the owner still cancels: %s", r.body);
    http_res_free(&r);
    ts_stop(&ts);
}

static const char *admin_file;

/* The admin token as the operator gives it: IOCPU_ADMIN_TOKEN, or a file. */
static void admin_from_outside(config *c)
{
    const char *file[] = {"iocpu", "--admin-token-file", admin_file, NULL};
    const char *none[] = {"iocpu", NULL};
    c->admin_token[0] = '\0';
    FILE *err = tmpfile();
    int rc = admin_file ? config_parse(c, 3, (char **)file, stdout, err)
                        : config_parse(c, 1, (char **)none, stdout, err);
    fclose(err);
    cr_assert_eq(rc, 0);
    c->port = 0;
}

/* GET /tasks with token: its status. */
static long list_status(const char *token)
{
    http_res r;
    http_do_auth(&ts, NULL, "/tasks", NULL, token, &r);
    long st = r.status;
    http_res_free(&r);
    return st;
}

Test(tasks_owner, the_admin_token_from_the_environment_or_a_file)
{
    setenv("IOCPU_ADMIN_TOKEN", "from-the-env-0123456789", 1);
    admin_file = NULL;
    ts_start(&ts, admin_from_outside);
    cr_assert_eq(list_status("from-the-env-0123456789"), 200);
    cr_assert_eq(list_status(TEST_ADMIN_TOKEN), 403);
    ts_stop(&ts);

    char path[] = "/tmp/iocpu-admin-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "from-the-file-0123456789\n", 25), 25);
    close(fd);
    admin_file = path; /* the file wins over the environment */
    ts_start(&ts, admin_from_outside);
    cr_assert_eq(list_status("from-the-file-0123456789"), 200);
    cr_assert_eq(list_status("from-the-env-0123456789"), 403);
    ts_stop(&ts);
    unlink(path);
    unsetenv("IOCPU_ADMIN_TOKEN");
}

static void access_log_on(config *c)
{
    c->access_log = 1;
}

/* Everything the server wrote to fd (a file it was redirected to). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

Test(tasks_owner, tokens_never_reach_the_logs)
{
    char out[] = "/tmp/iocpu-log-XXXXXX";
    int fd = mkstemp(out);
    cr_assert_geq(fd, 0);
    fflush(stdout);
    fflush(stderr);
    int saved[2] = {dup(1), dup(2)};
    dup2(fd, 1); /* the access log and the server's messages */
    dup2(fd, 2);
    ts_start(&ts, access_log_on);
    char id[33], path[128];
    create_id("{\"kind\":\"io\",\"delay\":30}", id);
    http_res r;
    delete_as(id, "a-wrong-token-that-must-not-be-logged", &r);
    cr_assert_eq(r.status, 403);
    http_res_free(&r);
    http_get_admin(&ts, "/tasks", &r);
    http_res_free(&r);
    snprintf(path, sizeof(path), "/tasks/%s?token=%s", id, owner_of(id)); /* a client's slip */
    http_get(&ts, path, &r);
    http_res_free(&r);
    delete_task(id, &r);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
    ts_stop(&ts);
    fflush(stdout);
    dup2(saved[0], 1);
    dup2(saved[1], 2);
    close(fd);
    const char *log = slurp(out);
    unlink(out);
    cr_assert(strstr(log, "\"method\":\"DELETE\"") && strstr(log, "\"status\":403"),
              "the access log was on: %s", log);
    cr_assert_null(strstr(log, owner_of(id)), "%s", log);
    cr_assert_null(strstr(log, TEST_ADMIN_TOKEN), "%s", log);
    cr_assert_null(strstr(log, "a-wrong-token"), "%s", log);
    cr_assert_null(strstr(log, "Bearer"), "%s", log);
}

/* --- shutdown and configuration ------------------------------------------------ */

Test(http_tasks_1w, shutdown_with_running_tasks_is_clean, .timeout = 60)
{
    ts_start(&ts, one_worker);
    char cpu[33], queued[33], io[33], path[128];
    create_id("{\"kind\":\"cpu\",\"ms\":30000}", cpu);
    create_id("{\"kind\":\"cpu\",\"ms\":30000}", queued);
    create_id("{\"kind\":\"io\",\"delay\":30}", io);
    await_status(cpu, "running");
    snprintf(path, sizeof(path), "/tasks/%s?wait=30", io);
    http_async waiter;
    http_get_async(&waiter, &ts, path);
    usleep(200000);
    double t0 = now_secs();
    ts_stop(&ts); /* stops the jobs, ends the waiter, frees the store */
    cr_assert_lt(now_secs() - t0, 5.0);
    http_join(&waiter);
    cr_assert_lt(waiter.res.secs, 10.0, "the waiter was not left hanging");
    http_res_free(&waiter.res);
}

Test(tasks_config, flags_environment_and_help)
{
    config c;
    config_defaults(&c);
    cr_assert_eq(c.max_tasks, 10000);
    cr_assert_eq(c.task_keep, 1000);
    cr_assert_float_eq(c.task_ttl, 300.0, 1e-9);
    const char *argv[] = {"iocpu", "--max-tasks", "9",   "--task-keep",
                          "0",     "--task-ttl",  "2.5", NULL};
    FILE *out = tmpfile(), *err = tmpfile();
    cr_assert_eq(config_parse(&c, 7, (char **)argv, out, err), 0);
    cr_assert_eq(c.max_tasks, 9);
    cr_assert_eq(c.task_keep, 0);
    cr_assert_float_eq(c.task_ttl, 2.5, 1e-9);

    config_defaults(&c);
    setenv("IOCPU_TASK_TTL", "7", 1);
    const char *none[] = {"iocpu", NULL};
    cr_assert_eq(config_parse(&c, 1, (char **)none, out, err), 0);
    cr_assert_float_eq(c.task_ttl, 7.0, 1e-9);
    setenv("IOCPU_TASK_TTL", "-1", 1);
    cr_assert_eq(config_parse(&c, 1, (char **)none, out, err), -1, "nothing is clamped");
    unsetenv("IOCPU_TASK_TTL");
    const char *zero[] = {"iocpu", "--max-tasks", "0", NULL};
    cr_assert_eq(config_parse(&c, 3, (char **)zero, out, err), -1);

    const char *help[] = {"iocpu", "--help", NULL};
    cr_assert_eq(config_parse(&c, 2, (char **)help, out, err), 1);
    rewind(out);
    char text[8192] = {0};
    size_t got = fread(text, 1, sizeof(text) - 1, out);
    text[got] = '\0';
    cr_assert(strstr(text, "--max-tasks") && strstr(text, "IOCPU_MAX_TASKS"), "%s", text);
    cr_assert(strstr(text, "--task-keep") && strstr(text, "IOCPU_TASK_KEEP"));
    cr_assert(strstr(text, "--task-ttl") && strstr(text, "IOCPU_TASK_TTL"));
    fclose(out);
    fclose(err);
}
