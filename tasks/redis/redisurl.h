/*
 * redisurl.h - the address of a Redis server, as --tasks-backend takes it:
 * redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (HOST a name, an IPv4 address
 * or [IPv6]; USER and PASSWORD percent-encoded where they hold ':', '@',
 * '/' or '%'). The password is a secret: it is never printed (see
 * redis_url_text()).
 * No I/O here: config.c validates with it, redisconn.c connects with it.
 */
#ifndef IOCPU_REDISURL_H
#define IOCPU_REDISURL_H

#include <stddef.h>

typedef struct redis_url {
    char user[128];     /* "" = the default user */
    char password[256]; /* "" = no AUTH */
    char host[256];     /* without brackets */
    int port;           /* 1..65535, 6379 when absent */
    int db;             /* 0..65535, 0 when absent */
} redis_url;

/* 0, or -1 when s is not such a URL (u is then unspecified). */
int redis_url_parse(const char *s, redis_url *u);

/* The URL as it may be shown: the password replaced by "***". */
void redis_url_text(const redis_url *u, char *out, size_t len);

#endif
