/*
 * test_redis_tasks.c - the task API on Redis Streams, shared by several
 * replicas: each test starts its own redis-server (Debian's) on a free
 * loopback port, in-process iocpu servers pointed at it, and, where a
 * replica must die, the real binary ($IOCPU_BIN) as a child process.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "owner.h"
#include "prom_check.h"
#include "rawsock.h"

/* --- a redis-server of our own ----------------------------------------------- */

typedef struct redis_proc {
    pid_t pid;
    int port;
    char dir[64];
} redis_proc;

/* 1 when something on 127.0.0.1:port answers PING with +PONG (or, with a
 * password required, with NOAUTH: it is up). */
static int redis_pong(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char pong[16] = "";
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
             write(fd, "PING\r\n", 6) == 6 && read(fd, pong, sizeof(pong) - 1) > 0 &&
             (!strncmp(pong, "+PONG", 5) || !strncmp(pong, "-NOAUTH", 7));
    close(fd);
    return ok;
}

/* Extra redis-server arguments for the next start (NULL-terminated). */
static const char *const *g_redis_extra;

/* Starts redis-server on r->port (picked when 0) with its data in r->dir
 * (made when empty), append-only so a restart keeps every task. */
static void redis_start(redis_proc *r)
{
    if (!r->port) r->port = free_port();
    if (!r->dir[0]) {
        strcpy(r->dir, "/tmp/iocpu-redis-XXXXXX");
        cr_assert_not_null(mkdtemp(r->dir));
    }
    char port[16];
    snprintf(port, sizeof(port), "%d", r->port);
    r->pid = fork();
    cr_assert(r->pid >= 0);
    if (r->pid == 0) {
        int devnull = open("/dev/null", 1);
        dup2(devnull, 1);
        const char *argv[32] = {
            "redis-server", "--port", port,     "--bind", "127.0.0.1",   "--dir", r->dir,
            "--appendonly", "yes",    "--save", "",       "--daemonize", "no"};
        for (int i = 0, k = 13; g_redis_extra && g_redis_extra[i] && k < 31; i++)
            argv[k++] = g_redis_extra[i];
        execvp("redis-server", (char **)argv);
        _exit(127);
    }
    for (int i = 0; i < 200 && !redis_pong(r->port); i++)
        usleep(25000);
    cr_assert(redis_pong(r->port), "redis-server did not start on port %d", r->port);
}

/* SIGTERM: redis flushes its append-only file and exits. */
static void redis_stop(redis_proc *r)
{
    if (r->pid <= 0) return;
    kill(r->pid, SIGTERM);
    waitpid(r->pid, NULL, 0);
    r->pid = 0;
}

static void redis_cleanup(redis_proc *r)
{
    redis_stop(r);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
    cr_assert_eq(system(cmd), 0);
}

static redis_proc rd;
static int rd_up(void)
{
    return rd.pid > 0;
}

/* --- replicas --------------------------------------------------------------- */

static char g_backend[64];
static const char *g_replica;
static long g_workers = 1, g_attempts = 3, g_max_tasks = 10000, g_loops = 1;
static double g_idle = 1, g_redis_timeout = 3;
static const char *g_password = ""; /* as --redis-password-file or IOCPU_REDIS_PASSWORD give it */

static void edit(config *c)
{
    snprintf(c->tasks_backend, sizeof(c->tasks_backend), "%s", g_backend);
    snprintf(c->replica_id, sizeof(c->replica_id), "%s", g_replica);
    c->workers = g_workers;
    c->loops = g_loops;
    c->task_attempts = g_attempts;
    c->max_tasks = g_max_tasks;
    c->task_claim_idle = g_idle;
    c->redis_timeout = g_redis_timeout;
    snprintf(c->redis_password, sizeof(c->redis_password), "%s", g_password);
}

static void wait_ready(const test_server *t, long want, double secs);

/* An in-process replica; waits until it is ready when Redis is up. */
static void replica(test_server *t, const char *name)
{
    g_replica = name;
    ts_start(t, edit);
    if (rd_up()) wait_ready(t, 200, 10);
}

/* Replicas a, b and c, ready. */
static void three_replicas(test_server s[3])
{
    replica(&s[0], "a");
    replica(&s[1], "b");
    replica(&s[2], "c");
}

static void use_redis(const redis_proc *r)
{
    snprintf(g_backend, sizeof(g_backend), "redis://127.0.0.1:%d", r->port);
}

/* Polls /readyz until it answers want (200 or 503), at most secs. */
static void wait_ready(const test_server *t, long want, double secs)
{
    double t0 = now_secs();
    long got = 0;
    while (now_secs() - t0 < secs) {
        http_res res;
        http_get(t, "/readyz", &res);
        got = res.status;
        http_res_free(&res);
        if (got == want) return;
        usleep(20000);
    }
    cr_assert_fail("/readyz stayed %ld (wanted %ld) for %.1f s", got, want, secs);
}

static char g_token[80]; /* the owner token of the task create() made last */

/* POST /tasks body -> the new id (asserts 202); its owner token in g_token. */
static void create(const test_server *t, const char *body, char *id)
{
    http_res res;
    http_do(t, "POST", "/tasks", body, &res);
    cr_assert_eq(res.status, 202, "POST /tasks %s: %ld %s", body, res.status, res.body);
    const char *s = json_string_value(json_object_get(res.json, "id"));
    const char *tok = json_string_value(json_object_get(res.json, "owner_token"));
    cr_assert_not_null(s);
    cr_assert_eq(strlen(s), 32);
    cr_assert(tok && strlen(tok) == 64, "%s", res.body);
    strcpy(id, s);
    strcpy(g_token, tok);
    char loc[80];
    cr_assert_eq(http_header(&res, "Location", loc, sizeof(loc)), 0);
    cr_assert(strstr(loc, id));
    http_res_free(&res);
}

