/*
 * redisev.h - hiredis's asynchronous API driven by our event loop: the
 * connection's socket is a loop watcher, read and write interest follow
 * what hiredis asks for. The loop never blocks on Redis.
 *
 * Threads: the loop's thread only.
 */
#ifndef IOCPU_REDISEV_H
#define IOCPU_REDISEV_H

#include <hiredis/async.h>

#include "loop.h"

/* Attaches ac (just made by redisAsyncConnect) to l. 0 or -ENOMEM / -EEXIST.
 * The attachment is freed by hiredis's cleanup hook with the context. */
int redisev_attach(loop *l, redisAsyncContext *ac);

#endif
