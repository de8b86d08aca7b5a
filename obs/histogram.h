/*
 * histogram.h - a Prometheus-style histogram: fixed upper bounds, a count per
 * bucket, a sum and a total count, written out as cumulative `_bucket` series
 * (ending with le="+Inf"), `_sum` and `_count`.
 *
 * Caller-allocated, no allocation, not thread-safe: in iocpu every histogram
 * is observed and read on the loop thread.
 */
#ifndef IOCPU_HISTOGRAM_H
#define IOCPU_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HISTOGRAM_MAX_BOUNDS 24

typedef struct histogram {
    const double *bounds; /* ascending, finite; the +Inf bucket is implicit */
    size_t nbounds;
    uint64_t counts[HISTOGRAM_MAX_BOUNDS + 1]; /* per bucket (not cumulative); last = +Inf */
    uint64_t count;
    double sum;
} histogram;

/*
 * Empties h and gives it `bounds` (kept by reference, so static storage),
 * which must be strictly ascending, finite and at most HISTOGRAM_MAX_BOUNDS.
 * 0, or -EINVAL (h is then unusable).
 */
int histogram_init(histogram *h, const double *bounds, size_t nbounds);

/* Counts v in the first bucket whose bound is >= v (le semantics). NaN is ignored. */
void histogram_observe(histogram *h, double v);

/* Adds every observation of src to dst (same bounds: the same static array). */
void histogram_add(histogram *dst, const histogram *src);

/* Observations <= bound (bound must be one of the bounds, or +Inf). */
uint64_t histogram_cumulative(const histogram *h, double bound);

/*
 * Writes the series of one histogram: name_bucket{labels,le="..."} (cumulative),
 * name_sum{labels}, name_count{labels}. labels may be NULL or "".
 */
void histogram_write(const histogram *h, buf *b, const char *name, const char *labels);

#endif
