/*
 * taskfwd.h - /tasks operations from loops that do not own the task
 * backend: the request is validated where it arrived, suspended there, and
 * its operation travels to loop 0 (which owns the backend) as a mail; loop 0
 * runs it (a GET ?wait= waits there) and mails the outcome back, and the
 * origin loop answers. See taskfwd.c for who owns a call when.
 *
 * Each loop has one taskfwd (in the tasks group's state). Loop 0's holds
 * the operations that wait there; the others' only know loop 0's.
 */
#ifndef IOCPU_TASKFWD_H
#define IOCPU_TASKFWD_H

#include "app.h"
#include "backend.h"
#include "http.h"
#include "list.h"

typedef struct taskfwd taskfwd;

struct taskfwd {
    app *a;           /* this loop */
    taskfwd *owner;   /* loop 0's (may be this one); only loop 0 touches it */
    task_backend *b;  /* loop 0 only: the backend operations run on */
    list_node calls;  /* loop 0 only: forwarded operations waiting there */
    size_t ncalls;
};

/* This loop's forwarder; owner is loop 0's (f itself on loop 0, whose
 * backend is b; NULL elsewhere). */
void taskfwd_init(taskfwd *f, app *a, taskfwd *owner, task_backend *b);

/* On r's loop (not loop 0): forwards q to loop 0 and answers r when it is done. */
void taskfwd_forward(taskfwd *f, http_req *r, const task_request *q);

/* On loop 0: every forwarded GET still waiting answers now (drain deadline). */
void taskfwd_expire_all(taskfwd *owner);
/* On the thread that frees the server, after every loop stopped and every
 * request ended: releases the operations loop 0 still holds. */
void taskfwd_free_all(taskfwd *owner);

#endif
