/*
 * upstream.h - a tiny HTTP upstream for the outbound-fetch tests, on a thread
 * of the test process, listening on a loopback address (127.0.0.1, or
 * 127.0.0.2 to stand in for "another host"). It counts the connections it
 * accepts and those whose client closed them, so a test can assert that a
 * refused target never saw a connection, and that a cancelled fetch closed
 * its own.
 */
#ifndef IOCPU_TEST_UPSTREAM_H
#define IOCPU_TEST_UPSTREAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

enum upstream_mode {
    UP_RESPOND,  /* after `delay`, 200 with `body_len` bytes and a Content-Length */
    UP_HANG,     /* reads the request, never answers */
    UP_UNSIZED,  /* 200 without a length: `body_len` bytes, then it closes */
    UP_REDIRECT, /* 302 to `location` */
};

typedef struct upstream {
    enum upstream_mode mode;
    double delay;
    size_t body_len;
    const char *location;
    uint16_t port;
    atomic_int accepts, closes;
    int fd, stop_pipe[2];
    pthread_t thread;
} upstream;

/* Listens on addr:port (port 0: any) and serves from a thread; fails the test
 * when it cannot. */
void upstream_start(upstream *u, const char *addr, uint16_t port, enum upstream_mode mode);
void upstream_stop(upstream *u);
/* Polls until u->closes reaches want or secs pass; returns it. */
int upstream_closes_within(upstream *u, int want, double secs);

#endif
