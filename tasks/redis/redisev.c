/*
 * redisev.c - the hiredis event hooks on our epoll loop.
 *
 * hiredis calls addRead/delRead/addWrite/delWrite when it wants readiness
 * and cleanup when the context goes away; we keep one watcher whose epoll
 * mask is the union of the wanted events. A read can end in the context
 * being freed (a disconnect, or a callback that frees it), so the watcher
 * callback learns that through `alive` before it touches anything again.
 */
#include "redisev.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

typedef struct redisev {
    loop *l;
    loop_watcher w;
    redisAsyncContext *ac;
    uint32_t events; /* the mask the watcher has now */
    int *alive;      /* while on_ready runs: cleared by cleanup */
} redisev;

static void set_events(redisev *e, uint32_t events)
{
    if (events == e->events) return;
    if (!events)
        loop_unwatch(e->l, &e->w);
    else if (loop_watch(e->l, &e->w, events) < 0)
        return; /* cannot happen for a valid fd; hiredis then sees no progress */
    e->events = events;
}

static void add_read(void *p)
{
    redisev *e = p;
    set_events(e, e->events | EPOLLIN);
}

static void del_read(void *p)
{
    redisev *e = p;
    set_events(e, e->events & ~(uint32_t)EPOLLIN);
}

static void add_write(void *p)
{
    redisev *e = p;
    set_events(e, e->events | EPOLLOUT);
}

static void del_write(void *p)
{
    redisev *e = p;
    set_events(e, e->events & ~(uint32_t)EPOLLOUT);
}

static void cleanup(void *p)
{
    redisev *e = p;
    loop_unwatch(e->l, &e->w);
    if (e->alive) *e->alive = 0;
    free(e);
}

static void on_ready(loop_watcher *w, uint32_t events)
{
    redisev *e = w->data;
    redisAsyncContext *ac = e->ac;
    int alive = 1;
    e->alive = &alive;
    int wants_write = (e->events & EPOLLOUT) != 0;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) redisAsyncHandleRead(ac);
    if (alive && wants_write && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        redisAsyncHandleWrite(ac);
    if (alive) e->alive = NULL;
}

int redisev_attach(loop *l, redisAsyncContext *ac)
{
    if (ac->ev.data) return -EEXIST;
    redisev *e = calloc(1, sizeof(*e));
    if (!e) return -ENOMEM;
    e->l = l;
    e->ac = ac;
    e->w.fd = ac->c.fd;
    e->w.cb = on_ready;
    e->w.data = e;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = e;
    return 0;
}
