/*
 * access_log.c - non-blocking JSON-lines access log (see access_log.h).
 *
 * Cost: one formatted line and, while the descriptor keeps up, one write()
 * per request. Switching the descriptor to O_NONBLOCK changes its open file
 * description, which a terminal shares with stdin and stderr; the old flags
 * are put back by access_log_free().
 */
#define _GNU_SOURCE
#include "access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct access_log {
    loop *l;
    int fd;
    int old_flags; /* -1: left as it was */
    size_t cap;
    buf pend;    /* bytes not yet written; > cap only by the rest of a torn line */
    buf scratch; /* the line being formatted */
    loop_watcher w;
    int watchable; /* epoll accepts the fd (not a regular file) */
    uint64_t lines, dropped;
};

/* --- format ------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0xc2 || s[0] > 0xf4) return 0;
    if (s[0] < 0xe0) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] < 0xf0) {
        len = 3;
        cp = s[0] & 0x0f;
    } else {
        len = 4;
        cp = s[0] & 0x07;
    }
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* A JSON string literal of s; bytes that are not UTF-8 become U+FFFD. */
static void json_str(buf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)s);
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            buf_append(b, "\\", 1);
            buf_append(b, &c, 1);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            buf_printf(b, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            buf_append(b, &c, 1);
            i++;
        } else {
            size_t len = utf8_len(s + i, n - i);
            if (len) {
                buf_append(b, s + i, len);
                i += len;
            } else {
                buf_puts(b, "\\ufffd");
                i++;
            }
        }
    }
    buf_append(b, "\"", 1);
}

/* "2026-01-02T03:04:05.678Z" */
static void format_time(buf *b, uint64_t wall_ns)
{
    time_t secs = (time_t)(wall_ns / 1000000000u);
    struct tm tm;
    char when[40];
    gmtime_r(&secs, &tm);
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03uZ", (unsigned)(wall_ns % 1000000000u / 1000000u));
    buf_printf(b, "{\"time\":\"%s\"", when);
}

/* ,"trace_id":"...","span_id":"..." (hex, from trace.h: nothing to escape) */
static void format_trace(buf *b, const char *trace_id, const char *span_id)
{
    if (!trace_id || !span_id) return;
    buf_printf(b, ",\"trace_id\":\"%s\",\"span_id\":\"%s\"", trace_id, span_id);
}

void access_log_format(buf *b, const access_log_entry *e)
{
    format_time(b, e->wall_ns);
    buf_puts(b, ",\"method\":");
    json_str(b, e->method);
    buf_puts(b, ",\"path\":");
    json_str(b, e->path);
    buf_printf(b, ",\"status\":%u,\"duration_ms\":%.3f,\"bytes\":%llu,\"client\":", e->status,
               e->duration_ms, (unsigned long long)e->bytes);
    json_str(b, e->client);
    format_trace(b, e->trace_id, e->span_id);
    buf_puts(b, "}\n");
}

void access_log_format_task(buf *b, const access_log_task *e)
{
    format_time(b, e->wall_ns);
    buf_puts(b, ",\"event\":\"task_run\",\"task\":");
    json_str(b, e->task);
    buf_puts(b, ",\"kind\":");
    json_str(b, e->kind);
    if (e->attempt) buf_printf(b, ",\"attempt\":%u", e->attempt);
    format_trace(b, e->trace_id, e->span_id);
    if (e->trace_id && e->parent_id) buf_printf(b, ",\"parent_id\":\"%s\"", e->parent_id);
    buf_puts(b, "}\n");
}

/* --- writing ----------------------------------------------------------------- */

static uint64_t count_lines(const char *p, size_t n)
{
    uint64_t k = 0;
    if (n == 0) return 0;
    for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))); q++)
        k++;
    return k;
}

/* At most PIPE_BUF bytes that end a line: a pipe takes such a write whole or
 * not at all, so lines written by several loops to one stdout never mix. A
 * single line longer than that goes whole (and may be split). */
static size_t chunk_len(const char *p, size_t len)
{
    if (len <= PIPE_BUF) return len;
    const char *nl = memrchr(p, '\n', PIPE_BUF);
    return nl ? (size_t)(nl - p) + 1 : len;
}