/* GET /tasks/<id>[?wait=S] -> the task (caller frees), asserting 200. */
static json_t *get_task(const test_server *t, const char *id, double wait)
{
    char path[96];
    snprintf(path, sizeof(path), wait > 0 ? "/tasks/%s?wait=%g" : "/tasks/%s", id, wait);
    http_res res;
    http_get(t, path, &res);
    cr_assert_eq(res.status, 200, "GET %s: %ld %s", path, res.status, res.body);
    json_t *j = json_incref(res.json);
    http_res_free(&res);
    return j;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Waits until the task's status is want (polling every 20 ms), at most secs. */
static json_t *wait_status(const test_server *t, const char *id, const char *want, double secs)
{
    double t0 = now_secs();
    for (;;) {
        json_t *j = get_task(t, id, 0);
        if (!strcmp(str(j, "status"), want)) return j;
        cr_assert(now_secs() - t0 < secs, "task %s stayed %s (wanted %s)", id, str(j, "status"),
                  want);
        json_decref(j);
        usleep(20000);
    }
}

/* The value of a /metrics series (labels as written), checking the whole page. */
static double metric(const test_server *t, const char *name, const char *labels)
{
    return ts_metric(t, name, labels);
}

/* --- the real binary as a replica that can be killed -------------------------- */

typedef struct child {
    pid_t pid;
    test_server t; /* only .port is used, for the HTTP helpers */
} child;

static void child_start(child *c, const char *name, const char *extra)
{
    const char *bin = getenv("IOCPU_BIN");
    cr_assert_not_null(bin, "IOCPU_BIN is not set");
    memset(c, 0, sizeof(*c));
    c->t.port = (uint16_t)free_port();
    char port[16], idle[32];
    snprintf(port, sizeof(port), "%d", c->t.port);
    snprintf(idle, sizeof(idle), "%g", g_idle);
    c->pid = fork();
    cr_assert(c->pid >= 0);
    if (c->pid == 0) {
        execl(bin, bin, "--port", port, "--workers", "1", "--tasks-backend", g_backend,
              "--replica-id", name, "--task-claim-idle", idle, extra ? extra : NULL, NULL);
        _exit(127);
    }
    wait_ready(&c->t, 200, 10);
}

static int child_wait(child *c)
{
    int st = 0;
    waitpid(c->pid, &st, 0);
    c->pid = 0;
    return st;
}

/* --- tests ---------------------------------------------------------------------- */

static void setup(void)
{
    memset(&rd, 0, sizeof(rd));
    redis_start(&rd);
    use_redis(&rd);
    g_workers = 1;
    g_loops = 1;
    g_attempts = 3;
    g_max_tasks = 10000;
    g_idle = 1;
    g_redis_timeout = 3;
}

/* A child replica a test started, killed here too when an assertion ended
 * the test before it did. */
static pid_t g_child_pid;

static void teardown(void)
{
    if (g_child_pid > 0) {
        kill(g_child_pid, SIGKILL);
        waitpid(g_child_pid, NULL, 0);
        g_child_pid = 0;
    }
    redis_cleanup(&rd);
}

TestSuite(redis_tasks, .init = setup, .fini = teardown, .timeout = 120);

/* A's only worker is busy: its task runs on B's executor, and at once. */
Test(redis_tasks, busy_replica_leaves_the_job_to_another)
{
    test_server a, b;
    replica(&a, "a");
    replica(&b, "b");
    wait_ready(&a, 200, 5);
    wait_ready(&b, 200, 5);
    http_async blocker;
    http_get_async(&blocker, &a, "/cpu/executor?ms=3000");
    wait_loop_state(&a, "executor.busy", 1, 10);
    char id[40];
    double t0 = now_secs();
    create(&a, "{\"kind\":\"cpu\",\"n\":7,\"iterations\":1000}", id);
    json_t *j = get_task(&b, id, 20);
    double took = now_secs() - t0;
    cr_assert_str_eq(str(j, "status"), "done");
    cr_assert_eq(strncmp(str(j, "runner"), "b-", 2), 0, "ran on %s", str(j, "runner"));
    cr_assert_eq(json_integer_value(json_object_get(j, "result")), cpu_heavy_reference(7, 1000));
    cr_assert_eq(json_integer_value(json_object_get(j, "attempts")), 1);
    http_join(&blocker);
    cr_assert_eq(blocker.res.status, 200);
    /* it did not wait for A's 3 s job */
    cr_assert(took < blocker.res.secs, "task took %.2f s, A's job %.2f s", took, blocker.res.secs);
    json_decref(j);
    http_res_free(&blocker.res);
    ts_stop(&a);
    ts_stop(&b);
}

/* Created on A, awaited on C, cancelled from C while it runs on B. */
Test(redis_tasks, await_and_cancel_from_any_replica)
{
    test_server s[3];
    three_replicas(s);

    /* await: the waiter on C wakes when the task ends on another replica */
    char id[40];
    create(&s[0], "{\"kind\":\"io\",\"delay\":0.6}", id);
    double t0 = now_secs();
    json_t *j = get_task(&s[2], id, 20);
    double took = now_secs() - t0;
    cr_assert_str_eq(str(j, "status"), "done");
    cr_assert_str_eq(str(j, "result"), "task done after 0.6s");
    cr_assert(took > 0.3 && took < 10, "wait took %.2f s", took);
    json_decref(j);

    /* a wait that times out answers with the task still running */
    create(&s[0], "{\"kind\":\"cpu\",\"ms\":30000}", id);
    char token[80];
    strcpy(token, g_token);
    j = wait_status(&s[1], id, "running", 10);
    t0 = now_secs();
    json_t *w = get_task(&s[2], id, 0.5);
    took = now_secs() - t0;
    cr_assert_str_eq(str(w, "status"), "running");
    cr_assert(took >= 0.45 && took < 5, "wait=0.5 took %.2f s", took);
    json_decref(w);

    /* cancel from C: the runner's worker is free right after */
    const char *runner = str(j, "runner");
    int r = runner[0] == 'a' ? 0 : runner[0] == 'b' ? 1 : 2;
    wait_loop_state(&s[r], "executor.busy", 1, 5);
    http_res res;
    char path[80];
    snprintf(path, sizeof(path), "/tasks/%s", id);
    http_do(&s[2], "DELETE", path, NULL, &res);
    cr_assert_eq(res.status, 401, "no token: %s", res.body);
    http_res_free(&res);
    http_do_auth(&s[2], "DELETE", path, NULL, TEST_ADMIN_TOKEN "x", &res);
    cr_assert_eq(res.status, 403, "another token: %s", res.body);
    http_res_free(&res);
    http_do_auth(&s[2], "DELETE", path, NULL, token, &res);
    cr_assert_eq(res.status, 200, "%s", res.body);
    cr_assert_str_eq(str(res.json, "status"), "cancelled");
    http_res_free(&res);
    wait_loop_state(&s[r], "executor.busy", 0, 5);
    json_decref(j);
    j = get_task(&s[1], id, 0);
    cr_assert_str_eq(str(j, "status"), "cancelled");
    json_decref(j);
    http_do_auth(&s[1], "DELETE", path, NULL, token, &res);
    cr_assert_eq(res.status, 409);
    http_res_free(&res);
    http_do_auth(&s[1], "DELETE", "/tasks/0123456789abcdef0123456789abcdef", NULL, token, &res);
    cr_assert_eq(res.status, 404);
    http_res_free(&res);

    /* a queued task cancelled before any replica took it never runs */
    for (int i = 0; i < 3; i++) /* every worker busy */
        create(&s[i], "{\"kind\":\"cpu\",\"ms\":2000}", path);
    char queued[40];
    create(&s[0], "{\"kind\":\"cpu\",\"ms\":50}", queued);
    snprintf(path, sizeof(path), "/tasks/%s", queued);
    http_do_auth(&s[1], "DELETE", path, NULL, g_token, &res);
    cr_assert_eq(res.status, 200, "%s", res.body);
    cr_assert_str_eq(str(res.json, "status"), "cancelled");
    cr_assert_null(json_object_get(res.json, "started_at"));
    http_res_free(&res);

    /* GET /tasks on any replica lists what every replica created */
    http_get_admin(&s[1], "/tasks?limit=3", &res);
    cr_assert_eq(res.status, 200);
    cr_assert_eq(json_array_size(json_object_get(res.json, "tasks")), 3);
    cr_assert_str_eq(str(json_array_get(json_object_get(res.json, "tasks"), 0), "id"), queued);
    http_res_free(&res);
    for (int i = 0; i < 3; i++)
        ts_stop(&s[i]);
}

typedef struct waiter_arg {
    const test_server *t;
    char path[96];
    http_async a;
} waiter_arg;

/* Many waiters on three replicas: one "done" event wakes all of them. */
Test(redis_tasks, every_waiter_everywhere_is_woken)
{
    test_server s[3];
    three_replicas(s);
    char id[40];
    create(&s[0], "{\"kind\":\"io\",\"delay\":1}", id);
    enum { N = 12 };
    waiter_arg w[N];
    for (int i = 0; i < N; i++) {
        snprintf(w[i].path, sizeof(w[i].path), "/tasks/%s?wait=30", id);
        http_get_async(&w[i].a, &s[i % 3], w[i].path);
    }
    for (int i = 0; i < N; i++) {
        http_join(&w[i].a);
        cr_assert_eq(w[i].a.res.status, 200);
        cr_assert_str_eq(str(w[i].a.res.json, "status"), "done");
        cr_assert(w[i].a.res.secs < 15, "waiter %d took %.2f s", i, w[i].a.res.secs);
        http_res_free(&w[i].a.res);
    }
    for (int i = 0; i < 3; i++)
        ts_stop(&s[i]);
}

/* kill -9 the replica running a job: another one finishes it (attempt 2). */
Test(redis_tasks, killed_replica_job_is_finished_elsewhere)
{
    child p;
    child_start(&p, "p", NULL);
    char id[40];
    create(&p.t, "{\"kind\":\"cpu\",\"ms\":1500}", id);
    json_t *j = wait_status(&p.t, id, "running", 10);
    cr_assert_eq(strncmp(str(j, "runner"), "p-", 2), 0, "ran on %s", str(j, "runner"));
    json_decref(j);
    kill(p.pid, SIGKILL);
    child_wait(&p);
    test_server b;
    replica(&b, "b");
    j = get_task(&b, id, 30);
    cr_assert_str_eq(str(j, "status"), "done");
    cr_assert_eq(json_integer_value(json_object_get(j, "attempts")), 2);
    cr_assert_eq(strncmp(str(j, "runner"), "b-", 2), 0);
    cr_assert_gt(json_integer_value(json_object_get(j, "iterations")), 0);
    json_decref(j);
    cr_assert_eq(metric(&b, "iocpu_task_backend_jobs_total", "event=\"reclaimed\""), 1);
    cr_assert_eq(metric(&b, "iocpu_task_backend_jobs_total", "event=\"claimed\""), 0);
    cr_assert_eq(metric(&b, "iocpu_task_backend_up", ""), 1);
    cr_assert_eq(metric(&b, "iocpu_task_backend_local_jobs", ""), 0);
    ts_stop(&b);
}

/* A job whose replicas keep dying ends `failed` after --task-attempts runs. */
Test(redis_tasks, job_that_keeps_killing_replicas_fails)
{
    g_attempts = 2;
    char id[40];
    for (int run = 1; run <= 2; run++) {
        child p;
        child_start(&p, "p", "--task-attempts=2");
        if (run == 1) create(&p.t, "{\"kind\":\"cpu\",\"ms\":60000}", id);
        /* run 2 takes it over once it has been silent for claim-idle */
        double t0 = now_secs();
        for (;;) {
            json_t *j = get_task(&p.t, id, 0);
            int mine = !strcmp(str(j, "status"), "running") &&
                       json_integer_value(json_object_get(j, "attempts")) == run;
            json_decref(j);
            if (mine) break;
            cr_assert(now_secs() - t0 < 20, "attempt %d never started", run);
            usleep(50000);
        }
        kill(p.pid, SIGKILL);
        child_wait(&p);
    }
    test_server b;
    replica(&b, "b");
    json_t *j = wait_status(&b, id, "failed", 20);
    cr_assert(strstr(str(j, "error"), "gave up after 2 attempts"), "%s", str(j, "error"));
    cr_assert_eq(json_integer_value(json_object_get(j, "attempts")), 2);
    json_decref(j);
    ts_stop(&b);
}

/* SIGTERM: the replica stops claiming, finishes the job it runs, reports it,
 * and exits 0. */
Test(redis_tasks, drain_finishes_and_reports_running_jobs)
{
    child p;
    child_start(&p, "p", NULL);
    char id[40];
    create(&p.t, "{\"kind\":\"io\",\"delay\":1}", id);
    json_decref(wait_status(&p.t, id, "running", 10));
    kill(p.pid, SIGTERM);
    int st = child_wait(&p);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
    test_server b;
    replica(&b, "b");
    json_t *j = get_task(&b, id, 0);
    cr_assert_str_eq(str(j, "status"), "done");
    cr_assert_eq(json_integer_value(json_object_get(j, "attempts")), 1);
    json_decref(j);
    ts_stop(&b);
}

/* --- Redis down ------------------------------------------------------------------- */

static double cpu_secs(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* No Redis at all: not ready, tasks 503 + Retry-After, everything else
 * served, and no busy loop while it retries. */
Test(redis_tasks, without_redis_tasks_503_and_the_rest_works)
{
    redis_stop(&rd);
    test_server a;
    replica(&a, "a");
    wait_ready(&a, 503, 2);
    cr_assert_eq(metric(&a, "iocpu_task_backend_up", ""), 0);
    http_res res;
    http_do(&a, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":1}", &res);
    cr_assert_eq(res.status, 503);
    char ra[16];
    cr_assert_eq(http_header(&res, "Retry-After", ra, sizeof(ra)), 0);
    cr_assert_str_eq(str(res.json, "detail"), "task backend unavailable");
    http_res_free(&res);
    http_get(&a, "/tasks/0123456789abcdef0123456789abcdef", &res);
    cr_assert_eq(res.status, 503);
    http_res_free(&res);
    http_get(&a, "/io/job?delay=0.05", &res);
    cr_assert_eq(res.status, 200);
    http_res_free(&res);
    double c0 = cpu_secs(), t0 = now_secs();
    usleep(2000000);
    double cpu = cpu_secs() - c0, wall = now_secs() - t0;
    cr_assert(cpu < wall * 0.1, "%.3f s of CPU in %.2f s while Redis is down", cpu, wall);
    /* Redis comes up: ready again without a restart */
    redis_start(&rd);
    wait_ready(&a, 200, 15);
    char id[40];
    create(&a, "{\"kind\":\"io\",\"delay\":0.1}", id);
    json_t *j = get_task(&a, id, 10);
    cr_assert_str_eq(str(j, "status"), "done");
    json_decref(j);
    ts_stop(&a);
}

/* A Redis that stops answering (SIGSTOP: its connections stay open) turns
 * /tasks into 503 + Retry-After within --redis-timeout and /readyz 503;
 * once it answers again (SIGCONT) all is back, and the task created while
 * it was stopped is found. Before: every /tasks request waited as long as
 * Redis did, and /readyz said ready. */
Test(redis_tasks, stalled_redis_answers_503_within_the_timeout)
{
    g_redis_timeout = 0.5;
    test_server a;
    replica(&a, "a");
    char before[40];
    create(&a, "{\"kind\":\"io\",\"delay\":0.05}", before);
    cr_assert_eq(kill(rd.pid, SIGSTOP), 0);
    double t0 = now_secs();
    http_res res;
    http_do(&a, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0.05}", &res);
    double took = now_secs() - t0;
    cr_assert_eq(res.status, 503, "%ld %s", res.status, res.body);
    cr_assert_str_eq(str(res.json, "detail"), "task backend unavailable");
    char ra[16];
    cr_assert_eq(http_header(&res, "Retry-After", ra, sizeof(ra)), 0);
    http_res_free(&res);
    cr_assert(took >= 0.4 && took < 3.0, "answered after %.2f s (--redis-timeout 0.5)", took);
    t0 = now_secs();
    http_get(&a, "/tasks/0123456789abcdef0123456789abcdef", &res);
    cr_assert_eq(res.status, 503);
    http_res_free(&res);
    cr_assert_lt(now_secs() - t0, 3.0);
    wait_ready(&a, 503, 3);
    http_get(&a, "/io/job?delay=0.01", &res); /* the rest is not affected */
    cr_assert_eq(res.status, 200);
    http_res_free(&res);
    cr_assert_eq(kill(rd.pid, SIGCONT), 0);
    wait_ready(&a, 200, 5);
    json_t *j = get_task(&a, before, 5);
    cr_assert_str_eq(str(j, "status"), "done");
    json_decref(j);
    http_get_admin(&a, "/tasks?limit=10", &res); /* the one answered 503 was created once resumed */
    cr_assert_eq(json_integer_value(json_object_get(res.json, "total")), 2, "%s", res.body);
    http_res_free(&res);
    ts_stop(&a);
}

/* A Redis that wants a password (requirepass) and one with an ACL user:
 * reached with redis://:PASSWORD@... and redis://USER:PASSWORD@..., or
 * with the password from IOCPU_REDIS_PASSWORD; a wrong one is not ready,
 * and no password shows in /metrics or the answers. */
Test(redis_tasks, redis_with_a_password_and_an_acl_user)
{
    static const char *const extra[] = {"--requirepass", "s3cret%@x", "--user", "alice", "on",
                                        ">w0nder",       "~*",        "&*",     "+@all", NULL};
    redis_cleanup(&rd);
    memset(&rd, 0, sizeof(rd));
    g_redis_extra = extra;
    redis_start(&rd);
    g_redis_extra = NULL;
    for (int i = 0; i < 3; i++) {
        if (i == 0)
            snprintf(g_backend, sizeof(g_backend), "redis://:s3cret%%25%%40x@127.0.0.1:%d",
                     rd.port);
        else if (i == 1)
            snprintf(g_backend, sizeof(g_backend), "redis://alice:w0nder@127.0.0.1:%d/1", rd.port);
        else /* the URL's password, if any, gives way to the file's or the environment's */
            snprintf(g_backend, sizeof(g_backend), "redis://alice:old@127.0.0.1:%d", rd.port);
        g_password = i == 2 ? "w0nder" : "";
        test_server a;
        replica(&a, "a"); /* waits for /readyz 200 */
        char id[40];
        create(&a, "{\"kind\":\"io\",\"delay\":0.05}", id);
        json_t *j = get_task(&a, id, 5);
        cr_assert_str_eq(str(j, "status"), "done");
        json_decref(j);
        http_res m;
        http_get(&a, "/metrics", &m);
        cr_assert_null(strstr(m.body, "w0nder"));
        cr_assert_null(strstr(m.body, "s3cret"));
        http_res_free(&m);
        ts_stop(&a);
    }
    g_password = "";
    snprintf(g_backend, sizeof(g_backend), "redis://alice:wrong@127.0.0.1:%d", rd.port);
    test_server b;
    g_replica = "b";
    ts_start(&b, edit);
    wait_ready(&b, 503, 3); /* WRONGPASS: not ready, retried with backoff */
    http_res res;
    http_do(&b, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0.05}", &res);
    cr_assert_eq(res.status, 503);
    cr_assert_null(strstr(res.body, "wrong"));
    http_res_free(&res);
    ts_stop(&b);
}

/* Runs redis-cli against rd with args (a shell-safe string); asserts success. */
static void redis_cli(const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d %s >/dev/null", rd.port, args);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* Everything read back from Redis is checked as strictly as a request: a
 * task whose record was changed by someone else (2^64 iterations, a NaN or
 * negative delay, ms past --max-ms, an unknown kind) is marked failed with
 * the reason and never run, and the queue keeps serving. Before: 2^64-1
 * iterations ran (shown as -1), ms 999999999 passed the cap, delay nan
 * stayed "running" for ever, delay -5 was "done after -5.0s". */
Test(redis_tasks, garbage_read_back_from_redis_fails_the_task)
{
    static const struct {
        const char *stream, *fields, *why;
    } cases[] = {
        {"cpu", "kind cpu n 3 iterations 99999999999999999999999", "invalid iterations"},
        {"cpu", "kind cpu n 3 ms 999999999", "invalid ms"},
        {"cpu", "kind cpu n x iterations 10", "invalid n"},
        {"io", "kind io delay nan", "invalid delay"},
        {"io", "kind io delay -5", "invalid delay"},
        {"io", "kind sleepy delay 1", "invalid kind"},
    };
    g_workers = 2;
    test_server a;
    replica(&a, "a");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char id[40], args[400];
        snprintf(id, sizeof(id), "%032zx", i + 0xabc0);
        snprintf(args, sizeof(args),
                 "HSET iocpu:task:%s entry 0-0 attempts 0 status queued "
                 "created_at 1 %s",
                 id, cases[i].fields);
        redis_cli(args);
        snprintf(args, sizeof(args), "ZADD iocpu:tasks 1 %s", id);
        redis_cli(args);
        json_t *t = get_task(&a, id, 0); /* shown failed at once: the record is invalid */
        cr_assert_str_eq(str(t, "status"), "failed", "%s", cases[i].fields);
        cr_assert(strstr(str(t, "error"), cases[i].why), "%s: %s", cases[i].fields,
                  str(t, "error"));
        json_decref(t);
        snprintf(args, sizeof(args), "XADD iocpu:jobs:%s '*' id %s", cases[i].stream, id);
        redis_cli(args); /* a replica claims it, START returns it, it is not run */
        json_t *f = wait_status(&a, id, "failed", 10);
        json_decref(f);
    }
    char id[40]; /* and the queue keeps serving */
    create(&a, "{\"kind\":\"cpu\",\"n\":3,\"iterations\":1000}", id);
    json_t *t = get_task(&a, id, 10);
    cr_assert_str_eq(str(t, "status"), "done");
    json_decref(t);
    ts_stop(&a);
}

/* One line of redis-cli's output for args (a shell-safe string), into out. */
static void redis_cli_out(const char *args, char *out, size_t len)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d %s", rd.port, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    out[0] = '\0';
    if (fgets(out, (int)len, p)) out[strcspn(out, "\n")] = '\0';
    cr_assert_eq(pclose(p), 0, "%s", cmd);
}

/* DELETE /tasks/<id> with token: the status, and the detail into detail. */
static long delete_as(const test_server *t, const char *id, const char *token, char *detail)
{
    char path[80];
    snprintf(path, sizeof(path), "/tasks/%s", id);
    http_res res;
    http_do_auth(t, "DELETE", path, NULL, token, &res);
    const char *d = res.json ? str(res.json, "detail") : NULL;
    snprintf(detail, 160, "%s", d ? d : "");
    long st = res.status;
    http_res_free(&res);
    return st;
}

/* Redis keeps the owner token's SHA-256, never the token; an owner field
 * that is not a hash (garbage, or none) is refused: only the admin cancels. */
Test(redis_tasks, the_owner_is_kept_hashed_and_a_bad_hash_is_refused)
{
    test_server a;
    replica(&a, "a");
    char id[40], token[80], got[200], args[200], detail[160];
    create(&a, "{\"kind\":\"io\",\"delay\":30}", id);
    strcpy(token, g_token);
    uint8_t h[TASK_OWNER_HASH_BYTES];
    char want[TASK_OWNER_HASH_HEX + 1];
    task_owner_hash(token, strlen(token), h);
    task_owner_hex(h, want);
    snprintf(args, sizeof(args), "HGET iocpu:task:%s owner", id);
    redis_cli_out(args, got, sizeof(got));
    cr_assert_str_eq(got, want, "the hash, not the token");
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d HGETALL iocpu:task:%s | grep -c %s", rd.port, id,
             token);
    cr_assert_neq(system(cmd), 0, "the token itself is nowhere in the record");

    const char *bad[][2] = {{"HSET", " owner garbage"},
                            {"HSET",
                             " owner " /* upper case: not how it was written */
                             "AB0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCD"},
                            {"HDEL", " owner"}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(args, sizeof(args), "%s iocpu:task:%s%s", bad[i][0], id, bad[i][1]);
        redis_cli(args);
        cr_assert_eq(delete_as(&a, id, token, detail), 403, "%s", args);
        cr_assert(strstr(detail, "no valid owner"), "%s", detail);
    }
    json_t *t = get_task(&a, id, 0);
    cr_assert_str_eq(str(t, "status"), "running", "a refused DELETE cancels nothing");
    json_decref(t);
    snprintf(args, sizeof(args), "HSET iocpu:task:%s owner %s", id, want);
    redis_cli(args);
    char other[40];
    create(&a, "{\"kind\":\"io\",\"delay\":30}", other);
    cr_assert_eq(delete_as(&a, id, g_token, detail), 403, "another task's token");
    cr_assert_str_eq(detail, "the token does not own this task");
    cr_assert_eq(delete_as(&a, id, token, detail), 200, "its own: %s", detail);
    cr_assert_eq(delete_as(&a, other, TEST_ADMIN_TOKEN, detail), 200, "the admin: %s", detail);
    cr_assert_eq(delete_as(&a, other, NULL, detail), 401);
    ts_stop(&a);
}

