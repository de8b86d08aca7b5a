/*
 * server.c - wires the loops, libmicrohttpd (external epoll mode) and the
 * executor together.
 *
 * DESIGN
 * A server runs `nloops` event loops ("lanes"), each on its own thread with
 * its own epoll set, timers, libmicrohttpd daemon and connections. With one
 * loop (the default) the thread that calls server_run() is that loop; with
 * several, server_run() starts loops 1..N-1 on new threads, runs loop 0
 * itself and joins the others before it returns. All daemons bind the same
 * port with SO_REUSEPORT (MHD_OPTION_LISTENING_ADDRESS_REUSE), so the kernel
 * spreads new connections across the loops; a connection stays on the loop
 * that accepted it.
 *
 * Ownership (see app.h): each lane's thread owns its app, every MHD call on
 * its daemon, its handlers and timers, the receive deadlines of its
 * connections (--header-timeout) and its share of the body budget
 * (--max-body-buffer / N, at least one 64 KiB body). Shared by all lanes:
 *   - the executor: one pool of workers, one completion channel per lane (a
 *     job carries its lane's index as its channel, so its done() runs on the
 *     lane that submitted it; executor.h); the IO thread pool likewise (a
 *     second executor, --io-threads; http/iopool.h);
 *   - the router, the handler groups and each group's shared state
 *     (http/group.h; what a group owns on lane 0, like the task backend, is
 *     reached from other lanes through mailboxes: app_post());
 *   - the stats board: each lane's metrics and snapshot in its own slot,
 *     under the slot's mutex, summed at scrape time (obs/loopstats.h);
 *   - drain_requested (atomic), running (atomic: lanes still looping).
 * Each iteration of a lane: MHD_get_timeout() bounds the wait, then
 * MHD_run() processes what is ready (MHD keeps edge-triggered connections on
 * an internal ready list).
 * Shutdown: server_stop() ends every loop at once; server_drain() (SIGTERM)
 * first lets requests finish on every lane, bounded by --grace (see
 * server.h), and waits for what each group calls busy. Lane 0 stops last:
 * it keeps serving what other lanes hand it (forwarded task operations)
 * until every other lane has stopped.
 * The admin listener (--admin-port) is a second daemon on lane 0: its own
 * socket and its own small connection limit (ADMIN_CONNECTIONS), serving only
 * the routes its groups list as admin paths (/healthz, /readyz, /metrics,
 * /loop), so that an orchestrator's probe gets through while the main port
 * is full of connections. It keeps answering through a drain (/readyz then
 * says 503) and is stopped with lane 0.
 * Observability lives on each lane: its lag probe is a loop timer, its job
 * metrics are taken by the executor observer as done() callbacks run there,
 * and its access log writes stdout through a non-blocking watcher.
 */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "app_stats.h"
#include "http.h"
#include "http_conn.h"
#include "iopool.h"
#include "listen.h"
#include "lograte.h"
#include "router.h"

#define LAG_PERIOD_NS (10 * 1000000ull)    /* the probe fires every 10 ms */
#define LAG_WINDOW_NS (10 * 1000000000ull) /* /loop summarises the last 10 s */
#define ACCESS_LOG_BUFFER (256 * 1024)     /* bytes of log lines that may wait */
#define ACCESS_LOG_FLUSH_MS 1000           /* spent flushing them at exit */
#define MHD_LOG_LINES_PER_S 10             /* libmicrohttpd's messages beyond: counted */
#define LISTEN_BACKLOG 4096                /* pending connections per loop */
#define ADMIN_CONNECTIONS 16               /* the admin listener's own connection limit */
#define ADMIN_BACKLOG 64                   /* and its pending connections */
#define ADMIN_IDLE_S 10                    /* seconds an idle admin connection is kept */

typedef struct lane {
    app a; /* first: an app pointer is a lane pointer */
    server *s;
    size_t groups_up; /* groups whose init ran (and whose close and free will) */
    pthread_t thread;
    int started;          /* thread created (lanes 1..N-1) */
    int drain_started;    /* lane thread: its drain is under way */
    timer grace_timer;    /* drain deadline, then the final cut-off */
    loop_watcher ex_w;    /* this lane's executor completion channel */
    loop_watcher io_w;    /* and its IO pool's */
    lograte mhd_log_rate; /* lane thread: its daemon's messages, rate-limited */
} lane;

