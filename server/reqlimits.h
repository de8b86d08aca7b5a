/*
 * reqlimits.h - the request-size limits iocpu checks itself, before any handler
 * runs: the request target (--max-url), the number of query parameters
 * (--max-params) and the request headers (--max-header-bytes). Each is below
 * what libmicrohttpd's per-connection memory (--conn-memory) can hold, so a
 * client over one gets a JSON answer in the contract's shape; a request too
 * big for that memory never reaches iocpu (MHD answers it itself, see the
 * README's "Limits and failure behaviour").
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
} reqlimits_usage;

/* Measures a request whose headers have been read; path is MHD's url. O(params + headers). */
void reqlimits_measure(struct MHD_Connection *c, const char *path, reqlimits_usage *u);

/*
 * The first limit u is over, in the order URL, parameters, headers: returns
 * its status (414 or 431) and writes a one-line {"detail"} text into detail;
 * 0 when every limit holds. Pure.
 */
unsigned reqlimits_judge(const reqlimits_usage *u, const config *cfg, char *detail, size_t len);

#endif
