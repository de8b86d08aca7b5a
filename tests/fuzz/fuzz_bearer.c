/*
 * fuzz_bearer.c - the Authorization header reader (http/bearer.c) on
 * arbitrary bytes: it reads only data[0..size), and a token it accepts is a
 * non-empty run of b64token bytes inside the input.
 */
#include <string.h>

#include "bearer.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
    memcpy(in, data, size);
    const char *tok = NULL;
    size_t len = 0;
    if (bearer_parse(in, size, &tok, &len) == 0) {
        FUZZ_CHECK(tok > in && len > 0 && tok + len <= in + size);
        for (size_t i = 0; i < len; i++)
            FUZZ_CHECK(tok[i] != '\0' && tok[i] != ' ' && tok[i] != ',' && tok[i] != '"');
    }
    free(in);
    return 0;
}
