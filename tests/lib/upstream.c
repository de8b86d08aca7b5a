/*
 * upstream.c - the fetch tests' loopback upstream (upstream.h): one thread,
 * poll() over the listener and up to 64 connections.
 */
#include "upstream.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define MAXC 64

typedef struct conn {
    int fd;
    int answered;
    double due; /* when to answer (UP_RESPOND with a delay), 0 = not yet asked */
    char req[4096];
    size_t len;
} conn;

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void answer(upstream *u, conn *c)
{
    char head[512];
    c->answered = 1;
    if (u->mode == UP_HANG) return;
    if (u->mode == UP_REDIRECT) {
        snprintf(head, sizeof(head),
                 "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n", u->location);
        send_all(c->fd, head, strlen(head));
        return;
    }
    if (u->mode == UP_UNSIZED)
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    else
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", u->body_len);
    send_all(c->fd, head, strlen(head));
    char *body = malloc(u->body_len + 1);
    memset(body, 'x', u->body_len);
    send_all(c->fd, body, u->body_len);
    free(body);
    if (u->mode == UP_UNSIZED) shutdown(c->fd, SHUT_WR);
}

/* Data or EOF on a connection: 1 when it closed. */
static int on_readable(upstream *u, conn *c)
{
    char tmp[4096];
    ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return 1;
    size_t take = (size_t)n < sizeof(c->req) - 1 - c->len ? (size_t)n : sizeof(c->req) - 1 - c->len;
    memcpy(c->req + c->len, tmp, take);
    c->len += take;
    c->req[c->len] = '\0';
    if (!c->due && !c->answered && strstr(c->req, "\r\n\r\n")) c->due = now_secs() + u->delay;
    return 0;
}

static void accept_one(upstream *u, conn *cs, int *nc)
{
    int fd = accept(u->fd, NULL, NULL);
    if (fd < 0) return;
    atomic_fetch_add(&u->accepts, 1);
    if (*nc == MAXC) {
        close(fd);
        atomic_fetch_add(&u->closes, 1);
        return;
    }
    memset(&cs[*nc], 0, sizeof(conn));
    cs[(*nc)++].fd = fd;
}

static void *serve(void *arg)
{
    upstream *u = arg;
    conn *cs = calloc(MAXC, sizeof(conn));
    int nc = 0;
    for (;;) {
        struct pollfd p[MAXC + 2];
        memset(p, 0, sizeof(p));
        p[0] = (struct pollfd){.fd = u->stop_pipe[0], .events = POLLIN};
        p[1] = (struct pollfd){.fd = u->fd, .events = POLLIN};
        for (int i = 0; i < nc; i++)
            p[i + 2] = (struct pollfd){.fd = cs[i].fd, .events = POLLIN};
        if (poll(p, (nfds_t)nc + 2, 10) < 0 && errno != EINTR) break;
        if (p[0].revents) break;
        if (p[1].revents & POLLIN) accept_one(u, cs, &nc);
        for (int i = nc - 1; i >= 0; i--) {
            int closed =
                (p[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) && on_readable(u, &cs[i]);
            if (!closed && cs[i].due && !cs[i].answered && now_secs() >= cs[i].due)
                answer(u, &cs[i]);
            if (closed) {
                close(cs[i].fd);
                atomic_fetch_add(&u->closes, 1);
                cs[i] = cs[--nc];
            }
        }
    }
    for (int i = 0; i < nc; i++)
        close(cs[i].fd);
    free(cs);
    return NULL;
}

void upstream_start(upstream *u, const char *addr, uint16_t port, enum upstream_mode mode)
{
    u->mode = mode;
    atomic_store(&u->accepts, 0);
    atomic_store(&u->closes, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    cr_assert_eq(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
    u->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    cr_assert_eq(bind(u->fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s:%u: %s", addr, port,
                 strerror(errno));
    cr_assert_eq(listen(u->fd, 64), 0);
    socklen_t len = sizeof(sa);
    getsockname(u->fd, (struct sockaddr *)&sa, &len);
    u->port = ntohs(sa.sin_port);
    cr_assert_eq(pipe(u->stop_pipe), 0);
    cr_assert_eq(pthread_create(&u->thread, NULL, serve, u), 0);
}

void upstream_stop(upstream *u)
{
    ssize_t w = write(u->stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(u->thread, NULL);
    close(u->fd);
    close(u->stop_pipe[0]);
    close(u->stop_pipe[1]);
}

int upstream_closes_within(upstream *u, int want, double secs)
{
    double end = now_secs() + secs;
    while (atomic_load(&u->closes) < want && now_secs() < end)
        usleep(5000);
    return atomic_load(&u->closes);
}
