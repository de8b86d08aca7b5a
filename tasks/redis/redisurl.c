/*
 * redisurl.c - parsing redis://HOST[:PORT][/DB]. Strict: no user info, no
 * query, digits only in PORT and DB, nothing silently ignored.
 */
#include "redisurl.h"

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

int redis_url_parse(const char *s, redis_url *u)
{
    if (strncmp(s, PREFIX, strlen(PREFIX))) return -1;
    s += strlen(PREFIX);
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
