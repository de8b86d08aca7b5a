/*
 * http.h - what a handler sees of a request: query arguments, responses,
 * deferral (the request waits, suspended, while the loop does other work),
 * streaming, and clean-up at the end of the request.
 *
 * Every function here runs on the loop thread. A handler either responds
 * before it returns, or calls http_defer() and responds later from a timer or
 * an executor completion. Whatever it attaches with http_set_ctx() is freed
 * exactly once, when the request ends (also when the client went away), and
 * that is where it must cancel its timers and jobs.
 */
#ifndef IOCPU_HTTP_H
#define IOCPU_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"

typedef struct http_req http_req;
typedef struct app app;
typedef void (*http_handler)(http_req *r);

/* One routed endpoint; path may end in "/{id}" (one path segment). */
typedef struct route {
    const char *method;
    const char *path;
    http_handler fn;
    const char *lesson; /* the one-line lesson shown by GET / */
} route;

app *http_app(http_req *r);
/* Query argument, or NULL when absent. */
const char *http_arg(http_req *r, const char *name);
/* The {id} segment of the matched path ("" if none). */
const char *http_path_id(http_req *r);
const char *http_method(http_req *r);
const route *http_route(http_req *r);
/* The request body received so far (POST/PUT), NUL-terminated. */
const char *http_body(http_req *r, size_t *len);
uint64_t http_start_ns(http_req *r);

/* Attaches handler state; free_fn(ctx) runs once when the request ends. */
void http_set_ctx(http_req *r, void *ctx, void (*free_fn)(void *ctx));

/* Adds a header to the coming response (copied; at most 4). */
void http_add_header(http_req *r, const char *name, const char *value);
/* Adds "name;dur=<ms>" to the Server-Timing header ("total" is always added). */
void http_add_timing(http_req *r, const char *name, double ms);

/* Responds with body as JSON (body is consumed). */
void http_respond_json(http_req *r, unsigned status, json_t *body);
/* Responds with malloc'ed data (consumed) of the given content type. */
void http_respond_data(http_req *r, unsigned status, const char *ctype, char *data, size_t len);
/* data outlives the response (a string constant, an embedded file): sent without a copy. */
void http_respond_static(http_req *r, unsigned status, const char *ctype, const char *data,
                         size_t len);
/* {"detail": detail}. */
void http_respond_detail(http_req *r, unsigned status, const char *detail);
/* 422 {"detail":[...]} from the recorded validation errors. */
void http_respond_invalid(http_req *r, params *p);
/* 503 {"detail": detail} with Retry-After. */
void http_respond_busy(http_req *r, const char *detail);

/*
 * Suspends the request until it is responded to: no thread waits, the loop
 * goes on. While suspended, a client disconnect is noticed at once and ends
 * the request (its ctx is freed, which cancels its work). 0 or -errno.
 */
int http_defer(http_req *r);
/* True once the client is known to be gone. */
int http_aborted(http_req *r);

/*
 * Streaming: begins a chunked response (status + content type); then write
 * as data becomes ready (each write reaches the client without waiting for
 * more), and end it. 0 or -errno.
 */
int http_stream_begin(http_req *r, unsigned status, const char *ctype);
void http_stream_write(http_req *r, const char *data, size_t len);
void http_stream_end(http_req *r);

#endif