typedef struct loader {
    const test_server *t;
    volatile int stop;
    int accepted, refused, other;
    char ids[400][40];
    pthread_t th;
} loader;

static void *load_main(void *p)
{
    loader *l = p;
    while (!l->stop && l->accepted < 400) {
        http_res res;
        http_do(l->t, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0.2}", &res);
        if (res.status == 202)
            strcpy(l->ids[l->accepted++], str(res.json, "id"));
        else if (res.status == 503)
            l->refused++;
        else
            l->other++;
        http_res_free(&res);
        usleep(10000);
    }
    return NULL;
}

/* Redis stopped and restarted under load: 503s and not-ready meanwhile,
 * then every accepted task ends done, each run exactly once. */
Test(redis_tasks, redis_restart_under_load_loses_nothing)
{
    test_server a, b;
    g_workers = 2;
    g_idle = 5; /* longer than the outage: nothing is taken over */
    replica(&a, "a");
    replica(&b, "b");
    wait_ready(&a, 200, 5);
    wait_ready(&b, 200, 5);
    loader l = {.t = &a};
    pthread_create(&l.th, NULL, load_main, &l);
    usleep(500000);
    redis_stop(&rd);
    wait_ready(&a, 503, 5);
    wait_ready(&b, 503, 5);
    http_res res;
    http_get(&b, "/healthz", &res);
    cr_assert_eq(res.status, 200);
    http_res_free(&res);
    usleep(500000);
    redis_start(&rd); /* same port, same data */
    wait_ready(&a, 200, 15);
    wait_ready(&b, 200, 15);
    usleep(500000);
    l.stop = 1;
    pthread_join(l.th, NULL);
    cr_assert_gt(l.accepted, 10);
    cr_assert_gt(l.refused, 0, "no POST was refused while Redis was down");
    cr_assert_eq(l.other, 0);
    for (int i = 0; i < l.accepted; i++) {
        json_t *j = get_task(i % 2 ? &a : &b, l.ids[i], 20);
        cr_assert_str_eq(str(j, "status"), "done", "task %d of %d: %s", i, l.accepted,
                         str(j, "status"));
        cr_assert_eq(json_integer_value(json_object_get(j, "attempts")), 1, "task %d ran twice", i);
        json_decref(j);
    }
    ts_stop(&a);
    ts_stop(&b);
}

