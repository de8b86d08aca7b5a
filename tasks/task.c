/*
 * task.c - the shared task model (task.h): ids, status names, the API view.
 */
#define _GNU_SOURCE
#include "task.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "json_out.h"
#include "numparse.h"
#include "prom.h"

#define ID_BYTES TASK_ID_BYTES

const char *task_status_name(enum task_status s)
{
    switch (s) {
    case TASK_QUEUED:
        return "queued";
    case TASK_RUNNING:
        return "running";
    case TASK_DONE:
        return "done";
    case TASK_CANCELLED:
        return "cancelled";
    case TASK_FAILED:
        return "failed";
    }
    return "unknown";
}

int task_status_ended(enum task_status s)
{
    return s == TASK_DONE || s == TASK_CANCELLED || s == TASK_FAILED;
}

int task_id_new(uint8_t raw[TASK_ID_BYTES], char id[TASK_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t got = 0;
    while (got < ID_BYTES) {
        ssize_t r = getrandom(raw + got, ID_BYTES - got, 0);
        if (r < 0 && errno != EINTR) return -errno;
        if (r > 0) got += (size_t)r;
    }
    for (int i = 0; i < ID_BYTES; i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[TASK_ID_LEN] = '\0';
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int task_id_parse(const char *id, uint8_t raw[TASK_ID_BYTES])
{
    if (strlen(id) != TASK_ID_LEN) return -1;
    for (int i = 0; i < ID_BYTES; i++) {
        int hi = hex_value(id[2 * i]), lo = hex_value(id[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        raw[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

json_t *task_view_json(const task_view *v, const char *public_id)
{
    const task_spec *s = &v->spec;
    int io = s->kind == TASK_IO;
    json_t *o = json_pack("{s:s,s:s,s:s}", "id", public_id, "kind", io ? "io" : "cpu", "status",
                          task_status_name(v->status));
    if (io) {
        json_object_set_new(o, "delay", json_real(s->delay));
    } else {
        json_object_set_new(o, "n", json_integer((json_int_t)s->n));
        if (s->ms)
            json_object_set_new(o, "ms", json_integer((json_int_t)s->ms));
        else
            json_object_set_new(o, "iterations", json_integer((json_int_t)s->iterations));
    }
    if (v->status == TASK_DONE && io) {
        json_object_set_new(o, "result", json_fmt_delay("task done after ", s->delay, "s"));
    } else if (v->status == TASK_DONE) {
        json_object_set_new(o, "result", json_integer((json_int_t)v->sum));
        if (s->ms) /* the iterations that fitted in the CPU time */
            json_object_set_new(o, "iterations", json_integer((json_int_t)v->iterations));
    }
    if (v->status == TASK_FAILED)
        json_object_set_new(o, "error",
                            json_string(v->error_msg ? v->error_msg : strerror(-v->error)));
    json_object_set_new(o, "created_at", json_real(v->created_at));
    if (v->has_started) json_object_set_new(o, "started_at", json_real(v->started_at));
    if (v->has_finished) json_object_set_new(o, "finished_at", json_real(v->finished_at));
    if (v->has_started && v->has_finished) json_object_set_new(o, "elapsed", json_real(v->elapsed));
    if (v->attempts) json_object_set_new(o, "attempts", json_integer((json_int_t)v->attempts));
    if (v->runner) json_object_set_new(o, "runner", json_string(v->runner));
    if (v->trace_id[0]) json_object_set_new(o, "trace_id", json_string(v->trace_id));
    return o;
}

void task_counts_render(const uint64_t counts[TASK_NSTATUS], buf *b)
{
    prom_family(b, "iocpu_tasks", "gauge", "Tasks held by the /tasks queue, by status.");
    for (int i = 0; i < TASK_NSTATUS; i++) {
        char lbl[64] = "";
        prom_label(lbl, sizeof(lbl), "status", task_status_name((enum task_status)i));
        prom_sample_u64(b, "iocpu_tasks", lbl, counts[i]);
    }
}

/* An integer in [lo, hi] from text. 0 or -1. */
static int bounded_int(const char *text, int64_t lo, uint64_t hi, int64_t *out)
{
    int64_t v;
    if (parse_int64(text, &v) < 0 || v < lo || (v >= 0 && (uint64_t)v > hi)) return -1;
    *out = v;
    return 0;
}

int task_spec_field(task_spec *s, const char *name, const char *text, const task_limits *lim,
                    char *why, size_t len)
{
    int64_t i = 0;
    double d = 0;
    int bad = 0;
    if (!strcmp(name, "kind")) {
        bad = strcmp(text, "io") && strcmp(text, "cpu");
        if (!bad) s->kind = strcmp(text, "io") ? TASK_CPU : TASK_IO;
    } else if (!strcmp(name, "delay")) {
        bad = parse_double(text, &d) < 0 || !(d >= 0 && d <= lim->max_delay);
        if (!bad) s->delay = d;
    } else if (!strcmp(name, "n")) {
        bad = bounded_int(text, INT64_MIN, INT64_MAX, &i) < 0;
        if (!bad) s->n = i;
    } else if (!strcmp(name, "iterations")) {
        bad = bounded_int(text, 0, lim->max_iterations, &i) < 0;
        if (!bad) s->iterations = (uint64_t)i;
    } else if (!strcmp(name, "ms")) {
        bad = bounded_int(text, 0, lim->max_ms, &i) < 0;
        if (!bad) s->ms = (uint64_t)i;
    }
    if (bad) snprintf(why, len, "invalid %s in the task's record: %.40s", name, text);
    return bad ? -1 : 0;
}
