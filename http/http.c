/*
 * http.c - libmicrohttpd glue: request state, dispatch, responses,
 * suspend/resume, disconnect detection and streaming.
 *
 * DESIGN
 * Everything here runs on the loop thread (MHD runs in external-epoll mode,
 * driven by server.c). A request's life:
 *   1st access-handler call: allocate http_req, nothing else (queueing a
 *      response now would make MHD answer "Connection: close").
 *   body calls: append the upload to r->body, bounded per request (413) and
 *      by the loop's body budget, --max-body-buffer (503, see take_upload).
 *   last call: check the request-size limits (reqlimits.c: 400/414/431 in
 *      JSON), route and run the handler. If it responded, queue it now.
 *      If it deferred, the connection is suspended; its socket is in our
 *      epoll set for EPOLLRDHUP (MHD does not notice a client leaving while
 *      suspended). A later respond() stores the response and resumes; MHD
 *      calls the handler again and we queue it.
 *   the socket joins our epoll set when the connection opens (with
 *      --header-timeout; else at its first suspend) and leaves it when MHD
 *      closes the connection: edge-triggered, so a request that waits costs
 *      no epoll_ctl of ours. The receive deadline lives there (http_conn.h).
 *   completion (MHD_OPTION_NOTIFY_COMPLETED): count the request in the
 *      metrics (by route template and status; 499 if the client left before
 *      the answer, 408 if its receive deadline closed it), write its
 *      access-log line, then free the handler's ctx (which cancels its
 *      timers and jobs), give its body bytes back to the budget, and free it.
 * Streams use a callback response: the reader copies what is buffered, or
 * suspends the connection until http_stream_write()/end() resumes it. Their
 * Server-Timing header leaves before the work is done, so the final timings
 * also go out as a chunked trailer when the stream ends. A stream whose
 * client stops reading is cut off (its buffer freed, its socket reset and
 * shut down): when a write would make it hold more than
 * --stream-buffer-bytes, or when, with bytes waiting for the client, the
 * client has taken none for --stream-write-timeout (the kernel's count of
 * bytes acknowledged, checked every quarter of the timeout from the app's
 * txq). --conn-timeout cannot do this: every resume restarts MHD's idle
 * timer.
 */
#define _GNU_SOURCE
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>

#include "admit.h"
#include "app.h"
#include "buf.h"
#include "http_conn.h"
#include "json_out.h"
#include "reqlimits.h"
#include "router.h"

#define MAX_HEADERS 4
#define ID_MAX 112 /* a task id with a 63-character replica prefix fits */

/* What a handler adds to its answer (Server-Timing phases, headers): allocated
 * on first use, so that each of 10k waiting requests does not hold it. */
typedef struct http_extra {
    char timing[192];
    char hdr_name[MAX_HEADERS][32];
    char hdr_value[MAX_HEADERS][96];
    int nhdr;
} http_extra;

struct http_req {
    app *app;
    struct MHD_Connection *conn;
    const route *route;
    size_t slot; /* metrics slot: the route's index, or the unmatched slot */
    const char *method;
    uint64_t start_ns;
    struct MHD_Response *response;  /* built, not yet queued */
    struct MHD_Response *streaming; /* a queued stream (for its trailer), not owned */
    unsigned status;
    uint64_t bytes; /* body bytes handed to MHD */
    unsigned dispatched : 1, in_handler : 1, suspended : 1, aborted : 1, responded : 1,
        stream_begun : 1, stream_ended : 1, refused : 1, head : 1, path_nul : 1, admin : 1;
    char *log;       /* with --access-log: "<method>\0<path>\0<client>" */
    size_t received; /* body bytes received (kept, or dropped once refused) */
    size_t charged;  /* body bytes taken from the loop's budget */
    http_conn *hc;   /* NULL if the connection's context could not be allocated */
    void *ctx;
    void (*ctx_free)(void *ctx);
    http_extra *x; /* NULL until a handler adds a header or a timing */
    char id[ID_MAX];
    buf body;
    buf stream;        /* streamed bytes not yet handed to MHD */
    deadline_entry tx; /* a queued stream's next progress check (app->http.txq) */
    uint64_t tx_taken; /* what its client had taken at the last check */
    uint64_t tx_since; /* when it was last seen taking bytes, or owing none */
    list_node link;    /* in app->reqs */
};

