/*
 * ops.c - liveness and readiness.
 */
#include <string.h>

#include "common.h"

static void healthz(http_req *r)
{
    http_respond_data(r, 200, "application/json", strdup("{\"status\":\"ok\"}"), 15);
}

static void readyz(http_req *r)
{
    if (http_app(r)->draining)
        http_respond_busy(r, "draining");
    else
        http_respond_data(r, 200, "application/json", strdup("{\"status\":\"ready\"}"), 18);
}

static const route ROUTES[] = {
    {"GET", "/healthz", healthz, "liveness: answers as long as the loop turns"},
    {"GET", "/readyz", readyz, "readiness: 503 while the server drains"},
};

const route *ops_routes(size_t *n)
{
    *n = sizeof(ROUTES) / sizeof(ROUTES[0]);
    return ROUTES;
}
