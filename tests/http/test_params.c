/*
 * test_params.c - strict parameter parsing and FastAPI/pydantic v2 shaped
 * errors (http/params.c). Errors are compared as JSON values with jansson
 * (object key order does not matter; integer vs real does). Expected texts
 * were checked against pydantic 2.13; deviations are marked "pydantic:".
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "params.h"

TestSuite(params, .timeout = 30);

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    cr_assert_not_null(j, "bad JSON in the test: %s: %s", e.text, text);
    return j;
}

/* p's error array equals the JSON array `want`. */
static void expect_errors(const params *p, const char *want)
{
    json_t *w = parse(want);
    if (!json_equal(p->errors, w)) {
        char *g = json_dumps(p->errors, JSON_SORT_KEYS | JSON_COMPACT);
        char *x = json_dumps(w, JSON_SORT_KEYS | JSON_COMPACT);
        cr_assert_fail("errors differ\n got: %s\nwant: %s", g, x);
    }
    json_decref(w);
}

/* ---- parse_double / parse_int64 ---- */

Test(params, parse_double_accepts_plain_numbers)
{
    static const struct {
        const char *s;
        double v;
    } ok[] = {{"1", 1.0},     {"1.0", 1.0},    {".5", 0.5},    {"5.", 5.0},
              {"1e-7", 1e-7}, {"+2", 2.0},     {"-0.5", -0.5}, {"1E5", 1e5},
              {"007", 7.0},   {"2.5e+2", 250}, {"0", 0.0},     {"1e-400", 0.0}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        double x = NAN;
        cr_assert_eq(parse_double(ok[i].s, &x), 0, "'%s' rejected", ok[i].s);
        cr_assert_eq(x, ok[i].v, "'%s' -> %.17g", ok[i].s, x);
    }
}

Test(params, parse_double_rejects_anything_else)
{
    static const char *const bad[] = {"",      " 1",  "1 ",  "abc",   "1e", "0x10", "1,2",
                                      "1_000", ".",   "-",   "+",     "e5", "1e+",  "--1",
                                      "1.2.3", "\t1", "1\n", "1e5.5", "١",  "1f",   "+-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double x = 42.0;
        cr_assert_eq(parse_double(bad[i], &x), -1, "'%s' accepted", bad[i]);
        cr_assert_eq(x, 42.0, "output written on failure for '%s'", bad[i]);
    }
}

Test(params, parse_double_non_finite_is_minus_two)
{
    static const char *const inf[] = {"inf",    "-inf", "nan",  "Infinity", "1e999",
                                      "-1e999", "NaN",  "+inf", "INF",      "-Infinity"};
    for (size_t i = 0; i < sizeof(inf) / sizeof(inf[0]); i++) {
        double x = 42.0;
        cr_assert_eq(parse_double(inf[i], &x), -2, "'%s'", inf[i]);
        cr_assert_eq(x, 42.0);
    }
}

Test(params, parse_int64_boundaries)
{
    int64_t v = 0;
    cr_assert_eq(parse_int64("9223372036854775807", &v), 0);
    cr_assert_eq(v, INT64_MAX);
    cr_assert_eq(parse_int64("-9223372036854775808", &v), 0);
    cr_assert_eq(v, INT64_MIN);
    cr_assert_eq(parse_int64("+7", &v), 0);
    cr_assert_eq(v, 7);
    cr_assert_eq(parse_int64("-0", &v), 0);
    cr_assert_eq(v, 0);

    static const char *const big[] = {"9223372036854775808", "-9223372036854775809",
                                      "99999999999999999999999"};
    for (size_t i = 0; i < 3; i++) {
        v = 42;
        cr_assert_eq(parse_int64(big[i], &v), -2, "'%s'", big[i]);
        cr_assert_eq(v, 42);
    }
    static const char *const bad[] = {"3.0", "", "+", "-", " 1", "1 ", "1e3", "0x1", "abc", "1-"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 42;
        cr_assert_eq(parse_int64(bad[i], &v), -1, "'%s'", bad[i]);
        cr_assert_eq(v, 42);
    }
}

/* ---- single values ---- */

