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
 * taskfwd_detach() only clears it, and the call is freed when it comes back. A wait whose
 * client left stays on loop 0 until its task ends or its timer fires (at
 * most --max-delay): loop 0 is not told, which keeps the hand-off one-way.
 * At shutdown the mailboxes drop what they hold (the `dropped` flag) and
 * taskfwd_free_all() releases the waits still in loop 0's list.
 */
#include "taskfwd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct taskfwd_call {
    mail m;            /* first: the mail is the call */
    task_request q;    /* written on the origin, read on loop 0 */
    task_wait tw;      /* loop 0 runs it; tw.out travels back */
    taskfwd *origin;   /* the origin loop's forwarder (read-only) */
    taskfwd_done done; /* origin loop only; NULL once the asker detached */
    void *data;
    list_node link; /* loop 0's calls, while waiting there */
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
    c->origin->owner->ncalls--;
    send_back(c);
}

/* Loop 0: run the operation. */
static void at_owner(mail *m, int dropped)
{
    taskfwd_call *c = (taskfwd_call *)m;
    taskfwd *owner = c->origin->owner;
    if (dropped) {
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
    owner->ncalls++;
}

void taskfwd_detach(taskfwd_call *c)
{
    c->done = NULL;
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
        owner->ncalls--;
        call_free(c);
    }
}
