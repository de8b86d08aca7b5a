/*
 * lagprobe.c - the loop-lag probe (see lagprobe.h).
 *
 * The timer is re-armed one period after it *fired*, not after it was due, so
 * a long stall gives one large sample rather than a burst of catch-up ones.
 * The ring holds window/period + 1 samples plus slack; when the loop is
 * stalled fewer samples cover the window, so the ring never wraps inside it
 * unless the timer fires early, which a timerfd does not do.
 */
#include "lagprobe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct sample {
    uint64_t at_ns, lag_ns;
} sample;

struct lagprobe {
    loop *l;
    timer t;
    uint64_t period_ns, window_ns;
    lagprobe_cb on_sample;
    void *arg;
    sample *ring;
    uint64_t *scratch; /* lags of the window, sorted for the percentile */
    size_t cap, n, next;
};

static void on_fire(timer *t);

int lagprobe_new(lagprobe **out, loop *l, uint64_t period_ns, uint64_t window_ns,
                 lagprobe_cb on_sample, void *arg)
{
    if (period_ns == 0 || window_ns < period_ns) return -EINVAL;
    lagprobe *p = calloc(1, sizeof(*p));
    if (!p) return -ENOMEM;
    p->cap = (size_t)(window_ns / period_ns) + 16;
    p->ring = calloc(p->cap, sizeof(*p->ring));
    p->scratch = calloc(p->cap, sizeof(*p->scratch));
    if (!p->ring || !p->scratch) {
        free(p->ring);
        free(p->scratch);
        free(p);
        return -ENOMEM;
    }
    p->l = l;
    p->period_ns = period_ns;
    p->window_ns = window_ns;
    p->on_sample = on_sample;
    p->arg = arg;
    *out = p;
    return 0;
}

void lagprobe_free(lagprobe *p)
{
    if (!p) return;
    lagprobe_stop(p);
    free(p->ring);
    free(p->scratch);
    free(p);
}

int lagprobe_start(lagprobe *p)
{
    return loop_timer_start(p->l, &p->t, p->period_ns, on_fire, p);
}

void lagprobe_stop(lagprobe *p)
{
    loop_timer_cancel(p->l, &p->t);
}

int lagprobe_armed(const lagprobe *p)
{
    return timer_active(&p->t);
}

void lagprobe_record(lagprobe *p, uint64_t at_ns, uint64_t lag_ns)
{
    p->ring[p->next] = (sample){at_ns, lag_ns};
    p->next = (p->next + 1) % p->cap;
    if (p->n < p->cap) p->n++;
    if (p->on_sample) p->on_sample(p->arg, lag_ns);
}

static void on_fire(timer *t)
{
    lagprobe *p = t->data;
    uint64_t now = loop_now_ns();
    lagprobe_record(p, now, now > t->due_ns ? now - t->due_ns : 0);
    loop_timer_start(p->l, &p->t, p->period_ns, on_fire, p); /* -ENOMEM: the probe stops */
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void lagprobe_summary(lagprobe *p, uint64_t now_ns, lag_summary *out)
{
    memset(out, 0, sizeof(*out));
    out->window_s = (double)p->window_ns / 1e9;
    size_t k = 0;
    uint64_t last_at = 0, last = 0, max = 0;
    for (size_t i = 0; i < p->n; i++) {
        const sample *s = &p->ring[(p->next + p->cap - 1 - i) % p->cap]; /* newest first */
        if (s->at_ns > now_ns || now_ns - s->at_ns >= p->window_ns) continue;
        if (k == 0 || s->at_ns > last_at) {
            last_at = s->at_ns;
            last = s->lag_ns;
        }
        if (s->lag_ns > max) max = s->lag_ns;
        p->scratch[k++] = s->lag_ns;
    }
    if (k == 0) return;
    qsort(p->scratch, k, sizeof(*p->scratch), cmp_u64);
    size_t rank = (k * 99 + 99) / 100; /* ceil(0.99 k), 1-based */
    out->samples = k;
    out->last_ms = (double)last / 1e6;
    out->max_ms = (double)max / 1e6;
    out->p99_ms = (double)p->scratch[rank - 1] / 1e6;
}

uint64_t lagprobe_max_since(const lagprobe *p, uint64_t since_ns, size_t *n)
{
    uint64_t max = 0;
    size_t k = 0;
    for (; k < p->n; k++) {
        const sample *s = &p->ring[(p->next + p->cap - 1 - k) % p->cap]; /* newest first */
        if (s->at_ns <= since_ns) break;
        if (s->lag_ns > max) max = s->lag_ns;
    }
    if (n) *n = k;
    return max;
}
