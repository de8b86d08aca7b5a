/*
 * test_http_shaping.c - latency shapes, injected errors and padding over
 * real HTTP (handlers/shaping.c): seed= reproduces the delays (and they are
 * the generator's own draws), the answer says what was drawn, 422s for bad
 * values, /status/{codes} with its headers and bodies, status= and
 * error_rate=, size= with an exact Content-Length, an io task's drawn delay,
 * and the server-wide --inject-error and --inject-delay with the routes they
 * leave alone.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "rawsock.h"
#include "shape.h"

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* The delays of n GETs of path. */
static void delays_of(const test_server *t, const char *path, int n, double *out)
{
    for (int i = 0; i < n; i++) {
        http_res r;
        cr_assert_eq(http_get(t, path, &r), 0);
        cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
        out[i] = num(r.json, "delay");
        json_t *sh = json_object_get(r.json, "shape");
        cr_assert_eq(json_integer_value(json_object_get(sh, "seq")), i, "%s", r.body);
        http_res_free(&r);
    }
}

#define SEEDED "/io/job?dist=exponential&mean=0.01&seed=42"

Test(http_shaping, a_seed_reproduces_the_sequence_of_delays, .timeout = 60)
{
    double a[6], b[6], c[6];
    test_server ts;
    ts_start(&ts, NULL);
    delays_of(&ts, SEEDED, 6, a);
    delays_of(&ts, "/io/job?dist=exponential&mean=0.01&seed=43", 6, c);
    ts_stop(&ts);
    ts_start(&ts, NULL); /* a new server: the same seed, the same order */
    delays_of(&ts, SEEDED, 6, b);
    ts_stop(&ts);
    shape s = {SHAPE_EXPONENTIAL, {0.01, 0}};
    shape_rng g;
    shape_rng_seed(&g, 42);
    int differ = 0;
    for (int i = 0; i < 6; i++) {
        double want;
        cr_assert_geq(shape_draw(&s, 60, &g, &want), 0);
        cr_assert_eq(a[i], b[i], "delay %d: %.17g then %.17g", i, a[i], b[i]);
        cr_assert_eq(a[i], want, "delay %d: %.17g, the generator drew %.17g", i, a[i], want);
        differ += a[i] != c[i];
    }
    cr_assert_geq(differ, 5, "seed 43 gave seed 42's delays");
}

