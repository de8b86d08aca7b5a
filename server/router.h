/*
 * router.h - maps (method, path) to a route: the route table is the
 * concatenation of every handler group's table, read top to bottom.
 */
#ifndef IOCPU_ROUTER_H
#define IOCPU_ROUTER_H

#include <stddef.h>

#include "http.h"

/* Every route, in table order. */
const route *const *router_all(size_t *n);

/*
 * Finds the route for method and path. On a miss, *allow receives the
 * comma-separated methods the path does accept ("" when the path is unknown:
 * 404; otherwise 405). `id` receives the {id} segment (at most idlen-1 bytes,
 * longer ids do not match).
 */
const route *router_match(const char *method, const char *path, char *allow, size_t allowlen,
                          char *id, size_t idlen);

#endif
