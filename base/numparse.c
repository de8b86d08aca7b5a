/*
 * numparse.c - see numparse.h.
 */
#include "numparse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

int parse_double(const char *s, double *out)
{
    const char *q = s;
    if (*q == '+' || *q == '-') q++;
    if (!strcasecmp(q, "inf") || !strcasecmp(q, "infinity") || !strcasecmp(q, "nan")) return -2;
    size_t intd = 0, fracd = 0;
    while (isdigit((unsigned char)*q))
        q++, intd++;
    if (*q == '.') {
        q++;
        while (isdigit((unsigned char)*q))
            q++, fracd++;
    }
    if (intd + fracd == 0) return -1;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!isdigit((unsigned char)*q)) return -1;
        while (isdigit((unsigned char)*q))
            q++;
    }
    if (*q) return -1;
    double x = strtod(s, NULL);
    if (!isfinite(x)) return -2;
    *out = x;
    return 0;
}

int parse_int64(const char *s, int64_t *out)
{
    const char *q = s;
    if (*q == '+' || *q == '-') q++;
    if (!*q) return -1;
    for (const char *d = q; *d; d++)
        if (!isdigit((unsigned char)*d)) return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE) return -2;
    *out = v;
    return 0;
}
