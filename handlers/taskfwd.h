/*
 * taskfwd.h - /tasks operations from loops that do not own the task
 * backend: the request is validated where it arrived, suspended there, and
 * its operation travels to loop 0 (which owns the backend) as a mail; loop 0
 * runs it (a GET ?wait= waits there) and mails the outcome back, and the
 * origin loop answers. See taskfwd.c for who owns a call when.
 *
 * Each loop has one taskfwd (in the tasks group's state). Loop 0's holds
 * the operations that wait there; the others' only know loop 0's. Nothing
 * here knows HTTP: the asker gets the outcome through a callback (tasks.c
 * answers its request with it), so forwarding is tested without sockets.
 */
#ifndef IOCPU_TASKFWD_H
#define IOCPU_TASKFWD_H

#include "app.h"
#include "backend.h"
#include "list.h"

#include <stdint.h>

typedef struct taskfwd taskfwd;

struct taskfwd {
    app *a;          /* this loop */
    taskfwd *owner;  /* loop 0's (may be this one); only loop 0 touches it */
    task_backend *b; /* loop 0 only: the backend operations run on */
    list_node calls; /* loop 0 only: forwarded operations waiting there */
    size_t ncalls;
    uint64_t ncancelled; /* loop 0 only: waits ended there because their asker left */
};

/* This loop's forwarder; owner is loop 0's (f itself on loop 0, whose
 * backend is b; NULL elsewhere). */
void taskfwd_init(taskfwd *f, app *a, taskfwd *owner, task_backend *b);

typedef struct taskfwd_call taskfwd_call;
/* Runs on the origin loop with the outcome (its body is the callee's to take). */
typedef void (*taskfwd_done)(void *data, task_outcome *o);

/* On f's loop (not loop 0): runs q on loop 0; done(data, outcome) runs back
 * on this loop when it is over, unless taskfwd_detach() came first. The
 * call, or NULL when out of memory (nothing was sent). */
taskfwd_call *taskfwd_forward(taskfwd *f, const task_request *q, taskfwd_done done, void *data);
/* On the origin loop: the asker is gone; done will not run (the call is
 * freed when it comes back). A GET ?wait= still waiting on loop 0 is
 * cancelled there: loop 0 holds nothing for an asker that left. */
void taskfwd_detach(taskfwd_call *c);

/* On loop 0: every forwarded GET still waiting answers now (drain deadline). */
void taskfwd_expire_all(taskfwd *owner);
/* On the thread that frees the server, after every loop stopped and every
 * request ended: releases the operations loop 0 still holds. */
void taskfwd_free_all(taskfwd *owner);

#endif
