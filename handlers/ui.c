/*
 * ui.c - GET /ui, the live page, GET /docs, the API page, and the route table it shares with the
 * sample stream it draws (GET /loop/stream, handlers/loopstream.c).
 *
 * The page is ui/index.html with its stylesheet and scripts inlined
 * (cmake/inline.cmake), embedded as a C string at build time
 * (cmake/embed.cmake): one self-contained response, nothing else to fetch.
 *
 * Threads: the handler runs on the loop thread.
 */
#include <stddef.h>

#include "common.h"
#include "handlers.h"
#include "loopstream.h"

/* Generated at build time from ui/ (see above). */
extern const char iocpu_ui_html[];
extern const unsigned long iocpu_ui_html_len;
/* Generated at build time from ui/docs/ the same way. */
extern const char iocpu_docs_html[];
extern const unsigned long iocpu_docs_html_len;

/* The page is embedded in the binary and sent from there. */
static void ui_page(http_req *r)
{
    http_add_header(r, "Cache-Control", "no-cache");
    http_respond_static(r, 200, "text/html; charset=utf-8", iocpu_ui_html, iocpu_ui_html_len);
}

/* The API page: built in the browser from /openapi.json. */
static void docs_page(http_req *r)
{
    http_add_header(r, "Cache-Control", "no-cache");
    http_respond_static(r, 200, "text/html; charset=utf-8", iocpu_docs_html, iocpu_docs_html_len);
}

static const route ROUTES[] = {
    {"GET", "/ui", ui_page,
     "a live page: watch the loop lag and a /healthz probe spike while /cpu/blocking runs, "
     "and stay flat while /cpu/executor does the same work"},
    {"GET", "/docs", docs_page,
     "interactive API docs built from /openapi.json: every endpoint, its bounds, and a form "
     "that shows the status, the body and the Server-Timing phases"},
    {"GET", "/loop/stream", loopstream_subscribe,
     "Server-Sent Events: the loop's lag, timers, connections and executor every 100 ms, "
     "each stream suspended between events (no thread held)"},
};

const http_group ui_group = {
    .name = "ui",
    .routes = ROUTES,
    .nroutes = sizeof(ROUTES) / sizeof(ROUTES[0]),
    .init = loopstream_init,
    .free = loopstream_free,
};
