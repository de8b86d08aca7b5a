/*
 * shaping.c - latency shapes, injected errors and padding (shaping.h), the
 * /status/{codes} endpoint, and server-wide injection (--inject-error,
 * --inject-delay) through the group's intercept hook.
 *
 * Which requests the server-wide flags touch: the work endpoints only (/io/,
 * /cpu/, /tasks, /status/), never on the admin listener. The probes
 * (/healthz, /readyz) must keep telling the truth about the process, or a
 * balancer or the kubelet would act on an injected failure; /metrics, /loop,
 * /ui and its stream are how the operator watches the injection; the index
 * and /openapi.json describe the server. Those stay exact.
 *
 * Threads: every function on the request's loop thread. Shared by the loops:
 * the seed sequences (under `mu`) and the counts (atomics, relaxed: they are
 * only summed for /metrics).
 */
#include "shaping.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common.h"
#include "faults.h"
#include "handlers.h"

/* Seeds whose sequences are remembered at once; beyond, the one unused the
 * longest is forgotten (asked again, its sequence starts over). */
#define SEED_SLOTS 1024

enum { SRC_STATUS, SRC_QUERY, SRC_SERVER, SRC_N };
static const char *const SOURCES[SRC_N] = {"status", "query", "server"};

typedef struct seed_stream {
    uint64_t seed, next_seq, last_use;
    shape_rng g;
    int used;
} seed_stream;

typedef struct shaping_shared {
    pthread_mutex_t mu;
    uint64_t tick;
    seed_stream streams[SEED_SLOTS];
    _Atomic uint64_t counts[SRC_N][400];  /* by source and code - 200 */
    _Atomic uint64_t delayed, delayed_ns; /* --inject-delay: requests held, and how long */
    int delay_on;
    shape delay; /* --inject-delay */
} shaping_shared;

typedef struct shaping_loop {
    shaping_shared *sh;
    loop *l;
    const config *cfg; /* this loop's app's (read-only) */
    shape_rng g;       /* this loop's draws without seed= */
} shaping_loop;

/* The query parameters that turn shaping on (delay= alone does not). */
static const char *const NAMES[] = {"dist",   "min",        "max",   "mean",  "sd",
                                    "median", "sigma",      "scale", "shape", "seed",
                                    "status", "error_rate", "size",  NULL};
/* Every distribution parameter (NAMES[1..8]). */
#define FIRST_PARAM 1
#define LAST_PARAM 8

static shaping_loop *state_of(http_req *r)
{
    return app_group_state(http_app(r), &shaping_group);
}

/* --- drawing -------------------------------------------------------------- */

/* The generator of seed's sequence (mu held), and this draw's place in it. */
static shape_rng *stream_of(shaping_shared *sh, uint64_t seed, uint64_t *seq)
{
    seed_stream *pick = &sh->streams[0];
    for (size_t i = 0; i < SEED_SLOTS; i++) {
        seed_stream *s = &sh->streams[i];
        if (s->used && s->seed == seed) {
            pick = s;
            goto found;
        }
        if (!s->used || (pick->used && s->last_use < pick->last_use)) pick = s;
    }
    pick->used = 1;
    pick->seed = seed;
    pick->next_seq = 0;
    shape_rng_seed(&pick->g, seed);
found:
    pick->last_use = ++sh->tick;
    *seq = pick->next_seq++;
    return &pick->g;
}

/* Draws s's delay (when it has a dist) and, with rate > 0, its answer code
 * from l (NULL: none): from seed's sequence (in that order) or this loop's generator.
 * 0, or -1 when no draw fell inside the bound. */
static int draw(shaping_loop *st, double max, shaping *s, double rate, const faults_list *l)
{
    shaping_shared *sh = st->sh;
    shape_rng *g = &st->g;
    if (s->seeded) {
        pthread_mutex_lock(&sh->mu);
        g = stream_of(sh, s->seed, &s->seq);
    }
    int rc = 0;
    if (s->shape.dist != SHAPE_FIXED) {
        s->drawn = 1;
        s->redraws = shape_draw(&s->shape, max, g, &s->delay);
        rc = s->redraws < 0 ? -1 : 0;
    }
    if (rc == 0 && l && rate > 0 && (rate >= 1 || shape_rng_unit(g) < rate)) {
        unsigned code = l->n > 1 ? faults_choose(l, shape_rng_unit(g)) : l->code[0];
        s->status = code == 200 ? 0 : code;
    }
    if (s->seeded) pthread_mutex_unlock(&sh->mu);
    return rc;
}

