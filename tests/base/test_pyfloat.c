/*
 * test_pyfloat.c - Python's repr(float) (base/pyfloat.c): a table checked
 * against CPython, then properties over random doubles: round trip, shortest
 * digits, Python's choice between fixed and exponent notation.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyfloat.h"

TestSuite(pyfloat, .timeout = 60);

static const struct {
    double x;
    const char *repr; /* CPython 3 repr() */
} TABLE[] = {
    {1.0, "1.0"},
    {0.5, "0.5"},
    {0.1, "0.1"},
    {0.2, "0.2"},
    {0.3, "0.3"},
    {1e-07, "1e-07"},
    {60.0, "60.0"},
    {1e16, "1e+16"},
    {1e15, "1000000000000000.0"},
    {123456789012345678.0, "1.2345678901234568e+17"},
    {0.0001, "0.0001"},
    {0.00001, "1e-05"},
    {0x1.a36e2eb1c432cp-14, "9.999999999999999e-05"},
    {0.0, "0.0"},
    {-0.0, "-0.0"},
    {5e-324, "5e-324"},
    {1.7976931348623157e308, "1.7976931348623157e+308"},
    {-2.2250738585072014e-308, "-2.2250738585072014e-308"},
    {2.5, "2.5"},
    {100.0, "100.0"},
    {1.5e-7, "1.5e-07"},
    {12345.678, "12345.678"},
    {-1.5, "-1.5"},
    {3.14159, "3.14159"},
    {4.35, "4.35"},
    {0.001, "0.001"},
    {9007199254740992.0, "9007199254740992.0"},
    {9007199254740994.0, "9007199254740994.0"},
    {9999999999999998.0, "9999999999999998.0"},
    {1234567890123456.7, "1234567890123456.8"},
    {1e22, "1e+22"},
    {1e23, "1e+23"},
    {1e100, "1e+100"},
    {0x1.f75104d551d6ap-16, "3.0000000000000004e-05"},
    {123.456e-10, "1.23456e-08"},
};

Test(pyfloat, matches_python_repr)
{
    char out[PYFLOAT_MAX];
    for (size_t i = 0; i < sizeof(TABLE) / sizeof(TABLE[0]); i++) {
        memset(out, 'X', sizeof(out));
        size_t n = pyfloat_format(TABLE[i].x, out);
        cr_assert_str_eq(out, TABLE[i].repr, "%a", TABLE[i].x);
        cr_assert_eq(n, strlen(TABLE[i].repr));
    }
}

Test(pyfloat, computed_values)
{
    char out[PYFLOAT_MAX];
    volatile double a = 0.1, b = 0.2, two = 2.0, three = 3.0;
    pyfloat_format(a + b, out);
    cr_assert_str_eq(out, "0.30000000000000004");
    pyfloat_format(two / three, out);
    cr_assert_str_eq(out, "0.6666666666666666");
    pyfloat_format(1.0 / three, out);
    cr_assert_str_eq(out, "0.3333333333333333");
}

Test(pyfloat, inf_and_nan)
{
    char out[PYFLOAT_MAX];
    cr_assert_eq(pyfloat_format(INFINITY, out), 3);
    cr_assert_str_eq(out, "inf");
    pyfloat_format(-INFINITY, out);
    cr_assert_str_eq(out, "-inf");
    pyfloat_format(NAN, out);
    cr_assert_str_eq(out, "nan");
    pyfloat_format(-NAN, out);
    cr_assert_str_eq(out, "nan", "Python prints nan without a sign");
}

/* The significant digits of a repr's mantissa, without leading or trailing zeros. */
static int sig_digits(const char *s)
{
    char d[40];
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && (n > 0 || *s != '0')) d[n++] = *s;
    while (n > 0 && d[n - 1] == '0')
        n--;
    return n;
}

/* Does some decimal with `digits` significant digits read back as x? Tries the two
 * decimals that bracket x: x truncated to that many digits, and one unit above. */
static int shorter_exists(double x, int digits)
{
    char exact[80], cand[80];
    snprintf(exact, sizeof(exact), "%.45e", fabs(x)); /* glibc prints exact digits */
    char *e = strchr(exact, 'e');
    /* "d.ddd...e+XX": keep the first `digits` digits. */
    int keep = digits == 1 ? 1 : digits + 1;
    snprintf(cand, sizeof(cand), "%.*s%s", keep, exact, e);
    if (strtod(cand, NULL) == fabs(x)) return 1;
    for (int i = keep - 1; i >= 0; i--) { /* one unit up in the last kept digit */
        if (cand[i] == '.') continue;
        if (cand[i] != '9') {
            cand[i]++;
            return strtod(cand, NULL) == fabs(x);
        }
        cand[i] = '0';
    }
    snprintf(cand, sizeof(cand), "1e%d", atoi(e + 1) + 1); /* 9.99 went up to 10.0 */
    return strtod(cand, NULL) == fabs(x);
}

