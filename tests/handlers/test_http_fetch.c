/*
 * test_http_fetch.c - GET /io/fetch and /io/fetch/gather over real HTTP
 * against upstreams of the test's own on loopback (tests/lib/upstream.h):
 * each mode, the phases and Server-Timing, upstream down (502), timeouts
 * (504), a body over the cap (502), the concurrency cap (503), cancel on
 * disconnect (the upstream sees its connection closed), the 422s, and the
 * catalogue of SSRF tricks, each refused with 403 while the target it aimed
 * at counts no connection. Every packet stays on 127.0.0.0/8.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "upstream.h"

static test_server ts;
static char allow[256];
static long max_bytes = 1048576, max_inflight = 1024, io_threads = 40, io_queue = 4096;

static void edit(config *c)
{
    snprintf(c->upstream_allow, sizeof(c->upstream_allow), "%s", allow);
    c->fetch_max_bytes = max_bytes;
    c->fetch_max_inflight = max_inflight;
    c->io_threads = io_threads;
    c->io_queue = io_queue;
}

/* A server whose allow list is list ("" = the default: itself). */
static void start(const char *list)
{
    snprintf(allow, sizeof(allow), "%s", list);
    ts_start(&ts, edit);
}

static void teardown(void)
{
    ts_stop(&ts);
}

TestSuite(http_fetch, .fini = teardown, .timeout = 60);

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static const char *detail(const http_res *r)
{
    return json_string_value(json_object_get(r->json, "detail"));
}

/* GET /io/fetch?url=<url><extra> (url percent-encoded here). */
static void fetch(const char *url, const char *extra, http_res *r)
{
    char path[2048], enc[1024];
    size_t k = 0;
    for (const char *p = url; *p && k + 4 < sizeof(enc); p++) {
        if (*p == '?' || *p == '&' || *p == '=' || *p == '%' || *p == '#' || *p == ' ' ||
            *p == '+' || *p == ',')
            k += (size_t)snprintf(enc + k, sizeof(enc) - k, "%%%02X", (unsigned char)*p);
        else
            enc[k++] = *p;
    }
    enc[k] = '\0';
    snprintf(path, sizeof(path), "/io/fetch?url=%s%s", enc, extra ? extra : "");
    cr_assert_eq(http_get(&ts, path, r), 0);
}

Test(http_fetch, loop_mode_reports_status_bytes_and_phases)
{
    upstream up = {.body_len = 1234};
    upstream_start(&up, "127.0.0.1", 0, UP_RESPOND);
    char list[64], url[96];
    snprintf(list, sizeof(list), "127.0.0.1:%u", up.port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", up.port);
    start(list);
    http_res r;
    fetch(url, "&mode=loop", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(num(r.json, "status"), 200);
    cr_assert_eq(num(r.json, "bytes"), 1234);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "mode")), "loop");
    json_t *ph = json_object_get(r.json, "phases");
    cr_assert(json_is_number(json_object_get(ph, "dns")) &&
              json_is_number(json_object_get(ph, "connect")) &&
              json_is_number(json_object_get(ph, "first_byte")));
    char timing[512];
    cr_assert_eq(http_header(&r, "Server-Timing", timing, sizeof(timing)), 0);
    cr_assert(strstr(timing, "dns;dur=") && strstr(timing, "connect;dur=") &&
                  strstr(timing, "first_byte;dur="),
              "%s", timing);
    http_res_free(&r);
    cr_assert_eq(ts_metric(&ts, "iocpu_fetches_total", "mode=\"loop\",outcome=\"ok\""), 1);
    upstream_stop(&up);
}

/* The default allow list is the server itself: its own /io/job, by address
 * and by name. */
