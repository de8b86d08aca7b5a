/*
 * lograte.c - fixed-window log rate limit (lograte.h).
 */
#include "lograte.h"

#include <string.h>

void lograte_init(lograte *lr, unsigned max_per_window, uint64_t window_ns)
{
    memset(lr, 0, sizeof(*lr));
    lr->max = max_per_window;
    lr->window_ns = window_ns;
}

int lograte_allow(lograte *lr, uint64_t now_ns, uint64_t *report)
{
    *report = 0;
    if (lr->lines == 0 || now_ns - lr->start_ns >= lr->window_ns) {
        *report = lr->dropped;
        lr->dropped = 0;
        lr->start_ns = now_ns;
        lr->lines = 0;
    }
    if (lr->lines < lr->max) {
        lr->lines++;
        return 1;
    }
    lr->dropped++;
    lr->dropped_total++;
    return 0;
}

uint64_t lograte_flush(lograte *lr)
{
    uint64_t n = lr->dropped;
    lr->dropped = 0;
    return n;
}