/* --- a Redis that is too old ---------------------------------------------------- */

/* A fake Redis 5.0 on a thread: answers INFO, SUBSCRIBE and XGROUP the way
 * Redis does and ignores everything else, one thread per connection. */
typedef struct fake_redis {
    int lfd, port;
    pthread_t th;
} fake_redis;

static const char *g_fake_version;

static void *fake_conn(void *p)
{
    int fd = (int)(intptr_t)p;
    char req[4096], info[128], reply[256];
    ssize_t n;
    snprintf(info, sizeof(info), "# Server\r\nredis_version:%s\r\nredis_mode:standalone\r\n",
             g_fake_version);
    while ((n = read(fd, req, sizeof(req) - 1)) > 0) {
        req[n] = '\0';
        if (strstr(req, "\r\nINFO\r\n")) {
            int len = snprintf(reply, sizeof(reply), "$%zu\r\n%s\r\n", strlen(info), info);
            if (write(fd, reply, (size_t)len) != len) break;
        }
        if (strstr(req, "\r\nSUBSCRIBE\r\n")) {
            static const char sub[] = "*3\r\n$9\r\nsubscribe\r\n$12\r\niocpu:events\r\n:1\r\n";
            if (write(fd, sub, strlen(sub)) < 0) break;
        }
        if (strstr(req, "\r\nXGROUP\r\n") && write(fd, "+OK\r\n", 5) < 0) break;
    }
    close(fd);
    return NULL;
}

