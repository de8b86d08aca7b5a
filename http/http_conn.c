/*
 * http_conn.c - per-connection state: the socket watch and the receive
 * deadline (http_conn.h).
 *
 * A connection's deadline: armed by the first bytes that arrive while no
 * request is under way (EPOLLIN edge on our watch), re-armed when MHD hands
 * us the request's headers (the body's window), disarmed once the request is
 * fully received or answered. The edge is ours only if MHD has not read the
 * bytes before our epoll_wait reports them (an edge-triggered event whose
 * data is gone is not reported): bytes that arrive while the loop sleeps wake
 * both sets in the same epoll_wait, and bytes already there when MHD accepts
 * the connection (which it reads at once) are found with FIONREAD. So the
 * first byte arms it; should an edge still be lost, the next byte does (a
 * client that sends nothing more is idle, and --conn-timeout's).
 *
 * The cost with --header-timeout on: an epoll_ctl and an ioctl per
 * connection at accept (not only for those that wait), one more epoll event
 * per request that arrives, and a few pointer writes in the deadline FIFO.
 * With --header-timeout 0 the socket joins our set only when a request first
 * waits, as before.
 */
#define _GNU_SOURCE
#include "http_conn.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

void http_conn_bytes(http_conn *hc)
{
    if (!hc->req && !hc->timed_out && !deadline_armed(&hc->rx))
        deadline_arm(&hc->app->http.rxq,
                     &hc->rx); /* on -ENOMEM: no deadline, the idle timeout holds */
}

int http_conn_watch(http_conn *hc)
{
    if (hc->w.active_) return 0;
    if (hc->w.fd < 0) return -EBADF;
    return loop_watch(hc->app->loop, &hc->w, EPOLLRDHUP | EPOLLET);
}

void http_conn_headers_in(http_conn *hc, http_req *r)
{
    hc->req = r;
    if (!hc->timed_out) deadline_arm(&hc->app->http.rxq, &hc->rx);
}

void http_conn_received(http_conn *hc)
{
    deadline_disarm(&hc->app->http.rxq, &hc->rx);
}

void http_conn_request_done(http_conn *hc)
{
    hc->req = NULL;
    deadline_disarm(&hc->app->http.rxq, &hc->rx);
}

void http_conn_expired(deadline_queue *q, deadline_entry *e)
{
    http_conn *hc = (http_conn *)((char *)e - offsetof(http_conn, rx));
    (void)q;
    hc->timed_out = 1;
    /* MHD's epoll set reports the hang-up; it closes the connection in this
     * iteration's MHD_run() (the socket stays open until then) */
    shutdown(hc->w.fd, SHUT_RDWR);
    hc->app->http.rx_timeouts++;
}

http_conn *http_conn_open(app *a, struct MHD_Connection *c, loop_io_cb cb)
{
    http_conn *hc = calloc(1, sizeof(http_conn));
    if (!hc) return NULL;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    hc->app = a;
    hc->w.fd = ci ? ci->connect_fd : -1;
    hc->w.cb = cb;
    hc->w.data = hc;
    if (a->cfg.header_timeout > 0 && hc->w.fd >= 0) {
        /* on failure the connection has no receive deadline (the idle
         * timeout still holds) */
        loop_watch(a->loop, &hc->w, EPOLLIN | EPOLLRDHUP | EPOLLET);
        /* bytes sent before the accept: MHD reads them in this very
         * MHD_run(), before our epoll_wait could report them */
        int avail = 0;
        if (ioctl(hc->w.fd, FIONREAD, &avail) == 0 && avail > 0)
            deadline_arm(&a->http.rxq, &hc->rx);
    }
    return hc;
}

void http_conn_close(http_conn *hc)
{
    loop_unwatch(hc->app->loop, &hc->w);
    deadline_disarm(&hc->app->http.rxq, &hc->rx);
    free(hc);
}
