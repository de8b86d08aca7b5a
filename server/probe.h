/*
 * probe.h - `iocpu --probe URL`: a tiny HTTP/1.0 client for container health
 * checks (the image has no curl). GET the URL, succeed on a 2xx status.
 * Plain sockets, one connection, one bounded deadline for everything.
 */
#ifndef IOCPU_PROBE_H
#define IOCPU_PROBE_H

#include <stddef.h>

/* Probe results. */
enum {
    PROBE_OK = 0,      /* a 2xx status */
    PROBE_STATUS = 1,  /* the server answered with another status */
    PROBE_FAILED = 2,  /* no answer: refused, timed out, not HTTP */
    PROBE_BAD_URL = 3, /* not http://host[:port][/path] */
};

/*
 * GETs url ("http://host[:port][/path]", host a name, an IPv4 address or
 * [IPv6]) within timeout_ms in total (connect, send, read the status line).
 * Returns one of the PROBE_* values; *status gets the HTTP status (0 if
 * none). err (may be NULL) gets a one-line reason on failure.
 */
int probe_url(const char *url, int timeout_ms, int *status, char *err, size_t errlen);

/*
 * main() of `iocpu --probe URL [TIMEOUT_MS]`: prints nothing on success, the
 * reason on stderr otherwise; returns the exit code (PROBE_*).
 */
int probe_main(int argc, char **argv);

#endif
