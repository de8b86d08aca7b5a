/*
 * task.h - the task model both backends share: what a task runs (its spec),
 * its states, its id, and how it looks in the API (a view, rendered as
 * JSON). A task is the lesson's asyncio.create_task: an IO task waits on a
 * loop timer, a CPU task runs cpu_heavy on the executor:
 *
 *     queued -> running -> done | cancelled | failed    (cpu)
 *               running -> done | cancelled             (io)
 *     queued -> cancelled                               (cpu)
 *
 * Pure data and pure functions: any thread.
 */
#ifndef IOCPU_TASK_H
#define IOCPU_TASK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "trace.h"

/* 128 bits as 32 lowercase hex characters, plus the NUL. */
#define TASK_ID_BYTES 16
#define TASK_ID_LEN 32

enum task_kind { TASK_IO, TASK_CPU };
enum task_status { TASK_QUEUED, TASK_RUNNING, TASK_DONE, TASK_CANCELLED, TASK_FAILED };
#define TASK_NSTATUS 5

/* What to run (validated by the caller). */
typedef struct task_spec {
    enum task_kind kind;
    double delay;        /* io: seconds to wait */
    int64_t n;           /* cpu: cpu_heavy(n, iterations) */
    uint64_t iterations; /* cpu, when ms == 0 */
    uint64_t ms;         /* cpu: > 0 burns this much thread CPU time instead */
} task_spec;

/* A snapshot of one task, for rendering. Times are absent unless has_*. */
typedef struct task_view {
    const char *id; /* valid while the task is held */
    task_spec spec;
    enum task_status status;
    double created_at;  /* Unix time (wall clock), seconds */
    double started_at;  /* has_started */
    double finished_at; /* has_finished */
    double elapsed;     /* has_started && has_finished: monotonic start -> finish, seconds */
    int has_started, has_finished;
    uint64_t sum;                    /* done cpu task: cpu_heavy's result */
    uint64_t iterations;             /* done cpu task: iterations actually run */
    int error;                       /* failed: the negative errno */
    const char *error_msg;           /* failed: the reason as text (instead of error), or NULL */
    unsigned attempts;               /* runs started (Redis backend), 0 = not shown */
    const char *runner;              /* the replica that runs or ran it (Redis backend), or NULL */
    char trace_id[TRACE_ID_HEX + 1]; /* the trace of the request that created it, or "" */
} task_view;

/* The bounds a task must keep (the flags --max-delay, --max-iterations, --max-ms). */
typedef struct task_limits {
    double max_delay;
    uint64_t max_iterations, max_ms;
} task_limits;

/*
 * Sets one field of s from text read back from outside (Redis): "kind",
 * "delay", "n", "iterations" or "ms", parsed as strictly as a request
 * (numparse.h: no NaN, no overflow, no junk) and bounded by lim. 0, or -1
 * with the reason in why. A name that is no field of a spec is left alone (0).
 */
int task_spec_field(task_spec *s, const char *name, const char *text, const task_limits *lim,
                    char *why, size_t len);

/* A new id: 128 bits from the kernel's CSPRNG (getrandom), raw and as hex.
 * 0 or -errno. */
int task_id_new(uint8_t raw[TASK_ID_BYTES], char id[TASK_ID_LEN + 1]);
/* 0 and the bits when id is exactly 32 lowercase hex characters, else -1. */
int task_id_parse(const char *id, uint8_t raw[TASK_ID_BYTES]);

/* "queued", "running", ... */
const char *task_status_name(enum task_status s);
/* 1 for done, cancelled and failed. */
int task_status_ended(enum task_status s);

/* A task as the API shows it, under the id the client uses (new reference). */
json_t *task_view_json(const task_view *v, const char *public_id);

/* Appends the iocpu_tasks gauge family: counts[s] tasks of each status. */
void task_counts_render(const uint64_t counts[TASK_NSTATUS], buf *b);

#endif
