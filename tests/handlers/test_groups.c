/*
 * test_groups.c - the endpoint groups of handlers_all() (handlers/) as
 * the server sees them, without sockets: names, routes and hooks that come
 * in pairs; and the per-loop hooks of the groups that keep state, driven on
 * minimal apps (only what the hooks read is set).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "buf.h"
#include "config.h"
#include "executor.h"
#include "handlers.h"
#include "loop.h"

TestSuite(groups, .timeout = 30);

static const http_group *find_group(const char *name)
{
    const http_groups *g = handlers_all();
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i]->name && !strcmp(g->v[i]->name, name)) return g->v[i];
    return NULL;
}

Test(groups, every_group_is_named_and_routed_with_paired_hooks)
{
    const http_groups *g = handlers_all();
    cr_assert_not_null(g);
    cr_assert_geq(g->n, 5, "ops, ui, io, cpu, tasks");
    cr_assert_eq(handlers_all(), g, "static storage: the same list every time");
    for (size_t i = 0; i < g->n; i++) {
        const http_group *gr = g->v[i];
        cr_assert_not_null(gr, "group %zu", i);
        cr_assert(gr->name && gr->name[0], "group %zu has a name", i);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(gr->name, g->v[j]->name, "two groups named %s", gr->name);
        cr_assert_not_null(gr->routes, "%s has routes", gr->name);
        cr_assert_gt(gr->nroutes, 0, "%s has routes", gr->name);
        for (size_t r = 0; r < gr->nroutes; r++) {
            const route *rt = &gr->routes[r];
            cr_assert(rt->method && rt->path && rt->fn, "%s route %zu is complete", gr->name, r);
            static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
            int known = 0;
            for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
                known |= !strcmp(rt->method, methods[m]);
            cr_assert(known, "%s: method %s", gr->name, rt->method);
        }
        cr_assert(!gr->shared_new || gr->shared_free, "%s: shared_new without shared_free",
                  gr->name);
        cr_assert(!gr->init || gr->free, "%s: init without free", gr->name);
    }
}

Test(groups, the_documented_groups_in_route_table_order)
{
    static const char *const order[] = {"ops",   "ui",  "io",    "iowait",
                                        "fetch", "cpu", "tasks", "shaping"};
    const http_groups *g = handlers_all();
    size_t n = sizeof(order) / sizeof(order[0]);
    cr_assert_eq(g->n, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(g->v[i]->name, order[i]);
    cr_assert_eq(find_group("ui"), &ui_group);
    cr_assert_eq(find_group("tasks"), &tasks_group);
    cr_assert_eq(find_group("ops"), &ops_group);
    cr_assert_eq(find_group("io"), &io_group);
    cr_assert_eq(find_group("iowait"), &iowait_group);
    cr_assert_eq(find_group("cpu"), &cpu_group);
    cr_assert_eq(find_group("fetch"), &fetch_group);
    cr_assert_eq(find_group("shaping"), &shaping_group);
}

/* The fetch group: its per-loop multi handle arms nothing until a fetch
 * starts, and its hooks free what they made. */
Test(groups, fetch_init_and_free_leave_no_timer_armed)
{
    const http_group *fg = &fetch_group;
    config cfg;
    config_defaults(&cfg);
    void *shared = NULL, *state = NULL;
    cr_assert_eq(fg->shared_new(&cfg, &shared), 0);
    app *a = calloc(1, sizeof(*a));
    cr_assert_eq(loop_new(&a->loop), 0);
    cr_assert_eq(fg->init(a, shared, &state), 0);
    cr_assert_eq(loop_timer_count(a->loop), 0);
    fg->free(state);
    fg->free(NULL);
    fg->shared_free(shared);
    loop_free(a->loop);
    free(a);
}

Test(groups, ui_init_and_free_leave_no_timer_armed)
{
    const http_group *ui = &ui_group;
    cr_assert_not_null(ui->init);
    app *a = calloc(1, sizeof(*a));
    cr_assert_eq(loop_new(&a->loop), 0);
    void *state = NULL;
    cr_assert_eq(ui->init(a, NULL, &state), 0);
    cr_assert_not_null(state, "the ui group keeps per-loop state");
    cr_assert_eq(loop_timer_count(a->loop), 0, "no stream, no ticker");
    ui->free(state);
    cr_assert_eq(loop_timer_count(a->loop), 0);
    ui->free(NULL); /* a loop whose init never ran */
    loop_free(a->loop);
    free(a);
}

/* The tasks group over the memory backend, on loop 0 and loop 1, in the
 * server's order of hooks. */
Test(groups, tasks_hooks_on_two_minimal_loops)
{
    const http_group *tg = &tasks_group;
    config cfg;
    config_defaults(&cfg);
    cr_assert_str_eq(cfg.tasks_backend, "memory");
    void *shared = NULL;
    cr_assert_eq(tg->shared_new(&cfg, &shared), 0);
    executor *ex;
    cr_assert_eq(executor_new_channels(&ex, 1, 4, 0, 2), 0);
    app *a[2];
    void *state[2] = {NULL, NULL};
    for (unsigned i = 0; i < 2; i++) {
        a[i] = calloc(1, sizeof(*a[i]));
        a[i]->cfg = cfg;
        a[i]->index = i;
        a[i]->nloops = 2;
        a[i]->ex = ex;
        cr_assert_eq(loop_new(&a[i]->loop), 0);
        cr_assert_eq(tg->init(a[i], shared, &state[i]), 0, "init of loop %u", i);
        cr_assert_not_null(state[i]);
    }
    for (unsigned i = 0; i < 2; i++) {
        cr_assert_null(tg->unready(state[i]), "the memory backend is ready");
        cr_assert_eq(tg->busy(state[i]), 0);
        cr_assert_eq(loop_timer_count(a[i]->loop), 0);
    }
    /* loop 0 publishes the backend's families; any loop shows them */
    tg->publish(state[0]);
    buf m = BUF_INIT;
    tg->metrics(state[1], &m);
    cr_assert(m.p && strstr(m.p, "iocpu_tasks{status=\"running\"} 0"), "%s", m.p ? m.p : "");
    buf_free(&m);
    tg->drain(state[0]);
    tg->drain(state[1]);
    tg->expire(state[0]);
    for (unsigned i = 0; i < 2; i++)
        tg->close(state[i]);
    executor_free(ex);
    for (unsigned i = 2; i-- > 0;) {
        tg->free(state[i]);
        loop_free(a[i]->loop);
        free(a[i]);
    }
    tg->shared_free(shared);
}
