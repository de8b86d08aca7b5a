/*
 * test_http_admit.c - what a browser cannot make a local iocpu do, over real
 * sockets (http/admit.c): a Host the allow list does not name (DNS
 * rebinding) gets 400, a cross-site request 403 except a top-level
 * navigation to /ui, and a body that is not JSON 415; none reaches a
 * handler. The suites' servers run with --allowed-hosts '*' (helpers.c);
 * here each test sets the list it is about.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "rawsock.h"

static test_server ts;

static void teardown(void)
{
    ts_stop(&ts);
}

TestSuite(http_admit, .fini = teardown, .timeout = 60);

static void default_hosts(config *c)
{
    c->allowed_hosts[0] = '\0'; /* the default; --host stays 127.0.0.1 */
}

static void bound_beyond_loopback(config *c)
{
    c->allowed_hosts[0] = '\0';
    strcpy(c->host, "0.0.0.0");
}

static void host_list(config *c)
{
    strcpy(c->allowed_hosts, "iocpu.test,*.iocpu.test");
}

/* The status of "GET path" sent with the header block hdrs ("" for none). */
static int raw_get(const char *version, const char *path, const char *hdrs, raw_reply *rep)
{
    char req[512];
    int n =
        snprintf(req, sizeof(req), "GET %s %s\r\n%sConnection: close\r\n\r\n", path, version, hdrs);
    raw_exchange(ts.port, req, (size_t)n, 10.0, rep);
    return raw_status(rep);
}

/* The status of GET path with Host: host. */
static int with_host(const char *host, const char *path)
{
    char hdr[300];
    raw_reply rep;
    snprintf(hdr, sizeof(hdr), "Host: %s\r\n", host);
    int st = raw_get("HTTP/1.1", path, hdr, &rep);
    cr_assert_eq(raw_count(&rep, "HTTP/1.1 "), 1, "one answer: %s", rep.data);
    if (st == 400)
        cr_assert(strstr(rep.data, "{\"detail\":\"Invalid host header\"}"), "%s", rep.data);
    raw_reply_free(&rep);
    return st;
}

/* The count of a request sample in /metrics, e.g. "GET", "/ui", "403". */
static long requests(const char *method, const char *path, const char *code)
{
    char want[160];
    snprintf(want, sizeof(want),
             "iocpu_http_requests_total{method=\"%s\",route=\"%s\",code=\"%s\"} ", method, path,
             code);
    http_res r;
    http_get(&ts, "/metrics", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    const char *p = strstr(r.body, want);
    long n = p ? atol(p + strlen(want)) : 0;
    http_res_free(&r);
    return n;
}

Test(http_admit, bound_to_loopback_only_loopback_names_are_served)
{
    ts_start(&ts, default_hosts);
    char self[64];
    snprintf(self, sizeof(self), "127.0.0.1:%u", ts.port);
    cr_assert_eq(with_host(self, "/healthz"), 200);
    cr_assert_eq(with_host("localhost", "/healthz"), 200);
    cr_assert_eq(with_host("LOCALHOST:8080", "/healthz"), 200);
    cr_assert_eq(with_host("[::1]:8080", "/healthz"), 200);
    cr_assert_eq(with_host("app.localhost", "/healthz"), 200);
    /* a page on evil.test whose name now resolves to 127.0.0.1 sends its own name */
    double t0 = now_secs();
    cr_assert_eq(with_host("evil.test", "/cpu/blocking?ms=3000"), 400);
    cr_assert_eq(with_host("evil.test:8080", "/cpu/blocking?ms=3000"), 400);
    cr_assert_eq(with_host("localhost.evil.test", "/cpu/blocking?ms=3000"), 400);
    cr_assert_eq(with_host("10.0.0.1", "/nope"), 400, "before routing");
    cr_assert_eq(with_host("localhost:99999", "/healthz"), 400, "malformed");
    cr_assert(now_secs() - t0 < 2.5, "the loop was never blocked: %.2f s", now_secs() - t0);
    cr_assert_eq(requests("GET", "/cpu/blocking", "400"), 3);
    cr_assert_eq(requests("GET", "/cpu/blocking", "200"), 0);
    raw_reply rep; /* HTTP/1.0 may omit Host, but then no name is known to be ours */
    cr_assert_eq(raw_get("HTTP/1.0", "/healthz", "", &rep), 400, "%s", rep.data);
    raw_reply_free(&rep);
    http_res r; /* what curl, wrk and the probe send */
    http_get(&ts, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
}

Test(http_admit, bound_beyond_loopback_any_host_is_served)
{
    ts_start(&ts, bound_beyond_loopback);
    cr_assert_eq(with_host("10.244.1.7:8080", "/healthz"), 200, "a kubelet probe");
    cr_assert_eq(with_host("iocpu.default.svc.cluster.local", "/healthz"), 200);
    cr_assert_eq(with_host("evil.test", "/healthz"), 200);
    cr_assert_eq(with_host("localhost:99999", "/healthz"), 400, "a malformed Host still is not");
    raw_reply rep;
    cr_assert_eq(raw_get("HTTP/1.0", "/healthz", "", &rep), 200, "%s", rep.data);
    raw_reply_free(&rep);
}

Test(http_admit, an_allowed_hosts_list_is_matched_as_starlette_does)
{
    ts_start(&ts, host_list);
    cr_assert_eq(with_host("iocpu.test", "/healthz"), 200);
    cr_assert_eq(with_host("IOCPU.test:80", "/healthz"), 200);
    cr_assert_eq(with_host("a.b.iocpu.test", "/healthz"), 200);
    cr_assert_eq(with_host("xiocpu.test", "/healthz"), 400);
    cr_assert_eq(with_host("localhost", "/healthz"), 400, "the list replaces the default");
    cr_assert_eq(with_host("127.0.0.1", "/healthz"), 400);
}

#define CROSS "Sec-Fetch-Site: cross-site\n"

Test(http_admit, cross_site_requests_are_refused_but_a_link_to_the_page)
{
    ts_start(&ts, default_hosts);
    http_res r;
    /* <img src="http://127.0.0.1:8080/cpu/blocking?ms=3000"> */
    http_do_headers(&ts, NULL, "/cpu/blocking?ms=3000", NULL,
                    CROSS "Sec-Fetch-Mode: no-cors\nSec-Fetch-Dest: image", &r);
    cr_assert_eq(r.status, 403, "%s", r.body);
    cr_assert(r.secs < 1.5, "answered without running: %.2f s", r.secs);
    cr_assert(strstr(r.body, "cross-site"), "%s", r.body);
    http_res_free(&r);
    /* fetch(url, {method: "POST", mode: "no-cors", body}) */
    http_do_headers(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0}",
                    CROSS "Sec-Fetch-Mode: no-cors\nSec-Fetch-Dest: empty", &r);
    cr_assert_eq(r.status, 403, "%s", r.body);
    http_res_free(&r);
    /* a form posted in the top-level window */
    http_do_headers(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0}",
                    CROSS "Sec-Fetch-Mode: navigate\nSec-Fetch-Dest: document", &r);
    cr_assert_eq(r.status, 403, "%s", r.body);
    http_res_free(&r);
    /* a link to the page works; the same page framed does not */
    http_do_headers(&ts, NULL, "/ui", NULL,
                    CROSS "Sec-Fetch-Mode: navigate\nSec-Fetch-Dest: document", &r);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
    http_do_headers(&ts, NULL, "/ui", NULL,
                    CROSS "Sec-Fetch-Mode: navigate\nSec-Fetch-Dest: iframe", &r);
    cr_assert_eq(r.status, 403);
    http_res_free(&r);
    /* the page's own requests, and the same page on another port of this host */
    http_do_headers(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0}",
                    "Sec-Fetch-Site: same-origin\nSec-Fetch-Mode: cors", &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    http_res_free(&r);
    http_do_headers(&ts, NULL, "/healthz", NULL, "Sec-Fetch-Site: same-site", &r);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
    http_get_admin(&ts, "/tasks", &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "total")), 1, "%s", r.body);
    http_res_free(&r);
    cr_assert_eq(requests("POST", "/tasks", "403"), 2);
    cr_assert_eq(requests("GET", "/ui", "403"), 1);
}

