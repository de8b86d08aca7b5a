/*
 * fuzz_taskbody.c - the POST /tasks body (handlers/taskbody.c) on arbitrary
 * bytes: either a task inside every limit, or FastAPI-shaped errors that
 * serialise to JSON. Never both, never neither.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "taskbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const taskbody_limits lim = {60.0, 5000000000LL, 60000};
    params p;
    task_spec spec;
    params_init(&p, "body");
    int rc = taskbody_parse((const char *)data, size, &lim, &p, &spec);
    if (rc == 0) {
        FUZZ_CHECK(params_ok(&p));
        if (spec.kind == TASK_IO) {
            FUZZ_CHECK(isfinite(spec.delay) && spec.delay >= 0 && spec.delay <= lim.max_delay);
        } else {
            FUZZ_CHECK(spec.kind == TASK_CPU);
            FUZZ_CHECK(spec.ms <= (uint64_t)lim.max_ms);
            FUZZ_CHECK(spec.iterations <= (uint64_t)lim.max_iterations);
            FUZZ_CHECK(!(spec.ms && spec.iterations));
        }
    } else {
        FUZZ_CHECK(rc == -1 && !params_ok(&p));
        json_t *detail = params_detail(&p);
        json_t *first = json_array_get(json_object_get(detail, "detail"), 0);
        FUZZ_CHECK(json_is_string(json_object_get(first, "type")));
        json_t *loc = json_object_get(first, "loc");
        FUZZ_CHECK(!strcmp(json_string_value(json_array_get(loc, 0)), "body"));
        fuzz_check_json(detail);
    }
    params_free(&p);
    return 0;
}