app *http_app(http_req *r)
{
    return r->app;
}

void *http_group_state(http_req *r)
{
    app *a = r->app;
    return r->route ? a->group_state[router_group(a->router, r->slot)] : NULL;
}

typedef struct arg_find {
    const char *name, *value;
} arg_find;

static enum MHD_Result last_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    arg_find *f = cls;
    (void)kind;
    if (value && !strcmp(key, f->name)) f->value = value; /* "?x" alone counts as absent */
    return MHD_YES;
}

/* The last occurrence wins, as FastAPI takes a repeated single-valued parameter. */
const char *http_arg(http_req *r, const char *name)
{
    arg_find f = {name, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, last_arg, &f);
    return f.value;
}

static enum MHD_Result any_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    const char *const **names = cls;
    (void)kind;
    for (const char *const *n = *names; value && *n; n++)
        if (!strcmp(key, *n)) {
            *names = NULL; /* found: stop */
            return MHD_NO;
        }
    return MHD_YES;
}

int http_query_has(http_req *r, const char *const *names)
{
    const char *const *left = names;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, any_arg, &left);
    return left == NULL;
}

const char *http_req_header(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_path_id(http_req *r)
{
    return r->id;
}

const char *http_method(http_req *r)
{
    return r->method;
}

const route *http_route(http_req *r)
{
    return r->route;
}

const char *http_body(http_req *r, size_t *len)
{
    *len = r->body.len;
    return r->body.p ? r->body.p : "";
}

uint64_t http_start_ns(http_req *r)
{
    return r->start_ns;
}

const struct sockaddr *http_client_addr(http_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    return sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) ? sa : NULL;
}

int http_aborted(http_req *r)
{
    return r->aborted;
}

int http_on_admin(http_req *r)
{
    return r->admin;
}

void http_run_route(http_req *r)
{
    if (r->route && !r->response && !r->responded && !r->aborted) r->route->fn(r);
}

void http_set_ctx(http_req *r, void *ctx, void (*free_fn)(void *ctx))
{
    r->ctx = ctx;
    r->ctx_free = free_fn;
}

static http_extra *extra(http_req *r)
{
    if (!r->x) r->x = calloc(1, sizeof(*r->x)); /* NULL on OOM: the header is dropped */
    return r->x;
}

void http_add_header(http_req *r, const char *name, const char *value)
{
    http_extra *x = extra(r);
    if (!x || x->nhdr == MAX_HEADERS) return;
    snprintf(x->hdr_name[x->nhdr], sizeof(x->hdr_name[0]), "%s", name);
    snprintf(x->hdr_value[x->nhdr], sizeof(x->hdr_value[0]), "%s", value);
    x->nhdr++;
}

/* Appends s at out[at], truncating at cap - 1 and keeping out terminated:
 * snprintf's "%s" without its cost (about 1k instructions a call, and every
 * response builds a Server-Timing value). Returns the new length. */
static size_t cat(char *out, size_t cap, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at + n >= cap) n = cap - 1 - at;
    memcpy(out + at, s, n);
    out[at + n] = '\0';
    return at + n;
}

/* ms as "%.3f" prints it, without printf (see cat); at the end of out[len >= 20]. */
static const char *ms_text(char *out, size_t len, double ms)
{
    if (!(ms >= 0 && ms < 4e9)) {
        snprintf(out, len, "%.3f", ms);
        return out;
    }
    unsigned long long us = (unsigned long long)(ms * 1000 + 0.5);
    char *p = out + len - 1;
    *p = '\0';
    for (int i = 0; i < 3; i++, us /= 10)
        *--p = (char)('0' + us % 10);
    *--p = '.';
    do
        *--p = (char)('0' + us % 10);
    while (us /= 10);
    return p;
}

