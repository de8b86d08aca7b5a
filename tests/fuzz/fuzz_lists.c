/*
 * fuzz_lists.c - comma-separated list parameters (http/params.c): delays,
 * ns, names. The first byte picks the list kind; the rest is the raw value.
 * An accepted list has 1..max items, each inside its bounds.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "params.h"

#define MAX 100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char *raw = fuzz_tail_cstr(data, size);
    params p;
    params_init(&p, "query");
    long n = -1;
    switch (data[0] % 3) {
    case 0: {
        double d[MAX];
        n = param_double_list(&p, "delays", raw, NULL, MAX, 0, 60, d);
        for (long k = 0; k < n; k++)
            FUZZ_CHECK(isfinite(d[k]) && d[k] >= 0 && d[k] <= 60);
        break;
    }
    case 1: {
        int64_t v[MAX];
        n = param_int64_list(&p, "ns", raw, NULL, MAX, v);
        break;
    }
    case 2: {
        char *names[MAX];
        n = param_name_list(&p, "names", raw, MAX, names);
        for (long k = 0; k < n; k++)
            FUZZ_CHECK(names[k] && strlen(names[k]) >= 1 && strlen(names[k]) <= 64);
        for (long k = 0; k < MAX; k++)
            free(names[k]);
        break;
    }
    }
    if (n >= 0) {
        size_t commas = 0;
        for (const char *c = raw; *c; c++)
            commas += *c == ',';
        FUZZ_CHECK(n >= 1 && n <= MAX && (size_t)n == commas + 1 && params_ok(&p));
    } else {
        FUZZ_CHECK(n == -1 && !params_ok(&p));
        fuzz_check_json(params_detail(&p));
    }
    params_free(&p);
    free(raw);
    return 0;
}
