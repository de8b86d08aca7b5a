/*
 * corsallow.c - see corsallow.h.
 */
#define _GNU_SOURCE
#include "corsallow.h"

#include <string.h>

#include "hostallow.h"

int cors_origin_ok(const char *o, size_t n)
{
    size_t skip = n > 7 && !memcmp(o, "http://", 7)    ? 7
                  : n > 8 && !memcmp(o, "https://", 8) ? 8
                                                       : 0;
    if (!skip) return 0;
    for (size_t i = skip; i < n; i++)
        if ((o[i] >= 'A' && o[i] <= 'Z') || o[i] == '\0') return 0; /* a browser sends lower case */
    const char *auth = o + skip, *end = o + n;
    const char *bracket = memchr(auth, ']', (size_t)(end - auth));
    const char *colon =
        memrchr(bracket ? bracket : auth, ':', (size_t)(end - (bracket ? bracket : auth)));
    if (colon) { /* port 0 (or 00...): no page comes from there */
        const char *p = colon + 1;
        while (p < end && *p == '0')
            p++;
        if (p == end) return 0;
    }
    host_id h;
    return host_parse(auth, (size_t)(end - auth), &h) == 0;
}

/* The next item of a comma-separated list from *p: its start and length;
 * 0 at the end of the list. */
static int next_item(const char **p, const char **item, size_t *n)
{
    const char *s = *p;
    if (!s) return 0;
    const char *comma = strchr(s, ',');
    const char *end = comma ? comma : s + strlen(s);
    *p = comma ? comma + 1 : NULL;
    *item = s;
    *n = (size_t)(end - s);
    return 1;
}

int cors_list_ok(const char *list)
{
    if (!*list) return 1;
    const char *p = list, *item;
    size_t n;
    while (next_item(&p, &item, &n))
        if (!cors_origin_ok(item, n)) return 0;
    return 1;
}

int cors_listed(const char *list, const char *origin, size_t n)
{
    const char *p = list, *item;
    size_t len;
    if (!origin || !*list) return 0;
    while (next_item(&p, &item, &len))
        if (len == n && !memcmp(item, origin, n)) return 1;
    return 0;
}
