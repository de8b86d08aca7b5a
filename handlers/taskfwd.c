/*
 * taskfwd.c - forwarding /tasks operations to the loop that owns the backend.
 *
 * DESIGN
 * A task_call is one operation in flight. It is owned by exactly one thread
 * at a time, and handed over only through a mailbox (whose mutex orders the
 * writes of one owner before the reads of the next):
 *   1. origin loop: taskfwd_forward() fills `q`, suspends the request and
 *      posts the call to loop 0's mailbox;
 *   2. loop 0 (at_owner): runs the operation; an immediate answer goes
 *      straight back, a GET ?wait= sits in loop 0's `calls` list (so a drain
 *      waits for it) until the task ends or the wait is over; then the call
 *      is posted to the origin's mailbox;
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

#include "taskreply.h"

typedef struct task_call task_call;

struct task_call {
    mail m;          /* first: the mail is the call */
    task_request q;  /* written on the origin, read on loop 0 */
    task_wait tw;    /* loop 0 runs it; tw.out travels back */
    taskfwd *origin; /* the origin loop's forwarder (read-only) */
    http_req *r;     /* origin loop only; NULL once the request ended */
    list_node link;  /* loop 0's calls, while waiting there */
};

void taskfwd_init(taskfwd *f, app *a, taskfwd *owner, task_backend *b)
{
    f->a = a;
    f->owner = owner;
    f->b = b;
    list_init(&f->calls);
    f->ncalls = 0;
}

static void call_free(task_call *c)
{
    task_outcome_free(&c->tw.out);
    free(c);
}

/* Origin loop: the outcome is here. */
static void at_origin(mail *m, int dropped)
{
    task_call *c = (task_call *)m;
    if (!dropped && c->r) {
        http_set_ctx(c->r, NULL, NULL); /* the call is freed here, not with the request */
        taskreply_send(c->r, &c->tw.out);
    }
    call_free(c);
}

static void send_back(task_call *c)
{
    c->m.fn = at_origin;
    app_post(c->origin->a, c->origin->a->index, &c->m);
}

/* Loop 0: a forwarded GET's wait is over. */
static void owner_finish(task_wait *tw)
{
    task_call *c = tw->data;
    list_remove(&c->link);
    c->origin->owner->ncalls--;
    send_back(c);
}

/* Loop 0: run the operation. */
static void at_owner(mail *m, int dropped)
{
    task_call *c = (task_call *)m;
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

/* Origin loop: the request ended before the answer came back. */
static void detach(void *p)
{
    task_call *c = p;
    c->r = NULL;
}

void taskfwd_forward(taskfwd *f, http_req *r, const task_request *q)
{
    task_call *c = calloc(1, sizeof(*c));
    if (!c) {
        http_respond_detail(r, 500, "out of memory");
        return;
    }
    c->q = *q;
    c->origin = f;
    c->r = r;
    if (http_defer(r) < 0) {
        free(c);
        http_respond_detail(r, 500, "cannot wait");
        return;
    }
    http_set_ctx(r, c, detach);
    c->m.fn = at_owner;
    app_post(f->a, 0, &c->m);
}

void taskfwd_expire_all(taskfwd *owner)
{
    list_node *n, *next;
    list_foreach_safe(n, next, &owner->calls) /* each expiry unlinks its call, sends it back */
        task_backend_wait_expire(owner->b, &list_entry(n, task_call, link)->tw);
}

void taskfwd_free_all(taskfwd *owner)
{
    while (!list_empty(&owner->calls)) {
        task_call *c = list_entry(list_first(&owner->calls), task_call, link);
        task_backend_wait_cancel(owner->b, &c->tw);
        list_remove(&c->link);
        owner->ncalls--;
        call_free(c);
    }
}