void http_add_timing(http_req *r, const char *name, double ms)
{
    http_extra *x = extra(r);
    if (!x) return;
    char d[20];
    size_t l = cat(x->timing, sizeof(x->timing), strlen(x->timing), name);
    l = cat(x->timing, sizeof(x->timing), l, ";dur=");
    l = cat(x->timing, sizeof(x->timing), l, ms_text(d, sizeof(d), ms));
    cat(x->timing, sizeof(x->timing), l, ", ");
}

/* --- suspend / resume ---------------------------------------------------- */

static void resume(http_req *r);

static int suspend(http_req *r)
{
    http_conn *hc = r->hc;
    if (!hc) return -ENOMEM;
    if (hc->w.fd < 0) return -EINVAL;
    http_conn_watch(hc); /* on failure it still works; a disconnect is then seen at the end */
    MHD_suspend_connection(r->conn);
    r->suspended = 1;
    r->app->http.nsuspended++;
    hc->waiting = r;
    if (hc->gone) { /* it hung up before this request waited: an edge will not come again */
        r->aborted = 1;
        resume(r);
    }
    return 0;
}

static void resume(http_req *r)
{
    if (!r->suspended) return;
    if (r->hc) r->hc->waiting = NULL;
    r->suspended = 0;
    r->app->http.nsuspended--;
    MHD_resume_connection(r->conn);
}

int http_defer(http_req *r)
{
    if (r->suspended || r->response) return 0;
    return suspend(r);
}

/* --- responses ------------------------------------------------------------ */

static void set_response(http_req *r, unsigned status, struct MHD_Response *resp)
{
    if (r->responded || r->response || r->aborted) {
        if (resp) MHD_destroy_response(resp);
        return;
    }
    if (!resp) { /* out of memory: drop the connection rather than lie */
        r->aborted = 1;
        resume(r);
        return;
    }
    r->response = resp;
    r->status = status;
    if (!r->in_handler) resume(r);
}

static void respond_buffer(http_req *r, unsigned status, const char *ctype,
                           struct MHD_Response *resp, size_t len)
{
    if (resp) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (resp && !r->responded && !r->response && !r->aborted) r->bytes = len;
    set_response(r, status, resp);
}

void http_respond_data(http_req *r, unsigned status, const char *ctype, char *data, size_t len)
{
    struct MHD_Response *resp =
        data ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) free(data);
    respond_buffer(r, status, ctype, resp, len);
}

void http_respond_static(http_req *r, unsigned status, const char *ctype, const char *data,
                         size_t len)
{
    /* MHD only reads a PERSISTENT buffer; the cast drops a const its old API lacks */
    respond_buffer(r, status, ctype,
                   MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT), len);
}

void http_respond_json(http_req *r, unsigned status, json_t *body)
{
    size_t len = 0;
    char *text = body ? json_out(body, &len) : NULL;
    json_decref(body);
    http_respond_data(r, status, "application/json", text, len);
}

void http_respond_detail(http_req *r, unsigned status, const char *detail)
{
    http_respond_json(r, status, json_pack("{s:s}", "detail", detail));
}

void http_respond_invalid(http_req *r, params *p)
{
    http_respond_json(r, 422, params_detail(p));
}

void http_respond_busy(http_req *r, const char *detail)
{
    http_add_header(r, "Retry-After", "1");
    http_respond_detail(r, 503, detail);
}

/* "<phases>total;dur=<ms since the request began>" */
static void server_timing(http_req *r, char *out, size_t len)
{
    double total = (double)(loop_now_ns() - r->start_ns) / 1e6;
    char d[20];
    size_t l = cat(out, len, 0, r->x ? r->x->timing : "");
    l = cat(out, len, l, "total;dur=");
    cat(out, len, l, ms_text(d, sizeof(d), total));
}

/* Which loop (and, with --replica-id, which replica) answered: lets a client
 * or a test see how SO_REUSEPORT and a load balancer spread requests. */
static void add_origin_headers(const app *a, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Iocpu-Loop", a->index_text);
    if (a->cfg.replica_id[0]) MHD_add_response_header(resp, "X-Iocpu-Replica", a->cfg.replica_id);
}

