/*
 * fuzz_prescreen.c - the first-bytes judge (http/prescreen.c) on arbitrary
 * bytes: it reads only data[0..size), returns 0 or one of its statuses, a
 * refusal always says why in a terminated detail, and a head it calls
 * complete lies inside the bytes. Judged twice: without size limits, and
 * with small ones so that the size rules are reached.
 */
#include <string.h>

#include "fuzz.h"
#include "prescreen.h"

static void judge(const char *in, size_t size, const prescreen_limits *lim)
{
    char detail[192];
    memset(detail, 'X', sizeof(detail));
    prescreen_head head;
    unsigned st = prescreen(in, size, lim, &head, detail, sizeof(detail));
    FUZZ_CHECK(st == 0 || st == 400 || st == 413 || st == 414 || st == 431 || st == 505);
    FUZZ_CHECK(lim || (st != 414 && st != 431));
    if (st) FUZZ_CHECK(memchr(detail, '\0', sizeof(detail)) && detail[0] != '\0');
    if (!st && head.complete) FUZZ_CHECK(head.head_len <= size && head.body_len >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
    memcpy(in, data, size);
    judge(in, size, NULL);
    prescreen_limits lim = {.max_header_bytes = 128, .conn_memory = 2048};
    judge(in, size, &lim);
    free(in);
    return 0;
}