static void check_property(double x)
{
    char out[PYFLOAT_MAX + 8];
    memset(out, 'X', sizeof(out));
    size_t n = pyfloat_format(x, out);
    cr_assert_lt(n, PYFLOAT_MAX, "%a -> %s", x, out);
    cr_assert_eq(strlen(out), n);
    cr_assert_eq(out[PYFLOAT_MAX], 'X', "wrote past PYFLOAT_MAX");
    if (isnan(x)) {
        cr_assert_str_eq(out, "nan");
        return;
    }
    if (isinf(x)) {
        cr_assert_str_eq(out, x < 0 ? "-inf" : "inf");
        return;
    }
    /* Round trip, bit for bit (sign of zero included). */
    char *end;
    double back = strtod(out, &end);
    cr_assert_eq(*end, '\0', "%a -> '%s' is not all number", x, out);
    cr_assert(memcmp(&back, &x, sizeof(x)) == 0, "%a -> %s -> %a", x, out, back);
    /* Always looks like a float. */
    cr_assert(strchr(out, '.') || strchr(out, 'e'), "%a -> %s", x, out);
    /* Python's layout: fixed for 1e-4 <= |x| < 1e16, exponent otherwise. */
    double ax = fabs(x);
    int fixed = ax == 0 || (ax >= 1e-4 && ax < 1e16);
    if (fixed) {
        cr_assert_null(strchr(out, 'e'), "%a -> %s", x, out);
        cr_assert_not_null(strchr(out, '.'));
    } else {
        const char *e = strchr(out, 'e');
        cr_assert_not_null(e, "%a -> %s", x, out);
        cr_assert(e[1] == '+' || e[1] == '-');
        cr_assert(strlen(e + 2) >= 2, "two-digit exponent at least: %s", out);
        cr_assert(!(e[-1] == '0' && e[-2] == '.'), "no '.0' mantissa: %s", out);
    }
    /* Shortest: no decimal with one digit fewer reads back. */
    int d = sig_digits(out);
    cr_assert(d >= (ax != 0) && d <= 17, "%s", out);
    if (d > 1) cr_assert(!shorter_exists(x, d - 1), "%a: %s is not the shortest", x, out);
}

static uint64_t rng = 0x243f6a8885a308d3u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

Test(pyfloat, round_trip_over_random_bit_patterns)
{
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = next();
        double x;
        memcpy(&x, &bits, sizeof(x));
        check_property(x);
    }
}

Test(pyfloat, round_trip_over_ordinary_magnitudes)
{
    /* Random mantissas with exponents around the fixed/exponent boundaries. */
    for (int i = 0; i < 50000; i++) {
        int e = (int)(next() % 80) - 40;
        double x = ldexp((double)(next() >> 11) / 9007199254740992.0 + 0.5, e * 3);
        if (i % 2) x = -x;
        check_property(x);
    }
    static const double edges[] = {
        1e-4,      1e16,      0x1.a36e2eb1c432cp-14,   9999999999999998.0,
        0x1p-1074, 0x1p-1022, 0x1.fffffffffffffp+1023, 0.0,
        -0.0};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        check_property(edges[i]);
}

/* k / 10^j prints as the decimal k * 10^-j: an expected string built from k's digits. */
static void decimal_repr(long k, int j, char *out)
{
    char digits[32];
    int nd = snprintf(digits, sizeof(digits), "%ld", k);
    while (nd > 1 && digits[nd - 1] == '0') {
        nd--;
        j--;
    }
    digits[nd] = '\0';
    int decpt = nd - j; /* value = 0.digits * 10^decpt */
    char *o = out;
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            o += sprintf(o, "0.");
            for (int i = 0; i < -decpt; i++)
                *o++ = '0';
            strcpy(o, digits);
        } else if (decpt >= nd) {
            o += sprintf(o, "%s", digits);
            for (int i = nd; i < decpt; i++)
                *o++ = '0';
            strcpy(o, ".0");
        } else {
            sprintf(o, "%.*s.%s", decpt, digits, digits + decpt);
        }
    } else {
        int e = decpt - 1;
        sprintf(o, "%c%s%se%c%02d", digits[0], nd > 1 ? "." : "", digits + 1, e < 0 ? '-' : '+',
                abs(e));
    }
}

Test(pyfloat, short_decimals_print_as_written)
{
    static const double p10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    char want[64], got[PYFLOAT_MAX];
    for (long k = 1; k < 100000; k += (k < 1000 ? 1 : 37)) {
        for (int j = 0; j <= 6; j++) {
            double x = (double)k / p10[j]; /* correctly rounded, like strtod */
            decimal_repr(k, j, want);
            pyfloat_format(x, got);
            cr_assert_str_eq(got, want, "%ld / 10^%d", k, j);
        }
    }
}

/*
 * Just above a power of two the rounding interval is twice as wide upwards,
 * so the shortest repr may be the decimal one unit above the nearest one.
 * Disabled until base/pyfloat.c handles that case (it prints 17 digits:
 * 5.9604644775390625e-08 for 2**-24).
 */
Test(pyfloat, powers_of_two_are_shortest)
{
    static const struct {
        int e;
        const char *repr; /* CPython repr(2.0**e) */
    } P2[] = {{-24, "5.960464477539063e-08"},
              {-44, "5.684341886080802e-14"},
              {89, "6.189700196426902e+26"},
              {976, "6.386688990511104e+293"},
              {-1017, "7.120236347223045e-307"}};
    char out[PYFLOAT_MAX];
    for (size_t i = 0; i < sizeof(P2) / sizeof(P2[0]); i++) {
        pyfloat_format(ldexp(1.0, P2[i].e), out);
        cr_assert_str_eq(out, P2[i].repr, "2**%d", P2[i].e);
    }
    for (int e = -1074; e < 1024; e++) {
        check_property(ldexp(1.0, e));
        check_property(-ldexp(1.0, e));
    }
}
