/*
 * helpers.h - integration-test support: a real iocpu server on port 0 running
 * on a thread of the test process, and a small libcurl HTTP client.
 */
#ifndef IOCPU_TEST_HELPERS_H
#define IOCPU_TEST_HELPERS_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "handlers.h"
#include "router.h"
#include "server.h"

typedef struct test_server {
    server *s;
    pthread_t thread;
    uint16_t port;
    config cfg;
} test_server;

/* The admin token every test server has unless its cfg_edit clears it. */
#define TEST_ADMIN_TOKEN "test-admin-token-0123456789abcdef"

/* Defaults with port 0, 2 workers, TEST_ADMIN_TOKEN and --allowed-hosts '*'; then cfg_edit (may
 * be NULL) adjusts. */
void ts_start(test_server *t, void (*cfg_edit)(config *c));
/* Waits (bounded) for t's loop thread to return by itself (a drain); 1 if
 * it did (the thread is then joined), 0 after secs. */
int ts_returned_within(test_server *t, double secs);
/* Stops the loop, joins its thread and frees the server. */
void ts_stop(test_server *t);

typedef struct http_res {
    long status;
    char *body;
    size_t body_len;
    char *headers; /* raw response header block */
    double secs;   /* wall time of the whole exchange */
    json_t *json;  /* parsed body, NULL if not JSON */
} http_res;

/* method NULL = GET. Returns 0, or -1 on a transport error (res->status 0). */
int http_do(const test_server *t, const char *method, const char *path, const char *body,
            http_res *res);
/* The same with extra request headers ("Name: value" lines joined by "\n");
 * a body is sent as application/json unless they name a Content-Type. */
int http_do_headers(const test_server *t, const char *method, const char *path, const char *body,
                    const char *headers, http_res *res);
int http_get(const test_server *t, const char *path, http_res *res);
/* http_do with "Authorization: Bearer <token>" (token NULL: none). */
int http_do_auth(const test_server *t, const char *method, const char *path, const char *body,
                 const char *token, http_res *res);
/* http_do with one raw header line ("Name: value") or NULL. */
int http_do_hdr(const test_server *t, const char *method, const char *path, const char *body,
                const char *header, http_res *res);
/* GET path with the admin token (GET /tasks). */
int http_get_admin(const test_server *t, const char *path, http_res *res);
void http_res_free(http_res *res);
/* The value of a /metrics series of t (labels as written, "" for none), the
 * whole page checked by the Prometheus text parser; negative when missing. */
double ts_metric(const test_server *t, const char *name, const char *labels);
/* Polls ts_metric() until it is want, at most secs; returns what it was last
 * (other loops publish their counts every few milliseconds). */
double ts_metric_becomes(const test_server *t, const char *name, const char *labels, double want,
                         double secs);
/* A port of 127.0.0.1 nothing holds now, below the ephemeral range (bound and
 * released at once). */
uint16_t free_port(void);
/* Value of a response header (case-insensitive name), copied into out; 0 or -1. */
int http_header(const http_res *res, const char *name, char *out, size_t outlen);

/* Runs http_get(path) on a thread; join with http_join. */
typedef struct http_async {
    pthread_t th;
    const test_server *t;
    const char *path;
    http_res res;
} http_async;
void http_get_async(http_async *a, const test_server *t, const char *path);
void http_join(http_async *a);
/* Seconds a GET /healthz of t took while GET path ran (sent 150 ms before it);
 * both must answer 200. */
double ts_healthz_during(const test_server *t, const char *path);

/* A client that gives up: GET path and hang up after ms. 0 if it timed out. */
int http_get_abandon(const test_server *t, const char *path, long ms);

/* n concurrent GETs of path over n connections (curl multi, one thread).
 * Returns how many got 200; *secs = wall time until the last one ended. */
int http_get_many(const test_server *t, const char *path, int n, double *secs);

/* Like http_get_many, but counts the 200 responses whose body contains needle. */
int http_get_many_matching(const test_server *t, const char *path, int n, const char *needle,
                           double *secs);

/* POST body[0..len) with Transfer-Encoding: chunked (no Content-Length). */
int http_post_chunked(const test_server *t, const char *path, const char *body, size_t len,
                      http_res *res);

/* GET path, recording when each body line arrives (seconds since the start).
 * Returns the number of lines (at most max). */
int http_get_lines(const test_server *t, const char *path, char **lines, double *at, int max);

/* Polls GET /loop until `field` (top-level, or "executor.busy") equals want;
 * fails the test after timeout_s. For tests that must not race a busy machine. */
void wait_loop_state(const test_server *t, const char *field, long long want, double timeout_s);

/* Python's sum((i * n) % 7 for i in range(it)), with 128-bit products: an
 * independent check of cpu_heavy's results. */
json_int_t cpu_heavy_reference(int64_t n, int64_t it);

double now_secs(void);
/* Number of open fds of this process. */
int count_fds(void);

/* Every route of the server's table (the endpoint groups, built once). */
const route *const *test_routes(size_t *n);

/* Runs loop l on this thread until *flag is non-zero (1) or max_secs pass
 * (0); flag NULL: runs it max_secs. Looks every millisecond. */
int loop_run_until(loop *l, const int *flag, double max_secs);

#endif
