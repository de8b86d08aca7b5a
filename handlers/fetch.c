/*
 * fetch.c - real outbound HTTP (docs/fetch.md): GET /io/fetch and
 * /io/fetch/gather, the three ways a FastAPI endpoint waits on the network:
 *
 *   mode=loop      httpx.AsyncClient in `async def`: the transfer is on the
 *                  loop's libcurl multi handle (fetch/multi.h); the request
 *                  waits, suspended, and holds no thread;
 *   mode=blocking  requests.get in `async def`: curl_easy_perform on the loop
 *                  thread, which serves nothing else until it returns;
 *   mode=threadpool requests.get in a plain `def`: the same blocking transfer
 *                  on a thread of the IO pool (iopool.h), the loop goes on.
 *
 * Every URL passes the --upstream-allow check (fetch/allow.h) before any
 * socket exists; what is refused gets a 403. A call's transfers are its ctx:
 * a client that goes away takes them off the multi, which closes their
 * upstream connections.
 *
 * Threads: the per-loop state and every call are the loop's; the shared
 * state (the allow list, read-only once the loops run; the in-flight count
 * and the outcome counters, atomics) is every loop's.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "handlers.h"
#include "iopool.h"
#include "multi.h"
#include "prom.h"

enum fmode { MODE_LOOP, MODE_BLOCKING, MODE_THREADPOOL, MODES };
static const char *const MODE_NAMES[] = {"loop", "blocking", "threadpool", NULL};

/* The outcome label: fetch_outcome's, then two of the handler's own. */
enum { OUT_BUSY = FETCH_OUTCOMES, OUT_CANCELLED, OUTS };

typedef struct fetch_shared {
    fetch_allow allow; /* --upstream-allow, resolved; unused when custom is 0 */
    int custom;
    long max_inflight;
    atomic_long inflight;
    atomic_ullong counts[MODES][OUTS];
} fetch_shared;

typedef struct fetch_state {
    app *a;
    fetch_shared *sh;
    fetch_multi *multi;
    fetch_allow def; /* the default list, made once the port is known */
    uint16_t def_port;
} fetch_state;

typedef struct fcall fcall;

typedef struct fslot {
    fetch_xfer x;
    fcall *call;
    size_t index;
    char *url;
    int on, held; /* on the multi; holds one of the in-flight places */
    enum fetch_outcome out;
    executor_job job; /* mode=threadpool: the transfer as an IO pool job */
    int in_pool;      /* submitted, its done() not yet run: the IO thread may hold x */
} fslot;

struct fcall {
    http_req *r;
    fetch_state *st;
    enum fmode mode;
    int gather;
    double timeout;
    size_t n, finished;
    size_t *order;
    fslot slots[];
};

static void count(fetch_shared *sh, enum fmode m, unsigned out)
{
    atomic_fetch_add(&sh->counts[m][out], 1);
}

static void release(fcall *c, fslot *s)
{
    if (!s->held) return;
    s->held = 0;
    atomic_fetch_sub(&c->st->sh->inflight, 1);
}

static void call_free_now(fcall *c)
{
    for (size_t i = 0; i < c->n; i++) {
        fslot *s = &c->slots[i];
        if (s->on) count(c->st->sh, c->mode, OUT_CANCELLED);
        fetch_xfer_cleanup(&s->x);
        release(c, s);
        free(s->url);
    }
    free(c->order);
    free(c);
}

/* The request ended: what is still on the multi is cancelled (its
 * connection closed). A transfer on an IO thread is asked to stop, and the
 * call lives on, detached, until its job's done() frees it. */
static void call_free(void *p)
{
    fcall *c = p;
    if (c->n == 1 && c->slots[0].in_pool) {
        app *a = http_app(c->r);
        c->r = NULL;
        iopool_cancel(a, &c->slots[0].job);
        return;
    }
    call_free_now(c);
}

