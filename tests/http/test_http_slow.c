#define _GNU_SOURCE
/*
 * test_http_slow.c - slow clients. --header-timeout: a client that trickles
 * its headers (or its body) a byte at a time is closed once the deadline
 * passes (a hundred at once too), while a normal client, a sleeper and idle
 * keep-alive connections are left alone. --max-body-buffer: slow uploads that hold the body budget
 * make the next body a JSON 503, other requests go on, and the budget comes
 * back when they end. Raw sockets: no HTTP library sends this slowly.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "rawsock.h"

#define TRICKLE_MS 300 /* one byte every TRICKLE_MS */

static test_server ts;

static void stop(void)
{
    if (ts.s) ts_stop(&ts);
}

TestSuite(slow, .fini = stop, .timeout = 60);

static void one_second_header_timeout(config *c)
{
    c->header_timeout = 1;
}

/* Waits until the server holds only the connection that asks, and this
 * process (server included) has no more fds than base. */
static void back_to(int base_fds)
{
    wait_loop_state(&ts, "connections", 1, 10.0);
    double t0 = now_secs();
    while (count_fds() > base_fds && now_secs() - t0 < 5.0)
        usleep(20000);
    cr_assert_leq(count_fds(), base_fds, "fds: %d, were %d", count_fds(), base_fds);
}

/* The baseline: one request served, its connection gone. */
static int baseline(void)
{
    http_res r;
    http_get(&ts, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
    wait_loop_state(&ts, "connections", 1, 10.0);
    return count_fds();
}

/* Sends data a byte every TRICKLE_MS until the server closes (or all is
 * sent); calls mid() once after about mid_s. Returns the seconds from the
 * first byte to the close, or -1 if the connection stayed open. */
static double trickle(int fd, const char *data, double mid_s, void (*mid)(void))
{
    double t0 = now_secs();
    for (size_t i = 0; data[i]; i++) {
        if (raw_send(fd, data + i, 1) < 0) return now_secs() - t0; /* reset by the server */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, TRICKLE_MS) > 0) {
            char c;
            ssize_t k = recv(fd, &c, 1, 0);
            cr_assert_leq(k, 0, "the server answered a half-sent request");
            return now_secs() - t0;
        }
        if (mid && now_secs() - t0 >= mid_s) {
            mid();
            mid = NULL;
        }
    }
    return -1;
}

static void healthz_at_once(void)
{
    http_res r;
    http_get(&ts, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_lt(r.secs, 1.0, "a normal client waited %.2f s", r.secs);
    http_res_free(&r);
}

/* "GET /healthz ...X-Slow: aaaa..." long enough to trickle for 20 s. */
static char *slow_headers(void)
{
    static char req[256];
    int n = snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    memset(req + n, 'a', 70);
    req[n + 70] = '\0';
    return req;
}

/* A valid POST /tasks body of exactly n bytes. */
static char *task_body(size_t n)
{
    const char *json = "{\"kind\":\"io\",\"delay\":0}";
    char *b = malloc(n + 1);
    memset(b, ' ', n);
    memcpy(b, json, strlen(json));
    b[n] = '\0';
    return b;
}

/* A metric's sample line from /metrics, e.g. "iocpu_x 1"; fails if absent. */
static void metric_is(const char *line)
{
    http_res r;
    http_get(&ts, "/metrics", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, line), "no '%s' in /metrics", line);
    http_res_free(&r);
}

Test(slow, trickled_headers_are_cut_at_the_header_timeout)
{
    ts_start(&ts, one_second_header_timeout); /* --conn-timeout stays 30 s */
    int base = baseline();
    http_async sleeper;
    http_get_async(&sleeper, &ts, "/io/job?delay=2");
    int fd = raw_connect(ts.port);
    cr_assert(fd >= 0);
    double secs = trickle(fd, slow_headers(), 0.5, healthz_at_once);
    cr_assert_geq(secs, 0.0, "a client trickling its headers was kept for 20 s");
    cr_assert_gt(secs, 0.9, "closed before the header timeout: %.2f s", secs);
    cr_assert_lt(secs, 1.0 + 2.5, "closed %.2f s after its first byte", secs);
    close(fd);
    http_join(&sleeper); /* its headers were in: the sleeper is not touched */
    cr_assert_eq(sleeper.res.status, 200, "%s", sleeper.res.body);
    cr_assert_geq(sleeper.res.secs, 2.0);
    cr_assert_not_null(strstr(sleeper.res.body, "done after 2.0s"), "%s", sleeper.res.body);
    http_res_free(&sleeper.res);
    metric_is("\niocpu_http_receive_timeouts_total 1\n");
    back_to(base);
}