/* POST /tasks with a body and the header lines hdrs. */
static long post_task(const char *hdrs, http_res *r)
{
    http_do_headers(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0}", hdrs, r);
    return r->status;
}

Test(http_admit, a_body_that_is_not_json_is_refused_with_415)
{
    ts_start(&ts, default_hosts);
    http_res r;
    static const char *const refused[] = {
        "Content-Type: text/plain;charset=UTF-8",
        "Content-Type: application/x-www-form-urlencoded",
        "Content-Type: multipart/form-data; boundary=x",
        "Content-Type: application/json; charset=iso-8859-1",
        "Content-Type:", /* curl: no Content-Type at all (fetch() with a Blob body) */
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        cr_assert_eq(post_task(refused[i], &r), 415, "%s: %ld %s", refused[i], r.status, r.body);
        cr_assert(strstr(r.body, "Unsupported Media Type"), "%s", r.body);
        char accept[64];
        cr_assert_eq(http_header(&r, "Accept-Post", accept, sizeof(accept)), 0);
        cr_assert_str_eq(accept, "application/json");
        http_res_free(&r);
    }
    http_post_chunked(&ts, "/tasks", "{\"kind\":\"io\",\"delay\":0}", 23, &r);
    cr_assert_eq(r.status, 202, "chunked JSON: %ld %s", r.status, r.body);
    http_res_free(&r);
    cr_assert_eq(post_task("Content-Type: Application/JSON; charset=\"UTF-8\"", &r), 202, "%s",
                 r.body);
    http_res_free(&r);
    /* an empty POST still reaches the handler, which says what is missing */
    http_do_headers(&ts, "POST", "/tasks", "", "Content-Type:", &r);
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_assert(strstr(r.body, "\"type\":\"missing\""), "%s", r.body);
    http_res_free(&r);
    /* a body to a path that does not exist is still a 404 */
    http_do_headers(&ts, "POST", "/nope", "x", "Content-Type: text/plain", &r);
    cr_assert_eq(r.status, 404, "%s", r.body);
    http_res_free(&r);
    http_get_admin(&ts, "/tasks", &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "total")), 2, "%s", r.body);
    http_res_free(&r);
    cr_assert_eq(requests("POST", "/tasks", "415"), 5);
}
