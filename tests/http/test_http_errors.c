#define _GNU_SOURCE
/*
 * test_http_errors.c - the contract's error shapes (404, 405 + Allow, 422 in
 * FastAPI's shape for every bad input), Server-Timing on every response, and
 * HTTP/1.1 keep-alive.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <string.h>

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

TestSuite(http_errors, .init = setup, .fini = teardown, .timeout = 60);

Test(http_errors, not_found)
{
    http_res r;
    http_get(&ts, "/nope", &r);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(r.body, "{\"detail\":\"Not Found\"}");
    http_res_free(&r);
}

Test(http_errors, method_not_allowed_with_allow)
{
    http_res r;
    http_do(&ts, "POST", "/io/job", "x", &r);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(r.body, "{\"detail\":\"Method Not Allowed\"}");
    char allow[64];
    cr_assert_eq(http_header(&r, "Allow", allow, sizeof(allow)), 0);
    cr_assert_str_eq(allow, "GET");
    http_res_free(&r);
    http_do(&ts, "DELETE", "/healthz", NULL, &r);
    cr_assert_eq(r.status, 405);
    http_res_free(&r);
}

Test(http_errors, head_is_get_without_body)
{
    http_res r;
    http_do(&ts, "HEAD", "/healthz", NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 0);
    http_res_free(&r);
}

/* Expects a 422 whose first error has this loc (query, name[, index]) and type. */
static void expect_422(const char *path, const char *name, long index, const char *type)
{
    http_res r;
    http_get(&ts, path, &r);
    cr_assert_eq(r.status, 422, "%s -> %ld %s", path, r.status, r.body);
    json_t *detail = json_object_get(r.json, "detail");
    cr_assert(json_is_array(detail) && json_array_size(detail) >= 1, "%s: %s", path, r.body);
    json_t *e = json_array_get(detail, 0);
    json_t *loc = json_object_get(e, "loc");
    cr_assert_str_eq(json_string_value(json_array_get(loc, 0)), "query");
    cr_assert_str_eq(json_string_value(json_array_get(loc, 1)), name, "%s: %s", path, r.body);
    if (index >= 0)
        cr_assert_eq(json_integer_value(json_array_get(loc, 2)), index, "%s", r.body);
    else
        cr_assert_eq(json_array_size(loc), 2, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(e, "type")), type, "%s: %s", path, r.body);
    cr_assert(json_is_string(json_object_get(e, "msg")));
    char st[128];
    cr_assert_eq(http_header(&r, "Server-Timing", st, sizeof(st)), 0);
    http_res_free(&r);
}

Test(http_errors, io_bad_inputs)
{
    expect_422("/io/job?delay=abc", "delay", -1, "float_parsing");
    expect_422("/io/job?delay=-1", "delay", -1, "greater_than_equal");
    expect_422("/io/job?delay=60.5", "delay", -1, "less_than_equal");
    expect_422("/io/job?delay=inf", "delay", -1, "finite_number");
    expect_422("/io/job?delay=NaN", "delay", -1, "finite_number");
    expect_422("/io/job?delay=1e999", "delay", -1, "finite_number");
    expect_422("/io/job?delay=", "delay", -1, "float_parsing");
    expect_422("/io/job?name=", "name", -1, "string_too_short");
    expect_422("/io/gather?delays=1,x,2", "delays", 1, "float_parsing");
    expect_422("/io/gather?delays=", "delays", -1, "too_short");
    expect_422("/io/gather?delays=0.1,0.2&names=a", "names", -1, "value_error");
    expect_422("/io/sequential?delays=1,-2", "delays", 1, "greater_than_equal");
    expect_422("/io/as_completed?delays=0.1,61", "delays", 1, "less_than_equal");
    expect_422("/io/cancel?after=-0.1", "after", -1, "greater_than_equal");
    expect_422("/io/wait_for?timeout=nan", "timeout", -1, "finite_number");
    expect_422("/io/semaphore?jobs=0", "jobs", -1, "greater_than_equal");
    expect_422("/io/semaphore?limit=101", "limit", -1, "less_than_equal");
    expect_422("/io/semaphore?jobs=2.5", "jobs", -1, "int_parsing");
    expect_422("/io/semaphore?jobs=3&delays=0.1,0.2", "delays", -1, "value_error");
}

Test(http_errors, list_too_long)
{
    char path[1024] = "/io/gather?delays=0";
    for (int i = 1; i < 101; i++)
        strcat(path, ",0");
    expect_422(path, "delays", -1, "too_long");
    path[strlen(path) - 2] = '\0'; /* exactly 100 items is allowed */
    http_res r;
    http_get(&ts, path, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "results")), 100);
    http_res_free(&r);
}

Test(http_errors, cpu_bad_inputs)
{
    expect_422("/cpu/executor?n=1.5", "n", -1, "int_parsing");
    expect_422("/cpu/executor?n=9223372036854775808", "n", -1, "int_parsing_size");
    expect_422("/cpu/executor?n=-9223372036854775809", "n", -1, "int_parsing_size");
    expect_422("/cpu/executor?iterations=-1", "iterations", -1, "greater_than_equal");
    expect_422("/cpu/executor?iterations=5000000001", "iterations", -1, "less_than_equal");
    expect_422("/cpu/executor?ms=60001", "ms", -1, "less_than_equal");
    expect_422("/cpu/executor?ms=10&iterations=10", "ms", -1, "value_error");
    expect_422("/cpu/blocking?iterations=abc", "iterations", -1, "int_parsing");
    expect_422("/cpu/gather?ns=1,2,x", "ns", 2, "int_parsing");
}

Test(http_errors, detail_lists_every_bad_parameter)
{
    http_res r;
    http_get(&ts, "/io/cancel?delay=x&after=-1", &r);
    cr_assert_eq(r.status, 422);
    cr_assert_eq(json_array_size(json_object_get(r.json, "detail")), 2, "%s", r.body);
    http_res_free(&r);
}

Test(http_errors, keep_alive_reuses_the_connection)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", ts.port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(curl_easy_perform(c), CURLE_OK);
        long connects = -1, code = 0;
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        cr_assert_eq(code, 200);
        cr_assert_eq(connects, i == 0 ? 1 : 0, "request %d opened a new connection", i);
    }
    curl_easy_cleanup(c);
    fclose(devnull);
}

Test(http_errors, no_connection_close_header)
{
    http_res r;
    http_get(&ts, "/io/job?delay=0", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_null(strcasestr(r.headers, "connection: close"), "%s", r.headers);
    http_res_free(&r);
}
