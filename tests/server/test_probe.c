/*
 * test_probe.c - `iocpu --probe URL` (server/probe.c): the container health
 * check succeeds only on a 2xx, and always ends within its deadline.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "probe.h"

static test_server ts;

static void url(char *out, size_t len, uint16_t port, const char *path)
{
    snprintf(out, len, "http://127.0.0.1:%u%s", port, path);
}

/* A listening socket on a free loopback port that never accepts nor answers. */
static int silent_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(fd, 8), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

Test(probe, healthz_2xx_is_success, .timeout = 30)
{
    ts_start(&ts, NULL);
    char u[128], err[256];
    int status;
    url(u, sizeof(u), ts.port, "/healthz");
    cr_assert_eq(probe_url(u, 2000, &status, err, sizeof(err)), PROBE_OK, "%s", err);
    cr_assert_eq(status, 200);
    /* a 202 is a 2xx too */
    url(u, sizeof(u), ts.port, "/readyz");
    cr_assert_eq(probe_url(u, 2000, &status, err, sizeof(err)), PROBE_OK, "%s", err);
    ts_stop(&ts);
}

static void on_v6_loopback(config *c)
{
    strcpy(c->host, "::1");
    c->allowed_hosts[0] = '\0'; /* the default: loopback names and addresses only */
}

/* Where the host has IPv6: the probe's Host is "[::1]:port", which the
 * default allow list takes (a bare "::1:port" is no Host, and gets 400). */
Test(probe, an_ipv6_address_goes_in_brackets, .timeout = 30)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int v6 = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0) close(fd);
    if (!v6) cr_skip_test("no IPv6 loopback here");
    ts_start(&ts, on_v6_loopback);
    char u[128], err[256];
    int status;
    snprintf(u, sizeof(u), "http://[::1]:%u/healthz", ts.port);
    cr_assert_eq(probe_url(u, 2000, &status, err, sizeof(err)), PROBE_OK, "%s (%d)", err, status);
    cr_assert_eq(status, 200);
    ts_stop(&ts);
}

Test(probe, other_status_fails, .timeout = 30)
{
    ts_start(&ts, NULL);
    char u[128], err[256];
    int status;
    url(u, sizeof(u), ts.port, "/nope");
    cr_assert_eq(probe_url(u, 2000, &status, err, sizeof(err)), PROBE_STATUS);
    cr_assert_eq(status, 404);
    cr_assert(strstr(err, "404"), "%s", err);
    /* readiness fails while draining: the probe says so */
    server_set_draining(ts.s);
    url(u, sizeof(u), ts.port, "/readyz");
    cr_assert_eq(probe_url(u, 2000, &status, err, sizeof(err)), PROBE_STATUS);
    cr_assert_eq(status, 503);
    ts_stop(&ts);
}

Test(probe, refused_and_silent_servers_fail_within_the_deadline, .timeout = 30)
{
    uint16_t port;
    int fd = silent_listener(&port);
    char u[128], err[256];
    int status;
    url(u, sizeof(u), port, "/healthz");
    double t0 = now_secs();
    cr_assert_eq(probe_url(u, 300, &status, err, sizeof(err)), PROBE_FAILED);
    double took = now_secs() - t0;
    cr_assert(took >= 0.25 && took < 1.5, "took %.3f s", took);
    cr_assert(strstr(err, "no answer"), "%s", err);
    close(fd); /* now nothing listens there: refused at once */
    t0 = now_secs();
    cr_assert_eq(probe_url(u, 2000, &status, err, sizeof(err)), PROBE_FAILED);
    cr_assert_lt(now_secs() - t0, 1.0);
    cr_assert_eq(status, 0);
    cr_assert(strstr(err, "connect"), "%s", err);
}

Test(probe, bad_urls_are_refused)
{
    const char *bad[] = {"",
                         "https://127.0.0.1/healthz",
                         "http://",
                         "http://127.0.0.1:/x",
                         "http://127.0.0.1:0/x",
                         "http://127.0.0.1:70000/x",
                         "http://127.0.0.1:80x",
                         "http://[::1/x",
                         "http://127.0.0.1/a b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int status;
        cr_assert_eq(probe_url(bad[i], 500, &status, NULL, 0), PROBE_BAD_URL, "'%s'", bad[i]);
    }
}

Test(probe, main_exit_codes, .timeout = 30)
{
    ts_start(&ts, NULL);
    char u[128];
    url(u, sizeof(u), ts.port, "/healthz");
    const char *ok[] = {"iocpu", "--probe", u, NULL};
    cr_assert_eq(probe_main(3, (char **)ok), 0);
    const char *timeout[] = {"iocpu", "--probe", u, "1500", NULL};
    cr_assert_eq(probe_main(4, (char **)timeout), 0);
    const char *bad_timeout[] = {"iocpu", "--probe", u, "soon", NULL};
    cr_assert_neq(probe_main(4, (char **)bad_timeout), 0);
    const char *missing[] = {"iocpu", "--probe", NULL};
    cr_assert_neq(probe_main(2, (char **)missing), 0);
    url(u, sizeof(u), ts.port, "/nope");
    const char *notfound[] = {"iocpu", "--probe", u, NULL};
    cr_assert_eq(probe_main(3, (char **)notfound), PROBE_STATUS);
    ts_stop(&ts);
}
