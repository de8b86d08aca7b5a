/*
 * lograte.h - a rate limit for log lines: at most `max` lines per window;
 * the lines past it are counted, and the count is handed back with the
 * first line of a later window (or at the end), so a flood of bad requests
 * costs a few lines of stderr per second and says how much it hid.
 * Not thread-safe: one owner thread (the loop thread for MHD's log).
 */
#ifndef IOCPU_LOGRATE_H
#define IOCPU_LOGRATE_H

#include <stdint.h>

typedef struct lograte {
    uint64_t window_ns, start_ns;
    unsigned max, lines; /* allowed per window, written in this one */
    uint64_t dropped;    /* suppressed and not yet reported */
    uint64_t dropped_total;
} lograte;

void lograte_init(lograte *lr, unsigned max_per_window, uint64_t window_ns);

/*
 * May a line be written at now_ns? 1 yes, 0 no (it is counted). When a new
 * window begins, *report receives the count suppressed since the last report
 * (write it first); otherwise 0.
 */
int lograte_allow(lograte *lr, uint64_t now_ns, uint64_t *report);

/* Suppressed lines not reported yet (and forgets them): for the last word at exit. */
uint64_t lograte_flush(lograte *lr);

#endif
