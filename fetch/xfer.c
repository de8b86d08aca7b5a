/*
 * xfer.c - one outbound fetch's easy handle (xfer.h).
 */
#include "xfer.h"

#include <string.h>
#include <sys/socket.h>

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    fetch_xfer *x = arg;
    (void)p; /* counted, not kept */
    x->bytes += (curl_off_t)(size * n);
    return x->bytes > x->max_bytes ? 0 : size * n; /* 0 ends the transfer (CURLE_WRITE_ERROR) */
}

/* Runs before every socket libcurl makes: only the target's addresses. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    fetch_xfer *x = arg;
    if (purpose != CURLSOCKTYPE_IPCXN || !fetch_target_allows(&x->target, &a->addr)) {
        x->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int set_options(fetch_xfer *x, const fetch_limits *lim)
{
    CURL *e = x->easy;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_CURLU, x->target.url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, ""); /* not the environment's http_proxy */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS,
        lim->connect_ms < lim->total_ms ? lim->connect_ms : lim->total_ms);
    SET(CURLOPT_TIMEOUT_MS, lim->total_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, lim->max_bytes);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SET(CURLOPT_OPENSOCKETDATA, x);
    SET(CURLOPT_ERRORBUFFER, x->error);
    SET(CURLOPT_USERAGENT, "iocpu");
    SET(CURLOPT_PRIVATE, x);
    if (x->resolve) SET(CURLOPT_RESOLVE, x->resolve);
#undef SET
    return rc == CURLE_OK ? 0 : -1;
}

int fetch_xfer_init(fetch_xfer *x, fetch_target *t, const fetch_limits *lim)
{
    memset(x, 0, sizeof(*x));
    x->target = *t;
    memset(t, 0, sizeof(*t));
    x->max_bytes = lim->max_bytes;
    x->easy = curl_easy_init();
    if (x->target.resolve[0] && !(x->resolve = curl_slist_append(NULL, x->target.resolve))) {
        fetch_xfer_cleanup(x);
        return -1;
    }
    if (!x->easy || set_options(x, lim) < 0) {
        fetch_xfer_cleanup(x);
        return -1;
    }
    return 0;
}

void fetch_xfer_perform(fetch_xfer *x)
{
    x->result = curl_easy_perform(x->easy);
}

void fetch_xfer_perform_until(fetch_xfer *x, int (*stop)(void *arg), void *arg)
{
    CURLM *m = curl_multi_init();
    if (!m || curl_multi_add_handle(m, x->easy) != CURLM_OK) {
        x->result = CURLE_OUT_OF_MEMORY;
        curl_multi_cleanup(m);
        return;
    }
    int running = 1;
    x->result = CURLE_OK;
    while (running) {
        if (stop(arg)) {
            x->result = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        if (curl_multi_perform(m, &running) != CURLM_OK ||
            (running && curl_multi_poll(m, NULL, 0, 50, NULL) != CURLM_OK)) {
            x->result = CURLE_RECV_ERROR;
            break;
        }
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE) x->result = msg->data.result;
    curl_multi_remove_handle(m, x->easy);
    curl_multi_cleanup(m);
}

static double phase(CURL *e, CURLINFO what, curl_off_t *prev)
{
    curl_off_t us = 0;
    curl_easy_getinfo(e, what, &us);
    if (us < *prev) us = *prev; /* a phase that did not happen (no TLS) reads 0 */
    double d = (double)(us - *prev) / 1e6;
    *prev = us;
    return d;
}

enum fetch_outcome fetch_xfer_finish(fetch_xfer *x)
{
    curl_off_t at = 0, total = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    x->phases.dns = phase(x->easy, CURLINFO_NAMELOOKUP_TIME_T, &at);
    x->phases.connect = phase(x->easy, CURLINFO_CONNECT_TIME_T, &at);
    x->phases.tls = phase(x->easy, CURLINFO_APPCONNECT_TIME_T, &at);
    x->phases.first_byte = phase(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &at);
    x->phases.download = phase(x->easy, CURLINFO_TOTAL_TIME_T, &at);
    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total);
    x->phases.total = (double)total / 1e6;
    if (x->refused) return FETCH_REFUSED;
    switch (x->result) {
    case CURLE_OK:
        return FETCH_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return FETCH_TIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return FETCH_TOO_LARGE;
    case CURLE_WRITE_ERROR:
        return x->bytes > x->max_bytes ? FETCH_TOO_LARGE : FETCH_FAILED;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return FETCH_UNREACHABLE;
    default:
        return FETCH_FAILED;
    }
}

const char *fetch_outcome_name(enum fetch_outcome o)
{
    static const char *const NAMES[FETCH_OUTCOMES] = {"ok",      "refused",   "unreachable",
                                                      "timeout", "too_large", "failed"};
    return o < FETCH_OUTCOMES ? NAMES[o] : "failed";
}

unsigned fetch_outcome_status(enum fetch_outcome o)
{
    return o == FETCH_OK ? 200 : o == FETCH_REFUSED ? 403 : o == FETCH_TIMEOUT ? 504 : 502;
}

void fetch_xfer_cleanup(fetch_xfer *x)
{
    if (x->multi_ && x->detach_) x->detach_(x);
    if (x->easy) curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->resolve);
    fetch_target_free(&x->target);
    x->easy = NULL;
    x->resolve = NULL;
}
