/*
 * taskbody.c - POST /tasks body validation (taskbody.h).
 */
#include "taskbody.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const KINDS[] = {"io", "cpu", NULL};

/* An error about the body as a whole: loc ["body"] or ["body", pos]. */
static void body_error(params *p, long pos, const char *type, const char *msg, json_t *input,
                       json_t *ctx)
{
    json_t *loc = json_pack("[s]", p->where);
    if (pos >= 0) json_array_append_new(loc, json_integer(pos));
    json_t *e = json_pack("{s:s,s:o,s:s,s:o}", "type", type, "loc", loc, "msg", msg, "input",
                          input ? input : json_null());
    if (ctx) json_object_set_new(e, "ctx", ctx);
    json_array_append_new(p->errors, e);
}

/* The body as a JSON object, or NULL with the error recorded (as pydantic would). */
static json_t *parse_object(const char *body, size_t len, params *p)
{
    if (len == 0) {
        body_error(p, -1, "missing", "Field required", NULL, NULL);
        return NULL;
    }
    json_error_t err;
    json_t *o = json_loadb(body, len, JSON_DECODE_ANY, &err);
    if (!o) {
        body_error(p, (long)err.position, "json_invalid", "JSON decode error", json_object(),
                   json_pack("{s:s}", "error", err.text));
        return NULL;
    }
    if (!json_is_object(o)) {
        body_error(p, -1, "model_attributes_type",
                   "Input should be a valid dictionary or object to extract fields from", o, NULL);
        return NULL;
    }
    return o;
}

/* A number field (absent: def). 0 or -1 (error recorded). */
static int body_double(params *p, json_t *o, const char *name, double def, double lo, double hi,
                       double *out)
{
    json_t *v = json_object_get(o, name);
    *out = def;
    if (!v) return 0;
    if (!json_is_number(v)) {
        params_error(p, name, -1, "float_type", "Input should be a valid number", json_incref(v),
                     NULL);
        return -1;
    }
    *out = json_number_value(v);
    return param_check_double(p, name, -1, *out, lo, hi, json_incref(v));
}

/* An integer field: a JSON integer, or a float with no fractional part. */
static int body_int(params *p, json_t *o, const char *name, int64_t def, int64_t lo, int64_t hi,
                    int64_t *out)
{
    json_t *v = json_object_get(o, name);
    *out = def;
    if (!v) return 0;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d)) {
            params_error(p, name, -1, "int_from_float",
                         "Input should be a valid integer, got a number with a fractional part",
                         json_incref(v), NULL);
            return -1;
        }
        if (d < -0x1p63 || d >= 0x1p63) {
            params_error(p, name, -1, "int_parsing_size",
                         "Unable to parse input as an integer, exceeded maximum size",
                         json_incref(v), NULL);
            return -1;
        }
        *out = (int64_t)d;
    } else if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
    } else {
        params_error(p, name, -1, "int_type", "Input should be a valid integer", json_incref(v),
                     NULL);
        return -1;
    }
    return param_check_int(p, name, -1, *out, lo, hi, json_incref(v));
}

/* Fields of each kind; anything else is refused rather than ignored. */
static int allowed_field(enum task_kind kind, const char *key, int shaped)
{
    static const char *const io[] = {"kind", "delay", NULL};
    static const char *const cpu[] = {"kind", "n", "iterations", "ms", NULL};
    static const char *const shaping[] = {"dist",  "min",   "max",   "mean", "sd", "median",
                                          "sigma", "scale", "shape", "seed", NULL};
    for (const char *const *k = kind == TASK_IO ? io : cpu; *k; k++)
        if (!strcmp(*k, key)) return 1;
    for (const char *const *k = shaping; shaped && kind == TASK_IO && *k; k++)
        if (!strcmp(*k, key)) return 1;
    return 0;
}

static void shape_value_error(params *p, const char *name, const char *why, json_t *input)
{
    char msg[320];
    snprintf(msg, sizeof(msg), "Value error, %s", why);
    params_error(p, name, -1, "value_error", msg, input ? json_incref(input) : NULL, NULL);
}

/* "dist" and its parameters (each a number, every one required, none of
 * another dist), checked against the bound. */
static void parse_dist(const taskbody_limits *lim, params *p, json_t *o, taskbody_shape *shp)
{
    json_t *v = json_object_get(o, "dist");
    const char *name = "fixed";
    if (!json_is_string(v) ||
        param_choice(p, "dist", json_string_value(v), SHAPE_NAMES, &name) < 0) {
        if (!json_is_string(v))
            params_error(p, "dist", -1, "string_type", "Input should be a valid string",
                         json_incref(v), NULL);
        return;
    }
    shape *s = &shp->s;
    s->dist = (enum shape_dist)shape_dist_of(name);
    if (s->dist == SHAPE_FIXED) return;
    if (json_object_get(o, "delay"))
        shape_value_error(p, "delay", "give either delay or dist, not both",
                          json_object_get(o, "delay"));
    for (int i = 0; i < 2 && shape_param(s->dist, i); i++) {
        const char *pn = shape_param(s->dist, i);
        if (!json_object_get(o, pn))
            params_error(p, pn, -1, "missing", "Field required", NULL, NULL);
        else
            body_double(p, o, pn, 0, -INFINITY, INFINITY, &s->p[i]);
    }
    char why[256];
    int which;
    if (params_ok(p) && shape_check(s, lim->max_delay, why, sizeof(why), &which) < 0)
        shape_value_error(p, shape_param(s->dist, which), why,
                          json_object_get(o, shape_param(s->dist, which)));
}

