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
} reqlimits_usage;

/* Measures a request whose headers have been read; path is MHD's url. O(params + headers). */
void reqlimits_measure(struct MHD_Connection *c, const char *path, reqlimits_usage *u);

/*
 * The first limit u is over, in the order framing, URL, parameters, headers:
 * returns its status (400, 414 or 431) and writes a one-line {"detail"} text
 * into detail; 0 when every limit holds. After a 400 the connection must be
 * closed: where this body ended, and so where a next request would begin,
 * is not known. Pure.
 */
unsigned reqlimits_judge(const reqlimits_usage *u, const config *cfg, char *detail, size_t len);

#endif
