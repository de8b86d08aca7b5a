/*
 * test_http_cors.c - CORS with --cors-origin (http/cors.h): off by default;
 * a preflight from a listed origin gets 204 with exactly that origin, the
 * path's methods, the headers the API reads, Max-Age and Vary; its actual
 * requests get Allow-Origin, Expose-Headers and Vary, and pass the Fetch
 * Metadata check a cross-site fetch otherwise fails; an unlisted origin
 * (or one that differs by a port, a scheme or a case) gets no CORS header
 * and is still refused; the Host check still holds.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

#define LISTED "http://app.example:3000"
#define OTHER "https://docs.example"

static test_server ts;

static void cors_on(config *c)
{
    snprintf(c->cors_origins, sizeof(c->cors_origins), "%s,%s", LISTED, OTHER);
}

static void stop(void)
{
    ts_stop(&ts);
}

TestSuite(http_cors, .fini = stop, .timeout = 60);

/* The headers a browser's cross-site CORS fetch carries from origin. */
static void cors_fetch(const char *method, const char *path, const char *origin, const char *extra,
                       const char *body, http_res *r)
{
    char h[512];
    snprintf(h, sizeof(h),
             "Origin: %s\nSec-Fetch-Site: cross-site\nSec-Fetch-Mode: cors\nSec-Fetch-Dest: "
             "empty%s%s",
             origin, extra ? "\n" : "", extra ? extra : "");
    http_do_headers(&ts, method, path, body, h, r);
}

static int has(const http_res *r, const char *name)
{
    char v[512];
    return http_header(r, name, v, sizeof(v)) == 0;
}

static void header_is(const http_res *r, const char *name, const char *want)
{
    char v[512];
    cr_assert_eq(http_header(r, name, v, sizeof(v)), 0, "no %s in:\n%s", name, r->headers);
    cr_assert_str_eq(v, want, "%s", name);
}

static void no_cors(const http_res *r)
{
    cr_assert_not(has(r, "Access-Control-Allow-Origin"), "%s", r->headers);
    cr_assert_not(has(r, "Access-Control-Allow-Methods"), "%s", r->headers);
    cr_assert_not(has(r, "Access-Control-Expose-Headers"), "%s", r->headers);
}

Test(http_cors, off_by_default)
{
    ts_start(&ts, NULL);
    http_res r;
    cors_fetch("OPTIONS", "/tasks", LISTED, "Access-Control-Request-Method: POST", NULL, &r);
    cr_assert_eq(r.status, 403, "no preflight is answered (a cross-site OPTIONS): %s", r.body);
    no_cors(&r);
    cr_assert_not(has(&r, "Vary"));
    http_res_free(&r);
    http_do_headers(&ts, NULL, "/healthz", NULL, "Origin: " LISTED, &r);
    cr_assert_eq(r.status, 200);
    no_cors(&r);
    cr_assert_not(has(&r, "Vary"));
    http_res_free(&r);
    cors_fetch(NULL, "/healthz", LISTED, NULL, NULL, &r);
    cr_assert_eq(r.status, 403, "a cross-site fetch is refused");
    http_res_free(&r);
}

Test(http_cors, preflight_from_a_listed_origin)
{
    ts_start(&ts, cors_on);
    http_res r;
    cors_fetch("OPTIONS", "/tasks", LISTED,
               "Access-Control-Request-Method: POST\nAccess-Control-Request-Headers: "
               "content-type,traceparent",
               NULL, &r);
    cr_assert_eq(r.status, 204, "%s", r.body);
    header_is(&r, "Access-Control-Allow-Origin", LISTED);
    header_is(&r, "Access-Control-Allow-Methods", "POST, GET");
    header_is(&r, "Access-Control-Allow-Headers", "Authorization, Content-Type, traceparent");
    header_is(&r, "Access-Control-Max-Age", "600");
    cr_assert(strstr(r.headers, "Vary: Origin"), "%s", r.headers);
    cr_assert(strstr(r.headers, "Access-Control-Request-Method"), "%s", r.headers);
    cr_assert_eq(r.body_len, 0);
    cr_assert_not(has(&r, "Access-Control-Allow-Credentials"), "no cookies are ever asked for");
    http_res_free(&r);
    /* the second listed origin, another path */
    cors_fetch("OPTIONS", "/tasks/0123456789abcdef0123456789abcdef", OTHER,
               "Access-Control-Request-Method: DELETE", NULL, &r);
    cr_assert_eq(r.status, 204, "%s", r.body);
    header_is(&r, "Access-Control-Allow-Origin", OTHER);
    header_is(&r, "Access-Control-Allow-Methods", "GET, DELETE");
    http_res_free(&r);
}

