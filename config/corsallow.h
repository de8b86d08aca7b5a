/*
 * corsallow.h - the --cors-origin list: the exact origins whose pages may
 * call this server from the browser (CORS, docs/security.md). Off (empty) by
 * default.
 *
 * An origin is what a browser sends in its Origin header:
 * "http://" or "https://", then a host as host_parse() takes it (a name, a
 * dotted-quad address or a bracketed IPv6 address, optional ":port"), all in
 * lower case, with no path, not even "/". Matching is exact, byte for byte:
 * no wildcard, no "null", no prefix or suffix match.
 *
 * Pure functions: any thread.
 */
#ifndef IOCPU_CORSALLOW_H
#define IOCPU_CORSALLOW_H

#include <stddef.h>

/* 1 when o[0..n) is one origin as above. */
int cors_origin_ok(const char *o, size_t n);

/* 1 when list is a valid --cors-origin value: one or more origins joined
 * by commas (no spaces, like --allowed-hosts), or "" (off). */
int cors_list_ok(const char *list);

/* 1 when origin[0..n) is one of list's origins. */
int cors_listed(const char *list, const char *origin, size_t n);

#endif