static void *fake_accept(void *p)
{
    fake_redis *f = p;
    int fd;
    while ((fd = accept(f->lfd, NULL, NULL)) >= 0) {
        pthread_t th;
        pthread_create(&th, NULL, fake_conn, (void *)(intptr_t)fd);
        pthread_detach(th);
    }
    return NULL;
}

static void old_or_new(const char *version, long want)
{
    g_fake_version = version;
    fake_redis f;
    f.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    cr_assert(bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    cr_assert(listen(f.lfd, 16) == 0);
    cr_assert(getsockname(f.lfd, (struct sockaddr *)&sa, &len) == 0);
    f.port = ntohs(sa.sin_port);
    pthread_create(&f.th, NULL, fake_accept, &f);
    snprintf(g_backend, sizeof(g_backend), "redis://127.0.0.1:%d", f.port);
    redis_stop(&rd);
    test_server a;
    replica(&a, "a");
    if (want == 200) {
        wait_ready(&a, 200, 10); /* the fake is enough for readiness... */
    } else {
        usleep(500000); /* ...so here only the version keeps it unready */
        wait_ready(&a, 503, 1);
        http_res res;
        http_do(&a, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":1}", &res);
        cr_assert_eq(res.status, 503);
        http_res_free(&res);
    }
    ts_stop(&a);
    shutdown(f.lfd, SHUT_RDWR);
    close(f.lfd);
    pthread_join(f.th, NULL);
}

Test(redis_tasks, redis_older_than_6_2_is_not_ready)
{
    old_or_new("6.2.0", 200);
    old_or_new("6.0.16", 503);
    old_or_new("5.0.7", 503);
}

/* A waiter across a Redis restart: it keeps waiting, and the task that ended
 * while Redis was away (reported when it came back) wakes it. */
Test(redis_tasks, waiter_survives_a_redis_restart)
{
    test_server a, b;
    g_idle = 5; /* longer than the outage: nothing is taken over */
    replica(&a, "a");
    replica(&b, "b");
    char id[40], path[96];
    create(&a, "{\"kind\":\"io\",\"delay\":1.5}", id);
    snprintf(path, sizeof(path), "/tasks/%s?wait=30", id);
    http_async w;
    http_get_async(&w, &b, path);
    usleep(300000);
    redis_stop(&rd);
    usleep(700000);
    redis_start(&rd);
    http_join(&w);
    cr_assert_eq(w.res.status, 200, "%s", w.res.body);
    cr_assert_str_eq(str(w.res.json, "status"), "done");
    cr_assert_eq(json_integer_value(json_object_get(w.res.json, "attempts")), 1);
    cr_assert(w.res.secs < 20, "the waiter took %.2f s", w.res.secs);
    http_res_free(&w.res);
    ts_stop(&a);
    ts_stop(&b);
}

/* --max-task-queue-per-client with Redis: each replica counts what a client
 * created through it, until the task ends anywhere ("done" event). */
static void cap_two(config *c)
{
    edit(c);
    c->max_tasks_per_client = 2;
}

Test(redis_tasks, a_client_over_its_cap_gets_429_per_replica)
{
    test_server a, b;
    g_replica = "a";
    ts_start(&a, cap_two);
    wait_ready(&a, 200, 10);
    g_replica = "b";
    ts_start(&b, cap_two);
    wait_ready(&b, 200, 10);
    char x[40], y[40], z[40];
    create(&a, "{\"kind\":\"cpu\",\"ms\":30000}", x);
    create(&a, "{\"kind\":\"cpu\",\"ms\":30000}", y);
    http_res res;
    http_do(&a, "POST", "/tasks", "{\"kind\":\"cpu\",\"ms\":30000}", &res);
    cr_assert_eq(res.status, 429, "%ld %s", res.status, res.body);
    char ra[16];
    cr_assert_eq(http_header(&res, "Retry-After", ra, sizeof(ra)), 0);
    cr_assert(strstr(res.body, "too many tasks from this client"), "%s", res.body);
    http_res_free(&res);
    cr_assert_eq(metric(&a, "iocpu_task_client_refused_total", ""), 1);
    create(&a, "{\"kind\":\"io\",\"delay\":0.01}", z); /* IO tasks are not counted */
    create(&b, "{\"kind\":\"cpu\",\"ms\":10}", z);     /* B counts its own */
    /* cancelled from B: A hears "done" and gives the share back */
    char path[64];
    snprintf(path, sizeof(path), "/tasks/%s", x);
    http_do_auth(&b, "DELETE", path, NULL, TEST_ADMIN_TOKEN, &res);
    cr_assert_eq(res.status, 200, "%s", res.body);
    http_res_free(&res);
    double t0 = now_secs();
    long got = 0;
    while (now_secs() - t0 < 10) {
        http_do(&a, "POST", "/tasks", "{\"kind\":\"cpu\",\"ms\":10}", &res);
        got = res.status;
        http_res_free(&res);
        if (got != 429) break;
        usleep(20000);
    }
    cr_assert_eq(got, 202, "the cancelled task's share never came back to A");
    ts_stop(&a);
    ts_stop(&b);
}

/* --- poison in the job streams ------------------------------------------------ */

/* Runs redis-cli --raw against rd with args; its output (flat, one value a
 * line) in out. */
static void redis_out(const char *args, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "redis-cli --raw -p %d %s", rd.port, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s", cmd);
}

/* An integer redis-cli printed for args. */
static long long redis_int(const char *args)
{
    char out[64];
    redis_out(args, out, sizeof(out));
    return atoll(out);
}

/* Polls until the integer redis-cli prints for args is want, at most secs. */
static void wait_redis_int(const char *args, long long want, double secs)
{
    double t0 = now_secs();
    long long got;
    while ((got = redis_int(args)) != want) {
        cr_assert(now_secs() - t0 < secs, "%s stayed %lld (wanted %lld)", args, got, want);
        usleep(20000);
    }
}

static double dead_metric(const test_server *t, const char *reason)
{
    char lbl[64];
    snprintf(lbl, sizeof(lbl), "reason=\"%s\"", reason);
    return metric(t, "iocpu_task_backend_dead_lettered_total", lbl);
}

/* Each kind of poison: the commands that set it up (may be ""), the stream,
 * the entry's fields, the reason it is dead-lettered for, and whether a task
 * of that id shows failed. Each @ stands for a fresh task id. */
static const struct poison {
    const char *setup, *stream, *fields, *why;
    int failed;
} POISON[] = {
    {"", "io", "foo bar", "no_id", 0},
    {"", "cpu", "id nothex", "bad_id", 0},
    {"", "io", "id 0123456789ABCDEF0123456789ABCDEF", "bad_id", 0},
    {"", "io", "id 0123456789abcdef0123456789abcdef0", "bad_id", 0},
    {"", "io", "id @ extra 1", "extra_fields", 0},
    {"", "cpu", "id @ id @", "extra_fields", 0},
    {"", "io", "id @", "missing_task", 0},
    {"SET iocpu:task:@ hello", "cpu", "id @", "wrong_type", 0},
    {"LPUSH iocpu:task:@ x", "io", "id @", "wrong_type", 0},
    {"HSET iocpu:task:@ foo bar", "io", "id @", "invalid_task", 0},
    {"HSET iocpu:task:@ status weird kind io delay 1", "io", "id @", "invalid_task", 1},
    {"HSET iocpu:task:@ status queued created_at 1 attempts 0 kind io delay nan", "io", "id @",
     "invalid_task", 1},
    {"HSET iocpu:task:@ status queued created_at 1 attempts 0 kind io delay -5", "io", "id @",
     "invalid_task", 1},
    {"HSET iocpu:task:@ status queued created_at 1 attempts 0 kind cpu n 3 "
     "iterations 99999999999999999999999",
     "cpu", "id @", "invalid_task", 1},
    {"HSET iocpu:task:@ status queued created_at 1 attempts 0 kind cpu n -1 ms -3", "cpu", "id @",
     "invalid_task", 1},
};
#define NPOISON (sizeof(POISON) / sizeof(POISON[0]))

/* tmpl with each @ replaced by id. */
static void subst(char *dst, size_t cap, const char *tmpl, const char *id)
{
    size_t n = 0;
    for (; *tmpl && n + 40 < cap; tmpl++)
        if (*tmpl == '@')
            n += (size_t)snprintf(dst + n, cap - n, "%s", id);
        else
            dst[n++] = *tmpl;
    dst[n] = '\0';
}

/* Writes POISON[i] into Redis: its entry id in entry, its task id in id. */
static void write_poison(size_t i, char *entry, char *id)
{
    char args[512], fields[256];
    snprintf(id, 40, "%032zx", i + 0xdead0);
    if (POISON[i].setup[0]) {
        subst(args, sizeof(args), POISON[i].setup, id);
        redis_cli(args);
    }
    subst(fields, sizeof(fields), POISON[i].fields, id);
    snprintf(args, sizeof(args), "XADD iocpu:jobs:%s '*' %s", POISON[i].stream, fields);
    redis_out(args, entry, 48);
    entry[strcspn(entry, "\n")] = '\0';
}

/* The dead-letter stream holds entry with its reason, source stream and
 * original fields (fields: space-separated), in that order. */
static void assert_dead(const char *dead, const char *why, const char *stream, const char *entry,
                        const char *fields)
{
    char want[512];
    int n = snprintf(want, sizeof(want), "reason\n%s\nstream\niocpu:jobs:%s\nentry\n%s\n%s\n", why,
                     stream, entry, fields);
    for (int i = n - (int)strlen(fields) - 1; i < n; i++)
        if (want[i] == ' ') want[i] = '\n';
    cr_assert(strstr(dead, want), "no dead-letter entry\n%s\nin\n%s", want, dead);
}

/* Every kind of poison written into the job streams (while a replica
 * runs, and held by a consumer that died before the replica started) is
 * acknowledged, moved to iocpu:jobs:dead with its reason and counted once,
 * nothing of it stays pending or is reclaimed again and again, and with
 * --max-tasks 3 the queue keeps serving. Before: such entries were never
 * acknowledged or deleted, five of them made every POST /tasks 503 "too
 * many tasks" for good, and reclaiming them never stopped. */
Test(redis_tasks, poison_entries_are_dead_lettered_and_never_block_the_queue)
{
    g_max_tasks = 3;
    g_workers = 2;
    /* a consumer that read two poison entries and died: they are pending */
    redis_cli("XGROUP CREATE iocpu:jobs:io iocpu 0 MKSTREAM");
    char ghost[2][48], big[2048] = "XADD iocpu:jobs:cpu '*'";
    redis_out("XADD iocpu:jobs:io '*' ghost 1", ghost[0], sizeof(ghost[0]));
    ghost[0][strcspn(ghost[0], "\n")] = '\0';
    for (int i = 0; i < 40; i++) /* 40 fields: 32 are kept, then "truncated 1" */
        snprintf(big + strlen(big), sizeof(big) - strlen(big), " f%d v%d", i, i);
    redis_out(big, ghost[1], sizeof(ghost[1]));
    ghost[1][strcspn(ghost[1], "\n")] = '\0';
    redis_cli("XGROUP CREATE iocpu:jobs:cpu iocpu 0");
    redis_cli("XREADGROUP GROUP iocpu ghost COUNT 10 STREAMS iocpu:jobs:io iocpu:jobs:cpu '>' '>'");
    cr_assert_eq(redis_int("XLEN iocpu:jobs:io") + redis_int("XLEN iocpu:jobs:cpu"), 2);

    test_server a;
    replica(&a, "a");
    /* taken over from the dead consumer after claim-idle (1 s): dead-lettered */
    wait_redis_int("XLEN iocpu:jobs:dead", 2, 10);
    wait_redis_int("XPENDING iocpu:jobs:io iocpu", 0, 5);
    char entries[NPOISON][48], ids[NPOISON][40];
    for (size_t i = 0; i < NPOISON; i++)
        write_poison(i, entries[i], ids[i]);

    /* the queue serves: more tasks than --max-tasks, a few at a time */
    for (int round = 0; round < 3; round++) {
        char id[3][40];
        for (int k = 0; k < 3; k++)
            create(&a,
                   k == 1 ? "{\"kind\":\"cpu\",\"n\":3,\"iterations\":1000}"
                          : "{\"kind\":\"io\",\"delay\":0.05}",
                   id[k]);
        for (int k = 0; k < 3; k++) {
            json_t *t = get_task(&a, id[k], 10);
            cr_assert_str_eq(str(t, "status"), "done", "round %d task %d", round, k);
            json_decref(t);
        }
    }

    /* every entry is in the dead-letter stream with its reason, once */
    wait_redis_int("XLEN iocpu:jobs:dead", (long long)NPOISON + 2, 10);
    static char dead[65536];
    redis_out("XRANGE iocpu:jobs:dead - +", dead, sizeof(dead));
    for (size_t i = 0; i < NPOISON; i++) {
        char fields[256];
        subst(fields, sizeof(fields), POISON[i].fields, ids[i]);
        assert_dead(dead, POISON[i].why, POISON[i].stream, entries[i], fields);
        if (!POISON[i].failed) continue;
        json_t *t = get_task(&a, ids[i], 0);
        cr_assert_str_eq(str(t, "status"), "failed", "%s", POISON[i].setup);
        json_decref(t);
    }
    assert_dead(dead, "no_id", "io", ghost[0], "ghost 1");
    assert_dead(dead, "no_id", "cpu", ghost[1], "f0 v0 f1 v1");
    cr_assert(strstr(dead, "f31\nv31\ntruncated\n1\n"), "%s", dead);
    cr_assert_null(strstr(dead, "f32\n"));

    /* counted by reason, each once */
    const char *reasons[] = {"no_id",      "bad_id",       "extra_fields", "missing_task",
                             "wrong_type", "invalid_task", "deleted"};
    for (size_t r = 0; r < sizeof(reasons) / sizeof(reasons[0]); r++) {
        double want = !strcmp(reasons[r], "no_id") ? 2 : 0;
        for (size_t i = 0; i < NPOISON; i++)
            want += !strcmp(POISON[i].why, reasons[r]);
        cr_assert_eq(dead_metric(&a, reasons[r]), want, "%s", reasons[r]);
    }

    /* nothing left pending, nothing taken over (poison is no job), and it stays so */
    cr_assert_eq(redis_int("XLEN iocpu:jobs:io") + redis_int("XLEN iocpu:jobs:cpu"), 0);
    usleep(2500000); /* more than two rounds of reclaiming (claim-idle 1 s) */
    cr_assert_eq(redis_int("XLEN iocpu:jobs:dead"), (long long)NPOISON + 2);
    char pending[256];
    redis_out("XPENDING iocpu:jobs:io iocpu", pending, sizeof(pending));
    cr_assert_eq(atoll(pending), 0, "%s", pending);
    redis_out("XPENDING iocpu:jobs:cpu iocpu", pending, sizeof(pending));
    cr_assert_eq(atoll(pending), 0, "%s", pending);
    cr_assert_eq(metric(&a, "iocpu_task_backend_jobs_total", "event=\"reclaimed\""), 0);
    cr_assert_eq(dead_metric(&a, "no_id"), 2 + 1);
    ts_stop(&a);
}

/* Poison no replica has read yet holds no place under --max-tasks: with the
 * only worker busy (so nobody reads the cpu stream), four garbage entries
 * there and --max-tasks 2, POST /tasks still answers 202, and the poison is
 * dead-lettered by the create. Before: 503 "too many tasks". */
Test(redis_tasks, unread_poison_does_not_count_towards_max_tasks)
{
    g_max_tasks = 2;
    g_workers = 1;
    test_server a;
    replica(&a, "a");
    http_async blocker;
    http_get_async(&blocker, &a, "/cpu/executor?ms=4000");
    wait_loop_state(&a, "executor.busy", 1, 10);
    redis_cli("XADD iocpu:jobs:cpu '*' foo 0"); /* the claim already waiting may take this one */
    usleep(200000);
    for (int i = 1; i <= 4; i++) {
        char args[96];
        snprintf(args, sizeof(args), "XADD iocpu:jobs:cpu '*' foo %d", i);
        redis_cli(args);
    }
    usleep(200000);
    cr_assert_geq(redis_int("XLEN iocpu:jobs:cpu"), 4, "the busy replica read the stream");
    char id[40];
    create(&a, "{\"kind\":\"io\",\"delay\":0.05}", id);
    cr_assert_eq(redis_int("XLEN iocpu:jobs:cpu"), 0);
    json_t *t = get_task(&a, id, 10);
    cr_assert_str_eq(str(t, "status"), "done");
    json_decref(t);
    cr_assert_eq(redis_int("XLEN iocpu:jobs:dead"), 5);
    cr_assert_eq(dead_metric(&a, "no_id"), 5);
    http_join(&blocker);
    http_res_free(&blocker.res);
    ts_stop(&a);
}

/* A task's "runner" names the replica and a random suffix, never the
 * process id (it was "a-<pid>-<8 hex>"). */
Test(redis_tasks, runner_does_not_show_the_process_id)
{
    test_server a;
    replica(&a, "a");
    char id[40];
    create(&a, "{\"kind\":\"io\",\"delay\":0.05}", id);
    json_t *t = get_task(&a, id, 10);
    const char *runner = str(t, "runner");
    char pid[32];
    snprintf(pid, sizeof(pid), "-%ld-", (long)getpid());
    cr_assert_null(strstr(runner, pid), "%s", runner);
    cr_assert_eq(strlen(runner), 2 + 16, "%s", runner);
    cr_assert_eq(strncmp(runner, "a-", 2), 0, "%s", runner);
    cr_assert_eq(strspn(runner + 2, "0123456789abcdef"), 16, "%s", runner);
    json_decref(t);
    ts_stop(&a);
}

/* A job stream's key replaced by another type (SET iocpu:jobs:io x): tasks
 * answer 503 meanwhile, and once the key is gone the replica makes its
 * consumer group again and runs tasks. Before: the group was never made
 * again, and io tasks stayed queued until the replica reconnected. */
Test(redis_tasks, job_stream_of_another_type_recovers_when_removed)
{
    test_server a;
    replica(&a, "a");
    char id[40];
    create(&a, "{\"kind\":\"io\",\"delay\":0.05}", id);
    json_decref(get_task(&a, id, 10));
    redis_cli("SET iocpu:jobs:io x");
    usleep(300000);
    http_res res;
    http_do(&a, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0.05}", &res);
    cr_assert_eq(res.status, 503, "%ld %s", res.status, res.body);
    http_res_free(&res);
    usleep(1500000); /* a retry or two of the group while the key is wrong */
    redis_cli("DEL iocpu:jobs:io");
    create(&a, "{\"kind\":\"io\",\"delay\":0.05}", id);
    json_t *t = get_task(&a, id, 10);
    cr_assert_str_eq(str(t, "status"), "done");
    json_decref(t);
    ts_stop(&a);
}

/* Polls t's /metrics until name is want, at most secs; returns what it was last. */
static double metric_becomes(const test_server *t, const char *name, double want, double secs)
{
    return ts_metric_becomes(t, name, "", want, secs);
}

/* --loops 2: N clients send a GET ?wait= and leave; the waits forwarded from
 * loop 1 end on loop 0 with them (their timers and waiter-table entries),
 * not when the task or the wait ends. */
Test(redis_tasks, a_forwarded_wait_ends_on_loop_0_when_its_client_leaves)
{
    enum { N = 400 };
    g_loops = 2;
    test_server a;
    replica(&a, "a");
    char id[40], path[96], req[160];
    create(&a, "{\"kind\":\"io\",\"delay\":60}", id);
    json_decref(wait_status(&a, id, "running", 10));
    usleep(300000); /* the other loop's figures in /metrics may be 100 ms old */
    double timers0 = metric(&a, "iocpu_loop_active_timers", "");
    snprintf(path, sizeof(path), "/tasks/%s?wait=50", id);
    int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    int *fds = calloc(N, sizeof(int));
    for (int i = 0; i < N; i++) {
        fds[i] = raw_connect(a.port);
        cr_assert_geq(fds[i], 0);
        cr_assert_eq(raw_send(fds[i], req, (size_t)len), 0);
    }
    /* every wait is in (the forwarded ones registered on loop 0) */
    double t0 = now_secs();
    while (metric(&a, "iocpu_loop_active_timers", "") < timers0 + N) {
        cr_assert_lt(now_secs() - t0, 20, "the %d waits never all waited", N);
        usleep(20000);
    }
    double fwd = metric(&a, "iocpu_task_forwarded_calls", "");
    cr_assert(fwd > 0 && fwd < N, "%g of %d waits forwarded: SO_REUSEPORT used one loop", fwd, N);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    free(fds);
    double left = metric_becomes(&a, "iocpu_task_forwarded_calls", 0, 10);
    cr_assert_eq(left, 0, "loop 0 still holds %g of %g forwarded waits", left, fwd);
    cr_assert_eq(metric(&a, "iocpu_task_forwarded_waits_cancelled_total", ""), fwd);
    /* the waits' timers are gone (a command in flight to Redis holds one until its reply) */
    double timers;
    t0 = now_secs();
    while ((timers = metric(&a, "iocpu_loop_active_timers", "")) > timers0 && now_secs() - t0 < 10)
        usleep(20000);
    cr_assert_leq(timers, timers0, "%g timers left, %g before the waits", timers, timers0);
    cr_assert_eq(metric_becomes(&a, "iocpu_http_requests_in_flight", 1, 10), 1);
    json_t *j = get_task(&a, id, 0);
    cr_assert_str_eq(str(j, "status"), "running", "the task itself is not touched");
    json_decref(j);
    ts_stop(&a);
}

/* The line of the access log in path[] whose "event" is event and "task" id;
 * NULL when there is none (caller frees). */
static json_t *log_line(const char *path, const char *event, const char *id)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[2048];
    json_t *found = NULL;
    while (!found && fgets(line, sizeof(line), f)) {
        json_t *o = json_loads(line, 0, NULL);
        if (o && !strcmp(str(o, "event"), event) && !strcmp(str(o, "task"), id))
            found = o;
        else
            json_decref(o);
    }
    fclose(f);
    return found;
}

