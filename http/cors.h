/*
 * cors.h - CORS for the origins of --cors-origin (config/corsallow.h), as
 * the Fetch standard has it (https://fetch.spec.whatwg.org/#http-cors-protocol).
 * Off by default: with no list, nothing here adds a header or changes an
 * answer.
 *
 *   a preflight (OPTIONS with Origin and Access-Control-Request-Method) from
 *     a listed origin, to a path that exists: 204 with
 *     Access-Control-Allow-Origin (the origin, echoed exactly),
 *     Access-Control-Allow-Methods (the path's methods),
 *     Access-Control-Allow-Headers (what the API reads: Authorization,
 *     Content-Type, traceparent), Access-Control-Max-Age and Vary. From any
 *     other origin it is an OPTIONS like any other (405, no CORS header),
 *     which the browser takes as a refusal.
 *   any other request from a listed origin: its answer gets
 *     Access-Control-Allow-Origin and Access-Control-Expose-Headers (the
 *     headers a page may read: Server-Timing, traceparent, Location,
 *     Retry-After, X-Iocpu-Loop, X-Iocpu-Replica).
 *   with a list, every answer says Vary: Origin (what a cache must key on).
 *
 * A listed origin's request also passes the Fetch Metadata check
 * (admit.h): a browser marks it Sec-Fetch-Site: cross-site,
 * Sec-Fetch-Mode: cors. Loop thread.
 */
#ifndef IOCPU_CORS_H
#define IOCPU_CORS_H

#include <microhttpd.h>

#include "config.h"

typedef struct cors_req {
    const char *origin; /* the Origin header when listed (MHD's copy: valid while the request is) */
    unsigned on : 1;    /* --cors-origin is set */
    unsigned preflight : 1; /* a preflight from a listed origin */
} cors_req;

#define CORS_ALLOW_HEADERS "Authorization, Content-Type, traceparent"
#define CORS_EXPOSE_HEADERS                                                                        \
    "Server-Timing, traceparent, Location, Retry-After, X-Iocpu-Loop, X-Iocpu-Replica"
#define CORS_MAX_AGE "600"

/* Reads the request's Origin (and, for OPTIONS, Access-Control-Request-Method). */
void cors_read(struct MHD_Connection *c, const config *cfg, const char *method, cors_req *q);

/* Adds the CORS headers q calls for to resp (a preflight's own are added
 * by the caller: Allow-Methods and the rest). */
void cors_headers(struct MHD_Response *resp, const cors_req *q);

#endif
