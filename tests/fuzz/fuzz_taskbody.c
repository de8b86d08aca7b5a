/*
 * fuzz_taskbody.c - the POST /tasks body (handlers/taskbody.c) on arbitrary
 * bytes: either a task inside every limit, or FastAPI-shaped errors that
 * serialise to JSON. Never both, never neither. With the latency shape
 * fields (taskbody_parse_shaped), an accepted shape passes shape_check.
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
    taskbody_shape shp;
    params_init(&p, "body");
    /* an odd length also takes the latency shape fields (taskbody_parse_shaped) */
    int shaped = size & 1;
    int rc = shaped ? taskbody_parse_shaped((const char *)data, size, &lim, &p, &spec, &shp)
                    : taskbody_parse((const char *)data, size, &lim, &p, &spec);
    if (rc == 0) {
        FUZZ_CHECK(params_ok(&p));
        char msg[256];
        int which;
        if (spec.kind == TASK_IO && shaped && shp.s.dist != SHAPE_FIXED) {
            FUZZ_CHECK(shape_check(&shp.s, lim.max_delay, msg, sizeof(msg), &which) == 0);
            FUZZ_CHECK(!shp.seeded || shp.seed <= 9007199254740991u);
        } else if (spec.kind == TASK_IO) {
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
