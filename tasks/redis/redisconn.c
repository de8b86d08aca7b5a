/*
 * redisconn.c - a self-healing hiredis connection on the event loop.
 *
 * DESIGN
 * States: resolving (a host name: a resolver thread runs getaddrinfo, the
 * loop watches its eventfd) -> connecting (redisAsyncConnect to the numeric
 * address, bounded by CONNECT_TIMEOUT) -> up (after SELECT when a database
 * is given) -> down (retry timer armed with the backoff) -> resolving ...
 * A literal IP address skips resolving. The name is resolved again on every
 * attempt, so a Redis that comes back at another address is found.
 *
 * Threads: the resolver thread owns only its `resolver` struct's result
 * fields until it writes the eventfd; the loop reads them after the eventfd
 * is readable (the write/read pair orders them) and then joins the thread.
 * redisconn_stop() joins a resolver still running (getaddrinfo is bounded
 * by the resolver's own timeouts). Everything else is loop-thread only.
 */
#define _GNU_SOURCE
#include "redisconn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "redisev.h"

#define BACKOFF_MIN_NS 100000000ull  /* 0.1 s */
#define BACKOFF_MAX_NS 5000000000ull /* 5 s */
#define CONNECT_TIMEOUT_NS 2000000000ull

typedef struct resolver {
    redisconn *c;
    pthread_t th;
    int efd;
    loop_watcher w;
    char host[256];
    char addr[INET6_ADDRSTRLEN]; /* the result, "" on failure */
} resolver;

static void attempt(redisconn *c);

static void log_down(redisconn *c, const char *why)
{
    if (c->logged_down_) return; /* once per outage, not once per retry */
    c->logged_down_ = 1;
    fprintf(stderr, "iocpu: redis %s:%d (%s) unavailable: %s; retrying\n", c->url_.host,
            c->url_.port, c->name, why);
}

static void on_retry(timer *t)
{
    attempt(t->data);
}

/* Arms the next attempt: backoff with +-25 % jitter, doubled each time. */
static void schedule(redisconn *c)
{
    if (c->stopped_) return;
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) < 0) r = 0;
    uint64_t b = c->backoff_ns_;
    uint64_t delay = b - b / 4 + (b / 2) * (r % 1024) / 1024;
    c->backoff_ns_ = b * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : b * 2;
    loop_timer_start(c->l_, &c->retry_, delay, on_retry, c);
}

/* The connection ended (failed to come up, or dropped). */
static void lost(redisconn *c, const char *why)
{
    int was_up = c->up;
    c->ac = NULL;
    c->up = 0;
    loop_timer_cancel(c->l_, &c->connect_tm_);
    log_down(c, why);
    if (was_up && c->on_down) c->on_down(c);
    schedule(c);
}

static void became_up(redisconn *c)
{
    loop_timer_cancel(c->l_, &c->connect_tm_);
    c->up = 1;
    c->backoff_ns_ = BACKOFF_MIN_NS;
    if (c->logged_down_)
        fprintf(stderr, "iocpu: redis %s:%d (%s) connected\n", c->url_.host, c->url_.port, c->name);
    c->logged_down_ = 0;
    if (c->on_up) c->on_up(c);
}

/* A reply to AUTH or SELECT: up once the last one came back fine. Redis's
 * own error text never holds the password (WRONGPASS, NOAUTH, NOPERM ...). */
static void on_handshake(redisAsyncContext *ac, void *reply, void *priv)
{
    redisconn *c = priv;
    redisReply *rep = reply;
    if (!rep || c->ac != ac) return; /* the connection is going away */
    if (rep->type == REDIS_REPLY_ERROR) {
        log_down(c, rep->str);
        c->handshake_ = 0;
        redisAsyncDisconnect(ac); /* on_disconnect retries */
        return;
    }
    if (c->handshake_ && --c->handshake_ == 0) became_up(c);
}

/* Queues AUTH (with a password) and SELECT (with a database) on a new
 * connection: hiredis sends them once it is connected. -1 when it cannot. */
static int handshake(redisconn *c, redisAsyncContext *ac)
{
    const redis_url *u = &c->url_;
    c->handshake_ = (u->password[0] != 0) + (u->db != 0);
    if (u->password[0] && u->user[0] &&
        redisAsyncCommand(ac, on_handshake, c, "AUTH %s %s", u->user, u->password) != REDIS_OK)
        return -1;
    if (u->password[0] && !u->user[0] &&
        redisAsyncCommand(ac, on_handshake, c, "AUTH %s", u->password) != REDIS_OK)
        return -1;
    if (u->db && redisAsyncCommand(ac, on_handshake, c, "SELECT %d", u->db) != REDIS_OK) return -1;
    return 0;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    redisconn *c = ac->data;
    if (!c || c->ac != ac) return;
    if (status != REDIS_OK) { /* hiredis frees ac after this */
        lost(c, ac->errstr ? ac->errstr : "connect failed");
        return;
    }
    if (!c->handshake_) became_up(c); /* nothing to wait for (no AUTH, no SELECT) */
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    redisconn *c = ac->data;
    if (!c || c->ac != ac) return;
    lost(c, status == REDIS_OK ? "connection closed" : ac->errstr ? ac->errstr : "error");
}