static fcall *call_new(http_req *r, fetch_state *st, size_t n)
{
    fcall *c = calloc(1, sizeof(*c) + n * sizeof(fslot));
    if (!c || !(c->order = calloc(n, sizeof(size_t)))) {
        free(c);
        return NULL;
    }
    c->r = r;
    c->st = st;
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        c->slots[i].call = c;
        c->slots[i].index = i;
    }
    http_set_ctx(r, c, call_free);
    return c;
}

/* The allow list in force on this loop: --upstream-allow, or this server
 * itself at the port it listens on. */
static const fetch_allow *allow_list(fetch_state *st)
{
    if (st->sh->custom) return &st->sh->allow;
    if (st->def_port != st->a->port) {
        st->def_port = st->a->port;
        fetch_allow_default(st->def_port, &st->def);
    }
    return &st->def;
}

/* Takes n in-flight places, all or none. */
static int reserve(fetch_shared *sh, size_t n)
{
    long now = atomic_fetch_add(&sh->inflight, (long)n) + (long)n;
    if (now <= sh->max_inflight) return 0;
    atomic_fetch_sub(&sh->inflight, (long)n);
    return -1;
}

static json_t *phases_json(const fetch_phases *ph)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:f}", "dns", ph->dns, "connect", ph->connect, "tls",
                     ph->tls, "first_byte", ph->first_byte, "download", ph->download);
}

static void add_timings(http_req *r, const fetch_phases *ph)
{
    http_add_timing(r, "dns", ph->dns * 1e3);
    http_add_timing(r, "connect", ph->connect * 1e3);
    if (ph->tls > 0) http_add_timing(r, "tls", ph->tls * 1e3);
    http_add_timing(r, "first_byte", ph->first_byte * 1e3);
    http_add_timing(r, "download", ph->download * 1e3);
}

/* The error of a fetch that got no response, for its detail. */
static void fail_text(const fslot *s, double timeout, char *out, size_t cap)
{
    const char *err = s->x.error[0] ? s->x.error : curl_easy_strerror(s->x.result);
    switch (s->out) {
    case FETCH_REFUSED:
        snprintf(out, cap, "the address to connect to is not on --upstream-allow");
        break;
    case FETCH_TIMEOUT:
        snprintf(out, cap, "upstream timed out (timeout %g s): %s", timeout, err);
        break;
    case FETCH_TOO_LARGE:
        snprintf(out, cap, "upstream response over --fetch-max-bytes (%lld bytes)",
                 (long long)s->x.max_bytes);
        break;
    case FETCH_UNREACHABLE:
        snprintf(out, cap, "upstream unreachable: %s", err);
        break;
    default:
        snprintf(out, cap, "upstream failed: %s", err);
        break;
    }
}

/* One fetch's part of an answer: its response, or its error. */
static json_t *result_json(const fcall *c, const fslot *s)
{
    if (s->out != FETCH_OK) {
        char detail[CURL_ERROR_SIZE + 96];
        fail_text(s, c->timeout, detail, sizeof(detail));
        return json_pack("{s:s,s:{s:I,s:s,s:s}}", "url", s->url, "error", "status",
                         (json_int_t)fetch_outcome_status(s->out), "outcome",
                         fetch_outcome_name(s->out), "detail", detail);
    }
    return json_pack("{s:s,s:I,s:I,s:f,s:o}", "url", s->url, "status", (json_int_t)s->x.status,
                     "bytes", (json_int_t)s->x.bytes, "elapsed", s->x.phases.total, "phases",
                     phases_json(&s->x.phases));
}

static void respond_one(fcall *c, double blocked)
{
    fslot *s = &c->slots[0];
    if (s->out != FETCH_OK) {
        char detail[CURL_ERROR_SIZE + 96];
        fail_text(s, c->timeout, detail, sizeof(detail));
        http_respond_detail(c->r, fetch_outcome_status(s->out), detail);
        return;
    }
    add_timings(c->r, &s->x.phases);
    json_t *o = result_json(c, s);
    json_object_set_new(o, "mode", json_string(MODE_NAMES[c->mode]));
    if (c->mode == MODE_THREADPOOL) {
        char name[32];
        snprintf(name, sizeof(name), "%s%d", IOPOOL_THREAD_PREFIX, s->job.worker);
        json_object_set_new(o, "ran_on", json_string("io_thread"));
        json_object_set_new(o, "thread", json_string(name));
        json_object_set_new(o, "queued_for",
                            json_real(secs_between(s->job.queued_ns, s->job.started_ns)));
    } else {
        json_object_set_new(o, "ran_on", json_string("event_loop"));
    }
    json_object_set_new(o, "blocked_loop_for", json_real(blocked));
    json_object_set_new(o, "elapsed", json_real(secs_since(http_start_ns(c->r))));
    json_object_set_new(o, "upstream_elapsed", json_real(s->x.phases.total));
    http_respond_json(c->r, 200, o);
}

