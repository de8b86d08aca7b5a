/*
 * reqlimits.h - the request-size limits iocpu checks itself, before any handler
 * runs: the request target (--max-url), the number of query parameters
 * (--max-params) and the request headers (--max-header-bytes). Each is below
 * what libmicrohttpd's per-connection memory (--conn-memory) can hold, so a
 * client over one gets a JSON answer in the contract's shape; a request too
 * big for that memory never reaches iocpu (MHD answers it itself, see the
 * README's "Limits and failure behaviour"). It also refuses a request whose
 * body framing is ambiguous (two Content-Lengths, or one with
 * Transfer-Encoding), which RFC 9112 says must not be trusted.
 * Loop thread only (it reads the request through MHD).
 */
#ifndef IOCPU_REQLIMITS_H
#define IOCPU_REQLIMITS_H

#include <microhttpd.h>
#include <stddef.h>

#include "config.h"

/* What one request uses of each limit. */
typedef struct reqlimits_usage {
    size_t url_bytes;    /* path + "?" + each name[=value] joined by "&", after decoding */
    size_t params;       /* query parameters (a repeated name counts each time) */
    size_t header_bytes; /* each "Name: value\r\n" */
    size_t content_lengths, transfer_encodings; /* headers of each name */
    size_t hosts;                               /* Host headers */
    size_t bad_names;  /* header names that are empty or hold a space, tab or control */
    size_t nul_params; /* query names or values that hold a NUL byte (%00) */
    int http11;        /* the request says HTTP/1.1 (which requires Host) */
} reqlimits_usage;

/* Measures a request whose headers have been read; path is MHD's url,
 * version its protocol ("HTTP/1.1"). O(params + headers). */
void reqlimits_measure(struct MHD_Connection *c, const char *path, const char *version,
                       reqlimits_usage *u);

/*
 * The first limit u is over, in the order framing, header syntax (a name
 * with a space before its colon, HTTP/1.1 without one Host: RFC 9112 says
 * 400), URL, parameters, headers:
 * returns its status (400, 414 or 431) and writes a one-line {"detail"} text
 * into detail; 0 when every limit holds. After a 400 the connection must be
 * closed: where this body ended, and so where a next request would begin,
 * is not known. Pure.
 */
unsigned reqlimits_judge(const reqlimits_usage *u, const config *cfg, char *detail, size_t len);

/*
 * A request's Transfer-Encoding (RFC 9112 6.1): 0 when it is "chunked" (the
 * one coding libmicrohttpd decodes), 400 when chunked is not the final coding
 * (the body's end cannot be found), 501 for any other coding; detail says
 * which. Pure.
 */
unsigned reqlimits_transfer_encoding(const char *te, char *detail, size_t len);

#endif
