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
 * the connection (which it reads at once) are peeked at then. So the
 * first byte arms it; should an edge still be lost, the next byte does (a
 * client that sends nothing more is idle, and --conn-timeout's).
 *
 * The cost with --header-timeout on: an epoll_ctl and a peek (MSG_PEEK) per
 * connection at accept (not only for those that wait), one more epoll event
 * per request that arrives, and a few pointer writes in the deadline FIFO.
 * With --header-timeout 0 the socket joins our set only when a request first
 * waits, as before.
 */
#define _GNU_SOURCE
#include "http_conn.h"

#include <errno.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_acked (glibc's lacks it) */
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

/* Answers a request prescreen() refused, in the contract's shape, and shuts
 * the socket down: libmicrohttpd then reads its end and closes the
 * connection without answering itself. */
static void refuse_early(http_conn *hc, unsigned status, const char *detail, uint64_t t0)
{
    const char *reason = status == 413   ? "Payload Too Large"
                         : status == 414 ? "URI Too Long"
                         : status == 431 ? "Request Header Fields Too Large"
                         : status == 505 ? "HTTP Version Not Supported"
                                         : "Bad Request";
    const config *cfg = &hc->app->cfg;
    char body[224], date[64], replica[96] = "", out[768];
    int blen = snprintf(body, sizeof(body), "{\"detail\":\"%s\"}", detail);
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    if (cfg->replica_id[0])
        snprintf(replica, sizeof(replica), "X-Iocpu-Replica: %s\r\n", cfg->replica_id);
    int n = snprintf(out, sizeof(out),
                     "HTTP/1.1 %u %s\r\nDate: %s\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nServer-Timing: total;dur=%.3f\r\n"
                     "X-Iocpu-Loop: %s\r\n%sContent-Length: %d\r\n\r\n%s",
                     status, reason, date, (double)(loop_now_ns() - t0) / 1e6, hc->app->index_text,
                     replica, blen, body);
    /* a new connection's send buffer is empty: the answer goes out whole */
    if (n > 0) (void)send(hc->w.fd, out, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(hc->w.fd, SHUT_RDWR);
    hc->refused = 1;
    hc->app->http.early_refusals++;
}

/* Bytes of a request's head are in the socket, not yet read by
 * libmicrohttpd: judge them (headscreen.h). Keeps hc in app->http.heads
 * while its head is incomplete. */
static headscreen_verdict screen(http_conn *hc)
{
    app_http *h = &hc->app->http;
    uint64_t t0 = loop_now_ns();
    char detail[192];
    unsigned status = 0;
    prescreen_limits lim = {.max_header_bytes = (size_t)hc->app->cfg.max_header_bytes,
                            .conn_memory = (size_t)hc->app->cfg.conn_memory};
    headscreen_verdict v = hc->head.buf
                               ? headscreen_more(&hc->head, hc->w.fd, h->peek, h->peek_cap, &lim,
                                                 &status, detail, sizeof(detail))
                               : headscreen_first(&hc->head, hc->w.fd, h->peek, h->peek_cap, &lim,
                                                  &status, detail, sizeof(detail));
    h->lost_heads += v == HEAD_LOST;
    if (v == HEAD_PENDING && !list_linked(&hc->head_link))
        list_insert_tail(&h->heads, &hc->head_link);
    if (v != HEAD_PENDING && v != HEAD_NOTHING) list_remove(&hc->head_link);
    if (v == HEAD_REFUSE) refuse_early(hc, status, detail, t0);
    return v;
}

void http_conn_bytes(http_conn *hc)
{
    if (hc->req || hc->timed_out || hc->refused) return;
    if (deadline_armed(&hc->rx) && !hc->head.buf) return; /* its head was judged already */
    headscreen_verdict v = screen(hc);
    if (v == HEAD_REFUSE || v == HEAD_NOTHING) return;
    if (!deadline_armed(&hc->rx)) /* on -ENOMEM: no deadline, the idle timeout holds */
        deadline_arm(&hc->app->http.rxq, &hc->rx);
}

void http_conn_heads_due(app *a)
{
    list_node *n, *tmp;
    list_foreach_safe (n, tmp, &a->http.heads)
        http_conn_bytes(list_entry(n, http_conn, head_link));
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
    if (hc->head.buf) headscreen_overtaken(&hc->head);
    list_remove(&hc->head_link);
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

int http_conn_sent(const http_conn *hc, uint64_t *acked, int *owed)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (hc->w.fd < 0 || getsockopt(hc->w.fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) return -1;
    if (len < offsetof(struct tcp_info, tcpi_notsent_bytes) + sizeof(ti.tcpi_notsent_bytes))
        return -1;
    *acked = ti.tcpi_bytes_acked;
    *owed = ti.tcpi_unacked > 0 || ti.tcpi_notsent_bytes > 0;
    return 0;
}

void http_conn_cut(http_conn *hc)
{
    if (hc->w.fd < 0) return;
    struct linger off = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(hc->w.fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
    shutdown(hc->w.fd, SHUT_RDWR);
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
    list_init(&hc->head_link);
    if (a->cfg.header_timeout > 0 && hc->w.fd >= 0) {
        /* on failure the connection has no receive deadline (the idle
         * timeout still holds) */
        hc->head.next_known = loop_watch(a->loop, &hc->w, EPOLLIN | EPOLLRDHUP | EPOLLET) == 0;
        /* bytes sent before the accept: MHD reads them in this very
         * MHD_run(), before our epoll_wait could report them, so they are
         * judged now (the peek finds none: nothing is armed; the listening
         * sockets defer the accept until the first bytes are in, and a
         * connection that sent nothing for that long has its bytes judged
         * when its socket reports them) */
        http_conn_bytes(hc);
    }
    return hc;
}

void http_conn_close(http_conn *hc)
{
    loop_unwatch(hc->app->loop, &hc->w);
    deadline_disarm(&hc->app->http.rxq, &hc->rx);
    headscreen_reset(&hc->head);
    list_remove(&hc->head_link);
    free(hc);
}