static void value_error(params *p, const char *name, const char *why, const char *raw)
{
    char msg[320];
    snprintf(msg, sizeof(msg), "Value error, %s", why);
    params_error(p, name, -1, "value_error", msg, raw ? json_string(raw) : NULL, NULL);
}

static void no_draw_error(params *p, const shaping *s, double max)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "Value error, no draw of %s fell inside [0, %g] in %d tries",
             SHAPE_NAMES[s->shape.dist], max, SHAPE_MAX_TRIES);
    params_error(p, "dist", -1, "value_error", msg, json_string(SHAPE_NAMES[s->shape.dist]), NULL);
}

int shaping_draw_task(http_req *r, params *p, shaping *sh)
{
    shaping_loop *st = state_of(r);
    double max = http_app(r)->cfg.max_delay;
    if (!st) { /* a server built without this group */
        value_error(p, "dist", "latency shapes are not served here", NULL);
        return -1;
    }
    sh->max = max;
    if (draw(st, max, sh, 0, NULL) < 0) {
        no_draw_error(p, sh, max);
        return -1;
    }
    return 0;
}

/* --- the query ------------------------------------------------------------ */

#define ARG(name) q->get(q->ctx, (name))

/* 1 when name is a parameter of dist d. */
static int param_of(enum shape_dist d, const char *name)
{
    return (shape_param(d, 0) && !strcmp(shape_param(d, 0), name)) ||
           (shape_param(d, 1) && !strcmp(shape_param(d, 1), name));
}

/* The parameters of s's dist (each required), and none of another's. */
static void parse_params(const shaping_query *q, params *p, double max, shaping *s)
{
    enum shape_dist d = s->shape.dist;
    for (int i = FIRST_PARAM; i <= LAST_PARAM; i++) {
        const char *raw = ARG(NAMES[i]);
        if (raw && !param_of(d, NAMES[i]))
            params_error(p, NAMES[i], -1, "extra_forbidden", "Extra inputs are not permitted",
                         json_string(raw), NULL);
    }
    if (d == SHAPE_FIXED || !params_ok(p)) return;
    for (int i = 0; i < 2 && shape_param(d, i); i++) {
        const char *name = shape_param(d, i), *raw = ARG(name);
        if (!raw)
            params_error(p, name, -1, "missing", "Field required", NULL, NULL);
        else
            param_double(p, name, raw, 0, -INFINITY, INFINITY, &s->shape.p[i]);
    }
    char why[256];
    int which;
    if (params_ok(p) && shape_check(&s->shape, max, why, sizeof(why), &which) < 0)
        value_error(p, shape_param(d, which), why, ARG(shape_param(d, which)));
}

/* delay= or dist= with its parameters, and seed=. */
static void parse_shape(const shaping_query *q, params *p, double def, double max, shaping *s)
{
    const char *raw_dist = ARG("dist"), *raw_delay = ARG("delay");
    const char *name = "fixed";
    if (raw_dist && param_choice(p, "dist", raw_dist, SHAPE_NAMES, &name) < 0) return;
    s->shape.dist = (enum shape_dist)shape_dist_of(name);
    if (s->shape.dist == SHAPE_FIXED) {
        param_double(p, "delay", raw_delay, def, 0, max, &s->delay);
        s->shape.p[0] = s->delay;
    } else if (raw_delay) {
        value_error(p, "delay", "give either delay or dist, not both", raw_delay);
    }
    parse_params(q, p, max, s);
    const char *raw_seed = ARG("seed");
    if (raw_seed)
        s->seeded =
            param_uint64(p, "seed", raw_seed, 0, 0, (uint64_t)SHAPING_SEED_MAX, &s->seed) == 0;
}

