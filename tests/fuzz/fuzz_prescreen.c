/*
 * fuzz_prescreen.c - the first-bytes judge (http/prescreen.c) on arbitrary
 * bytes: it reads only data[0..size), returns 0, 400, 413 or 505, and a
 * refusal always says why in a terminated detail.
 */
#include <string.h>

#include "fuzz.h"
#include "prescreen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
    memcpy(in, data, size);
    char detail[96];
    memset(detail, 'X', sizeof(detail));
    unsigned st = prescreen(in, size, detail, sizeof(detail));
    FUZZ_CHECK(st == 0 || st == 400 || st == 413 || st == 505);
    if (st) FUZZ_CHECK(memchr(detail, '\0', sizeof(detail)) && detail[0] != '\0');
    free(in);
    return 0;
}
