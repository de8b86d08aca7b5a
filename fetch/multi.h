/*
 * multi.h - libcurl's multi-socket interface driven by one event loop: the
 * sockets libcurl opens are watched by the loop's own epoll set
 * (CURLMOPT_SOCKETFUNCTION -> loop_watch) and its one timeout is a loop timer
 * (CURLMOPT_TIMERFUNCTION -> loop_timer_start), so any number of fetches wait
 * together on the loop thread with no thread of their own (httpx.AsyncClient
 * on asyncio, in the lesson's terms).
 *
 * Everything here runs on the loop's thread. A transfer's callback runs once,
 * when it ends, unless it was taken off first (fetch_multi_remove(), or
 * fetch_xfer_cleanup()): then libcurl closes its connection and the callback
 * never runs.
 */
#ifndef IOCPU_FETCH_MULTI_H
#define IOCPU_FETCH_MULTI_H

#include <stddef.h>

#include "loop.h"
#include "xfer.h"

typedef struct fetch_multi fetch_multi;

/* 0 or -ENOMEM. */
int fetch_multi_new(loop *l, fetch_multi **out);
/* Every transfer must have been taken off or ended. */
void fetch_multi_free(fetch_multi *m);
/* Starts x (set up by fetch_xfer_init) on the loop; cb(x) runs when it ends,
 * with x->result set and x off the multi. 0 or -1. */
int fetch_multi_add(fetch_multi *m, fetch_xfer *x, fetch_done_cb cb, void *data);
/* Takes x off before its end (a cancel); a no-op when it is not on. */
void fetch_multi_remove(fetch_xfer *x);
/* Transfers on the multi now; sockets libcurl has open on the loop. */
size_t fetch_multi_count(const fetch_multi *m);
size_t fetch_multi_sockets(const fetch_multi *m);

#endif
