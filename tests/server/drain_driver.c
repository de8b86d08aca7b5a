/*
 * drain_driver.c - graceful drain of the real binary, over HTTP: iocpu runs
 * as a child process (criterion tests must not fork, so this is a plain
 * driver registered with ctest; argv[1] is the iocpu binary).
 *
 *   graceful:  SIGTERM with a sleeper, an executor job and a stream in
 *              flight: /readyz turns 503 on a kept-alive connection, new
 *              connections are refused, all three complete with 200, and the
 *              process exits 0 as soon as they are done, not at --grace.
 *   expiry:    what is still running at --grace gets 503 (the stream ends
 *              cleanly), a 30 s CPU job is cancelled, exit 0 right after.
 *   twice:     a second signal exits at once (exit code 1).
 *   nobody:    as root, the binary also runs as `nobody` (setpriv): it
 *              serves, runs jobs and drains; it binds 127.0.0.1 by default.
 *
 * Exits 0 when every check held, 1 otherwise (the nobody scenario says when
 * it was skipped).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rawsock.h"

static int failures;
static const char *iocpu;

__attribute__((format(printf, 2, 3))) static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s ", ok ? "ok  " : "FAIL");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures += !ok;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

typedef struct child {
    pid_t pid;
    int err_fd; /* its stderr */
    char log[65536];
    size_t loglen;
    unsigned port;
    char host[64];
} child;

/* Reads what the child wrote to stderr, waiting at most wait_s for more. */
static void pump(child *c, double wait_s)
{
    struct pollfd p = {.fd = c->err_fd, .events = POLLIN};
    if (poll(&p, 1, (int)(wait_s * 1000)) <= 0) return;
    ssize_t n = read(c->err_fd, c->log + c->loglen, sizeof(c->log) - 1 - c->loglen);
    if (n > 0) c->loglen += (size_t)n;
    c->log[c->loglen] = '\0';
}

/* Starts [prefix...] iocpu --port 0 args...; waits for its "listening on" line. */
static int spawn(child *c, const char *const *prefix, const char *const *args)
{
    memset(c, 0, sizeof(*c));
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) return -1;
    const char *argv[32];
    int n = 0;
    for (; prefix && *prefix; prefix++)
        argv[n++] = *prefix;
    argv[n++] = iocpu;
    argv[n++] = "--port";
    argv[n++] = "0";
    for (; args && *args; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    c->pid = fork();
    if (c->pid < 0) return -1;
    if (c->pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    c->err_fd = pipefd[0];
    double t0 = mono();
    while (mono() - t0 < 20) {
        pump(c, 0.1);
        const char *l = strstr(c->log, "listening on http://");
        if (l && strchr(l, '\n')) {
            sscanf(l, "listening on http://%63[^:]:%u", c->host, &c->port);
            return c->port ? 0 : -1;
        }
        if (waitpid(c->pid, NULL, WNOHANG) == c->pid) break;
    }
    fprintf(stderr, "iocpu did not start:\n%s\n", c->log);
    return -1;
}

/* Waits (bounded) for the child to exit; its exit code, or -1 on timeout. */
static int reap(child *c, double timeout_s, double *secs)
{
    double t0 = mono();
    int status;
    for (;;) {
        pump(c, 0.02);
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) break;
        if (mono() - t0 > timeout_s) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            *secs = mono() - t0;
            return -1;
        }
    }
    *secs = mono() - t0;
    while (c->loglen < sizeof(c->log) - 1 && read(c->err_fd, c->log + c->loglen, 1) == 1)
        c->loglen++;
    c->log[c->loglen] = '\0';
    close(c->err_fd);
    fputs(c->log, stderr); /* sanitizer reports reach ctest's output */
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A request sent now, answered later: its socket. */
static int start(const child *c, const char *method, const char *path, const char *body)
{
    int fd = raw_connect((uint16_t)c->port);
    if (fd < 0) return -1;
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    raw_send(fd, req, (size_t)n);
    return fd;
}

static void finish(int fd, double timeout_s, raw_reply *rep)
{
    raw_read(fd, timeout_s, NULL, 0, rep);
    close(fd);
}

