/*
 * test_shape.c - the generator against its published vectors, the five
 * distributions' moments over 10,000 draws of a fixed seed, the truncation
 * at the bound, and the text form of a shape (base/shape.c).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "shape.h"

Test(shape, splitmix64_matches_the_published_vector)
{
    uint64_t st = 0;
    const uint64_t want[] = {0xe220a8397b1dcdafu, 0x6e789e6aa1b965f4u, 0x06c45d188009454fu,
                             0xf88bb8a8724c81ecu};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(shape_splitmix64(&st), want[i], "output %d", i);
}

Test(shape, xoshiro256starstar_matches_the_published_vector)
{
    shape_rng g = {{1, 2, 3, 4}};
    const uint64_t want[] = {11520u,
                             0u,
                             1509978240u,
                             1215971899390074240u,
                             1216172134540287360u,
                             607988272756665600u,
                             16172922978634559625u,
                             8476171486693032832u,
                             10595114339597558777u,
                             2904607092377533576u};
    for (int i = 0; i < 10; i++)
        cr_assert_eq(shape_rng_next(&g), want[i], "output %d", i);
}

Test(shape, a_seed_gives_one_sequence)
{
    shape_rng a, b, c;
    shape_rng_seed(&a, 42);
    shape_rng_seed(&b, 42);
    shape_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = shape_rng_next(&a);
        cr_assert_eq(x, shape_rng_next(&b));
        differ += x != shape_rng_next(&c);
    }
    cr_assert_gt(differ, 95);
    shape_rng_seed(&a, 7);
    for (int i = 0; i < 1000; i++) {
        double u = shape_rng_unit(&a);
        cr_assert(u >= 0 && u < 1);
    }
}

/* 10,000 draws of s with seed 2026: their mean and sd against the formula. */
static void check_moments(shape s, double mean_tol, double sd_tol)
{
    shape_rng g;
    shape_rng_seed(&g, 2026);
    double sum = 0, sq = 0;
    const int n = 10000;
    for (int i = 0; i < n; i++) {
        double x = shape_sample(&s, &g);
        sum += x;
        sq += x * x;
    }
    double mean = sum / n, sd = sqrt(sq / n - mean * mean);
    double want_mean = shape_mean(&s), want_sd = shape_sd(&s);
    cr_assert(fabs(mean - want_mean) <= mean_tol * want_mean, "%s: mean %g, formula %g",
              SHAPE_NAMES[s.dist], mean, want_mean);
    cr_assert(fabs(sd - want_sd) <= sd_tol * want_sd, "%s: sd %g, formula %g", SHAPE_NAMES[s.dist],
              sd, want_sd);
}

Test(shape, uniform_moments)
{
    check_moments((shape){SHAPE_UNIFORM, {0.1, 0.5}}, 0.02, 0.05);
}

Test(shape, exponential_moments)
{
    check_moments((shape){SHAPE_EXPONENTIAL, {0.2, 0}}, 0.05, 0.08);
}

Test(shape, normal_moments)
{
    check_moments((shape){SHAPE_NORMAL, {1.0, 0.2}}, 0.02, 0.05);
}

Test(shape, lognormal_moments)
{
    /* mean = median e^(sigma^2/2), sd = mean sqrt(e^(sigma^2) - 1) */
    shape s = {SHAPE_LOGNORMAL, {0.2, 0.5}};
    cr_assert_float_eq(shape_mean(&s), 0.2 * exp(0.125), 1e-12);
    check_moments(s, 0.05, 0.12);
}

Test(shape, pareto_moments)
{
    /* alpha 6: mean 1.2 x_m, sd x_m / 5 * sqrt(6/4) */
    shape s = {SHAPE_PARETO, {0.05, 6}};
    cr_assert_float_eq(shape_mean(&s), 0.06, 1e-12);
    check_moments(s, 0.05, 0.2);
    for (int i = 0; i < 100; i++) { /* never below the scale */
        shape_rng g;
        shape_rng_seed(&g, (uint64_t)i);
        cr_assert_geq(shape_sample(&s, &g), 0.05);
    }
}

