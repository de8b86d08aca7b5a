#define _GNU_SOURCE
/*
 * test_http_limits.c - request-size limits answered in JSON (--max-url,
 * --max-params, --max-header-bytes), what libmicrohttpd answers itself past
 * its per-connection memory, what an open connection costs in resident memory,
 * the per-address connection limit, half-sent requests dropped after
 * --conn-timeout, and the executor queue bound taken all or nothing by
 * /cpu/gather.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "helpers.h"
#include "rawsock.h"

static test_server ts;

static void stop(void)
{
    if (ts.s) ts_stop(&ts);
}

TestSuite(limits, .fini = stop, .timeout = 60);

/* GET path with one extra request header (NULL: none). */
static void get_with_header(const char *path, const char *header, http_res *res)
{
    memset(res, 0, sizeof(*res));
    char url[16384];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", ts.port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = header ? curl_slist_append(NULL, header) : NULL;
    FILE *body = open_memstream(&res->body, &res->body_len);
    size_t hlen;
    FILE *hdrs = open_memstream(&res->headers, &hlen);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    fclose(body);
    fclose(hdrs);
    if (res->body_len && res->body[0] == '{') res->json = json_loads(res->body, 0, NULL);
}

/* "/healthz?" followed by a query of exactly n bytes in one parameter "x=aaa..". */
static char *long_url(size_t url_bytes)
{
    /* path 8 + "?x=" 3 + value */
    size_t v = url_bytes - 11;
    char *p = malloc(url_bytes + 1);
    memcpy(p, "/healthz?x=", 11);
    memset(p + 11, 'a', v);
    p[url_bytes] = '\0';
    return p;
}

