/*
 * test_reqlimits.c - the judge of request-size limits (http/reqlimits.c):
 * each limit at its edge, the order they are checked in, and the framing
 * rules (one Content-Length, never with Transfer-Encoding).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "reqlimits.h"

static config cfg;

static void setup(void)
{
    config_defaults(&cfg);
}

TestSuite(reqlimits, .init = setup);

static unsigned judge(reqlimits_usage u, char *detail)
{
    return reqlimits_judge(&u, &cfg, detail, 96);
}

Test(reqlimits, every_limit_holds_at_its_edge)
{
    char d[96] = "";
    reqlimits_usage u = {
        .url_bytes = 2048, .params = 32, .header_bytes = 8192, .content_lengths = 1};
    cr_assert_eq(judge(u, d), 0, "%s", d);
}

Test(reqlimits, one_over_each)
{
    char d[96];
    cr_assert_eq(judge((reqlimits_usage){.url_bytes = 2049}, d), 414);
    cr_assert_str_eq(d, "URI too long: 2049 bytes, the limit is 2048");
    cr_assert_eq(judge((reqlimits_usage){.params = 33}, d), 414);
    cr_assert_str_eq(d, "too many query parameters: 33, the limit is 32");
    cr_assert_eq(judge((reqlimits_usage){.header_bytes = 8193}, d), 431);
    cr_assert_str_eq(d, "request headers too large: 8193 bytes, the limit is 8192");
}

Test(reqlimits, framing_first_then_url_then_params_then_headers)
{
    char d[96];
    reqlimits_usage all = {
        .url_bytes = 1 << 20, .params = 1000, .header_bytes = 1 << 20, .content_lengths = 2};
    cr_assert_eq(judge(all, d), 400);
    cr_assert_str_eq(d, "more than one Content-Length header");
    all.content_lengths = 1;
    all.transfer_encodings = 1;
    cr_assert_eq(judge(all, d), 400);
    cr_assert_str_eq(d, "both Content-Length and Transfer-Encoding");
    all.content_lengths = 0;
    cr_assert_eq(judge(all, d), 414);
    cr_assert(strstr(d, "URI too long") == d);
    all.url_bytes = 10;
    cr_assert_eq(judge(all, d), 414);
    cr_assert(strstr(d, "too many query parameters") == d);
    all.params = 1;
    cr_assert_eq(judge(all, d), 431);
}

Test(reqlimits, limits_follow_the_configuration)
{
    char d[96];
    cfg.max_url = 10;
    cfg.max_params = 1;
    cfg.max_header_bytes = 100;
    cr_assert_eq(judge((reqlimits_usage){.url_bytes = 11}, d), 414);
    cr_assert_eq(judge((reqlimits_usage){.params = 2}, d), 414);
    cr_assert_eq(judge((reqlimits_usage){.header_bytes = 101}, d), 431);
    cr_assert_eq(judge((reqlimits_usage){.url_bytes = 10, .params = 1, .header_bytes = 100}, d), 0);
}