static void stream_watch(http_req *r);

/* Adds Server-Timing and the handler's headers, then queues the response. */
static enum MHD_Result queue(http_req *r)
{
    struct MHD_Response *resp = r->response;
    char st[sizeof(r->x->timing) + 32];
    server_timing(r, st, sizeof(st));
    MHD_add_response_header(resp, "Server-Timing", st);
    for (int i = 0; r->x && i < r->x->nhdr; i++)
        MHD_add_response_header(resp, r->x->hdr_name[i], r->x->hdr_value[i]);
    add_origin_headers(r->app, resp);
    if (r->app->draining) /* clients move on; the connection ends with this response */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    r->response = NULL;
    r->responded = 1;
    if (r->stream_begun) { /* MHD holds its reference until the request ends */
        r->streaming = resp;
        stream_watch(r);
    }
    enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* --- streaming ------------------------------------------------------------ */

/* What r's client has taken so far: the bytes it acknowledged, or where the
 * kernel does not say, the bytes handed to MHD. *owed: whether bytes wait
 * for it (here, or in the socket). */
static uint64_t stream_taken(http_req *r, int *owed)
{
    uint64_t acked = 0;
    int in_socket = 0;
    int known = r->hc && http_conn_sent(r->hc, &acked, &in_socket) == 0;
    *owed = r->stream.len > 0 || in_socket || (r->stream_ended && !known);
    return known ? acked : r->bytes;
}

/* Drops what r holds for its client. */
static void stream_release(http_req *r)
{
    r->app->http.stream_buffered -= r->stream.len;
    buf_free(&r->stream);
}

/* Ends r's stream and its connection at once: its client is not taking
 * what it is sent (a slow or stopped reader must not hold memory on the
 * server without bound). The request then ends as if the client had left. */
static void stream_cut(http_req *r, int reason)
{
    app *a = r->app;
    if (r->aborted) return;
    r->aborted = 1;
    a->http.stream_cuts[reason]++;
    if (a->http.txq_ready) deadline_disarm(&a->http.txq, &r->tx);
    stream_release(r);
    if (r->hc) http_conn_cut(r->hc);
    resume(r); /* a suspended stream: MHD asks it for more, and it ends */
}

/* A stream's progress check, every quarter of --stream-write-timeout: cut
 * off once its client owed bytes and took none for a whole timeout. */
static void stream_check(deadline_queue *q, deadline_entry *e)
{
    http_req *r = (http_req *)((char *)e - offsetof(http_req, tx));
    app *a = q->data;
    uint64_t now = loop_now_ns();
    int owed;
    uint64_t taken = stream_taken(r, &owed);
    if (taken != r->tx_taken || !owed) {
        r->tx_taken = taken;
        r->tx_since = now;
    } else if ((double)(now - r->tx_since) >= a->cfg.stream_write_timeout * 1e9) {
        stream_cut(r, HTTP_CUT_STALLED);
        return;
    }
    deadline_arm(q, e); /* on -ENOMEM unwatched: the buffer cap still holds */
}

/* A stream was queued: its client's progress is checked from now on. */
static void stream_watch(http_req *r)
{
    app *a = r->app;
    if (!a->http.txq_ready) {
        uint64_t window = (uint64_t)llround(a->cfg.stream_write_timeout * 1e9 / 4);
        deadline_init(&a->http.txq, a->loop, window ? window : 1, stream_check, a);
        a->http.txq_ready = 1;
    }
    int owed;
    r->tx_taken = stream_taken(r, &owed);
    r->tx_since = loop_now_ns();
    deadline_arm(&a->http.txq, &r->tx);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    http_req *r = cls;
    (void)pos;
    if (r->aborted) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (r->stream.len) {
        size_t n = r->stream.len < max ? r->stream.len : max;
        memcpy(out, r->stream.p, n);
        buf_consume(&r->stream, n);
        r->app->http.stream_buffered -= n;
        r->bytes += n;
        return (ssize_t)n;
    }
    if (r->stream_ended) {
        char st[sizeof(r->x->timing) + 32];
        server_timing(r, st, sizeof(st));
        if (r->streaming) /* the final timings, as a chunked trailer */
            MHD_add_response_footer(r->streaming, "Server-Timing", st);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (suspend(r) < 0) return MHD_CONTENT_READER_END_WITH_ERROR;
    return 0;
}

/* HEAD of a streaming route: the headers a GET would get, and no body at
 * all (libmicrohttpd 0.9.75 sends a chunked response's last chunk even for
 * HEAD, which a keep-alive client would read as the next response). The
 * stream's writes are then ignored. */
static int stream_head(http_req *r, unsigned status, const char *ctype)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp) return -ENOMEM;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    r->stream_ended = 1;
    set_response(r, status, resp);
    return 0;
}

