/*
 * router.h - maps (method, path) to a route. The table is the concatenation
 * of the routes of every handler group the server was given, read top to
 * bottom; the router knows no group by name.
 *
 * Threads: built once before the loops start, then read-only (any thread).
 */
#ifndef IOCPU_ROUTER_H
#define IOCPU_ROUTER_H

#include <stddef.h>

#include "group.h"

typedef struct router router;

/* A router over every route of groups. 0 or -ENOMEM. */
int router_new(router **out, const http_groups *groups);
void router_free(router *rt);

/* Every route, in table order. */
const route *const *router_all(const router *rt, size_t *n);
/* The index of rt in the table (its metrics slot); the count when not there. */
size_t router_index(const router *rt, const route *r);

/* The index (in the groups given to router_new) of the group of route `index`. */
size_t router_group(const router *rt, size_t index);

/*
 * Finds the route for method and path. On a miss, *allow receives the
 * comma-separated methods the path does accept ("" when the path is unknown:
 * 404; otherwise 405). `id` receives the {id} segment (at most idlen-1 bytes,
 * longer ids do not match).
 */
const route *router_match(const router *rt, const char *method, const char *path, char *allow,
                          size_t allowlen, char *id, size_t idlen);

#endif
