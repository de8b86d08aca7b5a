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
    return prescreen(s, strlen(s), detail, sizeof(detail));
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
    cr_assert_eq(prescreen(cl, strlen(cl), detail, sizeof(detail)), 413);
    cr_assert_eq(judge("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n"), 0);
    cr_assert_eq(judge("POST / HTTP/1.1\r\nCONTENT-LENGTH: 0x10\r\n\r\n"), 400);
    cr_assert_eq(judge("GET /\r\n"), 400, "HTTP/0.9 style");
    cr_assert_eq(judge("GET / HTTP/1.1x\r\n"), 400);
    cr_assert_eq(judge("G(T / HTTP/1.1\r\n"), 400, "not a token");
    cr_assert_eq(judge("GET /a\x01 HTTP/1.1\r\n"), 400, "a control character in the target");
    cr_assert_eq(judge("GET / HTTP/3.0\r\n"), 505);
    const char *v = "GET / HTTP/1.2\r\n";
    cr_assert_eq(prescreen(v, strlen(v), detail, sizeof(detail)), 505);
    cr_assert_str_eq(detail, "HTTP version not supported: HTTP/1.2");
}
