/*
 * test_http_framing.c - requests that are framed or written oddly still get
 * exactly one well-formed answer in the contract's shape (http/http.c,
 * http/reqlimits.c): Transfer-Encodings libmicrohttpd cannot decode, HTTP/1.1
 * without Host, a space before a header's colon, absolute-form targets, HEAD
 * of a streaming route on a keep-alive connection, and a repeated query
 * parameter (the last one wins, as in FastAPI).
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "rawsock.h"

static test_server ts;

static void setup(void)
{
    ts_start(&ts, NULL);
}

static void teardown(void)
{
    ts_stop(&ts);
}

TestSuite(framing, .init = setup, .fini = teardown, .timeout = 60);

/* Sends req on a new connection; reads until the server closes (bounded). */
static void exchange(const char *req, raw_reply *rep)
{
    raw_exchange(ts.port, req, strlen(req), 5.0, rep);
}

static void expect_detail(const char *req, int status, const char *detail)
{
    raw_reply rep;
    exchange(req, &rep);
    cr_assert_eq(raw_status(&rep), status, "%s->\n%s", req, rep.data);
    cr_assert_eq(raw_count(&rep, "HTTP/1.1 "), 1, "one answer: %s", rep.data);
    cr_assert(strstr(rep.data, detail), "%s", rep.data);
    cr_assert(strstr(rep.data, "Content-Type: application/json"), "%s", rep.data);
    cr_assert(rep.closed && rep.secs < 3.0, "closed after %.1f s", rep.secs);
    raw_reply_free(&rep);
}

