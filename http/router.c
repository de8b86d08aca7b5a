/*
 * router.c - the route table, built from the handler groups (router.h).
 */
#include "router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct router {
    const route **table;
    size_t *group; /* the group of each route, by index */
    size_t n;
};

int router_new(router **out, const http_groups *groups)
{
    size_t n = 0;
    for (size_t g = 0; g < groups->n; g++)
        n += groups->v[g]->nroutes;
    router *rt = calloc(1, sizeof(*rt));
    if (rt) {
        rt->table = calloc(n ? n : 1, sizeof(*rt->table));
        rt->group = calloc(n ? n : 1, sizeof(*rt->group));
    }
    if (!rt || !rt->table || !rt->group) {
        router_free(rt);
        return -ENOMEM;
    }
    for (size_t g = 0; g < groups->n; g++)
        for (size_t i = 0; i < groups->v[g]->nroutes; i++) {
            rt->group[rt->n] = g;
            rt->table[rt->n++] = &groups->v[g]->routes[i];
        }
    *out = rt;
    return 0;
}

void router_free(router *rt)
{
    if (!rt) return;
    free(rt->table);
    free(rt->group);
    free(rt);
}

size_t router_group(const router *rt, size_t index)
{
    return rt->group[index];
}

const route *const *router_all(const router *rt, size_t *n)
{
    *n = rt->n;
    return rt->table;
}

size_t router_index(const router *rt, const route *r)
{
    for (size_t i = 0; i < rt->n; i++) /* a handful of compares */
        if (rt->table[i] == r) return i;
    return rt->n;
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

const route *router_match(const router *rt, const char *method, const char *path, char *allow,
                          size_t allowlen, char *id, size_t idlen)
{
    int head = strcmp(method, "HEAD") == 0;
    allow[0] = '\0';
    id[0] = '\0';
    for (size_t i = 0; i < rt->n; i++) {
        const route *r = rt->table[i];
        if (!path_match(r->path, path, id, idlen)) continue;
        if (!strcmp(r->method, method) || (head && !strcmp(r->method, "GET"))) return r;
        id[0] = '\0'; /* not this route: a later exact one must not carry its id */
        if (!strstr(allow, r->method)) {
            size_t l = strlen(allow);
            snprintf(allow + l, allowlen - l, "%s%s", l ? ", " : "", r->method);
        }
    }
    id[0] = '\0';
    return NULL;
}