Test(params, param_double_default_and_inclusive_bounds)
{
    params p;
    params_init(&p, "query");
    double x = 0;
    cr_assert_eq(param_double(&p, "delay", NULL, 1.5, 0, 60, &x), 0);
    cr_assert_eq(x, 1.5);
    cr_assert_eq(param_double(&p, "delay", "0", 1.5, 0, 60, &x), 0);
    cr_assert_eq(x, 0.0);
    cr_assert_eq(param_double(&p, "delay", "60", 1.5, 0, 60, &x), 0);
    cr_assert_eq(x, 60.0);
    cr_assert(params_ok(&p));
    cr_assert_eq(json_array_size(p.errors), 0);
    params_free(&p);
}

Test(params, param_double_errors_have_the_pydantic_shape)
{
    params p;
    params_init(&p, "query");
    double x = 7;
    cr_assert_eq(param_double(&p, "delay", "3", 1, 0.5, 2.5, &x), -1);
    cr_assert_eq(param_double(&p, "delay", "0.25", 1, 0.5, 2.5, &x), -1);
    cr_assert_eq(param_double(&p, "delay", "abc", 1, 0.5, 2.5, &x), -1);
    cr_assert_eq(param_double(&p, "delay", "nan", 1, 0.5, 2.5, &x), -1);
    cr_assert_eq(param_double(&p, "delay", "", 1, 0.5, 2.5, &x), -1);
    cr_assert(!params_ok(&p));
    expect_errors(&p, "["
                      "{\"type\":\"less_than_equal\",\"loc\":[\"query\",\"delay\"],"
                      "\"msg\":\"Input should be less than or equal to 2.5\","
                      "\"input\":\"3\",\"ctx\":{\"le\":2.5}},"
                      "{\"type\":\"greater_than_equal\",\"loc\":[\"query\",\"delay\"],"
                      "\"msg\":\"Input should be greater than or equal to 0.5\","
                      "\"input\":\"0.25\",\"ctx\":{\"ge\":0.5}},"
                      "{\"type\":\"float_parsing\",\"loc\":[\"query\",\"delay\"],"
                      "\"msg\":\"Input should be a valid number, unable to parse string as a "
                      "number\",\"input\":\"abc\"},"
                      "{\"type\":\"finite_number\",\"loc\":[\"query\",\"delay\"],"
                      "\"msg\":\"Input should be a finite number\",\"input\":\"nan\"},"
                      "{\"type\":\"float_parsing\",\"loc\":[\"query\",\"delay\"],"
                      "\"msg\":\"Input should be a valid number, unable to parse string as a "
                      "number\",\"input\":\"\"}"
                      "]");
    params_free(&p);
}

Test(params, param_double_integral_bound_message)
{
    params p;
    params_init(&p, "query");
    double x;
    cr_assert_eq(param_double(&p, "delay", "61", 1, 0, 60, &x), -1);
    /* pydantic: "...less than or equal to 60" (Rust float display); iocpu prints 60.0 */
    expect_errors(&p, "[{\"type\":\"less_than_equal\",\"loc\":[\"query\",\"delay\"],"
                      "\"msg\":\"Input should be less than or equal to 60.0\","
                      "\"input\":\"61\",\"ctx\":{\"le\":60.0}}]");
    params_free(&p);
}