struct server {
    config cfg;
    executor *ex;
    executor *io; /* the IO thread pool (http/iopool.h) */
    http_groups groups;
    void **shared; /* each group's server-wide state, by index */
    router *router;
    size_t nloops;
    lane **lanes;
    mailbox **mailboxes; /* every lane's, by index (app.h: a->mailboxes) */
    loop_stats *board;   /* every lane's published stats (app.h: a->obs.board) */
    uint16_t port;
    uint16_t admin_port;        /* 0: no admin listener */
    atomic_int drain_requested; /* set by server_drain() from any thread */
    atomic_int running;         /* lanes whose loop has not returned yet */
    int run_rc;
};

/* How long d may wait (ms), or -1: no limit. */
static int daemon_wait(struct MHD_Daemon *d)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(d, &ms) != MHD_YES) return -1;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static int mhd_max_wait(void *arg)
{
    app *a = &((lane *)arg)->a;
    int ms = daemon_wait(a->http.mhd);
    int admin = a->http.admin ? daemon_wait(a->http.admin) : -1;
    return admin >= 0 && (ms < 0 || admin < ms) ? admin : ms;
}

static void on_final(timer *t)
{
    lane *ln = t->data;
    loop_stop(ln->a.loop); /* server_free() aborts whatever is left */
}

static void on_grace(timer *t)
{
    lane *ln = t->data;
    app *a = &ln->a;
    http_expire_all(a);
    for (size_t i = 0; i < a->groups.n; i++) /* what groups hold answers now */
        if (a->groups.v[i]->expire) a->groups.v[i]->expire(a->group_state[i]);
    /* one more second to send the 503s and stream ends */
    loop_timer_start(a->loop, &ln->grace_timer, 1000000000u, on_final, ln);
}

static void start_drain(lane *ln)
{
    app *a = &ln->a;
    ln->drain_started = 1;
    atomic_store(&a->draining, 1);
    for (size_t i = 0; i < a->groups.n; i++) /* no new background work */
        if (a->groups.v[i]->drain) a->groups.v[i]->drain(a->group_state[i]);
    MHD_socket fd = MHD_quiesce_daemon(a->http.mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd); /* external-epoll mode: ours to close; new connections are refused */
    loop_timer_start(a->loop, &ln->grace_timer, (uint64_t)(a->cfg.grace * 1e9), on_grace, ln);
    if (a->nloops == 1)
        fprintf(stderr, "iocpu: draining %zu request(s), grace %.3g s\n", a->http.nreqs,
                a->cfg.grace);
    else
        fprintf(stderr, "iocpu: loop %u draining %zu request(s), grace %.3g s\n", a->index,
                a->http.nreqs, a->cfg.grace);
}

/* A draining lane is done when nothing of it is left; lane 0 also waits for
 * the other lanes, which may still forward task operations to it. */
static int drained(lane *ln)
{
    app *a = &ln->a;
    if (a->http.nreqs) return 0;
    for (size_t i = 0; i < a->groups.n; i++) /* forwarded calls, claimed jobs, ... */
        if (a->groups.v[i]->busy && a->groups.v[i]->busy(a->group_state[i])) return 0;
    return a->index != 0 || atomic_load(&ln->s->running) == 1;
}

static void mhd_after_poll(void *arg)
{
    lane *ln = arg;
    app *a = &ln->a;
    http_conn_heads_due(a); /* pieces that came since the poll: seen before MHD reads them */
    MHD_run(a->http.mhd);
    if (a->http.admin) MHD_run(a->http.admin);
    if (!ln->drain_started && atomic_load(&ln->s->drain_requested)) start_drain(ln);
    if (ln->drain_started && drained(ln)) loop_stop(a->loop);
}

