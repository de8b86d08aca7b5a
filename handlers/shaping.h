/*
 * shaping.h - what a load test shapes on an IO endpoint: the wait (delay=, or
 * a draw of dist= with its parameters, reproducible with seed=), the answer
 * (status= / error_rate= inject an error code after the wait) and its size
 * (size= bytes of padding). The same group serves /status/{codes} and the
 * server-wide forms (--inject-error, --inject-delay, its intercept hook).
 *
 * An IO endpoint uses it in three calls (io.c's /io/job does):
 *
 *     shaping sh;
 *     shaping_parse(r, &p, 1.0, &sh);     // with its other parameters; 422s land in p
 *     ... wait sh.delay seconds on a loop timer ...
 *     if (!shaping_answer(r, &sh)) {      // 1: the injected error was answered
 *         json_t *o = ...its answer...;
 *         shaping_decorate(&sh, o);       // "shape" (when drawn), "padding" (size=)
 *         http_respond_json(r, 200, o);
 *     }
 *
 * Without any of these parameters shaping_parse is one pass over the query
 * plus the delay= parse the endpoint did anyway: no allocation, no lock.
 *
 * Threads: every call on the request's loop thread. The sequences of seed=
 * are shared by every loop (one mutex, taken only when seed= is given); the
 * counts of injected answers are atomics.
 */
#ifndef IOCPU_HANDLERS_SHAPING_H
#define IOCPU_HANDLERS_SHAPING_H

#include <jansson.h>
#include <stdint.h>

#include "faults.h"
#include "http.h"
#include "shape.h"

/* The largest seed: 2^53 - 1, exact as a JSON number in any client. */
#define SHAPING_SEED_MAX 9007199254740991.0

typedef struct shaping {
    double delay;       /* seconds to wait: delay=, or the draw of shape */
    shape shape;        /* dist= and its parameters (SHAPE_FIXED: none) */
    int drawn;          /* 1: delay is a draw of shape */
    int redraws;        /* draws thrown away for falling outside [0, max] */
    double max;         /* --max-delay: the draws are truncated to [0, max] */
    int seeded;         /* seed= given: the draws came from its sequence */
    uint64_t seed, seq; /* the seed and this request's place in its sequence (0 first) */
    unsigned status;    /* 0: the endpoint's own answer; else the code drawn to inject */
    uint64_t size;      /* size=: bytes of padding in the answer */
} shaping;

/*
 * Reads delay= (default def), dist= and its parameters, seed=, status=,
 * error_rate= and size= from r's query, checks them (each error recorded in
 * p, FastAPI's 422), and when they are valid draws the delay and the answer.
 * 0, or -1 when p holds errors.
 */
int shaping_parse(http_req *r, params *p, double def, shaping *s);

/* Where shaping_parse_query reads the query from (http_arg for a request;
 * a test's or a fuzzer's table), and the bounds it checks against. */
typedef struct shaping_query {
    const char *(*get)(void *ctx, const char *name); /* NULL when absent */
    void *ctx;
    double max_delay;     /* --max-delay */
    uint64_t max_payload; /* --max-payload-bytes */
} shaping_query;

/*
 * shaping_parse's checks without the request and without drawing: fills
 * *s (shape, seed, size), *rate (error_rate=, 0 when no error is asked for)
 * and *l (status=, or 503). Pure. 0, or -1 when p holds errors.
 */
int shaping_parse_query(const shaping_query *q, params *p, double def, shaping *s, double *rate,
                        faults_list *l);

/*
 * The same draw for a task (POST /tasks, kind io): sh->shape (and, with
 * sh->seeded, sh->seed) set by the caller; fills delay, drawn, redraws and
 * seq. 0, or -1 when every try fell outside the bound (a 422 recorded in p
 * at loc [where, "dist"]).
 */
int shaping_draw_task(http_req *r, params *p, shaping *sh);

/* When s drew an injected code: answers r with it (shaping_respond) and
 * returns 1; else 0 (the endpoint answers as usual). */
int shaping_answer(http_req *r, const shaping *s);

/* Adds "shape" (when the delay was drawn) and "padding" (size= bytes) to o. */
void shaping_decorate(const shaping *s, json_t *o);

/*
 * An injected answer of code: {"detail": "<reason phrase>"} (FastAPI's shape)
 * with Retry-After on 503 and 429, Location: / on a 3xx, no body on 204 and
 * 304, and X-Iocpu-Injected: source ("status", "query" or "server"). It is
 * counted in iocpu_injected_responses_total{source,code}.
 */
void shaping_respond(http_req *r, unsigned code, const char *source);

#endif
