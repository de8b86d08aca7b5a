/*
 * pyfloat.c - Python's float repr: the shortest digits that read back
 * exactly, in Python's layout (fixed or exponent notation). Most numbers
 * never reach printf: short_digits() finds up to 15 digits exactly with one
 * multiply and one divide per decimal place. The rest (16-17 digits, huge or
 * subnormal numbers) search with printf; a normal double starts at 15 digits
 * there: its rounding interval (at most 2**-52 of it wide) is narrower than
 * half the spacing of 15-digit decimals (at least 10**-15 of it), so a shorter
 * decimal that reads back is the nearest 15-digit one with trailing zeros,
 * which the digit split strips. Subnormals try 1..17.
 */
#include "pyfloat.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds one unit in the last digit of "[-]d.ddde..." in place; 0 if it carries out. */
static int bump_last_digit(char *e)
{
    char *p = strchr(e, 'e');
    while (--p >= e && *p != '-') {
        if (*p == '.') continue;
        if (*p != '9') {
            (*p)++;
            return 1;
        }
        *p = '0';
    }
    return 0;
}

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The shortest decimal m * 10^-s (s = 0..22, m < 2^50) that reads back as ax > 0,
 * as digits without trailing zeros and decpt (ax = 0.digits * 10^decpt); 0 if
 * there is none. m and 10^s are exact doubles, so m / 10^s rounds exactly as
 * strtod rounds the decimal (Clinger's fast path): the test is exact. And
 * ax * 10^s is within 0.375 of m when m reads back (the rounding interval is at
 * most 2**-52 of ax wide, the product's rounding at most 1/8 below 2^50), so
 * rounding it finds m at the first s where one exists: the fewest digits. */
static int short_digits(double ax, char *digits, size_t *nd, int *decpt)
{
    for (int s = 0; s < (int)(sizeof(POW10) / sizeof(POW10[0])); s++) {
        double m = nearbyint(ax * POW10[s]);
        if (m >= 0x1p50) return 0;
        if (m == 0 || m / POW10[s] != ax) continue;
        char rev[20];
        size_t n = 0;
        uint64_t v = (uint64_t)m; /* >= 1 here: at least one digit */
        do
            rev[n++] = (char)('0' + v % 10);
        while (v /= 10);
        *decpt = (int)n - s;
        size_t first = 0;
        while (first < n - 1 && rev[first] == '0') /* trailing zeros (s = 0) */
            first++;
        *nd = 0;
        for (size_t i = n; i > first; i--)
            digits[(*nd)++] = rev[i - 1];
        digits[*nd] = '\0';
        return 1;
    }
    return 0;
}

/* Shortest %e form that reads back exactly, split into digits and decpt. */
static void search_digits(double ax, char *digits, size_t *nd, int *decpt)
{
    char e[40];
    int exp2;
    int pow2 = frexp(ax, &exp2) == 0.5 && isnormal(ax);
    for (int prec = isnormal(ax) ? 15 : 1; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, ax);
        if (strtod(e, NULL) == ax) break;
        /* Below a power of two the doubles are twice as dense, so the rounding
         * interval reaches twice as far up: the decimal one unit above the
         * nearest may read back when the nearest does not (2**-24). */
        if (pow2 && bump_last_digit(e) && strtod(e, NULL) == ax) break;
    }
    const char *p = e;
    *nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[(*nd)++] = *p;
    while (*nd > 1 && digits[*nd - 1] == '0') /* %.Ne may pad with zeros */
        (*nd)--;
    digits[*nd] = '\0';
    *decpt = atoi(p + 1) + 1; /* "d.ddde<exp10>": ax = 0.dddd * 10^(exp10 + 1) */
}

size_t pyfloat_format(double x, char *out)
{
    if (isnan(x)) return (size_t)snprintf(out, PYFLOAT_MAX, "nan");
    if (isinf(x)) return (size_t)snprintf(out, PYFLOAT_MAX, x < 0 ? "-inf" : "inf");
    if (x == 0) return (size_t)snprintf(out, PYFLOAT_MAX, signbit(x) ? "-0.0" : "0.0");

    /* Sign, shortest digit string and decimal exponent. */
    int neg = signbit(x) != 0;
    double ax = fabs(x);
    char digits[20];
    size_t nd;
    int decpt; /* x = 0.dddd * 10^decpt */
    if (!short_digits(ax, digits, &nd, &decpt)) search_digits(ax, digits, &nd, &decpt);
    int exp10 = decpt - 1; /* x = d.ddd * 10^exp10 */

    char *o = out;
    if (neg) *o++ = '-';
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -decpt; i++)
                *o++ = '0';
            memcpy(o, digits, nd);
            o += nd;
        } else if ((size_t)decpt >= nd) {
            memcpy(o, digits, nd);
            o += nd;
            for (size_t i = nd; i < (size_t)decpt; i++)
                *o++ = '0';
            *o++ = '.';
            *o++ = '0';
        } else {
            memcpy(o, digits, (size_t)decpt);
            o += decpt;
            *o++ = '.';
            memcpy(o, digits + decpt, nd - (size_t)decpt);
            o += nd - (size_t)decpt;
        }
        *o = '\0';
        return (size_t)(o - out);
    }
    *o++ = digits[0];
    if (nd > 1) {
        *o++ = '.';
        memcpy(o, digits + 1, nd - 1);
        o += nd - 1;
    }
    o += sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    return (size_t)(o - out);
}
