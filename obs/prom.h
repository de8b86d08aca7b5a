/*
 * prom.h - writing the Prometheus text exposition format, version 0.0.4:
 * metric family headers (# HELP / # TYPE), samples with labels, and values.
 *
 * Pure functions over a buf; no state, no threads.
 */
#ifndef IOCPU_PROM_H
#define IOCPU_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram). */
void prom_family(buf *b, const char *name, const char *type, const char *help);

/*
 * Appends key="value" to the label list dst (NUL-terminated, capacity cap),
 * comma-separated, escaping \, " and newlines in value. Returns 0, or -1 when
 * it does not fit (dst is left unchanged).
 */
int prom_label(char *dst, size_t cap, const char *key, const char *value);

/* "name{labels} value" (no braces when labels is NULL or ""). */
void prom_sample(buf *b, const char *name, const char *labels, double value);
void prom_sample_u64(buf *b, const char *name, const char *labels, uint64_t value);

/* A whole family of one unlabelled sample: # HELP, # TYPE and the value. */
void prom_gauge(buf *b, const char *name, const char *help, double v);
void prom_gauge_u64(buf *b, const char *name, const char *help, uint64_t v);
void prom_counter(buf *b, const char *name, const char *help, uint64_t v);

/* A value as Prometheus reads it: +Inf, -Inf, NaN or the shortest round-trip float. */
void prom_value(buf *b, double v);

#endif
