/*
 * server.c - wires the loop, libmicrohttpd (external epoll mode) and the
 * executor together.
 *
 * DESIGN
 * The thread that calls server_run() is the loop thread: it owns the app,
 * every MHD call, every handler and every timer. Executor workers only run
 * job->work(); their completions come back through the executor's eventfd,
 * which this loop watches, and done() runs here. MHD's epoll fd sits in the
 * loop's epoll set; after every iteration MHD_run() processes what is ready,
 * and MHD_get_timeout() bounds the next wait (MHD keeps edge-triggered
 * connections on an internal ready list).
 */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "../handlers/taskstore.h"
#include "app.h"
#include "http_internal.h"

struct server {
    app a;
};

static int mhd_max_wait(void *arg)
{
    app *a = arg;
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(a->mhd, &ms) != MHD_YES)
        return -1;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void mhd_after_poll(void *arg)
{
    app *a = arg;
    MHD_run(a->mhd);
}

static void on_mhd_ready(loop_watcher *w, uint32_t events)
{
    (void)w;
    (void)events; /* MHD_run() after the poll does the work */
}

static void on_executor_done(loop_watcher *w, uint32_t events)
{
    app *a = w->data;
    (void)events;
    executor_run_done(a->ex);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* our own refusal to go on with a request whose client left: not news */
    if (strstr(msg, "Application reported internal error"))
        return;
    fprintf(stderr, "iocpu: mhd: %s", msg);
}

/* Raises the soft fd limit so that max_connections sockets fit. */
static void raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    rlim_t need = (rlim_t)want + 64;
    if (rl.rlim_cur >= need)
        return;
    rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < need)
        fprintf(stderr, "iocpu: warning: open-file limit %lu is below --max-connections %ld\n",
                (unsigned long)rl.rlim_cur, want);
}

static int parse_addr(const char *host, uint16_t port, struct sockaddr_storage *ss,
                      unsigned *flags)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *flags |= MHD_USE_IPv6;
        return 0;
    }
    if (!strcmp(host, "localhost"))
        return parse_addr("127.0.0.1", port, ss, flags);
    return -EINVAL;
}

int server_new(server **out, const config *cfg)
{
    int err;
    server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    app *a = &s->a;
    a->cfg = *cfg;
    a->started_ns = loop_now_ns();

    unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct sockaddr_storage addr;
    if ((err = parse_addr(cfg->host, (uint16_t)cfg->port, &addr, &flags)) < 0) {
        fprintf(stderr, "iocpu: --host must be a numeric IPv4/IPv6 address: %s\n", cfg->host);
        goto err_free;
    }
    if ((err = loop_new(&a->loop)) < 0)
        goto err_free;
    if ((err = executor_new(&a->ex, (size_t)cfg->workers, (size_t)cfg->queue,
                            (int)cfg->worker_nice)) < 0)
        goto err_loop;
    taskstore_limits tl = {(size_t)cfg->max_tasks, (size_t)cfg->task_keep,
                           (uint64_t)llround(cfg->task_ttl * 1e9)};
    if ((err = taskstore_new(&a->tasks, a->loop, a->ex, &tl)) < 0)
        goto err_executor;
    raise_nofile(cfg->max_connections);
    a->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, http_internal_on_request, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        NULL, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_NOTIFY_COMPLETED, http_internal_on_completed, a,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->conn_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->conn_memory,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_END);
    if (!a->mhd) {
        err = -EADDRNOTAVAIL;
        fprintf(stderr, "iocpu: cannot listen on %s:%ld\n", cfg->host, cfg->port);
        goto err_tasks;
    }
    a->port = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
    a->mhd_w.fd = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
    a->mhd_w.cb = on_mhd_ready;
    a->mhd_w.data = a;
    a->ex_w.fd = executor_fd(a->ex);
    a->ex_w.cb = on_executor_done;
    a->ex_w.data = a;
    if ((err = loop_watch(a->loop, &a->mhd_w, EPOLLIN)) < 0 ||
        (err = loop_watch(a->loop, &a->ex_w, EPOLLIN)) < 0)
        goto err_mhd;
    loop_hooks hooks = {mhd_max_wait, mhd_after_poll, a};
    loop_set_hooks(a->loop, &hooks);
    *out = s;
    return 0;

err_mhd:
    MHD_stop_daemon(a->mhd);
err_tasks:
    taskstore_free(a->tasks); /* still empty */
err_executor:
    executor_free(a->ex);
err_loop:
    loop_free(a->loop);
err_free:
    free(s);
    return err;
}

uint16_t server_port(const server *s)
{
    return s->a.port;
}

int server_run(server *s)
{
    return loop_run(s->a.loop);
}

void server_stop(server *s)
{
    loop_stop(s->a.loop);
}

void server_free(server *s)
{
    if (!s)
        return;
    app *a = &s->a;
    a->draining = 1;
    /* MHD must not be stopped with suspended connections: end them first. */
    http_internal_abort_all(a);
    for (int i = 0; i < 8 && a->nsuspended; i++)
        MHD_run(a->mhd);
    MHD_stop_daemon(a->mhd); /* closes the rest; each request's ctx cancels its work */
    executor_free(a->ex);    /* joins workers, then runs the last done() callbacks */
    taskstore_free(a->tasks); /* every job is back: cancels IO timers, frees the tasks */
    loop_free(a->loop);
    free(s);
}
