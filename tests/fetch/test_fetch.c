/*
 * test_fetch.c - the fetch layer on its own: the --upstream-allow parser, the
 * URL check's verdicts, the socket check that holds when a name resolves
 * somewhere new (DNS rebinding, simulated by pinning the name elsewhere), and
 * the multi handle on a real loop: a transfer ends, and one taken off midway
 * closes its upstream connection and leaves no socket behind. Loopback only.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "allow.h"
#include "helpers.h"
#include "loop.h"
#include "multi.h"
#include "upstream.h"
#include "xfer.h"

static const fetch_limits LIM = {.connect_ms = 2000, .total_ms = 5000, .max_bytes = 1 << 20};

Test(fetch_allow, parses_lists)
{
    fetch_allow al;
    cr_assert_eq(fetch_allow_parse("127.0.0.1:8080,[::1]:8080,LocalHost:80,api.internal:443", &al),
                 0);
    cr_assert_eq(al.n, 4);
    cr_assert_eq(al.e[0].port, 8080);
    cr_assert_eq(al.e[0].naddr, 1);
    cr_assert_str_eq(al.e[2].name, "localhost");
    cr_assert_eq(al.e[2].naddr, 2); /* 127.0.0.1 and ::1, without DNS */
    cr_assert_str_eq(al.e[3].name, "api.internal");
    cr_assert_eq(al.e[3].naddr, 0); /* resolved at startup */
    const char *bad[] = {"",        "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.1:80",
                         "::1:80",  "[::1]",     "a..b:80",     "a b:80",          "127.0.0.1:80,",
                         ",x:1",    "x:1:2",     "[::1%lo]:80", "http://x:80",     "x:+80",
                         "x:080000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(fetch_allow_parse(bad[i], &al), -1, "%s", bad[i]);
}

static enum fetch_verdict verdict(const char *list, const char *url)
{
    fetch_allow al;
    cr_assert_eq(fetch_allow_parse(list, &al), 0);
    fetch_target t;
    char why[160];
    enum fetch_verdict v = fetch_target_check(&al, url, &t, why, sizeof(why));
    fetch_target_free(&t);
    return v;
}

Test(fetch_allow, url_verdicts)
{
    const char *l = "127.0.0.1:8080,localhost:8080";
    cr_assert_eq(verdict(l, "http://127.0.0.1:8080/io/job?delay=1"), FETCH_URL_OK);
    cr_assert_eq(verdict(l, "http://LOCALHOST:8080/"), FETCH_URL_OK);
    cr_assert_eq(verdict(l, "http://127.1:8080/"), FETCH_URL_OK); /* the same address */
    cr_assert_eq(verdict(l, "http://[::1]:8080/"), FETCH_URL_OK); /* localhost's */
    cr_assert_eq(verdict(l, "http://127.0.0.2:8080/"), FETCH_URL_REFUSED);
    cr_assert_eq(verdict(l, "http://0x7f000002:8080/"), FETCH_URL_REFUSED);
    cr_assert_eq(verdict(l, "http://[::ffff:127.0.0.1]:8080/"), FETCH_URL_REFUSED);
    cr_assert_eq(verdict(l, "http://127.0.0.1:8081/"), FETCH_URL_REFUSED);
    cr_assert_eq(verdict(l, "http://127.0.0.1/"), FETCH_URL_REFUSED); /* port 80 */
    cr_assert_eq(verdict(l, "http://u:p@127.0.0.1:8080/"), FETCH_URL_REFUSED);
    cr_assert_eq(verdict(l, "ftp://127.0.0.1:8080/"), FETCH_URL_REFUSED);
    cr_assert_eq(verdict(l, "http://x.invalid:8080/"), FETCH_URL_REFUSED);
    cr_assert_eq(verdict(l, "127.0.0.1:8080/"), FETCH_URL_BAD);
    cr_assert_eq(verdict(l, "http://127.0.0.1:99999/"), FETCH_URL_BAD);
    cr_assert_eq(verdict(l, ""), FETCH_URL_BAD);
}

/* One transfer run to its end on the calling thread. */
static enum fetch_outcome run_blocking(const char *list, const char *url, const char *pin_to)
{
    fetch_allow al;
    cr_assert_eq(fetch_allow_parse(list, &al), 0);
    fetch_target t;
    char why[160];
    cr_assert_eq(fetch_target_check(&al, url, &t, why, sizeof(why)), FETCH_URL_OK, "%s", why);
    if (pin_to) snprintf(t.resolve, sizeof(t.resolve), "%s", pin_to);
    fetch_xfer x;
    cr_assert_eq(fetch_xfer_init(&x, &t, &LIM), 0);
    fetch_xfer_perform(&x);
    enum fetch_outcome o = fetch_xfer_finish(&x);
    fetch_xfer_cleanup(&x);
    return o;
}

