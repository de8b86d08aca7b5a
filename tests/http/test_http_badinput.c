#define _GNU_SOURCE
/*
 * test_http_badinput.c - the bad-input catalogue over raw sockets: garbage
 * request lines, NUL bytes, huge URLs and headers, headers without a colon,
 * 5,000 query parameters, bad percent-encoding, bad and huge chunked uploads,
 * Content-Length lies, pipelined requests and 1,000 half-open connections.
 * After each, the server answers /healthz, has no connection left but the
 * one asking, and its fds and heap are back to where they were (the server
 * runs in this process: /proc/self/fd and malloc's own count are its).
 */
#include <criterion/criterion.h>
#include <malloc.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "rawsock.h"

#define TIMEOUT_S 1           /* --conn-timeout here: idle connections go fast */
#define HEAP_SLACK (48 << 10) /* heap a test may leave behind (caches; 7-16 KiB measured) */

static test_server ts;
static int base_fds;
static size_t base_heap;

static void short_timeout(config *c)
{
    c->conn_timeout = TIMEOUT_S;
}

static size_t heap_in_use(void)
{
    return mallinfo2().uordblks; /* 0 under ASan, whose leak check covers this */
}

static void setup(void)
{
    ts_start(&ts, short_timeout);
    http_res r;
    http_get(&ts, "/healthz", &r); /* warm up what is allocated once */
    http_res_free(&r);
    wait_loop_state(&ts, "connections", 1, 10.0);
    base_fds = count_fds();
    base_heap = heap_in_use();
}

static void teardown(void)
{
    ts_stop(&ts);
}

TestSuite(badinput, .init = setup, .fini = teardown, .timeout = 120);

/* The server is as it was: it answers, holds no connection, no fd, no heap more. */
static void recovered(void)
{
    http_res r;
    http_get(&ts, "/healthz", &r);
    cr_assert_eq(r.status, 200, "/healthz after the abuse: %ld", r.status);
    http_res_free(&r);
    wait_loop_state(&ts, "connections", 1, 10.0 + TIMEOUT_S); /* the one asking */
    double t0 = now_secs();
    while (count_fds() > base_fds && now_secs() - t0 < 5.0)
        usleep(20000);
    cr_assert_leq(count_fds(), base_fds, "fds: %d, were %d", count_fds(), base_fds);
    size_t heap = heap_in_use();
    cr_assert_leq(heap, base_heap + HEAP_SLACK, "heap in use %zu bytes, was %zu", heap, base_heap);
}

static void send_expect_close(const void *data, size_t n, raw_reply *rep)
{
    raw_exchange(ts.port, data, n, 10.0 + TIMEOUT_S, rep);
    cr_assert(rep->closed, "the server kept the connection open for %.1f s", rep->secs);
}

Test(badinput, garbage_request_lines_are_refused_or_dropped)
{
    static const char *const lines[] = {
        "\x01\x02garbage\r\n\r\n",        "hello\r\n\r\n",         "GET\r\n\r\n",
        "GET / HTTP/1.1 extra\r\n\r\n",   "GET / FOO/1.1\r\n\r\n", "\r\n\r\n\r\n",
        " / HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        raw_reply rep;
        send_expect_close(lines[i], strlen(lines[i]), &rep);
        int st = raw_status(&rep);
        cr_assert(rep.len == 0 || st >= 400, "line %zu answered %d: %s", i, st, rep.data);
        raw_reply_free(&rep);
    }
    /* 16 KiB of noise */
    char noise[16384];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (char)((x = x * 1103515245u + 12345u) >> 24);
    raw_reply rep;
    send_expect_close(noise, sizeof(noise), &rep);
    cr_assert(rep.len == 0 || raw_status(&rep) >= 400, "%s", rep.data);
    raw_reply_free(&rep);
    recovered();
}