static void on_executor_done(loop_watcher *w, uint32_t events)
{
    lane *ln = w->data;
    (void)events;
    executor_channel_run_done(ln->s->ex, ln->a.index);
}

static void on_io_done(loop_watcher *w, uint32_t events)
{
    lane *ln = w->data;
    (void)events;
    executor_channel_run_done(ln->s->io, ln->a.index);
}

static void on_lag_sample(void *arg, uint64_t lag_ns)
{
    app *a = arg;
    app_stats_lock(a);
    metrics_loop_lag(a->obs.metrics, (double)lag_ns / 1e9);
    app_stats_unlock(a);
    if (++a->obs.stats->lag_samples >= LOOPSTATS_PUBLISH_EVERY) {
        a->obs.stats->lag_samples = 0;
        app_publish(a);
    }
}

/* Executor observer, on the lane that owns the job's channel: queue wait and
 * run time of every job that ran. */
static void on_job_back(void *arg, const executor_job *j, int status)
{
    server *s = arg;
    if (status != 0 || !j->started_ns || j->channel >= s->nloops) return;
    app *a = &s->lanes[j->channel]->a;
    app_stats_lock(a);
    metrics_job(a->obs.metrics, (double)(j->started_ns - j->queued_ns) / 1e9,
                (double)(j->finished_ns - j->started_ns) / 1e9);
    app_stats_unlock(a);
}

/* IO-pool observer, on the lane that owns the job's channel: its queue wait. */
static void on_io_job_back(void *arg, const executor_job *j, int status)
{
    server *s = arg;
    if (status != 0 || !j->started_ns || j->channel >= s->nloops) return;
    app *a = &s->lanes[j->channel]->a;
    app_stats_lock(a);
    metrics_io_job(a->obs.metrics, (double)(j->started_ns - j->queued_ns) / 1e9);
    app_stats_unlock(a);
}

static void report_suppressed(uint64_t n)
{
    if (n) fprintf(stderr, "iocpu: mhd: %llu more messages suppressed\n", (unsigned long long)n);
}

/* A flood of bad requests must not become a flood of stderr (lograte.h).
 * Each lane's daemon logs on that lane's thread, into that lane's limiter. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    lane *ln = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* our own refusal to go on with a request whose client left: not news */
    if (strstr(msg, "Application reported internal error")) return;
    if (strstr(msg, "application error generating response")) return; /* a stream's, ditto */
    uint64_t hidden;
    int ok = lograte_allow(&ln->mhd_log_rate, loop_now_ns(), &hidden);
    report_suppressed(hidden);
    if (ok) fprintf(stderr, "iocpu: mhd: %s", msg);
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

/* This lane's listening socket: lane 0 binds cfg's port (and, when the port
 * is shared by several loops, first makes sure nobody else listens on it);
 * the others join the port lane 0 got. The descriptor or -errno. */
static int lane_socket(lane *ln, uint16_t port)
{
    app *a = &ln->a;
    const config *cfg = &a->cfg;
    char err[512];
    int shared = a->nloops > 1, rc = 0;
    if (a->index == 0 && shared && port) rc = listen_check_free(cfg->host, port, err, sizeof(err));
    if (rc == 0) rc = listen_open(cfg->host, port, shared, LISTEN_BACKLOG, err, sizeof(err));
    if (rc < 0) fprintf(stderr, "iocpu: %s\n", err);
    return rc;
}

/* A daemon of the lane's on listening socket fd (its requests go to the
 * lane's app), with its epoll fd in w; NULL when libmicrohttpd refuses.
 * per_ip 0: no per-address limit. */
static struct MHD_Daemon *daemon_on(lane *ln, int fd, unsigned flags, unsigned limit,
                                    unsigned idle_s, unsigned per_ip, loop_watcher *w)
{
    app *a = &ln->a;
    flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, http_on_request, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, ln,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, a,
        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)a->cfg.conn_memory,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_NOTIFY_CONNECTION,
        http_on_connection, a, MHD_OPTION_URI_LOG_CALLBACK, http_on_uri, a, MHD_OPTION_END);
    if (!d) return NULL;
    w->fd = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
    w->data = a;
    return d;
}

