/*
 * hostallow.c - Host header parsing and the --allowed-hosts list (hostallow.h).
 */
#include "hostallow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int v6_char(char c)
{
    return c != '\0' && (is_digit(c) || strchr("abcdefABCDEF:.", c));
}

static int name_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* A name s[0..n) lower-cased into out (254 bytes). 1 when its last label is
 * all digits (then it can only be an IPv4 address), 0, or -1 (not a name). */
static int parse_name(const char *s, size_t n, char *out)
{
    if (n == 0 || n > 253) return -1;
    size_t label = 0;
    int numeric = 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0) return -1; /* an empty label: "..", or a leading dot */
            label = 0;
            numeric = 1;
        } else if (name_char(c)) {
            if (++label > 63) return -1;
            numeric &= is_digit(c);
        } else {
            return -1;
        }
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[n] = '\0';
    return label == 0 ? -1 : numeric; /* label 0: a trailing dot */
}

/* The inside of "[...]": an IPv6 address, no zone ("%eth0") and no IPvFuture. */
static int parse_v6(const char *s, size_t n, host_id *out)
{
    char tmp[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof(tmp)) return -1;
    for (size_t i = 0; i < n; i++)
        if (!v6_char(s[i])) return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET6, tmp, out->addr) != 1) return -1;
    out->kind = HOST_V6;
    return 0;
}

/* The host part of s[0..n) (before any port) into out; *used = its length. */
static int parse_host_part(const char *s, size_t n, host_id *out, size_t *used)
{
    memset(out, 0, sizeof(*out));
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) return -1;
        *used = (size_t)(close - s) + 1;
        return parse_v6(s + 1, *used - 2, out);
    }
    const char *colon = memchr(s, ':', n);
    *used = colon ? (size_t)(colon - s) : n;
    int numeric = parse_name(s, *used, out->name);
    if (numeric <= 0) return numeric;                             /* -1, or 0: a name */
    if (inet_pton(AF_INET, out->name, out->addr) != 1) return -1; /* "127.1", "1.2.3.999" */
    out->kind = HOST_V4;
    return 0;
}

/* ":" and 1 to 5 digits, at most 65535. */
static int parse_port(const char *s, size_t n)
{
    if (n < 2 || n > 6 || s[0] != ':') return -1;
    long v = 0;
    for (size_t i = 1; i < n; i++) {
        if (!is_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= 65535 ? 0 : -1;
}

int host_parse(const char *s, size_t n, host_id *out)
{
    size_t used;
    if (parse_host_part(s, n, out, &used) < 0) return -1;
    return used == n ? 0 : parse_port(s + used, n - used);
}

/* Is p[0..n) a valid pattern? Fills h for an exact one. 1 "*", 2 "*.name",
 * 3 exact, 0 invalid. */
static int pattern_kind(const char *p, size_t n, host_id *h)
{
    size_t used;
    if (n == 1 && p[0] == '*') return 1;
    if (n > 2 && p[0] == '*' && p[1] == '.')
        return parse_host_part(p + 2, n - 2, h, &used) == 0 && used == n - 2 && h->kind == HOST_NAME
                   ? 2
                   : 0;
    return parse_host_part(p, n, h, &used) == 0 && used == n ? 3 : 0;
}

static int same_host(const host_id *a, const host_id *b)
{
    if (a->kind != b->kind) return 0;
    if (a->kind == HOST_NAME) return strcmp(a->name, b->name) == 0;
    return memcmp(a->addr, b->addr, a->kind == HOST_V4 ? 4 : 16) == 0;
}

/* name ends with "." + suffix (suffix: lower case, from a parsed pattern). */
static int under_domain(const char *name, const char *suffix)
{
    size_t ln = strlen(name), ls = strlen(suffix);
    return ln > ls + 1 && name[ln - ls - 1] == '.' && strcmp(name + ln - ls, suffix) == 0;
}

/* Does pattern p[0..n) admit h? An invalid pattern admits nothing. */
static int pattern_admits(const char *p, size_t n, const host_id *h)
{
    host_id ph;
    switch (pattern_kind(p, n, &ph)) {
    case 1:
        return 1;
    case 2:
        return h->kind == HOST_NAME && under_domain(h->name, ph.name);
    case 3:
        return same_host(&ph, h);
    default:
        return 0;
    }
}

int hostallow_list_ok(const char *list)
{
    host_id h;
    if (!*list) return 0;
    for (const char *p = list;; p++) {
        size_t n = strcspn(p, ",");
        if (!pattern_kind(p, n, &h)) return 0;
        p += n;
        if (!*p) return 1;
    }
}

static int v6_loopback(const unsigned char *a)
{
    static const unsigned char one[16] = {[15] = 1};
    static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
    return !memcmp(a, one, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
}

int hostallow_bind_loopback(const char *bind)
{
    unsigned char a[16];
    if (!strcasecmp(bind, "localhost")) return 1;
    if (inet_pton(AF_INET, bind, a) == 1) return a[0] == 127;
    return inet_pton(AF_INET6, bind, a) == 1 && v6_loopback(a);
}

/* The loopback default: "localhost", "*.localhost", 127.0.0.0/8, [::1]. */
static int loopback_host(const host_id *h)
{
    switch (h->kind) {
    case HOST_NAME:
        return !strcmp(h->name, "localhost") || under_domain(h->name, "localhost");
    case HOST_V4:
        return h->addr[0] == 127;
    default:
        return v6_loopback(h->addr);
    }
}

int hostallow_any(const char *list, const char *bind)
{
    if (!*list) return !hostallow_bind_loopback(bind);
    for (const char *p = list;; p++) {
        size_t n = strcspn(p, ",");
        if (n == 1 && p[0] == '*') return 1;
        p += n;
        if (!*p) return 0;
    }
}

int hostallow_admits(const char *list, const char *bind, const char *host, size_t n)
{
    host_id h;
    if (!host) return hostallow_any(list, bind);
    if (host_parse(host, n, &h) < 0) return 0;
    if (!*list) return !hostallow_bind_loopback(bind) || loopback_host(&h);
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        if (pattern_admits(p, len, &h)) return 1;
        p += len;
        if (!*p) return 0;
    }
}
