/*
 * redisurl.c - parsing redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]. Strict:
 * no query, digits only in PORT and DB, percent-escapes only as %XX in the
 * user info, nothing silently ignored.
 */
#include "redisurl.h"

#include <stdio.h>
#include <string.h>

#define PREFIX "redis://"

/* Digits only, value in [lo, hi]; the number of characters read, or -1. */
static int read_uint(const char *s, long lo, long hi, int *out)
{
    long v = 0;
    int n = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        v = v * 10 + (s[n] - '0');
        if (v > hi) return -1;
        n++;
    }
    if (!n || v < lo) return -1;
    *out = (int)v;
    return n;
}

static int host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes s[0..n) into out[len]; -1 on a bad escape, a NUL, or no room. */
static int decode(const char *s, size_t n, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = hi << 4 | lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= len) return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* The user info before '@', if any: "[USER]:PASSWORD". Advances *s past it. */
static int userinfo(const char **s, redis_url *u)
{
    u->user[0] = u->password[0] = '\0';
    const char *at = strchr(*s, '@');
    if (!at) return 0;
    const char *colon = memchr(*s, ':', (size_t)(at - *s));
    if (!colon || colon + 1 == at) return -1; /* a user alone, or an empty password */
    if (decode(*s, (size_t)(colon - *s), u->user, sizeof(u->user)) < 0 ||
        decode(colon + 1, (size_t)(at - colon - 1), u->password, sizeof(u->password)) < 0)
        return -1;
    *s = at + 1;
    return 0;
}

int redis_url_parse(const char *s, redis_url *u)
{
    if (strncmp(s, PREFIX, strlen(PREFIX))) return -1;
    s += strlen(PREFIX);
    if (userinfo(&s, u) < 0) return -1;
    size_t n = 0;
    if (*s == '[') { /* [IPv6] */
        const char *end = strchr(s, ']');
        if (!end) return -1;
        n = (size_t)(end - s - 1);
        if (!n || n >= sizeof(u->host) || strspn(s + 1, "0123456789abcdefABCDEF:.") != n) return -1;
        memcpy(u->host, s + 1, n);
        s = end + 1;
    } else {
        while (host_char(s[n]))
            n++;
        if (!n || n >= sizeof(u->host)) return -1;
        memcpy(u->host, s, n);
        s += n;
    }
    u->host[n] = '\0';
    u->port = 6379;
    u->db = 0;
    int k;
    if (*s == ':') {
        if ((k = read_uint(s + 1, 1, 65535, &u->port)) < 0) return -1;
        s += 1 + k;
    }
    if (*s == '/') {
        if ((k = read_uint(s + 1, 0, 65535, &u->db)) < 0) return -1;
        s += 1 + k;
    }
    return *s ? -1 : 0;
}

void redis_url_text(const redis_url *u, char *out, size_t len)
{
    const char *v6 = strchr(u->host, ':') ? "[" : "";
    snprintf(out, len, "redis://%s%s%s%s%s:%d/%d", u->user, u->password[0] ? ":***@" : "", v6,
             u->host, *v6 ? "]" : "", u->port, u->db);
}
