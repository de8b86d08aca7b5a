/*
 * prescreen.c - see prescreen.h. The grammar (RFC 9110 5.6.2, RFC 9112 3):
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   method       = token (tchar: ALPHA DIGIT !#$%&'*+-.^_`|~)
 *   request-target: visible ASCII, no spaces
 *   HTTP-version = "HTTP/" DIGIT "." DIGIT (1.0 and 1.1 are served)
 *   Content-Length = 1*DIGIT, surrounded by optional spaces or tabs
 *   header-field = field-name ":" OWS field-value OWS (the value counted
 *                  without its OWS, as libmicrohttpd stores it)
 */
#include "prescreen.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* What has been seen of the request so far. */
typedef struct seen {
    size_t header_bytes; /* the sum of "Name: value\r\n" */
    size_t entries;      /* headers, query parameters and cookies */
    size_t copies;       /* bytes libmicrohttpd copies (the Cookie header) */
    size_t line_bytes;   /* the request line, complete or not */
    size_t params;       /* query parameters (entries too) */
    size_t lengths;      /* Content-Length headers */
    uint64_t length;     /* the last one's value */
    int chunked;         /* a Transfer-Encoding header */
} seen;

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

static size_t count_char(const char *p, const char *end, char c)
{
    size_t k = 0;
    for (; p < end && (p = memchr(p, c, (size_t)(end - p))); p++)
        k++;
    return k;
}

/* Judges the request line [p, eol) (eol at '\n'). */
static unsigned request_line(const char *p, const char *eol, seen *s, char *detail, size_t len)
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
    const char *query = memchr(target, '?', (size_t)(q - target));
    if (query) s->params = 1 + count_char(query, q, '&');
    s->entries += s->params;
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

/* Judges a Content-Length value [v, e) (without its OWS) into s. */
static unsigned content_length(const char *v, const char *e, seen *s, char *detail, size_t len)
{
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
    s->lengths++;
    s->length = n;
    return 0;
}

/* Counts one header line [p, eol) and judges it if it is a Content-Length. */
static unsigned header_line(const char *p, const char *eol, seen *s, char *detail, size_t len)
{
    if (eol > p && eol[-1] == '\r') eol--;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    const char *v = colon ? colon + 1 : eol, *e = eol;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t name = (size_t)((colon ? colon : eol) - p);
    s->header_bytes += name + 2 + (size_t)(e - v) + 2;
    s->entries++;
    if (name == 6 && !strncasecmp(p, "cookie", 6)) { /* copied, then one entry per cookie */
        s->copies += (size_t)(e - v) + 1;
        s->entries += 1 + count_char(v, e, ';');
    }
    s->chunked |= name == 17 && !strncasecmp(p, "transfer-encoding", 17);
    if (name == 14 && !strncasecmp(p, "content-length", 14))
        return content_length(v, e, s, detail, len);
    return 0;
}

/* Judges the sizes of what was seen: bytes [start, end) of request line and
 * headers (the last line maybe incomplete), counted into s. */
static unsigned sizes(const char *start, const char *end, const seen *s,
                      const prescreen_limits *lim, char *detail, size_t len)
{
    if (!lim) return 0;
    if (s->header_bytes > lim->max_header_bytes) {
        snprintf(detail, len, "request headers too large: %zu bytes, the limit is %zu",
                 s->header_bytes, lim->max_header_bytes);
        return 431;
    }
    size_t cost = (size_t)(end - start) + s->copies + s->entries * PRESCREEN_ENTRY_COST +
                  PRESCREEN_ANSWER_RESERVE;
    if (cost <= lim->conn_memory) return 0;
    int uri = s->line_bytes + s->params * PRESCREEN_ENTRY_COST + PRESCREEN_ANSWER_RESERVE >
              lim->conn_memory;
    snprintf(detail, len,
             "%s too large for the connection buffer: it needs about %zu bytes, "
             "--conn-memory is %zu",
             uri ? "request line" : "request headers", cost, lim->conn_memory);
    return uri ? 414 : 431;
}

/* The head is whole, ending at end (after its empty line): its framing. */
static void framing(const char *data, const char *end, const seen *s, prescreen_head *head)
{
    if (!head) return;
    head->complete = 1;
    head->head_len = (size_t)(end - data);
    head->body_len = s->chunked || s->lengths > 1 ? -1 : s->lengths ? (int64_t)s->length : 0;
}

/* The empty line at p (a header line's start): its end, or NULL if incomplete. */
static const char *empty_line(const char *p, const char *end)
{
    if (*p == '\n') return p + 1;
    return p + 1 < end && p[1] == '\n' ? p + 2 : NULL;
}

unsigned prescreen(const char *data, size_t n, const prescreen_limits *lim, prescreen_head *head,
                   char *detail, size_t len)
{
    const char *p = data, *end = data + n;
    if (head) head->complete = 0;
    while (p < end && (*p == '\r' || *p == '\n')) /* empty lines before a request (RFC 9112 2.2) */
        p++;
    const char *start = p, *eol = p < end ? line_end(p, end) : NULL;
    seen s = {.line_bytes = (size_t)((eol ? eol : end) - start)};
    unsigned st = eol ? request_line(p, eol, &s, detail, len) : 0;
    if (!eol) return sizes(start, end, &s, lim, detail, len); /* a request line too long */
    for (p = eol + 1; !st && p < end; p = eol + 1) {
        if (*p == '\r' || *p == '\n') { /* the empty line: the headers are over */
            const char *after = empty_line(p, end);
            st = sizes(start, p, &s, lim, detail, len);
            if (!st && after) framing(data, after, &s, head);
            return st;
        }
        if (!(eol = line_end(p, end))) break;
        st = header_line(p, eol, &s, detail, len);
    }
    return st ? st : sizes(start, end, &s, lim, detail, len);
}
