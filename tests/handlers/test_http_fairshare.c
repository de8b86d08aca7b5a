/*
 * test_http_fairshare.c - one client cannot take the whole machine: the
 * per-client cap on CPU tasks (429 with Retry-After), the executor's reserve
 * for /cpu requests while tasks fill their share, and the admin listener
 * that answers probes while the main port is full of connections.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "listen.h"
#include "rawsock.h"

TestSuite(http_fairshare, .timeout = 120);

static const char LONG_CPU[] = "{\"kind\":\"cpu\",\"ms\":30000}";

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long post_task(const test_server *t, const char *body, char id[33], http_res *r)
{
    http_do(t, "POST", "/tasks", body, r);
    if (id) snprintf(id, 33, "%s", r->status == 202 ? str(r->json, "id") : "");
    return r->status;
}

static long post_status(const test_server *t, const char *body, char id[33])
{
    http_res r;
    long status = post_task(t, body, id, &r);
    http_res_free(&r);
    return status;
}

static void delete_task(const test_server *t, const char *id)
{
    char path[64];
    snprintf(path, sizeof(path), "/tasks/%s", id);
    http_res r; /* the admin token cancels any task */
    http_do_auth(t, "DELETE", path, NULL, TEST_ADMIN_TOKEN, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_res_free(&r);
}

/* --- the per-client cap --------------------------------------------------- */

static void cap_two(config *c)
{
    c->workers = 1;
    c->max_tasks_per_client = 2;
    c->task_share = 1;
}

Test(http_fairshare, a_client_over_its_cap_gets_429_with_retry_after)
{
    test_server ts;
    ts_start(&ts, cap_two);
    char a[33], b[33];
    cr_assert_eq(post_status(&ts, LONG_CPU, a), 202);
    cr_assert_eq(post_status(&ts, LONG_CPU, b), 202);
    http_res r;
    cr_assert_eq(post_task(&ts, LONG_CPU, NULL, &r), 429, "%ld %s", r.status, r.body);
    char ra[16];
    cr_assert_eq(http_header(&r, "Retry-After", ra, sizeof(ra)), 0);
    cr_assert(strstr(str(r.json, "detail"), "too many tasks from this client: 127.0.0.1 has 2"),
              "%s", r.body);
    http_res_free(&r);
    cr_assert_eq(post_status(&ts, "{\"kind\":\"io\",\"delay\":0.01}", NULL), 202,
                 "IO tasks hold no worker: not counted");
    http_get(&ts, "/metrics", &r);
    cr_assert(strstr(r.body, "iocpu_task_client_refused_total 1\n"), "%s", r.body);
    http_res_free(&r);
    /* the running one, cancelled: its share comes back once its worker is free */
    delete_task(&ts, a);
    double t0 = now_secs();
    char c[33];
    long got;
    while ((got = post_status(&ts, LONG_CPU, c)) == 429 && now_secs() - t0 < 10)
        usleep(20000);
    cr_assert_eq(got, 202, "the cancelled task's share never came back");
    cr_assert_eq(post_status(&ts, LONG_CPU, NULL), 429, "b and c hold the share now");
    ts_stop(&ts);
}

/* --- the executor's reserve ------------------------------------------------ */

static void half_for_tasks(config *c)
{
    c->workers = 2;
    c->queue = 8;
    c->task_share = 0.5;
    c->max_tasks_per_client = 0; /* one client may fill the tasks' whole share */
}

Test(http_fairshare, tasks_fill_their_share_and_cpu_requests_still_run)
{
    test_server ts;
    ts_start(&ts, half_for_tasks);
    int accepted = 0;
    long got = 0;
    for (int i = 0; i < 20 && (got = post_status(&ts, LONG_CPU, NULL)) == 202; i++)
        accepted++;
    cr_assert_eq(got, 503, "tasks were never refused");
    /* one worker and 4 of the 8 slots are theirs (the first may be running already) */
    cr_assert(accepted >= 4 && accepted <= 5, "tasks took %d", accepted);
    http_res r;
    http_get(&ts, "/cpu/executor?ms=5", &r);
    cr_assert_eq(r.status, 200, "/cpu/executor: %ld %s", r.status, r.body);
    cr_assert_lt(r.secs, 10.0, "it waited behind the tasks");
    http_res_free(&r);
    http_get(&ts, "/loop", &r);
    json_t *ex = json_object_get(r.json, "executor");
    cr_assert_leq(json_integer_value(json_object_get(ex, "busy")), 1, "%s", r.body);
    http_res_free(&r);
    ts_stop(&ts);
}

/* --- the admin listener ----------------------------------------------------- */

static uint16_t admin_port_wanted;

static void small_main_port(config *c)
{
    c->max_connections = 4;
    c->admin_port = admin_port_wanted;
}

