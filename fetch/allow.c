/*
 * allow.c - the --upstream-allow list and the URL check (allow.h).
 */
#include "allow.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX 2048

static int add_addr(fetch_addr *v, size_t *n, int family, const void *a)
{
    size_t len = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < *n; i++)
        if (v[i].family == family && !memcmp(v[i].addr, a, len)) return 0;
    if (*n >= FETCH_ADDRS_MAX) return -1;
    memset(&v[*n], 0, sizeof(v[*n]));
    v[*n].family = family;
    memcpy(v[*n].addr, a, len);
    (*n)++;
    return 0;
}

static void add_localhost(fetch_allow_entry *e)
{
    struct in_addr v4 = {htonl(INADDR_LOOPBACK)};
    add_addr(e->addr, &e->naddr, AF_INET, &v4);
    add_addr(e->addr, &e->naddr, AF_INET6, &in6addr_loopback);
}

/* A DNS-style name: labels of 1 to 63 of [a-z0-9_-] joined by '.', at most
 * 253 bytes, the last label not all digits (that would be a number, which
 * URL parsers read as an IPv4 address). Lower-cases into out. */
static int name_ok(const char *s, size_t n, char *out)
{
    if (n < 1 || n > 253) return 0;
    size_t label = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c == '.') {
            if (label == 0) return 0;
            label = digits = 0;
        } else if ((c >= 'a' && c <= 'z') || c == '-' || c == '_' || (c >= '0' && c <= '9')) {
            digits += c >= '0' && c <= '9';
            if (++label > 63) return 0;
        } else {
            return 0;
        }
        out[i] = c;
    }
    out[n] = '\0';
    return label > 0 && digits < label;
}

/* host[0..n): "[v6]", a dotted quad, or a name. 0 or -1. */
static int parse_host(const char *s, size_t n, fetch_allow_entry *e)
{
    char tmp[64];
    unsigned char a[16];
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        if (n - 2 >= sizeof(tmp)) return -1;
        memcpy(tmp, s + 1, n - 2);
        tmp[n - 2] = '\0';
        if (inet_pton(AF_INET6, tmp, a) != 1) return -1;
        return add_addr(e->addr, &e->naddr, AF_INET6, a);
    }
    if (n < sizeof(tmp)) {
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        if (inet_pton(AF_INET, tmp, a) == 1) return add_addr(e->addr, &e->naddr, AF_INET, a);
    }
    if (!name_ok(s, n, e->name)) return -1;
    if (!strcmp(e->name, "localhost")) add_localhost(e);
    return 0;
}

/* "1".."65535", digits only. 0 or -1. */
static int parse_port(const char *s, size_t n, uint16_t *port)
{
    unsigned long v = 0;
    if (n < 1 || n > 5) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v < 1 || v > 65535) return -1;
    *port = (uint16_t)v;
    return 0;
}

static int parse_entry(const char *s, size_t n, fetch_allow_entry *e)
{
    memset(e, 0, sizeof(*e));
    const char *colon = NULL;
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == ':') {
            colon = s + i - 1;
            break;
        }
    if (!colon || parse_port(colon + 1, (size_t)(s + n - colon - 1), &e->port) < 0) return -1;
    return parse_host(s, (size_t)(colon - s), e);
}

int fetch_allow_parse(const char *list, fetch_allow *out)
{
    memset(out, 0, sizeof(*out));
    if (!list || !*list) return -1;
    for (const char *p = list;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (out->n >= FETCH_ALLOW_MAX || parse_entry(p, n, &out->e[out->n]) < 0) return -1;
        out->n++;
        if (!end) return 0;
        p = end + 1;
    }
}

void fetch_allow_default(uint16_t port, fetch_allow *out)
{
    char list[64];
    snprintf(list, sizeof(list), "127.0.0.1:%u,[::1]:%u,localhost:%u", port, port, port);
    fetch_allow_parse(list, out);
}

int fetch_allow_resolve(fetch_allow *al)
{
    int rc = 0;
    for (size_t i = 0; i < al->n; i++) {
        fetch_allow_entry *e = &al->e[i];
        if (!e->name[0] || e->naddr) continue;
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
        if (getaddrinfo(e->name, NULL, &hints, &res) != 0) {
            rc = -1;
            continue;
        }
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            if (ai->ai_family == AF_INET)
                add_addr(e->addr, &e->naddr, AF_INET,
                         &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr);
            else if (ai->ai_family == AF_INET6)
                add_addr(e->addr, &e->naddr, AF_INET6,
                         &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr);
        }
        freeaddrinfo(res);
    }
    return rc;
}

static enum fetch_verdict say(char *why, size_t cap, enum fetch_verdict v, const char *msg)
{
    snprintf(why, cap, "%s", msg);
    return v;
}

/* A URL part, or NULL when absent (curl_free() it). */
static char *part(CURLU *u, CURLUPart what, unsigned flags)
{
    char *s = NULL;
    if (curl_url_get(u, what, &s, flags) != CURLUE_OK) return NULL;
    return s;
}

static int part_present(CURLU *u, CURLUPart what)
{
    char *s = part(u, what, 0);
    curl_free(s);
    return s != NULL;
}

/* The parsed host as an address (1) or a lower-case name (0); -1 when neither. */
static int host_kind(const char *h, fetch_addr *a, char *name)
{
    char tmp[64];
    size_t n = strlen(h);
    memset(a, 0, sizeof(*a));
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']' && n - 2 < sizeof(tmp)) {
        memcpy(tmp, h + 1, n - 2);
        tmp[n - 2] = '\0';
        a->family = AF_INET6;
        return inet_pton(AF_INET6, tmp, a->addr) == 1 ? 1 : -1;
    }
    a->family = AF_INET;
    if (inet_pton(AF_INET, h, a->addr) == 1) return 1;
    return name_ok(h, n, name) ? 0 : -1;
}

