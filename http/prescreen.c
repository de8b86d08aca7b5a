/*
 * prescreen.c - see prescreen.h. The grammar (RFC 9110 5.6.2, RFC 9112 3):
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   method       = token (tchar: ALPHA DIGIT !#$%&'*+-.^_`|~)
 *   request-target: visible ASCII, no spaces
 *   HTTP-version = "HTTP/" DIGIT "." DIGIT (1.0 and 1.1 are served)
 *   Content-Length = 1*DIGIT, surrounded by optional spaces or tabs
 */
#include "prescreen.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The '\n' that ends the line at p (before end); NULL when it is not complete. */
static const char *line_end(const char *p, const char *end)
{
    return memchr(p, '\n', (size_t)(end - p));
}

/* Judges the request line [p, eol) (eol at '\n'). */
static unsigned request_line(const char *p, const char *eol, char *detail, size_t len)
{
    if (eol > p && eol[-1] == '\r') eol--;
    const char *q = p;
    while (q < eol && is_tchar((unsigned char)*q))
        q++;
    if (q == p || q == eol || *q != ' ') goto bad;
    const char *target = ++q;
    while (q < eol && (unsigned char)*q > ' ' && *q != 0x7f)
        q++;
    if (q == target || q == eol || *q != ' ') goto bad;
    const char *v = q + 1;
    if (eol - v != 8 || strncmp(v, "HTTP/", 5) || !is_digit(v[5]) || v[6] != '.' || !is_digit(v[7]))
        goto bad;
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
        snprintf(detail, len, "HTTP version not supported: %.8s", v);
        return 505;
    }
    return 0;
bad:
    snprintf(detail, len, "malformed request line");
    return 400;
}

/* Judges one header line [p, eol); 0 unless it is a bad Content-Length. */
static unsigned header_line(const char *p, const char *eol, char *detail, size_t len)
{
    static const char name[] = "content-length:";
    if (eol > p && eol[-1] == '\r') eol--;
    if ((size_t)(eol - p) < sizeof(name) - 1 || strncasecmp(p, name, sizeof(name) - 1)) return 0;
    const char *v = p + sizeof(name) - 1, *e = eol;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    uint64_t n = 0;
    int over = 0;
    for (const char *d = v; d < e; d++) {
        if (!is_digit(*d)) {
            snprintf(detail, len, "Content-Length is not a number");
            return 400;
        }
        over |= n > (UINT64_MAX - 9) / 10;
        n = n * 10 + (uint64_t)(*d - '0');
    }
    if (v == e) {
        snprintf(detail, len, "Content-Length is not a number");
        return 400;
    }
    if (over || n > INT64_MAX) {
        snprintf(detail, len, "Request body too large");
        return 413;
    }
    return 0;
}

unsigned prescreen(const char *data, size_t n, char *detail, size_t len)
{
    const char *p = data, *end = data + n;
    while (p < end && (*p == '\r' || *p == '\n')) /* empty lines before a request (RFC 9112 2.2) */
        p++;
    const char *eol = p < end ? line_end(p, end) : NULL;
    if (!eol) return 0;
    unsigned st = request_line(p, eol, detail, len);
    for (p = eol + 1; !st && p < end; p = eol + 1) {
        if (*p == '\r' || *p == '\n') break; /* the blank line: the headers are over */
        if (!(eol = line_end(p, end))) break;
        st = header_line(p, eol, detail, len);
    }
    return st;
}
