/*
 * taskfwd.c - forwarding /tasks operations to the loop that owns the backend.
 *
 * DESIGN
 * A taskfwd_call is one operation in flight. It is owned by exactly one thread
 * at a time, and handed over only through a mailbox (whose mutex orders the
 * writes of one owner before the reads of the next):
 *   1. origin loop: taskfwd_forward() fills `q` and posts the call to loop
 *      0's mailbox (tasks.c has suspended the request);
 *   2. loop 0 (at_owner): runs the operation; an immediate answer goes
 *      straight back, a GET ?wait= sits in loop 0's `calls` list (so a drain
 *      waits for it) until the task ends or the wait is over; then the call
 *      is posted to the origin's mailbox;
 *   3. origin loop (at_origin): calls `done` (tasks.c answers the request)
 *      unless the asker detached, and frees the call.
 * `done` is only ever read or written on the origin loop: when the request
 * ends first (the client left, or the drain deadline answered it),
 * taskfwd_detach() clears it, and the call is freed when it comes back.
 *
 * A GET ?wait= whose client left must not hold loop 0 (its timer, its place
 * among the task's waiters) until the task or the wait ends: detach also
 * posts the call's second mail, `cm`, to loop 0 (at_cancel). Loop 0's
 * mailbox runs mails in posting order, so by then loop 0 has either sent the
 * call back already, or still holds the wait: it cancels it and sends the
 * call back. Either way `cm` then returns to the origin (at_cancel_back),
 * after the call, and frees it: while `cancel_out` is set the origin only
 * marks the call `back`. So the call is freed once, on the origin, after
 * both of its mails came home; loop 0 never reads a freed call.
 *
 * At shutdown the mailboxes drop what they hold (the `dropped` flag) and
 * taskfwd_free_all() releases the waits still in loop 0's list. Every loop
 * has stopped then (its thread joined), so the origin's flags may be read
 * there: a call whose `cm` is still out is marked back and left to `cm`.
 */
#include "taskfwd.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct taskfwd_call {
    mail m;            /* first: the mail is the call */
    mail cm;           /* the asker left: cancel the wait on loop 0, then come back */
    task_request q;    /* written on the origin, read on loop 0 */
    task_wait tw;      /* loop 0 runs it; tw.out travels back */
    taskfwd *origin;   /* the origin loop's forwarder (read-only) */
    taskfwd_done done; /* origin loop only; NULL once the asker detached */
    void *data;
    list_node link; /* loop 0's calls, while waiting there */
    int waiting;    /* loop 0 only: in its calls list */
    int cancel_out; /* origin only: cm was posted and is not back */
    int back;       /* origin only: the call came back while cm was out */
};

void taskfwd_init(taskfwd *f, app *a, taskfwd *owner, task_backend *b)
{
    f->a = a;
    f->owner = owner;
    f->b = b;
    list_init(&f->calls);
    f->ncalls = 0;
}

static void call_free(taskfwd_call *c)
{
    task_outcome_free(&c->tw.out);
    free(c);
}

/* Origin loop: the outcome is here. */
static void at_origin(mail *m, int dropped)
{
    taskfwd_call *c = (taskfwd_call *)m;
    if (c->cancel_out) { /* its cancel mail frees it when it comes back */
        c->back = 1;
        return;
    }
    if (!dropped && c->done)
        c->done(c->data, &c->tw.out);
    else if (c->q.op == TASK_OP_CREATE && c->tw.out.status == 202)
        /* the asker left (or half-closed) before its answer: the task exists and runs;
         * the log is the only place its id shows up */
        fprintf(stderr, "iocpu: POST created %s, but the client left before its answer\n",
                c->tw.out.location);
    call_free(c);
}

static void send_back(taskfwd_call *c)
{
    c->m.fn = at_origin;
    app_post(c->origin->a, c->origin->a->index, &c->m);
}

/* Loop 0: a forwarded GET's wait is over. */
static void owner_finish(task_wait *tw)
{
    taskfwd_call *c = tw->data;
    list_remove(&c->link);
    c->waiting = 0;
    c->origin->owner->ncalls--;
    send_back(c);
}

/* Loop 0: run the operation. */
static void at_owner(mail *m, int dropped)
{
    taskfwd_call *c = (taskfwd_call *)m;
    taskfwd *owner = c->origin->owner;
    if (dropped) { /* every loop stopped: a cancel mail still out frees it */
        if (c->cancel_out)
            c->back = 1;
        else
            call_free(c);
        return;
    }
    c->tw.finish = owner_finish;
    c->tw.data = c;
    if (task_backend_run(owner->b, &c->q, &c->tw)) {
        send_back(c);
        return;
    }
    list_insert_head(&owner->calls, &c->link);
    c->waiting = 1;
    owner->ncalls++;
}

/* Origin loop: the cancel mail is back, after the call (posting order). */
static void at_cancel_back(mail *m, int dropped)
{
    taskfwd_call *c = (taskfwd_call *)((char *)m - offsetof(taskfwd_call, cm));
    (void)dropped;
    c->cancel_out = 0;
    if (c->back) call_free(c);
}

/* Loop 0: the asker left. A wait still held here ends now (its timer and its
 * place among the task's waiters go) and the call goes back; then so does
 * the cancel mail. */
static void at_cancel(mail *m, int dropped)
{
    taskfwd_call *c = (taskfwd_call *)((char *)m - offsetof(taskfwd_call, cm));
    taskfwd *owner = c->origin->owner;
    if (dropped) { /* every loop stopped: the call will not move any more */
        c->cancel_out = 0;
        if (c->back) call_free(c);
        return;
    }
    if (c->waiting) {
        task_backend_wait_cancel(owner->b, &c->tw);
        list_remove(&c->link);
        c->waiting = 0;
        owner->ncalls--;
        owner->ncancelled++;
        send_back(c);
    }
    c->cm.fn = at_cancel_back;
    app_post(c->origin->a, c->origin->a->index, &c->cm);
}

void taskfwd_detach(taskfwd_call *c)
{
    c->done = NULL;
    if (c->q.op != TASK_OP_GET || !(c->q.wait > 0)) return; /* nothing waits on loop 0 */
    c->cancel_out = 1;
    c->cm.fn = at_cancel;
    app_post(c->origin->a, 0, &c->cm);
}

taskfwd_call *taskfwd_forward(taskfwd *f, const task_request *q, taskfwd_done done, void *data)
{
    taskfwd_call *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->q = *q;
    c->origin = f;
    c->done = done;
    c->data = data;
    c->m.fn = at_owner;
    app_post(f->a, 0, &c->m);
    return c;
}

void taskfwd_expire_all(taskfwd *owner)
{
    list_node *n, *next;
    list_foreach_safe (n, next, &owner->calls) /* each expiry unlinks its call, sends it back */
        task_backend_wait_expire(owner->b, &list_entry(n, taskfwd_call, link)->tw);
}

void taskfwd_free_all(taskfwd *owner)
{
    list_node *n, *next;
    list_foreach_safe (n, next, &owner->calls) { /* each body frees only n */
        taskfwd_call *c = list_entry(n, taskfwd_call, link);
        task_backend_wait_cancel(owner->b, &c->tw);
        list_remove(&c->link);
        c->waiting = 0;
        owner->ncalls--;
        if (c->cancel_out) /* its cancel mail, dropped later, frees it */
            c->back = 1;
        else
            call_free(c);
    }
}