/* The lane's daemon on port (0 = any; later lanes pass the first one's). */
static int start_daemon(lane *ln, uint16_t port)
{
    app *a = &ln->a;
    const config *cfg = &a->cfg;
    int fd = lane_socket(ln, port);
    if (fd < 0) return fd;
    /* --max-connections is for the whole server: each loop gets its share */
    unsigned limit = (unsigned)((cfg->max_connections + (long)a->nloops - 1) / (long)a->nloops);
    a->http.mhd = daemon_on(ln, fd, MHD_USE_TURBO, limit, (unsigned)cfg->conn_timeout,
                            (unsigned)cfg->max_conn_per_ip, &a->http.mhd_w);
    if (!a->http.mhd) {
        fprintf(stderr, "iocpu: cannot start the HTTP daemon on %s:%u\n", cfg->host, port);
        close(fd);
        return -EIO;
    }
    a->port = listen_port(fd);
    return 0;
}

static void on_mhd_ready(loop_watcher *w, uint32_t events)
{
    (void)w;
    (void)events; /* MHD_run() after the poll does the work */
}

/* Lane 0's admin listener (--admin-port): a daemon of its own on its own
 * socket, in the same epoll set. 0 or -errno. */
static int start_admin(lane *ln)
{
    app *a = &ln->a;
    const config *cfg = &a->cfg;
    char err[512];
    int fd =
        listen_open(cfg->admin_host, (uint16_t)cfg->admin_port, 0, ADMIN_BACKLOG, err, sizeof(err));
    if (fd < 0) {
        fprintf(stderr, "iocpu: %s\n", err);
        return fd;
    }
    a->http.admin = daemon_on(ln, fd, 0, (unsigned)ADMIN_CONNECTIONS, (unsigned)ADMIN_IDLE_S, 0,
                              &a->http.admin_w);
    if (!a->http.admin) {
        fprintf(stderr, "iocpu: cannot start the admin daemon on %s:%ld\n", cfg->admin_host,
                cfg->admin_port);
        close(fd);
        return -EIO;
    }
    ln->s->admin_port = listen_port(fd);
    a->http.admin_w.cb = on_mhd_ready;
    fprintf(stderr, "iocpu: admin listener on http://%s%s%s:%u (/healthz /readyz /metrics /loop)\n",
            strchr(cfg->admin_host, ':') ? "[" : "", cfg->admin_host,
            strchr(cfg->admin_host, ':') ? "]" : "", ln->s->admin_port);
    return loop_watch(a->loop, &a->http.admin_w, EPOLLIN);
}

/* Frees what lane_new() made; the daemon must have been stopped. */
static void lane_free(lane *ln)
{
    if (!ln) return;
    app *a = &ln->a;
    for (size_t i = ln->groups_up; i-- > 0;) /* after the executor: every job is back */
        if (a->groups.v[i]->free) a->groups.v[i]->free(a->group_state[i]);
    free(a->group_state);
    access_log_free(a->obs.alog, ACCESS_LOG_FLUSH_MS); /* after the last request ended */
    mailbox_free(a->mbox);                             /* calls still in it: released */
    lagprobe_free(a->obs.probe);
    loop_free(a->loop);
    metrics_free(a->obs.metrics);
    free(a->http.peek);
    free(ln);
}

/* This lane's state of every group (loop 0 first: see group.h). */
static int lane_groups_init(lane *ln)
{
    app *a = &ln->a;
    a->group_state = calloc(a->groups.n ? a->groups.n : 1, sizeof(*a->group_state));
    if (!a->group_state) return -ENOMEM;
    for (; ln->groups_up < a->groups.n; ln->groups_up++) {
        const http_group *g = a->groups.v[ln->groups_up];
        int err =
            g->init ? g->init(a, ln->s->shared[ln->groups_up], &a->group_state[ln->groups_up]) : 0;
        if (err < 0) {
            fprintf(stderr, "iocpu: cannot start %s: %s\n", g->name, strerror(-err));
            return err;
        }
    }
    return 0;
}