Test(badinput, nul_bytes_are_answered)
{
    static const char url[] =
        "GET /nope\0/healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    static const char hdr[] =
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\nConnection: close\r\n\r\n";
    static const char body[] =
        "POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: "
        "close\r\n\r\n{\0\0\0}";
    raw_reply rep;
    send_expect_close(url, sizeof(url) - 1, &rep);
    /* a NUL in the request line makes it no request line (http/prescreen.c); before,
     * libmicrohttpd cut the path there and /nope answered 404 */
    cr_assert_eq(raw_status(&rep), 400, "%s", rep.data);
    cr_assert_eq(raw_count(&rep, "malformed request line"), 1, "%s", rep.data);
    raw_reply_free(&rep);
    send_expect_close(hdr, sizeof(hdr) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 200, "%s", rep.data);
    raw_reply_free(&rep);
    send_expect_close(body, sizeof(body) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 422, "%s", rep.data);
    cr_assert_eq(raw_count(&rep, "json_invalid"), 1, "%s", rep.data);
    raw_reply_free(&rep);
    recovered();
}

/* A request "GET <path> HTTP/1.1" with `extra` header bytes of "X-N: v" lines. */
static char *request_with(const char *path_head, size_t path_pad, size_t header_pad,
                          size_t nheaders, size_t *len)
{
    size_t cap = 256 + path_pad + header_pad + nheaders * 16;
    char *p = malloc(cap), *o = p;
    o += sprintf(o, "GET %s", path_head);
    memset(o, 'a', path_pad);
    o += path_pad;
    o += sprintf(o, " HTTP/1.1\r\nHost: x\r\n");
    if (header_pad) {
        o += sprintf(o, "X-Big: ");
        memset(o, 'b', header_pad);
        o += header_pad;
        o += sprintf(o, "\r\n");
    }
    for (size_t i = 0; i < nheaders; i++)
        o += sprintf(o, "X-%zu: v\r\n", i);
    o += sprintf(o, "\r\n");
    *len = (size_t)(o - p);
    return p;
}

Test(badinput, huge_url_and_headers_get_414_and_431)
{
    size_t len;
    raw_reply rep;
    char *req = request_with("/healthz?x=", 65536, 0, 0, &len);
    send_expect_close(req, len, &rep);
    cr_assert_eq(raw_status(&rep), 414, "%.200s", rep.data);
    raw_reply_free(&rep);
    free(req);
    req = request_with("/healthz", 0, 65536, 0, &len);
    send_expect_close(req, len, &rep);
    cr_assert_eq(raw_status(&rep), 431, "%.200s", rep.data);
    raw_reply_free(&rep);
    free(req);
    req = request_with("/healthz", 0, 0, 1000, &len); /* many small headers */
    send_expect_close(req, len, &rep);
    cr_assert_eq(raw_status(&rep), 431, "%.200s", rep.data);
    raw_reply_free(&rep);
    free(req);
    recovered();
}

Test(badinput, header_without_colon_is_400)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n";
    raw_reply rep;
    send_expect_close(req, sizeof(req) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 400, "%s", rep.data);
    raw_reply_free(&rep);
    recovered();
}

