/*
 * test_prescreen.c - the first-bytes judge (http/prescreen.c) alone.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "prescreen.h"

TestSuite(prescreen, .timeout = 30);

static unsigned judge(const char *s)
{
    char detail[96];
    return prescreen(s, strlen(s), NULL, NULL, detail, sizeof(detail));
}

Test(prescreen, good_requests_and_partial_lines_pass)
{
    cr_assert_eq(judge("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    cr_assert_eq(judge("\r\nGET / HTTP/1.0\n\n"), 0, "a leading empty line and bare LF");
    cr_assert_eq(judge("POST /tasks HTTP/1.1\r\nContent-Length:  12 \r\n\r\n"), 0);
    cr_assert_eq(judge("GARB"), 0, "an incomplete line says nothing yet");
    cr_assert_eq(judge("POST /t HTTP/1.1\r\nContent-Length: ab"), 0, "nor an incomplete header");
    cr_assert_eq(judge("GET / HTTP/1.1\r\n\r\nContent-Length: x\r\n"), 0, "that is the body");
    cr_assert_eq(judge("M-SEARCH * HTTP/1.1\r\n\r\n"), 0);
    cr_assert_eq(judge(""), 0);
}

Test(prescreen, bad_first_bytes_are_named)
{
    char detail[96];
    const char *cl = "POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n";
    cr_assert_eq(prescreen(cl, strlen(cl), NULL, NULL, detail, sizeof(detail)), 413);
    cr_assert_eq(judge("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n"), 0);
    cr_assert_eq(judge("POST / HTTP/1.1\r\nCONTENT-LENGTH: 0x10\r\n\r\n"), 400);
    cr_assert_eq(judge("GET /\r\n"), 400, "HTTP/0.9 style");
    cr_assert_eq(judge("GET / HTTP/1.1x\r\n"), 400);
    cr_assert_eq(judge("G(T / HTTP/1.1\r\n"), 400, "not a token");
    cr_assert_eq(judge("GET /a\x01 HTTP/1.1\r\n"), 400, "a control character in the target");
    cr_assert_eq(judge("GET / HTTP/3.0\r\n"), 505);
    const char *v = "GET / HTTP/1.2\r\n";
    cr_assert_eq(prescreen(v, strlen(v), NULL, NULL, detail, sizeof(detail)), 505);
    cr_assert_str_eq(detail, "HTTP version not supported: HTTP/1.2");
}

static unsigned judge_lim(const char *s, size_t max_header, size_t conn_memory, char *detail)
{
    prescreen_limits lim = {.max_header_bytes = max_header, .conn_memory = conn_memory};
    return prescreen(s, strlen(s), &lim, NULL, detail, 192);
}

/* The sum of "Name: value\r\n" is counted as libmicrohttpd stores it (the
 * value without its surrounding spaces), the same figure reqlimits.c reports. */
Test(prescreen, header_bytes_are_counted_as_stored)
{
    char d[192];
    const char *r = "GET / HTTP/1.1\r\nHost: t\r\nX-A:   abc  \r\n\r\n"; /* 9 + 10 */
    cr_assert_eq(judge_lim(r, 19, 4096, d), 0, "%s", d);
    cr_assert_eq(judge_lim(r, 18, 4096, d), 431);
    cr_assert_str_eq(d, "request headers too large: 19 bytes, the limit is 18");
    cr_assert_eq(judge_lim("GET / HTTP/1.1\r\nX-A: abcdefgh", 5, 4096, d), 0,
                 "an incomplete line is not counted");
}

/* What libmicrohttpd's buffer would hold: bytes, an entry per header,
 * parameter and cookie, the Cookie copy, and room for the answer. */
Test(prescreen, the_buffer_is_counted_with_entries_and_the_cookie_copy)
{
    char d[192];
    const char *plain = "GET / HTTP/1.1\r\nA: 1\r\n\r\n"; /* 22 bytes before the end, 1 entry */
    size_t need = 22 + PRESCREEN_ENTRY_COST + PRESCREEN_ANSWER_RESERVE;
    cr_assert_eq(judge_lim(plain, 4096, need, d), 0, "%s", d);
    cr_assert_eq(judge_lim(plain, 4096, need - 1, d), 431);
    cr_assert(strstr(d, "for the connection buffer"), "%s", d);
    const char *cookie = "GET / HTTP/1.1\r\nCookie: a=1; b=2\r\n\r\n";   /* 34 bytes */
    need = 34 + 9 + 3 * PRESCREEN_ENTRY_COST + PRESCREEN_ANSWER_RESERVE; /* copy: 8 + NUL */
    cr_assert_eq(judge_lim(cookie, 4096, need, d), 0, "%s", d);
    cr_assert_eq(judge_lim(cookie, 4096, need - 1, d), 431);
    const char *query = "GET /?a=1&b=2&c=3 HTTP/1.1\r\n"; /* incomplete head, 3 params */
    need = 28 + 3 * PRESCREEN_ENTRY_COST + PRESCREEN_ANSWER_RESERVE;
    cr_assert_eq(judge_lim(query, 4096, need, d), 0, "%s", d);
    cr_assert_eq(judge_lim(query, 4096, need - 1, d), 431);
    cr_assert_eq(judge_lim(query, 4096, 1000, d), 414, "the line alone does not fit");
    cr_assert(strstr(d, "request line too large"), "%s", d);
}

Test(prescreen, a_complete_head_tells_its_framing)
{
    char d[192];
    prescreen_head h;
    const char *get = "\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\nnext";
    cr_assert_eq(prescreen(get, strlen(get), NULL, &h, d, sizeof(d)), 0);
    cr_assert(h.complete);
    cr_assert_eq(h.head_len, strlen(get) - 4, "leading empty lines and the end included");
    cr_assert_eq(h.body_len, 0);
    const char *post = "POST / HTTP/1.1\nContent-Length: 12\n\n";
    cr_assert_eq(prescreen(post, strlen(post), NULL, &h, d, sizeof(d)), 0);
    cr_assert(h.complete && h.head_len == strlen(post) && h.body_len == 12);
    const char *chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    cr_assert_eq(prescreen(chunked, strlen(chunked), NULL, &h, d, sizeof(d)), 0);
    cr_assert(h.complete && h.body_len == -1, "a chunked body's end is not known");
    const char *half = "GET / HTTP/1.1\r\nHost: t\r\n\r";
    cr_assert_eq(prescreen(half, strlen(half), NULL, &h, d, sizeof(d)), 0);
    cr_assert(!h.complete);
}