/* The app's identity and what it shares with the other lanes. */
static void lane_identity(lane *ln, server *s, unsigned index)
{
    app *a = &ln->a;
    ln->s = s;
    lograte_init(&ln->mhd_log_rate, MHD_LOG_LINES_PER_S, 1000000000u);
    a->cfg = s->cfg;
    a->index = index;
    snprintf(a->index_text, sizeof(a->index_text), "%u", index);
    a->nloops = s->nloops;
    a->ex = s->ex;
    a->io = s->io;
    a->router = s->router;
    a->groups = s->groups;
    a->mailboxes = s->mailboxes;
    a->obs.board = s->board;
    a->obs.stats = &s->board[index];
    a->started_ns = loop_now_ns();
    list_init(&a->http.reqs);
    list_init(&a->http.heads);
    /* --max-body-buffer is for the whole server: each loop gets its share,
     * never less than one body of the largest size allowed */
    size_t share = (size_t)((s->cfg.max_body_buffer + (long)s->nloops - 1) / (long)s->nloops);
    a->http.body_budget = share > HTTP_BODY_MAX ? share : HTTP_BODY_MAX;
    a->http.body_budget_total = a->http.body_budget * s->nloops;
}

/* One loop with its timers, probe, log, mailbox, stats slot and groups. */
static int lane_new(server *s, unsigned index, lane **out)
{
    int err;
    lane *ln = calloc(1, sizeof(*ln));
    if (!ln) return -ENOMEM;
    app *a = &ln->a;
    lane_identity(ln, s, index);
    if ((err = loop_new(&a->loop)) < 0) goto err_out;
    if ((err = app_new_metrics(s->router, &a->obs.metrics)) < 0) goto err_out;
    if ((err = loopstats_init(a->obs.stats, a->obs.metrics)) < 0) goto err_out;
    err = lagprobe_new(&a->obs.probe, a->loop, LAG_PERIOD_NS, LAG_WINDOW_NS, on_lag_sample, a);
    if (err < 0) goto err_out;
    if ((err = mailbox_new(&a->mbox, a->loop)) < 0) goto err_out;
    s->mailboxes[index] = a->mbox;
    a->http.peek_cap = (size_t)s->cfg.conn_memory + 1;
    if (!(a->http.peek = malloc(a->http.peek_cap))) goto err_nomem;
    deadline_init(&a->http.rxq, a->loop, (uint64_t)llround(s->cfg.header_timeout * 1e9),
                  http_conn_expired, a);
    if (s->cfg.access_log &&
        (err = access_log_new(&a->obs.alog, a->loop, STDOUT_FILENO, ACCESS_LOG_BUFFER)) < 0) {
        fprintf(stderr, "iocpu: cannot set up the access log on stdout: %s\n", strerror(-err));
        goto err_out;
    }
    ln->ex_w.fd = executor_channel_fd(s->ex, index);
    ln->ex_w.cb = on_executor_done;
    ln->ex_w.data = ln;
    ln->io_w.fd = executor_channel_fd(s->io, index);
    ln->io_w.cb = on_io_done;
    ln->io_w.data = ln;
    a->http.mhd_w.cb = on_mhd_ready;
    *out = ln;
    return lane_groups_init(ln); /* on failure server_free() frees the lane */

err_nomem:
    err = -ENOMEM;
err_out: /* lane_free() copes with what was not made */
    lane_free(ln);
    return err;
}

static int lane_listen(lane *ln, uint16_t port)
{
    app *a = &ln->a;
    int err = start_daemon(ln, port);
    if (err < 0) return err;
    if ((err = loop_watch(a->loop, &a->http.mhd_w, EPOLLIN)) < 0 ||
        (err = loop_watch(a->loop, &ln->ex_w, EPOLLIN)) < 0 ||
        (err = loop_watch(a->loop, &ln->io_w, EPOLLIN)) < 0)
        return err;
    if (a->index == 0 && a->cfg.admin_port && (err = start_admin(ln)) < 0) return err;
    loop_hooks hooks = {mhd_max_wait, mhd_after_poll, ln};
    loop_set_hooks(a->loop, &hooks);
    return 0;
}

