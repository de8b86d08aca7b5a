/*
 * test_http_streams.c - streams whose clients stop reading are cut off
 * (http.c, streaming): by --stream-write-timeout once the client takes
 * nothing while bytes wait for it, and by --stream-buffer-bytes once a
 * stream holds that much for it. The server's own routes (/loop/stream,
 * /io/as_completed) and a route of a group made here (a stream the
 * handlers do not have: the mechanism belongs to every stream).
 *
 * The clients are raw sockets with a small SO_RCVBUF that never read, so
 * their receive windows close after a few KB. Timing bounds are generous
 * multiples of the timeouts (2 shared cores, parallel builds).
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "helpers.h"
#include "http.h"
#include "prom_check.h"
#include "rawsock.h"

TestSuite(http_streams, .timeout = 120);

#define NCLIENTS 50

/* A client that will not read: a 2 KB receive buffer, the request sent. */
static int lazy_client(uint16_t port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    int small = 2048;
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    cr_assert_eq(raw_send(fd, req, (size_t)n), 0);
    return fd;
}

/* Whether the server still holds fd's connection (it is still established). */
static int established(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    return ti.tcpi_state == TCP_ESTABLISHED;
}

static int count_established(const int *fds, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += established(fds[i]);
    return k;
}

static double metric(const test_server *t, const char *name, const char *labels)
{
    double v = ts_metric(t, name, labels);
    cr_assert_geq(v, 0, "%s{%s} missing", name, labels);
    return v;
}

/* Waits until the server holds n connections besides the one asking. */
static void wait_connections(const test_server *t, int n, double secs)
{
    double t0 = now_secs();
    while (metric(t, "iocpu_http_open_connections", "") != n + 1) {
        cr_assert_lt(now_secs() - t0, secs, "never %d open connections", n);
        usleep(20000);
    }
}

/* Reads what fd has (a client that keeps up); the bytes read. */
static size_t drain(int fd)
{
    char b[65536];
    size_t total = 0;
    ssize_t n;
    while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
        total += (size_t)n;
    return total;
}

typedef struct watch {
    double closed_after; /* seconds until no lazy client was established; -1: never */
    double max_buffered; /* the most iocpu_http_stream_buffer_bytes seen */
    size_t reader_bytes; /* what the reading client got */
} watch;

/* Samples the metrics every 100 ms, up to limit_s, until every lazy client's
 * connection is gone (and, with a reader, keeps reading it). */
static void watch_cut(const test_server *t, const int *fds, int n, int reader, double limit_s,
                      watch *w)
{
    double t0 = now_secs();
    memset(w, 0, sizeof(*w));
    w->closed_after = -1;
    while (now_secs() - t0 < limit_s) {
        double b = metric(t, "iocpu_http_stream_buffer_bytes", "");
        if (b > w->max_buffered) w->max_buffered = b;
        if (reader >= 0) w->reader_bytes += drain(reader);
        if (count_established(fds, n) == 0) {
            w->closed_after = now_secs() - t0;
            return;
        }
        usleep(100000);
    }
}

static void stall_config(config *c)
{
    c->stream_write_timeout = 1;
    c->conn_timeout = 3; /* as in the report: it never ended them */
}

Test(http_streams, loop_stream_clients_that_stop_reading_are_cut_off_by_the_write_timeout)
{
    test_server t;
    ts_start(&t, stall_config);
    int fds[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++)
        fds[i] = lazy_client(t.port, "/loop/stream");
    int reader = raw_connect(t.port);
    cr_assert_geq(reader, 0);
    const char *get = "GET /loop/stream HTTP/1.1\r\nHost: t\r\n\r\n";
    cr_assert_eq(raw_send(reader, get, strlen(get)), 0);
    wait_connections(&t, NCLIENTS + 1, 10);

    watch w;
    watch_cut(&t, fds, NCLIENTS, reader, 30, &w);
    cr_assert_geq(w.closed_after, 0, "%d of %d non-reading streams still open after 30 s",
                  count_established(fds, NCLIENTS), NCLIENTS);
    cr_assert_eq(metric(&t, "iocpu_http_streams_cut_total", "reason=\"stalled\""), NCLIENTS);
    cr_assert_eq(metric(&t, "iocpu_http_streams_cut_total", "reason=\"buffer\""), 0);
    cr_assert_leq(w.max_buffered, (double)NCLIENTS * (double)t.cfg.stream_buffer_bytes);

    usleep(3500000); /* longer than the write timeout again: the reader is not cut off */
    w.reader_bytes += drain(reader);
    cr_assert(established(reader), "a client that reads was cut off");
    cr_assert_gt(w.reader_bytes, 1000, "the reader got %zu bytes", w.reader_bytes);
    wait_connections(&t, 1, 10);
    cr_assert_eq(metric(&t, "iocpu_http_stream_buffer_bytes", ""), 0);
    for (int i = 0; i < NCLIENTS; i++)
        close(fds[i]);
    close(reader);
    ts_stop(&t);
}