static void respond_gather(fcall *c)
{
    json_t *results = json_array(), *order = json_array();
    double sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        json_array_append_new(results, result_json(c, &c->slots[i]));
        json_array_append_new(order, json_integer((json_int_t)c->order[i]));
        sum += c->slots[i].x.phases.total;
    }
    json_t *o =
        json_pack("{s:o,s:o,s:f,s:f,s:f}", "results", results, "finish_order", order, "timeout",
                  c->timeout, "elapsed", secs_since(http_start_ns(c->r)), "sum_of_elapsed", sum);
    http_respond_json(c->r, 200, o);
}

/* A transfer ended (loop thread; for mode=blocking, right after it). */
static void slot_done(fslot *s)
{
    fcall *c = s->call;
    s->on = 0;
    s->out = fetch_xfer_finish(&s->x);
    release(c, s);
    count(c->st->sh, c->mode, s->out);
    c->order[c->finished++] = s->index;
}

static void on_done(fetch_xfer *x)
{
    fslot *s = x->data;
    fcall *c = s->call;
    slot_done(s);
    if (c->finished < c->n) return;
    if (c->gather)
        respond_gather(c);
    else
        respond_one(c, 0);
}

/* --- parameters ----------------------------------------------------------- */

static double max_delay_of(http_req *r)
{
    return http_app(r)->cfg.max_delay;
}

/* Checks one URL into t: 0; -1 with the 422 recorded; 1 when it is
 * refused (403), with why in refusal[160]. */
static int check_url(fetch_state *st, params *p, const char *name, long index, const char *url,
                     fetch_target *t, char *refusal)
{
    char msg[200];
    switch (fetch_target_check(allow_list(st), url, t, refusal, 160)) {
    case FETCH_URL_OK:
        return 0;
    case FETCH_URL_BAD:
        snprintf(msg, sizeof(msg), "Value error, %s", refusal);
        params_error(p, name, index, "value_error", msg, json_string(url), NULL);
        return -1;
    default:
        return 1;
    }
}

static fetch_limits limits(http_req *r, double timeout)
{
    const config *cfg = &http_app(r)->cfg;
    fetch_limits lim = {.connect_ms = (long)llround(cfg->fetch_connect_timeout * 1e3),
                        .total_ms = (long)llround(timeout * 1e3),
                        .max_bytes = cfg->fetch_max_bytes};
    if (lim.total_ms < 1) lim.total_ms = 1;
    return lim;
}

/* Sets up the call's transfers from the checked targets and takes their
 * in-flight places. 0, or -1 with the answer sent. */
static int start_call(fcall *c, fetch_target *t)
{
    fetch_state *st = c->st;
    fetch_limits lim = limits(c->r, c->timeout);
    if (reserve(st->sh, c->n) < 0) {
        count(st->sh, c->mode, OUT_BUSY);
        http_respond_busy(c->r, "too many outbound fetches in progress (--fetch-max-inflight)");
        return -1;
    }
    for (size_t i = 0; i < c->n; i++)
        c->slots[i].held = 1;
    for (size_t i = 0; i < c->n; i++) {
        /* each fetch a child span of this request's trace (obs/trace.h) */
        char line[sizeof("traceparent: ") + TRACEPARENT_LEN];
        trace_ctx child;
        memcpy(line, "traceparent: ", sizeof("traceparent: "));
        trace_child(http_trace(c->r), &child, line + sizeof("traceparent: ") - 1);
        if (fetch_xfer_init(&c->slots[i].x, &t[i], &lim) < 0 ||
            fetch_xfer_add_header(&c->slots[i].x, line) < 0) {
            http_respond_detail(c->r, 500, "out of memory");
            return -1;
        }
    }
    if (c->mode != MODE_LOOP) return 0;
    for (size_t i = 0; i < c->n; i++) {
        if (fetch_multi_add(st->multi, &c->slots[i].x, on_done, &c->slots[i]) < 0) {
            http_respond_detail(c->r, 500, "cannot start a fetch");
            return -1;
        }
        c->slots[i].on = 1;
    }
    return 0;
}