/* Matches the host (an address, or a name) and port against the list,
 * gathering the addresses the fetch may connect to. */
static void match(const fetch_allow *al, int is_addr, const fetch_addr *a, const char *name,
                  fetch_target *t)
{
    for (size_t i = 0; i < al->n; i++) {
        const fetch_allow_entry *e = &al->e[i];
        if (e->port != t->port) continue;
        if (is_addr) {
            for (size_t k = 0; k < e->naddr; k++)
                if (e->addr[k].family == a->family &&
                    !memcmp(e->addr[k].addr, a->addr, a->family == AF_INET ? 4 : 16))
                    add_addr(t->addr, &t->naddr, a->family, a->addr);
        } else if (e->name[0] && !strcmp(e->name, name)) {
            for (size_t k = 0; k < e->naddr; k++)
                add_addr(t->addr, &t->naddr, e->addr[k].family, e->addr[k].addr);
        }
    }
}

/* "name:port:addr,[addr6],..." for CURLOPT_RESOLVE. */
static void pin(fetch_target *t, const char *name)
{
    size_t len = (size_t)snprintf(t->resolve, sizeof(t->resolve), "%s:%u:", name, t->port);
    for (size_t i = 0; i < t->naddr && len < sizeof(t->resolve); i++) {
        char txt[INET6_ADDRSTRLEN];
        inet_ntop(t->addr[i].family, t->addr[i].addr, txt, sizeof(txt));
        int v6 = t->addr[i].family == AF_INET6;
        len += (size_t)snprintf(t->resolve + len, sizeof(t->resolve) - len, "%s%s%s%s",
                                i ? "," : "", v6 ? "[" : "", txt, v6 ? "]" : "");
    }
}

/* Scheme, credentials, zone and port of a parsed URL. */
static enum fetch_verdict check_parts(CURLU *u, fetch_target *t, char *why, size_t cap)
{
    char *scheme = part(u, CURLUPART_SCHEME, 0);
    int web = scheme && (!strcmp(scheme, "http") || !strcmp(scheme, "https"));
    curl_free(scheme);
    if (!web) return say(why, cap, FETCH_URL_REFUSED, "only http and https URLs are fetched");
    if (part_present(u, CURLUPART_USER) || part_present(u, CURLUPART_PASSWORD) ||
        part_present(u, CURLUPART_OPTIONS))
        return say(why, cap, FETCH_URL_REFUSED, "a URL with credentials is not fetched");
    if (part_present(u, CURLUPART_ZONEID))
        return say(why, cap, FETCH_URL_REFUSED, "a URL with an IPv6 zone is not fetched");
    char *port = part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    long p = port ? strtol(port, NULL, 10) : 0;
    curl_free(port);
    if (p < 1 || p > 65535) return say(why, cap, FETCH_URL_BAD, "the URL has no valid port");
    t->port = (uint16_t)p;
    return FETCH_URL_OK;
}

static enum fetch_verdict check_host(const fetch_allow *al, CURLU *u, fetch_target *t, char *why,
                                     size_t cap)
{
    char *host = part(u, CURLUPART_HOST, 0), name[254];
    fetch_addr a;
    int kind = host ? host_kind(host, &a, name) : -1;
    curl_free(host);
    if (kind < 0)
        return say(why, cap, FETCH_URL_REFUSED, "the URL's host is not on --upstream-allow");
    match(al, kind, &a, name, t);
    if (!t->naddr)
        return say(why, cap, FETCH_URL_REFUSED,
                   "the URL's host and port are not on --upstream-allow");
    if (kind == 0) {
        /* the host curl sees is exactly the name pinned to the listed addresses */
        if (curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK)
            return say(why, cap, FETCH_URL_BAD, "the URL's host cannot be used");
        pin(t, name);
    }
    return FETCH_URL_OK;
}

enum fetch_verdict fetch_target_check(const fetch_allow *al, const char *url, fetch_target *t,
                                      char *why, size_t cap)
{
    memset(t, 0, sizeof(*t));
    if (!url || !*url || strlen(url) > URL_MAX)
        return say(why, cap, FETCH_URL_BAD, "the URL is empty or too long");
    CURLU *u = curl_url();
    if (!u) return say(why, cap, FETCH_URL_BAD, "out of memory");
    enum fetch_verdict v =
        curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK
            ? say(why, cap, FETCH_URL_BAD, "not an absolute URL (scheme://host[:port]/path)")
            : check_parts(u, t, why, cap);
    if (v == FETCH_URL_OK) v = check_host(al, u, t, why, cap);
    if (v != FETCH_URL_OK) {
        curl_url_cleanup(u);
        memset(t, 0, sizeof(*t));
        return v;
    }
    t->url = u;
    return FETCH_URL_OK;
}

void fetch_target_free(fetch_target *t)
{
    curl_url_cleanup(t->url);
    t->url = NULL;
}

int fetch_target_allows(const fetch_target *t, const struct sockaddr *sa)
{
    const void *a;
    uint16_t port;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        a = &in->sin_addr;
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        a = &in6->sin6_addr;
        port = ntohs(in6->sin6_port);
    } else {
        return 0;
    }
    if (port != t->port) return 0;
    for (size_t i = 0; i < t->naddr; i++)
        if (t->addr[i].family == sa->sa_family &&
            !memcmp(t->addr[i].addr, a, sa->sa_family == AF_INET ? 4 : 16))
            return 1;
    return 0;
}
