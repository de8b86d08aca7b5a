/*
 * test_http_trace.c - W3C traceparent over HTTP (obs/trace.h, http/http.c):
 * every answer carries one; a valid header's trace is continued with a span
 * of ours, an invalid (or a repeated) one is ignored and a new trace begun;
 * the access log names the same trace and span; a task created in the
 * memory backend keeps the trace and its task_run line names the request's
 * span as its parent.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define GOOD "traceparent: 00-" TID "-00f067aa0ba902b7-01"

static test_server ts;

TestSuite(http_trace, .timeout = 60);

/* The traceparent of an answer, checked for shape. */
static void answer_trace(const http_res *r, char out[64])
{
    cr_assert_eq(http_header(r, "traceparent", out, 64), 0, "no traceparent:\n%s", r->headers);
    cr_assert_eq(strlen(out), 55, "%s", out);
    cr_assert_eq(strncmp(out, "00-", 3), 0, "%s", out);
    cr_assert(out[35] == '-' && out[52] == '-', "%s", out);
}

Test(http_trace, a_valid_traceparent_is_continued)
{
    ts_start(&ts, NULL);
    http_res r;
    char tp[64];
    http_do_hdr(&ts, NULL, "/healthz", NULL, GOOD, &r);
    answer_trace(&r, tp);
    cr_assert_eq(strncmp(tp + 3, TID, 32), 0, "the caller's trace: %s", tp);
    cr_assert_neq(strncmp(tp + 36, "00f067aa0ba902b7", 16), 0, "a span of ours: %s", tp);
    cr_assert_str_eq(tp + 52, "-01");
    http_res_free(&r);
    /* errors carry it too */
    http_do_hdr(&ts, NULL, "/io/job?delay=-1", NULL, GOOD, &r);
    cr_assert_eq(r.status, 422);
    answer_trace(&r, tp);
    cr_assert_eq(strncmp(tp + 3, TID, 32), 0, "%s", tp);
    http_res_free(&r);
    ts_stop(&ts);
}

Test(http_trace, invalid_or_repeated_traceparents_start_a_new_trace)
{
    static const char *const bad[] = {
        "traceparent: 00-" TID "-00f067aa0ba902b7-01-extra",
        "traceparent: ff-" TID "-00f067aa0ba902b7-01",
        "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "traceparent: 00-" TID "-0000000000000000-01",
        "traceparent: 00-" TID "-00f067aa0ba902b7",
        GOOD "\ntraceparent: 00-" TID "-00f067aa0ba902b8-01",
    };
    ts_start(&ts, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http_res r;
        char tp[64];
        http_do_headers(&ts, NULL, "/healthz", NULL, bad[i], &r);
        cr_assert_eq(r.status, 200, "ignored, not refused: %s", bad[i]);
        answer_trace(&r, tp);
        cr_assert_neq(strncmp(tp + 3, TID, 32), 0, "%s: continued as %s", bad[i], tp);
        http_res_free(&r);
    }
    ts_stop(&ts);
}

static void log_on(config *c)
{
    c->access_log = 1;
}

Test(http_trace, the_access_log_and_a_task_carry_the_trace)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    cr_assert_eq(dup2(fds[1], STDOUT_FILENO), STDOUT_FILENO);
    ts_start(&ts, log_on);
    http_res r;
    char tp[64], id[64];
    http_do_hdr(&ts, "POST", "/tasks", "{\"kind\":\"io\",\"delay\":0}", GOOD, &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    answer_trace(&r, tp);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r.json, "id")));
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "trace_id")), TID);
    http_res_free(&r);
    ts_stop(&ts);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(fds[1]);
    static char out[1 << 16];
    ssize_t got = read(fds[0], out, sizeof(out) - 1);
    out[got > 0 ? got : 0] = '\0';
    close(fds[0]);
    char span[17];
    snprintf(span, sizeof(span), "%.16s", tp + 36);
    int saw_request = 0, saw_run = 0;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(line, 0, NULL);
        cr_assert_not_null(o, "not JSON: %s", line);
        const char *event = json_string_value(json_object_get(o, "event"));
        cr_assert_str_eq(json_string_value(json_object_get(o, "trace_id")), TID, "%s", line);
        if (!event) {
            saw_request++;
            cr_assert_str_eq(json_string_value(json_object_get(o, "span_id")), span, "%s", line);
        } else {
            saw_run++;
            cr_assert_str_eq(event, "task_run");
            cr_assert_str_eq(json_string_value(json_object_get(o, "task")), id);
            cr_assert_str_eq(json_string_value(json_object_get(o, "parent_id")), span, "%s", line);
            cr_assert_str_neq(json_string_value(json_object_get(o, "span_id")), span);
        }
        json_decref(o);
    }
    cr_assert_eq(saw_request, 1, "%s", out);
    cr_assert_eq(saw_run, 1, "%s", out);
}