/* status= and error_rate= (into *rate and *l), size=. */
static void parse_answer(const shaping_query *q, params *p, uint64_t max_size, shaping *s,
                         double *rate, faults_list *l)
{
    const char *raw_status = ARG("status");
    char why[160];
    l->n = 1;
    l->code[0] = 503;
    l->weight[0] = l->total = 1;
    if (raw_status && faults_parse_list(raw_status, l, why, sizeof(why)) < 0)
        value_error(p, "status", why, raw_status);
    param_double(p, "error_rate", ARG("error_rate"), raw_status ? 1 : 0, 0, 1, rate);
    param_uint64(p, "size", ARG("size"), 0, 0, max_size, &s->size);
}

int shaping_parse_query(const shaping_query *q, params *p, double def, shaping *s, double *rate,
                        faults_list *l)
{
    memset(s, 0, sizeof(*s));
    s->max = q->max_delay;
    *rate = 0;
    parse_shape(q, p, def, q->max_delay, s);
    parse_answer(q, p, q->max_payload, s, rate, l);
    return params_ok(p) ? 0 : -1;
}

static const char *req_arg(void *r, const char *name)
{
    return http_arg(r, name);
}

int shaping_parse(http_req *r, params *p, double def, shaping *s)
{
    const config *cfg = &http_app(r)->cfg;
    if (!http_query_has(r, NAMES)) { /* the common case: what /io/job always did */
        memset(s, 0, sizeof(*s));
        param_double(p, "delay", http_arg(r, "delay"), def, 0, cfg->max_delay, &s->delay);
        return params_ok(p) ? 0 : -1;
    }
    shaping_query q = {req_arg, r, cfg->max_delay, (uint64_t)cfg->max_payload_bytes};
    double rate;
    faults_list l;
    shaping_loop *st = state_of(r);
    if (shaping_parse_query(&q, p, def, s, &rate, &l) < 0 || !st) return -1;
    if (draw(st, cfg->max_delay, s, rate, &l) < 0) {
        no_draw_error(p, s, cfg->max_delay);
        return -1;
    }
    return 0;
}

/* --- answers -------------------------------------------------------------- */

/* The reason phrase of code; libmicrohttpd knows the registered ones. */
static const char *reason_of(unsigned code)
{
    static const char *const CLASS[] = {"Success", "Redirection", "Client Error", "Server Error"};
    const char *why = MHD_get_reason_phrase_for(code);
    if (code == 418) return "I'm a teapot"; /* RFC 9110 15.5.19: unused, but well known */
    if (why && *why && strcmp(why, "Unknown")) return why;
    return CLASS[code / 100 - 2];
}

void shaping_respond(http_req *r, unsigned code, const char *source)
{
    shaping_loop *st = state_of(r);
    for (int i = 0; i < SRC_N; i++)
        if (st && code >= 200 && code <= 599 && !strcmp(source, SOURCES[i]))
            atomic_fetch_add_explicit(&st->sh->counts[i][code - 200], 1, memory_order_relaxed);
    http_add_header(r, "X-Iocpu-Injected", source);
    if (code == 503 || code == 429) http_add_header(r, "Retry-After", "1");
    if (code >= 300 && code < 400 && code != 304) http_add_header(r, "Location", "/");
    if (code == 204 || code == 304) {
        http_respond_static(r, code, "application/json", "", 0);
        return;
    }
    http_respond_json(r, code, json_pack("{s:s}", "detail", reason_of(code)));
}

int shaping_answer(http_req *r, const shaping *s)
{
    if (!s->status) return 0;
    shaping_respond(r, s->status, "query");
    return 1;
}