int http_stream_begin(http_req *r, unsigned status, const char *ctype)
{
    if (r->head) return stream_head(r, status, ctype);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, r, NULL);
    if (!resp) return -ENOMEM;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, "Trailer", "Server-Timing");
    if (!r->responded && !r->response && !r->aborted) r->stream_begun = 1;
    set_response(r, status, resp);
    return 0;
}

void http_stream_write(http_req *r, const char *data, size_t len)
{
    if (r->aborted || r->stream_ended) return;
    if (len > (size_t)r->app->cfg.stream_buffer_bytes - r->stream.len) {
        stream_cut(r, HTTP_CUT_BUFFER); /* its client fell too far behind */
        return;
    }
    size_t before = r->stream.len;
    buf_append(&r->stream, data, len);
    r->app->http.stream_buffered += r->stream.len - before; /* nothing on OOM */
    if (r->responded) resume(r);
}

void http_stream_end(http_req *r)
{
    r->stream_ended = 1;
    if (r->responded) resume(r);
}

/* --- MHD callbacks ---------------------------------------------------------- */

/* What the access log needs, copied: MHD's strings do not outlive the request. */
static char *log_fields(struct MHD_Connection *c, const char *method, const char *url)
{
    char client[INET6_ADDRSTRLEN] = "-";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, client, sizeof(client));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, client, sizeof(client));
    size_t lm = strlen(method) + 1, lu = strlen(url) + 1, lc = strlen(client) + 1;
    char *p = malloc(lm + lu + lc);
    if (p) {
        memcpy(p, method, lm);
        memcpy(p + lm, url, lu);
        memcpy(p + lm + lu, client, lc);
    }
    return p;
}

static http_req *req_new(app *a, struct MHD_Connection *c, const char *method, const char *url)
{
    http_req *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->app = a;
    r->conn = c;
    r->method = method;
    r->head = strcmp(method, "HEAD") == 0;
    r->slot = metrics_unmatched_slot(a->obs.metrics, method);
    r->start_ns = loop_now_ns();
    const union MHD_ConnectionInfo *di =
        a->http.admin ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON) : NULL;
    r->admin = di && di->daemon == a->http.admin;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    r->hc = ci ? ci->socket_context : NULL;
    if (r->hc) http_conn_headers_in(r->hc, r);
    if (a->obs.alog) r->log = log_fields(c, method, url); /* NULL on OOM: the line is skipped */
    list_insert_head(&a->http.reqs, &r->link);
    a->http.nreqs++;
    return r;
}

/* The request is over: count it and log it. */
static void finish(http_req *r)
{
    app *a = r->app;
    uint64_t end = loop_now_ns();
    unsigned status = r->responded                ? r->status
                      : r->hc && r->hc->timed_out ? 408 /* closed by its receive deadline */
                                                  : METRICS_STATUS_CLIENT_CLOSED;
    app_stats_lock(a); /* another loop may be summing these metrics (loopstats.h) */
    metrics_request(a->obs.metrics, r->slot, status, (double)(end - r->start_ns) / 1e9);
    a->obs.stats->served++;
    app_stats_unlock(a);
    if (a->obs.alog && r->log) {
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        const char *method = r->log, *path = method + strlen(method) + 1;
        access_log_entry e = {
            .wall_ns = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec,
            .method = method,
            .path = path,
            .client = path + strlen(path) + 1,
            .status = status,
            .duration_ms = (double)(end - r->start_ns) / 1e6,
            .bytes = r->responded && !r->head ? r->bytes : 0,
        };
        access_log_write(a->obs.alog, &e);
    }
}

