/*
 * http_conn.h - a connection's own state (MHD's socket context), for http.c:
 * our watch on its socket and its receive deadline (--header-timeout).
 *
 * The watch (edge-triggered) reports a client that hangs up while its
 * request is suspended (MHD does not notice that itself) and, with
 * --header-timeout, the arrival of bytes while no request is under way: the
 * first bytes of a request arm its deadline. The client then has
 * --header-timeout seconds to deliver the headers, and once they are in, as
 * long again for the body. A deadline that passes shuts the socket down, so
 * libmicrohttpd sees it hang up and closes the connection (0.9.75 has no call
 * that closes a connection outside the access handler, and its own timeout
 * is an idle timeout: a byte every few seconds resets it). Requests that are
 * in and wait (sleepers, streams, jobs) and idle keep-alive connections have
 * no deadline: --conn-timeout governs those.
 *
 * http.c owns the requests: it opens a connection's state with the callback
 * that reads its socket events (a hang-up ends the waiting request; bytes
 * arm the deadline through http_conn_bytes()), so nothing here calls back
 * into http.c.
 *
 * Threads: loop thread only.
 */
#ifndef IOCPU_HTTP_CONN_H
#define IOCPU_HTTP_CONN_H

#include <microhttpd.h>

#include "app.h"
#include "deadline.h"
#include "headscreen.h"
#include "loop.h"

typedef struct http_req http_req;

typedef struct http_conn {
    app *app;
    loop_watcher w;         /* our watch on the socket (w.fd is always set) */
    deadline_entry rx;      /* armed while a request is being received */
    http_req *req;          /* the request under way, from its headers to its end */
    http_req *waiting;      /* that request while it is suspended */
    headscreen head;        /* the next request's head while it comes in pieces */
    list_node head_link;    /* in app->http.heads while head.buf is kept */
    unsigned gone : 1;      /* the peer hung up while no request waited */
    unsigned timed_out : 1; /* its receive deadline passed: the socket is shut down */
    unsigned refused : 1;   /* answered by prescreen (prescreen.h): the socket is shut down */
} http_conn;

/* The state of MHD connection c of a's daemon, its socket events going to
 * cb (w->data is the http_conn); NULL when out of memory (its requests then
 * cannot wait). */
http_conn *http_conn_open(app *a, struct MHD_Connection *c, loop_io_cb cb);
/* MHD is closing the connection (its socket is still open): leave our set, free. */
void http_conn_close(http_conn *hc);
/* Bytes came while no request is under way: the first of the next one. */
void http_conn_bytes(http_conn *hc);
/* Just before MHD_run(): looks again at every head that came in part, so
 * that a piece that arrived since the poll is seen before MHD reads it. */
void http_conn_heads_due(app *a);
/* Puts the socket in our epoll set if it is not yet (to see a hang-up while
 * a request waits). 0, or -errno: a hang-up is then only seen at the end. */
int http_conn_watch(http_conn *hc);
/* r's headers are in (first access-handler call): its body gets a new window. */
void http_conn_headers_in(http_conn *hc, http_req *r);
/* The request is fully received, or answered before its body came: no deadline. */
void http_conn_received(http_conn *hc);
/* The request ended: the first bytes of the next one arm a new deadline. */
void http_conn_request_done(http_conn *hc);
/* The app's receive-deadline callback (app->rxq): shuts the connection down. */
void http_conn_expired(deadline_queue *q, deadline_entry *e);

#endif