static long resolve_loops(long loops)
{
    if (loops > 0) return loops;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? cores : 1;
}

/* What tasks may take of n workers or queue slots (--task-share): at least one. */
static size_t task_part(long n, double share)
{
    double part = floor((double)n * share);
    return part < 1 ? 1 : (size_t)part;
}

/* What every lane shares: the executor, the IO pool, the router, the groups' shared
 * state, the mailbox table and the stats board. */
static int server_shared_new(server *s)
{
    int err;
    const config *cfg = &s->cfg;
    s->lanes = calloc(s->nloops, sizeof(*s->lanes));
    s->mailboxes = calloc(s->nloops, sizeof(*s->mailboxes));
    s->board = calloc(s->nloops, sizeof(*s->board));
    s->shared = calloc(s->groups.n ? s->groups.n : 1, sizeof(*s->shared));
    if (!s->lanes || !s->mailboxes || !s->board || !s->shared) return -ENOMEM;
    if ((err = router_new(&s->router, &s->groups)) < 0) return err;
    for (size_t i = 0; i < s->groups.n; i++) {
        const http_group *g = s->groups.v[i];
        if (g->shared_new && (err = g->shared_new(cfg, &s->shared[i])) < 0) return err;
    }
    if ((err = executor_new_channels(&s->ex, (size_t)cfg->workers, (size_t)cfg->queue,
                                     (int)cfg->worker_nice, s->nloops)) < 0)
        return err;
    executor_set_observer(s->ex, on_job_back, s);
    executor_set_reserve(s->ex, (size_t)cfg->queue - task_part(cfg->queue, cfg->task_share),
                         (size_t)cfg->workers - task_part(cfg->workers, cfg->task_share));
    /* the IO threads block rather than compute: the loops' own priority */
    if ((err = executor_new_named(&s->io, IOPOOL_THREAD_PREFIX, (size_t)cfg->io_threads,
                                  (size_t)cfg->io_queue, 0, s->nloops)) < 0)
        return err;
    executor_set_observer(s->io, on_io_job_back, s);
    return 0;
}

int server_new(server **out, const config *cfg, const http_groups *groups)
{
    int err;
    server *s = calloc(1, sizeof(*s));
    if (!s) return -ENOMEM;
    s->cfg = *cfg;
    s->cfg.loops = resolve_loops(cfg->loops);
    s->nloops = (size_t)s->cfg.loops;
    s->groups = *groups;
    if ((err = server_shared_new(s)) < 0) goto err_free;
    raise_nofile(cfg->max_connections);
    for (size_t i = 0; i < s->nloops; i++)
        if ((err = lane_new(s, (unsigned)i, &s->lanes[i])) < 0) goto err_free;
    for (size_t i = 0; i < s->nloops; i++) {
        uint16_t port = i == 0 ? (uint16_t)cfg->port : s->port;
        if ((err = lane_listen(s->lanes[i], port)) < 0) goto err_free;
        if (i == 0) s->port = s->lanes[0]->a.port;
    }
    for (size_t i = 0; i < s->nloops; i++)
        s->lanes[i]->a.port = s->port;
    *out = s;
    return 0;

err_free:
    server_free(s); /* nothing runs yet: frees what was made */
    return err;
}

uint16_t server_port(const server *s)
{
    return s->port;
}

uint16_t server_admin_port(const server *s)
{
    return s->admin_port;
}

long server_loops(const server *s)
{
    return (long)s->nloops;
}

static int run_lane(lane *ln)
{
    int err = lagprobe_start(ln->a.obs.probe); /* armed here so startup is not counted as lag */
    if (err == 0) err = loop_run(ln->a.loop);
    atomic_fetch_sub(&ln->s->running, 1);
    if (ln->a.index != 0) loop_wake(ln->s->lanes[0]->a.loop); /* lane 0 may be waiting for us */
    return err;
}

