/*
 * taskq_lua.h - the Redis layout's streams, the Lua scripts that change a
 * task (each state change is one script, so replicas never race on a task),
 * and sending a command. Loop 0's thread (the owner's).
 */
#ifndef IOCPU_TASKQ_LUA_H
#define IOCPU_TASKQ_LUA_H

#include <stddef.h>

#include "redisconn.h"
#include "taskq_state.h"

extern const char *const TQ_STREAM[TQ_NKINDS];           /* iocpu:jobs:cpu, iocpu:jobs:io */
extern const char *const TQ_DEAD_REASON[TQ_DL_NREASONS]; /* "no_id", ... (taskq_state.h) */

extern const char TQ_LUA_CREATE[], TQ_LUA_START[], TQ_LUA_FINISH[], TQ_LUA_CANCEL[], TQ_LUA_LIST[],
    TQ_LUA_HEARTBEAT[], TQ_LUA_REQUEUE[], TQ_LUA_DEAD[];

/* Sends a command built from argv; 0 or -1 (then fn is not called). */
int tq_command(redisconn *c, redisCallbackFn *fn, void *priv, int argc, const char **argv);
/* Unix time now, as Redis stores it ("%.6f"). */
void tq_now(char *dst, size_t len);
/* A line on stderr about what the backend found in Redis, at most a few a
 * second (q->log): a flood of garbage in Redis is no flood of log lines. */
__attribute__((format(printf, 2, 3))) void tq_log(taskq *q, const char *fmt, ...);
/* A script dead-lettered entry (of stream) for why (a TQ_DEAD_REASON name):
 * counted for /metrics and logged (rate-limited). Loop 0. */
void tq_dead_lettered(taskq *q, const char *why, const char *stream, const char *entry);

#endif
