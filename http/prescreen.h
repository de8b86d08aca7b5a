/*
 * prescreen.h - the first bytes of a request, judged before libmicrohttpd
 * parses them, for the cases where libmicrohttpd 0.9.75 itself would answer
 * badly: a request line that is not one (it closes without a word), an
 * HTTP version it does not speak (its HTML 505), a Content-Length that is
 * not a number or does not fit 64 bits (its 400/413 sends the status line
 * and headers twice), and headers that do not fit, or only just fit, its
 * per-connection buffer (--conn-memory): it answers those with an empty
 * reply, its HTML 431, or a 431 sent twice (docs/limits.md). http_conn.c
 * peeks at the bytes of a new request (MSG_PEEK: libmicrohttpd still reads
 * them all) and, when this finds one of those, answers in the contract's
 * JSON shape itself and closes the connection.
 *
 * The buffer: libmicrohttpd keeps the request line and the header lines in
 * it as they came, one entry of its own per header, query parameter and
 * cookie, a copy of the Cookie header, and then builds its answer's header
 * in what is left. prescreen_cost() counts all of that (measured against
 * 0.9.75: tests/http/test_http_headers.c sweeps the sizes and shapes).
 *
 * Only complete lines are judged for their grammar: bytes that end mid-line
 * say nothing yet, and what is not in the peeked bytes is left to
 * libmicrohttpd. Pure; any thread; fuzzed (tests/fuzz/fuzz_prescreen.c).
 */
#ifndef IOCPU_PRESCREEN_H
#define IOCPU_PRESCREEN_H

#include <stddef.h>
#include <stdint.h>

/* What libmicrohttpd 0.9.75 spends of the buffer beyond the bytes
 * themselves: per header, parameter or cookie (its list entry, rounded up),
 * and for the answer's own header line block. */
#define PRESCREEN_ENTRY_COST 64
#define PRESCREEN_ANSWER_RESERVE 1024

typedef struct prescreen_limits {
    size_t max_header_bytes; /* --max-header-bytes: the sum of "Name: value\r\n" */
    size_t conn_memory;      /* --conn-memory: libmicrohttpd's buffer per connection */
} prescreen_limits;

/* What the bytes tell of the request's framing, when they hold its head. */
typedef struct prescreen_head {
    int complete;     /* the head is whole: the fields below are known */
    size_t head_len;  /* its bytes, the empty lines before it and the one after included */
    int64_t body_len; /* Content-Length, 0 without one, -1 when unknown (chunked) */
} prescreen_head;

/* 0 when data[0..n) (the start of a request) shows nothing wrong, else the
 * status to answer (400, 413, 414, 431 or 505) with a one-line reason in
 * detail. lim NULL: no size is judged. head (may be NULL): the framing. */
unsigned prescreen(const char *data, size_t n, const prescreen_limits *lim, prescreen_head *head,
                   char *detail, size_t len);

#endif
