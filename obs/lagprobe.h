/*
 * lagprobe.h - the event-loop lag probe: a timer that re-arms itself every
 * period and records how late it fired. That lateness is time the loop spent
 * on something else (a handler computing on the loop thread, a burst of
 * callbacks): near 0 while CPU work runs on the executor, the whole job time
 * while it runs on the loop.
 *
 * Samples go into a ring that covers a recent window; a summary gives the
 * last, maximum and 99th-percentile lag over that window.
 *
 * Threads: everything here runs on the loop thread.
 */
#ifndef IOCPU_LAGPROBE_H
#define IOCPU_LAGPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

typedef struct lagprobe lagprobe;

/* Called with every sample (lag in ns), on the loop thread. */
typedef void (*lagprobe_cb)(void *arg, uint64_t lag_ns);

typedef struct lag_summary {
    double last_ms, max_ms, p99_ms; /* over the window; 0 without samples */
    size_t samples;                 /* samples in the window */
    double window_s;
} lag_summary;

/*
 * Creates a probe for loop l firing every period_ns, keeping window_ns of
 * samples (at least window/period of them). on_sample may be NULL.
 * 0, -EINVAL or -ENOMEM. The probe is not armed yet.
 */
int lagprobe_new(lagprobe **out, loop *l, uint64_t period_ns, uint64_t window_ns,
                 lagprobe_cb on_sample, void *arg);
/* Cancels its timer and frees it. */
void lagprobe_free(lagprobe *p);

/* Arms the probe (first sample one period from now). 0 or -ENOMEM. */
int lagprobe_start(lagprobe *p);
void lagprobe_stop(lagprobe *p);
/* 1 while the probe's timer is armed: subtract it from the loop's timer count. */
int lagprobe_armed(const lagprobe *p);

/* Records one sample taken at at_ns (the probe's timer does this; tests may too). */
void lagprobe_record(lagprobe *p, uint64_t at_ns, uint64_t lag_ns);

/*
 * Summary of the samples taken in (now_ns - window, now_ns]; p99 is the
 * nearest-rank 99th percentile. O(n log n) in the samples of the window.
 */
void lagprobe_summary(lagprobe *p, uint64_t now_ns, lag_summary *out);

/*
 * Largest lag (ns) among the samples taken after since_ns, 0 if none; *n (if
 * not NULL) gets their count. Samples are kept in time order, so this walks
 * back from the newest one: the cost is the number of samples since since_ns.
 */
uint64_t lagprobe_max_since(const lagprobe *p, uint64_t since_ns, size_t *n);

#endif
