/*
 * redisconn.h - one connection to Redis that keeps itself up: it resolves
 * the host off the loop thread, connects without blocking, selects the
 * database, and when the connection fails or drops it tries again after a
 * backoff (0.1 s doubling to 5 s, with jitter). Callers send commands on
 * `ac` while `up` is set.
 *
 * Threads: everything runs on the loop's thread; a short-lived resolver
 * thread only runs getaddrinfo() for a host name (see redisconn.c).
 */
#ifndef IOCPU_REDISCONN_H
#define IOCPU_REDISCONN_H

#include <hiredis/async.h>
#include <pthread.h>
#include <stdint.h>

#include "loop.h"
#include "redisurl.h"

typedef struct redisconn redisconn;

struct redisconn {
    /* public: set before redisconn_start() */
    const char *name;              /* for log lines: "commands", "events", ... */
    void (*on_up)(redisconn *c);   /* connected, database selected */
    void (*on_down)(redisconn *c); /* lost after being up; pending replies were NULL */
    void *data;
    /* public, read-only */
    redisAsyncContext *ac; /* NULL while there is no connection */
    int up;
    /* private */
    loop *l_;
    redis_url url_;
    timer retry_, connect_tm_;
    uint64_t backoff_ns_;
    int stopped_, logged_down_;
    int handshake_; /* AUTH / SELECT replies still awaited on a new connection */
    struct resolver *res_;
};

/* Starts connecting c to u on l (c's public fields set). 0 or -errno. */
int redisconn_start(redisconn *c, loop *l, const redis_url *u);
/* Closes the connection (pending replies get NULL, on_down is not called)
 * and stops retrying; waits for a running resolver. */
void redisconn_stop(redisconn *c);

#endif
