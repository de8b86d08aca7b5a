/*
 * cpu_heavy.c - the seed's cpu_heavy, in chunks so that it can be cancelled.
 */
#include "cpu_heavy.h"

#include <errno.h>
#include <time.h>

#define CHUNK 32768u /* ~50 us of work on a current core */

/* Python's n % 7: in [0, 6] for every n, with no overflow. */
static unsigned pymod7(int64_t n)
{
    int64_t r = n % 7;
    return (unsigned)(r < 0 ? r + 7 : r);
}

/* Sum of (i * nm) % 7 for i in [start, start + count); (i mod 7)(n mod 7) mod 7 == in mod 7. */
static uint64_t run_chunk(uint64_t start, uint64_t count, unsigned nm)
{
    uint64_t s = 0;
    for (uint64_t i = start; i < start + count; i++)
        s += (unsigned)(i % 7u) * nm % 7u;
    return s;
}

static int cancelled(const atomic_int *cancel)
{
    return cancel && atomic_load_explicit(cancel, memory_order_relaxed);
}

int cpu_heavy(int64_t n, uint64_t iterations, const atomic_int *cancel, cpu_heavy_out *out)
{
    unsigned nm = pymod7(n);
    out->sum = 0;
    out->iterations = 0;
    while (out->iterations < iterations) {
        if (cancelled(cancel)) return -ECANCELED;
        uint64_t left = iterations - out->iterations;
        uint64_t c = left < CHUNK ? left : CHUNK;
        out->sum += run_chunk(out->iterations, c, nm);
        out->iterations += c;
    }
    return 0;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int cpu_heavy_burn(int64_t n, uint64_t ms, const atomic_int *cancel, cpu_heavy_out *out)
{
    unsigned nm = pymod7(n);
    uint64_t end = thread_cpu_ns() + ms * 1000000u;
    out->sum = 0;
    out->iterations = 0;
    while (thread_cpu_ns() < end) {
        if (cancelled(cancel)) return -ECANCELED;
        out->sum += run_chunk(out->iterations, CHUNK, nm);
        out->iterations += CHUNK;
    }
    return 0;
}

int cpu_heavy_run(int64_t n, uint64_t iterations, uint64_t ms, const atomic_int *cancel,
                  cpu_heavy_out *out)
{
    return ms ? cpu_heavy_burn(n, ms, cancel, out) : cpu_heavy(n, iterations, cancel, out);
}
