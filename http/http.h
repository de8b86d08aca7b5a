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
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "group.h"
#include "params.h"

app *http_app(http_req *r);
/* The state (on this loop) of the handler group whose route matched r. */
void *http_group_state(http_req *r);
/* Query argument, or NULL when absent. */
const char *http_arg(http_req *r, const char *name);
/* 1 when the query has a value for any of the NULL-terminated names (one
 * pass over the arguments, whatever their number). */
int http_query_has(http_req *r, const char *const *names);
/* A request header (name case-insensitive), or NULL when absent. A secret
 * (Authorization) read here is the handler's to keep out of logs. */
const char *http_req_header(http_req *r, const char *name);
/* The {id} segment of the matched path ("" if none). */
const char *http_path_id(http_req *r);
const char *http_method(http_req *r);
const route *http_route(http_req *r);
/* The request body received so far (POST/PUT), NUL-terminated. */
const char *http_body(http_req *r, size_t *len);
uint64_t http_start_ns(http_req *r);
/* The client's address (AF_INET or AF_INET6), or NULL when unknown. */
const struct sockaddr *http_client_addr(http_req *r);

/* 1 when r came in on the admin listener (--admin-port). */
int http_on_admin(http_req *r);
/* Runs r's route handler now, after a group's intercept hook held r (group.h);
 * nothing when r is answered already or its client left. */
void http_run_route(http_req *r);

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

/* --- the server's side (server.c wires these into libmicrohttpd) ---------- */

/* Request bodies above this get 413; one that goes on past HTTP_BODY_DROP
 * (chunked, with no Content-Length to refuse it up front) is cut off. */
#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_BODY_DROP (16 * HTTP_BODY_MAX)

/* MHD_OPTION_URI_LOG_CALLBACK: sees the raw request target before it is
 * decoded (a %00 in the path is remembered for the request). */
void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *c);
/* MHD's access handler, completion and connection callbacks (cls: the app). */
enum MHD_Result http_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls);
void http_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                       enum MHD_RequestTerminationCode toe);
void http_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code);
/* Drain deadline: 503 to every request still waiting, streams ended. */
void http_expire_all(app *a);
/* Marks every request aborted and resumes the suspended ones (shutdown). */
void http_abort_all(app *a);

#endif
