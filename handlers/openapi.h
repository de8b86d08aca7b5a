/*
 * openapi.h - the OpenAPI 3.0 document of the running server
 * (GET /openapi.json).
 *
 * Its text is docs/openapi.json, embedded at build time. At run time every
 * bound a command-line flag sets (schemas tagged "x-iocpu-limit": "<flag>")
 * takes the configured value, and each operation's description is its
 * route's lesson, so the document cannot disagree with the route table or the
 * configuration. A test checks that documented and routed paths are the same.
 */
#ifndef IOCPU_HANDLERS_OPENAPI_H
#define IOCPU_HANDLERS_OPENAPI_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "http.h"

/*
 * Builds the document for cfg and the route table (routes, n). Returns a new
 * reference, or NULL when out of memory. Any thread (it shares no state).
 */
json_t *openapi_document(const config *cfg, const route *const *routes, size_t n);

#endif
