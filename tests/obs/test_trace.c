/*
 * test_trace.c - W3C traceparent (obs/trace.h): a table of valid and invalid
 * values (the spec's rules: lowercase hex, lengths, all-zero ids, version
 * ff, what a later version may carry), a new trace when none is given, the
 * header we answer with, and child spans.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "trace.h"

TestSuite(trace, .timeout = 30);

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PID "00f067aa0ba902b7"

static const struct {
    const char *value;
    int valid;
    const char *why;
} CASES[] = {
    {"00-" TID "-" PID "-01", 1, "the spec's example"},
    {"00-" TID "-" PID "-00", 1, "not sampled"},
    {"00-" TID "-" PID "-ff", 1, "unknown flags are read (and dropped)"},
    {"01-" TID "-" PID "-01", 1, "a later version, exactly as long"},
    {"cc-" TID "-" PID "-01-what-the-future-will-be-like", 1, "a later version, more after a dash"},
    {"fe-" TID "-" PID "-09", 1, "the last version there can be"},
    {"ff-" TID "-" PID "-01", 0, "version ff is invalid"},
    {"00-" TID "-" PID "-01-", 0, "version 00 with anything after the flags"},
    {"00-" TID "-" PID "-01x", 0, "version 00, one character too many"},
    {"cc-" TID "-" PID "-01x", 0, "a later version goes on only after a dash"},
    {"00-" TID "-" PID "-1", 0, "flags of one digit"},
    {"00-" TID "-" PID, 0, "no flags"},
    {"00-4bf92f3577b34da6a3ce929d0e0e473-" PID "-01", 0, "a trace id of 31"},
    {"00-4bf92f3577b34da6a3ce929d0e0e47366-" PID "-01", 0, "a trace id of 33"},
    {"00-" TID "-00f067aa0ba902b-01", 0, "a parent id of 15"},
    {"00-" TID "-00f067aa0ba902b77-01", 0, "a parent id of 17"},
    {"00-4BF92F3577B34DA6A3CE929D0E0E4736-" PID "-01", 0, "an uppercase trace id"},
    {"00-" TID "-00F067AA0BA902B7-01", 0, "an uppercase parent id"},
    {"0A-" TID "-" PID "-01", 0, "an uppercase version"},
    {"00-" TID "-" PID "-0A", 0, "uppercase flags"},
    {"00-00000000000000000000000000000000-" PID "-01", 0, "an all-zero trace id"},
    {"00-" TID "-0000000000000000-01", 0, "an all-zero parent id"},
    {"00-" TID "-" PID "_01", 0, "another separator"},
    {"00_" TID "-" PID "-01", 0, "another separator after the version"},
    {"00-" TID "_" PID "-01", 0, "another separator after the trace id"},
    {"0g-" TID "-" PID "-01", 0, "a version that is not hex"},
    {"00-4bf92f3577b34da6a3ce929d0e0e473g-" PID "-01", 0, "a trace id that is not hex"},
    {"00-" TID "-00f067aa0ba902bz-01", 0, "a parent id that is not hex"},
    {"00-" TID "-" PID "-0g", 0, "flags that are not hex"},
    {" 00-" TID "-" PID "-01", 0, "a leading space (the server trims OWS)"},
    {"00-" TID "-" PID "-01 ", 0, "a trailing space"},
    {"", 0, "empty"},
    {"00", 0, "a version alone"},
    {"garbage", 0, "garbage"},
};

Test(trace, valid_and_invalid_values)
{
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        trace_ctx t;
        memset(&t, 0xaa, sizeof(t));
        int rc = trace_parse(CASES[i].value, strlen(CASES[i].value), &t);
        cr_expect_eq(rc == 0, CASES[i].valid, "%s: '%s' gave %d", CASES[i].why, CASES[i].value, rc);
        if (rc == 0) {
            char hex[TRACE_ID_HEX + 1];
            trace_hex(t.trace_id, TRACE_ID_BYTES, hex);
            cr_expect_str_eq(hex, TID, "%s", CASES[i].why);
            trace_hex(t.parent_id, TRACE_SPAN_BYTES, hex);
            cr_expect_str_eq(hex, PID, "%s", CASES[i].why);
            cr_expect_leq(t.flags, 1, "only the sampled flag is kept: %s", CASES[i].why);
        } else {
            cr_expect_eq(t.flags, 0xaa, "an invalid value leaves t alone: %s", CASES[i].why);
        }
    }
}

Test(trace, only_the_given_bytes_are_read)
{
    const char *v = "00-" TID "-" PID "-01";
    trace_ctx t;
    cr_assert_eq(trace_parse(v, 54, &t), -1, "one short");
    cr_assert_eq(trace_parse(NULL, 0, &t), -1);
}

Test(trace, a_valid_header_continues_the_trace_with_a_span_of_our_own)
{
    const char *v = "00-" TID "-" PID "-01";
    trace_ctx t;
    cr_assert_eq(trace_begin(&t, v, strlen(v)), 1);
    char out[TRACEPARENT_LEN + 1];
    trace_format(&t, out);
    cr_assert_eq(strlen(out), TRACEPARENT_LEN);
    cr_assert_eq(strncmp(out, "00-" TID "-", 36), 0, "%s", out);
    cr_assert_neq(strncmp(out + 36, PID, 16), 0, "our span id, not the caller's: %s", out);
    cr_assert_str_eq(out + 52, "-01");
    trace_ctx back;
    cr_assert_eq(trace_parse(out, strlen(out), &back), 0, "what we send parses: %s", out);
    cr_assert_eq(memcmp(back.parent_id, t.span_id, TRACE_SPAN_BYTES), 0);
    /* flags: not sampled stays not sampled */
    const char *v0 = "00-" TID "-" PID "-00";
    trace_begin(&t, v0, strlen(v0));
    trace_format(&t, out);
    cr_assert_str_eq(out + 52, "-00");
}