Test(http_shaping, the_answer_says_what_was_drawn, .timeout = 60)
{
    test_server ts;
    ts_start(&ts, NULL);
    http_res r;
    http_get(&ts, "/io/job?dist=uniform&min=0.02&max=0.05", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    double d = num(r.json, "delay");
    cr_assert(d >= 0.02 && d <= 0.05, "delay %g", d);
    cr_assert_geq(num(r.json, "elapsed"), d * 0.99);
    json_t *sh = json_object_get(r.json, "shape");
    cr_assert_str_eq(json_string_value(json_object_get(sh, "dist")), "uniform");
    cr_assert_float_eq(num(sh, "min"), 0.02, 0);
    cr_assert_float_eq(num(sh, "max"), 0.05, 0);
    cr_assert_null(json_object_get(sh, "seed"), "no seed was given");
    cr_assert_float_eq(json_number_value(json_array_get(json_object_get(sh, "truncated_to"), 1)),
                       60, 0);
    http_res_free(&r);
    /* without a shaping parameter the answer is what it always was */
    http_get(&ts, "/io/job?delay=0.01", &r);
    cr_assert_null(json_object_get(r.json, "shape"));
    cr_assert_null(json_object_get(r.json, "padding"));
    cr_assert_eq(json_object_size(r.json), 4, "%s", r.body);
    http_res_free(&r);
    ts_stop(&ts);
}

/* GET path: 422 whose first error is at loc [where, name] of type. */
static void expect_422(const test_server *t, const char *path, const char *where, const char *name,
                       const char *type)
{
    http_res r;
    http_get(t, path, &r);
    cr_assert_eq(r.status, 422, "%s: %ld %s", path, r.status, r.body);
    json_t *e = json_array_get(json_object_get(r.json, "detail"), 0);
    json_t *loc = json_object_get(e, "loc");
    cr_assert_str_eq(json_string_value(json_array_get(loc, 0)), where, "%s: %s", path, r.body);
    cr_assert_str_eq(json_string_value(json_array_get(loc, 1)), name, "%s: %s", path, r.body);
    cr_assert_str_eq(json_string_value(json_object_get(e, "type")), type, "%s: %s", path, r.body);
    cr_assert(json_is_string(json_object_get(e, "msg")));
    http_res_free(&r);
}

Test(http_shaping, bad_values_get_422_in_fastapis_shape, .timeout = 60)
{
    test_server ts;
    ts_start(&ts, NULL);
    expect_422(&ts, "/io/job?dist=gamma", "query", "dist", "literal_error");
    expect_422(&ts, "/io/job?dist=normal&mean=1", "query", "sd", "missing");
    expect_422(&ts, "/io/job?dist=exponential&mean=0.1&sd=1", "query", "sd", "extra_forbidden");
    expect_422(&ts, "/io/job?mean=0.1", "query", "mean", "extra_forbidden");
    expect_422(&ts, "/io/job?dist=exponential&mean=0.1&delay=1", "query", "delay", "value_error");
    expect_422(&ts, "/io/job?dist=exponential&mean=nan", "query", "mean", "finite_number");
    expect_422(&ts, "/io/job?dist=exponential&mean=-1", "query", "mean", "value_error");
    /* most draws above --max-delay (60): refused, not clamped */
    expect_422(&ts, "/io/job?dist=exponential&mean=100", "query", "mean", "value_error");
    expect_422(&ts, "/io/job?dist=lognormal&median=61&sigma=0.1", "query", "median", "value_error");
    expect_422(&ts, "/io/job?dist=uniform&min=0.5&max=0.1", "query", "max", "value_error");
    expect_422(&ts, "/io/job?dist=uniform&min=0&max=61", "query", "max", "value_error");
    expect_422(&ts, "/io/job?dist=pareto&scale=0.1&shape=0", "query", "shape", "value_error");
    expect_422(&ts, "/io/job?dist=exponential&mean=0.1&seed=-1", "query", "seed",
               "greater_than_equal");
    expect_422(&ts, "/io/job?dist=exponential&mean=0.1&seed=9007199254740992", "query", "seed",
               "less_than_equal");
    expect_422(&ts, "/io/job?status=99", "query", "status", "value_error");
    expect_422(&ts, "/io/job?status=200,200", "query", "status", "value_error");
    expect_422(&ts, "/io/job?error_rate=1.5", "query", "error_rate", "less_than_equal");
    expect_422(&ts, "/io/job?size=1048577", "query", "size", "less_than_equal");
    expect_422(&ts, "/status/99", "path", "codes", "value_error");
    expect_422(&ts, "/status/200:-1", "path", "codes", "value_error");
    ts_stop(&ts);
}

static long get_status(const test_server *t, const char *path, http_res *r)
{
    cr_assert_eq(http_get(t, path, r), 0);
    return r->status;
}

static int has_header(const http_res *r, const char *name, const char *want)
{
    char v[128];
    return http_header(r, name, v, sizeof(v)) == 0 && (!want || !strcmp(v, want));
}

Test(http_shaping, status_codes_answer_with_the_right_headers, .timeout = 60)
{
    test_server ts;
    ts_start(&ts, NULL);
    http_res r;
    cr_assert_eq(get_status(&ts, "/status/418", &r), 418);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "detail")), "I'm a teapot");
    cr_assert(has_header(&r, "X-Iocpu-Injected", "status"));
    cr_assert(!has_header(&r, "Retry-After", NULL));
    http_res_free(&r);
    cr_assert_eq(get_status(&ts, "/status/503", &r), 503);
    cr_assert(has_header(&r, "Retry-After", "1"));
    http_res_free(&r);
    cr_assert_eq(get_status(&ts, "/status/429", &r), 429);
    cr_assert(has_header(&r, "Retry-After", "1"));
    http_res_free(&r);
    cr_assert_eq(get_status(&ts, "/status/302", &r), 302);
    cr_assert(has_header(&r, "Location", "/"));
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "detail")), "Found");
    http_res_free(&r);
    /* 204 and 304 carry no body: read the raw bytes */
    const char *no_body[] = {"GET /status/204 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                             "GET /status/304 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"};
    for (int i = 0; i < 2; i++) {
        raw_reply rr;
        raw_exchange(ts.port, no_body[i], strlen(no_body[i]), 1.0, &rr);
        cr_assert_eq(raw_status(&rr), i ? 304 : 204, "%s", rr.data);
        const char *end = strstr(rr.data, "\r\n\r\n");
        cr_assert_not_null(end);
        cr_assert_eq((size_t)(end + 4 - rr.data), rr.len, "bytes after the head: %s", rr.data);
        raw_reply_free(&rr);
    }
    ts_stop(&ts);
}

