/*
 * pyfloat.c - Python's float repr: shortest round-trip digits by trying
 * precisions 1..17 with printf's correctly rounded %e, then Python's layout.
 * A normal double starts at 15 digits: its rounding interval (at most 2**-52
 * of it wide) is narrower than half the spacing of 15-digit decimals (at least
 * 10**-15 of it), so a shorter decimal that reads back is the nearest 15-digit
 * one with trailing zeros, which the digit split below strips. One snprintf/
 * strtod pair for most numbers, at most three; subnormals try 1..17.
 */
#include "pyfloat.h"

#include <math.h>
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

size_t pyfloat_format(double x, char *out)
{
    if (isnan(x)) return (size_t)snprintf(out, PYFLOAT_MAX, "nan");
    if (isinf(x)) return (size_t)snprintf(out, PYFLOAT_MAX, x < 0 ? "-inf" : "inf");
    if (x == 0) return (size_t)snprintf(out, PYFLOAT_MAX, signbit(x) ? "-0.0" : "0.0");

    /* Shortest %e form that reads back exactly: "d.ddde[+-]XX". */
    char e[40];
    int exp2;
    int pow2 = fabs(frexp(x, &exp2)) == 0.5 && isnormal(x);
    for (int prec = isnormal(x) ? 15 : 1; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, x);
        if (strtod(e, NULL) == x) break;
        /* Below a power of two the doubles are twice as dense, so the rounding
         * interval reaches twice as far up: the decimal one unit above the
         * nearest may read back when the nearest does not (2**-24). */
        if (pow2 && bump_last_digit(e) && strtod(e, NULL) == x) break;
    }

    /* Split it into sign, digit string and decimal exponent. */
    const char *p = e;
    int neg = (*p == '-');
    if (neg) p++;
    char digits[20];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') /* %.Ne may pad with zeros */
        nd--;
    digits[nd] = '\0';
    int exp10 = atoi(p + 1); /* x = d.ddd * 10^exp10 */
    int decpt = exp10 + 1;   /* x = 0.dddd * 10^decpt */

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
