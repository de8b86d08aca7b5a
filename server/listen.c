/*
 * listen.c - see listen.h.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* host:port as a socket address; -EINVAL when host is not numeric or "localhost". */
static int parse_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (!strcmp(host, "localhost")) host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        *len = sizeof(*in4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof(*in6);
        return 0;
    }
    return -EINVAL;
}

/* "host:port" as a client would write it ([v6]:port). */
static void addr_text(const char *host, uint16_t port, char *out, size_t len)
{
    snprintf(out, len, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
}

/* "cannot listen on host:port: reason" in err; returns rc (a -errno). */
static int refusal(const char *host, uint16_t port, int rc, const char *why, char *err,
                   size_t errlen)
{
    char where[300];
    addr_text(host, port, where, sizeof(where));
    snprintf(err, errlen, "cannot listen on %s: %s", where, why ? why : strerror(-rc));
    return rc;
}

/* A bound socket, or -errno with the reason in err. */
static int bind_to(const char *host, uint16_t port, int shared, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_addr(host, port, &ss, &len) < 0)
        return refusal(host, port, -EINVAL, "--host must be a numeric IPv4/IPv6 address", err,
                       errlen);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1, rc = fd < 0 ? -errno : 0;
    if (rc == 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) rc = -errno;
    if (rc == 0 && shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
        rc = -errno;
    if (rc == 0 && ss.ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
        rc = -errno;
    if (rc == 0 && bind(fd, (struct sockaddr *)&ss, len) < 0) rc = -errno;
    if (rc == 0) return fd;
    if (fd >= 0) close(fd);
    return refusal(host, port, rc, NULL, err, errlen);
}

int listen_open(const char *host, uint16_t port, int shared, int backlog, char *err, size_t errlen)
{
    int fd = bind_to(host, port, shared, err, errlen);
    if (fd < 0) return fd;
    if (listen(fd, backlog) < 0) {
        int rc = -errno;
        close(fd);
        return refusal(host, port, rc, NULL, err, errlen);
    }
    /* A connection is accepted once its first bytes are in (or after this
     * many seconds without): libmicrohttpd reads a new connection as it
     * accepts it, and the first bytes must be judged before that
     * (http/headscreen.h). Without it (an error here) a head is judged
     * only when its bytes come after the accept. */
    int defer = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer));
    return fd;
}

int listen_check_free(const char *host, uint16_t port, char *err, size_t errlen)
{
    /* without SO_REUSEPORT: fails while any socket listens there, shared or not */
    int fd = bind_to(host, port, 0, err, errlen);
    if (fd < 0) return fd;
    close(fd);
    return 0;
}

uint16_t listen_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}