/* An io task's shaping fields (allowed_field let them through). */
static void parse_shaping(const taskbody_limits *lim, params *p, json_t *o, taskbody_shape *shp)
{
    static const char *const params_[] = {"min",    "max",   "mean",  "sd",
                                          "median", "sigma", "scale", "shape"};
    memset(shp, 0, sizeof(*shp));
    if (json_object_get(o, "dist")) parse_dist(lim, p, o, shp);
    for (size_t i = 0; i < sizeof(params_) / sizeof(params_[0]); i++) {
        json_t *v = json_object_get(o, params_[i]);
        int mine = shape_param(shp->s.dist, 0) && !strcmp(shape_param(shp->s.dist, 0), params_[i]);
        mine |= shape_param(shp->s.dist, 1) && !strcmp(shape_param(shp->s.dist, 1), params_[i]);
        if (v && (!mine || shp->s.dist == SHAPE_FIXED))
            params_error(p, params_[i], -1, "extra_forbidden", "Extra inputs are not permitted",
                         json_incref(v), NULL);
    }
    int64_t seed;
    if (json_object_get(o, "seed") &&
        body_int(p, o, "seed", 0, 0, (int64_t)9007199254740991LL, &seed) == 0) {
        shp->seeded = 1;
        shp->seed = (uint64_t)seed;
    }
}

static void parse_kind(params *p, json_t *o, task_spec *spec)
{
    json_t *v = json_object_get(o, "kind");
    const char *kind = NULL;
    if (!v) {
        params_error(p, "kind", -1, "missing", "Field required", json_incref(o), NULL);
    } else if (!json_is_string(v)) {
        params_error(p, "kind", -1, "literal_error", "Input should be 'io' or 'cpu'",
                     json_incref(v), json_pack("{s:[s,s]}", "expected", KINDS[0], KINDS[1]));
    } else if (param_choice(p, "kind", json_string_value(v), KINDS, &kind) == 0) {
        spec->kind = !strcmp(kind, "io") ? TASK_IO : TASK_CPU;
    }
}

/* Validates the object into *spec (the same limits as /io/job and /cpu/executor). */
static void parse_spec(const taskbody_limits *lim, params *p, json_t *o, task_spec *spec,
                       taskbody_shape *shp)
{
    parse_kind(p, o, spec);
    if (!params_ok(p)) return; /* without a kind, no other field can be judged */
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (!allowed_field(spec->kind, key, shp != NULL))
            params_error(p, key, -1, "extra_forbidden", "Extra inputs are not permitted",
                         json_incref(v), NULL);
    }
    if (spec->kind == TASK_IO) {
        if (shp) parse_shaping(lim, p, o, shp);
        if (!shp || shp->s.dist == SHAPE_FIXED)
            body_double(p, o, "delay", 1.0, 0, lim->max_delay, &spec->delay);
        return;
    }
    int64_t n, it, ms;
    body_int(p, o, "n", 3, INT64_MIN, INT64_MAX, &n);
    json_t *raw_ms = json_object_get(o, "ms");
    if (raw_ms && json_object_get(o, "iterations")) {
        params_error(p, "ms", -1, "value_error",
                     "Value error, give either iterations or ms, not both", json_incref(raw_ms),
                     NULL);
        return;
    }
    spec->n = n;
    if (raw_ms) {
        if (body_int(p, o, "ms", 0, 0, lim->max_ms, &ms) == 0) spec->ms = (uint64_t)ms;
    } else if (body_int(p, o, "iterations", 1000000, 0, lim->max_iterations, &it) == 0) {
        spec->iterations = (uint64_t)it;
    }
}

int taskbody_parse_shaped(const char *body, size_t len, const taskbody_limits *lim, params *p,
                          task_spec *spec, taskbody_shape *shp)
{
    memset(spec, 0, sizeof(*spec));
    if (shp) memset(shp, 0, sizeof(*shp));
    json_t *o = parse_object(body, len, p);
    if (o) parse_spec(lim, p, o, spec, shp);
    json_decref(o);
    return params_ok(p) ? 0 : -1;
}

int taskbody_parse(const char *body, size_t len, const taskbody_limits *lim, params *p,
                   task_spec *spec)
{
    return taskbody_parse_shaped(body, len, lim, p, spec, NULL);
}