Test(params, param_int64_and_uint64)
{
    params p;
    params_init(&p, "query");
    int64_t v = 0;
    uint64_t u = 0;
    cr_assert_eq(param_int64(&p, "n", NULL, 3, INT64_MIN, INT64_MAX, &v), 0);
    cr_assert_eq(v, 3);
    cr_assert_eq(param_int64(&p, "n", "-9223372036854775808", 3, INT64_MIN, INT64_MAX, &v), 0);
    cr_assert_eq(v, INT64_MIN);
    cr_assert_eq(param_uint64(&p, "iterations", "5000000000", 1, 0, 5000000000u, &u), 0);
    cr_assert_eq(u, 5000000000u);
    cr_assert_eq(param_uint64(&p, "iterations", NULL, 1000000, 0, UINT64_MAX, &u), 0);
    cr_assert_eq(u, 1000000);
    cr_assert(params_ok(&p));

    cr_assert_eq(param_int64(&p, "n", "3.0", 3, INT64_MIN, INT64_MAX, &v), -1);
    cr_assert_eq(param_int64(&p, "n", "", 3, INT64_MIN, INT64_MAX, &v), -1);
    cr_assert_eq(param_int64(&p, "n", "9223372036854775808", 3, INT64_MIN, INT64_MAX, &v), -1);
    cr_assert_eq(param_int64(&p, "jobs", "0", 6, 1, 100, &v), -1);
    cr_assert_eq(param_uint64(&p, "iterations", "-1", 1, 0, 5000000000u, &u), -1);
    cr_assert_eq(param_uint64(&p, "iterations", "5000000001", 1, 0, 5000000000u, &u), -1);
    expect_errors(
        &p, "["
            "{\"type\":\"int_parsing\",\"loc\":[\"query\",\"n\"],\"msg\":\"Input should be a "
            "valid integer, unable to parse string as an integer\",\"input\":\"3.0\"},"
            "{\"type\":\"int_parsing\",\"loc\":[\"query\",\"n\"],\"msg\":\"Input should be a "
            "valid integer, unable to parse string as an integer\",\"input\":\"\"},"
            "{\"type\":\"int_parsing_size\",\"loc\":[\"query\",\"n\"],\"msg\":\"Unable to parse "
            "input string as an integer, exceeded maximum size\","
            "\"input\":\"9223372036854775808\"},"
            "{\"type\":\"greater_than_equal\",\"loc\":[\"query\",\"jobs\"],\"msg\":\"Input should "
            "be greater than or equal to 1\",\"input\":\"0\",\"ctx\":{\"ge\":1}},"
            "{\"type\":\"greater_than_equal\",\"loc\":[\"query\",\"iterations\"],\"msg\":\"Input "
            "should be greater than or equal to 0\",\"input\":\"-1\",\"ctx\":{\"ge\":0}},"
            "{\"type\":\"less_than_equal\",\"loc\":[\"query\",\"iterations\"],\"msg\":\"Input "
            "should be less than or equal to 5000000000\",\"input\":\"5000000001\","
            "\"ctx\":{\"le\":5000000000}}"
            "]");
    params_free(&p);
}

/* ---- lists ---- */

Test(params, param_double_list_values_and_default)
{
    params p;
    params_init(&p, "query");
    double out[4];
    cr_assert_eq(param_double_list(&p, "delays", "1.0,0.5,0.2", NULL, 4, 0, 60, out), 3);
    cr_assert_eq(out[0], 1.0);
    cr_assert_eq(out[1], 0.5);
    cr_assert_eq(out[2], 0.2);
    cr_assert_eq(param_double_list(&p, "delays", NULL, "0.3,0.1", 4, 0, 60, out), 2);
    cr_assert_eq(out[0], 0.3);
    cr_assert_eq(out[1], 0.1);
    cr_assert_eq(param_double_list(&p, "delays", "4", NULL, 1, 0, 60, out), 1);
    cr_assert_eq(out[0], 4.0);
    cr_assert(params_ok(&p));
    params_free(&p);
}

Test(params, param_double_list_too_long_and_too_short)
{
    params p;
    params_init(&p, "query");
    double out[3];
    cr_assert_eq(param_double_list(&p, "delays", "1,2,3,4", NULL, 3, 0, 60, out), -1);
    cr_assert_eq(param_double_list(&p, "delays", "", NULL, 3, 0, 60, out), -1);
    cr_assert_eq(param_double_list(&p, "delays", "1,2", NULL, 1, 0, 60, out), -1);
    cr_assert_eq(param_double_list(&p, "delays", NULL, NULL, 3, 0, 60, out), -1);
    /* pydantic: "input" is the list of items; iocpu gives the raw query string. */
    expect_errors(&p, "["
                      "{\"type\":\"too_long\",\"loc\":[\"query\",\"delays\"],"
                      "\"msg\":\"List should have at most 3 items after validation, not 4\","
                      "\"input\":\"1,2,3,4\",\"ctx\":{\"field_type\":\"List\",\"max_length\":3,"
                      "\"actual_length\":4}},"
                      "{\"type\":\"too_short\",\"loc\":[\"query\",\"delays\"],"
                      "\"msg\":\"List should have at least 1 item after validation, not 0\","
                      "\"input\":\"\",\"ctx\":{\"field_type\":\"List\",\"min_length\":1,"
                      "\"actual_length\":0}},"
                      "{\"type\":\"too_long\",\"loc\":[\"query\",\"delays\"],"
                      "\"msg\":\"List should have at most 1 item after validation, not 2\","
                      "\"input\":\"1,2\",\"ctx\":{\"field_type\":\"List\",\"max_length\":1,"
                      "\"actual_length\":2}},"
                      "{\"type\":\"missing\",\"loc\":[\"query\",\"delays\"],"
                      "\"msg\":\"Field required\",\"input\":null}"
                      "]");
    params_free(&p);
}

