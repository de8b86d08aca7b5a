/*
 * test_faults.c - weighted status code lists and the --inject-error flag
 * (base/faults.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "faults.h"
#include "shape.h"

Test(faults, a_weighted_list_parses_and_chooses_by_weight)
{
    faults_list l;
    char msg[128];
    cr_assert_eq(faults_parse_list("200:0.9,503:0.1", &l, msg, sizeof(msg)), 0, "%s", msg);
    cr_assert_eq(l.n, 2);
    cr_assert_eq(faults_choose(&l, 0.0), 200);
    cr_assert_eq(faults_choose(&l, 0.899), 200);
    cr_assert_eq(faults_choose(&l, 0.9), 503);
    cr_assert_eq(faults_choose(&l, 0.99999), 503);
    shape_rng g;
    shape_rng_seed(&g, 5);
    int n503 = 0;
    for (int i = 0; i < 10000; i++)
        n503 += faults_choose(&l, shape_rng_unit(&g)) == 503;
    cr_assert(n503 > 850 && n503 < 1150, "503 chosen %d times of 10000", n503);
}

Test(faults, single_codes_and_unweighted_items)
{
    faults_list l;
    char msg[128];
    cr_assert_eq(faults_parse_list("418", &l, msg, sizeof(msg)), 0);
    cr_assert_eq(faults_choose(&l, 0.5), 418);
    cr_assert_eq(faults_parse_list("200,500", &l, msg, sizeof(msg)), 0);
    cr_assert_eq(faults_choose(&l, 0.25), 200);
    cr_assert_eq(faults_choose(&l, 0.75), 500);
    cr_assert_eq(faults_parse_list("200:0,500:0,204", &l, msg, sizeof(msg)), 0);
    cr_assert_eq(faults_choose(&l, 0.0), 204);
}

Test(faults, bad_lists_are_refused)
{
    faults_list l;
    char msg[128];
    const char *bad[] = {"",
                         "99",
                         "100",
                         "199",
                         "600",
                         "2000",
                         "200:",
                         "200:-1",
                         "200:x",
                         "200:inf",
                         "200,200",
                         "200:0",
                         "200,",
                         ",200",
                         "20a",
                         "200:0.5:1",
                         "200;503",
                         "200:1e400",
                         "200,201,202,203,204,205,206,207,208,226,300,301,302,303,304,305,307"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(faults_parse_list(bad[i], &l, msg, sizeof(msg)), -1, "accepted '%s'", bad[i]);
}

Test(faults, inject_error_flag)
{
    double r;
    unsigned c;
    char msg[128];
    cr_assert_eq(faults_parse_rate("0.1", &r, &c, msg, sizeof(msg)), 0);
    cr_assert_float_eq(r, 0.1, 0);
    cr_assert_eq(c, 503);
    cr_assert_eq(faults_parse_rate("1:429", &r, &c, msg, sizeof(msg)), 0);
    cr_assert_eq(c, 429);
    const char *bad[] = {
        "", "0", "-0.1", "1.5", "0.1:", "0.1:200", "0.1:600", "x", "0.1:503x", "nan"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(faults_parse_rate(bad[i], &r, &c, msg, sizeof(msg)), -1, "accepted '%s'",
                     bad[i]);
}