Test(shape, draws_stay_inside_the_bound_by_redrawing)
{
    /* half of this normal is below 0 or above 2: every draw is inside, and
     * about as many were thrown away as were kept */
    shape s = {SHAPE_NORMAL, {1.0, 1.4}};
    double mass = shape_mass(&s, 2.0);
    cr_assert(mass > 0.5 && mass < 0.55, "mass %g", mass);
    shape_rng g;
    shape_rng_seed(&g, 1);
    long thrown = 0;
    for (int i = 0; i < 10000; i++) {
        double x;
        int k = shape_draw(&s, 2.0, &g, &x);
        cr_assert_geq(k, 0);
        cr_assert(x >= 0 && x <= 2.0);
        thrown += k;
    }
    double want = 10000 * (1 / mass - 1);
    cr_assert(fabs((double)thrown - want) < 0.1 * want, "thrown %ld, expected about %g", thrown,
              want);
}

Test(shape, check_refuses_what_the_bound_would_mostly_cut)
{
    char msg[256];
    int which;
    shape ok = {SHAPE_EXPONENTIAL, {1.0, 0}};
    cr_assert_eq(shape_check(&ok, 60, msg, sizeof(msg), &which), 0);
    shape far = {SHAPE_EXPONENTIAL, {100.0, 0}}; /* 1 - e^-0.6: 45 % inside [0, 60] */
    cr_assert_eq(shape_check(&far, 60, msg, sizeof(msg), &which), -1);
    cr_assert(strstr(msg, "--max-delay"), "%s", msg);
    shape neg = {SHAPE_NORMAL, {-1, 0.5}};
    cr_assert_eq(shape_check(&neg, 60, msg, sizeof(msg), &which), -1);
    shape sd0 = {SHAPE_NORMAL, {1, 0}};
    cr_assert_eq(shape_check(&sd0, 60, msg, sizeof(msg), &which), -1);
    cr_assert_eq(which, 1);
    shape inv = {SHAPE_UNIFORM, {0.5, 0.1}};
    cr_assert_eq(shape_check(&inv, 60, msg, sizeof(msg), &which), -1);
    cr_assert_eq(which, 1);
    shape big = {SHAPE_UNIFORM, {0.5, 61}};
    cr_assert_eq(shape_check(&big, 60, msg, sizeof(msg), &which), -1);
    shape nan_ = {SHAPE_PARETO, {NAN, 2}};
    cr_assert_eq(shape_check(&nan_, 60, msg, sizeof(msg), &which), -1);
    shape pz = {SHAPE_PARETO, {0.01, 0}};
    cr_assert_eq(shape_check(&pz, 60, msg, sizeof(msg), &which), -1);
    cr_assert_eq(which, 1);
}

Test(shape, text_form_reads_back)
{
    char msg[256], text[128];
    shape s;
    cr_assert_eq(shape_parse("uniform:max=0.5,min=0.1", 60, &s, msg, sizeof(msg)), 0, "%s", msg);
    cr_assert_eq(s.dist, SHAPE_UNIFORM);
    cr_assert_float_eq(s.p[0], 0.1, 0);
    cr_assert_float_eq(s.p[1], 0.5, 0);
    shape_format(&s, text, sizeof(text));
    shape back;
    cr_assert_eq(shape_parse(text, 60, &back, msg, sizeof(msg)), 0, "%s: %s", text, msg);
    cr_assert(!memcmp(&s, &back, sizeof(s)));
    cr_assert_eq(shape_parse("exponential:mean=0.05", 60, &s, msg, sizeof(msg)), 0);
    cr_assert_eq(shape_parse("fixed:delay=0.2", 60, &s, msg, sizeof(msg)), 0);
    const char *bad[] = {"",
                         "exponential",
                         "exponential:",
                         "exponential:mean",
                         "exponential:mean=",
                         "exponential:mean=0.1,mean=0.2",
                         "exponential:mean=0.1,sd=1",
                         "exponential:mean=-1",
                         "exponential:mean=inf",
                         "gamma:k=1",
                         "normal:mean=1",
                         "uniform:min=0.1,max=61",
                         "pareto:scale=0.1,shape=0x10",
                         "fixed:delay=1,"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(shape_parse(bad[i], 60, &s, msg, sizeof(msg)), -1, "accepted '%s'", bad[i]);
}
