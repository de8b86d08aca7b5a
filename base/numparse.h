/*
 * numparse.h - strict number syntax for text from outside (query values,
 * flags, environment variables): no leading spaces, no hex, no trailing
 * junk, nothing that strtod() would accept but a person would not mean.
 * Pure functions.
 */
#ifndef IOCPU_NUMPARSE_H
#define IOCPU_NUMPARSE_H

#include <stdint.h>

/* Strict number syntax: [+-]digits[.digits][e[+-]digits]. 0 ok, -1 not a number,
 * -2 not finite (inf, nan or overflow). */
int parse_double(const char *s, double *out);
/* [+-]digits; 0 ok, -1 not an integer, -2 outside int64. */
int parse_int64(const char *s, int64_t *out);

#endif