/* mode=blocking: the transfer runs here, on the loop thread, to its end. */
static void run_blocking(fcall *c)
{
    uint64_t t0 = loop_now_ns();
    fetch_xfer_perform(&c->slots[0].x);
    slot_done(&c->slots[0]);
    respond_one(c, secs_since(t0));
}

/* mode=threadpool: the transfer blocks an IO thread (iopool.h), as
 * requests.get does in a FastAPI `def` endpoint; the loop goes on. */
static int pool_stop(void *arg)
{
    return iopool_cancelled(arg);
}

static void pool_work(executor_job *j)
{
    fslot *s = j->data;
    fetch_xfer_perform_until(&s->x, pool_stop, j);
}

static void pool_done(executor_job *j, int status)
{
    fslot *s = j->data;
    fcall *c = s->call;
    s->in_pool = 0;
    if (!c->r) { /* the client left: the call was detached */
        count(c->st->sh, c->mode, OUT_CANCELLED);
        call_free_now(c);
        return;
    }
    if (status < 0) { /* never ran: the server stops */
        http_respond_busy(c->r, "the server is stopping");
        return;
    }
    slot_done(s);
    respond_one(c, 0);
}

static void run_pooled(fcall *c)
{
    fslot *s = &c->slots[0];
    s->job.work = pool_work;
    s->job.done = pool_done;
    s->job.data = s;
    int rc = iopool_submit(http_app(c->r), &s->job);
    if (rc == 0) {
        s->in_pool = 1;
        http_defer(c->r);
        return;
    }
    count(c->st->sh, c->mode, OUT_BUSY);
    if (rc == -EAGAIN)
        http_respond_busy(c->r, IOPOOL_FULL);
    else
        http_respond_detail(c->r, 500, "cannot queue the fetch");
}

static enum fmode mode_of(const char *name)
{
    for (int m = 0; m < MODES; m++)
        if (!strcmp(name, MODE_NAMES[m])) return (enum fmode)m;
    return MODE_LOOP;
}

static void fetch_one(http_req *r)
{
    fetch_state *st = http_group_state(r);
    params p;
    params_init(&p, "query");
    const char *url = http_arg(r, "url"), *mode = MODE_NAMES[MODE_LOOP];
    double timeout;
    fetch_target t = {0};
    if (!url) params_error(&p, "url", -1, "missing", "Field required", NULL, NULL);
    param_double(&p, "timeout", http_arg(r, "timeout"), 10.0, 0.001, max_delay_of(r), &timeout);
    if (http_arg(r, "mode")) param_choice(&p, "mode", http_arg(r, "mode"), MODE_NAMES, &mode);
    char why[160];
    int refused = params_ok(&p) ? check_url(st, &p, "url", -1, url, &t, why) : 0;
    fcall *c = params_ok(&p) && refused == 0 ? call_new(r, st, 1) : NULL;
    if (!params_ok(&p)) {
        http_respond_invalid(r, &p);
    } else if (refused) {
        http_respond_detail(r, 403, why);
        count(st->sh, mode_of(mode), FETCH_REFUSED);
    } else if (!c || !url || !(c->slots[0].url = strdup(url))) {
        http_respond_detail(r, 500, "out of memory");
    } else {
        c->mode = mode_of(mode);
        c->timeout = timeout;
        if (start_call(c, &t) == 0) {
            if (c->mode == MODE_BLOCKING)
                run_blocking(c);
            else if (c->mode == MODE_THREADPOOL)
                run_pooled(c);
            else
                http_defer(r);
        }
    }
    fetch_target_free(&t);
    params_free(&p);
}