Test(http_fetch, default_allow_list_is_this_server)
{
    start("");
    char url[128];
    http_res r;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/io/job?delay=0.1", ts.port);
    fetch(url, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(num(r.json, "status"), 200);
    cr_assert_geq(num(r.json, "upstream_elapsed"), 0.09);
    http_res_free(&r);
    snprintf(url, sizeof(url), "http://localhost:%u/healthz", ts.port);
    fetch(url, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_res_free(&r);
    fetch("http://127.0.0.1:1/", NULL, &r); /* another port of the same address */
    cr_assert_eq(r.status, 403, "%s", r.body);
    http_res_free(&r);
}

/* mode=blocking holds the loop thread for the whole wait (a /healthz sent
 * meanwhile waits for it); mode=loop and mode=threadpool do not. Ratios,
 * wide margins. */
Test(http_fetch, blocking_mode_stalls_the_loop_and_the_others_do_not)
{
    upstream up = {.body_len = 10, .delay = 0.8};
    upstream_start(&up, "127.0.0.1", 0, UP_RESPOND);
    char list[64], url[96], path[256];
    snprintf(list, sizeof(list), "127.0.0.1:%u", up.port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", up.port);
    start(list);
    const char *modes[] = {"loop", "blocking", "threadpool"};
    double health[3];
    for (int m = 0; m < 3; m++) {
        http_async a;
        snprintf(path, sizeof(path), "/io/fetch?url=%s&mode=%s", url, modes[m]);
        http_get_async(&a, &ts, path);
        usleep(250000); /* the fetch is waiting on the upstream */
        http_res h;
        cr_assert_eq(http_get(&ts, "/healthz", &h), 0);
        health[m] = h.secs;
        http_res_free(&h);
        http_join(&a);
        cr_assert_eq(a.res.status, 200, "%s", a.res.body);
        double blocked = num(a.res.json, "blocked_loop_for");
        if (m != 1) cr_assert_eq(blocked, 0);
        if (m == 1) cr_assert_geq(blocked, 0.7);
        const char *ran_on = json_string_value(json_object_get(a.res.json, "ran_on"));
        cr_assert_str_eq(ran_on, m == 2 ? "io_thread" : "event_loop");
        if (m == 2) {
            const char *th = json_string_value(json_object_get(a.res.json, "thread"));
            cr_assert(th && !strncmp(th, "iocpu-io", 8), "%s", a.res.body);
            cr_assert(json_is_number(json_object_get(a.res.json, "queued_for")));
        }
        http_res_free(&a.res);
    }
    cr_assert_lt(health[0], 0.3, "loop mode: /healthz took %.3f s", health[0]);
    cr_assert_lt(health[2], 0.3, "threadpool mode: /healthz took %.3f s", health[2]);
    cr_assert_gt(health[1], 0.35, "blocking mode: /healthz took only %.3f s", health[1]);
    upstream_stop(&up);
}

Test(http_fetch, upstream_down_is_502)
{
    uint16_t closed = free_port();
    char list[64], url[96];
    snprintf(list, sizeof(list), "127.0.0.1:%u", closed);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", closed);
    start(list);
    const char *modes[] = {"&mode=loop", "&mode=blocking"};
    for (int m = 0; m < 2; m++) {
        http_res r;
        fetch(url, modes[m], &r);
        cr_assert_eq(r.status, 502, "%s", r.body);
        cr_assert(strstr(detail(&r), "upstream unreachable"), "%s", detail(&r));
        http_res_free(&r);
    }
    cr_assert_eq(ts_metric(&ts, "iocpu_fetches_total", "mode=\"blocking\",outcome=\"unreachable\""),
                 1);
}

Test(http_fetch, timeout_is_504)
{
    upstream up = {0};
    upstream_start(&up, "127.0.0.1", 0, UP_HANG);
    char list[64], url[96];
    snprintf(list, sizeof(list), "127.0.0.1:%u", up.port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", up.port);
    start(list);
    http_res r;
    fetch(url, "&timeout=0.3", &r);
    cr_assert_eq(r.status, 504, "%s", r.body);
    cr_assert(strstr(detail(&r), "timed out"), "%s", detail(&r));
    cr_assert_geq(r.secs, 0.29);
    cr_assert_lt(r.secs, 3.0);
    http_res_free(&r);
    upstream_stop(&up);
}

Test(http_fetch, body_over_the_cap_is_502)
{
    const enum upstream_mode modes[] = {UP_RESPOND, UP_UNSIZED}; /* a length, then none */
    max_bytes = 1000;
    for (int m = 0; m < 2; m++) {
        upstream up = {.body_len = 5000};
        upstream_start(&up, "127.0.0.1", 0, modes[m]);
        char list[64], url[96];
        snprintf(list, sizeof(list), "127.0.0.1:%u", up.port);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/", up.port);
        start(list);
        http_res r;
        fetch(url, NULL, &r);
        cr_assert_eq(r.status, 502, "%s", r.body);
        cr_assert(strstr(detail(&r), "--fetch-max-bytes"), "%s", detail(&r));
        http_res_free(&r);
        if (m == 0) ts_stop(&ts);
        upstream_stop(&up);
    }
    max_bytes = 1048576;
}

/* A client that hangs up cancels its fetches: the upstream sees each of
 * its connections closed, and nothing stays in flight. */
Test(http_fetch, client_disconnect_cancels_the_fetches)
{
    upstream up = {0};
    upstream_start(&up, "127.0.0.1", 0, UP_HANG);
    char list[64], url[96], path[512];
    snprintf(list, sizeof(list), "127.0.0.1:%u", up.port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", up.port);
    start(list);
    snprintf(path, sizeof(path), "/io/fetch?url=%s&timeout=30", url);
    cr_assert_eq(http_get_abandon(&ts, path, 400), 0);
    cr_assert_eq(atomic_load(&up.accepts), 1);
    cr_assert_eq(upstream_closes_within(&up, 1, 5), 1, "the upstream connection stayed open");
    snprintf(path, sizeof(path), "/io/fetch/gather?urls=%s,%s,%s&timeout=30", url, url, url);
    cr_assert_eq(http_get_abandon(&ts, path, 400), 0);
    cr_assert_eq(atomic_load(&up.accepts), 4);
    cr_assert_eq(upstream_closes_within(&up, 4, 5), 4, "gather's upstream connections stayed open");
    cr_assert_eq(ts_metric(&ts, "iocpu_fetches_total", "mode=\"loop\",outcome=\"cancelled\""), 4);
    cr_assert_eq(ts_metric(&ts, "iocpu_fetches_in_flight", ""), 0);
    upstream_stop(&up);
}

/* mode=threadpool: a client that leaves while its fetch runs on an IO
 * thread stops it (the upstream sees the close); with the one IO thread
 * busy and its queue full, the next is 503. */
Test(http_fetch, threadpool_cancel_and_full_queue)
{
    upstream up = {0};
    upstream_start(&up, "127.0.0.1", 0, UP_HANG);
    char list[64], url[96], path[256];
    snprintf(list, sizeof(list), "127.0.0.1:%u", up.port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", up.port);
    io_threads = 1;
    io_queue = 1;
    start(list);
    io_threads = 40;
    io_queue = 4096;
    snprintf(path, sizeof(path), "/io/fetch?url=%s&timeout=30&mode=threadpool", url);
    cr_assert_eq(http_get_abandon(&ts, path, 400), 0);
    cr_assert_eq(atomic_load(&up.accepts), 1);
    cr_assert_eq(upstream_closes_within(&up, 1, 5), 1, "the IO thread kept its connection");
    cr_assert_eq(ts_metric_becomes(&ts, "iocpu_fetches_total",
                                   "mode=\"threadpool\",outcome=\"cancelled\"", 1, 5),
                 1);
    cr_assert_eq(ts_metric(&ts, "iocpu_fetches_in_flight", ""), 0);
    http_async a[2];
    for (int i = 0; i < 2; i++) { /* one runs, one waits in the queue */
        http_get_async(&a[i], &ts, path);
        cr_assert_eq(ts_metric_becomes(&ts, "iocpu_fetches_in_flight", "", i + 1, 5), i + 1);
    }
    http_res r;
    fetch(url, "&mode=threadpool", &r);
    cr_assert_eq(r.status, 503, "%s", r.body);
    http_res_free(&r);
    upstream_stop(&up); /* the running one ends (502), then the queued one (502) */
    for (int i = 0; i < 2; i++) {
        http_join(&a[i]);
        cr_assert_eq(a[i].res.status, 502, "%s", a[i].res.body);
        http_res_free(&a[i].res);
    }
}

Test(http_fetch, concurrency_cap_is_503)
{
    upstream up = {0};
    upstream_start(&up, "127.0.0.1", 0, UP_HANG);
    char list[64], url[96], path[256];
    snprintf(list, sizeof(list), "127.0.0.1:%u", up.port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", up.port);
    max_inflight = 1;
    start(list);
    max_inflight = 1024;
    http_async a;
    snprintf(path, sizeof(path), "/io/fetch?url=%s&timeout=30", url);
    http_get_async(&a, &ts, path);
    cr_assert_eq(ts_metric_becomes(&ts, "iocpu_fetches_in_flight", "", 1, 5), 1);
    http_res r;
    fetch(url, NULL, &r);
    cr_assert_eq(r.status, 503, "%s", r.body);
    char ra[16];
    cr_assert_eq(http_header(&r, "Retry-After", ra, sizeof(ra)), 0);
    http_res_free(&r);
    upstream_stop(&up); /* closes the held connection: the first fetch ends, 502 */
    http_join(&a);
    cr_assert_eq(a.res.status, 502, "%s", a.res.body);
    http_res_free(&a.res);
}

/* Gather: results in request order, the finish order, the wall time of
 * the slowest, and a per-call timeout that fails only the call it cuts. */
Test(http_fetch, gather_waits_together)
{
    start("");
    char path[1024];
    snprintf(path, sizeof(path),
             "/io/fetch/gather?timeout=1.5&urls="
             "http://127.0.0.1:%u/io/job%%3Fdelay%%3D0.6,"
             "http://127.0.0.1:%u/io/job%%3Fdelay%%3D0.2,"
             "http://localhost:%u/io/job%%3Fdelay%%3D0.4,"
             "http://127.0.0.1:%u/io/job%%3Fdelay%%3D5",
             ts.port, ts.port, ts.port, ts.port);
    http_res r;
    cr_assert_eq(http_get(&ts, path, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *res = json_object_get(r.json, "results"),
           *order = json_object_get(r.json, "finish_order");
    cr_assert_eq(json_array_size(res), 4);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(num(json_array_get(res, (size_t)i), "status"), 200, "%s", r.body);
    json_t *err = json_object_get(json_array_get(res, 3), "error");
    cr_assert_eq(num(err, "status"), 504, "%s", r.body);
    const char *first = json_string_value(json_object_get(json_array_get(res, 0), "url"));
    cr_assert(first && strstr(first, "delay=0.6"), "%s", r.body);
    long want[] = {1, 2, 0, 3};
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(json_integer_value(json_array_get(order, i)), want[i], "%s", r.body);
    /* they waited together: about the timeout, not the sum of the waits */
    cr_assert_lt(num(r.json, "elapsed"), 0.8 * (0.6 + 0.2 + 0.4 + 1.5), "%s", r.body);
    cr_assert_geq(num(r.json, "elapsed"), 1.45);
    http_res_free(&r);
}

Test(http_fetch, bad_values_are_422)
{
    start("");
    const char *paths[] = {
        "/io/fetch",                                        /* url is required */
        "/io/fetch?url=nope",                               /* not an absolute URL */
        "/io/fetch?url=http://127.0.0.1:1/&mode=sometimes", /* no such mode */
        "/io/fetch?url=http://127.0.0.1:1/&mode=",          /* an empty mode */
        "/io/fetch?url=http://127.0.0.1:1/&timeout=0",      /* a timeout above 0 */
        "/io/fetch?url=http://127.0.0.1:1/&timeout=1e9",    /* at most --max-delay */
        "/io/fetch?url=http://127.0.0.1:99999/",            /* no such port */
        "/io/fetch/gather",                                 /* urls is required */
        "/io/fetch/gather?urls=http://127.0.0.1:1/,,",      /* an empty item */
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        http_res r;
        cr_assert_eq(http_get(&ts, paths[i], &r), 0);
        cr_assert_eq(r.status, 422, "%s: %ld %s", paths[i], r.status, r.body);
        cr_assert(json_is_array(json_object_get(r.json, "detail")), "%s", r.body);
        http_res_free(&r);
    }
}

/* Too many URLs for one gather: 422, at --max-list. */
Test(http_fetch, gather_list_bound)
{
    start("");
    char path[8192] = "/io/fetch/gather?urls=";
    for (int i = 0; i < 101; i++)
        strcat(path, i ? ",http://a.b:1/" : "http://a.b:1/");
    http_res r;
    cr_assert_eq(http_get(&ts, path, &r), 0);
    cr_assert_eq(r.status, 422, "%ld %s", r.status, r.body);
    http_res_free(&r);
}

/* url=U&n=N: N concurrent fetches of the one URL, in request order, waiting
 * together (about one wait, not N of them). */
Test(http_fetch, gather_n_fetches_one_url_n_times)
{
    start("");
    char path[256];
    snprintf(path, sizeof(path),
             "/io/fetch/gather?url=http://127.0.0.1:%u/io/job%%3Fdelay%%3D0.5&n=40&timeout=30",
             ts.port);
    http_res r;
    cr_assert_eq(http_get(&ts, path, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *res = json_object_get(r.json, "results"),
           *order = json_object_get(r.json, "finish_order");
    cr_assert_eq(json_array_size(res), 40, "%s", r.body);
    cr_assert_eq(json_array_size(order), 40, "%s", r.body);
    int seen[40] = {0};
    for (size_t i = 0; i < 40; i++) {
        json_t *one = json_array_get(res, i);
        cr_assert_eq(num(one, "status"), 200, "%s", r.body);
        const char *u = json_string_value(json_object_get(one, "url"));
        cr_assert(u && strstr(u, "/io/job?delay=0.5"), "%s", r.body);
        json_int_t k = json_integer_value(json_array_get(order, i));
        cr_assert(k >= 0 && k < 40 && !seen[k]++, "%s", r.body);
    }
    /* together: far less than the 20 s one after another would take */
    cr_assert_geq(num(r.json, "elapsed"), 0.45, "%s", r.body);
    cr_assert_lt(num(r.json, "elapsed"), 0.25 * 40 * 0.5, "%s", r.body);
    cr_assert_geq(num(r.json, "sum_of_elapsed"), 40 * 0.45, "%s", r.body);
    http_res_free(&r);
}

/* n's bounds (1..--fetch-max-inflight) and its pairing with url only. */
Test(http_fetch, gather_n_bad_values_are_422)
{
    max_inflight = 64;
    start("");
    const char *paths[] = {
        "/io/fetch/gather?url=http://127.0.0.1:1/&n=0",
        "/io/fetch/gather?url=http://127.0.0.1:1/&n=65", /* over --fetch-max-inflight */
        "/io/fetch/gather?url=http://127.0.0.1:1/&n=-3",
        "/io/fetch/gather?url=http://127.0.0.1:1/&n=two",
        "/io/fetch/gather?url=http://127.0.0.1:1/&n=",
        "/io/fetch/gather?urls=http://127.0.0.1:1/&n=2",                     /* n without url */
        "/io/fetch/gather?url=http://127.0.0.1:1/&urls=http://127.0.0.1:1/", /* both */
        "/io/fetch/gather?url=nope&n=2",
        "/io/fetch/gather?n=2",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        http_res r;
        cr_assert_eq(http_get(&ts, paths[i], &r), 0);
        cr_assert_eq(r.status, 422, "%s: %ld %s", paths[i], r.status, r.body);
        cr_assert(json_is_array(json_object_get(r.json, "detail")), "%s", r.body);
        http_res_free(&r);
    }
    /* n at the cap is accepted */
    char path[128];
    snprintf(path, sizeof(path), "/io/fetch/gather?url=http://127.0.0.1:%u/healthz&n=64", ts.port);
    http_res r;
    cr_assert_eq(http_get(&ts, path, &r), 0);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "results")), 64, "%s", r.body);
    http_res_free(&r);
}

/* A refused URL with n: 403, and the target sees no connection. */
Test(http_fetch, gather_n_refused_never_connects)
{
    upstream other = {.body_len = 2};
    upstream_start(&other, "127.0.0.2", 0, UP_RESPOND);
    start("");
    char path[256];
    snprintf(path, sizeof(path), "/io/fetch/gather?url=http://127.0.0.2:%u/&n=5", other.port);
    http_res r;
    cr_assert_eq(http_get(&ts, path, &r), 0);
    cr_assert_eq(r.status, 403, "%ld %s", r.status, r.body);
    http_res_free(&r);
    cr_assert_eq(atomic_load(&other.accepts), 0, "127.0.0.2 saw a connection");
    upstream_stop(&other);
}

/* fmt with {A}, {T} and {Q} replaced by the ports a, t and q. */
static void fill(char *out, size_t cap, const char *fmt, unsigned a, unsigned t, unsigned q)
{
    size_t k = 0;
    for (const char *p = fmt; *p && k + 6 < cap;) {
        if (p[0] == '{' && p[1] && p[2] == '}') {
            unsigned v = p[1] == 'A' ? a : p[1] == 'T' ? t : q;
            k += (size_t)snprintf(out + k, cap - k, "%u", v);
            p += 3;
        } else {
            out[k++] = *p++;
        }
    }
    out[k] = '\0';
}

/* The SSRF catalogue: every way of naming another host (127.0.0.2 stands in
 * for one), another port, another scheme, or smuggling one past a parser is
 * refused with 403 before any connection: the listeners they aim at count no
 * accept. */
Test(http_fetch, ssrf_catalogue_refused_and_never_connected)
{
    upstream ok = {.body_len = 2}, other = {.body_len = 2}, port = {.body_len = 2};
    upstream_start(&ok, "127.0.0.1", 0, UP_RESPOND);
    upstream_start(&other, "127.0.0.2", 0, UP_RESPOND); /* "another host" */
    upstream_start(&port, "127.0.0.1", 0, UP_RESPOND);  /* a port not on the list */
    char list[96];
    snprintf(list, sizeof(list), "127.0.0.1:%u,localhost:%u", ok.port, ok.port);
    start(list);
    unsigned a = ok.port, t = other.port, q = port.port;
    const char *fmts[] = {
        "http://127.0.0.2:{T}/",
        "http://0x7f000002:{T}/",
        "http://2130706434:{T}/",
        "http://127.2:{T}/",
        "http://0177.0.0.2:{T}/",
        "http://[::ffff:127.0.0.2]:{T}/",
        "http://[::ffff:7f00:2]:{T}/",
        "http://%31%32%37.0.0.2:{T}/",
        "http://127.0.0.1:{A}@127.0.0.2:{T}/",
        "http://user:pw@127.0.0.1:{A}/",
        "http://127.0.0.1:{Q}/",
        "http://localhost:{Q}/",
        "http://localhost.:{A}/",
        "http://127.0.0.1.:{A}/",
        "http://x.invalid:{A}/",
        "http://127.0.0.3:{A}/",
        "https://127.0.0.2:{T}/",
        "gopher://127.0.0.2:{T}/_GET",
        "dict://127.0.0.2:{T}/info",
        "ftp://127.0.0.2:{T}/",
        "file:///etc/passwd",
        "ldap://127.0.0.2:{T}/",
        "http://[::1%25lo]:{A}/",
    };
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        char url[256];
        fill(url, sizeof(url), fmts[i], a, t, q);
        http_res r;
        fetch(url, i % 2 ? "&mode=blocking" : NULL, &r);
        cr_assert_eq(r.status, 403, "%s: %ld %s", url, r.status, r.body);
        cr_assert(detail(&r) && *detail(&r), "%s", r.body);
        http_res_free(&r);
    }
    /* a gather with one such URL among allowed ones fetches nothing */
    char path[512];
    snprintf(path, sizeof(path), "/io/fetch/gather?urls=http://127.0.0.1:%u/,http://0x7f000002:%u/",
             a, t);
    http_res r;
    cr_assert_eq(http_get(&ts, path, &r), 0);
    cr_assert_eq(r.status, 403, "%s", r.body);
    http_res_free(&r);
    cr_assert_eq(atomic_load(&other.accepts), 0, "127.0.0.2 saw a connection");
    cr_assert_eq(atomic_load(&port.accepts), 0, "the unlisted port saw a connection");
    cr_assert_eq(atomic_load(&ok.accepts), 0, "the gather fetched before refusing");
    /* the allowed one is reachable: the refusals above were not a dead upstream */
    char url[96];
    snprintf(url, sizeof(url), "http://localhost:%u/", a);
    fetch(url, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_res_free(&r);
    upstream_stop(&ok);
    upstream_stop(&other);
    upstream_stop(&port);
}

/* A redirect is reported, not followed: a 302 to another host reaches
 * nobody. */
Test(http_fetch, redirect_is_not_followed)
{
    upstream other = {0}, redir = {0};
    upstream_start(&other, "127.0.0.2", 0, UP_RESPOND);
    char location[96];
    snprintf(location, sizeof(location), "http://127.0.0.2:%u/", other.port);
    redir.location = location;
    upstream_start(&redir, "127.0.0.1", 0, UP_REDIRECT);
    char list[64], url[96];
    snprintf(list, sizeof(list), "127.0.0.1:%u", redir.port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", redir.port);
    start(list);
    http_res r;
    fetch(url, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(num(r.json, "status"), 302, "%s", r.body);
    http_res_free(&r);
    cr_assert_eq(atomic_load(&other.accepts), 0, "the redirect was followed");
    upstream_stop(&redir);
    upstream_stop(&other);
}

/* The upstream gets the request's trace: same trace id, a new span whose
 * parent is the request's span (the span our answer's traceparent names),
 * one new span per fetch of a gather. */
Test(http_fetch, the_upstream_gets_a_child_of_the_requests_trace)
{
    upstream up = {.body_len = 3};
    upstream_start(&up, "127.0.0.1", 0, UP_RESPOND);
    char list[64], url[96], path[512], got[128], answered[128];
    snprintf(list, sizeof(list), "127.0.0.1:%u", up.port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", up.port);
    start(list);
    const char *trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    http_res r;
    snprintf(path, sizeof(path), "/io/fetch?url=http://127.0.0.1:%u/x&mode=loop", up.port);
    cr_assert_eq(http_do_hdr(&ts, NULL, path, NULL,
                             "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                             &r),
                 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(http_header(&r, "traceparent", answered, sizeof(answered)), 0);
    http_res_free(&r);
    cr_assert_eq(upstream_last_header(&up, "traceparent", got, sizeof(got)), 0,
                 "the upstream got no traceparent");
    cr_assert_eq(strlen(got), 55, "%s", got);
    cr_assert(!strncmp(got, "00-", 3) && !strncmp(got + 3, trace, 32), "another trace: %s", got);
    cr_assert(strncmp(got + 36, answered + 36, 16), "the fetch has its own span: %s", got);
    cr_assert(strncmp(got + 36, "00f067aa0ba902b7", 16), "not the caller's span: %s", got);
    cr_assert_str_eq(got + 53, "01", "the caller's flags: %s", got);
    /* without a traceparent the request starts a trace, and the fetch joins it */
    fetch(url, "&mode=threadpool", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(http_header(&r, "traceparent", answered, sizeof(answered)), 0);
    http_res_free(&r);
    cr_assert_eq(upstream_last_header(&up, "traceparent", got, sizeof(got)), 0);
    cr_assert(!strncmp(got, answered, 36), "the fetch %s, the answer %s", got, answered);
    upstream_stop(&up);
}
