/*
 * test_listen.c - the listening sockets (server/listen.c) and what they mean
 * for an operator: a restart right after a stop binds at once although the
 * old connections sit in TIME_WAIT; a second server on a port in use fails
 * to start, also when both run several loops (SO_REUSEPORT would let it
 * take a share); the refusal names the address and the reason, and the
 * real binary ($IOCPU_BIN) says so on stderr and exits 1.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "listen.h"
#include "rawsock.h"

TestSuite(listen, .timeout = 60);

static uint16_t want_port;
static long want_loops = 1;

static void on_port(config *c)
{
    c->port = want_port;
    c->loops = want_loops;
}

/* Opens n keep-alive connections that each got one answer. */
static void hold_connections(uint16_t port, int *fds, int n)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    for (int i = 0; i < n; i++) {
        fds[i] = raw_connect(port);
        cr_assert_geq(fds[i], 0);
        cr_assert_eq(raw_send(fds[i], req, sizeof(req) - 1), 0);
        raw_reply r;
        raw_read(fds[i], 5.0, "\r\n\r\n", 1, &r);
        cr_assert_eq(raw_status(&r), 200);
        raw_reply_free(&r);
    }
}

static void restart_with_connections_held(long loops)
{
    test_server a, b;
    int fds[3];
    want_port = free_port();
    want_loops = loops;
    ts_start(&a, on_port);
    hold_connections(a.port, fds, 3);
    ts_stop(&a); /* the server closes them: its side waits in TIME_WAIT */
    ts_start(&b, on_port);
    cr_assert_eq(b.port, want_port);
    http_res r;
    cr_assert_eq(http_get(&b, "/healthz", &r), 0);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
    ts_stop(&b);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
}

Test(listen, restart_right_after_a_stop_binds_at_once)
{
    restart_with_connections_held(1);
}

Test(listen, restart_right_after_a_stop_binds_at_once_with_two_loops)
{
    restart_with_connections_held(2);
}

static void second_server_is_refused(long loops)
{
    test_server a;
    want_port = free_port();
    want_loops = loops;
    ts_start(&a, on_port);
    config c;
    config_defaults(&c);
    c.port = want_port;
    c.loops = loops;
    c.workers = 1;
    server *s = NULL;
    cr_assert_eq(server_new(&s, &c, handlers_all()), -EADDRINUSE,
                 "a second server shared the port");
    cr_assert_null(s);
    ts_stop(&a);
}

Test(listen, a_second_server_on_a_port_in_use_does_not_start)
{
    second_server_is_refused(1);
}

Test(listen, a_second_server_with_several_loops_cannot_join_the_port)
{
    second_server_is_refused(2);
}

Test(listen, refusals_name_the_address_and_the_reason)
{
    char err[256];
    uint16_t port = free_port();
    int fd = listen_open("127.0.0.1", port, 0, 8, err, sizeof(err));
    cr_assert_geq(fd, 0, "%s", err);
    char want[128];
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%u: Address already in use",
             (unsigned)port);
    cr_assert_eq(listen_open("127.0.0.1", port, 0, 8, err, sizeof(err)), -EADDRINUSE);
    cr_assert_str_eq(err, want);
    cr_assert_eq(listen_check_free("127.0.0.1", port, err, sizeof(err)), -EADDRINUSE);
    close(fd);
    cr_assert_eq(listen_check_free("127.0.0.1", port, err, sizeof(err)), 0);
    /* 192.0.2.1 (TEST-NET-1) is on no interface here: bind refuses, nothing is sent */
    cr_assert_eq(listen_open("192.0.2.1", 0, 0, 8, err, sizeof(err)), -EADDRNOTAVAIL);
    cr_assert(strstr(err, "cannot listen on 192.0.2.1:0: Cannot assign requested address"), "%s",
              err);
    cr_assert_eq(listen_open("example.org", 80, 0, 8, err, sizeof(err)), -EINVAL);
    cr_assert(strstr(err, "numeric"), "%s", err);
    fd = listen_open("::1", 0, 0, 8, err, sizeof(err)); /* where the host has IPv6 */
    cr_assert(fd >= 0 || fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT, "%s", err);
    if (fd >= 0) {
        cr_assert_gt(listen_port(fd), 0);
        close(fd);
    }
}

/* Runs the binary with args; returns its exit code, its output (stderr
 * included) in out. */
static int run_binary(const char *args, char *out, size_t outsz)
{
    const char *bin = getenv("IOCPU_BIN");
    cr_assert_not_null(bin, "IOCPU_BIN is not set");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, outsz - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    cr_assert(WIFEXITED(st), "%s did not exit: status %d", cmd, st);
    return WEXITSTATUS(st);
}

Test(listen, the_binary_refuses_an_address_not_on_this_machine)
{
    char out[2048];
    /* 192.0.2.1 (TEST-NET-1) is on no interface here */
    cr_assert_eq(run_binary("--host 192.0.2.1 --port 8080", out, sizeof(out)), 1, "%s", out);
    cr_assert(
        strstr(out, "iocpu: cannot listen on 192.0.2.1:8080: Cannot assign requested address"),
        "%s", out);
    cr_assert_null(strstr(out, "listening on"), "%s", out);
    cr_assert_eq(run_binary("--host 192.0.2.1 --port 8080 --loops 2", out, sizeof(out)), 1, "%s",
                 out);
    cr_assert(
        strstr(out, "iocpu: cannot listen on 192.0.2.1:8080: Cannot assign requested address"),
        "%s", out);
}

Test(listen, the_binary_refuses_a_port_in_use)
{
    char err[256], out[2048], args[64], want[128];
    uint16_t port = free_port();
    int fd = listen_open("127.0.0.1", port, 0, 8, err, sizeof(err));
    cr_assert_geq(fd, 0, "%s", err);
    snprintf(args, sizeof(args), "--host 127.0.0.1 --port %u", (unsigned)port);
    snprintf(want, sizeof(want), "iocpu: cannot listen on 127.0.0.1:%u: Address already in use",
             (unsigned)port);
    cr_assert_eq(run_binary(args, out, sizeof(out)), 1, "%s", out);
    cr_assert(strstr(out, want), "%s", out);
    close(fd);
}
