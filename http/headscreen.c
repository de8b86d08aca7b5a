/*
 * headscreen.c - see headscreen.h.
 */
#define _GNU_SOURCE
#include "headscreen.h"

#include <netinet/in.h>
#include <linux/tcp.h> /* glibc 2.36's struct tcp_info lacks tcpi_bytes_received */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* Where libmicrohttpd has read socket fd to: the bytes received less those
 * unread, the two read with nothing arriving in between. 0, or -1. */
static int read_position(int fd, uint64_t *pos)
{
    for (int tries = 0; tries < 4; tries++) {
        struct tcp_info ti;
        socklen_t tl = sizeof(ti);
        int before = 0, after = 0;
        if (ioctl(fd, FIONREAD, &before) < 0 ||
            getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 || ioctl(fd, FIONREAD, &after) < 0)
            return -1;
        if (tl < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
            return -1; /* a kernel older than 4.1 */
        if (before == after) {
            *pos = ti.tcpi_bytes_received - (uint64_t)after;
            return 0;
        }
    }
    return -1;
}

/* A head was passed whole: the next request begins after it and its body. */
static void advance(headscreen *hs, const prescreen_head *h)
{
    if (h->body_len < 0) hs->next_known = 0;
    hs->next += h->head_len + (uint64_t)(h->body_len > 0 ? h->body_len : 0);
}

headscreen_verdict headscreen_first(headscreen *hs, int fd, char *peek, size_t cap,
                                    const prescreen_limits *lim, unsigned *status, char *detail,
                                    size_t len)
{
    headscreen_reset(hs);
    ssize_t n = recv(fd, peek, cap, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) return HEAD_NOTHING;
    prescreen_head h;
    *status = prescreen(peek, (size_t)n, lim, &h, detail, len);
    if (!*status && h.complete) { /* the common case: no system call more */
        advance(hs, &h);
        return HEAD_PASS;
    }
    uint64_t pos; /* refused or incomplete: only if the bytes start the request */
    if (!hs->next_known || read_position(fd, &pos) < 0 || pos != hs->next) {
        hs->next_known = 0;
        return HEAD_LOST;
    }
    if (*status) return HEAD_REFUSE;
    if (!(hs->buf = malloc(cap))) {
        hs->next_known = 0;
        return HEAD_LOST;
    }
    memcpy(hs->buf, peek, (size_t)n);
    hs->len = (size_t)n;
    hs->start = pos;
    return HEAD_PENDING;
}

headscreen_verdict headscreen_more(headscreen *hs, int fd, char *peek, size_t cap,
                                   const prescreen_limits *lim, unsigned *status, char *detail,
                                   size_t len)
{
    uint64_t pos, next = hs->start + hs->len;        /* the first byte not yet seen */
    if (read_position(fd, &pos) < 0 || pos > next) { /* libmicrohttpd read bytes unseen */
        headscreen_overtaken(hs);
        return HEAD_LOST;
    }
    ssize_t n = recv(fd, peek, cap, MSG_PEEK | MSG_DONTWAIT);
    size_t skip = (size_t)(next - pos); /* unread bytes already seen */
    if (n <= 0 || (size_t)n <= skip) return HEAD_PENDING;
    size_t add = (size_t)n - skip;
    if (add > cap - hs->len) add = cap - hs->len;
    memcpy(hs->buf + hs->len, peek + skip, add);
    hs->len += add;
    prescreen_head h;
    *status = prescreen(hs->buf, hs->len, lim, &h, detail, len);
    if (!*status && !h.complete && hs->len < cap) return HEAD_PENDING;
    if (!*status) advance(hs, &h); /* passed (a head longer than cap was refused) */
    headscreen_reset(hs);
    return *status ? HEAD_REFUSE : HEAD_PASS;
}

void headscreen_reset(headscreen *hs)
{
    free(hs->buf);
    hs->buf = NULL;
    hs->len = 0;
}

void headscreen_overtaken(headscreen *hs)
{
    headscreen_reset(hs);
    hs->next_known = 0;
}
