/*
 * iopool.c - the IO thread pool as a handler reaches it (iopool.h): a thin
 * layer over the shared executor in app->io that names this loop's channel.
 */
#include "iopool.h"

int iopool_submit(app *a, executor_job *job)
{
    job->channel = a->index; /* done() comes back to this loop */
    job->background = 0;
    return executor_submit(a->io, job);
}

int iopool_cancel(app *a, executor_job *job)
{
    return executor_cancel(a->io, job);
}

void iopool_stats(app *a, executor_stats *st)
{
    executor_get_stats(a->io, st);
}
