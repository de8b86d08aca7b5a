/*
 * taskfwd.c - forwarding /tasks operations to the loop that owns the store.
 *
 * DESIGN
 * A task_call is one operation in flight. It is owned by exactly one thread
 * at a time, and handed over only through a mailbox (whose mutex orders the
 * writes of one owner before the reads of the next):
 *   1. origin loop: taskfwd_forward() fills `q`, suspends the request and
 *      posts the call to loop 0's mailbox;
 *   2. loop 0 (at_owner): runs the operation; an immediate answer goes
 *      straight back, a GET ?wait= sits in loop 0's `fwd` list (counted in
 *      nfwd, so a drain waits for it) until the task ends or the wait is
 *      over; then the call is posted to the origin's mailbox;
 *   3. origin loop (at_origin): answers the request if it is still there,
 *      and frees the call.
 * `r` is only ever read or written on the origin loop: when the request ends
 * first (the client left, or the drain deadline answered it), its ctx free
 * only clears `r`, and the call is freed when it comes back. A wait whose
 * client left stays on loop 0 until its task ends or its timer fires (at
 * most --max-delay): loop 0 is not told, which keeps the hand-off one-way.
 * At shutdown the mailboxes drop what they hold (the `dropped` flag) and
 * taskfwd_free_all() releases the waits still in loop 0's list.
 */
#include "taskfwd.h"

#include <stdlib.h>

typedef struct task_call task_call;

struct task_call {
    mail m;                 /* first: the mail is the call */
    task_request q;         /* written on the origin, read on loop 0 */
    task_wait tw;           /* loop 0 runs it; tw.out travels back */
    app *origin;            /* read-only */
    http_req *r;            /* origin loop only; NULL once the request ended */
    task_call *prev, *next; /* loop 0's fwd list, while waiting there */
};

static void call_free(task_call *c)
{
    taskops_outcome_free(&c->tw.out);
    free(c);
}

/* Origin loop: the outcome is here. */
static void at_origin(mail *m, int dropped)
{
    task_call *c = (task_call *)m;
    if (!dropped && c->r) {
        http_set_ctx(c->r, NULL, NULL); /* the call is freed here, not with the request */
        tasks_respond(c->r, &c->tw.out);
    }
    call_free(c);
}

static void send_back(task_call *c)
{
    c->m.fn = at_origin;
    mailbox_post(c->origin->mbox, &c->m);
}

static void unlink_fwd(app *owner, task_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        owner->fwd = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    owner->nfwd--;
}

/* Loop 0: a forwarded GET's wait is over. */
static void owner_finish(task_wait *tw)
{
    task_call *c = tw->data;
    unlink_fwd(c->origin->loops[0], c);
    send_back(c);
}

/* Loop 0: run the operation. */
static void at_owner(mail *m, int dropped)
{
    task_call *c = (task_call *)m;
    app *owner = c->origin->loops[0];
    if (dropped) {
        call_free(c);
        return;
    }
    c->tw.finish = owner_finish;
    c->tw.data = c;
    if (taskops_start(owner, &c->q, &c->tw)) {
        send_back(c);
        return;
    }
    c->next = owner->fwd;
    if (owner->fwd) owner->fwd->prev = c;
    owner->fwd = c;
    owner->nfwd++;
}

/* Origin loop: the request ended before the answer came back. */
static void detach(void *p)
{
    task_call *c = p;
    c->r = NULL;
}

void taskfwd_forward(http_req *r, const task_request *q)
{
    app *a = http_app(r);
    task_call *c = calloc(1, sizeof(*c));
    if (!c) {
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    c->q = *q;
    c->origin = a;
    c->r = r;
    if (http_defer(r) < 0) {
        free(c);
        http_respond_detail(r, 500, "cannot wait");
        return;
    }
    http_set_ctx(r, c, detach);
    c->m.fn = at_owner;
    mailbox_post(a->loops[0]->mbox, &c->m);
}

void taskfwd_expire_all(app *owner)
{
    while (owner->fwd) /* each expiry unlinks its call and sends it back */
        taskops_wait_expire(&owner->fwd->tw);
}

void taskfwd_free_all(app *owner)
{
    while (owner->fwd) {
        task_call *c = owner->fwd;
        taskops_wait_cancel(&c->tw);
        unlink_fwd(owner, c);
        call_free(c);
    }
}
