/*
 * fuzz.h - what every harness shares: the libFuzzer entry point, and a check
 * that aborts (a crash libFuzzer records) when an invariant breaks.
 */
#ifndef IOCPU_FUZZ_H
#define IOCPU_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input after its first byte (which harnesses use to pick a case), as a
 * NUL-terminated string the caller frees; input NULs end it early, as they
 * would in a request. size must be at least 1. */
static inline char *fuzz_tail_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    return s;
}

/* v, written by iocpu's own serialiser, must read back as JSON; consumes v. */
static inline void fuzz_check_json(json_t *v)
{
    size_t len;
    char *text = json_out(v, &len);
    FUZZ_CHECK(text != NULL && strlen(text) == len);
    json_error_t err;
    json_t *back = json_loadb(text, len, 0, &err);
    FUZZ_CHECK(back != NULL);
    json_decref(back);
    free(text);
    json_decref(v);
}

#endif