/* Writes what it can of pend. 0 when empty, 1 when more waits (EAGAIN). */
static int flush(access_log *al)
{
    while (al->pend.len) {
        ssize_t n = write(al->fd, al->pend.p, chunk_len(al->pend.p, al->pend.len));
        if (n > 0) {
            al->lines += count_lines(al->pend.p, (size_t)n);
            buf_consume(&al->pend, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) return 1;
        /* a broken descriptor (EPIPE, ENOSPC, ...): what waits is lost */
        al->dropped += count_lines(al->pend.p, al->pend.len);
        buf_consume(&al->pend, al->pend.len);
    }
    return 0;
}

static void update_watch(access_log *al)
{
    if (!al->watchable) return;
    if (al->pend.len && !al->w.active_) {
        if (loop_watch(al->l, &al->w, EPOLLOUT) < 0)
            al->watchable = 0; /* retried on the next line instead */
    } else if (!al->pend.len) {
        loop_unwatch(al->l, &al->w);
    }
}

static void on_writable(loop_watcher *w, uint32_t events)
{
    access_log *al = w->data;
    (void)events;
    flush(al);
    update_watch(al);
}

int access_log_new(access_log **out, loop *l, int fd, size_t cap)
{
    access_log *al = calloc(1, sizeof(*al));
    if (!al) return -ENOMEM;
    struct stat st;
    al->l = l;
    al->fd = fd;
    al->cap = cap;
    al->old_flags = -1;
    al->w.fd = fd;
    al->w.cb = on_writable;
    al->w.data = al;
    if (fstat(fd, &st) < 0) goto err;
    if (!S_ISREG(st.st_mode)) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) goto err;
        al->old_flags = flags;
        al->watchable = 1;
    }
    *out = al;
    return 0;
err:;
    int err = -errno;
    free(al);
    return err;
}

void access_log_free(access_log *al, int flush_ms)
{
    if (!al) return;
    loop_unwatch(al->l, &al->w);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (flush(al) == 1) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= flush_ms) break;
        struct pollfd pfd = {.fd = al->fd, .events = POLLOUT};
        poll(&pfd, 1, (int)(flush_ms - spent));
    }
    al->dropped += count_lines(al->pend.p, al->pend.len);
    if (al->old_flags >= 0) fcntl(al->fd, F_SETFL, al->old_flags);
    buf_free(&al->pend);
    buf_free(&al->scratch);
    free(al);
}

/* Queues bytes; force: the rest of a torn line, kept whatever the bound. */
static void enqueue(access_log *al, const char *p, size_t len, int force)
{
    if (!force && al->pend.len + len > al->cap) {
        al->dropped++;
        return;
    }
    buf_append(&al->pend, p, len);
    if (al->pend.oom) { /* the buffer is unusable now: count what it held as lost */
        al->dropped += count_lines(al->pend.p, al->pend.len) + 1;
        buf_free(&al->pend);
    }
}

/* Writes (or queues, or drops) the line formatted in al->scratch. */
static void emit(access_log *al)
{
    if (al->scratch.oom) {
        al->dropped++;
        buf_free(&al->scratch);
        return;
    }
    const char *p = al->scratch.p;
    size_t len = al->scratch.len;
    if (al->pend.len && !al->watchable)
        flush(al); /* no watcher tells us when it drains: retry with every line */
    if (al->pend.len) {
        enqueue(al, p, len, 0); /* keep the order: behind what waits */
    } else {
        ssize_t n;
        do
            n = write(al->fd, p, len);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)len)
            al->lines++;
        else if (n > 0)
            enqueue(al, p + n, len - (size_t)n, 1);
        else if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
            enqueue(al, p, len, 0);
        else
            al->dropped++;
    }
    update_watch(al);
}

void access_log_write(access_log *al, const access_log_entry *e)
{
    buf_consume(&al->scratch, al->scratch.len);
    access_log_format(&al->scratch, e);
    emit(al);
}

void access_log_write_task(access_log *al, const access_log_task *e)
{
    buf_consume(&al->scratch, al->scratch.len);
    access_log_format_task(&al->scratch, e);
    emit(al);
}

uint64_t access_log_lines(const access_log *al)
{
    return al->lines;
}

uint64_t access_log_dropped(const access_log *al)
{
    return al->dropped;
}

size_t access_log_pending(const access_log *al)
{
    return al->pend.len;
}
