/*
 * cpu_heavy.h - the lesson's CPU-bound function:
 *   cpu_heavy(n, iterations) = sum over i in [0, iterations) of (i * n) mod 7
 * with Python's mod (never negative), exact for every int64 n.
 * Safe on any thread; it touches nothing but its arguments.
 */
#ifndef IOCPU_CPU_HEAVY_H
#define IOCPU_CPU_HEAVY_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct cpu_heavy_out {
    uint64_t sum;        /* the result over the iterations done */
    uint64_t iterations; /* how many were done */
} cpu_heavy_out;

/*
 * Runs `iterations` steps. Polls *cancel (may be NULL) about every 50 us of
 * work. 0 when finished, -ECANCELED when stopped early (out holds the partial
 * sum).
 */
int cpu_heavy(int64_t n, uint64_t iterations, const atomic_int *cancel, cpu_heavy_out *out);

/*
 * Runs steps until the calling thread has used `ms` milliseconds of CPU time
 * (CLOCK_THREAD_CPUTIME_ID). 0 or -ECANCELED, as above.
 */
int cpu_heavy_burn(int64_t n, uint64_t ms, const atomic_int *cancel, cpu_heavy_out *out);

/* The endpoints' choice: cpu_heavy_burn() for ms > 0, else cpu_heavy(). */
int cpu_heavy_run(int64_t n, uint64_t iterations, uint64_t ms, const atomic_int *cancel,
                  cpu_heavy_out *out);

#endif