/* Gives r's body bytes back to the loop's budget, and frees the body. */
static void release_body(http_req *r)
{
    r->app->http.body_buffered -= r->charged;
    r->charged = 0;
    buf_free(&r->body);
}

static void req_free(http_req *r)
{
    app *a = r->app;
    if (r->ctx_free) r->ctx_free(r->ctx);
    if (r->hc) http_conn_request_done(r->hc);
    if (r->suspended) { /* only possible when MHD tears everything down */
        if (r->hc) r->hc->waiting = NULL;
        a->http.nsuspended--;
    }
    if (r->response) MHD_destroy_response(r->response);
    release_body(r);
    if (a->http.txq_ready) deadline_disarm(&a->http.txq, &r->tx);
    stream_release(r);
    free(r->x);
    free(r->log);
    list_remove(&r->link);
    a->http.nreqs--;
    free(r);
}

static enum MHD_Result nul_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                               const char *value, size_t value_size)
{
    params *p = cls;
    (void)kind;
    if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
        json_t *input = value ? json_stringn(value, value_size) : NULL;
        params_error(p, key, -1, "value_error",
                     "Value error, a NUL character (%00) is not allowed here", input, NULL);
    }
    return MHD_YES;
}

/* 422 for query names or values that hold a NUL byte: a C string would cut
 * them short, and nothing is ever truncated silently. */
static void respond_nul_args(http_req *r)
{
    params p;
    params_init(&p, "query");
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, nul_arg, &p);
    http_respond_invalid(r, &p);
    params_free(&p);
}

/* 1 when the group of r's route lists its path among its admin paths. */
static int admin_route(http_req *r)
{
    if (!r->route) return 0;
    const http_group *g = r->app->groups.v[router_group(r->app->router, r->slot)];
    for (const char *const *p = g->admin_paths; p && *p; p++)
        if (!strcmp(*p, r->route->path)) return 1;
    return 0;
}

/* 1 when a group's intercept hook answered or holds r (group.h); asked only
 * while server-wide injection is on, so it costs nothing otherwise. */
static int intercepted(http_req *r)
{
    app *a = r->app;
    if (!a->cfg.inject_rate && !a->cfg.inject_delay[0]) return 0;
    for (size_t i = 0; i < a->groups.n; i++)
        if (a->groups.v[i]->intercept && a->groups.v[i]->intercept(a->group_state[i], r)) return 1;
    return 0;
}

static void dispatch(http_req *r, const char *url, const char *version)
{
    char allow[64], over[128];
    reqlimits_usage use;
    reqlimits_measure(r->conn, url, version, &use);
    unsigned status = reqlimits_judge(&use, &r->app->cfg, over, sizeof(over));
    const router *rt = r->app->router;
    r->route = router_match(rt, r->method, url, allow, sizeof(allow), r->id, sizeof(r->id));
    if (r->route) r->slot = router_index(rt, r->route);
    if (r->path_nul || (r->admin && !admin_route(r))) {
        r->route = NULL; /* a %00 in the path, or not served by the admin listener */
        r->slot = metrics_unmatched_slot(r->app->obs.metrics, r->method);
        allow[0] = '\0';
    }
    if (status) { /* over a request-size limit: no handler sees it */
        if (status == 400) http_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        http_respond_detail(r, status, over);
    } else if ((status = admit_request(r->conn, &r->app->cfg, r->method, url, over,
                                       sizeof(over)))) { /* admit.h: Host, Fetch Metadata */
        http_respond_detail(r, status, over);
    } else if (r->route && (status = admit_body(r->conn, over, sizeof(over)))) {
        http_add_header(r, "Accept-Post", "application/json");
        http_respond_detail(r, status, over);
    } else if (r->route && use.nul_params) {
        respond_nul_args(r);
    } else if (r->route) {
        if (!intercepted(r)) r->route->fn(r);
    } else if (allow[0]) {
        http_add_header(r, "Allow", allow);
        http_respond_detail(r, 405, "Method Not Allowed");
    } else {
        http_respond_detail(r, 404, "Not Found");
    }
}

