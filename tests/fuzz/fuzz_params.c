/*
 * fuzz_params.c - query parameter parsing (http/params.c) on arbitrary
 * bytes. The first byte picks the parser; the rest is the raw value as MHD
 * hands it over (a C string). Whatever it is, a parser either accepts a
 * value inside its bounds or records an error that serialises to JSON.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "params.h"

static const char *const KINDS[] = {"io", "cpu", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char *raw = fuzz_tail_cstr(data, size);
    params p;
    params_init(&p, "query");
    int rc = 0;
    double d;
    int64_t i;
    uint64_t u;
    switch (data[0] % 7) {
    case 0:
        rc = param_double(&p, "delay", raw, 1.0, 0, 60, &d);
        if (rc == 0) FUZZ_CHECK(isfinite(d) && d >= 0 && d <= 60);
        break;
    case 1:
        rc = param_int64(&p, "n", raw, 3, INT64_MIN, INT64_MAX, &i);
        if (rc == 0) FUZZ_CHECK(i == strtoll(raw, NULL, 10));
        break;
    case 2:
        rc = param_uint64(&p, "iterations", raw, 1000000, 0, 5000000000u, &u);
        if (rc == 0) FUZZ_CHECK(u <= 5000000000u);
        break;
    case 3: {
        const char *k = NULL;
        rc = param_choice(&p, "kind", raw, KINDS, &k);
        if (rc == 0) FUZZ_CHECK(!strcmp(k, raw));
        break;
    }
    case 4: {
        char *name = NULL;
        rc = param_name(&p, "name", raw, NULL, &name);
        if (rc == 0) FUZZ_CHECK(name && strlen(name) >= 1 && strlen(name) <= 64);
        free(name);
        break;
    }
    case 5: {
        int r = parse_double(raw, &d);
        FUZZ_CHECK(r == 0 || r == -1 || r == -2);
        if (r == 0) {
            char *end;
            FUZZ_CHECK(isfinite(d) && strtod(raw, &end) == d && *end == '\0');
        }
        break;
    }
    case 6: {
        int r = parse_int64(raw, &i);
        FUZZ_CHECK(r == 0 || r == -1 || r == -2);
        if (r == 0) FUZZ_CHECK(i == strtoll(raw, NULL, 10));
        break;
    }
    }
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK((rc == 0) == params_ok(&p) || data[0] % 7 >= 5);
    if (!params_ok(&p)) fuzz_check_json(params_detail(&p));
    params_free(&p);
    free(raw);
    return 0;
}
