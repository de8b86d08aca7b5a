/*
 * test_http_loopstream.c - GET /loop/stream and GET /ui over real HTTP: the
 * Server-Sent Events format, about ten events a second with the server idle
 * in between, a stall and a busy worker showing up in the events, clean-up
 * when clients leave (no suspended request, no ticker left), a drain that
 * ends the streams at once instead of waiting out its grace, and the page.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define MAX_EVENTS 512

static test_server ts;

/* --- an SSE client on a thread of its own ----------------------------------- */

typedef struct sse_client {
    pthread_t th;
    const test_server *t;
    pthread_mutex_t mu;
    char *body; /* everything received */
    size_t len;
    char headers[1024];
    size_t hlen;
    int events;            /* complete events (blocks ended by a blank line) */
    double at[MAX_EVENTS]; /* when each one arrived (now_secs) */
    atomic_int stop;       /* ask the client to hang up */
    atomic_int done;       /* the transfer is over */
    CURLcode rc;
    long status;
    double ended_at;
} sse_client;

static size_t sse_on_data(char *data, size_t size, size_t n, void *arg)
{
    sse_client *c = arg;
    size_t add = size * n;
    if (atomic_load(&c->stop)) return 0; /* curl aborts and closes the connection */
    pthread_mutex_lock(&c->mu);
    char *p = realloc(c->body, c->len + add + 1);
    cr_assert_not_null(p);
    memcpy(p + c->len, data, add);
    c->body = p;
    c->len += add;
    c->body[c->len] = '\0';
    int count = 0;
    for (const char *q = c->body; (q = strstr(q, "\n\n")); q += 2)
        count++;
    for (; c->events < count; c->events++)
        if (c->events < MAX_EVENTS) c->at[c->events] = now_secs();
    pthread_mutex_unlock(&c->mu);
    return add;
}

static size_t sse_on_header(char *data, size_t size, size_t n, void *arg)
{
    sse_client *c = arg;
    size_t add = size * n;
    if (c->hlen + add < sizeof(c->headers)) {
        memcpy(c->headers + c->hlen, data, add);
        c->hlen += add;
        c->headers[c->hlen] = '\0';
    }
    return add;
}

static void *sse_main(void *p)
{
    sse_client *c = p;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/loop/stream", c->t->port);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sse_on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, sse_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    c->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    curl_easy_cleanup(h);
    c->ended_at = now_secs();
    atomic_store(&c->done, 1);
    return NULL;
}

static void sse_start(sse_client *c, const test_server *t)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
    pthread_mutex_init(&c->mu, NULL);
    cr_assert_eq(pthread_create(&c->th, NULL, sse_main, c), 0);
}

static int sse_events(sse_client *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->events;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Waits until the client has seen n events; fails the test after timeout_s. */
static void sse_wait(sse_client *c, int n, double timeout_s)
{
    double t0 = now_secs();
    while (sse_events(c) < n) {
        cr_assert(!atomic_load(&c->done), "the stream ended after %d events", sse_events(c));
        cr_assert_lt(now_secs() - t0, timeout_s, "%d of %d events after %.1f s", sse_events(c), n,
                     timeout_s);
        usleep(5000);
    }
}

/* Hangs up (at the next event at the latest) and joins. */
static void sse_stop(sse_client *c)
{
    atomic_store(&c->stop, 1);
    pthread_join(c->th, NULL);
}

static void sse_free(sse_client *c)
{
    free(c->body);
    pthread_mutex_destroy(&c->mu);
}

/* The data of event i (0-based) as JSON, or NULL; *id gets its id (-1 if none). */
static json_t *sse_event(sse_client *c, int i, long long *id)
{
    pthread_mutex_lock(&c->mu);
    const char *p = c->body;
    for (int k = 0; p && k < i; k++)
        if ((p = strstr(p, "\n\n"))) p += 2;
    char *block = p ? strndup(p, strstr(p, "\n\n") ? (size_t)(strstr(p, "\n\n") - p) : 0) : NULL;
    pthread_mutex_unlock(&c->mu);
    *id = -1;
    json_t *data = NULL;
    char *save = NULL;
    for (char *line = block ? strtok_r(block, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "id: ", 4))
            *id = atoll(line + 4);
        else if (!strncmp(line, "data: ", 6))
            data = json_loads(line + 6, 0, NULL);
        else
            cr_assert(!strcmp(line, "retry: 1000") && i == 0, "unexpected line in event %d: %s", i,
                      line);
    }
    free(block);
    return data;
}

/* The largest value of a number field over events [from, to). */
static double sse_max(sse_client *c, int from, int to, const char *obj, const char *key)
{
    double max = -1;
    for (int i = from; i < to; i++) {
        long long id;
        json_t *d = sse_event(c, i, &id);
        json_t *o = obj ? json_object_get(d, obj) : d;
        double v = json_number_value(json_object_get(o, key));
        if (v > max) max = v;
        json_decref(d);
    }
    return max;
}