static void *lane_thread(void *p)
{
    lane *ln = p;
    char name[16];
    snprintf(name, sizeof(name), "iocpu-loop%u", ln->a.index);
    pthread_setname_np(pthread_self(), name);
    int err = run_lane(ln);
    if (err < 0) ln->s->run_rc = err;
    return NULL;
}

int server_run(server *s)
{
    atomic_store(&s->running, (int)s->nloops);
    for (size_t i = 1; i < s->nloops; i++) {
        int rc = pthread_create(&s->lanes[i]->thread, NULL, lane_thread, s->lanes[i]);
        if (rc) {
            atomic_fetch_sub(&s->running, (int)(s->nloops - i));
            server_stop(s);
            for (size_t k = 1; k < i; k++)
                pthread_join(s->lanes[k]->thread, NULL);
            return -rc;
        }
        s->lanes[i]->started = 1;
    }
    int err = run_lane(s->lanes[0]);
    if (err < 0) server_stop(s); /* the others must not outlive lane 0 */
    for (size_t i = 1; i < s->nloops; i++) {
        if (s->lanes[i]->started) pthread_join(s->lanes[i]->thread, NULL);
        s->lanes[i]->started = 0;
    }
    return err < 0 ? err : s->run_rc;
}

void server_stop(server *s)
{
    for (size_t i = 0; i < s->nloops; i++)
        loop_stop(s->lanes[i]->a.loop);
}

void server_drain(server *s)
{
    atomic_store(&s->drain_requested, 1);
    for (size_t i = 0; i < s->nloops; i++)
        loop_wake(s->lanes[i]->a.loop);
}

void server_set_draining(server *s)
{
    for (size_t i = 0; i < s->nloops; i++)
        atomic_store(&s->lanes[i]->a.draining, 1);
}

/* Ends a lane's requests and stops its daemon (no loop runs any more). */
static void lane_close(lane *ln)
{
    app *a = &ln->a;
    atomic_store(&a->draining, 1);
    loop_timer_cancel(a->loop, &ln->grace_timer);
    if (!a->http.mhd) return;
    /* MHD must not be stopped with suspended connections: end them first. */
    http_abort_all(a);
    for (int i = 0; i < 8 && a->http.nsuspended; i++) {
        MHD_run(a->http.mhd);
        if (a->http.admin) MHD_run(a->http.admin);
    }
    MHD_stop_daemon(a->http.mhd); /* closes the rest; each request's ctx cancels its work */
    a->http.mhd = NULL;
    if (a->http.admin) MHD_stop_daemon(a->http.admin);
    a->http.admin = NULL;
    deadline_close(&a->http.rxq);
    report_suppressed(lograte_flush(&ln->mhd_log_rate));
}

/* Every lane stopped: each group lets go of what other threads hold (lane
 * 0's forwarded calls, the Redis backend's connections and abandoned jobs). */
static void lanes_groups_close(server *s)
{
    for (size_t k = 0; k < s->nloops; k++) {
        lane *ln = s->lanes[k];
        for (size_t i = 0; ln && i < ln->groups_up; i++)
            if (s->groups.v[i]->close) s->groups.v[i]->close(ln->a.group_state[i]);
    }
}

void server_free(server *s)
{
    if (!s) return;
    for (size_t i = 0; s->lanes && i < s->nloops; i++)
        if (s->lanes[i]) lane_close(s->lanes[i]);
    if (s->lanes) lanes_groups_close(s);
    executor_free(s->ex); /* joins workers, then runs the last done() callbacks */
    executor_free(s->io); /* the same for the IO threads */
    for (size_t i = s->nloops; s->lanes && i-- > 0;) /* lane 0, which owns most, last */
        lane_free(s->lanes[i]);
    for (size_t i = 0; s->shared && i < s->groups.n; i++)
        if (s->groups.v[i]->shared_free) s->groups.v[i]->shared_free(s->shared[i]);
    for (size_t i = 0; s->board && i < s->nloops; i++)
        loopstats_destroy(&s->board[i]);
    router_free(s->router);
    free(s->shared);
    free(s->board);
    free(s->mailboxes);
    free(s->lanes);
    free(s);
}
