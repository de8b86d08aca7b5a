/*
 * taskfwd.h - /tasks operations from loops that do not own the task store:
 * the request is validated where it arrived, suspended there, and its
 * operation travels to loop 0 (which owns the store) as a mail; loop 0 runs
 * it (a GET ?wait= waits there, on loop 0's timers) and mails the outcome
 * back, and the origin loop answers. See taskfwd.c for who owns a call when.
 */
#ifndef IOCPU_HANDLERS_TASKFWD_H
#define IOCPU_HANDLERS_TASKFWD_H

#include "../server/app.h"
#include "../server/http.h"
#include "taskops.h"

/* On r's loop (not loop 0): forwards q to loop 0 and answers r when it is done. */
void taskfwd_forward(http_req *r, const task_request *q);

/* On loop 0: every forwarded GET still waiting answers now (drain deadline). */
void taskfwd_expire_all(app *owner);
/* On the thread that frees the server, after every loop stopped and every
 * request ended: releases the operations loop 0 still holds. */
void taskfwd_free_all(app *owner);

/* Sends an outcome as r's answer (tasks.c; the body is consumed). */
void tasks_respond(http_req *r, task_outcome *o);

#endif
