/*
 * app_stats.h - a loop's published stats (obs/loopstats.h) filled from its
 * app, and the view over every loop that /loop and /metrics answer from.
 *
 * Threads: app_publish() on the loop it describes; app_gather() on the
 * answering loop (it reads other loops only through the board's mutexes).
 */
#ifndef IOCPU_APP_STATS_H
#define IOCPU_APP_STATS_H

#include "app.h"

/* Runs each group's publish hook, then publishes this loop's snapshot. */
void app_publish(app *a);

/* Every loop's stats, for an answer given by a (publishing a first).
 * 0 or -ENOMEM; loopstats_view_free() releases it. */
int app_gather(app *a, loops_view *v);

/* An empty metrics object labelled with the route table. 0 or -ENOMEM. */
int app_new_metrics(const router *rt, metrics **out);

#endif
