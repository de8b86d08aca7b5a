/*
 * cors.c - see cors.h.
 */
#include "cors.h"

#include <string.h>

#include "corsallow.h"

void cors_read(struct MHD_Connection *c, const config *cfg, const char *method, cors_req *q)
{
    memset(q, 0, sizeof(*q));
    if (!cfg->cors_origins[0]) return;
    q->on = 1;
    const char *origin = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "Origin", 6, &origin, &n) != MHD_YES ||
        !cors_listed(cfg->cors_origins, origin, n) || strlen(origin) != n)
        return;
    q->origin = origin;
    q->preflight =
        !strcmp(method, "OPTIONS") &&
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Method") != NULL;
}

void cors_headers(struct MHD_Response *resp, const cors_req *q)
{
    if (!q->on) return;
    MHD_add_response_header(resp, "Vary", "Origin");
    if (!q->origin) return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", q->origin);
    if (!q->preflight)
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
}
