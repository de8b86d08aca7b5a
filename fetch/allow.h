/*
 * allow.h - where outbound fetches may go (--upstream-allow), and the check of
 * a requested URL against it (docs/security.md, "Outbound fetches").
 *
 * The list is comma-separated host:port entries: a name ("localhost",
 * "api.internal"), a dotted-quad IPv4 address or an IPv6 address in brackets,
 * then a port of 1 to 65535. Names are resolved once, when the server starts
 * ("localhost" without DNS: 127.0.0.1 and ::1); a fetch connects only to the
 * addresses found then (pinned with CURLOPT_RESOLVE, checked again on the
 * socket about to connect), so a name that later resolves elsewhere (DNS
 * rebinding) takes nobody anywhere new. The URL is parsed by libcurl's URL
 * API, the one libcurl itself uses, so the host checked is the host connected
 * to: "127.1", "0x7f000001", "2130706433" arrive here as 127.0.0.1, and an
 * IPv4-mapped IPv6 address ("[::ffff:127.0.0.1]") is an IPv6 address that
 * matches only itself.
 *
 * Pure, any thread (fetch_allow_resolve() blocks on the resolver); fuzzed
 * (tests/fuzz/fuzz_fetchallow.c).
 */
#ifndef IOCPU_FETCH_ALLOW_H
#define IOCPU_FETCH_ALLOW_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define FETCH_ALLOW_MAX 16 /* entries in --upstream-allow */
#define FETCH_ADDRS_MAX 8  /* addresses one entry may stand for */

typedef struct fetch_addr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* 4 or 16 bytes */
} fetch_addr;

typedef struct fetch_allow_entry {
    char name[254]; /* a lower-case name, or "" for an address entry */
    uint16_t port;
    size_t naddr; /* the addresses it stands for (a name's once resolved) */
    fetch_addr addr[FETCH_ADDRS_MAX];
} fetch_allow_entry;

typedef struct fetch_allow {
    size_t n;
    fetch_allow_entry e[FETCH_ALLOW_MAX];
} fetch_allow;

/* Parses a --upstream-allow value (names left unresolved, except
 * "localhost"). 0, or -1 when it is not a list of host:port entries. */
int fetch_allow_parse(const char *list, fetch_allow *out);
/* The default: this server itself on loopback, 127.0.0.1, [::1] and
 * localhost at port. */
void fetch_allow_default(uint16_t port, fetch_allow *out);
/* Resolves the names of al (getaddrinfo: blocks; at startup only). 0, or -1
 * when a name has no address (its entry then lets nothing through). */
int fetch_allow_resolve(fetch_allow *al);

/* A URL that passed the check: the parsed URL (handed to libcurl as is) and
 * the addresses it may connect to. */
typedef struct fetch_target {
    CURLU *url;
    char resolve[320]; /* "" or a CURLOPT_RESOLVE entry pinning a name to its addresses */
    uint16_t port;
    size_t naddr;
    fetch_addr addr[FETCH_ADDRS_MAX];
} fetch_target;

enum fetch_verdict {
    FETCH_URL_OK,      /* t is filled in; fetch_target_free() it */
    FETCH_URL_BAD,     /* not an absolute URL: a 422 */
    FETCH_URL_REFUSED, /* a URL, but not one to fetch: a 403 */
};

/* Checks url against al; on FETCH_URL_OK fills t, otherwise writes why
 * (without echoing the URL) to why[cap]. */
enum fetch_verdict fetch_target_check(const fetch_allow *al, const char *url, fetch_target *t,
                                      char *why, size_t cap);
void fetch_target_free(fetch_target *t);
/* 1 when sa (the address a socket is about to connect to) is one of t's. */
int fetch_target_allows(const fetch_target *t, const struct sockaddr *sa);

#endif
