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

extern const char *const TQ_STREAM[TQ_NKINDS]; /* iocpu:jobs:cpu, iocpu:jobs:io */

extern const char TQ_LUA_CREATE[], TQ_LUA_START[], TQ_LUA_FINISH[], TQ_LUA_CANCEL[], TQ_LUA_LIST[],
    TQ_LUA_HEARTBEAT[], TQ_LUA_REQUEUE[];

/* Sends a command built from argv; 0 or -1 (then fn is not called). */
int tq_command(redisconn *c, redisCallbackFn *fn, void *priv, int argc, const char **argv);
/* Unix time now, as Redis stores it ("%.6f"). */
void tq_now(char *dst, size_t len);

#endif
