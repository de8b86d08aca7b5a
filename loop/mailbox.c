/*
 * mailbox.c - a mutex-guarded FIFO of mails plus an eventfd the owning loop
 * watches (see mailbox.h).
 *
 * DESIGN
 * Guarded by mu: the list. The poster appends under mu and writes the
 * eventfd only when the list goes from empty to non-empty (wake-ups
 * coalesce, like the executor's completion channels). The owning loop reads
 * the eventfd until EAGAIN, moves the whole list out under mu and runs each
 * mail without the lock, so a mail's fn may post again (even to this box).
 */
#define _GNU_SOURCE
#include "mailbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct mailbox {
    loop *l;
    loop_watcher w; /* the eventfd, watched by l */
    pthread_mutex_t mu;
    mail *head, *tail; /* guarded by mu */
};

static void on_mail(loop_watcher *w, uint32_t events)
{
    (void)events;
    mailbox_run(w->data);
}

int mailbox_new(mailbox **out, loop *l)
{
    int err;
    mailbox *mb = calloc(1, sizeof(*mb));
    if (!mb) return -ENOMEM;
    mb->l = l;
    mb->w.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (mb->w.fd < 0) {
        err = -errno;
        goto err_free;
    }
    mb->w.cb = on_mail;
    mb->w.data = mb;
    if ((err = loop_watch(l, &mb->w, EPOLLIN)) < 0) goto err_close;
    pthread_mutex_init(&mb->mu, NULL);
    *out = mb;
    return 0;

err_close:
    close(mb->w.fd);
err_free:
    free(mb);
    return err;
}

/* Takes the whole list out under the lock. */
static mail *take_all(mailbox *mb)
{
    pthread_mutex_lock(&mb->mu);
    mail *m = mb->head;
    mb->head = mb->tail = NULL;
    pthread_mutex_unlock(&mb->mu);
    return m;
}

void mailbox_free(mailbox *mb)
{
    if (!mb) return;
    for (mail *m = take_all(mb), *next; m; m = next) {
        next = m->next_;
        m->fn(m, 1);
    }
    loop_unwatch(mb->l, &mb->w);
    close(mb->w.fd);
    pthread_mutex_destroy(&mb->mu);
    free(mb);
}

void mailbox_post(mailbox *mb, mail *m)
{
    m->next_ = NULL;
    pthread_mutex_lock(&mb->mu);
    if (mb->tail) {
        mb->tail->next_ = m;
    } else {
        mb->head = m;
        uint64_t one = 1;
        ssize_t r = write(mb->w.fd, &one, sizeof(one));
        (void)r; /* EAGAIN: a wake-up is pending anyway */
    }
    mb->tail = m;
    pthread_mutex_unlock(&mb->mu);
}

size_t mailbox_run(mailbox *mb)
{
    uint64_t n;
    while (read(mb->w.fd, &n, sizeof(n)) > 0) {
    }
    size_t ran = 0;
    for (mail *m = take_all(mb), *next; m; m = next) {
        next = m->next_;
        m->fn(m, 0);
        ran++;
    }
    return ran;
}
