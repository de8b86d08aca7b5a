/*
 * admit.c - Host, Fetch Metadata and Content-Type admission (admit.h).
 */
#include "admit.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hostallow.h"
#include "numparse.h"

/* The paths a cross-site top-level navigation may open: the pages. */
static const char *const NAVIGABLE[] = {"/ui", "/docs", NULL};

static int is_path_navigable(const char *path)
{
    for (size_t i = 0; NAVIGABLE[i]; i++)
        if (!strcmp(path, NAVIGABLE[i])) return 1;
    return 0;
}

static int eq(const char *a, const char *b)
{
    return a && !strcmp(a, b);
}

unsigned admit_fetch_metadata(const char *site, const char *mode, const char *dest,
                              const char *method, const char *path, char *detail, size_t len)
{
    if (!site || eq(site, "same-origin") || eq(site, "same-site") || eq(site, "none")) return 0;
    int read_only = eq(method, "GET") || eq(method, "HEAD");
    if (eq(mode, "navigate") && eq(dest, "document") && read_only && is_path_navigable(path))
        return 0;
    snprintf(detail, len,
             "cross-site request refused (Sec-Fetch-Site); only a top-level "
             "navigation to /ui or /docs is allowed");
    return 403;
}

/* --- Content-Type (RFC 9110 8.3.1) ----------------------------------------- */

static int tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static size_t token_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && tchar(s[i]))
        i++;
    return i;
}

static size_t ows_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* A quoted-string at s[0] == '"': its length with the quotes (0 if it does
 * not end), its content unescaped into out (cut at cap - 1). */
static size_t quoted_len(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            out[o] = '\0';
            return i + 1;
        }
        if (c == '\\' && ++i == n) return 0;
        c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
        if (o + 1 < cap) out[o++] = (char)c;
    }
    return 0;
}

/* The parameters after a media type: 0 (*utf8 = 0 when a charset other
 * than utf-8 is named), or -1 when they do not parse. */
static int parameters(const char *s, size_t n, int *utf8)
{
    size_t i = 0;
    *utf8 = 1;
    for (;;) {
        i += ows_len(s + i, n - i);
        if (i == n) return 0;
        if (s[i++] != ';') return -1;
        i += ows_len(s + i, n - i);
        if (i == n || s[i] == ';') continue; /* an empty parameter */
        size_t name = token_len(s + i, n - i), at = i;
        if (!name || i + name == n || s[i + name] != '=') return -1;
        i += name + 1;
        char value[16] = "";
        size_t vl = i < n && s[i] == '"' ? quoted_len(s + i, n - i, value, sizeof(value))
                                         : token_len(s + i, n - i);
        if (!vl) return -1;
        if (s[i] != '"') snprintf(value, sizeof(value), "%.*s", (int)vl, s + i);
        if (name == 7 && !strncasecmp(s + at, "charset", 7) && strcasecmp(value, "utf-8"))
            *utf8 = 0;
        i += vl;
    }
}

unsigned admit_content_type(const char *ct, size_t n, char *detail, size_t len)
{
    const char *why = "Unsupported Media Type: a request body must be application/json";
    size_t type = ct ? token_len(ct, n) : 0;
    if (type && type < n && ct[type] == '/') {
        const char *sub = ct + type + 1;
        size_t sl = token_len(sub, n - type - 1);
        int json = type == 11 && !strncasecmp(ct, "application", 11) &&
                   ((sl == 4 && !strncasecmp(sub, "json", 4)) ||
                    (sl > 5 && !strncasecmp(sub + sl - 5, "+json", 5)));
        int utf8;
        if (sl && parameters(sub + sl, n - type - 1 - sl, &utf8) == 0 && json) {
            if (utf8) return 0;
            why = "Unsupported Media Type: a JSON body must be utf-8";
        }
    }
    snprintf(detail, len, "%s", why);
    return 415;
}

/* --- the request, through MHD ---------------------------------------------- */

static const char *header(struct MHD_Connection *c, const char *name, size_t *n)
{
    const char *v = NULL;
    size_t vn = 0;
    if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, name, strlen(name), &v, &vn) != MHD_YES)
        return NULL;
    *n = vn;
    return v;
}

unsigned admit_request(struct MHD_Connection *c, const config *cfg, const char *method,
                       const char *path, int cors_listed, char *detail, size_t len)
{
    size_t n = 0, ignored;
    const char *host = header(c, MHD_HTTP_HEADER_HOST, &n);
    if (!hostallow_admits(cfg->allowed_hosts, cfg->host, host, n)) {
        snprintf(detail, len, "Invalid host header");
        return 400;
    }
    const char *mode = header(c, "Sec-Fetch-Mode", &ignored);
    if (cors_listed && eq(mode, "cors")) return 0; /* a --cors-origin page's fetch (cors.h) */
    return admit_fetch_metadata(header(c, "Sec-Fetch-Site", &ignored), mode,
                                header(c, "Sec-Fetch-Dest", &ignored), method, path, detail, len);
}

unsigned admit_body(struct MHD_Connection *c, char *detail, size_t len)
{
    size_t n = 0;
    int64_t declared = 0;
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH, &n);
    int body = header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING, &n) != NULL ||
               (cl && parse_int64(cl, &declared) == 0 && declared > 0);
    if (!body) return 0;
    const char *ct = header(c, MHD_HTTP_HEADER_CONTENT_TYPE, &n);
    return admit_content_type(ct, ct ? n : 0, detail, len);
}
