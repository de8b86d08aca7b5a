/*
 * multi.c - a libcurl multi handle on the event loop (multi.h).
 *
 * One watcher per socket libcurl tells about (CURLMOPT_SOCKETFUNCTION). A
 * watcher is never freed while the loop runs: the loop may still hold a
 * pointer to it in the batch of events it is dispatching when libcurl lets go
 * of its socket, so it goes back to a free list and is reused (an event that
 * reaches a reused watcher only makes libcurl look at a socket that has
 * nothing for it, which it handles).
 */
#include "multi.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "list.h"

typedef struct sock_watch {
    loop_watcher w;
    fetch_multi *m;
    list_node link; /* in m->used or m->spare */
} sock_watch;

struct fetch_multi {
    loop *l;
    CURLM *curl;
    timer t;
    size_t nxfers, nsocks;
    list_node used, spare;
};

static void check_done(fetch_multi *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->curl, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        fetch_xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        x->result = msg->data.result;
        fetch_multi_remove(x);
        x->cb(x); /* may free x, and take other transfers off */
    }
}

static void on_socket_ready(loop_watcher *w, uint32_t events)
{
    sock_watch *s = w->data;
    int flags = (events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
    int running;
    fetch_multi *m = s->m;
    curl_multi_socket_action(m->curl, w->fd, flags, &running);
    check_done(m);
}

static void on_timeout(timer *t)
{
    fetch_multi *m = t->data;
    int running;
    curl_multi_socket_action(m->curl, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(m);
}

static void release(fetch_multi *m, sock_watch *s)
{
    loop_unwatch(m->l, &s->w);
    list_remove(&s->link);
    list_insert_tail(&m->spare, &s->link);
    m->nsocks--;
}

static sock_watch *acquire(fetch_multi *m)
{
    sock_watch *s;
    if (!list_empty(&m->spare)) {
        s = list_entry(m->spare.next, sock_watch, link);
        list_remove(&s->link);
    } else if (!(s = calloc(1, sizeof(*s)))) {
        return NULL;
    }
    s->m = m;
    s->w.cb = on_socket_ready;
    s->w.data = s;
    list_insert_tail(&m->used, &s->link);
    m->nsocks++;
    return s;
}

/* CURLMOPT_SOCKETFUNCTION: what libcurl wants to wait for on fd. */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
    fetch_multi *m = arg;
    sock_watch *s = sockp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (s) release(m, s);
        curl_multi_assign(m->curl, fd, NULL);
        return 0;
    }
    if (!s) {
        if (!(s = acquire(m))) return -1;
        s->w.fd = fd;
        curl_multi_assign(m->curl, fd, s);
    }
    uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    return loop_watch(m->l, &s->w, ev) < 0 ? -1 : 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl's one timeout, as a loop timer. */
static int on_timer(CURLM *c, long ms, void *arg)
{
    fetch_multi *m = arg;
    (void)c;
    loop_timer_cancel(m->l, &m->t);
    if (ms < 0) return 0;
    return loop_timer_start(m->l, &m->t, (uint64_t)ms * 1000000u, on_timeout, m) < 0 ? -1 : 0;
}

int fetch_multi_new(loop *l, fetch_multi **out)
{
    fetch_multi *m = calloc(1, sizeof(*m));
    if (!m || !(m->curl = curl_multi_init())) {
        free(m);
        return -ENOMEM;
    }
    m->l = l;
    list_init(&m->used);
    list_init(&m->spare);
    curl_multi_setopt(m->curl, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m->curl, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->curl, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m->curl, CURLMOPT_TIMERDATA, m);
    *out = m;
    return 0;
}

void fetch_multi_free(fetch_multi *m)
{
    if (!m) return;
    curl_multi_cleanup(m->curl); /* closes the cached connections */
    loop_timer_cancel(m->l, &m->t);
    list_node *n, *tmp;
    list_foreach_safe (n, tmp, &m->used)
        release(m, list_entry(n, sock_watch, link));
    list_foreach_safe (n, tmp, &m->spare)
        free(list_entry(n, sock_watch, link));
    free(m);
}

int fetch_multi_add(fetch_multi *m, fetch_xfer *x, fetch_done_cb cb, void *data)
{
    x->cb = cb;
    x->data = data;
    if (curl_multi_add_handle(m->curl, x->easy) != CURLM_OK) return -1;
    x->multi_ = m;
    x->detach_ = fetch_multi_remove;
    m->nxfers++;
    return 0;
}

void fetch_multi_remove(fetch_xfer *x)
{
    fetch_multi *m = x->multi_;
    if (!m) return;
    x->multi_ = NULL;
    m->nxfers--;
    curl_multi_remove_handle(m->curl, x->easy);
}

size_t fetch_multi_count(const fetch_multi *m)
{
    return m->nxfers;
}

size_t fetch_multi_sockets(const fetch_multi *m)
{
    return m->nsocks;
}
