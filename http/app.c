/*
 * app.c - the per-loop core's few functions (app.h).
 */
#include "app.h"

#include <stdatomic.h>

void *app_group_state(const app *a, const http_group *g)
{
    for (size_t i = 0; i < a->groups.n; i++) /* a handful of groups */
        if (a->groups.v[i] == g) return a->group_state[i];
    return NULL;
}

void app_post(const app *a, unsigned to, mail *m)
{
    mailbox_post(a->mailboxes[to], m);
}

const char *app_unready(app *a)
{
    if (atomic_load(&a->draining)) return "draining";
    for (size_t i = 0; i < a->groups.n; i++) {
        const http_group *g = a->groups.v[i];
        const char *why = g->unready ? g->unready(a->group_state[i]) : NULL;
        if (why) return why;
    }
    return NULL;
}