/* One request on a kept-alive connection: reads one whole response. */
static int ask_on(int fd, const char *path, raw_reply *rep)
{
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    if (raw_send(fd, req, (size_t)n) < 0) return -1;
    raw_read(fd, 5.0, "\"}", 1, rep);
    return raw_status(rep);
}

static int has(const raw_reply *r, const char *s)
{
    return r->data && raw_count(r, s) > 0;
}

static void graceful(void)
{
    fprintf(stderr, "graceful: requests in flight at SIGTERM complete\n");
    child c;
    if (spawn(&c, NULL, (const char *const[]){"--grace", "10", "--workers", "2", NULL}) < 0) {
        check(0, "iocpu started");
        return;
    }
    check(!strcmp(c.host, "127.0.0.1"), "binds 127.0.0.1 by default (%s)", c.host);
    int keep = raw_connect((uint16_t)c.port);
    raw_reply r;
    check(ask_on(keep, "/readyz", &r) == 200, "/readyz 200 before the signal");
    raw_reply_free(&r);
    int sleeper = start(&c, "GET", "/io/job?delay=1.5", NULL);
    int job = start(&c, "GET", "/cpu/executor?ms=1000", NULL);
    int stream = start(&c, "GET", "/io/as_completed?delays=0.5,1.2", NULL);
    int task = start(&c, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":30}");
    raw_reply tr;
    finish(task, 5.0, &tr);
    check(raw_status(&tr) == 202, "a 30 s task was accepted (%d)", raw_status(&tr));
    raw_reply_free(&tr);
    sleep_s(0.3);
    double t0 = mono();
    kill(c.pid, SIGTERM);
    sleep_s(0.3);
    int st = ask_on(keep, "/readyz", &r);
    check(st == 503, "/readyz 503 while draining, on a kept-alive connection (%d)", st);
    check(has(&r, "Connection: close"), "...and that connection is closed after it");
    raw_reply_free(&r);
    close(keep);
    errno = 0;
    int fresh = raw_connect((uint16_t)c.port);
    check(fresh < 0 && errno == ECONNREFUSED, "a new connection is refused (%s)",
          fresh < 0 ? strerror(errno) : "accepted");
    if (fresh >= 0) close(fresh);
    finish(sleeper, 10.0, &r);
    check(raw_status(&r) == 200 && has(&r, "job done after 1.5s"), "the sleeper got 200");
    raw_reply_free(&r);
    finish(job, 10.0, &r);
    check(raw_status(&r) == 200 && has(&r, "\"ran_on\":\"executor\""), "the executor job got 200");
    raw_reply_free(&r);
    finish(stream, 10.0, &r);
    check(raw_status(&r) == 200 && has(&r, "{\"done\":true") && has(&r, "\r\n0\r\n"),
          "the stream got every line and its end");
    raw_reply_free(&r);
    double secs;
    int code = reap(&c, 10.0, &secs);
    double total = mono() - t0;
    check(code == 0, "exit code 0 (%d)", code);
    check(total < 8.0, "exited %.2f s after SIGTERM: when the work ended, not at --grace 10",
          total);
    check(strstr(c.log, "draining") != NULL, "said it was draining");
}

static void expiry(void)
{
    fprintf(stderr, "expiry: what outlives --grace gets 503, then the process exits\n");
    child c;
    if (spawn(&c, NULL, (const char *const[]){"--grace", "1", "--workers", "2", NULL}) < 0) {
        check(0, "iocpu started");
        return;
    }
    int sleeper = start(&c, "GET", "/io/job?delay=30", NULL);
    int job = start(&c, "GET", "/cpu/executor?ms=30000", NULL);
    int stream = start(&c, "GET", "/io/as_completed?delays=0.2,30", NULL);
    sleep_s(0.5);
    double t0 = mono();
    kill(c.pid, SIGTERM);
    raw_reply r;
    finish(sleeper, 10.0, &r);
    double at = mono() - t0;
    check(raw_status(&r) == 503 && has(&r, "server shutting down"),
          "the sleeper got 503 server shutting down");
    check(at > 0.8 && at < 3.0, "...at the grace deadline (%.2f s)", at);
    raw_reply_free(&r);
    finish(job, 10.0, &r);
    check(raw_status(&r) == 503, "the 30 s executor job got 503 (%d)", raw_status(&r));
    raw_reply_free(&r);
    finish(stream, 10.0, &r);
    check(raw_status(&r) == 200 && has(&r, "\"res 0.2\"") && !has(&r, "\"res 30.0\"") &&
              has(&r, "\r\n0\r\n"),
          "the stream kept its first line and ended cleanly (last chunk sent)");
    raw_reply_free(&r);
    double secs;
    int code = reap(&c, 10.0, &secs);
    double total = mono() - t0;
    check(code == 0, "exit code 0 (%d)", code);
    check(total < 8.0, "exited %.2f s after SIGTERM: the CPU job was cancelled, workers joined",
          total);
}

