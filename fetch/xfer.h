/*
 * xfer.h - one outbound HTTP fetch: a libcurl easy handle set up so that it
 * can reach only the target that passed the allow-list check (allow.h), and
 * how its end is read (status, bytes, phases, the outcome).
 *
 * The handle: http and https only (CURLOPT_PROTOCOLS_STR, also for
 * redirects), no redirect followed (a 3xx is reported as it came), no proxy
 * (the environment's *_proxy variables are ignored), the target's name pinned
 * to the addresses found at startup (CURLOPT_RESOLVE: no DNS query is made),
 * every socket checked against them before it is made
 * (CURLOPT_OPENSOCKETFUNCTION), a connect and a total timeout, and a cap on
 * the response body (CURLOPT_MAXFILESIZE_LARGE for a declared length, the
 * write callback for the rest). The body is counted, not kept.
 *
 * A transfer belongs to one thread at a time: the loop's (multi.h) or the one
 * running fetch_xfer_perform().
 */
#ifndef IOCPU_FETCH_XFER_H
#define IOCPU_FETCH_XFER_H

#include <curl/curl.h>

#include "allow.h"

typedef struct fetch_limits {
    long connect_ms;      /* connect timeout */
    long total_ms;        /* the whole transfer */
    curl_off_t max_bytes; /* response body bytes */
} fetch_limits;

/* How a fetch ended, in the order of the metrics' outcome label. */
enum fetch_outcome {
    FETCH_OK,          /* a response came (any status) */
    FETCH_REFUSED,     /* the socket check turned the connection down: 403 */
    FETCH_UNREACHABLE, /* refused or unreachable upstream: 502 */
    FETCH_TIMEOUT,     /* connect or total timeout: 504 */
    FETCH_TOO_LARGE,   /* the body went over the cap: 502 */
    FETCH_FAILED,      /* any other transfer error (reset, bad response): 502 */
    FETCH_OUTCOMES
};

typedef struct fetch_xfer fetch_xfer;
typedef void (*fetch_done_cb)(fetch_xfer *x);

/* Times in seconds, each phase on its own (not cumulative). */
typedef struct fetch_phases {
    double dns, connect, tls, first_byte, download, total;
} fetch_phases;

struct fetch_xfer {
    CURL *easy;
    fetch_target target;
    struct curl_slist *resolve;
    curl_off_t bytes, max_bytes;
    int refused; /* set by the socket check */
    CURLcode result;
    long status;
    fetch_phases phases;
    char error[CURL_ERROR_SIZE];
    /* the loop's side (multi.c) */
    fetch_done_cb cb;
    void *data;
    struct fetch_multi *multi_;
    void (*detach_)(fetch_xfer *x); /* takes it off multi_ (set by multi.c) */
};

/* Sets up x for t (taken over: x frees it) under lim. 0, or -1 (out of
 * memory; x is cleaned up). */
int fetch_xfer_init(fetch_xfer *x, fetch_target *t, const fetch_limits *lim);
/* Runs the transfer on the calling thread until it ends (it blocks). */
void fetch_xfer_perform(fetch_xfer *x);
/* The same on a thread that must be able to give up (an IO pool thread): the
 * transfer runs on a private multi handle and the thread waits in slices of
 * 50 ms, asking stop(arg) between them; when it says 1 the transfer ends with
 * CURLE_ABORTED_BY_CALLBACK (and its connection is closed). */
void fetch_xfer_perform_until(fetch_xfer *x, int (*stop)(void *arg), void *arg);
/* After the end: reads status and phases and classifies the result. */
enum fetch_outcome fetch_xfer_finish(fetch_xfer *x);
/* The outcome's label ("ok", "refused", ...) and HTTP status (200, 403, 502, 504). */
const char *fetch_outcome_name(enum fetch_outcome o);
unsigned fetch_outcome_status(enum fetch_outcome o);
/* Frees the handle and the target (a transfer still on a multi is taken off
 * it first: its connection is closed). */
void fetch_xfer_cleanup(fetch_xfer *x);

#endif
