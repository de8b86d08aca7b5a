/*
 * router.c - the route table, built once from the handler groups.
 */
#include "router.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

#define MAX_ROUTES 64

static const route *table[MAX_ROUTES];
static size_t ntable;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void add_group(const route *(*group)(size_t *n))
{
    size_t n;
    const route *g = group(&n);
    for (size_t i = 0; i < n && ntable < MAX_ROUTES; i++)
        table[ntable++] = &g[i];
}

static void build(void)
{
    add_group(ops_routes);
    add_group(ui_routes);
    add_group(io_routes);
    add_group(cpu_routes);
    add_group(tasks_routes);
}

const route *const *router_all(size_t *n)
{
    pthread_once(&once, build);
    *n = ntable;
    return table;
}

/* Does path match pattern? Fills id for a trailing "/{id}". */
static int path_match(const char *pattern, const char *path, char *id, size_t idlen)
{
    const char *brace = strstr(pattern, "{id}");
    if (!brace) return strcmp(pattern, path) == 0;
    size_t pre = (size_t)(brace - pattern);
    if (strncmp(pattern, path, pre) != 0) return 0;
    const char *seg = path + pre;
    size_t len = strlen(seg);
    if (len == 0 || len >= idlen || strchr(seg, '/')) return 0;
    memcpy(id, seg, len + 1);
    return 1;
}

const route *router_match(const char *method, const char *path, char *allow, size_t allowlen,
                          char *id, size_t idlen)
{
    size_t n;
    const route *const *all = router_all(&n);
    int head = strcmp(method, "HEAD") == 0;
    allow[0] = '\0';
    id[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!path_match(all[i]->path, path, id, idlen)) continue;
        if (!strcmp(all[i]->method, method) || (head && !strcmp(all[i]->method, "GET")))
            return all[i];
        if (!strstr(allow, all[i]->method)) {
            size_t l = strlen(allow);
            snprintf(allow + l, allowlen - l, "%s%s", l ? ", " : "", all[i]->method);
        }
    }
    id[0] = '\0';
    return NULL;
}