Test(params, param_double_list_item_errors_carry_the_index)
{
    params p;
    params_init(&p, "query");
    double out[6];
    cr_assert_eq(param_double_list(&p, "delays", "1,0.5,x,-1,,inf", NULL, 6, 0, 60, out), -1);
    expect_errors(&p, "["
                      "{\"type\":\"float_parsing\",\"loc\":[\"query\",\"delays\",2],"
                      "\"msg\":\"Input should be a valid number, unable to parse string as a "
                      "number\",\"input\":\"x\"},"
                      "{\"type\":\"greater_than_equal\",\"loc\":[\"query\",\"delays\",3],"
                      "\"msg\":\"Input should be greater than or equal to 0.0\","
                      "\"input\":\"-1\",\"ctx\":{\"ge\":0.0}},"
                      "{\"type\":\"float_parsing\",\"loc\":[\"query\",\"delays\",4],"
                      "\"msg\":\"Input should be a valid number, unable to parse string as a "
                      "number\",\"input\":\"\"},"
                      "{\"type\":\"finite_number\",\"loc\":[\"query\",\"delays\",5],"
                      "\"msg\":\"Input should be a finite number\",\"input\":\"inf\"}"
                      "]");
    params_free(&p);
}

Test(params, param_int64_list)
{
    params p;
    params_init(&p, "query");
    int64_t out[3];
    cr_assert_eq(param_int64_list(&p, "ns", "3,-5,9223372036854775807", NULL, 3, out), 3);
    cr_assert_eq(out[0], 3);
    cr_assert_eq(out[1], -5);
    cr_assert_eq(out[2], INT64_MAX);
    cr_assert_eq(param_int64_list(&p, "ns", NULL, "3,5", 3, out), 2);
    cr_assert_eq(out[1], 5);
    cr_assert(params_ok(&p));
    cr_assert_eq(param_int64_list(&p, "ns", "1,2.5,-9223372036854775809", NULL, 3, out), -1);
    cr_assert_eq(param_int64_list(&p, "ns", "1,2,3,4", NULL, 3, out), -1);
    expect_errors(&p, "["
                      "{\"type\":\"int_parsing\",\"loc\":[\"query\",\"ns\",1],\"msg\":\"Input "
                      "should be a valid integer, unable to parse string as an integer\","
                      "\"input\":\"2.5\"},"
                      "{\"type\":\"int_parsing_size\",\"loc\":[\"query\",\"ns\",2],\"msg\":"
                      "\"Unable to parse input string as an integer, exceeded maximum size\","
                      "\"input\":\"-9223372036854775809\"},"
                      "{\"type\":\"too_long\",\"loc\":[\"query\",\"ns\"],"
                      "\"msg\":\"List should have at most 3 items after validation, not 4\","
                      "\"input\":\"1,2,3,4\",\"ctx\":{\"field_type\":\"List\",\"max_length\":3,"
                      "\"actual_length\":4}}"
                      "]");
    params_free(&p);
}

/* ---- names ---- */

