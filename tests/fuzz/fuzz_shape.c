/*
 * fuzz_shape.c - the text form of a latency shape, the --inject-delay flag
 * (base/shape.c: NAME:PARAM=V[,PARAM=V]), on arbitrary bytes; the first byte
 * picks the bound (--max-delay). An accepted shape passes shape_check, its
 * text form reads back to the same shape, and its draws stay inside
 * [0, max]. A refusal says why.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "shape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char *raw = fuzz_tail_cstr(data, size);
    const double bounds[] = {0, 0.001, 1, 60, 86400};
    double max = bounds[data[0] % 5];
    char msg[256] = "";
    shape s;
    if (shape_parse(raw, max, &s, msg, sizeof(msg)) == 0) {
        int which;
        FUZZ_CHECK(shape_check(&s, max, msg, sizeof(msg), &which) == 0);
        char text[160];
        shape back;
        shape_format(&s, text, sizeof(text));
        FUZZ_CHECK(shape_parse(text, max, &back, msg, sizeof(msg)) == 0);
        FUZZ_CHECK(back.dist == s.dist && back.p[0] == s.p[0]);
        FUZZ_CHECK(!shape_param(s.dist, 1) || back.p[1] == s.p[1]);
        shape_rng g;
        shape_rng_seed(&g, (uint64_t)size);
        for (int i = 0; i < 8; i++) {
            double d = -1;
            if (shape_draw(&s, max, &g, &d) >= 0) FUZZ_CHECK(d >= 0 && d <= max);
        }
    } else {
        FUZZ_CHECK(msg[0] != '\0');
    }
    free(raw);
    return 0;
}
