/*
 * taskbody.h - the body of POST /tasks, parsed and validated without HTTP:
 * client bytes in, a task_spec or FastAPI-shaped errors out (the same
 * limits and types as /io/job and /cpu/executor). Pure and single-threaded,
 * so it can be unit-tested and fuzzed on its own.
 */
#ifndef IOCPU_HANDLERS_TASKBODY_H
#define IOCPU_HANDLERS_TASKBODY_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"
#include "shape.h"
#include "task.h"

typedef struct taskbody_limits {
    double max_delay;       /* io: delay in [0, max_delay] */
    int64_t max_iterations; /* cpu: iterations in [0, max_iterations] */
    int64_t max_ms;         /* cpu: ms in [0, max_ms] */
} taskbody_limits;

/*
 * Parses body[0..len) (any bytes; need not be NUL-terminated) into *spec.
 * Returns 0 when it is a valid task, -1 when not; every error found is
 * recorded in p (init it with where = "body"), with loc ["body"],
 * ["body", <byte offset>] for JSON syntax, or ["body", "<field>"].
 */
int taskbody_parse(const char *body, size_t len, const taskbody_limits *lim, params *p,
                   task_spec *spec);

/* An io task's latency shape: "dist" with its parameters (as /io/job's
 * query: shaping.h) and "seed", checked against max_delay; not drawn. */
typedef struct taskbody_shape {
    shape s; /* SHAPE_FIXED: no "dist" (or "fixed"): the delay is "delay" */
    int seeded;
    uint64_t seed; /* 0 .. 2^53 - 1 */
} taskbody_shape;

/* taskbody_parse that also takes those fields into *shp (taskbody_parse
 * refuses them as extra inputs). */
int taskbody_parse_shaped(const char *body, size_t len, const taskbody_limits *lim, params *p,
                          task_spec *spec, taskbody_shape *shp);

#endif
