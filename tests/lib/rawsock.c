/*
 * rawsock.c - see rawsock.h.
 */
#define _GNU_SOURCE
#include "rawsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int raw_send(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int raw_count(const raw_reply *r, const char *needle)
{
    size_t nl = strlen(needle);
    int n = 0;
    for (const char *p = r->data; p && (p = memmem(p, r->len - (size_t)(p - r->data), needle, nl));
         p += nl)
        n++;
    return n;
}

void raw_read(int fd, double timeout_s, const char *want, int count, raw_reply *out)
{
    memset(out, 0, sizeof(*out));
    size_t cap = 4096;
    out->data = calloc(1, cap + 1);
    double t0 = mono();
    for (;;) {
        if (want && raw_count(out, want) >= count) break;
        double left = timeout_s - (mono() - t0);
        if (left <= 0) break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, (int)(left * 1000) + 1);
        if (rc < 0 && errno == EINTR) continue;
        if (rc <= 0) continue;
        if (out->len == cap) {
            cap *= 2;
            out->data = realloc(out->data, cap + 1);
        }
        ssize_t k = recv(fd, out->data + out->len, cap - out->len, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) { /* EOF, or a reset */
            out->closed = 1;
            break;
        }
        out->len += (size_t)k;
        out->data[out->len] = '\0';
    }
    out->secs = mono() - t0;
}

void raw_reply_free(raw_reply *r)
{
    free(r->data);
    memset(r, 0, sizeof(*r));
}

void raw_exchange(uint16_t port, const void *data, size_t n, double timeout_s, raw_reply *out)
{
    int fd = raw_connect(port);
    if (fd < 0) {
        memset(out, 0, sizeof(*out));
        out->data = calloc(1, 1);
        out->closed = 1;
        return;
    }
    raw_send(fd, data, n); /* the server may answer and close before it has it all */
    raw_read(fd, timeout_s, NULL, 0, out);
    close(fd);
}

int raw_status(const raw_reply *r)
{
    int code = 0;
    if (r->len >= 12 && !strncmp(r->data, "HTTP/1.", 7)) code = atoi(r->data + 9);
    return code;
}
