/*
 * fuzz_pyfloat.c - Python float repr (base/pyfloat.c): for any double (the
 * input's first 8 bytes, and the input read as text by strtod), the text
 * fits PYFLOAT_MAX, reads back to the same double, looks like Python's
 * (a '.' or an exponent), and uses no more than 17 significant digits.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "pyfloat.h"

static void check_one(double x)
{
    char out[PYFLOAT_MAX + 8];
    memset(out, 'X', sizeof(out));
    size_t n = pyfloat_format(x, out);
    FUZZ_CHECK(n < PYFLOAT_MAX && strlen(out) == n);
    if (isnan(x)) {
        FUZZ_CHECK(!strcmp(out, "nan"));
        return;
    }
    if (isinf(x)) {
        FUZZ_CHECK(!strcmp(out, x < 0 ? "-inf" : "inf"));
        return;
    }
    FUZZ_CHECK(strchr(out, '.') || strchr(out, 'e'));
    double back = strtod(out, NULL);
    FUZZ_CHECK(memcmp(&back, &x, sizeof(x)) == 0); /* bit for bit, -0.0 included */
    size_t digits = 0, lead = 1;
    for (const char *c = out; *c && *c != 'e'; c++) {
        if (*c < '0' || *c > '9') continue;
        if (lead && *c == '0') continue; /* leading zeros are not significant */
        lead = 0;
        digits++;
    }
    FUZZ_CHECK(digits <= 17 || strchr(out, 'e') == NULL); /* fixed form pads with zeros */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= sizeof(double)) {
        double x;
        memcpy(&x, data, sizeof(x));
        check_one(x);
    }
    char text[64];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    check_one(strtod(text, NULL));
    return 0;
}
