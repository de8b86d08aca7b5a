/*
 * probe.c - see probe.h. One non-blocking socket; every step (connect,
 * write, read) polls with what is left of the one deadline, so the probe
 * ends within timeout_ms whatever the server does.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_DEFAULT_TIMEOUT_MS 2000

typedef struct target {
    char host[256], port[8], path[1024];
} target;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* http://host[:port][/path] -> parts. 0 or -1. */
static int parse(const char *url, target *t)
{
    const char *p = url;
    if (strncmp(p, "http://", 7)) return -1;
    p += 7;
    const char *host = p, *host_end;
    if (*p == '[') { /* [IPv6] */
        host = ++p;
        host_end = strchr(p, ']');
        if (!host_end) return -1;
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/");
        p = host_end;
    }
    size_t hl = (size_t)(host_end - host);
    if (hl == 0 || hl >= sizeof(t->host)) return -1;
    memcpy(t->host, host, hl);
    t->host[hl] = '\0';
    strcpy(t->port, "80");
    if (*p == ':') {
        size_t pl = strspn(++p, "0123456789");
        if (pl == 0 || pl > 5 || atoi(p) < 1 || atoi(p) > 65535) return -1;
        memcpy(t->port, p, pl);
        t->port[pl] = '\0';
        p += pl;
    }
    if (*p && *p != '/') return -1;
    if (strlen(*p ? p : "/") >= sizeof(t->path)) return -1;
    strcpy(t->path, *p ? p : "/");
    for (const char *c = t->path; *c; c++)
        if (*c <= ' ' || *c == 0x7f) return -1; /* no spaces or controls in the request line */
    return 0;
}

/* Waits for events on fd until the deadline. 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd pfd = {.fd = fd, .events = events};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        return r < 0 ? -1 : r;
    }
}

static int connect_to(const target *t, long long deadline, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(t->host, t->port, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "cannot resolve %s: %s", t->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        int soerr = errno;
        if (soerr == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 1) {
            socklen_t len = sizeof(soerr);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            if (soerr == 0) break;
        } else if (soerr == EINPROGRESS) {
            soerr = ETIMEDOUT;
        }
        snprintf(err, errlen, "cannot connect to %s:%s: %s", t->host, t->port, strerror(soerr));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Sends the GET for t. 0, -ETIMEDOUT, or -1 (err says why). */
static int send_request(int fd, const target *t, long long deadline, char *err, size_t errlen)
{
    char req[1400];
    int v6 = strchr(t->host, ':') != NULL; /* an IPv6 address goes in brackets (RFC 9110 7.2) */
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.0\r\nHost: %s%s%s:%s\r\nUser-Agent: iocpu-probe\r\n"
                     "Connection: close\r\n\r\n",
                     t->path, v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
    size_t sent = 0;
    while (sent < (size_t)n) {
        ssize_t w = send(fd, req + sent, (size_t)n - sent, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) != 1) return -ETIMEDOUT;
        } else {
            snprintf(err, errlen, "send: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Reads the status line ("HTTP/1.x NNN ..."; only it matters) and returns
 * its code, -ETIMEDOUT, or -1 (err says why). */
static int read_status(int fd, const target *t, long long deadline, char *err, size_t errlen)
{
    char line[64];
    size_t got = 0;
    while (got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
        ssize_t r = recv(fd, line + got, sizeof(line) - 1 - got, 0);
        if (r > 0) {
            got += (size_t)r;
        } else if (r == 0) {
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (wait_fd(fd, POLLIN, deadline) != 1) return -ETIMEDOUT;
        } else {
            snprintf(err, errlen, "recv: %s", strerror(errno));
            return -1;
        }
    }
    line[got] = '\0';
    int code;
    char sp;
    if (sscanf(line, "HTTP/1.%*1[01] %3d%c", &code, &sp) != 2 || sp != ' ' || code < 100) {
        snprintf(err, errlen, "not an HTTP response from %s:%s", t->host, t->port);
        return -1;
    }
    return code;
}

int probe_url(const char *url, int timeout_ms, int *status, char *err, size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    *status = 0;
    err[0] = '\0';
    target t;
    if (parse(url, &t) < 0) {
        snprintf(err, errlen, "not an http://host[:port][/path] URL: %s", url);
        return PROBE_BAD_URL;
    }
    long long deadline = now_ms() + timeout_ms;
    int fd = connect_to(&t, deadline, err, errlen);
    if (fd < 0) return PROBE_FAILED;
    int code = send_request(fd, &t, deadline, err, errlen);
    if (code == 0) code = read_status(fd, &t, deadline, err, errlen);
    close(fd);
    if (code == -ETIMEDOUT)
        snprintf(err, errlen, "no answer from %s within %d ms", url, timeout_ms);
    if (code < 0) return PROBE_FAILED;
    *status = code;
    if (code >= 200 && code < 300) return PROBE_OK;
    snprintf(err, errlen, "%s answered %d", url, code);
    return PROBE_STATUS;
}

int probe_main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: iocpu --probe http://host[:port][/path] [timeout_ms]\n");
        return PROBE_BAD_URL;
    }
    int timeout = PROBE_DEFAULT_TIMEOUT_MS;
    if (argc == 4) {
        char *end;
        long v = strtol(argv[3], &end, 10);
        if (*end || v < 1 || v > 600000) {
            fprintf(stderr, "iocpu: --probe: timeout_ms must be 1..600000\n");
            return PROBE_BAD_URL;
        }
        timeout = (int)v;
    }
    int status;
    char err[512];
    int rc = probe_url(argv[2], timeout, &status, err, sizeof(err));
    if (rc != PROBE_OK) fprintf(stderr, "iocpu: probe: %s\n", err);
    return rc;
}
