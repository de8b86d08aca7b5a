/*
 * common.h - small helpers shared by the handler groups.
 */
#ifndef IOCPU_HANDLERS_COMMON_H
#define IOCPU_HANDLERS_COMMON_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "app.h"
#include "http.h"
#include "json_out.h"
#include "loop.h"
#include "pyfloat.h"

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

#endif
