/*
 * hostallow.h - the --allowed-hosts list and the Host header it is matched
 * against (docs/security.md, "Allowed hosts").
 *
 * The list mirrors Starlette's TrustedHostMiddleware: comma-separated
 * patterns, each an exact host ("example.com", "10.0.0.7", "[::1]"), a
 * domain wildcard ("*.example.com": any name ending in ".example.com", not
 * "example.com" itself), or "*" (any host). Unlike Starlette, names compare
 * without regard to case, addresses compare as addresses ("[0::1]" is
 * "[::1]"), the port is parsed and checked but never matched, and a Host that
 * is not one (RFC 9110 7.2: uri-host [":" port]) is refused even under "*".
 *
 * An empty list is the default, which depends on the listening address: bound
 * to loopback ("localhost", 127.0.0.0/8, ::1), only loopback names and
 * addresses ("localhost", "*.localhost", 127.0.0.0/8, [::1]); bound to any
 * other address, any host (container probes and load balancers send names
 * and pod addresses nobody knows in advance).
 *
 * Pure, any thread; fuzzed (tests/fuzz/fuzz_hostallow.c).
 */
#ifndef IOCPU_HOSTALLOW_H
#define IOCPU_HOSTALLOW_H

#include <stddef.h>

enum host_kind { HOST_NAME, HOST_V4, HOST_V6 };

/* A parsed host: a lower-case DNS-style name, or an address. */
typedef struct host_id {
    enum host_kind kind;
    char name[254];         /* HOST_NAME: the name, lower case */
    unsigned char addr[16]; /* HOST_V4: 4 bytes, HOST_V6: 16 bytes */
} host_id;

/*
 * Parses s[0..n) as a Host header value: a name (labels of 1 to 63 letters,
 * digits, '-' or '_', joined by '.', at most 253 bytes, no trailing dot), a
 * dotted-quad IPv4 address, or an IPv6 address in brackets (no zone), then
 * an optional ":" and a port of 1 to 5 digits up to 65535. A name whose last
 * label is all digits must be a dotted-quad address ("127.1" is refused, as
 * a browser would have rewritten it). 0, or -1 when it is not a host.
 */
int host_parse(const char *s, size_t n, host_id *out);

/* 1 when list is a valid --allowed-hosts value: one or more comma-separated
 * patterns, "*", "*." + name, a name or an address (no port, no spaces). */
int hostallow_list_ok(const char *list);

/* 1 when bind (the --host value: "localhost" or an address) is a loopback
 * address. */
int hostallow_bind_loopback(const char *bind);

/* 1 when the list lets any host through: "*" is one of its patterns, or it
 * is empty and bind is not loopback. */
int hostallow_any(const char *list, const char *bind);

/*
 * 1 when a request whose Host header is host[0..n) (host NULL: no Host
 * header, possible only in HTTP/1.0) may be served under list (empty: the
 * default for bind); 0 when it must be refused (400). A malformed Host is
 * always refused; a missing one only when the list does not allow any host.
 */
int hostallow_admits(const char *list, const char *bind, const char *host, size_t n);

#endif
