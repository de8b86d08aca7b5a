/*
 * shape.h - latency shapes: a small, well-defined random number generator
 * (SplitMix64 to seed, xoshiro256** to draw, both as published by Blackman
 * and Vigna) and the delay distributions drawn from it, with their
 * parameters, their moments and their mass inside a bound.
 *
 * A draw is kept inside [0, max] by truncation: a draw outside is thrown
 * away and drawn again (shape_draw counts the redraws), never clamped. A
 * shape whose mass inside [0, max] is below SHAPE_MIN_MASS is refused when it
 * is checked (shape_check), so a draw needs few redraws, and at most
 * SHAPE_MAX_TRIES.
 *
 * Pure functions: a generator belongs to whoever holds it.
 */
#ifndef IOCPU_SHAPE_H
#define IOCPU_SHAPE_H

#include <stddef.h>
#include <stdint.h>

/* xoshiro256**'s state. */
typedef struct shape_rng {
    uint64_t s[4];
} shape_rng;

/* The next SplitMix64 output; *state advances. */
uint64_t shape_splitmix64(uint64_t *state);
/* A generator whose state is the first four SplitMix64 outputs from seed. */
void shape_rng_seed(shape_rng *g, uint64_t seed);
/* The next xoshiro256** output. */
uint64_t shape_rng_next(shape_rng *g);
/* A uniform double in [0, 1) from the top 53 bits of one output. */
double shape_rng_unit(shape_rng *g);

enum shape_dist {
    SHAPE_FIXED,       /* delay */
    SHAPE_UNIFORM,     /* min, max */
    SHAPE_EXPONENTIAL, /* mean */
    SHAPE_NORMAL,      /* mean, sd */
    SHAPE_LOGNORMAL,   /* median (= e^mu), sigma */
    SHAPE_PARETO,      /* scale (the least value, x_m), shape (alpha) */
    SHAPE_NDIST
};

/* Draws inside [0, max] must be at least this share of a shape's draws. */
#define SHAPE_MIN_MASS 0.5
/* Draws tried for one value inside [0, max] before giving up. */
#define SHAPE_MAX_TRIES 64

typedef struct shape {
    enum shape_dist dist;
    double p[2]; /* its parameters, in the order above */
} shape;

/* "fixed", "uniform", ... (NULL-terminated, indexed by enum shape_dist). */
extern const char *const SHAPE_NAMES[];
/* The name of parameter i (0 or 1) of d, or NULL when d has fewer. */
const char *shape_param(enum shape_dist d, int i);
/* The dist named name, or -1. */
int shape_dist_of(const char *name);

/* One draw of the untruncated distribution. */
double shape_sample(const shape *s, shape_rng *g);
/* The untruncated distribution's mean and standard deviation (INFINITY
 * where they do not exist: pareto with shape <= 1, or <= 2). */
double shape_mean(const shape *s);
double shape_sd(const shape *s);
/* P(0 <= X <= max) of the untruncated distribution. */
double shape_mass(const shape *s, double max);

/*
 * Checks the parameters against max (each finite and in its range, and the
 * mass inside [0, max] at least SHAPE_MIN_MASS). 0, or -1 with the reason in
 * msg[len] and, in *which, the index of the parameter it is about.
 */
int shape_check(const shape *s, double max, char *msg, size_t len, int *which);

/*
 * One draw inside [0, max] of a checked shape, in *out: the number of draws
 * thrown away before it (the truncation at work), or -1 when SHAPE_MAX_TRIES
 * draws all fell outside (with a checked shape, less likely than 2^-64).
 */
int shape_draw(const shape *s, double max, shape_rng *g, double *out);

/*
 * Parses the text form of a shape: "NAME:PARAM=V[,PARAM=V]" (every parameter
 * of NAME once, in any order), e.g. "exponential:mean=0.05",
 * "uniform:min=0.01,max=0.1"; then checks it against max. 0, or -1 with the
 * reason in msg[len].
 */
int shape_parse(const char *text, double max, shape *out, char *msg, size_t len);
/* The text form of s (shape_parse reads it back) into out[len]. */
void shape_format(const shape *s, char *out, size_t len);

#endif