Test(http_shaping, a_weighted_choice_and_its_counts, .timeout = 60)
{
    test_server ts;
    ts_start(&ts, NULL);
    int n503 = 0, n200 = 0;
    for (int i = 0; i < 300; i++) {
        http_res r;
        long st = get_status(&ts, "/status/200:0.8,503:0.2", &r);
        cr_assert(st == 200 || st == 503, "%ld", st);
        n503 += st == 503;
        n200 += st == 200;
        http_res_free(&r);
    }
    cr_assert(n503 > 25 && n503 < 100, "503 chosen %d times of 300 (20 %% expected)", n503);
    cr_assert_eq(ts_metric(&ts, "iocpu_injected_responses_total", "source=\"status\",code=\"503\""),
                 n503);
    cr_assert_eq(ts_metric(&ts, "iocpu_injected_responses_total", "source=\"status\",code=\"200\""),
                 n200);
    ts_stop(&ts);
}

Test(http_shaping, status_and_error_rate_on_an_io_endpoint, .timeout = 60)
{
    test_server ts;
    ts_start(&ts, NULL);
    http_res r;
    /* the wait happens, then the injected answer */
    cr_assert_eq(get_status(&ts, "/io/job?delay=0.05&status=503", &r), 503);
    cr_assert_geq(r.secs, 0.045);
    cr_assert(has_header(&r, "X-Iocpu-Injected", "query"));
    cr_assert(has_header(&r, "Retry-After", "1"));
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "detail")), "Service Unavailable");
    http_res_free(&r);
    cr_assert_eq(get_status(&ts, "/io/job?delay=0&error_rate=1", &r), 503);
    http_res_free(&r);
    cr_assert_eq(get_status(&ts, "/io/job?delay=0&error_rate=0", &r), 200);
    http_res_free(&r);
    cr_assert_eq(get_status(&ts, "/io/job?delay=0&status=200", &r), 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "job");
    http_res_free(&r);
    /* about a quarter fail, and the same seed fails the same requests */
    char first[40] = "", second[40] = "";
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 40; i++) {
            get_status(&ts, "/io/job?delay=0&error_rate=0.25&status=500&seed=9", &r);
            (round ? second : first)[i] = r.status == 500 ? 'x' : '.';
            http_res_free(&r);
            if (i == 39 && round == 0) { /* a new server starts seed 9 over */
                ts_stop(&ts);
                ts_start(&ts, NULL);
            }
        }
    cr_assert(!memcmp(first, second, 40), "%.40s vs %.40s", first, second);
    int fails = 0;
    for (int i = 0; i < 40; i++)
        fails += first[i] == 'x';
    cr_assert(fails >= 3 && fails <= 20, "%d of 40 failed: %.40s", fails, first);
    ts_stop(&ts);
}

/* The Content-Length header of a raw reply, or -1. */
static long content_length(const raw_reply *rr)
{
    const char *h = strcasestr(rr->data, "\r\nContent-Length: ");
    return h ? strtol(h + 18, NULL, 10) : -1;
}

Test(http_shaping, size_pads_the_answer_and_content_length_stays_exact, .timeout = 60)
{
    test_server ts;
    ts_start(&ts, NULL);
    const size_t sizes[] = {1, 1000, 100000, 1048576};
    for (size_t i = 0; i < 4; i++) {
        char req[160];
        snprintf(req, sizeof(req),
                 "GET /io/job?delay=0&size=%zu HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                 "close\r\n\r\n",
                 sizes[i]);
        raw_reply rr;
        raw_exchange(ts.port, req, strlen(req), 10.0, &rr);
        cr_assert_eq(raw_status(&rr), 200);
        const char *end = strstr(rr.data, "\r\n\r\n");
        cr_assert_not_null(end);
        size_t body = rr.len - (size_t)(end + 4 - rr.data);
        cr_assert_eq(content_length(&rr), (long)body, "size %zu: Content-Length %ld, body %zu",
                     sizes[i], content_length(&rr), body);
        json_t *o = json_loadb(end + 4, body, 0, NULL);
        cr_assert_not_null(o);
        cr_assert_eq(strlen(json_string_value(json_object_get(o, "padding"))), sizes[i]);
        json_decref(o);
        raw_reply_free(&rr);
    }
    ts_stop(&ts);
}

