/*
 * admit.h - what a browser must not be able to make iocpu do
 * (docs/security.md): every request passes these checks after the size
 * limits (reqlimits.h) and before routing; a refused one reaches no handler.
 *
 *   Host (400): the Host header must be one --allowed-hosts admits
 *     (config/hostallow.h). A page that rebinds its own name to 127.0.0.1
 *     sends its name, not a loopback one.
 *   Fetch Metadata (403): a request a browser marks Sec-Fetch-Site:
 *     cross-site is refused, except a top-level navigation (Sec-Fetch-Mode:
 *     navigate, Sec-Fetch-Dest: document, GET or HEAD) to the page (/ui). No
 *     Sec-Fetch-Site (curl, probes, older browsers), same-origin, same-site
 *     and none (typed in the address bar) pass. Any other value is treated as
 *     cross-site. A CORS request (Sec-Fetch-Mode: cors) whose Origin is one
 *     of --cors-origin passes too (cors.h).
 *   Content-Type (415): a request that carries a body (Content-Length over 0,
 *     or Transfer-Encoding) to a route must say application/json (or
 *     application/<x>+json), parameters allowed, charset only utf-8. The
 *     media types a page may send without a CORS preflight (text/plain,
 *     forms, none at all) are all refused.
 *
 * The pure judges below are fuzzed (tests/fuzz/fuzz_admit.c); admit_request
 * and admit_body read the request through MHD on the loop thread.
 */
#ifndef IOCPU_ADMIT_H
#define IOCPU_ADMIT_H

#include <microhttpd.h>
#include <stddef.h>

#include "config.h"

/* 0, or 403 (with detail) for the Sec-Fetch-* values given (NULL: absent). */
unsigned admit_fetch_metadata(const char *site, const char *mode, const char *dest,
                              const char *method, const char *path, char *detail, size_t len);

/* 0 when ctype[0..n) (NULL: no Content-Type) is a JSON media type, else 415
 * with detail. */
unsigned admit_content_type(const char *ctype, size_t n, char *detail, size_t len);

/* Host, then Fetch Metadata: 0, 400 or 403 with detail. cors_listed: the
 * request's Origin is one of --cors-origin (cors.h); its CORS requests
 * (Sec-Fetch-Mode: cors) then pass Fetch Metadata, whatever their site. */
unsigned admit_request(struct MHD_Connection *c, const config *cfg, const char *method,
                       const char *path, int cors_listed, char *detail, size_t len);

/* Content-Type when the request declares a body: 0 or 415 with detail. */
unsigned admit_body(struct MHD_Connection *c, char *detail, size_t len);

#endif
