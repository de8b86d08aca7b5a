/*
 * bearer.c - reading a bearer token (bearer.h).
 */
#include "bearer.h"

#include <string.h>
#include <strings.h>

static int token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-._~+/", c));
}

int bearer_parse(const char *value, size_t n, const char **tok, size_t *len)
{
    static const char SCHEME[] = "Bearer";
    size_t s = sizeof(SCHEME) - 1, i;
    if (!value || n <= s || strncasecmp(value, SCHEME, s) || value[s] != ' ') return -1;
    for (i = s; i < n && value[i] == ' '; i++)
        ;
    size_t start = i;
    while (i < n && token_char(value[i]))
        i++;
    if (i == start) return -1;
    while (i < n && value[i] == '=')
        i++;
    size_t end = i;
    while (i < n && (value[i] == ' ' || value[i] == '\t'))
        i++;
    if (i != n) return -1;
    *tok = value + start;
    *len = end - start;
    return 0;
}
