/*
 * rawsock.h - plain TCP sockets for tests that must send what no HTTP client
 * library would: garbage, half requests, lies, pipelines. Loopback only;
 * every read is bounded in time.
 */
#ifndef IOCPU_TEST_RAWSOCK_H
#define IOCPU_TEST_RAWSOCK_H

#include <stddef.h>
#include <stdint.h>

/* A connected socket to 127.0.0.1:port, or -1. */
int raw_connect(uint16_t port);
/* Sends all n bytes; 0, or -1 when the peer is gone. */
int raw_send(int fd, const void *data, size_t n);

typedef struct raw_reply {
    char *data; /* what arrived, NUL-terminated (may hold NULs too) */
    size_t len;
    int closed;  /* the server closed the connection (EOF or reset) */
    double secs; /* until the close, or the timeout */
} raw_reply;

/* Reads until the server closes, timeout_s passes, or `want` (when not NULL)
 * has arrived `count` times. */
void raw_read(int fd, double timeout_s, const char *want, int count, raw_reply *out);
void raw_reply_free(raw_reply *r);

/* Connects, sends data[0..n) and reads as raw_read would, then closes. */
void raw_exchange(uint16_t port, const void *data, size_t n, double timeout_s, raw_reply *out);

/* Status code of the first response in r ("HTTP/1.1 NNN"), or 0. */
int raw_status(const raw_reply *r);
/* Occurrences of needle in r (a binary-safe search). */
int raw_count(const raw_reply *r, const char *needle);

#endif