Test(params, param_name)
{
    params p;
    params_init(&p, "query");
    char *s = NULL;
    cr_assert_eq(param_name(&p, "name", NULL, "job", &s), 0);
    cr_assert_str_eq(s, "job");
    free(s);
    cr_assert_eq(param_name(&p, "name", "h\xc3\xa9llo", "job", &s), 0);
    cr_assert_str_eq(s, "h\xc3\xa9llo");
    free(s);
    char max[65];
    memset(max, 'a', 64);
    max[64] = '\0';
    cr_assert_eq(param_name(&p, "name", max, "job", &s), 0);
    cr_assert_str_eq(s, max);
    free(s);
    cr_assert(params_ok(&p));

    char over[66];
    memset(over, 'b', 65);
    over[65] = '\0';
    cr_assert_eq(param_name(&p, "name", over, "job", &s), -1);
    cr_assert_null(s);
    cr_assert_eq(param_name(&p, "name", "", "job", &s), -1);
    cr_assert_null(s);
    cr_assert_eq(param_name(&p, "name", "a\xff", "job", &s), -1);
    cr_assert_null(s);
    char want[1024];
    /* pydantic: string_too_long/too_short also carry ctx {"max_length":64} / {"min_length":1} */
    snprintf(want, sizeof(want),
             "["
             "{\"type\":\"string_too_long\",\"loc\":[\"query\",\"name\"],"
             "\"msg\":\"String should have at most 64 characters\",\"input\":\"%s\"},"
             "{\"type\":\"string_too_short\",\"loc\":[\"query\",\"name\"],"
             "\"msg\":\"String should have at least 1 character\",\"input\":\"\"},"
             "{\"type\":\"string_unicode\",\"loc\":[\"query\",\"name\"],"
             "\"msg\":\"Input should be a valid string, unable to parse raw data as a unicode "
             "string\",\"input\":null}"
             "]",
             over);
    expect_errors(&p, want);
    params_free(&p);
}

Test(params, param_name_list)
{
    params p;
    params_init(&p, "query");
    char *out[3];
    cr_assert_eq(param_name_list(&p, "names", "A,B,C", 3, out), 3);
    cr_assert_str_eq(out[0], "A");
    cr_assert_str_eq(out[1], "B");
    cr_assert_str_eq(out[2], "C");
    for (int i = 0; i < 3; i++)
        free(out[i]);
    cr_assert(params_ok(&p));

    cr_assert_eq(param_name_list(&p, "names", "A,,\xc3(", 3, out), -1);
    for (int i = 0; i < 3; i++)
        cr_assert_null(out[i], "out[%d] left allocated after a failure", i);
    cr_assert_eq(param_name_list(&p, "names", "A,B,C,D", 3, out), -1);
    cr_assert_eq(param_name_list(&p, "names", NULL, 3, out), -1);
    expect_errors(&p, "["
                      "{\"type\":\"string_too_short\",\"loc\":[\"query\",\"names\",1],"
                      "\"msg\":\"String should have at least 1 character\",\"input\":\"\"},"
                      "{\"type\":\"string_unicode\",\"loc\":[\"query\",\"names\",2],"
                      "\"msg\":\"Input should be a valid string, unable to parse raw data as a "
                      "unicode string\",\"input\":null},"
                      "{\"type\":\"too_long\",\"loc\":[\"query\",\"names\"],"
                      "\"msg\":\"List should have at most 3 items after validation, not 4\","
                      "\"input\":\"A,B,C,D\",\"ctx\":{\"field_type\":\"List\",\"max_length\":3,"
                      "\"actual_length\":4}},"
                      "{\"type\":\"missing\",\"loc\":[\"query\",\"names\"],"
                      "\"msg\":\"Field required\",\"input\":null}"
                      "]");
    params_free(&p);
}

/* ---- choice ---- */