static test_server admin_of(const test_server *ts)
{
    test_server a = *ts;
    a.port = server_admin_port(ts->s);
    cr_assert_eq(a.port, admin_port_wanted);
    return a;
}

static long admin_get(const test_server *adm, const char *path)
{
    http_res r;
    http_get(adm, path, &r);
    long status = r.status;
    if (status == 404) cr_assert_str_eq(str(r.json, "detail"), "Not Found", "%s", r.body);
    http_res_free(&r);
    return status;
}

Test(http_fairshare, the_admin_listener_serves_only_the_probes)
{
    test_server ts;
    admin_port_wanted = free_port();
    ts_start(&ts, small_main_port);
    test_server adm = admin_of(&ts);
    const char *served[] = {"/healthz", "/readyz", "/metrics", "/loop"};
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(admin_get(&adm, served[i]), 200, "%s", served[i]);
    const char *not_served[] = {"/",       "/tasks",        "/cpu/executor",
                                "/io/job", "/openapi.json", "/nope"};
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(admin_get(&adm, not_served[i]), 404, "%s", not_served[i]);
    http_res r;
    http_do(&adm, "POST", "/tasks", LONG_CPU, &r);
    cr_assert_eq(r.status, 404, "%ld %s", r.status, r.body);
    http_res_free(&r);
    http_get(&ts, "/tasks", &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "total")), 0, "no task was made");
    http_res_free(&r);
    ts_stop(&ts);
}

Test(http_fairshare, the_admin_listener_answers_while_the_main_port_is_full)
{
    test_server ts;
    admin_port_wanted = free_port();
    ts_start(&ts, small_main_port);
    test_server adm = admin_of(&ts);
    int fds[4];
    for (int i = 0; i < 4; i++) { /* --max-connections idle connections */
        fds[i] = raw_connect(ts.port);
        cr_assert_geq(fds[i], 0);
    }
    wait_loop_state(&adm, "connections", 4, 10);
    /* the main port takes no one more: a probe there gets no answer */
    static const char probe[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    raw_reply rr;
    raw_exchange(ts.port, probe, sizeof(probe) - 1, 1.0, &rr);
    cr_assert_neq(raw_status(&rr), 200, "the main port was not full");
    raw_reply_free(&rr);
    for (int i = 0; i < 5; i++) {
        http_res r;
        http_get(&adm, "/healthz", &r);
        cr_assert_eq(r.status, 200);
        cr_assert_lt(r.secs, 5.0);
        http_res_free(&r);
    }
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    ts_stop(&ts);
}

Test(http_fairshare, an_admin_port_in_use_is_refused_with_the_reason)
{
    char err[256];
    uint16_t port = free_port();
    int fd = listen_open("127.0.0.1", port, 0, 8, err, sizeof(err));
    cr_assert_geq(fd, 0, "%s", err);
    config c;
    config_defaults(&c);
    c.port = 0;
    c.workers = 1;
    c.admin_port = port;
    FILE *logf = tmpfile(); /* what server_new() says on stderr */
    cr_assert_not_null(logf);
    int log = fileno(logf);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(log, STDERR_FILENO);
    server *s = NULL;
    int rc = server_new(&s, &c, handlers_all());
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    cr_assert_eq(rc, -EADDRINUSE);
    cr_assert_null(s);
    char text[1024] = "";
    ssize_t n = pread(log, text, sizeof(text) - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    char want[128];
    snprintf(want, sizeof(want), "iocpu: cannot listen on 127.0.0.1:%u: Address already in use\n",
             (unsigned)port);
    cr_assert(strstr(text, want), "stderr: %s", text);
    fclose(logf);
    close(fd);
}

/* SIGTERM's drain closes the main port; the admin listener stays, and its
 * /readyz says 503 until the last request is done. */
Test(http_fairshare, the_admin_listener_reports_a_drain)
{
    test_server ts;
    admin_port_wanted = free_port();
    ts_start(&ts, small_main_port);
    test_server adm = admin_of(&ts);
    http_async sleeper;
    http_get_async(&sleeper, &ts, "/io/job?delay=2");
    wait_loop_state(&adm, "suspended", 1, 10);
    server_drain(ts.s);
    double t0 = now_secs();
    long got = 0;
    while (now_secs() - t0 < 5 && (got = admin_get(&adm, "/readyz")) != 503)
        usleep(10000);
    cr_assert_eq(got, 503, "/readyz on the admin port during the drain");
    cr_assert_eq(admin_get(&adm, "/healthz"), 200, "still alive while draining");
    http_join(&sleeper);
    cr_assert_eq(sleeper.res.status, 200, "the request in flight finished");
    http_res_free(&sleeper.res);
    cr_assert(ts_returned_within(&ts, 20), "the drain never ended");
    server_free(ts.s);
}
