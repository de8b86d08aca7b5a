/*
 * params.c - strict parsing and FastAPI-shaped validation errors.
 */
#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pyfloat.h"

#define NAME_MAX_BYTES 64

void params_init(params *p, const char *where)
{
    p->where = where;
    p->errors = json_array();
}

void params_free(params *p)
{
    json_decref(p->errors);
    p->errors = NULL;
}

json_t *params_detail(params *p)
{
    json_t *d = json_pack("{s:o}", "detail", p->errors);
    p->errors = json_array();
    return d;
}

void params_error(params *p, const char *name, long index, const char *type, const char *msg,
                  json_t *input, json_t *ctx)
{
    json_t *loc = json_pack("[s,s]", p->where, name);
    if (index >= 0) json_array_append_new(loc, json_integer(index));
    json_t *e = json_pack("{s:s,s:o,s:s}", "type", type, "loc", loc, "msg", msg);
    json_object_set_new(e, "input", input ? input : json_null());
    if (ctx) json_object_set_new(e, "ctx", ctx);
    json_array_append_new(p->errors, e);
}

/* The raw text as a JSON string, or null when it is not valid UTF-8. */
static json_t *raw_input(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    return j ? j : json_null();
}

static json_t *num_ctx(const char *key, double x)
{
    return json_pack("{s:f}", key, x);
}

int param_check_double(params *p, const char *name, long index, double x, double lo, double hi,
                       json_t *input)
{
    char msg[96], t[PYFLOAT_MAX];
    if (x < lo) {
        pyfloat_format(lo, t);
        snprintf(msg, sizeof(msg), "Input should be greater than or equal to %s", t);
        params_error(p, name, index, "greater_than_equal", msg, input, num_ctx("ge", lo));
        return -1;
    }
    if (x > hi) {
        pyfloat_format(hi, t);
        snprintf(msg, sizeof(msg), "Input should be less than or equal to %s", t);
        params_error(p, name, index, "less_than_equal", msg, input, num_ctx("le", hi));
        return -1;
    }
    json_decref(input);
    return 0;
}

int param_check_int(params *p, const char *name, long index, int64_t x, int64_t lo, int64_t hi,
                    json_t *input)
{
    char msg[96];
    if (x < lo) {
        snprintf(msg, sizeof(msg), "Input should be greater than or equal to %lld", (long long)lo);
        params_error(p, name, index, "greater_than_equal", msg, input,
                     json_pack("{s:I}", "ge", (json_int_t)lo));
        return -1;
    }
    if (x > hi) {
        snprintf(msg, sizeof(msg), "Input should be less than or equal to %lld", (long long)hi);
        params_error(p, name, index, "less_than_equal", msg, input,
                     json_pack("{s:I}", "le", (json_int_t)hi));
        return -1;
    }
    json_decref(input);
    return 0;
}

/* The item s[0..n) as a C string in tmp[cap]; NULL when it does not fit. */
static const char *item_text(const char *s, size_t n, char *tmp, size_t cap)
{
    if (n >= cap) return NULL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return tmp;
}

/* Records one parsing error of an item; -1. */
static int item_error(params *p, const char *name, long index, json_t *input, const char *type,
                      const char *msg)
{
    params_error(p, name, index, type, msg, input, NULL);
    return -1;
}

/* Parses the item s[0..n) as a float (into *d) or, with d NULL, an integer
 * (into *i), recording FastAPI's error when it is not one. *input gets the
 * item as JSON (the error took it on failure). 0 or -1. */
static int number_item(params *p, const char *name, long index, const char *s, size_t n, double *d,
                       int64_t *i, json_t **input)
{
    char tmp[64];
    *input = raw_input(s, n);
    const char *text = item_text(s, n, tmp, sizeof(tmp));
    if (d) {
        int rc = text ? parse_double(text, d) : -1;
        if (rc == -2)
            return item_error(p, name, index, *input, "finite_number",
                              "Input should be a finite number");
        if (rc < 0)
            return item_error(p, name, index, *input, "float_parsing",
                              "Input should be a valid number, unable to parse string as a number");
        return 0;
    }
    int rc = text ? parse_int64(text, i) : -1;
    if (rc == -2 || (!text && n > 0 && strspn(s, "+-0123456789") >= n))
        return item_error(p, name, index, *input, "int_parsing_size",
                          "Unable to parse input string as an integer, exceeded maximum size");
    if (rc < 0)
        return item_error(p, name, index, *input, "int_parsing",
                          "Input should be a valid integer, unable to parse string as an integer");
    return 0;
}

/* Parses one float item s[0..n) and range-checks it. */
static int double_item(params *p, const char *name, long index, const char *s, size_t n, double lo,
                       double hi, double *out)
{
    json_t *input;
    if (number_item(p, name, index, s, n, out, NULL, &input) < 0) return -1;
    return param_check_double(p, name, index, *out, lo, hi, input);
}

/* Parses one integer item s[0..n) and range-checks it. */
static int int_item(params *p, const char *name, long index, const char *s, size_t n, int64_t lo,
                    int64_t hi, int64_t *out)
{
    json_t *input;
    if (number_item(p, name, index, s, n, NULL, out, &input) < 0) return -1;
    return param_check_int(p, name, index, *out, lo, hi, input);
}

int param_double(params *p, const char *name, const char *raw, double def, double lo, double hi,
                 double *out)
{
    if (!raw) {
        *out = def;
        return 0;
    }
    return double_item(p, name, -1, raw, strlen(raw), lo, hi, out);
}

int param_int64(params *p, const char *name, const char *raw, int64_t def, int64_t lo, int64_t hi,
                int64_t *out)
{
    if (!raw) {
        *out = def;
        return 0;
    }
    return int_item(p, name, -1, raw, strlen(raw), lo, hi, out);
}

