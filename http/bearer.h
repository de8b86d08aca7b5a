/*
 * bearer.h - the token of an "Authorization: Bearer <token>" header
 * (RFC 6750, section 2.1), read strictly: a client's bytes never reach a
 * comparison unless they have exactly that shape.
 *
 * Pure function: any thread.
 */
#ifndef IOCPU_BEARER_H
#define IOCPU_BEARER_H

#include <stddef.h>

/*
 * value[0..n) as an Authorization header value: the scheme "Bearer" (any
 * case), one or more spaces, then a b64token (1 or more of A-Z a-z 0-9
 * - . _ ~ + /, then any number of '='), then nothing (trailing spaces or
 * tabs aside). 0 with *tok and *len the token inside value, or -1.
 */
int bearer_parse(const char *value, size_t n, const char **tok, size_t *len);

#endif
