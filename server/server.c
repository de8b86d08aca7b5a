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
 * Shutdown: server_stop() ends the loop at once; server_drain() (SIGTERM)
 * first lets requests finish, bounded by --grace (see server.h).
 * Observability lives on the loop thread too: the lag probe is a loop timer,
 * job metrics are taken by an executor observer as done() callbacks run here,
 * and the access log writes stdout through a non-blocking watcher.
 */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "../handlers/taskstore.h"
#include "app.h"
#include "http_internal.h"
#include "router.h"

#define LAG_PERIOD_NS (10 * 1000000ull)    /* the probe fires every 10 ms */
#define LAG_WINDOW_NS (10 * 1000000000ull) /* /loop summarises the last 10 s */
#define ACCESS_LOG_BUFFER (256 * 1024)     /* bytes of log lines that may wait */
#define ACCESS_LOG_FLUSH_MS 1000           /* spent flushing them at exit */

struct server {
    app a;
    atomic_int drain_requested; /* set by server_drain() from any thread */
    int drain_started;          /* loop thread: the drain is under way */
    timer grace_timer;          /* drain deadline, then the final cut-off */
};

static int mhd_max_wait(void *arg)
{
    app *a = &((server *)arg)->a;
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(a->mhd, &ms) != MHD_YES) return -1;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void on_final(timer *t)
{
    server *s = t->data;
    loop_stop(s->a.loop); /* server_free() aborts whatever is left */
}

static void on_grace(timer *t)
{
    server *s = t->data;
    http_internal_expire_all(&s->a);
    /* one more second to send the 503s and stream ends */
    loop_timer_start(s->a.loop, &s->grace_timer, 1000000000u, on_final, s);
}

static void start_drain(server *s)
{
    app *a = &s->a;
    s->drain_started = 1;
    atomic_store(&a->draining, 1);
    MHD_socket fd = MHD_quiesce_daemon(a->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd); /* external-epoll mode: ours to close; new connections are refused */
    loop_timer_start(a->loop, &s->grace_timer, (uint64_t)(a->cfg.grace * 1e9), on_grace, s);
    fprintf(stderr, "iocpu: draining %zu request(s), grace %.3g s\n", a->nreqs, a->cfg.grace);
}

static void mhd_after_poll(void *arg)
{
    server *s = arg;
    app *a = &s->a;
    MHD_run(a->mhd);
    if (!s->drain_started && atomic_load(&s->drain_requested)) start_drain(s);
    if (s->drain_started && a->nreqs == 0) loop_stop(a->loop);
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

static void on_lag_sample(void *arg, uint64_t lag_ns)
{
    app *a = arg;
    metrics_loop_lag(a->metrics, (double)lag_ns / 1e9);
}

/* Executor observer: queue wait and run time of every job that ran. */
static void on_job_back(void *arg, const executor_job *j, int status)
{
    app *a = arg;
    if (status == 0 && j->started_ns)
        metrics_job(a->metrics, (double)(j->started_ns - j->queued_ns) / 1e9,
                    (double)(j->finished_ns - j->started_ns) / 1e9);
}

/* Metrics label every route by its method and path template. */
static int new_metrics(app *a)
{
    size_t n;
    const route *const *all = router_all(&n);
    metrics_route *labels = calloc(n ? n : 1, sizeof(*labels));
    if (!labels) return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        labels[i] = (metrics_route){all[i]->method, all[i]->path};
    int rc = metrics_new(&a->metrics, labels, n);
    free(labels);
    return rc;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* our own refusal to go on with a request whose client left: not news */
    if (strstr(msg, "Application reported internal error")) return;
    fprintf(stderr, "iocpu: mhd: %s", msg);
}

/* Raises the soft fd limit so that max_connections sockets fit. */
static void raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return;
    rlim_t need = (rlim_t)want + 64;
    if (rl.rlim_cur >= need) return;
    rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < need)
        fprintf(stderr, "iocpu: warning: open-file limit %lu is below --max-connections %ld\n",
                (unsigned long)rl.rlim_cur, want);
}