/* --- a stream the handlers do not have: 4 KB every 2 ms, for good ---------- */

typedef struct flood {
    http_req *r;
    loop *l;
    timer t;
} flood;

static char CHUNK[4096];

static void flood_tick(timer *t)
{
    flood *f = t->data;
    http_stream_write(f->r, CHUNK, sizeof(CHUNK));
    if (!http_aborted(f->r)) loop_timer_start(f->l, &f->t, 2000000, flood_tick, f);
}

static void flood_free(void *p)
{
    flood *f = p;
    loop_timer_cancel(f->l, &f->t);
    free(f);
}

static void flood_get(http_req *r)
{
    flood *f = calloc(1, sizeof(*f));
    cr_assert_not_null(f);
    f->r = r;
    f->l = http_app(r)->loop;
    http_set_ctx(r, f, flood_free);
    http_defer(r);
    cr_assert_eq(http_stream_begin(r, 200, "application/octet-stream"), 0);
    loop_timer_start(f->l, &f->t, 0, flood_tick, f);
}

static const route FLOOD_ROUTES[] = {{"GET", "/flood", flood_get, "a stream that never ends"}};
static const http_group flood_group = {.name = "flood", .routes = FLOOD_ROUTES, .nroutes = 1};

static void *run(void *p)
{
    server_run(((test_server *)p)->s);
    return NULL;
}

static void flood_start(test_server *t, long cap)
{
    static const http_group *const v[] = {&ops_group, &flood_group};
    static const http_groups groups = {v, 2};
    memset(t, 0, sizeof(*t));
    config_defaults(&t->cfg);
    t->cfg.port = 0;
    t->cfg.workers = 1;
    t->cfg.stream_buffer_bytes = cap;
    t->cfg.stream_write_timeout = 3600; /* only the buffer cap may act */
    strcpy(t->cfg.allowed_hosts, "*");  /* the raw clients send a made-up Host */
    cr_assert_eq(server_new(&t->s, &t->cfg, &groups), 0);
    t->port = server_port(t->s);
    cr_assert_eq(pthread_create(&t->thread, NULL, run, t), 0);
}

Test(http_streams, a_stream_that_outruns_its_client_is_cut_off_at_the_buffer_cap)
{
    test_server t;
    flood_start(&t, 65536);
    int fds[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++)
        fds[i] = lazy_client(t.port, "/flood");
    watch w;
    watch_cut(&t, fds, NCLIENTS, -1, 60, &w);
    cr_log_info("flooded streams: cut after %.1f s, at most %.0f bytes held\n", w.closed_after,
                w.max_buffered);
    cr_assert_leq(w.max_buffered, (double)NCLIENTS * 65536,
                  "the stream buffers grew past the cap: %.0f bytes", w.max_buffered);
    cr_assert_geq(w.closed_after, 0, "%d of %d flooded streams still open after 60 s",
                  count_established(fds, NCLIENTS), NCLIENTS);
    cr_assert_eq(metric(&t, "iocpu_http_streams_cut_total", "reason=\"buffer\""), NCLIENTS);
    cr_assert_eq(metric(&t, "iocpu_http_streams_cut_total", "reason=\"stalled\""), 0);
    cr_assert_eq(metric(&t, "iocpu_http_stream_buffer_bytes", ""), 0);
    for (int i = 0; i < NCLIENTS; i++)
        close(fds[i]);
    ts_stop(&t);
}