Test(trace, no_or_an_invalid_header_starts_a_new_trace)
{
    const char *bad = "00-00000000000000000000000000000000-" PID "-01";
    trace_ctx a, b;
    cr_assert_eq(trace_begin(&a, NULL, 0), 0);
    cr_assert_eq(trace_begin(&b, bad, strlen(bad)), 0);
    cr_assert(trace_valid(&a) && trace_valid(&b));
    cr_assert_neq(memcmp(a.trace_id, b.trace_id, TRACE_ID_BYTES), 0, "two new traces differ");
    static const uint8_t zero[TRACE_SPAN_BYTES];
    cr_assert_eq(memcmp(a.parent_id, zero, sizeof(zero)), 0, "no parent");
    cr_assert_eq(a.flags, TRACE_FLAG_SAMPLED);
    char out[TRACEPARENT_LEN + 1];
    trace_format(&b, out);
    trace_ctx back;
    cr_assert_eq(trace_parse(out, strlen(out), &back), 0, "%s", out);
}

Test(trace, a_child_span_keeps_the_trace_and_names_its_parent)
{
    const char *v = "00-" TID "-" PID "-01";
    trace_ctx t, c;
    trace_begin(&t, v, strlen(v));
    char out[TRACEPARENT_LEN + 1];
    trace_child(&t, &c, out);
    cr_assert_eq(memcmp(c.trace_id, t.trace_id, TRACE_ID_BYTES), 0);
    cr_assert_eq(memcmp(c.parent_id, t.span_id, TRACE_SPAN_BYTES), 0);
    cr_assert_neq(memcmp(c.span_id, t.span_id, TRACE_SPAN_BYTES), 0);
    char span[TRACE_SPAN_HEX + 1];
    trace_hex(c.span_id, TRACE_SPAN_BYTES, span);
    cr_assert_eq(strncmp(out + 36, span, 16), 0, "the header sent names the child's span: %s", out);
}

Test(trace, ids_do_not_repeat)
{
    enum { N = 20000 };
    static uint8_t seen[N][TRACE_SPAN_BYTES];
    for (int i = 0; i < N; i++) {
        trace_ctx t;
        trace_begin(&t, NULL, 0);
        memcpy(seen[i], t.span_id, TRACE_SPAN_BYTES);
    }
    for (int i = 1; i < N; i++)
        cr_assert_neq(memcmp(seen[i], seen[i - 1], TRACE_SPAN_BYTES), 0);
}
