/*
 * backend.c - choosing a backend and dispatching an operation to it
 * (backend.h).
 */
#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int task_backend_open(task_backend **out, const task_backend_type *const *types, size_t n,
                      const task_env *env)
{
    for (size_t i = 0; i < n; i++)
        if (types[i]->accepts(env->url)) return types[i]->open(out, env);
    return -EINVAL;
}

int task_backend_run(task_backend *b, const task_request *q, task_wait *tw)
{
    memset(&tw->out, 0, sizeof(tw->out));
    tw->priv_ = NULL;
    switch (q->op) {
    case TASK_OP_CREATE:
        return b->type->create(b, q, tw);
    case TASK_OP_GET:
        return b->type->get(b, q, tw);
    case TASK_OP_CANCEL:
        return b->type->cancel(b, q, tw);
    case TASK_OP_LIST:
        return b->type->list(b, q, tw);
    }
    task_outcome_detail(&tw->out, 500, "unknown operation");
    return 1;
}

void task_backend_wait_cancel(task_backend *b, task_wait *tw)
{
    if (tw->priv_) b->type->wait_cancel(b, tw);
}

void task_backend_wait_expire(task_backend *b, task_wait *tw)
{
    if (tw->priv_) b->type->wait_expire(b, tw);
}

void task_outcome_set(task_outcome *o, unsigned status, json_t *body)
{
    o->status = status;
    o->body = body;
}

void task_outcome_detail(task_outcome *o, unsigned status, const char *detail)
{
    task_outcome_set(o, status, json_pack("{s:s}", "detail", detail));
    o->retry_after = status == 503;
}

void task_quota_refusal(task_outcome *o, const task_client *client, size_t cap)
{
    char who[64], detail[192];
    snprintf(detail, sizeof(detail),
             "too many tasks from this client: %s has %zu CPU tasks queued or running "
             "(--max-task-queue-per-client)",
             task_client_text(client, who, sizeof(who)), cap);
    task_outcome_set(o, 429, json_pack("{s:s}", "detail", detail));
    o->retry_after = 1;
}

void task_outcome_free(task_outcome *o)
{
    json_decref(o->body);
    o->body = NULL;
}
