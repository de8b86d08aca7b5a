/*
 * test_halfclose.c - a client that sends its request and then half-closes
 * (shutdown(SHUT_WR)). iocpu treats that FIN as the client leaving, as nginx
 * (499) and Go's net/http (context cancelled) do: a request that waits is
 * ended and counted 499, nothing is sent. What must not happen is a task
 * that nobody can find: a POST /tasks whose answer was lost has its id in
 * the log (docs/limits.md, "Half-closed connections").
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "rawsock.h"

TestSuite(halfclose, .timeout = 60);

static test_server ts;

static void two_loops(config *c)
{
    c->loops = 2;
}

/* Sends req, half-closes, and reads what comes back until the server closes. */
static void send_half_closed(const char *req, raw_reply *rep)
{
    int fd = raw_connect(ts.port);
    cr_assert_geq(fd, 0);
    cr_assert_eq(raw_send(fd, req, strlen(req)), 0);
    shutdown(fd, SHUT_WR);
    raw_read(fd, 5.0, NULL, 0, rep);
    close(fd);
}

Test(halfclose, a_waiting_request_ends_as_a_disconnect)
{
    ts_start(&ts, NULL);
    raw_reply rep;
    send_half_closed("GET /io/job?delay=0.5 HTTP/1.1\r\nHost: t\r\n\r\n", &rep);
    cr_assert(rep.closed, "the server kept the connection");
    cr_assert_eq(rep.len, 0, "a half-closed client got: %s", rep.data);
    cr_assert_lt(rep.secs, 0.4, "ended when the FIN came, not when the job did");
    raw_reply_free(&rep);
    usleep(100000);
    http_res m;
    cr_assert_eq(http_get(&ts, "/metrics", &m), 0);
    cr_assert(strstr(m.body, "iocpu_http_requests_total{method=\"GET\",route=\"/io/job\","
                             "code=\"499\"} 1"),
              "%s", m.body);
    http_res_free(&m);
    ts_stop(&ts);
}

/* Ids in text after `marker` ("/tasks/" in answers, "created /tasks/" in the log). */
static size_t collect_ids(const char *text, const char *marker, char ids[][40], size_t n,
                          size_t max)
{
    for (const char *p = text; p && (p = strstr(p, marker)) && n < max; p += strlen(marker)) {
        const char *id = p + strlen(marker);
        if (strspn(id, "0123456789abcdef") != 32) continue;
        memcpy(ids[n], id, 32);
        ids[n++][32] = '\0';
    }
    return n;
}

Test(halfclose, no_task_is_lost_when_its_answer_is)
{
    char logname[] = "/tmp/iocpu-halfclose-XXXXXX";
    int logfd = mkstemp(logname);
    cr_assert_geq(logfd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(logfd, 2); /* the server's log lines */
    ts_start(&ts, two_loops);
    enum { N = 24 };
    static char ids[2 * N][40];
    size_t found = 0;
    static const char req[] =
        "POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Content-Length: 25\r\n\r\n{\"kind\":\"io\",\"delay\":0.5}";
    for (int i = 0; i < N; i++) { /* SO_REUSEPORT spreads them over both loops */
        raw_reply rep;
        send_half_closed(req, &rep);
        found = collect_ids(rep.data, "/tasks/", ids, found, 2 * N);
        raw_reply_free(&rep);
    }
    usleep(300000);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char log[65536] = "";
    ssize_t got = pread(logfd, log, sizeof(log) - 1, 0);
    log[got > 0 ? got : 0] = '\0';
    close(logfd);
    unlink(logname);
    found = collect_ids(log, "created /tasks/", ids, found, 2 * N);
    http_res r;
    cr_assert_eq(http_get_admin(&ts, "/tasks?limit=100", &r), 0);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "total")), N, "%s", r.body);
    cr_assert_eq(found, (size_t)N, "tasks found in answers or the log: %zu of %d\n%s", found, N,
                 log);
    for (size_t i = 0; i < found; i++)
        cr_assert(strstr(r.body, ids[i]), "task %s is in no list", ids[i]);
    http_res_free(&r);
    ts_stop(&ts);
}
