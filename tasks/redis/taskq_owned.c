/*
 * taskq_owned.c - see taskq_owned.h. The counted tasks are a chained table
 * by id (TQ_OWNED_BUCKETS lists), each entry the id and its client; the
 * counts themselves are a task_quota (tasks/quota.h). A recheck sends one
 * HGET per entry; its reply names the id again (a copy), so an entry that
 * an event released meanwhile is simply not found.
 */
#include "taskq_owned.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskq_lua.h"

typedef struct owned {
    list_node link;
    char id[TASK_ID_LEN + 1];
    task_client client;
} owned;

typedef struct recheck {
    taskq *q;
    char id[TASK_ID_LEN + 1];
} recheck;

static size_t bucket_of(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a; ids are random already */
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h % TQ_OWNED_BUCKETS;
}

static owned *find(taskq *q, const char *id)
{
    list_node *n;
    list_foreach (n, &q->owned[bucket_of(id)]) {
        owned *o = list_entry(n, owned, link);
        if (!strcmp(o->id, id)) return o;
    }
    return NULL;
}

int tq_owned_take(taskq *q, const char *id, const task_client *client)
{
    if (!client->known) return 0;
    owned *o = calloc(1, sizeof(*o));
    if (!o) return -ENOMEM;
    int rc = task_quota_take(q->quota, client);
    if (rc < 0) {
        free(o);
        return rc;
    }
    snprintf(o->id, sizeof(o->id), "%s", id);
    o->client = *client;
    list_insert_head(&q->owned[bucket_of(id)], &o->link);
    return 0;
}

void tq_owned_release(taskq *q, const char *id)
{
    owned *o = find(q, id);
    if (!o) return;
    task_quota_give(q->quota, &o->client);
    list_remove(&o->link);
    free(o);
}

/* HGET <task> status: a status that ended, or no task at all, releases it. */
static void on_status(redisAsyncContext *ac, void *reply, void *priv)
{
    recheck *rc = priv;
    redisReply *rep = reply;
    (void)ac;
    if (rep && (rep->type == REDIS_REPLY_NIL ||
                (rep->type == REDIS_REPLY_STRING &&
                 (!strcmp(rep->str, "done") || !strcmp(rep->str, "failed") ||
                  !strcmp(rep->str, "cancelled")))))
        tq_owned_release(rc->q, rc->id);
    free(rc); /* no reply (connection lost): the next subscribe checks again */
}

void tq_owned_recheck(taskq *q)
{
    for (size_t b = 0; b < TQ_OWNED_BUCKETS; b++) {
        list_node *n;
        list_foreach (n, &q->owned[b]) {
            owned *o = list_entry(n, owned, link);
            recheck *rc = calloc(1, sizeof(*rc));
            if (!rc) return;
            rc->q = q;
            memcpy(rc->id, o->id, sizeof(rc->id));
            char key[sizeof(TQ_KEY_PREFIX) + TASK_ID_LEN];
            snprintf(key, sizeof(key), TQ_KEY_PREFIX "%s", o->id);
            const char *argv[] = {"HGET", key, "status"};
            if (tq_command(&q->cmd, on_status, rc, 3, argv) < 0) free(rc);
        }
    }
}

void tq_owned_free(taskq *q)
{
    for (size_t b = 0; b < TQ_OWNED_BUCKETS; b++) {
        list_node *n, *tmp;
        list_foreach_safe (n, tmp, &q->owned[b])
            free(list_entry(n, owned, link));
        list_init(&q->owned[b]);
    }
    task_quota_free(q->quota);
    q->quota = NULL;
}