Test(slow, a_trickled_body_is_cut_too_and_counted_408)
{
    ts_start(&ts, one_second_header_timeout);
    int base = baseline();
    int fd = raw_connect(ts.port);
    const char *head = "POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       "application/json\r\nContent-Length: 60\r\n\r\n";
    raw_send(fd, head, strlen(head));
    wait_loop_state(&ts, "body_buffer_bytes", 60, 5.0); /* taken at once, whole */
    char *body = task_body(60);
    double secs = trickle(fd, body, 0, NULL);
    free(body);
    cr_assert_geq(secs, 0.0, "a trickled body was kept for 18 s");
    cr_assert_gt(secs, 0.5);
    cr_assert_lt(secs, 1.0 + 2.5, "closed %.2f s into its body", secs);
    close(fd);
    wait_loop_state(&ts, "body_buffer_bytes", 0, 5.0);
    metric_is("iocpu_http_requests_total{method=\"POST\",route=\"/tasks\",code=\"408\"} 1\n");
    back_to(base);
}

#define MANY 100

/* Many at once: every one is cut one header timeout after its first byte. */
Test(slow, a_hundred_trickling_clients_are_all_cut_in_time)
{
    ts_start(&ts, one_second_header_timeout);
    int base = baseline();
    int fd[MANY];
    double first[MANY], closed_at[MANY];
    const char *req = slow_headers();
    for (int i = 0; i < MANY; i++) {
        fd[i] = raw_connect(ts.port);
        cr_assert(fd[i] >= 0, "connect %d", i);
        first[i] = now_secs();
        closed_at[i] = 0;
        raw_send(fd[i], req, 1);
    }
    int open = MANY;
    for (size_t k = 1; req[k] && open; k++) {
        double round = now_secs();
        while (open && now_secs() - round < TRICKLE_MS / 1000.0) {
            struct pollfd p[MANY];
            for (int i = 0; i < MANY; i++)
                p[i] = (struct pollfd){.fd = closed_at[i] ? -1 : fd[i], .events = POLLIN};
            if (poll(p, MANY, 20) <= 0) continue;
            for (int i = 0; i < MANY; i++) {
                if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                char c;
                cr_assert_leq(recv(fd[i], &c, 1, 0), 0, "client %d got an answer", i);
                closed_at[i] = now_secs();
                open--;
            }
        }
        for (int i = 0; i < MANY; i++)
            if (!closed_at[i] && raw_send(fd[i], req + k, 1) < 0) {
                closed_at[i] = now_secs();
                open--;
            }
    }
    healthz_at_once();
    for (int i = 0; i < MANY; i++) {
        double secs = closed_at[i] - first[i];
        cr_assert(closed_at[i], "client %d was kept while it trickled", i);
        cr_assert_gt(secs, 0.9, "client %d closed early: %.2f s", i, secs);
        cr_assert_lt(secs, 1.0 + 3.0, "client %d closed %.2f s after its first byte", i, secs);
        close(fd[i]);
    }
    metric_is("\niocpu_http_receive_timeouts_total 100\n");
    back_to(base);
}

/* A keep-alive connection, idle between requests, is --conn-timeout's. */
Test(slow, idle_keepalive_connections_outlive_the_header_timeout)
{
    ts_start(&ts, one_second_header_timeout);
    int used = raw_connect(ts.port), fresh = raw_connect(ts.port);
    const char *get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_reply rep;
    raw_send(used, get, strlen(get));
    raw_read(used, 5.0, "{\"status\":\"ok\"}", 1, &rep);
    cr_assert_eq(raw_status(&rep), 200, "%s", rep.data);
    raw_reply_free(&rep);
    usleep(2500 * 1000); /* 2.5 header timeouts, both idle */
    int fds[] = {used, fresh};
    for (int i = 0; i < 2; i++) {
        raw_send(fds[i], get, strlen(get));
        raw_read(fds[i], 5.0, "{\"status\":\"ok\"}", 1, &rep);
        cr_assert_eq(raw_status(&rep), 200, "connection %d: %s", i, rep.data);
        cr_assert(!rep.closed);
        raw_reply_free(&rep);
        close(fds[i]);
    }
    metric_is("\niocpu_http_receive_timeouts_total 0\n");
}

static void no_header_timeout(config *c)
{
    c->header_timeout = 0;
    c->conn_timeout = 1;
}

