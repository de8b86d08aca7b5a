/*
 * redis_backend.h - the Redis task backend (taskq.h) behind the backend
 * interface (tasks/backend.h): --tasks-backend redis://HOST[:PORT][/DB].
 */
#ifndef IOCPU_REDIS_BACKEND_H
#define IOCPU_REDIS_BACKEND_H

#include "backend.h"

extern const task_backend_type task_redis_type;

#endif
