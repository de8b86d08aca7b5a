/*
 * reqlimits.c - request target, query parameter and header limits (reqlimits.h).
 */
#include "reqlimits.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static enum MHD_Result count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    reqlimits_usage *u = cls;
    (void)kind;
    u->params++;
    u->nul_params += strlen(key) != key_size || (value && strlen(value) != value_size);
    /* "?" or "&" before it, the name, "=value" when there is a value */
    u->url_bytes += 1 + key_size + (value ? 1 + value_size : 0);
    return MHD_YES;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    reqlimits_usage *u = cls;
    (void)kind;
    (void)value;
    u->header_bytes += key_size + 2 + value_size + 2;
    u->content_lengths += !strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH);
    u->transfer_encodings += !strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    u->hosts += !strcasecmp(key, MHD_HTTP_HEADER_HOST);
    int bad = key_size == 0;
    for (size_t i = 0; i < key_size; i++)
        bad |= (unsigned char)key[i] <= ' ' || key[i] == 0x7f;
    u->bad_names += (size_t)bad;
    return MHD_YES;
}

void reqlimits_measure(struct MHD_Connection *c, const char *path, const char *version,
                       reqlimits_usage *u)
{
    memset(u, 0, sizeof(*u));
    u->url_bytes = strlen(path);
    u->http11 = version && !strcmp(version, MHD_HTTP_VERSION_1_1);
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, count_arg, u);
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, count_header, u);
}

unsigned reqlimits_judge(const reqlimits_usage *u, const config *cfg, char *detail, size_t len)
{
    if (u->content_lengths > 1 || (u->content_lengths && u->transfer_encodings)) {
        snprintf(detail, len, "%s",
                 u->content_lengths > 1 ? "more than one Content-Length header"
                                        : "both Content-Length and Transfer-Encoding");
        return 400;
    }
    if (u->bad_names) {
        snprintf(detail, len, "invalid header name (a space or control character in it)");
        return 400;
    }
    if (u->http11 && u->hosts != 1) {
        snprintf(detail, len, "%s", u->hosts ? "more than one Host header" : "missing Host header");
        return 400;
    }
    if (u->url_bytes > (size_t)cfg->max_url) {
        snprintf(detail, len, "URI too long: %zu bytes, the limit is %ld", u->url_bytes,
                 cfg->max_url);
        return 414;
    }
    if (u->params > (size_t)cfg->max_params) {
        snprintf(detail, len, "too many query parameters: %zu, the limit is %ld", u->params,
                 cfg->max_params);
        return 414;
    }
    if (u->header_bytes > (size_t)cfg->max_header_bytes) {
        snprintf(detail, len, "request headers too large: %zu bytes, the limit is %ld",
                 u->header_bytes, cfg->max_header_bytes);
        return 431;
    }
    return 0;
}

/* The last coding of a Transfer-Encoding list, without spaces, in out. */
static void last_coding(const char *te, char *out, size_t len)
{
    const char *comma = strrchr(te, ',');
    const char *p = comma ? comma + 1 : te;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, " \t;");
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

unsigned reqlimits_transfer_encoding(const char *te, char *detail, size_t len)
{
    char last[32];
    last_coding(te, last, sizeof(last));
    if (strcasecmp(last, "chunked")) {
        snprintf(detail, len, "Transfer-Encoding must end with chunked");
        return 400;
    }
    if (strchr(te, ',')) { /* gzip, chunked: a coding before chunked */
        snprintf(detail, len, "Transfer-Encoding other than chunked is not implemented");
        return 501;
    }
    return 0;
}