/* 0 turns it off: then only the idle timeout is left, which a trickle beats. */
Test(slow, header_timeout_0_is_off)
{
    ts_start(&ts, no_header_timeout);
    int fd = raw_connect(ts.port);
    char req[16];
    memcpy(req, slow_headers(), 8); /* 8 bytes: 2.4 s, past 2 idle timeouts */
    req[8] = '\0';
    cr_assert_lt(trickle(fd, req, 0, NULL), 0.0, "closed though the timeout is off");
    close(fd);
}

/* --- the body budget ------------------------------------------------------ */

#define HOLD 20000 /* bytes of each slow upload's body */

static void small_body_budget(config *c)
{
    c->max_body_buffer = 65536; /* three slow uploads of HOLD fit, a fourth does not */
    c->header_timeout = 30;
}

static void expect_busy(const char *data, const char *where)
{
    cr_assert_not_null(strstr(data, "HTTP/1.1 503 "), "%s: %s", where, data);
    cr_assert_not_null(strstr(data, "{\"detail\":\"request body buffer full\"}"), "%s: %s", where,
                       data);
    cr_assert_not_null(strcasestr(data, "\r\nRetry-After: 1\r\n"), "%s: %s", where, data);
    cr_assert_not_null(strcasestr(data, "\r\nContent-Type: application/json\r\n"), "%s", data);
}

Test(slow, slow_uploads_spend_the_body_budget_then_give_it_back)
{
    ts_start(&ts, small_body_budget);
    int base = baseline();
    char *body = task_body(HOLD);
    char head[128];
    int hl = snprintf(head, sizeof(head),
                      "POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nContent-Length: %d\r\n\r\n",
                      HOLD);
    int hold[3];
    for (int i = 0; i < 3; i++) { /* headers and the first 100 bytes, then nothing */
        hold[i] = raw_connect(ts.port);
        raw_send(hold[i], head, (size_t)hl);
        raw_send(hold[i], body, 100);
    }
    wait_loop_state(&ts, "body_buffer_bytes", 3 * HOLD, 5.0);

    /* a fourth declared body: refused before it is sent, and closed */
    raw_reply rep;
    raw_exchange(ts.port, head, (size_t)hl, 5.0, &rep);
    expect_busy(rep.data, "declared");
    cr_assert(rep.closed, "the unread body's connection stays open");
    raw_reply_free(&rep);
    /* a chunked one is refused once it ended: nothing of it reaches the handler */
    http_res r;
    char *chunked = task_body(10000);
    http_post_chunked(&ts, "/tasks", chunked, 10000, &r);
    cr_assert_eq(r.status, 503, "%ld %s", r.status, r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "detail")),
                     "request body buffer full");
    char ra[8];
    cr_assert_eq(http_header(&r, "Retry-After", ra, sizeof(ra)), 0);
    http_res_free(&r);
    free(chunked);
    /* what fits still goes, and requests without a body are not affected */
    http_do(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0}", &r);
    cr_assert_eq(r.status, 202, "a small body fits what is left: %ld %s", r.status, r.body);
    http_res_free(&r);
    healthz_at_once();
    wait_loop_state(&ts, "body_buffer_bytes", 3 * HOLD, 5.0);

    /* the slow uploads finish: each is served, and gives its bytes back */
    for (int i = 0; i < 3; i++) {
        raw_send(hold[i], body + 100, HOLD - 100);
        raw_read(hold[i], 10.0, "}", 1, &rep);
        cr_assert_eq(raw_status(&rep), 202, "upload %d: %s", i, rep.data);
        raw_reply_free(&rep);
        close(hold[i]);
    }
    wait_loop_state(&ts, "body_buffer_bytes", 0, 5.0);
    http_do(&ts, "POST", "/tasks", body, &r);
    cr_assert_eq(r.status, 202, "the budget is back: %ld %s", r.status, r.body);
    http_res_free(&r);
    free(body);
    metric_is("iocpu_http_requests_total{method=\"POST\",route=\"/tasks\",code=\"503\"} 2\n");
    metric_is("\niocpu_http_body_buffer_limit_bytes 65536\n");
    back_to(base);
}

static void loops_share(config *c)
{
    c->loops = 3;
    c->max_body_buffer = 100000; /* 33334 each, raised to 64 KiB: one body of any size fits */
}

Test(slow, each_loop_has_its_share_of_the_body_budget)
{
    ts_start(&ts, loops_share);
    metric_is("\niocpu_http_body_buffer_limit_bytes 196608\n");
    ts_stop(&ts);
    config c;
    config_defaults(&c);
    cr_assert_eq(c.max_body_buffer, 16 << 20);
    cr_assert_eq(c.header_timeout, 10);
}