/* The declared Content-Length, or -1 (none: chunked or no body). */
static int64_t declared_length(struct MHD_Connection *c)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t n;
    return cl && parse_int64(cl, &n) == 0 ? n : -1;
}

/* Takes r's body up to total bytes from the loop's budget (--max-body-buffer).
 * 0, or -1 when that does not fit: r then holds what it held. */
static int charge(http_req *r, size_t total)
{
    app *a = r->app;
    if (total <= r->charged) return 0;
    if (total - r->charged > a->http.body_budget - a->http.body_buffered) return -1;
    a->http.body_buffered += total - r->charged;
    r->charged = total;
    return 0;
}

/* A refused body: 413 (over HTTP_BODY_MAX), 503 (over the budget), or 400 /
 * 501 for its Transfer-Encoding, or 404 for any body sent to the admin
 * listener (detail says why); no handler runs. */
static enum MHD_Result refuse_body(http_req *r, unsigned status, const char *detail)
{
    r->dispatched = 1;
    if (r->hc) http_conn_received(r->hc);
    if (status == 413) {
        http_respond_detail(r, 413, "Request body too large");
    } else if (status == 503) {
        http_respond_busy(r, "request body buffer full");
    } else { /* where the body ends is unknown: so is where a next request begins */
        http_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        http_respond_detail(r, status, detail);
    }
    return queue(r);
}

/* The first call. A request with a body is counted under its route even
 * if it ends before the handler runs (refused, timed out, client gone). A
 * declared body over the limit, or over what the budget has left, is
 * refused before a byte of it is read (no 100 Continue is sent; MHD closes
 * the connection after such an early answer). A declared body takes its
 * whole length from the budget now, so that a slow upload holds what it
 * will need. A Transfer-Encoding other than chunked is refused at once
 * (libmicrohttpd would wait for a body it cannot find the end of). Returns
 * the refusal's status (detail says why), or 0. */
static unsigned body_coming(http_req *r, const char *url, char *detail, size_t len)
{
    int64_t n = declared_length(r->conn);
    const char *te =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (n <= 0 && !te) return 0;
    if (r->admin) { /* no admin route takes a body: none of the budget, none read */
        snprintf(detail, len, "Not Found");
        return 404;
    }
    unsigned bad = te ? reqlimits_transfer_encoding(te, detail, len) : 0;
    char allow[64];
    const router *table = r->app->router;
    const route *rt =
        router_match(table, r->method, url, allow, sizeof(allow), r->id, sizeof(r->id));
    if (rt) r->slot = router_index(table, rt);
    if (bad) return bad;
    if (n > HTTP_BODY_MAX) return 413;
    return n > 0 && charge(r, (size_t)n) < 0 ? 503 : 0;
}

/* One piece of the body. MHD 0.9.75 accepts no response while a body streams
 * in: past the limit or the budget, drop the body (giving its bytes back),
 * answer once it ended, and drop a connection whose body goes on far beyond
 * the limit (nothing is ever cut silently: the handler never sees a part). */
static enum MHD_Result take_upload(http_req *r, const char *data, size_t n)
{
    r->received += n;
    if (!r->refused && (r->received > HTTP_BODY_MAX || charge(r, r->received) < 0)) {
        r->refused = 1;
        release_body(r);
    }
    if (!r->refused) buf_append(&r->body, data, n);
    return r->received > HTTP_BODY_DROP ? MHD_NO : MHD_YES;
}

/* A request that created something (its answer carries a Location) ended
 * without that answer reaching the client (it left, or half-closed and
 * libmicrohttpd stopped there): the log is the only place the thing shows
 * up, so it says where. */