void shaping_decorate(const shaping *s, json_t *o)
{
    if (s->drawn) {
        json_t *sh = json_pack("{s:s}", "dist", SHAPE_NAMES[s->shape.dist]);
        for (int i = 0; i < 2 && shape_param(s->shape.dist, i); i++)
            json_object_set_new(sh, shape_param(s->shape.dist, i), json_real(s->shape.p[i]));
        if (s->seeded) {
            json_object_set_new(sh, "seed", json_integer((json_int_t)s->seed));
            json_object_set_new(sh, "seq", json_integer((json_int_t)s->seq));
        }
        json_object_set_new(sh, "redraws", json_integer(s->redraws));
        json_object_set_new(sh, "truncated_to", json_pack("[i,f]", 0, s->max));
        json_object_set_new(o, "shape", sh);
    }
    if (s->size) {
        char *pad = malloc(s->size);
        if (!pad) return;
        memset(pad, 'x', s->size);
        json_object_set_new(o, "padding", json_stringn_nocheck(pad, s->size));
        free(pad);
    }
}

/* --- /status/{codes} ------------------------------------------------------ */

static void status_codes(http_req *r)
{
    faults_list l;
    char why[160];
    const char *codes = http_path_id(r);
    if (faults_parse_list(codes, &l, why, sizeof(why)) < 0) {
        params p;
        params_init(&p, "path");
        value_error(&p, "codes", why, codes);
        http_respond_invalid(r, &p);
        params_free(&p);
        return;
    }
    shaping_loop *st = state_of(r);
    unsigned code = l.n > 1 && st ? faults_choose(&l, shape_rng_unit(&st->g)) : l.code[0];
    shaping_respond(r, code, "status");
}

/* --- server-wide injection ------------------------------------------------ */

/* A request held for its --inject-delay (its ctx until the timer fires). */
typedef struct held {
    http_req *r;
    loop *l;
    timer t;
    unsigned code; /* the --inject-error answer drawn, or 0 */
    double delay;
} held;

static void held_free(void *p)
{
    held *h = p;
    loop_timer_cancel(h->l, &h->t);
    free(h);
}

static void held_fired(timer *t)
{
    held *h = t->data;
    http_req *r = h->r;
    unsigned code = h->code;
    http_add_timing(r, "inject", h->delay * 1000);
    http_set_ctx(r, NULL, NULL); /* the handler may attach its own */
    free(h);
    if (code)
        shaping_respond(r, code, "server");
    else
        http_run_route(r);
}

/* The work endpoints (see the top of this file). */
static int injectable(const char *path)
{
    return !strncmp(path, "/io/", 4) || !strncmp(path, "/cpu/", 5) || !strncmp(path, "/tasks", 6) ||
           !strncmp(path, "/status/", 8);
}

static int hold(shaping_loop *st, http_req *r, unsigned code)
{
    double max = http_app(r)->cfg.max_delay, d;
    if (shape_draw(&st->sh->delay, max, &st->g, &d) < 0) {
        http_respond_detail(r, 500, "no draw of --inject-delay fell inside [0, --max-delay]");
        return 1;
    }
    held *h = calloc(1, sizeof(*h));
    if (!h) {
        http_respond_detail(r, 500, "out of memory");
        return 1;
    }
    *h = (held){.r = r, .l = st->l, .code = code, .delay = d};
    http_set_ctx(r, h, held_free);
    if (loop_timer_start_at(st->l, &h->t, loop_now_ns() + secs_to_ns(d), held_fired, h) < 0 ||
        http_defer(r) < 0) {
        http_respond_detail(r, 500, "cannot hold the request");
        return 1;
    }
    atomic_fetch_add_explicit(&st->sh->delayed, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->sh->delayed_ns, secs_to_ns(d), memory_order_relaxed);
    return 1;
}

static int intercept(void *state, http_req *r)
{
    shaping_loop *st = state;
    const config *cfg = &http_app(r)->cfg;
    if (http_on_admin(r) || !injectable(http_route(r)->path)) return 0;
    unsigned code =
        cfg->inject_rate > 0 && shape_rng_unit(&st->g) < cfg->inject_rate ? cfg->inject_code : 0;
    if (st->sh->delay_on) return hold(st, r, code);
    if (!code) return 0;
    shaping_respond(r, code, "server");
    return 1;
}

/* --- the group ------------------------------------------------------------ */

