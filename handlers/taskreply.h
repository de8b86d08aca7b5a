/*
 * taskreply.h - a /tasks operation's outcome sent as a request's answer
 * (for tasks.c, which runs operations on loop 0, and taskfwd.c, which
 * answers the ones forwarded from other loops). Loop thread of r.
 */
#ifndef IOCPU_TASKREPLY_H
#define IOCPU_TASKREPLY_H

#include "backend.h"
#include "http.h"

/* Sends o as r's answer (Location, Retry-After); the body is consumed. */
void taskreply_send(http_req *r, task_outcome *o);

#endif