Test(http_shaping, an_io_task_keeps_the_delay_drawn_at_creation, .timeout = 60)
{
    test_server ts;
    ts_start(&ts, NULL);
    http_res r;
    http_do(&ts, "POST", "/tasks",
            "{\"kind\":\"io\",\"dist\":\"exponential\",\"mean\":0.01,\"seed\":42}", &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    double d = num(r.json, "delay");
    char path[160];
    snprintf(path, sizeof(path), "/tasks/%s?wait=5",
             json_string_value(json_object_get(r.json, "id")));
    http_res_free(&r);
    shape s = {SHAPE_EXPONENTIAL, {0.01, 0}};
    shape_rng g;
    double want;
    shape_rng_seed(&g, 42);
    shape_draw(&s, 60, &g, &want);
    cr_assert_eq(d, want, "the task's delay %.17g, seed 42's first draw %.17g", d, want);
    http_get(&ts, path, &r);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "done", "%s", r.body);
    cr_assert_eq(num(r.json, "delay"), want, "%s", r.body);
    http_res_free(&r);
    http_do(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"dist\":\"normal\",\"mean\":1}", &r);
    cr_assert_eq(r.status, 422, "%s", r.body);
    http_res_free(&r);
    http_do(&ts, "POST", "/tasks", "{\"kind\":\"cpu\",\"dist\":\"normal\"}", &r);
    cr_assert_eq(r.status, 422, "%s", r.body);
    http_res_free(&r);
    ts_stop(&ts);
}

/* --- server-wide injection ------------------------------------------------ */

static uint16_t admin_port_wanted;

static void inject_all(config *c)
{
    c->inject_rate = 1;
    c->inject_code = 503;
    strcpy(c->inject_error, "1:503");
    c->admin_port = admin_port_wanted;
}

Test(http_shaping, inject_error_touches_the_work_endpoints_only, .timeout = 60)
{
    test_server ts;
    admin_port_wanted = free_port();
    ts_start(&ts, inject_all);
    const char *hit[] = {"/io/job?delay=0", "/cpu/executor?iterations=1", "/tasks/x",
                         "/status/200"};
    const char *spared[] = {"/healthz", "/readyz",       "/metrics", "/loop",
                            "/",        "/openapi.json", "/ui"};
    http_res r;
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(get_status(&ts, hit[i], &r), 503, "%s: %ld", hit[i], r.status);
        cr_assert(has_header(&r, "X-Iocpu-Injected", "server"));
        cr_assert(has_header(&r, "Retry-After", "1"));
        http_res_free(&r);
    }
    for (size_t i = 0; i < 7; i++) {
        cr_assert_eq(get_status(&ts, spared[i], &r), 200, "%s: %ld", spared[i], r.status);
        http_res_free(&r);
    }
    test_server adm = ts;
    adm.port = server_admin_port(ts.s);
    cr_assert_eq(get_status(&adm, "/healthz", &r), 200);
    http_res_free(&r);
    /* shown in / and /metrics, counted per code */
    get_status(&ts, "/", &r);
    json_t *inj = json_object_get(r.json, "injection");
    cr_assert_float_eq(num(inj, "error_rate"), 1, 0, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(inj, "error_code")), 503);
    http_res_free(&r);
    cr_assert_eq(ts_metric(&ts, "iocpu_inject_error_ratio", "code=\"503\""), 1);
    cr_assert_eq(ts_metric(&ts, "iocpu_injected_responses_total", "source=\"server\",code=\"503\""),
                 4);
    ts_stop(&ts);
}

static void inject_delay(config *c)
{
    strcpy(c->inject_delay, "fixed:delay=0.3");
}

Test(http_shaping, inject_delay_holds_the_work_endpoints_only, .timeout = 60)
{
    test_server ts;
    ts_start(&ts, inject_delay);
    http_res r;
    cr_assert_eq(get_status(&ts, "/io/job?delay=0", &r), 200);
    double held = r.secs;
    char timing[128];
    cr_assert_eq(http_header(&r, "Server-Timing", timing, sizeof(timing)), 0);
    cr_assert(strstr(timing, "inject;dur=300"), "%s", timing);
    http_res_free(&r);
    cr_assert_eq(get_status(&ts, "/healthz", &r), 200);
    double probe = r.secs;
    http_res_free(&r);
    cr_assert_geq(held, 0.29);
    cr_assert_lt(probe * 3, held, "/healthz took %g s, /io/job %g s", probe, held);
    get_status(&ts, "/", &r);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r.json, "injection"), "delay")),
        "fixed:delay=0.3", "%s", r.body);
    http_res_free(&r);
    cr_assert_eq(ts_metric(&ts, "iocpu_injected_delays_total", ""), 1);
    ts_stop(&ts);
}

Test(http_shaping, nothing_is_injected_by_default, .timeout = 60)
{
    test_server ts;
    ts_start(&ts, NULL);
    http_res r;
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(get_status(&ts, "/io/job?delay=0", &r), 200);
        cr_assert(!has_header(&r, "X-Iocpu-Injected", NULL));
        http_res_free(&r);
    }
    get_status(&ts, "/", &r);
    cr_assert_null(json_object_get(r.json, "injection"), "%s", r.body);
    http_res_free(&r);
    cr_assert_lt(ts_metric(&ts, "iocpu_inject_error_ratio", "code=\"503\""), 0);
    ts_stop(&ts);
}