static void expect_detail(const http_res *r, unsigned status, const char *prefix)
{
    cr_assert_eq(r->status, status, "%ld %s", r->status, r->body);
    const char *d = json_string_value(json_object_get(r->json, "detail"));
    cr_assert(d && !strncmp(d, prefix, strlen(prefix)), "detail: %s", r->body);
    char v[64];
    cr_assert_eq(http_header(r, "Content-Type", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "application/json");
    cr_assert_eq(http_header(r, "Server-Timing", v, sizeof(v)), 0);
}

Test(limits, url_at_the_limit_passes_one_byte_over_is_json_414)
{
    ts_start(&ts, NULL);
    http_res r;
    char *ok = long_url(2048), *over = long_url(2049);
    get_with_header(ok, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_res_free(&r);
    get_with_header(over, NULL, &r);
    expect_detail(&r, 414, "URI too long: 2049 bytes, the limit is 2048");
    cr_assert_null(strcasestr(r.headers, "connection: close"), "keep-alive survives a 414");
    http_res_free(&r);
    free(ok);
    free(over);
}

static void small_url_limit(config *c)
{
    c->max_url = 100;
}

Test(limits, max_url_is_configurable_and_counts_decoded_bytes)
{
    ts_start(&ts, small_url_limit);
    http_res r;
    /* 100 bytes decoded ("%41" is one byte), 160 sent */
    char path[256] = "/healthz?x=";
    for (int i = 0; i < 30; i++)
        strcat(path, "%41");
    strcat(path, "&");
    memset(path + strlen(path), 'y', 56); /* 8 + "?x=" + 30 + "&" + 56 + "&w" = 100 */
    strcat(path, "&w");
    cr_assert_eq(strlen(path), 160);
    http_get(&ts, path, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_res_free(&r);
    strcat(path, "z");
    http_get(&ts, path, &r);
    expect_detail(&r, 414, "URI too long: 101 bytes, the limit is 100");
    http_res_free(&r);
}

Test(limits, parameter_count_over_32_is_json_414)
{
    ts_start(&ts, NULL);
    char path[1024] = "/io/job?delay=0";
    for (int i = 1; i < 32; i++)
        strcat(path, "&a");
    http_res r;
    http_get(&ts, path, &r); /* 32 parameters */
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_res_free(&r);
    strcat(path, "&a");
    http_get(&ts, path, &r); /* 33 */
    expect_detail(&r, 414, "too many query parameters: 33, the limit is 32");
    http_res_free(&r);
}

Test(limits, headers_over_the_limit_are_json_431)
{
    ts_start(&ts, NULL);
    char *h = malloc(9000);
    strcpy(h, "X-Big: ");
    memset(h + 7, 'b', 8000); /* with curl's own headers, under the 8192 of the default */
    h[8007] = '\0';
    http_res r;
    get_with_header("/healthz", h, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_res_free(&r);
    memset(h + 7, 'b', 8400); /* over 8192, well inside --conn-memory's 32768 */
    h[8407] = '\0';
    get_with_header("/healthz", h, &r);
    expect_detail(&r, 431, "request headers too large: ");
    http_res_free(&r);
    free(h);
}

/* Past --conn-memory the request could never reach iocpu (libmicrohttpd
 * answers its own HTML page, or nothing): its first bytes are judged before
 * libmicrohttpd reads them, and the answer is JSON, then the connection is
 * closed. (Raw sockets: the server closes with part of the request unread,
 * and a client still sending would see the reset before the answer.) */
Test(limits, beyond_connection_memory_the_answer_is_json_and_closes)
{
    ts_start(&ts, NULL);
    static const int want[] = {414, 431};
    enum { PAD = 40000 };
    char *pad = malloc(PAD + 1), *req = malloc(PAD + 200);
    memset(pad, 'a', PAD);
    pad[PAD] = '\0';
    for (int i = 0; i < 2; i++) {
        int n = i == 0
                    ? snprintf(req, PAD + 200, "GET /healthz?x=%s HTTP/1.1\r\nHost: t\r\n\r\n", pad)
                    : snprintf(req, PAD + 200,
                               "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n", pad);
        raw_reply rep;
        raw_exchange(ts.port, req, (size_t)n, 10.0, &rep);
        cr_assert_eq(raw_status(&rep), want[i], "%.200s", rep.data);
        cr_assert_eq(raw_count(&rep, "HTTP/1.1 "), 1, "%s", rep.data);
        cr_assert_eq(raw_count(&rep, "Connection: close\r\n"), 1, "%s", rep.data);
        cr_assert_eq(raw_count(&rep, "Content-Type: application/json"), 1, "%s", rep.data);
        cr_assert_eq(raw_count(&rep, "too large"), 1, "%s", rep.data);
        cr_assert(rep.closed);
        raw_reply_free(&rep);
    }
    free(pad);
    free(req);
    http_res r;
    http_get(&ts, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
}

/* --- resident memory per open connection ----------------------------------- */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

/* Opens connections that each get one answer and stay open (keep-alive), as
 * 10,000 sleepers do between their requests, and returns the growth of this
 * process's resident memory per connection, in bytes. The server runs on a
 * thread of this process (started: it has raised the descriptor limit as far
 * as --max-connections needs); the client side holds no heap per connection. */
static double resident_bytes_per_connection(void)
{
#ifdef __SANITIZE_ADDRESS__
    cr_skip_test("AddressSanitizer's allocator changes what memory costs");
#endif
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    int n = rl.rlim_cur > 3064 ? 1500 : (int)(rl.rlim_cur - 64) / 2; /* two fds each */
    if (n < 400)
        cr_skip_test("only %d descriptors: too few connections to measure", (int)rl.rlim_cur);
    int *fds = malloc(sizeof(int) * (size_t)n);
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    http_res r;
    http_get(&ts, "/healthz", &r); /* everything lazy is set up before the first reading */
    http_res_free(&r);
    long before = rss_kib();
    for (int i = 0; i < n; i++) {
        fds[i] = raw_connect(ts.port);
        cr_assert_geq(fds[i], 0, "connection %d", i);
        cr_assert_eq(raw_send(fds[i], req, sizeof(req) - 1), 0);
        raw_reply rep;
        raw_read(fds[i], 10.0, "{\"status\":\"ok\"}", 1, &rep);
        cr_assert_eq(raw_status(&rep), 200, "connection %d: %.200s", i, rep.data);
        raw_reply_free(&rep);
    }
    long after = rss_kib();
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    cr_assert(before > 0 && after > 0);
    double per = (double)(after - before) * 1024 / n;
    cr_log_info("--conn-memory %ld: %.0f bytes resident per open connection (%d connections)",
                ts.cfg.conn_memory, per, n);
    return per;
}

/* libmicrohttpd zeroes the whole --conn-memory block after every request, so
 * each open connection keeps all of it resident: the default 32768 (what
 * browser-size headers need, docs/limits.md) is what 10,000 sleepers cost
 * (docs/performance.md). */
Test(limits, an_open_connection_costs_about_its_conn_memory)
{
    ts_start(&ts, NULL);
    cr_assert_eq(ts.cfg.conn_memory, 32768);
    double per = resident_bytes_per_connection();
    cr_assert_lt(per, 1.5 * 32768, "%.0f bytes resident per open connection", per);
    cr_assert_gt(per, 0.75 * 32768, "%.0f bytes per connection: less than its block", per);
}

static void conn_memory_8192(config *c)
{
    c->conn_memory = 8192;
}

/* The flag is the knob: a quarter of the block, about a quarter of the
 * memory per connection (measured: 8858 bytes at 8192). */
Test(limits, lowering_conn_memory_lowers_what_each_connection_keeps)
{
    ts_start(&ts, conn_memory_8192);
    double per = resident_bytes_per_connection();
    cr_assert_lt(per, 12 * 1024, "%.0f bytes resident per open connection", per);
    cr_assert_gt(per, 6 * 1024, "%.0f bytes resident per open connection", per);
}

static void two_per_ip(config *c)
{
    c->max_conn_per_ip = 2;
}

/* GET /healthz until it answers 200 (closes are seen asynchronously). */
static void healthz_within(double secs)
{
    double t0 = now_secs();
    for (;;) {
        http_res r;
        http_get(&ts, "/healthz", &r);
        long st = r.status;
        http_res_free(&r);
        if (st == 200) return;
        cr_assert_lt(now_secs() - t0, secs, "/healthz did not answer 200 again");
        usleep(20000);
    }
}

Test(limits, per_ip_limit_closes_the_extra_connection)
{
    ts_start(&ts, two_per_ip);
    int a = raw_connect(ts.port), b = raw_connect(ts.port);
    cr_assert(a >= 0 && b >= 0);
    for (int i = 0; i < 2; i++) { /* a connection is accepted with its first bytes */
        raw_reply ok;
        raw_send(i ? b : a, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 34);
        raw_read(i ? b : a, 5.0, "}", 1, &ok);
        cr_assert_eq(raw_status(&ok), 200, "%s", ok.data);
        raw_reply_free(&ok);
    }
    /* both are open; a third from the same address is closed at once, unanswered */
    int c = raw_connect(ts.port);
    cr_assert(c >= 0, "the kernel accepts; MHD then closes");
    raw_send(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 35);
    raw_reply rep;
    raw_read(c, 5.0, NULL, 0, &rep);
    cr_assert(rep.closed, "the third connection stayed open");
    cr_assert_eq(rep.len, 0, "it got an answer: %s", rep.data);
    cr_assert_lt(rep.secs, 2.0);
    raw_reply_free(&rep);
    close(c);
    /* the two admitted ones still work */
    raw_send(a, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 35);
    raw_read(a, 5.0, "{\"status\":\"ok\"}", 1, &rep);
    cr_assert_eq(raw_status(&rep), 200, "%s", rep.data);
    raw_reply_free(&rep);
    close(a);
    close(b);
    healthz_within(5.0);
}

static void two_in_all(config *c)
{
    c->max_connections = 2;
}

/* One request on a kept-alive raw connection; its status. */
static int ask(int fd)
{
    raw_reply rep;
    raw_send(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 35);
    raw_read(fd, 5.0, "{\"status\":\"ok\"}", 1, &rep);
    int st = raw_status(&rep);
    raw_reply_free(&rep);
    return st;
}

/* At --max-connections MHD stops accepting: a new connection waits in the
 * kernel's listen backlog, unanswered, until an open one closes. */
Test(limits, max_connections_makes_the_next_one_wait)
{
    ts_start(&ts, two_in_all);
    int a = raw_connect(ts.port), b = raw_connect(ts.port);
    cr_assert(a >= 0 && b >= 0);
    cr_assert_eq(ask(a), 200); /* both accepted, both kept alive */
    cr_assert_eq(ask(b), 200);
    int c = raw_connect(ts.port);
    raw_send(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 35);
    raw_reply rep;
    raw_read(c, 1.5, NULL, 0, &rep);
    cr_assert(!rep.closed && rep.len == 0, "at the limit, the third was served or closed: %s",
              rep.data);
    raw_reply_free(&rep);
    close(a);
    raw_read(c, 10.0, "{\"status\":\"ok\"}", 1, &rep);
    cr_assert_eq(raw_status(&rep), 200, "once one closed, the waiting one is served: %s", rep.data);
    raw_reply_free(&rep);
    close(c);
    close(b);
    healthz_within(5.0);
}

static void one_second_timeout(config *c)
{
    c->conn_timeout = 1;
}

Test(limits, half_sent_request_is_dropped_after_conn_timeout)
{
    ts_start(&ts, one_second_timeout);
    int fd = raw_connect(ts.port);
    cr_assert(fd >= 0);
    const char *half = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    raw_send(fd, half, strlen(half));
    /* meanwhile other clients are served at once */
    http_res r;
    http_get(&ts, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_lt(r.secs, 0.5);
    http_res_free(&r);
    raw_reply rep;
    raw_read(fd, 15.0, NULL, 0, &rep);
    cr_assert(rep.closed, "a half-sent request was kept for %.1f s", rep.secs);
    cr_assert_eq(rep.len, 0, "%s", rep.data);
    cr_assert_gt(rep.secs, 0.5, "dropped before the timeout: %.2f s", rep.secs);
    cr_assert_lt(rep.secs, 6.0);
    raw_reply_free(&rep);
    close(fd);
    /* a connection that never sends a byte goes the same way */
    fd = raw_connect(ts.port);
    raw_read(fd, 15.0, NULL, 0, &rep);
    cr_assert(rep.closed);
    cr_assert_lt(rep.secs, 6.0);
    raw_reply_free(&rep);
    close(fd);
}

static void small_queue(config *c)
{
    c->queue = 150;
    c->workers = 2;
}

typedef struct abandon_arg {
    pthread_t th;
    const char *path;
    long ms;
} abandon_arg;

static void *abandon_main(void *p)
{
    abandon_arg *a = p;
    http_get_abandon(&ts, a->path, a->ms);
    return NULL;
}

/* 100 jobs per /cpu/gather against a queue of 150: one fits, the next is
 * refused whole (nothing of it stays queued), and a client that leaves takes
 * its jobs with it. */
Test(limits, gather_takes_the_queue_all_or_nothing)
{
    ts_start(&ts, small_queue);
    char path[1024] = "/cpu/gather?ms=3000&ns=1";
    for (int i = 1; i < 100; i++)
        strcat(path, ",1");
    abandon_arg a = {.path = path, .ms = 4000};
    cr_assert_eq(pthread_create(&a.th, NULL, abandon_main, &a), 0);
    wait_loop_state(&ts, "executor.queued", 98, 10.0);
    http_res r;
    http_get(&ts, path, &r);
    expect_detail(&r, 503, "executor queue full");
    char ra[16];
    cr_assert_eq(http_header(&r, "Retry-After", ra, sizeof(ra)), 0);
    cr_assert_lt(r.secs, 1.0, "a refusal must not wait");
    http_res_free(&r);
    wait_loop_state(&ts, "executor.queued", 98, 1.0); /* none of the 100 refused stayed */
    pthread_join(a.th, NULL);
    wait_loop_state(&ts, "executor.queued", 0, 5.0);
    wait_loop_state(&ts, "executor.busy", 0, 5.0);
}