static void twice(void)
{
    fprintf(stderr, "twice: a second signal stops at once\n");
    child c;
    if (spawn(&c, NULL, (const char *const[]){"--grace", "60", NULL}) < 0) {
        check(0, "iocpu started");
        return;
    }
    int sleeper = start(&c, "GET", "/io/job?delay=30", NULL);
    sleep_s(0.3);
    kill(c.pid, SIGTERM);
    sleep_s(0.3);
    double t0 = mono();
    kill(c.pid, SIGINT);
    double secs;
    int code = reap(&c, 10.0, &secs);
    check(code == 1, "exit code 1 after the second signal (%d)", code);
    check(mono() - t0 < 2.0, "stopped %.2f s after it, not at --grace 60", mono() - t0);
    raw_reply r;
    finish(sleeper, 5.0, &r);
    check(r.closed, "the sleeper's connection was closed");
    raw_reply_free(&r);
}

/* Is `name` an executable in $PATH? */
static int in_path(const char *name)
{
    const char *path = getenv("PATH");
    char dir[4096], full[4200];
    for (const char *p = path; p && *p;) {
        size_t n = strcspn(p, ":");
        snprintf(dir, sizeof(dir), "%.*s", (int)n, p);
        snprintf(full, sizeof(full), "%s/%s", dir, name);
        if (n && access(full, X_OK) == 0) return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

/* 77 when it cannot run here (not root, no setpriv); 0 after its checks. */
static int as_nobody(void)
{
    if (geteuid() != 0 || !in_path("setpriv")) {
        fprintf(stderr, "nobody: skipped (needs root and setpriv)\n");
        return 77;
    }
    fprintf(stderr, "nobody: the server runs as an unprivileged user\n");
    child c;
    const char *const prefix[] = {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                  NULL};
    if (spawn(&c, prefix, NULL) < 0) {
        check(0, "iocpu started as nobody");
        return 0;
    }
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)c.pid);
    FILE *f = fopen(path, "r");
    unsigned uid = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Uid: %u", &uid) == 1) break;
    if (f) fclose(f);
    check(uid != 0, "runs with uid %u", uid);
    raw_reply r;
    finish(start(&c, "GET", "/healthz", NULL), 5.0, &r);
    check(raw_status(&r) == 200, "/healthz 200");
    raw_reply_free(&r);
    finish(start(&c, "GET", "/cpu/executor?ms=20", NULL), 5.0, &r);
    check(raw_status(&r) == 200, "/cpu/executor 200 (workers renice themselves without root)");
    raw_reply_free(&r);
    finish(start(&c, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0}"), 5.0, &r);
    check(raw_status(&r) == 202, "POST /tasks 202");
    raw_reply_free(&r);
    finish(start(&c, "GET", "/../../../../etc/passwd", NULL), 5.0, &r);
    check(raw_status(&r) == 404, "serves no files (404)");
    raw_reply_free(&r);
    kill(c.pid, SIGTERM);
    double secs;
    check(reap(&c, 10.0, &secs) == 0, "drains and exits 0");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: drain_driver <iocpu binary>\n");
        return 2;
    }
    iocpu = argv[1];
    signal(SIGPIPE, SIG_IGN);
    graceful();
    expiry();
    twice();
    int skipped = as_nobody() == 77;
    fprintf(stderr, "drain_driver: %d check(s) failed%s\n", failures,
            skipped ? " (the nobody scenario was skipped)" : "");
    return failures ? 1 : 0;
}