static void on_connect_timeout(timer *t)
{
    redisconn *c = t->data;
    redisAsyncContext *ac = c->ac;
    if (!ac || c->up) return;
    ac->data = NULL; /* no callbacks into c from the free below */
    c->ac = NULL;
    redisAsyncFree(ac);
    lost(c, "connect timed out");
}

static void connect_to(redisconn *c, const char *addr)
{
    redisAsyncContext *ac = redisAsyncConnect(addr, c->url_.port);
    if (!ac) {
        lost(c, "out of memory");
        return;
    }
    if (ac->err || redisev_attach(c->l_, ac) < 0) {
        char why[128];
        snprintf(why, sizeof(why), "%s", ac->err ? ac->errstr : "cannot watch the socket");
        redisAsyncFree(ac);
        lost(c, why);
        return;
    }
    ac->data = c;
    c->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    loop_timer_start(c->l_, &c->connect_tm_, CONNECT_TIMEOUT_NS, on_connect_timeout, c);
    if (handshake(c, ac) < 0) redisAsyncDisconnect(ac);
}

/* --- resolving a host name off the loop thread --------------------------- */

static void *resolve_main(void *p)
{
    resolver *r = p;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    r->addr[0] = '\0';
    if (getaddrinfo(r->host, NULL, &hints, &ai) == 0 && ai) {
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, r->addr, sizeof(r->addr), NULL, 0,
                        NI_NUMERICHOST))
            r->addr[0] = '\0';
        freeaddrinfo(ai);
    }
    uint64_t one = 1;
    ssize_t n = write(r->efd, &one, sizeof(one));
    (void)n; /* an eventfd write of 1 cannot fail short of overflow */
    return NULL;
}

static void resolver_free(redisconn *c)
{
    resolver *r = c->res_;
    if (!r) return;
    loop_unwatch(c->l_, &r->w);
    pthread_join(r->th, NULL);
    close(r->efd);
    free(r);
    c->res_ = NULL;
}

static void on_resolved(loop_watcher *w, uint32_t events)
{
    resolver *r = w->data;
    redisconn *c = r->c;
    char addr[sizeof(r->addr)];
    (void)events;
    memcpy(addr, r->addr, sizeof(addr));
    resolver_free(c); /* joins: the thread has written the eventfd, it is ending */
    if (!addr[0])
        lost(c, "cannot resolve the host name");
    else
        connect_to(c, addr);
}

static int is_numeric(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void attempt(redisconn *c)
{
    if (c->stopped_) return;
    if (is_numeric(c->url_.host)) {
        connect_to(c, c->url_.host);
        return;
    }
    resolver *r = calloc(1, sizeof(*r));
    if (!r) {
        lost(c, "out of memory");
        return;
    }
    r->c = c;
    snprintf(r->host, sizeof(r->host), "%s", c->url_.host);
    r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r->w.fd = r->efd;
    r->w.cb = on_resolved;
    r->w.data = r;
    if (r->efd < 0 || loop_watch(c->l_, &r->w, EPOLLIN) < 0) {
        if (r->efd >= 0) close(r->efd);
        free(r);
        lost(c, "cannot start the resolver");
        return;
    }
    if (pthread_create(&r->th, NULL, resolve_main, r)) {
        loop_unwatch(c->l_, &r->w);
        close(r->efd);
        free(r);
        lost(c, "cannot start the resolver");
        return;
    }
    c->res_ = r;
}

int redisconn_start(redisconn *c, loop *l, const redis_url *u)
{
    c->l_ = l;
    c->url_ = *u;
    c->ac = NULL;
    c->up = 0;
    c->stopped_ = 0;
    c->logged_down_ = 0;
    c->res_ = NULL;
    c->backoff_ns_ = BACKOFF_MIN_NS;
    attempt(c);
    return 0;
}

void redisconn_stop(redisconn *c)
{
    if (c->stopped_) return;
    c->stopped_ = 1;
    loop_timer_cancel(c->l_, &c->retry_);
    loop_timer_cancel(c->l_, &c->connect_tm_);
    resolver_free(c);
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    c->up = 0;
    if (ac) {
        ac->data = NULL; /* the callbacks below must not retry */
        redisAsyncFree(ac);
    }
}
