/*
 * handlers.h - iocpu's HTTP endpoint groups (http/group.h), in route-table
 * order: operations (index, probes, /loop, /metrics, /openapi.json), the live
 * page and its stream, the IO lesson, its blocking waits (the IO thread pool
 * and the loop's own sleep), the CPU lesson, and the task queue.
 * A new group is one file with its routes and hooks, named here and in
 * handlers.c (see CONTRIBUTING.md).
 */
#ifndef IOCPU_HANDLERS_H
#define IOCPU_HANDLERS_H

#include "group.h"

extern const http_group ops_group;     /* ops.c */
extern const http_group ui_group;      /* ui.c */
extern const http_group io_group;      /* io.c */
extern const http_group iowait_group;  /* iowait.c */
extern const http_group fetch_group;   /* fetch.c */
extern const http_group cpu_group;     /* cpu.c */
extern const http_group tasks_group;   /* tasks.c */
extern const http_group shaping_group; /* shaping.c: /status/{codes}, --inject-* */

/* Every group, in route-table order (static storage). */
const http_groups *handlers_all(void);

#endif
