/*
 * loopstream.h - GET /loop/stream: the loop's state as Server-Sent Events,
 * one event every LOOPSTREAM_PERIOD_MS to every open stream (the live page
 * at /ui draws them).
 *
 * Each event is
 *     id: <seq>
 *     data: {"seq","t","lag_ms","lag_samples","active_timers","connections",
 *            "suspended","streams","executor":{"busy","queued","workers"},
 *            "io_pool":{"busy","queued","threads"}}
 * followed by a blank line; the first one of a stream also carries
 * "retry: 1000". lag_ms is the largest lag the 10 ms probe saw since the
 * previous event, so a stall shows up in exactly one event however short it
 * was. active_timers does not count the stream's own ticker. When the server
 * starts draining, every stream gets a last "event: end" and ends.
 *
 * Threads: everything here runs on the loop thread.
 */
#ifndef IOCPU_LOOPSTREAM_H
#define IOCPU_LOOPSTREAM_H

#include "http.h"

#define LOOPSTREAM_PERIOD_MS 100

/* The handler of GET /loop/stream: subscribes the request (503 while draining). */
void loopstream_subscribe(http_req *r);

/* The ui group's per-loop state: this loop's hub of streams (group.h hooks). */
int loopstream_init(app *a, void *shared, void **state);
void loopstream_free(void *state);

#endif