static int shared_new(const config *cfg, void **shared)
{
    shaping_shared *sh = calloc(1, sizeof(*sh));
    if (!sh) return -ENOMEM;
    char msg[256];
    if (cfg->inject_delay[0] &&
        shape_parse(cfg->inject_delay, cfg->max_delay, &sh->delay, msg, sizeof(msg)) < 0) {
        free(sh);
        return -EINVAL;
    }
    sh->delay_on = cfg->inject_delay[0] != '\0';
    pthread_mutex_init(&sh->mu, NULL);
    *shared = sh;
    return 0;
}

static void shared_free(void *shared)
{
    shaping_shared *sh = shared;
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}

static int shaping_init(app *a, void *shared, void **state)
{
    shaping_loop *st = calloc(1, sizeof(*st));
    if (!st) return -ENOMEM;
    uint64_t seed;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
        seed = loop_now_ns() ^ ((uint64_t)a->index << 32);
    shape_rng_seed(&st->g, seed);
    st->sh = shared;
    st->l = a->loop;
    st->cfg = &a->cfg;
    *state = st;
    return 0;
}

static void shaping_free(void *state)
{
    free(state);
}

/* The server-wide settings, when on. */
static void settings_metrics(const config *cfg, const shaping_shared *sh, buf *b)
{
    char rate[PYFLOAT_MAX];
    pyfloat_format(cfg->inject_rate, rate);
    if (cfg->inject_rate > 0)
        buf_printf(b,
                   "# HELP iocpu_inject_error_ratio --inject-error: the share of work requests "
                   "answered with an injected code.\n# TYPE iocpu_inject_error_ratio gauge\n"
                   "iocpu_inject_error_ratio{code=\"%u\"} %s\n",
                   cfg->inject_code, rate);
    if (sh->delay_on)
        buf_printf(b,
                   "# HELP iocpu_inject_delay_info --inject-delay: the distribution of the delay "
                   "added to every work request.\n# TYPE iocpu_inject_delay_info gauge\n"
                   "iocpu_inject_delay_info{shape=\"%s\"} 1\n"
                   "# HELP iocpu_injected_delays_total Work requests held for --inject-delay.\n"
                   "# TYPE iocpu_injected_delays_total counter\niocpu_injected_delays_total %llu\n"
                   "# HELP iocpu_injected_delay_seconds_total Seconds of --inject-delay drawn.\n"
                   "# TYPE iocpu_injected_delay_seconds_total counter\n"
                   "iocpu_injected_delay_seconds_total %.9f\n",
                   cfg->inject_delay, (unsigned long long)atomic_load(&sh->delayed),
                   (double)atomic_load(&sh->delayed_ns) / 1e9);
}

static void shaping_metrics(void *state, buf *b)
{
    shaping_loop *st = state;
    shaping_shared *sh = st->sh;
    int head = 0;
    for (int s = 0; s < SRC_N; s++)
        for (unsigned c = 0; c < 400; c++) {
            uint64_t n = atomic_load_explicit(&sh->counts[s][c], memory_order_relaxed);
            if (!n) continue;
            if (!head++)
                buf_puts(b, "# HELP iocpu_injected_responses_total Answers whose status was "
                            "injected: by /status/{codes} (status), status= or error_rate= "
                            "(query), --inject-error (server).\n"
                            "# TYPE iocpu_injected_responses_total counter\n");
            buf_printf(b, "iocpu_injected_responses_total{source=\"%s\",code=\"%u\"} %llu\n",
                       SOURCES[s], c + 200, (unsigned long long)n);
        }
    settings_metrics(st->cfg, sh, b);
}

static const route ROUTES[] = {
    {"GET", "/status/{id}", status_codes,
     "an injected answer: one code, or a weighted choice (/status/200:0.9,503:0.1), in "
     "FastAPI's error shape"},
};

const http_group shaping_group = {
    .name = "shaping",
    .routes = ROUTES,
    .nroutes = sizeof(ROUTES) / sizeof(ROUTES[0]),
    .shared_new = shared_new,
    .shared_free = shared_free,
    .init = shaping_init,
    .metrics = shaping_metrics,
    .free = shaping_free,
    .intercept = intercept,
};