/* A task created on A with a traceparent runs on B (a replica of its own,
 * with --access-log; A's only worker is busy): B's task_run line carries
 * the caller's trace id, and as its parent the span A answered with. The
 * task shows the trace id on every replica. */
Test(redis_tasks, a_task_run_elsewhere_logs_the_request_s_trace)
{
    char path[] = "/tmp/iocpu-trace-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO); /* the child's stdout: its access log */
    child b;
    child_start(&b, "b", "--access-log");
    g_child_pid = b.pid;
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(fd);
    test_server a;
    replica(&a, "a");
    http_async blocker;
    http_get_async(&blocker, &a, "/cpu/executor?ms=3000");
    wait_loop_state(&a, "executor.busy", 1, 10);

    const char *trace = "0af7651916cd43dd8448eb211c80319c";
    http_res res;
    http_do_hdr(&a, "POST", "/tasks", "{\"kind\":\"cpu\",\"n\":7,\"iterations\":1000}",
                "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", &res);
    cr_assert_eq(res.status, 202, "%s", res.body);
    char tp[64], id[40];
    cr_assert_eq(http_header(&res, "traceparent", tp, sizeof(tp)), 0);
    cr_assert_eq(strlen(tp), 55, "%s", tp);
    cr_assert_eq(strncmp(tp + 3, trace, 32), 0, "the caller's trace: %s", tp);
    cr_assert_str_eq(str(res.json, "trace_id"), trace);
    snprintf(id, sizeof(id), "%s", str(res.json, "id"));
    char span[17];
    snprintf(span, sizeof(span), "%.16s", tp + 36); /* A's span of the request */
    http_res_free(&res);

    json_t *j = get_task(&b.t, id, 20);
    cr_assert_str_eq(str(j, "status"), "done");
    cr_assert_eq(strncmp(str(j, "runner"), "b-", 2), 0, "ran on %s", str(j, "runner"));
    cr_assert_str_eq(str(j, "trace_id"), trace, "B reads the trace back from Redis");
    json_decref(j);
    json_t *line = log_line(path, "task_run", id);
    cr_assert_not_null(line, "B logged no task_run line for %s", id);
    cr_assert_str_eq(str(line, "trace_id"), trace);
    cr_assert_str_eq(str(line, "parent_id"), span, "its parent is A's span of the POST (%s)", tp);
    cr_assert_eq(strlen(str(line, "span_id")), 16);
    cr_assert_str_neq(str(line, "span_id"), span, "the run is a span of its own");
    cr_assert_eq(json_integer_value(json_object_get(line, "attempt")), 1);
    cr_assert_str_eq(str(line, "kind"), "cpu");
    json_decref(line);

    http_join(&blocker);
    http_res_free(&blocker.res);
    kill(b.pid, SIGTERM);
    child_wait(&b);
    g_child_pid = 0;
    ts_stop(&a);
    unlink(path);
}

/* A trace that does not parse, written into Redis by anyone, is no trace:
 * the task runs and shows none. */
Test(redis_tasks, a_bad_trace_read_back_from_redis_is_ignored)
{
    test_server a;
    replica(&a, "a");
    char id[40];
    create(&a, "{\"kind\":\"io\",\"delay\":5}", id);
    char args[160];
    snprintf(args, sizeof(args),
             "HSET iocpu:task:%s trace 00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
             id);
    redis_cli(args);
    json_t *j = get_task(&a, id, 0);
    cr_assert_str_eq(str(j, "trace_id"), "", "an uppercase trace id is invalid");
    json_decref(j);
    ts_stop(&a);
}
