/*
 * access_log.h - one JSON line per finished request, written to a file
 * descriptor (stdout in iocpu) without ever blocking the loop:
 *   {"time":"2026-01-02T03:04:05.678Z","method":"GET","path":"/io/job",
 *    "status":200,"duration_ms":1000.123,"bytes":84,"client":"127.0.0.1",
 *    "trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}
 * and one line when a task starts to run (the runner may be another replica
 * than the one that took the request; the trace id is the request's):
 *   {"time":"...","event":"task_run","task":"<id>","kind":"cpu","attempt":1,
 *    "trace_id":"...","span_id":"<the run's>","parent_id":"<the request's span>"}
 *
 * The descriptor is switched to non-blocking mode (unless it is a regular
 * file, which never blocks). A line that cannot be written at once waits in
 * a bounded buffer, flushed when the loop reports the descriptor writable;
 * a line that does not fit in that buffer is dropped and counted. Lines are
 * never torn: a partly written line is always finished.
 *
 * Threads: everything here runs on the loop thread.
 */
#ifndef IOCPU_ACCESS_LOG_H
#define IOCPU_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "loop.h"

typedef struct access_log access_log;

typedef struct access_log_entry {
    uint64_t wall_ns; /* CLOCK_REALTIME when the request finished */
    const char *method, *path, *client;
    unsigned status;
    double duration_ms;
    uint64_t bytes;       /* body bytes sent */
    const char *trace_id; /* 32 hex, or NULL: no trace fields */
    const char *span_id;  /* 16 hex */
} access_log_entry;

/* A task's run beginning (any backend, on the replica that runs it). */
typedef struct access_log_task {
    uint64_t wall_ns;
    const char *task, *kind; /* its id; "io" or "cpu" */
    unsigned attempt;        /* 0: not counted (the memory backend) */
    const char *trace_id;    /* 32 hex, or NULL: no trace fields */
    const char *span_id;     /* the run's span, 16 hex */
    const char *parent_id;   /* the span of the request that created it, 16 hex */
} access_log_task;

/*
 * Logs to fd (not owned) with at most cap bytes waiting. 0 or a negative
 * errno (fcntl failed, -ENOMEM).
 */
int access_log_new(access_log **out, loop *l, int fd, size_t cap);

/*
 * Spends at most flush_ms trying to write what still waits (lines left are
 * counted as dropped), restores the descriptor's blocking mode and frees.
 */
void access_log_free(access_log *al, int flush_ms);

/* Formats and writes (or queues, or drops) one line. */
void access_log_write(access_log *al, const access_log_entry *e);
/* The same for a task's run. */
void access_log_write_task(access_log *al, const access_log_task *e);

uint64_t access_log_lines(const access_log *al);   /* written in full */
uint64_t access_log_dropped(const access_log *al); /* dropped */
size_t access_log_pending(const access_log *al);   /* bytes waiting */

/* Appends the JSON line for e (with its newline) to b. */
void access_log_format(buf *b, const access_log_entry *e);
void access_log_format_task(buf *b, const access_log_task *e);

#endif