static int parse_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, unsigned *flags)
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
    if (!strcmp(host, "localhost")) return parse_addr("127.0.0.1", port, ss, flags);
    return -EINVAL;
}

int server_new(server **out, const config *cfg)
{
    int err;
    server *s = calloc(1, sizeof(*s));
    if (!s) return -ENOMEM;
    app *a = &s->a;
    a->cfg = *cfg;
    a->started_ns = loop_now_ns();

    unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct sockaddr_storage addr;
    if ((err = parse_addr(cfg->host, (uint16_t)cfg->port, &addr, &flags)) < 0) {
        fprintf(stderr, "iocpu: --host must be a numeric IPv4/IPv6 address: %s\n", cfg->host);
        goto err_free;
    }
    if ((err = loop_new(&a->loop)) < 0) goto err_free;
    if ((err = new_metrics(a)) < 0) goto err_loop;
    err = lagprobe_new(&a->probe, a->loop, LAG_PERIOD_NS, LAG_WINDOW_NS, on_lag_sample, a);
    if (err < 0) goto err_metrics;
    if (cfg->access_log &&
        (err = access_log_new(&a->alog, a->loop, STDOUT_FILENO, ACCESS_LOG_BUFFER)) < 0) {
        fprintf(stderr, "iocpu: cannot set up the access log on stdout: %s\n", strerror(-err));
        goto err_probe;
    }
    if ((err = executor_new(&a->ex, (size_t)cfg->workers, (size_t)cfg->queue,
                            (int)cfg->worker_nice)) < 0)
        goto err_alog;
    executor_set_observer(a->ex, on_job_back, a);
    taskstore_limits tl = {(size_t)cfg->max_tasks, (size_t)cfg->task_keep,
                           (uint64_t)llround(cfg->task_ttl * 1e9)};
    if ((err = taskstore_new(&a->tasks, a->loop, a->ex, &tl)) < 0) goto err_executor;
    raise_nofile(cfg->max_connections);
    a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, http_internal_on_request, a,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
                              &addr, MHD_OPTION_NOTIFY_COMPLETED, http_internal_on_completed, a,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->conn_timeout,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->conn_memory,
                              MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_NOTIFY_CONNECTION,
                              http_internal_on_connection, a, MHD_OPTION_END);
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
    loop_hooks hooks = {mhd_max_wait, mhd_after_poll, s};
    loop_set_hooks(a->loop, &hooks);
    *out = s;
    return 0;

err_mhd:
    MHD_stop_daemon(a->mhd);
err_tasks:
    taskstore_free(a->tasks); /* still empty */
err_executor:
    executor_free(a->ex);
err_alog:
    access_log_free(a->alog, 0);
err_probe:
    lagprobe_free(a->probe);
err_metrics:
    metrics_free(a->metrics);
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
    int err = lagprobe_start(s->a.probe); /* armed here so startup is not counted as lag */
    if (err < 0) return err;
    return loop_run(s->a.loop);
}

void server_stop(server *s)
{
    loop_stop(s->a.loop);
}

void server_drain(server *s)
{
    atomic_store(&s->drain_requested, 1);
    loop_wake(s->a.loop);
}

void server_set_draining(server *s)
{
    atomic_store(&s->a.draining, 1);
}

void server_free(server *s)
{
    if (!s) return;
    app *a = &s->a;
    atomic_store(&a->draining, 1);
    loop_timer_cancel(a->loop, &s->grace_timer);
    /* MHD must not be stopped with suspended connections: end them first. */
    http_internal_abort_all(a);
    for (int i = 0; i < 8 && a->nsuspended; i++)
        MHD_run(a->mhd);
    MHD_stop_daemon(a->mhd);  /* closes the rest; each request's ctx cancels its work */
    executor_free(a->ex);     /* joins workers, then runs the last done() callbacks */
    taskstore_free(a->tasks); /* every job is back: cancels IO timers, frees the tasks */
    access_log_free(a->alog, ACCESS_LOG_FLUSH_MS); /* after the last request ended */
    lagprobe_free(a->probe);
    loop_free(a->loop);
    metrics_free(a->metrics);
    free(s);
}
