/*
 * histogram.c - fixed-bucket histograms in Prometheus' shape (see histogram.h).
 */
#include "histogram.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "prom.h"
#include "pyfloat.h"

int histogram_init(histogram *h, const double *bounds, size_t nbounds)
{
    memset(h, 0, sizeof(*h));
    if (nbounds > HISTOGRAM_MAX_BOUNDS) return -EINVAL;
    for (size_t i = 0; i < nbounds; i++)
        if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) return -EINVAL;
    h->bounds = bounds;
    h->nbounds = nbounds;
    return 0;
}

void histogram_observe(histogram *h, double v)
{
    if (isnan(v)) return;
    size_t i = 0;
    while (i < h->nbounds && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

uint64_t histogram_cumulative(const histogram *h, double bound)
{
    uint64_t n = 0;
    for (size_t i = 0; i < h->nbounds && h->bounds[i] <= bound; i++)
        n += h->counts[i];
    return isinf(bound) && bound > 0 ? h->count : n;
}

void histogram_write(const histogram *h, buf *b, const char *name, const char *labels)
{
    char series[128], lbl[512];
    uint64_t cum = 0;
    snprintf(series, sizeof(series), "%s_bucket", name);
    for (size_t i = 0; i <= h->nbounds; i++) {
        char le[PYFLOAT_MAX] = "+Inf";
        if (i < h->nbounds) pyfloat_format(h->bounds[i], le);
        snprintf(lbl, sizeof(lbl), "%s", labels ? labels : "");
        prom_label(lbl, sizeof(lbl), "le", le);
        cum += h->counts[i];
        prom_sample_u64(b, series, lbl, cum);
    }
    snprintf(series, sizeof(series), "%s_sum", name);
    prom_sample(b, series, labels, h->sum);
    snprintf(series, sizeof(series), "%s_count", name);
    prom_sample_u64(b, series, labels, h->count);
}

void histogram_add(histogram *dst, const histogram *src)
{
    if (dst->bounds != src->bounds || dst->nbounds != src->nbounds) return;
    for (size_t i = 0; i <= src->nbounds; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->sum += src->sum;
}
