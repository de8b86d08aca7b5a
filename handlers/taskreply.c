/*
 * taskreply.c - see taskreply.h.
 */
#include "taskreply.h"

void taskreply_send(http_req *r, task_outcome *o)
{
    if (o->location[0]) http_add_header(r, "Location", o->location);
    if (o->retry_after) http_add_header(r, "Retry-After", "1");
    http_respond_json(r, o->status, o->body);
    o->body = NULL;
}
