/*
 * test_quota.c - the per-client count of CPU tasks (tasks/quota.c): who is
 * one client (IPv4 address, IPv6 /64, IPv4-mapped IPv6 as IPv4), the cap,
 * giving back, many clients, and the figures it shows.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "quota.h"

TestSuite(quota, .timeout = 30);

static task_client v4(const char *text)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(1234)};
    cr_assert_eq(inet_pton(AF_INET, text, &sa.sin_addr), 1);
    task_client c;
    task_client_from_addr(&c, (struct sockaddr *)&sa);
    return c;
}

static task_client v6(const char *text)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(1234)};
    cr_assert_eq(inet_pton(AF_INET6, text, &sa.sin6_addr), 1);
    task_client c;
    task_client_from_addr(&c, (struct sockaddr *)&sa);
    return c;
}

static int same(task_client a, task_client b)
{
    return a.known && b.known && !memcmp(a.key, b.key, sizeof(a.key));
}

Test(quota, who_is_one_client)
{
    cr_assert(same(v4("192.0.2.1"), v4("192.0.2.1")), "the port does not matter");
    cr_assert_not(same(v4("192.0.2.1"), v4("192.0.2.2")));
    cr_assert(same(v6("2001:db8:1:2::1"), v6("2001:db8:1:2:ffff:ffff:ffff:ffff")), "one /64");
    cr_assert_not(same(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1")), "another /64");
    cr_assert(same(v6("::ffff:192.0.2.1"), v4("192.0.2.1")), "IPv4-mapped is the IPv4 client");
    cr_assert_not(same(v6("::ffff:192.0.2.1"), v4("192.0.2.2")));
    cr_assert_not(same(v6("::1"), v4("0.0.0.1")));
    task_client none;
    task_client_from_addr(&none, NULL);
    cr_assert_eq(none.known, 0);
    char text[64];
    cr_assert_str_eq(task_client_text(&none, text, sizeof(text)), "unknown");
    task_client a = v4("192.0.2.7"), b = v6("2001:db8:1:2:3:4:5:6");
    cr_assert_str_eq(task_client_text(&a, text, sizeof(text)), "192.0.2.7");
    cr_assert_str_eq(task_client_text(&b, text, sizeof(text)), "2001:db8:1:2::/64");
}

Test(quota, the_cap_is_per_client_and_given_back)
{
    task_quota *q;
    cr_assert_eq(task_quota_new(&q, 2), 0);
    task_client a = v4("192.0.2.1"), b = v6("2001:db8::1"), b2 = v6("2001:db8::2");
    cr_assert_eq(task_quota_take(q, &a), 0);
    cr_assert_eq(task_quota_take(q, &a), 0);
    cr_assert_eq(task_quota_take(q, &a), -EDQUOT);
    cr_assert_eq(task_quota_held(q, &a), 2, "a refusal counts nothing");
    cr_assert_eq(task_quota_take(q, &b), 0, "another client has its own share");
    cr_assert_eq(task_quota_take(q, &b2), 0);
    cr_assert_eq(task_quota_take(q, &b), -EDQUOT, "the same /64 shares it");
    task_quota_give(q, &a);
    cr_assert_eq(task_quota_take(q, &a), 0);
    task_quota_stats st;
    task_quota_get_stats(q, &st);
    cr_assert_eq(st.cap, 2);
    cr_assert_eq(st.clients, 2);
    cr_assert_eq(st.peak, 2);
    cr_assert_eq(st.refused, 2);
    for (int i = 0; i < 2; i++) {
        task_quota_give(q, &a);
        task_quota_give(q, &b);
    }
    task_quota_get_stats(q, &st);
    cr_assert_eq(st.clients, 0, "a client that holds nothing is forgotten");
    task_quota_give(q, &a); /* one too many: ignored */
    cr_assert_eq(task_quota_held(q, &a), 0);
    task_client none = {.known = 0};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(task_quota_take(q, &none), 0, "an unknown client is not counted");
    buf out = BUF_INIT;
    task_quota_render(&st, &out);
    cr_assert(strstr(out.p, "iocpu_task_client_refused_total 2\n"), "%s", out.p);
    cr_assert(strstr(out.p, "iocpu_task_client_peak 2\n"), "%s", out.p);
    buf_free(&out);
    task_quota_free(q);
}

/* 20000 clients (the table grows) each hold 3, with no cap; all given back. */
Test(quota, many_clients_without_a_cap)
{
    task_quota *q;
    cr_assert_eq(task_quota_new(&q, 0), 0);
    for (int round = 0; round < 3; round++)
        for (unsigned i = 0; i < 20000; i++) {
            char ip[32];
            snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
            task_client c = v4(ip);
            cr_assert_eq(task_quota_take(q, &c), 0);
        }
    task_quota_stats st;
    task_quota_get_stats(q, &st);
    cr_assert_eq(st.clients, 20000);
    cr_assert_eq(st.peak, 3);
    task_client c7 = v4("10.0.0.7");
    cr_assert_eq(task_quota_held(q, &c7), 3);
    for (int round = 0; round < 3; round++)
        for (unsigned i = 0; i < 20000; i++) {
            char ip[32];
            snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
            task_client c = v4(ip);
            task_quota_give(q, &c);
        }
    task_quota_get_stats(q, &st);
    cr_assert_eq(st.clients, 0);
    task_quota_free(q);
}
