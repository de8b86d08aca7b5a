/*
 * prescreen.h - the first bytes of a request, judged before libmicrohttpd
 * parses them, for the cases where libmicrohttpd 0.9.75 itself would answer
 * badly: a request line that is not one (it closes without a word), an
 * HTTP version it does not speak (its HTML 505), and a Content-Length that is
 * not a number or does not fit 64 bits (its 400/413 sends the status line
 * and headers twice; docs: README "Limits"). http_conn.c peeks at the bytes
 * of a new request (MSG_PEEK: libmicrohttpd still reads them all) and, when
 * this finds one of those, answers in the contract's JSON shape itself and
 * closes the connection.
 *
 * Only complete lines are judged: bytes that end mid-line say nothing yet,
 * and what is not in the peeked bytes is left to libmicrohttpd. Pure; any
 * thread; fuzzed (tests/fuzz/fuzz_prescreen.c).
 */
#ifndef IOCPU_PRESCREEN_H
#define IOCPU_PRESCREEN_H

#include <stddef.h>

/* 0 when data[0..n) (the start of a request) shows nothing wrong, else the
 * status to answer (400, 413 or 505) with a one-line reason in detail. */
unsigned prescreen(const char *data, size_t n, char *detail, size_t len);

#endif
