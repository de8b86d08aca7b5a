#define _GNU_SOURCE
/*
 * test_http_drain.c - graceful drain (SIGTERM): requests in flight finish,
 * new connections are refused, readiness fails, what outlives --grace gets
 * 503, and the loop returns by itself.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <unistd.h>

#include "helpers.h"

static test_server ts;

static void grace_half_second(config *c)
{
    c->grace = 0.5;
}

static void free_server(void)
{
    server_free(ts.s);
    ts.s = NULL;
}

Test(drain, in_flight_finishes_new_refused, .timeout = 60)
{
    ts_start(&ts, NULL);
    http_async a;
    http_get_async(&a, &ts, "/io/job?delay=1");
    usleep(200000);
    server_drain(ts.s);
    usleep(100000);
    http_res r;
    cr_assert_eq(http_get(&ts, "/healthz", &r), -1, "a new connection was accepted: %ld", r.status);
    http_res_free(&r);
    http_join(&a);
    cr_assert_eq(a.res.status, 200, "%s", a.res.body);
    char conn[32];
    cr_assert_eq(http_header(&a.res, "Connection", conn, sizeof(conn)), 0);
    cr_assert_str_eq(conn, "close");
    http_res_free(&a.res);
    cr_assert(ts_returned_within(&ts, 5.0), "the loop did not stop once drained");
    free_server();
}

Test(drain, grace_expiry_answers_503, .timeout = 60)
{
    ts_start(&ts, grace_half_second);
    http_async a;
    http_get_async(&a, &ts, "/io/job?delay=30");
    usleep(200000);
    double t0 = now_secs();
    server_drain(ts.s);
    http_join(&a);
    cr_assert_eq(a.res.status, 503, "%s", a.res.body);
    cr_assert_lt(now_secs() - t0, 5.0);
    cr_assert_str_eq(json_string_value(json_object_get(a.res.json, "detail")),
                     "server shutting down");
    http_res_free(&a.res);
    cr_assert(ts_returned_within(&ts, 5.0));
    free_server();
}

Test(drain, readiness_fails_on_open_connections, .timeout = 60)
{
    ts_start(&ts, NULL);
    char url[128];
    CURL *c = curl_easy_init();
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/readyz", ts.port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    long code = 0;
    cr_assert_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    cr_assert_eq(code, 200);
    /* keep one request in flight so the drain lasts while we ask again */
    http_async a;
    http_get_async(&a, &ts, "/io/job?delay=1");
    usleep(200000);
    server_drain(ts.s);
    usleep(100000);
    cr_assert_eq(curl_easy_perform(c), CURLE_OK); /* same kept-alive connection */
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    cr_assert_eq(code, 503);
    curl_easy_cleanup(c);
    fclose(devnull);
    http_join(&a);
    cr_assert_eq(a.res.status, 200);
    http_res_free(&a.res);
    cr_assert(ts_returned_within(&ts, 5.0));
    free_server();
}
