/*
 * trace.h - W3C Trace Context (https://www.w3.org/TR/trace-context/): the
 * traceparent header a request may carry, this server's span, and the
 * header to send on.
 *
 *   traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
 *                ^  ^ trace-id (32 hex)              ^ parent-id (16) ^ flags
 *
 * A value that does not parse is ignored, as the spec says, and the request
 * starts a new trace: uppercase hex, a wrong length, a trace-id or
 * parent-id of all zeros, version ff, or a version-00 value with anything
 * after the flags. A later version (01..fe) is read as far as version 00
 * goes, and may go on only after a '-'. Only the sampled flag (01) is kept.
 *
 * Ids are random: 64 bits at a time from a per-thread xoshiro256** seeded by
 * the kernel's getrandom, so a request costs no system call.
 *
 * Pure functions on their arguments, plus the per-thread generator: any
 * thread.
 */
#ifndef IOCPU_TRACE_H
#define IOCPU_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define TRACE_ID_BYTES 16
#define TRACE_SPAN_BYTES 8
#define TRACE_ID_HEX (2 * TRACE_ID_BYTES)
#define TRACE_SPAN_HEX (2 * TRACE_SPAN_BYTES)
#define TRACEPARENT_LEN 55 /* "00-" 32 "-" 16 "-" 2 */
#define TRACE_FLAG_SAMPLED 0x01

typedef struct trace_ctx {
    uint8_t trace_id[TRACE_ID_BYTES];
    uint8_t span_id[TRACE_SPAN_BYTES];   /* this span's */
    uint8_t parent_id[TRACE_SPAN_BYTES]; /* the caller's span; all zero when the trace began here */
    uint8_t flags;
} trace_ctx;

/*
 * Parses a traceparent value v[0..n) into t's trace_id, parent_id and flags
 * (span_id is left alone). 0, or -1 when it is invalid (t untouched).
 */
int trace_parse(const char *v, size_t n, trace_ctx *t);

/*
 * This server's span of a request: continues the caller's trace when
 * header (NULL: absent) parses, else starts a new one (sampled); the span id
 * is new either way. Returns 1 when it continued the caller's trace, 0 when
 * it started one.
 */
int trace_begin(trace_ctx *t, const char *header, size_t n);

/* t's span as a traceparent value: "00-<trace-id>-<span-id>-<flags>". */
void trace_format(const trace_ctx *t, char out[TRACEPARENT_LEN + 1]);

/*
 * A child span of t (a call this span makes: an outbound request, a task's
 * run): same trace and flags, parent t's span, a new span id. out, unless
 * NULL, gets the traceparent to send with the call.
 */
void trace_child(const trace_ctx *t, trace_ctx *child, char out[TRACEPARENT_LEN + 1]);

/* Lowercase hex of b[0..n) into out[2n + 1]. */
void trace_hex(const uint8_t *b, size_t n, char *out);

/* 1 when t holds a trace (its trace-id is not all zero). */
int trace_valid(const trace_ctx *t);

/* n random bytes from this thread's generator. */
void trace_random(uint8_t *out, size_t n);

#endif