Test(badinput, five_thousand_query_parameters)
{
    char *req = malloc(32768), *o = req;
    o += sprintf(o, "GET /io/job?delay=0");
    for (int i = 0; i < 5000; i++)
        o += sprintf(o, "&p=1");
    o += sprintf(o, " HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_reply rep;
    send_expect_close(req, (size_t)(o - req), &rep);
    /* 20 KB of URL in 5000 parameters: more than the connection's buffer
     * holds (libmicrohttpd alone answers its HTML 414); judged first, JSON */
    cr_assert_eq(raw_status(&rep), 414, "%.200s", rep.data);
    cr_assert_eq(raw_count(&rep, "request line too large for the connection buffer"), 1, "%s",
                 rep.data);
    raw_reply_free(&rep);
    free(req);
    recovered();
}

Test(badinput, bad_percent_encoding)
{
    static const struct {
        const char *path;
        int status;
    } cases[] = {
        {"/io/job?delay=%zz", 422},
        {"/io/job?delay=%", 422},
        {"/io/job?delay=%4", 422},
        {"/io/job?name=%ff%fe", 422},
        /* a NUL is refused, never cut at (before: delay=0%00abc ran as 0, /healthz%00xx
         * answered 200, name=a%00b became "a") */
        {"/io/job?delay=0%00", 422},
        {"/io/job?delay=0%00abc", 422},
        {"/io/job?name=a%00b&delay=0", 422},
        {"/io/job?a%00b=1&delay=0", 422},
        {"/healthz%00xx", 404},
        {"/healthz%00", 404},
        {"/tasks/0123456789abcdef0123456789abcdef%00junk", 404},
        {"/%zz", 404},
        {"/io/job%", 404},
        {"/%2e%2e/%2e%2e/etc/passwd", 404},
        {"/io/job?%zz=%zz&delay=0", 200},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char req[256];
        int n = snprintf(req, sizeof(req),
                         "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", cases[i].path);
        raw_reply rep;
        send_expect_close(req, (size_t)n, &rep);
        cr_assert_eq(raw_status(&rep), cases[i].status, "%s: %s", cases[i].path, rep.data);
        cr_assert_eq(raw_count(&rep, "{\"detail\""), cases[i].status == 200 ? 0 : 1, "%s: %s",
                     cases[i].path, rep.data);
        raw_reply_free(&rep);
    }
    recovered();
}

#define CHUNKED "POST /tasks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"

Test(badinput, bad_and_huge_chunked_uploads)
{
    raw_reply rep;
    static const char bad_size[] = CHUNKED "zz\r\nabc\r\n0\r\n\r\n";
    send_expect_close(bad_size, sizeof(bad_size) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 400, "%s", rep.data);
    raw_reply_free(&rep);
    static const char overflow[] = CHUNKED "ffffffffffffffffff\r\nabc\r\n";
    send_expect_close(overflow, sizeof(overflow) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 413, "%s", rep.data);
    raw_reply_free(&rep);
    /* a promised 2^63 bytes that never come: dropped at the idle timeout */
    static const char promise[] = CHUNKED "7fffffffffffffff\r\nabc";
    send_expect_close(promise, sizeof(promise) - 1, &rep);
    cr_assert_eq(rep.len, 0, "%s", rep.data);
    raw_reply_free(&rep);
    /* 100 KiB in chunks: over the 64 KiB body limit, a JSON 413 once it ended */
    size_t cap = 200000, n = 0;
    char *big = malloc(cap);
    n += (size_t)sprintf(big, CHUNKED);
    for (int i = 0; i < 25; i++) {
        n += (size_t)sprintf(big + n, "1000\r\n");
        memset(big + n, ' ', 4096);
        n += 4096;
        n += (size_t)sprintf(big + n, "\r\n");
    }
    n += (size_t)sprintf(big + n, "0\r\nConnection: close\r\n\r\n");
    send_expect_close(big, n, &rep);
    cr_assert_eq(raw_status(&rep), 413, "%.300s", rep.data);
    cr_assert_eq(raw_count(&rep, "Request body too large"), 1, "%.300s", rep.data);
    raw_reply_free(&rep);
    free(big);
    /* 2 MiB in chunks, never ending: cut off past 1 MiB, no 202 */
    int fd = raw_connect(ts.port);
    raw_send(fd, CHUNKED, strlen(CHUNKED));
    char chunk[8192 + 16];
    int hl = sprintf(chunk, "2000\r\n");
    memset(chunk + hl, 'x', 8192);
    memcpy(chunk + hl + 8192, "\r\n", 2);
    for (int i = 0; i < 256; i++)
        if (raw_send(fd, chunk, (size_t)hl + 8194) < 0) break;
    raw_read(fd, 10.0 + TIMEOUT_S, NULL, 0, &rep);
    cr_assert(rep.closed);
    cr_assert_eq(raw_count(&rep, " 202 "), 0, "%.300s", rep.data);
    raw_reply_free(&rep);
    close(fd);
    recovered();
}

Test(badinput, content_length_lies)
{
    raw_reply rep;
    /* shorter than the body: the first 5 bytes are the body (422), the rest is
     * read as a next request, which is garbage */
    static const char shorter[] = "POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n"
                                  "{\"kind\":\"io\",\"delay\":0}";
    send_expect_close(shorter, sizeof(shorter) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 422, "%s", rep.data);
    cr_assert_eq(raw_count(&rep, "json_invalid"), 1, "%s", rep.data);
    cr_assert_eq(raw_count(&rep, " 202 "), 0, "%s", rep.data);
    raw_reply_free(&rep);
    /* longer than the body: nothing to answer; dropped at the idle timeout */
    static const char longer[] = "POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"
                                 "{\"kind\":\"io\"}";
    send_expect_close(longer, sizeof(longer) - 1, &rep);
    cr_assert_eq(rep.len, 0, "%s", rep.data);
    cr_assert_gt(rep.secs, TIMEOUT_S * 0.5);
    raw_reply_free(&rep);
    /* two framings: refused, and the connection closed, so that what follows
     * the body (here a smuggled GET) is never read as a request */
    static const char twice[] =
        "POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 30\r\n"
        "\r\n{}";
    send_expect_close(twice, sizeof(twice) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 400, "%s", rep.data);
    cr_assert_eq(raw_count(&rep, "{\"detail\":\"more than one Content-Length header\"}"), 1, "%s",
                 rep.data);
    cr_assert_eq(raw_count(&rep, "Connection: close"), 1, "%s", rep.data);
    raw_reply_free(&rep);
    static const char both[] =
        "POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nTransfer-Encoding: "
        "chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    send_expect_close(both, sizeof(both) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 400, "%s", rep.data);
    cr_assert_eq(raw_count(&rep, "both Content-Length and Transfer-Encoding"), 1, "%s", rep.data);
    cr_assert_eq(raw_count(&rep, "HTTP/1.1 "), 1, "the smuggled request was answered: %s",
                 rep.data);
    cr_assert_eq(raw_count(&rep, "Connection: close"), 1, "%s", rep.data);
    raw_reply_free(&rep);
    /* not a number: MHD's 400 */
    static const char nan[] = "POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n{}";
    send_expect_close(nan, sizeof(nan) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 400, "%s", rep.data);
    raw_reply_free(&rep);
    /* over the body limit: refused before the body is read */
    static const char huge[] =
        "POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n{}";
    send_expect_close(huge, sizeof(huge) - 1, &rep);
    cr_assert_eq(raw_status(&rep), 413, "%s", rep.data);
    cr_assert_eq(raw_count(&rep, "Request body too large"), 1, "%s", rep.data);
    raw_reply_free(&rep);
    recovered();
}

Test(badinput, pipelined_requests_are_answered_in_order)
{
    static const char reqs[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                               "GET /io/job?name=second&delay=0.05 HTTP/1.1\r\nHost: t\r\n\r\n"
                               "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
                               "POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 24\r\n\r\n"
                               "{\"kind\":\"io\",\"delay\":0}\n"
                               "GET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    raw_reply rep;
    send_expect_close(reqs, sizeof(reqs) - 1, &rep);
    static const int want[] = {200, 200, 404, 202, 200};
    static const char *const marks[] = {"\"status\":\"ok\"", "second done after 0.05s", "Not Found",
                                        "\"kind\":\"io\"", "\"status\":\"ready\""};
    const char *p = rep.data;
    for (int i = 0; i < 5; i++) {
        p = strstr(p, "HTTP/1.1 ");
        cr_assert_not_null(p, "response %d missing: %s", i, rep.data);
        cr_assert_eq(atoi(p + 9), want[i], "response %d: %s", i, rep.data);
        const char *m = strstr(p, marks[i]);
        const char *next = strstr(p + 1, "HTTP/1.1 ");
        cr_assert(m && (!next || m < next), "response %d is not its request's: %s", i, rep.data);
        p += 9;
    }
    cr_assert_null(strstr(p, "HTTP/1.1 "), "more answers than requests");
    raw_reply_free(&rep);
    recovered();
}

#define HALF_OPEN 1000

Test(badinput, a_thousand_half_open_connections)
{
    static int fds[HALF_OPEN];
    for (int i = 0; i < HALF_OPEN; i++) {
        fds[i] = raw_connect(ts.port);
        cr_assert(fds[i] >= 0, "connect %d failed", i);
        if (i % 2) raw_send(fds[i], "GET /healthz HTTP/1.1\r\nHo", 25); /* half a request */
    }
    /* they do not stop anyone else */
    http_res r;
    http_get(&ts, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_lt(r.secs, 2.0, "/healthz took %.2f s", r.secs);
    http_res_free(&r);
    /* each is closed by the server after the idle timeout, unanswered */
    double t0 = now_secs();
    for (int i = 0; i < HALF_OPEN; i++) {
        raw_reply rep;
        raw_read(fds[i], 20.0 - (now_secs() - t0), NULL, 0, &rep);
        cr_assert(rep.closed, "connection %d still open after %.1f s", i, now_secs() - t0);
        cr_assert_eq(rep.len, 0);
        raw_reply_free(&rep);
        close(fds[i]);
    }
    recovered();
}