Test(http_cors, preflight_from_any_other_origin_gets_no_cors)
{
    ts_start(&ts, cors_on);
    static const char *const others[] = {
        "http://evil.example",      "http://app.example:3001",
        "https://app.example:3000", "http://APP.example:3000",
        "http://app.example",       "null",
        "http://app.example:3000/", "http://app.example:3000.evil.example",
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        http_res r;
        cors_fetch("OPTIONS", "/tasks", others[i], "Access-Control-Request-Method: POST", NULL, &r);
        cr_assert_neq(r.status, 204, "%s", others[i]);
        no_cors(&r);
        http_res_free(&r);
    }
}

Test(http_cors, actual_request_from_a_listed_origin)
{
    ts_start(&ts, cors_on);
    http_res r;
    cors_fetch("POST", "/tasks", LISTED, NULL, "{\"kind\":\"io\",\"delay\":0}", &r);
    cr_assert_eq(r.status, 202, "a listed origin passes Fetch Metadata: %s", r.body);
    header_is(&r, "Access-Control-Allow-Origin", LISTED);
    header_is(&r, "Access-Control-Expose-Headers",
              "Server-Timing, traceparent, Location, Retry-After, X-Iocpu-Loop, X-Iocpu-Replica");
    header_is(&r, "Vary", "Origin");
    http_res_free(&r);
    cors_fetch(NULL, "/io/job?delay=0", OTHER, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    header_is(&r, "Access-Control-Allow-Origin", OTHER);
    http_res_free(&r);
    /* a simple request (no preflight) answered 404 still says who may read it */
    cors_fetch(NULL, "/nope", LISTED, NULL, NULL, &r);
    cr_assert_eq(r.status, 404);
    header_is(&r, "Access-Control-Allow-Origin", LISTED);
    http_res_free(&r);
}

Test(http_cors, unlisted_origins_are_still_refused)
{
    ts_start(&ts, cors_on);
    http_res r;
    cors_fetch(NULL, "/io/job?delay=0", "http://evil.example", NULL, NULL, &r);
    cr_assert_eq(r.status, 403, "%s", r.body);
    no_cors(&r);
    header_is(&r, "Vary", "Origin");
    http_res_free(&r);
    /* no-cors from a listed origin (an <img>, a form) is not a CORS request: refused as before */
    http_do_headers(&ts, NULL, "/io/job?delay=0", NULL,
                    "Origin: " LISTED "\nSec-Fetch-Site: cross-site\nSec-Fetch-Mode: no-cors\n"
                    "Sec-Fetch-Dest: image",
                    &r);
    cr_assert_eq(r.status, 403, "%s", r.body);
    http_res_free(&r);
    /* a request with no Origin (curl) is served, with Vary but no CORS header */
    http_get(&ts, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    no_cors(&r);
    header_is(&r, "Vary", "Origin");
    http_res_free(&r);
}

static void cors_and_hosts(config *c)
{
    cors_on(c);
    snprintf(c->allowed_hosts, sizeof(c->allowed_hosts), "localhost,127.0.0.1");
}

/* A listed origin does not open the Host check (DNS rebinding stays shut). */
Test(http_cors, the_host_check_still_holds)
{
    ts_start(&ts, cors_and_hosts);
    http_res r;
    cors_fetch("OPTIONS", "/tasks", LISTED,
               "Access-Control-Request-Method: POST\nHost: evil.example", NULL, &r);
    cr_assert_eq(r.status, 400, "%s", r.body);
    no_cors(&r);
    http_res_free(&r);
}