static double cpu_secs(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* --- the stream --------------------------------------------------------------- */

static void setup(void)
{
    ts_start(&ts, NULL);
}

static void teardown(void)
{
    if (ts.s) ts_stop(&ts);
}

TestSuite(loopstream, .init = setup, .fini = teardown, .timeout = 60);

Test(loopstream, events_are_server_sent_events)
{
    sse_client c;
    sse_start(&c, &ts);
    sse_wait(&c, 5, 10);
    sse_stop(&c);
    cr_assert_eq(c.status, 200);
    cr_assert(strcasestr(c.headers, "\r\nContent-Type: text/event-stream\r\n"), "%s", c.headers);
    cr_assert(strcasestr(c.headers, "\r\nCache-Control: no-cache\r\n"), "%s", c.headers);
    cr_assert(strcasestr(c.headers, "\r\nTransfer-Encoding: chunked\r\n"), "%s", c.headers);
    cr_assert(!strncmp(c.body, "retry: 1000\nid: ", 16), "%.80s", c.body);
    long long prev = -1;
    for (int i = 0; i < 5; i++) {
        long long id;
        json_t *d = sse_event(&c, i, &id);
        cr_assert_not_null(d, "event %d has no JSON data:\n%s", i, c.body);
        cr_assert_gt(id, prev, "ids increase: %lld after %lld", id, prev);
        prev = id;
        cr_assert_eq(json_integer_value(json_object_get(d, "seq")), id);
        const char *ints[] = {"lag_samples", "active_timers", "connections", "suspended",
                              "streams"};
        for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
            cr_assert(json_is_integer(json_object_get(d, ints[k])), "%s in event %d", ints[k], i);
        cr_assert_eq(json_integer_value(json_object_get(d, "streams")), 1);
        cr_assert_eq(json_integer_value(json_object_get(d, "active_timers")), 0,
                     "the stream's own ticker is not counted");
        cr_assert_geq(json_integer_value(json_object_get(d, "connections")), 1);
        cr_assert(json_number_value(json_object_get(d, "lag_ms")) >= 0);
        cr_assert(json_number_value(json_object_get(d, "t")) > 0);
        json_t *ex = json_object_get(d, "executor");
        cr_assert_eq(json_integer_value(json_object_get(ex, "workers")), 2);
        cr_assert_eq(json_integer_value(json_object_get(ex, "busy")), 0);
        cr_assert_eq(json_integer_value(json_object_get(ex, "queued")), 0);
        json_decref(d);
    }
    sse_free(&c);
}

Test(loopstream, about_ten_events_a_second_and_idle_in_between)
{
    sse_client c;
    sse_start(&c, &ts);
    sse_wait(&c, 2, 10);
    int n0 = sse_events(&c);
    double cpu0 = cpu_secs(), t0 = now_secs();
    usleep(2000000);
    int n = sse_events(&c) - n0;
    double cpu = cpu_secs() - cpu0, wall = now_secs() - t0;
    sse_stop(&c);
    /* 20 expected; a loaded machine delays ticks, a runaway one would flood */
    cr_assert(n >= 10 && n <= 30, "%d events in %.2f s", n, wall);
    /* suspended between events: a spinning loop would burn a whole core */
    cr_assert_lt(cpu, 0.25 * wall, "%.3f s of CPU in %.2f s of streaming", cpu, wall);
    long long id;
    json_t *a = sse_event(&c, n0, &id), *b = sse_event(&c, n0 + n - 1, &id);
    double span =
        json_number_value(json_object_get(b, "t")) - json_number_value(json_object_get(a, "t"));
    cr_assert(span / (n - 1) > 0.08 && span / (n - 1) < 0.25, "%.3f s between events",
              span / (n - 1));
    json_decref(a);
    json_decref(b);
    sse_free(&c);
}

Test(loopstream, shows_a_stall_and_a_busy_worker)
{
    sse_client c;
    sse_start(&c, &ts);
    sse_wait(&c, 2, 10);
    int before = sse_events(&c);
    http_res r;
    http_get(&ts, "/cpu/blocking?ms=300", &r);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
    sse_wait(&c, sse_events(&c) + 3, 10); /* the events taken after the stall */
    double lag = sse_max(&c, before, sse_events(&c), NULL, "lag_ms");
    cr_assert_geq(lag, 250, "the stall of a 300 ms blocking job shows as %.1f ms", lag);

    before = sse_events(&c);
    http_async job;
    http_get_async(&job, &ts, "/cpu/executor?ms=400");
    http_join(&job);
    cr_assert_eq(job.res.status, 200);
    http_res_free(&job.res);
    double busy = sse_max(&c, before, sse_events(&c), "executor", "busy");
    cr_assert_eq(busy, 1, "one busy worker during a 400 ms executor job");
    sse_stop(&c);
    sse_free(&c);
}

/* /loop's numbers, as the test server sees them. */
static long long loop_field(const char *name)
{
    http_res r;
    http_get(&ts, "/loop", &r);
    long long v = json_integer_value(json_object_get(r.json, name));
    http_res_free(&r);
    return v;
}

Test(loopstream, clients_that_leave_are_forgotten)
{
    wait_loop_state(&ts, "active_timers", 0, 10);
    sse_client a, b;
    sse_start(&a, &ts);
    sse_start(&b, &ts);
    sse_wait(&a, 3, 10);
    sse_wait(&b, 3, 10);
    /* both wait suspended between events, on one shared ticker */
    wait_loop_state(&ts, "suspended", 2, 10);
    cr_assert_eq(loop_field("active_timers"), 1, "one ticker for every stream");
    cr_assert_eq(sse_max(&b, sse_events(&b) - 1, sse_events(&b), NULL, "streams"), 2);

    sse_stop(&a); /* a hangs up: b goes on alone */
    wait_loop_state(&ts, "suspended", 1, 10);
    int nb = sse_events(&b);
    sse_wait(&b, nb + 3, 10);
    cr_assert_eq(sse_max(&b, sse_events(&b) - 1, sse_events(&b), NULL, "streams"), 1);
    cr_assert_eq(loop_field("active_timers"), 1);

    sse_stop(&b); /* the last one out: no stream, no ticker, no request left */
    wait_loop_state(&ts, "suspended", 0, 10);
    wait_loop_state(&ts, "active_timers", 0, 10);
    wait_loop_state(&ts, "requests", 1, 10); /* the /loop request itself */
    sse_free(&a);
    sse_free(&b);

    sse_client again; /* and a new stream starts from scratch */
    sse_start(&again, &ts);
    sse_wait(&again, 2, 10);
    cr_assert_eq(sse_max(&again, 0, 2, NULL, "streams"), 1);
    sse_stop(&again);
    sse_free(&again);
}

/* --- drain ---------------------------------------------------------------------- */

static const char END_EVENT[] = "event: end\ndata: {\"reason\":\"draining\"}\n\n";

static void long_grace(config *c)
{
    c->grace = 30;
}

Test(loopstream_drain, a_drain_ends_the_streams_at_once, .timeout = 60)
{
    ts_start(&ts, long_grace);
    sse_client c;
    sse_start(&c, &ts);
    sse_wait(&c, 2, 10);
    double t0 = now_secs();
    server_drain(ts.s);
    pthread_join(c.th, NULL); /* the stream ends by itself */
    double took = c.ended_at - t0;
    cr_assert_lt(took, 1.0, "the stream lasted %.2f s into a 30 s grace", took);
    cr_assert_eq(c.rc, CURLE_OK, "a clean end of the chunked body: %d", c.rc);
    cr_assert_geq(c.len, sizeof(END_EVENT) - 1);
    cr_assert_str_eq(c.body + c.len - (sizeof(END_EVENT) - 1), END_EVENT);
    cr_assert(ts_returned_within(&ts, 5.0), "the drain waited for the stream");
    cr_assert_lt(now_secs() - t0, 2.0, "drained in %.2f s", now_secs() - t0);
    server_free(ts.s);
    ts.s = NULL;
    sse_free(&c);
}

Test(loopstream, the_readiness_switch_ends_streams_and_refuses_new_ones)
{
    sse_client c;
    sse_start(&c, &ts);
    sse_wait(&c, 2, 10);
    server_set_draining(ts.s);
    pthread_join(c.th, NULL);
    cr_assert_eq(c.rc, CURLE_OK);
    cr_assert(strstr(c.body, END_EVENT), "%s", c.body);
    http_res r;
    http_get(&ts, "/loop/stream", &r);
    cr_assert_eq(r.status, 503, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "detail")), "draining");
    http_res_free(&r);
    wait_loop_state(&ts, "active_timers", 0, 10);
    sse_free(&c);
}

