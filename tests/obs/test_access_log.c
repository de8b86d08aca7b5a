/*
 * test_access_log.c - the access log (obs/access_log.c): the JSON line
 * format, lines reaching a pipe, a reader that stops reading (the writer
 * never blocks, drops and counts what does not fit, never tears a line, and
 * catches up through the loop once the reader reads again), and the
 * descriptor's flags restored at the end.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "buf.h"
#include "loop.h"

TestSuite(access_log, .timeout = 30);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static access_log_entry entry(const char *path)
{
    return (access_log_entry){
        .wall_ns = 1767323045678000000ull, /* 2026-01-02T03:04:05.678Z */
        .method = "GET",
        .path = path,
        .client = "127.0.0.1",
        .status = 200,
        .duration_ms = 1000.1234,
        .bytes = 84,
    };
}

Test(access_log, line_format)
{
    buf b = BUF_INIT;
    access_log_entry e = entry("/io/job");
    access_log_format(&b, &e);
    cr_assert_str_eq(b.p, "{\"time\":\"2026-01-02T03:04:05.678Z\",\"method\":\"GET\",\"path\":"
                          "\"/io/job\",\"status\":200,\"duration_ms\":1000.123,\"bytes\":84,"
                          "\"client\":\"127.0.0.1\"}\n");
    buf_free(&b);
}

Test(access_log, any_path_gives_valid_json)
{
    /* a quote, a backslash, a control byte, valid UTF-8 and a lone continuation byte */
    const char *path = "/a\"b\\c\x01"
                       "d/\xc3\xa9t\xc3\xa9/\x80z";
    buf b = BUF_INIT;
    access_log_entry e = entry(path);
    access_log_format(&b, &e);
    json_error_t err;
    json_t *o = json_loads(b.p, 0, &err);
    cr_assert_not_null(o, "%s: %s", err.text, b.p);
    cr_assert_str_eq(json_string_value(json_object_get(o, "path")),
                     "/a\"b\\c\x01"
                     "d/\xc3\xa9t\xc3\xa9/\xef\xbf\xbdz");
    json_decref(o);
    buf_free(&b);
}

Test(access_log, lines_reach_the_descriptor)
{
    int fds[2];
    loop *l;
    access_log *al;
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(access_log_new(&al, l, fds[1], 4096), 0);
    cr_assert(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
    for (int i = 0; i < 3; i++) {
        access_log_entry e = entry(i == 1 ? "/b" : "/a");
        access_log_write(al, &e);
    }
    cr_assert_eq(access_log_lines(al), 3);
    cr_assert_eq(access_log_dropped(al), 0);
    char got[2048] = {0};
    ssize_t n = read(fds[0], got, sizeof(got) - 1);
    cr_assert_gt(n, 0);
    char *second = strchr(got, '\n') + 1;
    cr_assert(!strncmp(second, "{\"time\":", 8) && strstr(second, "\"path\":\"/b\""), "%s", got);
    access_log_free(al, 0);
    cr_assert_eq(fcntl(fds[1], F_GETFL) & O_NONBLOCK, 0, "blocking mode restored");
    loop_free(l);
    close(fds[0]);
    close(fds[1]);
}

typedef struct reader {
    int fd;
    buf got;
} reader;

static void *read_all(void *p)
{
    reader *r = p;
    char tmp[4096];
    ssize_t n;
    while ((n = read(r->fd, tmp, sizeof(tmp))) > 0)
        buf_append(&r->got, tmp, (size_t)n);
    return NULL;
}

typedef struct drain {
    loop *l;
    access_log *al;
    timer t;
    double deadline;
} drain;

static void check_drained(timer *t)
{
    drain *d = t->data;
    if (access_log_pending(d->al) == 0 || now_s() > d->deadline)
        loop_stop(d->l);
    else
        loop_timer_start(d->l, &d->t, 5000000, check_drained, d);
}

Test(access_log, a_stalled_reader_never_blocks_the_writer)
{
    int fds[2];
    loop *l;
    access_log *al;
    enum { LINES = 2000, CAP = 16384 };
    cr_assert_eq(pipe(fds), 0);
    fcntl(fds[1], F_SETPIPE_SZ, 4096); /* a small pipe fills fast */
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(access_log_new(&al, l, fds[1], CAP), 0);

    double t0 = now_s();
    for (int i = 0; i < LINES; i++) { /* nobody reads yet */
        access_log_entry e = entry("/cpu/executor");
        e.status = (unsigned)i;
        access_log_write(al, &e);
    }
    cr_assert_lt(now_s() - t0, 2.0, "writing must not wait for the reader");
    uint64_t dropped = access_log_dropped(al), written = access_log_lines(al);
    cr_assert_gt(dropped, 0, "a full pipe and buffer drop lines");
    cr_assert_leq(access_log_pending(al), (size_t)CAP + 200, "the buffer stays bounded");
    cr_assert_gt(access_log_pending(al), 0);

    /* the reader wakes up: the loop flushes what waits as the pipe drains */
    reader r = {.fd = fds[0], .got = BUF_INIT};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, read_all, &r), 0);
    drain d = {.l = l, .al = al, .deadline = now_s() + 10};
    loop_timer_start(l, &d.t, 5000000, check_drained, &d);
    cr_assert_eq(loop_run(l), 0);
    cr_assert_eq(access_log_pending(al), 0, "the loop flushed the buffer");
    cr_assert_eq(access_log_dropped(al), dropped, "nothing more was dropped");
    uint64_t lines = access_log_lines(al);
    cr_assert_eq(lines + dropped, LINES, "%llu written + %llu dropped", (unsigned long long)lines,
                 (unsigned long long)dropped);
    cr_assert_gt(lines, written);
    access_log_free(al, 0);
    close(fds[1]);
    pthread_join(th, NULL);
    close(fds[0]);

    /* every line arrived whole and in order */
    size_t n = 0;
    long last = -1;
    for (char *p = r.got.p, *nl; p && (nl = strchr(p, '\n')); p = nl + 1, n++) {
        *nl = '\0';
        json_t *o = json_loads(p, 0, NULL);
        cr_assert_not_null(o, "torn line %zu: %s", n, p);
        long status = (long)json_integer_value(json_object_get(o, "status"));
        cr_assert_gt(status, last, "lines out of order");
        last = status;
        json_decref(o);
    }
    cr_assert_eq(n, lines);
    buf_free(&r.got);
    loop_free(l);
}

Test(access_log, regular_file_keeps_its_flags)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    int fd = fileno(f);
    int before = fcntl(fd, F_GETFL);
    loop *l;
    access_log *al;
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(access_log_new(&al, l, fd, 4096), 0);
    cr_assert_eq(fcntl(fd, F_GETFL), before);
    access_log_entry e = entry("/x");
    access_log_write(al, &e);
    cr_assert_eq(access_log_lines(al), 1);
    access_log_free(al, 100);
    buf line = BUF_INIT;
    access_log_format(&line, &e);
    cr_assert_eq(lseek(fd, 0, SEEK_CUR), (off_t)line.len);
    buf_free(&line);
    fclose(f);
    loop_free(l);
}
