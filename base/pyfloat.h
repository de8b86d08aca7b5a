/*
 * pyfloat.h - format a double the way Python's str(float)/repr(float) does:
 * the shortest digits that read back to the same double, fixed notation with
 * a ".0" when the decimal exponent is in [-4, 16), else d[.ddd]e+XX.
 * Examples: 1.0, 0.5, 0.30000000000000004, 1e-07, 60.0, 1e+16, inf, nan.
 */
#ifndef IOCPU_PYFLOAT_H
#define IOCPU_PYFLOAT_H

#include <stddef.h>

/* Longest output, NUL included ("-2.2250738585072014e-308"). */
#define PYFLOAT_MAX 32

/* Writes the text into out (at least PYFLOAT_MAX bytes); returns its length. */
size_t pyfloat_format(double x, char *out);

#endif
