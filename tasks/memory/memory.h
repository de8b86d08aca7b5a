/*
 * memory.h - the memory task backend: the task store (taskstore.h) on the
 * loop that owns it, behind the backend interface (tasks/backend.h). Tasks
 * live as long as the process; with --replica-id R the ids it hands out are
 * "R-<32 hex>", so a proxy can route /tasks/<id> to the replica that holds
 * the task, and an id without this replica's prefix is unknown here (404).
 *
 * Threads: the owner loop's, except ready() (any thread; always 1).
 */
#ifndef IOCPU_MEMORY_H
#define IOCPU_MEMORY_H

#include "backend.h"

/* Serves --tasks-backend memory. */
extern const task_backend_type task_memory_type;

#endif
