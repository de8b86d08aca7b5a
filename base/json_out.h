/*
 * json_out.h - compact JSON text from a jansson tree, with reals printed like
 * Python's repr (0.1, not jansson's 0.10000000000000001). Object keys keep
 * their insertion order.
 */
#ifndef IOCPU_JSON_OUT_H
#define IOCPU_JSON_OUT_H

#include <jansson.h>

#include "buf.h"

/* Appends v to b. */
void json_out_append(buf *b, const json_t *v);
/* Appends s as a JSON string literal (s must be valid UTF-8). */
void json_out_string(buf *b, const char *s, size_t len);
/* Returns malloc'ed text (NUL-terminated) and its length, or NULL on OOM. */
char *json_out(const json_t *v, size_t *len);

/* "<prefix><d as Python prints it><suffix>" as a new JSON string. */
json_t *json_fmt_delay(const char *prefix, double d, const char *suffix);

#endif
