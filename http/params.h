/*
 * params.h - validation of request parameters with errors in FastAPI's 422
 * shape: {"loc":[where,name(,index)],"msg","type","input"(,"ctx")}, where
 * `where` is "query" or "body". Raw values are strings (NULL = absent, use
 * the default). Nothing is ever clamped: out of range is an error.
 * Single-threaded; no dependency on the HTTP layer.
 */
#ifndef IOCPU_PARAMS_H
#define IOCPU_PARAMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "numparse.h"

typedef struct params {
    const char *where;
    json_t *errors; /* array of error objects */
} params;

void params_init(params *p, const char *where);
void params_free(params *p);
static inline int params_ok(const params *p)
{
    return json_array_size(p->errors) == 0;
}
/* Moves the errors out as {"detail":[...]} (caller owns it). */
json_t *params_detail(params *p);

/* Records one error. index < 0: no index in loc. ctx may be NULL (stolen). */
void params_error(params *p, const char *name, long index, const char *type, const char *msg,
                  json_t *input, json_t *ctx);

/* A finite float in [lo, hi]. 0 or -1 (error recorded). */
int param_double(params *p, const char *name, const char *raw, double def, double lo, double hi,
                 double *out);
/* An integer in [lo, hi] (any int64 by default). */
int param_int64(params *p, const char *name, const char *raw, int64_t def, int64_t lo, int64_t hi,
                int64_t *out);
/* A non-negative integer in [lo, hi]. */
int param_uint64(params *p, const char *name, const char *raw, uint64_t def, uint64_t lo,
                 uint64_t hi, uint64_t *out);
/* A required string that is one of the NULL-terminated `allowed`; -1 if not. */
int param_choice(params *p, const char *name, const char *raw, const char *const *allowed,
                 const char **out);

/*
 * Comma-separated lists of 1..max items. `def` (may be NULL) is used when raw
 * is NULL; out must hold max items. Returns the count, or -1.
 */
long param_double_list(params *p, const char *name, const char *raw, const char *def, size_t max,
                       double lo, double hi, double *out);
long param_int64_list(params *p, const char *name, const char *raw, const char *def, size_t max,
                      int64_t *out);
/* One name (1..64 bytes of UTF-8), copied into *out (free it). */
int param_name(params *p, const char *name, const char *raw, const char *def, char **out);
/* Names: non-empty UTF-8 items of at most 64 bytes, copied into out[i] (free each). */
long param_name_list(params *p, const char *name, const char *raw, size_t max, char **out);

/* Range checks on an already-parsed value (used for JSON bodies too). */
int param_check_double(params *p, const char *name, long index, double x, double lo, double hi,
                       json_t *input);
int param_check_int(params *p, const char *name, long index, int64_t x, int64_t lo, int64_t hi,
                    json_t *input);

#endif