int param_uint64(params *p, const char *name, const char *raw, uint64_t def, uint64_t lo,
                 uint64_t hi, uint64_t *out)
{
    int64_t v;
    if (hi > INT64_MAX) hi = INT64_MAX; /* limits are configured far below this */
    if (param_int64(p, name, raw, (int64_t)def, (int64_t)lo, (int64_t)hi, &v) < 0) return -1;
    *out = (uint64_t)v;
    return 0;
}

int param_choice(params *p, const char *name, const char *raw, const char *const *allowed,
                 const char **out)
{
    if (!raw) {
        params_error(p, name, -1, "missing", "Field required", NULL, NULL);
        return -1;
    }
    char msg[160] = "Input should be ";
    for (size_t i = 0; allowed[i]; i++) {
        if (!strcmp(raw, allowed[i])) {
            *out = allowed[i];
            return 0;
        }
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof(msg) - l, "%s'%s'",
                 i == 0           ? ""
                 : allowed[i + 1] ? ", "
                                  : " or ",
                 allowed[i]);
    }
    json_t *exp = json_array();
    for (size_t i = 0; allowed[i]; i++)
        json_array_append_new(exp, json_string(allowed[i]));
    params_error(p, name, -1, "literal_error", msg, raw_input(raw, strlen(raw)),
                 json_pack("{s:o}", "expected", exp));
    return -1;
}

typedef int (*item_fn)(params *p, const char *name, long index, const char *s, size_t n, void *ctx,
                       size_t i);

/* Splits raw on commas, checks the count, calls fn for each item. */
static long each_item(params *p, const char *name, const char *raw, const char *def, size_t max,
                      item_fn fn, void *ctx)
{
    const char *s = raw ? raw : def;
    if (!s) {
        params_error(p, name, -1, "missing", "Field required", NULL, NULL);
        return -1;
    }
    size_t count = 1;
    for (const char *c = s; *c; c++)
        count += (*c == ',');
    if (!*s) count = 0;
    char msg[128];
    if (count == 0 || count > max) {
        int longer = count > max;
        snprintf(msg, sizeof(msg), "List should have at %s %zu item%s after validation, not %zu",
                 longer ? "most" : "least", longer ? max : 1, (longer ? max : 1) == 1 ? "" : "s",
                 count);
        params_error(p, name, -1, longer ? "too_long" : "too_short", msg, raw_input(s, strlen(s)),
                     json_pack("{s:s,s:I,s:I}", "field_type", "List",
                               longer ? "max_length" : "min_length", (json_int_t)(longer ? max : 1),
                               "actual_length", (json_int_t)count));
        return -1;
    }
    int bad = 0;
    size_t i = 0;
    for (const char *start = s;; i++) {
        const char *end = strchr(start, ',');
        size_t n = end ? (size_t)(end - start) : strlen(start);
        if (fn(p, name, (long)i, start, n, ctx, i) < 0) bad = 1;
        if (!end) break;
        start = end + 1;
    }
    return bad ? -1 : (long)count;
}

typedef struct dbl_ctx {
    double lo, hi, *out;
} dbl_ctx;

static int dbl_fn(params *p, const char *name, long index, const char *s, size_t n, void *c,
                  size_t i)
{
    dbl_ctx *d = c;
    return double_item(p, name, index, s, n, d->lo, d->hi, &d->out[i]);
}

long param_double_list(params *p, const char *name, const char *raw, const char *def, size_t max,
                       double lo, double hi, double *out)
{
    dbl_ctx c = {lo, hi, out};
    return each_item(p, name, raw, def, max, dbl_fn, &c);
}

static int int_fn(params *p, const char *name, long index, const char *s, size_t n, void *c,
                  size_t i)
{
    int64_t *out = c;
    return int_item(p, name, index, s, n, INT64_MIN, INT64_MAX, &out[i]);
}

long param_int64_list(params *p, const char *name, const char *raw, const char *def, size_t max,
                      int64_t *out)
{
    return each_item(p, name, raw, def, max, int_fn, out);
}

static int name_fn(params *p, const char *name, long index, const char *s, size_t n, void *c,
                   size_t i)
{
    char **out = c;
    json_t *j = json_stringn(s, n);
    if (!j) {
        params_error(p, name, index, "string_unicode",
                     "Input should be a valid string, unable "
                     "to parse raw data as a unicode string",
                     NULL, NULL);
        return -1;
    }
    if (n == 0 || n > NAME_MAX_BYTES) {
        char msg[96];
        snprintf(msg, sizeof(msg), "String should have at %s %d character%s", n ? "most" : "least",
                 n ? NAME_MAX_BYTES : 1, n ? "s" : "");
        params_error(p, name, index, n ? "string_too_long" : "string_too_short", msg, j, NULL);
        return -1;
    }
    json_decref(j);
    out[i] = strndup(s, n);
    return out[i] ? 0 : -1;
}

long param_name_list(params *p, const char *name, const char *raw, size_t max, char **out)
{
    for (size_t i = 0; i < max; i++)
        out[i] = NULL;
    long n = each_item(p, name, raw, NULL, max, name_fn, out);
    if (n < 0)
        for (size_t i = 0; i < max; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    return n;
}

int param_name(params *p, const char *name, const char *raw, const char *def, char **out)
{
    const char *s = raw ? raw : def;
    *out = NULL;
    if (!s) {
        params_error(p, name, -1, "missing", "Field required", NULL, NULL);
        return -1;
    }
    return name_fn(p, name, -1, s, strlen(s), out, 0);
}
