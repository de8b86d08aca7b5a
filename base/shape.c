/*
 * shape.c - the generator and the delay distributions (shape.h).
 */
#include "shape.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"

const char *const SHAPE_NAMES[] = {"fixed",     "uniform", "exponential", "normal",
                                   "lognormal", "pareto",  NULL};

static const char *const PARAMS[SHAPE_NDIST][2] = {
    {"delay", NULL}, {"min", "max"},      {"mean", NULL},
    {"mean", "sd"},  {"median", "sigma"}, {"scale", "shape"},
};

uint64_t shape_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void shape_rng_seed(shape_rng *g, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        g->s[i] = shape_splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t shape_rng_next(shape_rng *g)
{
    uint64_t *s = g->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double shape_rng_unit(shape_rng *g)
{
    return (double)(shape_rng_next(g) >> 11) * 0x1.0p-53;
}

const char *shape_param(enum shape_dist d, int i)
{
    return (unsigned)d < SHAPE_NDIST && i >= 0 && i < 2 ? PARAMS[d][i] : NULL;
}

int shape_dist_of(const char *name)
{
    for (int i = 0; SHAPE_NAMES[i]; i++)
        if (!strcmp(SHAPE_NAMES[i], name)) return i;
    return -1;
}

/* A standard normal draw (Box-Muller, one of the pair: two outputs a draw). */
static double std_normal(shape_rng *g)
{
    double u1 = 1.0 - shape_rng_unit(g); /* (0, 1]: log is finite */
    double u2 = shape_rng_unit(g);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double shape_sample(const shape *s, shape_rng *g)
{
    const double a = s->p[0], b = s->p[1];
    switch (s->dist) {
    case SHAPE_UNIFORM:
        return a + (b - a) * shape_rng_unit(g);
    case SHAPE_EXPONENTIAL:
        return -a * log1p(-shape_rng_unit(g));
    case SHAPE_NORMAL:
        return a + b * std_normal(g);
    case SHAPE_LOGNORMAL:
        return a * exp(b * std_normal(g));
    case SHAPE_PARETO:
        return a * pow(1.0 - shape_rng_unit(g), -1.0 / b);
    default:
        return a;
    }
}

double shape_mean(const shape *s)
{
    const double a = s->p[0], b = s->p[1];
    switch (s->dist) {
    case SHAPE_UNIFORM:
        return (a + b) / 2;
    case SHAPE_LOGNORMAL:
        return a * exp(b * b / 2);
    case SHAPE_PARETO:
        return b > 1 ? a * b / (b - 1) : INFINITY;
    default: /* fixed, exponential, normal */
        return a;
    }
}

double shape_sd(const shape *s)
{
    const double a = s->p[0], b = s->p[1];
    switch (s->dist) {
    case SHAPE_UNIFORM:
        return (b - a) / sqrt(12.0);
    case SHAPE_EXPONENTIAL:
        return a;
    case SHAPE_NORMAL:
        return b;
    case SHAPE_LOGNORMAL:
        return a * sqrt(expm1(b * b) * exp(b * b));
    case SHAPE_PARETO:
        return b > 2 ? a / (b - 1) * sqrt(b / (b - 2)) : INFINITY;
    default:
        return 0;
    }
}

static double std_cdf(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

double shape_mass(const shape *s, double max)
{
    const double a = s->p[0], b = s->p[1];
    switch (s->dist) {
    case SHAPE_UNIFORM:
        return b > a ? (fmin(b, max) - fmax(a, 0)) / (b - a) : (a >= 0 && a <= max);
    case SHAPE_EXPONENTIAL:
        return -expm1(-max / a);
    case SHAPE_NORMAL:
        return std_cdf((max - a) / b) - std_cdf(-a / b);
    case SHAPE_LOGNORMAL:
        return max > 0 ? std_cdf(log(max / a) / b) : 0;
    case SHAPE_PARETO:
        return max >= a ? -expm1(b * log(a / max)) : 0;
    default:
        return a >= 0 && a <= max;
    }
}

/* The range rule of parameter i of s (besides finite): 0 or -1 with msg. */
static int param_ok(const shape *s, int i, double max, char *msg, size_t len)
{
    double x = s->p[i];
    const char *name = PARAMS[s->dist][i];
    if (!isfinite(x)) {
        snprintf(msg, len, "%s must be a finite number", name);
        return -1;
    }
    int inside = s->dist == SHAPE_FIXED || s->dist == SHAPE_UNIFORM;
    if (inside && (x < (i == 1 ? s->p[0] : 0) || x > max)) {
        snprintf(msg, len, "%s must be in [%s, %g] seconds, not %g", name, i == 1 ? "min" : "0",
                 max, x);
        return -1;
    }
    if (!inside && !(s->dist == SHAPE_NORMAL && i == 0) && x <= 0) {
        snprintf(msg, len, "%s must be greater than 0, not %g", name, x);
        return -1;
    }
    return 0;
}

int shape_check(const shape *s, double max, char *msg, size_t len, int *which)
{
    *which = 0;
    if ((unsigned)s->dist >= SHAPE_NDIST) {
        snprintf(msg, len, "unknown distribution");
        return -1;
    }
    for (int i = 0; i < 2 && PARAMS[s->dist][i]; i++) {
        *which = i;
        if (param_ok(s, i, max, msg, len) < 0) return -1;
    }
    double mass = shape_mass(s, max);
    if (!(mass >= SHAPE_MIN_MASS)) {
        *which = 0;
        snprintf(msg, len,
                 "%s draws fall inside [0, %g] seconds (the --max-delay bound) only %.3g%% of "
                 "the time; at least %g%% must",
                 SHAPE_NAMES[s->dist], max, 100 * mass, 100 * SHAPE_MIN_MASS);
        return -1;
    }
    return 0;
}

int shape_draw(const shape *s, double max, shape_rng *g, double *out)
{
    for (int tries = 0; tries < SHAPE_MAX_TRIES; tries++) {
        double x = shape_sample(s, g);
        if (x >= 0 && x <= max) { /* also false for NaN */
            *out = x;
            return tries;
        }
    }
    return -1;
}

/* Reads "PARAM=V" of s's dist at t[0..n) into s (seen marks those read). */
static int parse_param(const char *t, size_t n, shape *s, int *seen, char *msg, size_t len)
{
    const char *eq = memchr(t, '=', n);
    char key[16], val[64];
    size_t kn = eq ? (size_t)(eq - t) : n, vn = eq ? n - kn - 1 : 0;
    if (!eq || kn >= sizeof(key) || vn >= sizeof(val)) {
        snprintf(msg, len, "expected PARAM=VALUE after the distribution's name");
        return -1;
    }
    memcpy(key, t, kn);
    key[kn] = '\0';
    memcpy(val, eq + 1, vn);
    val[vn] = '\0';
    for (int i = 0; i < 2 && PARAMS[s->dist][i]; i++) {
        if (strcmp(key, PARAMS[s->dist][i])) continue;
        if (seen[i] || parse_double(val, &s->p[i]) < 0) {
            snprintf(msg, len, "%s: %s", key, seen[i] ? "given twice" : "not a finite number");
            return -1;
        }
        seen[i] = 1;
        return 0;
    }
    snprintf(msg, len, "%s takes no parameter '%.16s'", SHAPE_NAMES[s->dist], key);
    return -1;
}

/* The distribution's name before ':' in text. -1 with msg when unknown. */
static int parse_name(const char *text, const char **rest, char *msg, size_t len)
{
    const char *colon = strchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    for (int i = 0; SHAPE_NAMES[i]; i++)
        if (strlen(SHAPE_NAMES[i]) == n && !strncmp(text, SHAPE_NAMES[i], n)) {
            *rest = colon ? colon + 1 : NULL;
            return i;
        }
    snprintf(msg, len,
             "expected NAME:PARAM=VALUE[,PARAM=VALUE] with NAME one of fixed, uniform, "
             "exponential, normal, lognormal, pareto");
    return -1;
}

int shape_parse(const char *text, double max, shape *out, char *msg, size_t len)
{
    const char *t;
    int d = parse_name(text, &t, msg, len);
    if (d < 0) return -1;
    shape s = {.dist = (enum shape_dist)d};
    int seen[2] = {0, 0};
    while (t) {
        const char *comma = strchr(t, ',');
        size_t n = comma ? (size_t)(comma - t) : strlen(t);
        if (parse_param(t, n, &s, seen, msg, len) < 0) return -1;
        t = comma ? comma + 1 : NULL;
    }
    for (int i = 0; i < 2 && PARAMS[d][i]; i++)
        if (!seen[i]) {
            snprintf(msg, len, "%s needs %s=VALUE", SHAPE_NAMES[d], PARAMS[d][i]);
            return -1;
        }
    int which;
    if (shape_check(&s, max, msg, len, &which) < 0) return -1;
    *out = s;
    return 0;
}

void shape_format(const shape *s, char *out, size_t len)
{
    const char *const *p = PARAMS[s->dist];
    if (p[1])
        snprintf(out, len, "%s:%s=%.17g,%s=%.17g", SHAPE_NAMES[s->dist], p[0], s->p[0], p[1],
                 s->p[1]);
    else
        snprintf(out, len, "%s:%s=%.17g", SHAPE_NAMES[s->dist], p[0], s->p[0]);
}