Test(params, param_choice)
{
    static const char *const two[] = {"io", "cpu", NULL};
    static const char *const three[] = {"io", "cpu", "mixed", NULL};
    static const char *const one[] = {"io", NULL};
    params p;
    params_init(&p, "body");
    const char *out = NULL;
    cr_assert_eq(param_choice(&p, "kind", "cpu", two, &out), 0);
    cr_assert_eq(out, two[1], "points into the allowed table");
    cr_assert(params_ok(&p));
    cr_assert_eq(param_choice(&p, "kind", "gpu", two, &out), -1);
    cr_assert_eq(param_choice(&p, "kind", "IO", three, &out), -1);
    cr_assert_eq(param_choice(&p, "kind", "x", one, &out), -1);
    cr_assert_eq(param_choice(&p, "kind", NULL, two, &out), -1);
    /* pydantic: ctx {"expected":"'io' or 'cpu'"} is a string; iocpu gives the list. */
    expect_errors(&p, "["
                      "{\"type\":\"literal_error\",\"loc\":[\"body\",\"kind\"],"
                      "\"msg\":\"Input should be 'io' or 'cpu'\",\"input\":\"gpu\","
                      "\"ctx\":{\"expected\":[\"io\",\"cpu\"]}},"
                      "{\"type\":\"literal_error\",\"loc\":[\"body\",\"kind\"],"
                      "\"msg\":\"Input should be 'io', 'cpu' or 'mixed'\",\"input\":\"IO\","
                      "\"ctx\":{\"expected\":[\"io\",\"cpu\",\"mixed\"]}},"
                      "{\"type\":\"literal_error\",\"loc\":[\"body\",\"kind\"],"
                      "\"msg\":\"Input should be 'io'\",\"input\":\"x\","
                      "\"ctx\":{\"expected\":[\"io\"]}},"
                      "{\"type\":\"missing\",\"loc\":[\"body\",\"kind\"],"
                      "\"msg\":\"Field required\",\"input\":null}"
                      "]");
    params_free(&p);
}

/* ---- low-level pieces and the envelope ---- */

Test(params, error_and_checks_with_index)
{
    params p;
    params_init(&p, "body");
    params_error(&p, "x", 4, "custom", "Custom message", NULL, NULL);
    params_error(&p, "y", -1, "custom", "With ctx", json_integer(5), json_pack("{s:s}", "k", "v"));
    cr_assert_eq(param_check_double(&p, "delays", 1, 0.5, 0, 1, json_real(0.5)), 0);
    cr_assert_eq(param_check_double(&p, "delays", 2, 1.5, 0, 1, json_real(1.5)), -1);
    cr_assert_eq(param_check_int(&p, "n", 0, 7, 0, 9, json_integer(7)), 0);
    cr_assert_eq(param_check_int(&p, "n", 0, -3, 0, 9, json_integer(-3)), -1);
    expect_errors(&p, "["
                      "{\"type\":\"custom\",\"loc\":[\"body\",\"x\",4],\"msg\":\"Custom message\","
                      "\"input\":null},"
                      "{\"type\":\"custom\",\"loc\":[\"body\",\"y\"],\"msg\":\"With ctx\","
                      "\"input\":5,\"ctx\":{\"k\":\"v\"}},"
                      "{\"type\":\"less_than_equal\",\"loc\":[\"body\",\"delays\",2],"
                      "\"msg\":\"Input should be less than or equal to 1.0\",\"input\":1.5,"
                      "\"ctx\":{\"le\":1.0}},"
                      "{\"type\":\"greater_than_equal\",\"loc\":[\"body\",\"n\",0],"
                      "\"msg\":\"Input should be greater than or equal to 0\",\"input\":-3,"
                      "\"ctx\":{\"ge\":0}}"
                      "]");
    params_free(&p);
}

Test(params, detail_wraps_and_resets)
{
    params p;
    params_init(&p, "query");
    double x;
    param_double(&p, "delay", "-0.5", 1, 0, 60, &x);
    param_double(&p, "timeout", "x", 1, 0, 60, &x);
    json_t *errors = json_deep_copy(p.errors);
    json_t *d = params_detail(&p);
    cr_assert(json_is_object(d));
    cr_assert_eq(json_object_size(d), 1);
    cr_assert(json_equal(json_object_get(d, "detail"), errors));
    cr_assert(params_ok(&p), "errors were moved out");
    cr_assert_eq(json_array_size(p.errors), 0);

    /* The text the server sends parses back to the same value. */
    size_t len = 0;
    char *text = json_out(d, &len);
    cr_assert_not_null(text);
    cr_assert_eq(strlen(text), len);
    json_t *back = parse(text);
    cr_assert(json_equal(back, d), "json_out round trip: %s", text);
    cr_assert(strstr(text, "\"ge\":0.0"), "ctx keeps a float: %s", text);
    free(text);
    json_decref(back);
    json_decref(d);
    json_decref(errors);

    /* The params stay usable. */
    param_double(&p, "delay", "99", 1, 0, 60, &x);
    cr_assert_eq(json_array_size(p.errors), 1);
    params_free(&p);
}
