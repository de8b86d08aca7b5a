/*
 * fuzz_trace.c - the traceparent parser (obs/trace.c) on arbitrary bytes: it
 * reads only data[0..size); a value it accepts has non-zero ids, only the
 * sampled flag, and formats back (as version 00, with our span) into a
 * value it accepts again with the same trace id.
 */
#include <string.h>

#include "fuzz.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
    memcpy(in, data, size);
    trace_ctx t;
    memset(&t, 0, sizeof(t));
    if (trace_parse(in, size, &t) == 0) {
        FUZZ_CHECK(size >= TRACEPARENT_LEN);
        FUZZ_CHECK(trace_valid(&t));
        FUZZ_CHECK(t.flags <= TRACE_FLAG_SAMPLED);
        trace_ctx c;
        char out[TRACEPARENT_LEN + 1];
        trace_child(&t, &c, out);
        FUZZ_CHECK(strlen(out) == TRACEPARENT_LEN);
        trace_ctx back;
        FUZZ_CHECK(trace_parse(out, TRACEPARENT_LEN, &back) == 0);
        FUZZ_CHECK(memcmp(back.trace_id, t.trace_id, TRACE_ID_BYTES) == 0);
        FUZZ_CHECK(memcmp(back.parent_id, c.span_id, TRACE_SPAN_BYTES) == 0);
    }
    free(in);
    return 0;
}