/* Splits the urls parameter at its commas, then checks each: the count,
 * or -1 with the answer recorded (422, every bad item) or sent (403, the
 * first refused one: nothing is fetched). */
static long split_urls(http_req *r, fetch_state *st, params *p, char *raw, size_t max,
                       fetch_target *t, char **urls)
{
    long n = 0;
    for (char *s = raw, *end = raw; end; s = end + 1) {
        if ((size_t)n == max) {
            char msg[96];
            snprintf(msg, sizeof(msg), "List should have at most %zu items", max);
            params_error(p, "urls", -1, "too_long", msg, NULL, NULL);
            return -1;
        }
        if ((end = strchr(s, ','))) *end = '\0';
        urls[n++] = s;
    }
    char why[160], first[200] = "";
    for (long i = 0; i < n; i++)
        if (check_url(st, p, "urls", i, urls[i], &t[i], why) > 0 && !first[0])
            snprintf(first, sizeof(first), "urls[%ld]: %s", i, why);
    if (!params_ok(p)) return -1;
    if (first[0]) {
        http_respond_detail(r, 403, first);
        return -1;
    }
    return n;
}

static void start_gather(http_req *r, fetch_state *st, fetch_target *t, char **urls, size_t n,
                         double timeout)
{
    fcall *c = call_new(r, st, n);
    int ok = c != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = (c->slots[i].url = strdup(urls[i])) != NULL;
    if (!ok) {
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    c->gather = 1;
    c->mode = MODE_LOOP;
    c->timeout = timeout;
    if (start_call(c, t) == 0) http_defer(r);
}

/* url=U&n=N: N fetches of the one URL, each checked as its own target (a
 * transfer takes its target over). The count, or -1 as split_urls. */
static long repeat_url(http_req *r, fetch_state *st, params *p, char *url, size_t n,
                       fetch_target *t, char **urls)
{
    char why[160];
    for (size_t i = 0; i < n; i++) {
        int rc = check_url(st, p, "url", -1, url, &t[i], why);
        if (rc < 0) return -1;
        if (rc > 0) {
            http_respond_detail(r, 403, why);
            return -1;
        }
        urls[i] = url;
    }
    return (long)n;
}

/* urls=a,b,c, or url=U with n=N (1..--fetch-max-inflight, default 1): how
 * many targets the call may have, 0 with a 422 recorded. */
static size_t gather_size(http_req *r, params *p, const char *urls, const char *url)
{
    const config *cfg = &http_app(r)->cfg;
    const char *n = http_arg(r, "n");
    uint64_t count = 1;
    if (urls && url) {
        params_error(p, "url", -1, "value_error", "Value error, give either urls or url, not both",
                     json_string(url), NULL);
        return 0;
    }
    if (!urls && !url) {
        params_error(p, "urls", -1, "missing", "Field required", NULL, NULL);
        return 0;
    }
    if (n && !url) {
        params_error(p, "n", -1, "value_error", "Value error, n goes with url, not urls",
                     json_string(n), NULL);
        return 0;
    }
    if (urls) return (size_t)cfg->max_list;
    if (param_uint64(p, "n", n, 1, 1, (uint64_t)cfg->fetch_max_inflight, &count) < 0) return 0;
    return (size_t)count;
}

static void fetch_gather(http_req *r)
{
    fetch_state *st = http_group_state(r);
    params p;
    params_init(&p, "query");
    const char *raw = http_arg(r, "urls"), *one = http_arg(r, "url");
    double timeout;
    size_t max = gather_size(r, &p, raw, one);
    param_double(&p, "timeout", http_arg(r, "timeout"), 10.0, 0.001, max_delay_of(r), &timeout);
    if (!params_ok(&p) || max == 0) {
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    char *copy = strdup(raw ? raw : one), **urls = calloc(max, sizeof(char *));
    fetch_target *t = calloc(max, sizeof(fetch_target));
    long n = -1;
    if (!copy || !urls || !t)
        http_respond_detail(r, 500, "out of memory");
    else if ((n = raw ? split_urls(r, st, &p, copy, max, t, urls)
                      : repeat_url(r, st, &p, copy, max, t, urls)) < 0 &&
             params_ok(&p))
        count(st->sh, MODE_LOOP, FETCH_REFUSED);
    if (!params_ok(&p))
        http_respond_invalid(r, &p);
    else if (n > 0)
        start_gather(r, st, t, urls, (size_t)n, timeout);
    for (size_t i = 0; t && i < max; i++)
        fetch_target_free(&t[i]);
    free(t);
    free(urls);
    free(copy);
    params_free(&p);
}

/* --- the group ------------------------------------------------------------ */

static int fetch_shared_new(const config *cfg, void **shared)
{
    fetch_shared *sh = calloc(1, sizeof(*sh));
    if (!sh) return -ENOMEM;
    *shared = sh;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -ENOMEM;
    sh->max_inflight = cfg->fetch_max_inflight;
    if (!cfg->upstream_allow[0]) return 0;
    sh->custom = 1;
    /* main thread, before any loop runs: the one place names are resolved */
    if (fetch_allow_parse(cfg->upstream_allow, &sh->allow) < 0 ||
        fetch_allow_resolve(&sh->allow) < 0) {
        fprintf(stderr, "iocpu: --upstream-allow: a name in the list has no address\n");
        return -EINVAL;
    }
    return 0;
}

static void fetch_shared_free(void *shared)
{
    if (!shared) return;
    curl_global_cleanup();
    free(shared);
}

static int fetch_init(app *a, void *shared, void **state)
{
    fetch_state *st = calloc(1, sizeof(*st));
    if (!st) return -ENOMEM;
    st->a = a;
    st->sh = shared;
    *state = st;
    return fetch_multi_new(a->loop, &st->multi);
}

static void fetch_free(void *state)
{
    fetch_state *st = state;
    if (!st) return;
    fetch_multi_free(st->multi);
    free(st);
}

/* Every loop's counts: the counters are the server's, not the loop's. */
static void fetch_metrics(void *state, buf *out)
{
    fetch_shared *sh = ((fetch_state *)state)->sh;
    static const char *const NAMES[OUTS] = {"ok",        "refused", "unreachable", "timeout",
                                            "too_large", "failed",  "busy",        "cancelled"};
    prom_family(out, "iocpu_fetches_total", "counter",
                "Outbound fetches (/io/fetch, /io/fetch/gather) by mode and outcome");
    for (int m = 0; m < MODES; m++)
        for (int o = 0; o < OUTS; o++) {
            char labels[96] = "";
            prom_label(labels, sizeof(labels), "mode", MODE_NAMES[m]);
            prom_label(labels, sizeof(labels), "outcome", NAMES[o]);
            prom_sample_u64(out, "iocpu_fetches_total", labels, atomic_load(&sh->counts[m][o]));
        }
    long n = atomic_load(&sh->inflight);
    prom_gauge_u64(out, "iocpu_fetches_in_flight",
                   "Outbound fetches in progress in the whole server (--fetch-max-inflight)",
                   (uint64_t)(n > 0 ? n : 0));
}

static const route ROUTES[] = {
    {"GET", "/io/fetch", fetch_one,
     "a real HTTP call: mode=loop (httpx.AsyncClient) waits on the loop's epoll, "
     "mode=blocking (requests.get in async def) stalls the loop"},
    {"GET", "/io/fetch/gather", fetch_gather,
     "asyncio.gather over real HTTP calls: they wait together on the loop, total time = the "
     "slowest"},
};

const http_group fetch_group = {
    .name = "fetch",
    .routes = ROUTES,
    .nroutes = sizeof(ROUTES) / sizeof(ROUTES[0]),
    .shared_new = fetch_shared_new,
    .shared_free = fetch_shared_free,
    .init = fetch_init,
    .metrics = fetch_metrics,
    .free = fetch_free,
};