static void report_lost_creation(const http_req *r)
{
    for (int i = 0; r->x && i < r->x->nhdr; i++) /* set even when the answer was dropped */
        if (!strcmp(r->x->hdr_name[i], "Location"))
            fprintf(stderr, "iocpu: %s created %s, but the client left before its answer\n",
                    r->method, r->x->hdr_value[i]);
}

/* *con_cls before a request's first access-handler call when its raw path
 * held a %00 (libmicrohttpd hands us the path decoded, cut at the NUL). */
static char PATH_NUL;

void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    size_t n = strcspn(uri, "?");
    for (const char *p = uri; (p = memchr(p, '%', n - (size_t)(p - uri))) && p + 2 < uri + n; p++)
        if (p[1] == '0' && p[2] == '0') return &PATH_NUL;
    return NULL;
}

/* An absolute-form target ("http://host/path", RFC 9112 3.2.2) as the path
 * it names; any other target as it is. */
static const char *origin_path(const char *url)
{
    size_t skip = !strncasecmp(url, "http://", 7) ? 7 : !strncasecmp(url, "https://", 8) ? 8 : 0;
    if (!skip) return url;
    const char *slash = strchr(url + skip, '/');
    return slash ? slash : "/";
}

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    http_req *r = *con_cls;
    const char *path = origin_path(url);
    if (!r || r == (void *)&PATH_NUL) { /* the first call (http_on_uri marked a %00 path) */
        int nul = r != NULL;
        if (!(r = req_new(cls, c, method, url))) return MHD_NO;
        r->path_nul = (unsigned)nul;
        *con_cls = r;
        char why[96];
        unsigned status = body_coming(r, path, why, sizeof(why));
        return status ? refuse_body(r, status, why) : MHD_YES;
    }
    if (r->response) return queue(r);
    if (r->aborted) return MHD_NO;
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return take_upload(r, upload, n);
    }
    if (r->dispatched) return MHD_YES;
    if (r->refused) return refuse_body(r, r->received > HTTP_BODY_MAX ? 413 : 503, NULL);
    r->dispatched = 1;
    if (r->hc) http_conn_received(r->hc);
    r->in_handler = 1;
    dispatch(r, path, version);
    r->in_handler = 0;
    if (!r->response) return MHD_YES; /* deferred: suspended until a response is set */
    if (r->suspended) {               /* deferred, then answered at once: resume first */
        resume(r);
        return MHD_YES;
    }
    return queue(r);
}

void http_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                       enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    http_req *r = *con_cls;
    *con_cls = NULL;
    if (!r || r == (void *)&PATH_NUL) return; /* it ended before its first handler call */
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) report_lost_creation(r);
    finish(r);
    req_free(r);
}

void http_expire_all(app *a)
{
    list_node *n;
    list_foreach (n, &a->http.reqs) {
        http_req *r = list_entry(n, http_req, link);
        if (!r->responded && !r->response)
            http_respond_busy(r, "server shutting down");
        else if (r->responded && !r->stream_ended)
            http_stream_end(r);
    }
}

void http_abort_all(app *a)
{
    if (a->http.txq_ready) deadline_close(&a->http.txq); /* no stream is checked any more */
    list_node *n;
    list_foreach (n, &a->http.reqs) {
        http_req *r = list_entry(n, http_req, link);
        r->aborted = 1;
        resume(r);
    }
}

/* --- connections ------------------------------------------------------------ */

/* Our watch on a connection's socket (http_conn.h). */
static void on_conn_event(loop_watcher *w, uint32_t events)
{
    http_conn *hc = w->data;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) { /* the client is gone */
        if (hc->waiting) {
            hc->waiting->aborted = 1;
            resume(hc->waiting);
        } else { /* edge-triggered: remember it; MHD sees it itself while it reads */
            hc->gone = 1;
        }
        return;
    }
    http_conn_bytes(hc);
}

void http_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = http_conn_open(cls, c, on_conn_event);
        return;
    }
    http_conn *hc = *socket_context;
    if (!hc) return;
    if (hc->req) hc->req->hc = NULL; /* the request's connection state is gone */
    http_conn_close(hc);
    *socket_context = NULL;
}