/* --- the page ------------------------------------------------------------------- */

Test(loopstream, the_page_is_one_self_contained_document)
{
    http_res r;
    http_get(&ts, "/ui", &r);
    cr_assert_eq(r.status, 200);
    char ct[64];
    cr_assert_eq(http_header(&r, "Content-Type", ct, sizeof(ct)), 0);
    cr_assert_str_eq(ct, "text/html; charset=utf-8");
    cr_assert_eq(strlen(r.body), r.body_len, "no NUL inside the page");
    cr_assert(!strncmp(r.body, "<!doctype html>", 15));
    /* the stylesheet and the script are inlined, and nothing points elsewhere */
    cr_assert_not_null(strstr(r.body, "<style>"));
    cr_assert_not_null(strstr(r.body, "<script>"));
    cr_assert_not_null(strstr(r.body, "new EventSource('/loop/stream')"));
    cr_assert_not_null(strstr(r.body, "connect-src 'self'"), "a CSP keeps it same-origin");
    const char *never[] = {"<script src", "rel=\"stylesheet\"", "src=\"http",
                           "href=\"http", "url(http",           "@import",
                           "//cdn"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        cr_assert_null(strstr(r.body, never[i]), "the page contains %s", never[i]);
    const char *p = r.body;
    int canvases = 0;
    while ((p = strstr(p, "<canvas"))) {
        canvases++;
        p++;
    }
    cr_assert_eq(canvases, 3, "lag, probe and executor charts");
    http_res_free(&r);

    http_get(&ts, "/", &r); /* the index links it */
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "ui")), "/ui");
    http_res_free(&r);
}
