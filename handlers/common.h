/*
 * common.h - small helpers shared by the handler groups.
 */
#ifndef IOCPU_HANDLERS_COMMON_H
#define IOCPU_HANDLERS_COMMON_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "../server/app.h"
#include "../server/http.h"
#include "../server/json_out.h"
#include "../server/loop.h"
#include "../server/pyfloat.h"

/* Seconds between two monotonic readings, rounded to the microsecond. */
static inline double secs_between(uint64_t from_ns, uint64_t to_ns)
{
    return round((double)(to_ns - from_ns) / 1e3) / 1e6;
}

static inline double secs_since(uint64_t from_ns)
{
    return secs_between(from_ns, loop_now_ns());
}

static inline uint64_t secs_to_ns(double s)
{
    return (uint64_t)llround(s * 1e9);
}

/* Default job names: A..Z, AA..AZ, BA.. (like spreadsheet columns). */
static inline void default_name(size_t i, char out[8])
{
    char tmp[8];
    int n = 0;
    for (size_t k = i + 1; k > 0 && n < 7; k = (k - 1) / 26)
        tmp[n++] = (char)('A' + (k - 1) % 26);
    for (int j = 0; j < n; j++)
        out[j] = tmp[n - 1 - j];
    out[n] = '\0';
}

/* "<prefix><python float><suffix>" as a new JSON string. */
static inline json_t *json_fmt_delay(const char *prefix, double d, const char *suffix)
{
    char f[PYFLOAT_MAX], s[160];
    pyfloat_format(d, f);
    snprintf(s, sizeof(s), "%s%s%s", prefix, f, suffix);
    return json_string(s);
}

#endif