Test(framing, transfer_encodings_other_than_chunked_are_refused_at_once)
{
    /* before: no answer, EOF after 10 s, and a 408 in the log that was never sent */
    static const char *const last_not_chunked[] = {"gzip", "xchunked", "chunked, identity",
                                                   "identity"};
    for (size_t i = 0; i < sizeof(last_not_chunked) / sizeof(last_not_chunked[0]); i++) {
        char req[256];
        snprintf(req, sizeof(req),
                 "POST /tasks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: %s\r\n\r\n",
                 last_not_chunked[i]);
        expect_detail(req, 400, "Transfer-Encoding must end with chunked");
    }
    expect_detail("POST /tasks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                  501, "not implemented");
}

Test(framing, chunked_in_any_case_is_read)
{
    raw_reply rep;
    exchange("POST /tasks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n"
             "Content-Type: application/json\r\nConnection: close\r\n\r\n"
             "1c\r\n{\"kind\":\"io\",\"delay\":0.001}\r\n0\r\n\r\n",
             &rep);
    cr_assert_eq(raw_status(&rep), 202, "%s", rep.data);
    raw_reply_free(&rep);
}

Test(framing, http11_needs_exactly_one_host)
{
    expect_detail("GET /healthz HTTP/1.1\r\n\r\n", 400, "missing Host header");
    expect_detail("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400,
                  "more than one Host header");
    raw_reply rep; /* HTTP/1.0 has no such rule */
    exchange("GET /healthz HTTP/1.0\r\n\r\n", &rep);
    cr_assert_eq(raw_status(&rep), 200, "%s", rep.data);
    raw_reply_free(&rep);
}

Test(framing, a_space_before_the_colon_is_refused)
{
    /* before: "Content-Length : 5" was taken as some other header and the body as the next
     * request */
    expect_detail("POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length : 5\r\n\r\nhello", 400,
                  "invalid header name");
}

Test(framing, absolute_form_targets_are_routed_by_their_path)
{
    static const char *const reqs[] = {
        "GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "GET HTTP://example.test:8080/healthz?x=1 HTTP/1.1\r\nHost: example.test\r\n"
        "Connection: close\r\n\r\n",
    };
    for (size_t i = 0; i < 2; i++) {
        raw_reply rep;
        exchange(reqs[i], &rep);
        cr_assert_eq(raw_status(&rep), 200, "%s", rep.data);
        cr_assert(strstr(rep.data, "{\"status\":\"ok\"}"), "%s", rep.data);
        raw_reply_free(&rep);
    }
}

/* HEAD of a streaming route, then a GET on the same connection: the GET's
 * answer must be the next thing on the wire (before: a chunked "0\r\n\r\n"
 * came after the HEAD's headers and desynchronised the connection). */
static void head_then_get(const char *path)
{
    char req[512];
    snprintf(req, sizeof(req),
             "HEAD %s HTTP/1.1\r\nHost: t\r\n\r\n"
             "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
             path);
    raw_reply rep;
    exchange(req, &rep);
    cr_assert_eq(raw_status(&rep), 200, "%s", rep.data);
    cr_assert_eq(raw_count(&rep, "HTTP/1.1 "), 2, "%s", rep.data);
    const char *second = strstr(rep.data + 1, "HTTP/1.1 ");
    cr_assert(second && !strncmp(second - 4, "\r\n\r\n", 4),
              "something between the HEAD's headers and the next answer:\n%s", rep.data);
    cr_assert(strstr(second, "{\"status\":\"ok\"}"), "%s", rep.data);
    raw_reply_free(&rep);
}

Test(framing, head_of_a_stream_sends_no_body)
{
    head_then_get("/loop/stream");
    head_then_get("/io/as_completed?delays=0.01,0.02");
}

Test(framing, a_repeated_parameter_takes_its_last_value)
{
    http_res r;
    cr_assert_eq(http_get(&ts, "/io/job?name=a&delay=0&name=b&delay=0.01", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "b");
    cr_assert_float_eq(json_number_value(json_object_get(r.json, "delay")), 0.01, 1e-9);
    http_res_free(&r);
}

/* A request libmicrohttpd 0.9.75 would answer badly is answered from its
 * first bytes (http/prescreen.c): before, a Content-Length that is not a
 * number got the status line and headers twice, a line that is not a
 * request line was closed without a word, HTTP/2.0 got an HTML 505. */
Test(framing, malformed_first_bytes_get_one_json_answer)
{
    static const struct {
        const char *req;
        int status;
        const char *detail;
    } cases[] = {
        {"POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n{}", 400, "not a number"},
        {"POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\n{}", 400, "not a number"},
        {"POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400, "not a number"},
        {"POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: +13\r\n\r\n", 400, "not a number"},
        {"POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\n", 400, "not a number"},
        {"POST /tasks HTTP/1.1\r\nHost: t\r\ncontent-length: 10^23\r\n\r\n", 400, "not a number"},
        {"POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000000000000000000\r\n\r\n", 413,
         "too large"},
        {"GARBAGE\r\n\r\n", 400, "malformed request line"},
        {"GET / HTTP/1.1 extra\r\nHost: t\r\n\r\n", 400, "malformed request line"},
        {"GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400, "malformed request line"},
        {"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, "HTTP/2.0"},
        {"GET / HTTP/0.9\r\nHost: t\r\n\r\n", 505, "HTTP/0.9"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        raw_reply rep;
        exchange(cases[i].req, &rep);
        cr_assert_eq(raw_status(&rep), cases[i].status, "%s->\n%s", cases[i].req, rep.data);
        cr_assert_eq(raw_count(&rep, "HTTP/1.1 "), 1, "one answer: %s", rep.data);
        cr_assert(strstr(rep.data, cases[i].detail), "%s", rep.data);
        cr_assert(strstr(rep.data, "Content-Type: application/json"), "%s", rep.data);
        cr_assert(rep.closed, "the connection stayed open");
        raw_reply_free(&rep);
    }
    http_res r; /* and the server goes on */
    cr_assert_eq(http_get(&ts, "/healthz", &r), 0);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
}

Test(framing, a_nul_path_whose_client_leaves_early_is_forgotten)
{
    /* the raw target is seen before the headers: a client that leaves in between must
     * not leave anything behind (the server stays up, nothing leaks under ASan) */
    for (int i = 0; i < 20; i++) {
        int fd = raw_connect(ts.port);
        cr_assert_geq(fd, 0);
        raw_send(fd, "GET /a%00b HTTP/1.1\r\nHost: t\r\n", 31);
        close(fd);
    }
    usleep(200000);
    http_res r;
    cr_assert_eq(http_get(&ts, "/healthz", &r), 0);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
}