/* The name was allowed at the check; when it then resolves to another host
 * (pinned here to 127.0.0.2, as a rebinding DNS answer would), the socket
 * check refuses before connect(): that host counts no accept. */
Test(fetch_allow, rebinding_is_caught_at_the_socket)
{
    upstream good = {.body_len = 3};
    upstream_start(&good, "127.0.0.1", 0, UP_RESPOND);
    upstream evil = {.body_len = 3};
    upstream_start(&evil, "127.0.0.2", good.port, UP_RESPOND);
    char list[64], url[96], pin[96];
    snprintf(list, sizeof(list), "localhost:%u", good.port);
    snprintf(url, sizeof(url), "http://localhost:%u/", good.port);
    snprintf(pin, sizeof(pin), "localhost:%u:127.0.0.2", good.port);
    cr_assert_eq(run_blocking(list, url, NULL), FETCH_OK);
    cr_assert_eq(atomic_load(&good.accepts), 1);
    cr_assert_eq(run_blocking(list, url, pin), FETCH_REFUSED);
    cr_assert_eq(atomic_load(&evil.accepts), 0, "the rebound address was connected to");
    upstream_stop(&good);
    upstream_stop(&evil);
}

static int ended;
static void on_end(fetch_xfer *x)
{
    ended = 1 + (int)fetch_xfer_finish(x);
}

static void start_xfer(fetch_multi *m, fetch_xfer *x, uint16_t port)
{
    char list[64], url[96], why[160];
    snprintf(list, sizeof(list), "127.0.0.1:%u", port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
    fetch_allow al;
    fetch_target t;
    cr_assert_eq(fetch_allow_parse(list, &al), 0);
    cr_assert_eq(fetch_target_check(&al, url, &t, why, sizeof(why)), FETCH_URL_OK);
    cr_assert_eq(fetch_xfer_init(x, &t, &LIM), 0);
    cr_assert_eq(fetch_multi_add(m, x, on_end, NULL), 0);
}

Test(fetch_multi, a_transfer_ends_on_the_loop)
{
    upstream up = {.body_len = 100000};
    upstream_start(&up, "127.0.0.1", 0, UP_RESPOND);
    loop *l;
    fetch_multi *m;
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(fetch_multi_new(l, &m), 0);
    fetch_xfer x;
    ended = 0;
    start_xfer(m, &x, up.port);
    cr_assert_eq(loop_run_until(l, &ended, 5), 1);
    cr_assert_eq(ended, 1 + FETCH_OK);
    cr_assert_eq(x.bytes, 100000);
    cr_assert_eq(x.status, 200);
    cr_assert_eq(fetch_multi_count(m), 0);
    fetch_xfer_cleanup(&x);
    fetch_multi_free(m); /* closes the cached connection */
    cr_assert_eq(upstream_closes_within(&up, 1, 5), 1);
    loop_free(l);
    upstream_stop(&up);
}

/* Taken off midway (the client left): the upstream sees the close, no
 * socket stays watched, and the callback never runs. */
Test(fetch_multi, cancel_closes_the_connection)
{
    upstream up = {0};
    upstream_start(&up, "127.0.0.1", 0, UP_HANG);
    loop *l;
    fetch_multi *m;
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(fetch_multi_new(l, &m), 0);
    fetch_xfer x[3];
    ended = 0;
    for (int i = 0; i < 3; i++)
        start_xfer(m, &x[i], up.port);
    for (int i = 0; i < 500 && atomic_load(&up.accepts) < 3; i++)
        loop_run_until(l, NULL, 0.01);
    cr_assert_eq(atomic_load(&up.accepts), 3);
    cr_assert_eq(fetch_multi_sockets(m), 3);
    for (int i = 0; i < 3; i++)
        fetch_xfer_cleanup(&x[i]);
    cr_assert_eq(fetch_multi_count(m), 0);
    cr_assert_eq(fetch_multi_sockets(m), 0);
    cr_assert_eq(upstream_closes_within(&up, 3, 5), 3);
    loop_run_until(l, NULL, 0.05);
    cr_assert_eq(ended, 0);
    fetch_multi_free(m);
    loop_free(l);
    upstream_stop(&up);
}
