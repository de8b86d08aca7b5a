/*
 * fuzz_shaping.c - the query of a shaped IO endpoint (handlers/shaping.c:
 * dist= and its parameters, seed=, status=, error_rate=, size=) on arbitrary
 * bytes, read as "name=value&name=value" (the last value of a name wins, as
 * in a request). Either every value is valid (a checked shape whose draws
 * stay inside [0, max], a seed, a rate and a code list in range) or errors in
 * FastAPI's shape that serialise to JSON. Never both, never neither.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "shaping.h"

#define MAX_ARGS 32

typedef struct args {
    size_t n;
    char *name[MAX_ARGS], *value[MAX_ARGS];
} args;

static const char *get(void *ctx, const char *name)
{
    args *a = ctx;
    const char *v = NULL;
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->name[i], name)) v = a->value[i];
    return v;
}

static void split(char *s, args *a)
{
    a->n = 0;
    for (char *tok = strtok(s, "&"); tok && a->n < MAX_ARGS; tok = strtok(NULL, "&")) {
        char *eq = strchr(tok, '=');
        if (!eq) continue; /* "?x" alone counts as absent */
        *eq = '\0';
        a->name[a->n] = tok;
        a->value[a->n++] = eq + 1;
    }
}

static void check_valid(const shaping *s, double rate, const faults_list *l, double max)
{
    char msg[256];
    int which;
    FUZZ_CHECK(rate >= 0 && rate <= 1);
    FUZZ_CHECK(l->n >= 1 && l->n <= FAULTS_MAX_CODES && l->total > 0);
    for (size_t i = 0; i < l->n; i++)
        FUZZ_CHECK(faults_code_ok(l->code[i]));
    FUZZ_CHECK(s->size <= 1048576 && s->seed <= (uint64_t)SHAPING_SEED_MAX);
    if (s->shape.dist == SHAPE_FIXED) {
        FUZZ_CHECK(isfinite(s->delay) && s->delay >= 0 && s->delay <= max);
        return;
    }
    FUZZ_CHECK(shape_check(&s->shape, max, msg, sizeof(msg), &which) == 0);
    shape_rng g;
    shape_rng_seed(&g, s->seed);
    for (int i = 0; i < 8; i++) {
        double d = -1;
        if (shape_draw(&s->shape, max, &g, &d) >= 0) FUZZ_CHECK(d >= 0 && d <= max);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char *raw = fuzz_tail_cstr(data, size);
    args a;
    split(raw, &a);
    double max = data[0] & 1 ? 60 : 0.5;
    shaping_query q = {get, &a, max, 1048576};
    params p;
    params_init(&p, "query");
    shaping s;
    double rate;
    faults_list l;
    int rc = shaping_parse_query(&q, &p, 0.25, &s, &rate, &l); /* a default inside both bounds */
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK((rc == 0) == params_ok(&p));
    if (rc == 0)
        check_valid(&s, rate, &l, max);
    else
        fuzz_check_json(params_detail(&p));
    params_free(&p);
    free(raw);
    return 0;
}
