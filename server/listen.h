/*
 * listen.h - the server's listening sockets, made here rather than by
 * libmicrohttpd so that what an operator meets is decided here:
 *   - SO_REUSEADDR always: a restart right after a stop binds at once, while
 *     the old connections sit in TIME_WAIT;
 *   - SO_REUSEPORT only between this server's own loops (--loops N > 1);
 *     before binding them, a plain bind proves nobody else listens there, so
 *     a second iocpu (same user) cannot silently take a share of the port;
 *   - a refusal names the address and the reason:
 *     "cannot listen on 127.0.0.1:8080: Address already in use".
 *
 * Threads: the thread that builds the server.
 */
#ifndef IOCPU_LISTEN_H
#define IOCPU_LISTEN_H

#include <stddef.h>
#include <stdint.h>

/* A socket listening on host:port (host: a numeric IPv4/IPv6 address or
 * "localhost"; port 0: any free port), shared with this server's other loops
 * when `shared`. The descriptor, or -errno with the reason in err. */
int listen_open(const char *host, uint16_t port, int shared, int backlog, char *err, size_t errlen);

/* 0 when nothing listens on host:port (port > 0), -EADDRINUSE (or the
 * bind's -errno) with the reason in err otherwise. */
int listen_check_free(const char *host, uint16_t port, char *err, size_t errlen);

/* The port fd is bound to, or 0. */
uint16_t listen_port(int fd);

#endif
