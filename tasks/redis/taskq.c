/*
 * taskq.c - the Redis task backend: its connections, and the /tasks
 * operations (create, get with ?wait=, cancel, list) as round trips.
 *
 * DESIGN
 * Connections (all on loop 0, each a redisconn that reconnects by itself):
 * `cmd` carries every command and script; `events` is SUBSCRIBEd to
 * iocpu:events; `claim[k]` each hold one blocking XREADGROUP (taskq_run.c).
 * The backend is ready (for /readyz and POST /tasks) while `cmd` is up (to
 * a Redis 6.2 or newer) and `events` is subscribed.
 *
 * Operations: each HTTP operation is a tq_op with at most one command in
 * flight. The request may leave at any time (taskq_wait_cancel): the op
 * then forgets its task_wait and is freed when its reply comes (hiredis
 * always calls back: with NULL when the connection goes).
 *
 * Waiting (GET ?wait=S) without polling: the op enters the waiter table
 * (by id) before its first HGETALL is sent, so a "done <id>" event that
 * overtakes the reply marks it dirty and it fetches again; after that an
 * event triggers one fetch, and the wait's own timer answers with the task
 * as last fetched. When `events` reconnects, every waiter fetches once
 * (events may have been missed while it was down).
 */
#define _GNU_SOURCE
#include "taskq.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "prom.h"
#include "taskq_lua.h"
#include "taskq_owned.h"
#include "taskq_run.h"

static size_t bucket_of(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h % TQ_WAIT_BUCKETS;
}

/* The hash's fields (a flat array) as a view; ids and texts point into rep. */
/* A task's hash as a view. Its spec fields are checked as strictly as a
 * request (task_spec_field): one that fails shows the task failed, with
 * the reason in why[96]. 0, or -1 when it is no task (no status). */
/* A task's "trace" field (the creating request's traceparent, trace.h) as
 * its view's trace id; a value that does not parse is left out. */
static void trace_view(const char *val, task_view *v)
{
    trace_ctx t;
    if (trace_parse(val, strlen(val), &t) == 0) trace_hex(t.trace_id, TRACE_ID_BYTES, v->trace_id);
}

static int view_from_hash(const redisReply *h, task_view *v, const task_limits *lim, char *why)
{
    memset(v, 0, sizeof(*v));
    int invalid = 0;
    if (!h || h->type != REDIS_REPLY_ARRAY || !h->elements) return -1;
    int have_status = 0;
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *k = h->element[i]->str, *val = h->element[i + 1]->str;
        if (!k || !val) continue;
        if (!strcmp(k, "kind") || !strcmp(k, "delay") || !strcmp(k, "n") ||
            !strcmp(k, "iterations") || !strcmp(k, "ms")) {
            if (!invalid && task_spec_field(&v->spec, k, val, lim, why, 96) < 0) invalid = 1;
        } else if (!strcmp(k, "status")) {
            have_status = 1;
            v->status = !strcmp(val, "queued")      ? TASK_QUEUED
                        : !strcmp(val, "running")   ? TASK_RUNNING
                        : !strcmp(val, "done")      ? TASK_DONE
                        : !strcmp(val, "cancelled") ? TASK_CANCELLED
                                                    : TASK_FAILED;
        } else if (!strcmp(k, "created_at")) {
            v->created_at = strtod(val, NULL);
        } else if (!strcmp(k, "started_at")) {
            v->started_at = strtod(val, NULL);
            v->has_started = 1;
        } else if (!strcmp(k, "finished_at")) {
            v->finished_at = strtod(val, NULL);
            v->has_finished = 1;
        } else if (!strcmp(k, "elapsed")) {
            v->elapsed = strtod(val, NULL);
        } else if (!strcmp(k, "result")) {
            v->sum = strtoull(val, NULL, 10);
        } else if (!strcmp(k, "iterations_done")) {
            v->iterations = strtoull(val, NULL, 10);
        } else if (!strcmp(k, "error")) {
            v->error_msg = val;
        } else if (!strcmp(k, "runner")) {
            v->runner = val;
        } else if (!strcmp(k, "trace")) {
            trace_view(val, v);
        } else if (!strcmp(k, "attempts")) {
            v->attempts = (unsigned)strtoul(val, NULL, 10);
        }
    }
    if (invalid) {
        v->status = TASK_FAILED;
        v->error_msg = why;
    }
    if (v->status == TASK_FAILED && !v->error_msg) v->error_msg = "failed";
    if (v->has_finished && v->elapsed == 0 && v->has_started)
        v->elapsed = fmax(0, v->finished_at - v->started_at);
    return have_status ? 0 : -1;
}

static json_t *hash_json(const taskq *q, const redisReply *h, const char *id)
{
    task_view v;
    char why[96];
    if (view_from_hash(h, &v, &q->lim, why) < 0) return NULL;
    return task_view_json(&v, id);
}

static int ended(const json_t *t)
{
    const char *s = json_string_value(json_object_get(t, "status"));
    return s && strcmp(s, "queued") && strcmp(s, "running");
}

/* --- operations ------------------------------------------------------------ */

/* The first op of a waiter table bucket, or NULL. */
static tq_op *first_waiter(const list_node *bucket)
{
    /* the analyser loses the list head across frees of removed nodes (a false
     * use-after-free in taskq_close's loop: every op it frees left the list) */
    // NOLINTNEXTLINE(clang-analyzer-unix.Malloc)
    return list_empty(bucket) ? NULL : list_entry(bucket->next, tq_op, wlink);
}

/* The op after op in its bucket, or NULL. */
static tq_op *next_waiter(const list_node *bucket, const tq_op *op)
{
    list_node *n = list_next(bucket, &op->wlink);
    return n ? list_entry(n, tq_op, wlink) : NULL;
}

static void waiter_unlink(tq_op *op)
{
    if (!op->waiting) return;
    taskq *q = op->q;
    list_remove(&op->wlink);
    op->waiting = 0;
    loop_timer_cancel(q->l, &op->tm);
}

static void op_free(tq_op *op)
{
    loop_timer_cancel(op->q->l, &op->cmd_tm);
    waiter_unlink(op);
    json_decref(op->last);
    free(op);
}

/* Hands the answer to the request (if it is still there) and ends the op,
 * unless a reply is still due (then the reply frees it). */
static void op_answer(tq_op *op, unsigned status, json_t *body, const char *location)
{
    task_wait *tw = op->tw;
    waiter_unlink(op);
    if (tw) {
        tw->out.status = status;
        tw->out.body = body;
        tw->out.retry_after = status == 503;
        if (location) snprintf(tw->out.location, sizeof(tw->out.location), "%s", location);
        tw->priv_ = NULL;
        op->tw = NULL;
    } else {
        json_decref(body);
    }
    if (!op->inflight) op_free(op);
    if (tw) tw->finish(tw);
}

static void op_detail(tq_op *op, unsigned status, const char *detail)
{
    op_answer(op, status, json_pack("{s:s}", "detail", detail), NULL);
}

#define UNAVAILABLE "task backend unavailable"

/* A reply arrived for op: 1 when the op should go on with it, 0 when it
 * is finished with (freed, or answered 503 because the reply is NULL). */
static int op_reply(tq_op *op, const redisReply *rep)
{
    op->inflight = 0;
    loop_timer_cancel(op->q->l, &op->cmd_tm);
    if (rep && op->q->stalled) { /* Redis answers again */
        op->q->stalled = 0;
        tq_update_ready(op->q);
    }
    if (!op->tw) { /* the request left */
        op_free(op);
        return 0;
    }
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        if (rep) fprintf(stderr, "iocpu: redis: %s\n", rep->str);
        op_detail(op, 503, UNAVAILABLE);
        return 0;
    }
    return 1;
}

/* --redis-timeout passed with op's command unanswered: its request gets a
 * 503 now (the reply, when it comes, only frees the op), and the backend is
 * not ready until Redis answers again. */
static void op_timed_out(timer *tm)
{
    tq_op *op = tm->data;
    taskq *q = op->q;
    q->stalled = 1;
    tq_update_ready(q);
    op->timed_out = 1;
    if (op->tw) op_detail(op, 503, UNAVAILABLE);
}

static int op_send(tq_op *op, redisCallbackFn *fn, int argc, const char **argv)
{
    if (tq_command(&op->q->cmd, fn, op, argc, argv) < 0) return -1;
    op->inflight = 1;
    /* without memory for the timer the command waits as long as Redis does */
    (void)loop_timer_start(op->q->l, &op->cmd_tm, op->q->cmd_timeout_ns, op_timed_out, op);
    return 0;
}

/* GET: the task fetched */
static void fetch(tq_op *op);

static void on_fetched(redisAsyncContext *ac, void *reply, void *priv)
{
    tq_op *op = priv;
    redisReply *rep = reply;
    (void)ac;
    if (!op_reply(op, rep)) return;
    json_t *t = rep->type == REDIS_REPLY_ARRAY ? hash_json(op->q, rep, op->id) : NULL;
    if (!t) {
        op_detail(op, 404, "Not Found");
        return;
    }
    if (ended(t) || op->wait <= 0 || op->expired) {
        op_answer(op, 200, t, NULL);
        return;
    }
    json_decref(op->last);
    op->last = t;
    if (op->dirty) fetch(op);
}

static int fetch_send(tq_op *op)
{
    char key[sizeof(TQ_KEY_PREFIX) + TASK_ID_LEN];
    snprintf(key, sizeof(key), TQ_KEY_PREFIX "%s", op->id);
    const char *argv[] = {"HGETALL", key};
    op->dirty = 0;
    return op_send(op, on_fetched, 2, argv);
}

/* A fetch after the start: a failure answers the request. */
static void fetch(tq_op *op)
{
    if (fetch_send(op) < 0) op_detail(op, 503, UNAVAILABLE);
}

static void wait_over(timer *tm)
{
    tq_op *op = tm->data;
    op->expired = 1;
    if (op->inflight) return; /* the fetch under way answers */
    json_t *t = op->last;
    op->last = NULL;
    op_answer(op, 200, t, NULL);
}

static int get_start(taskq *q, tq_op *op)
{
    if (op->wait > 0) {
        if (loop_timer_start(q->l, &op->tm, secs_to_ns(op->wait), wait_over, op) < 0) return -1;
        list_insert_head(&q->waiters[bucket_of(op->id)], &op->wlink);
        op->waiting = 1;
    }
    return fetch_send(op); /* on failure the caller frees op (and so unlinks it) */
}

/* "done <id>": every waiter of id fetches the task again. */
static void wake_waiters(taskq *q, const char *id)
{
    const list_node *bucket = &q->waiters[bucket_of(id)];
    tq_op *next;
    for (tq_op *op = first_waiter(bucket); op; op = next) {
        next = next_waiter(bucket, op); /* a failed fetch answers (and unlinks) op */
        if (strcmp(op->id, id)) continue;
        if (op->inflight || !q->cmd.up)
            op->dirty = 1; /* fetched when the reply comes, or when commands are back */
        else
            fetch(op);
    }
}

/* Every waiter (all) or those marked dirty fetches its task again. */
static void refetch_waiters(taskq *q, int all)
{
    tq_op *next;
    for (size_t b = 0; b < TQ_WAIT_BUCKETS; b++)
        for (tq_op *op = first_waiter(&q->waiters[b]); op; op = next) {
            next = next_waiter(&q->waiters[b], op); /* a failed fetch answers (and unlinks) op */
            if (op->inflight || !q->cmd.up)
                op->dirty = 1;
            else if (all || op->dirty)
                fetch(op);
        }
}

/* POST */

/* CREATE's answer {entry or "full", {{reason, stream, entry}...}}: counts
 * what it dead-lettered; the entry (or "full"), or NULL when it is no such answer. */
static const char *created_entry(taskq *q, const redisReply *rep)
{
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    const redisReply *dl = rep->element[1];
    for (size_t i = 0; i < dl->elements; i++) {
        const redisReply *d = dl->element[i];
        if (d->type != REDIS_REPLY_ARRAY || d->elements != 3) continue;
        if (d->element[0]->str && d->element[1]->str && d->element[2]->str)
            tq_dead_lettered(q, d->element[0]->str, d->element[1]->str, d->element[2]->str);
    }
    return rep->element[0]->str;
}

static void on_created(redisAsyncContext *ac, void *reply, void *priv)
{
    tq_op *op = priv;
    redisReply *rep = reply;
    (void)ac;
    const char *entry = created_entry(op->q, rep);
    /* not created: the client's share comes back (no reply at all: the next
     * recheck reads whether it was, tq_owned_recheck) */
    if (rep && (!entry || !strcmp(entry, "full"))) tq_owned_release(op->q, op->id);
    if (!op->tw && entry && strcmp(entry, "full"))
        /* the client left (or half-closed, or got a 503 when Redis was too slow) before
         * its 202: the task exists and runs; the log is the only place its id shows up */
        fprintf(stderr, "iocpu: POST created /tasks/%s, but %s\n", op->id,
                op->timed_out ? "its answer was a 503: Redis took longer than --redis-timeout"
                              : "the client left before its answer");
    if (!op_reply(op, rep)) return;
    if (!entry || !strcmp(entry, "full")) {
        op_detail(op, 503, "too many tasks");
        return;
    }
    json_t *t = op->last;
    op->last = NULL;
    char loc[TASK_PATH_ID_MAX + 16];
    snprintf(loc, sizeof(loc), "/tasks/%s", op->id);
    op_answer(op, 202, t, loc);
}

static void fmt_num(char *dst, size_t len, double d)
{
    snprintf(dst, len, "%.17g", d);
}

/* 0 (sent), -EDQUOT (the client holds its share: nothing sent) or -1. */
/* The spec's fields of a new task's hash, appended to argv at argc (their
 * text in v[3]); the new argc. */
static int spec_args(const task_spec *s, const char **argv, int argc, char v[3][32])
{
    if (s->kind == TASK_IO) {
        fmt_num(v[0], sizeof(v[0]), s->delay);
        argv[argc++] = "delay";
        argv[argc++] = v[0];
    } else {
        snprintf(v[0], sizeof(v[0]), "%lld", (long long)s->n);
        argv[argc++] = "n";
        argv[argc++] = v[0];
        if (s->ms) {
            snprintf(v[1], sizeof(v[1]), "%llu", (unsigned long long)s->ms);
            argv[argc++] = "ms";
            argv[argc++] = v[1];
        } else {
            snprintf(v[2], sizeof(v[2]), "%llu", (unsigned long long)s->iterations);
            argv[argc++] = "iterations";
            argv[argc++] = v[2];
        }
    }
    return argc;
}

static int create_start(taskq *q, tq_op *op, const task_spec *s, const task_client *client,
                        const trace_ctx *trace)
{
    uint8_t raw[TASK_ID_BYTES];
    if (task_id_new(raw, op->id) < 0) return -1;
    int rc = s->kind == TASK_CPU ? tq_owned_take(q, op->id, client) : 0;
    if (rc < 0) return rc == -EDQUOT ? rc : -1;
    char now[32], maxlive[24], cap[24], key[sizeof(TQ_KEY_PREFIX) + TASK_ID_LEN];
    char v[3][32], tp[TRACEPARENT_LEN + 1];
    tq_now(now, sizeof(now));
    snprintf(maxlive, sizeof(maxlive), "%ld", q->max_live);
    snprintf(cap, sizeof(cap), "%ld", q->keep);
    snprintf(key, sizeof(key), TQ_KEY_PREFIX "%s", op->id);
    const char *argv[28] = {"EVAL",
                            TQ_LUA_CREATE,
                            "5",
                            key,
                            TQ_STREAM[TQ_CPU],
                            TQ_STREAM[TQ_IO],
                            TQ_INDEX,
                            TQ_DEAD,
                            op->id,
                            now,
                            maxlive,
                            cap,
                            s->kind == TASK_IO ? "io" : "cpu",
                            "kind",
                            s->kind == TASK_IO ? "io" : "cpu"};
    int argc = 15;
    char token[TASK_OWNER_TOKEN_LEN + 1], owner[TASK_OWNER_HASH_HEX + 1];
    uint8_t hash[TASK_OWNER_HASH_BYTES];
    if (task_owner_new(token, hash) < 0) return -1;
    task_owner_hex(hash, owner); /* Redis keeps the hash only */
    argv[argc++] = "owner";
    argv[argc++] = owner;
    task_view tv = {.spec = *s, .status = TASK_QUEUED, .created_at = strtod(now, NULL)};
    argc = spec_args(s, argv, argc, v);
    if (trace_valid(trace)) { /* the runner, maybe another replica, logs it (taskq_run.c) */
        trace_format(trace, tp);
        argv[argc++] = "trace";
        argv[argc++] = tp;
        trace_hex(trace->trace_id, TRACE_ID_BYTES, tv.trace_id);
    }
    op->last = task_view_json(&tv, op->id);                           /* the 202 body */
    json_object_set_new(op->last, "owner_token", json_string(token)); /* shown this once */
    memset(token, 0, sizeof(token));
    if (op_send(op, on_created, argc, argv) == 0) return 0;
    tq_owned_release(q, op->id);
    return -1;
}

/* DELETE */
static void on_cancelled(redisAsyncContext *ac, void *reply, void *priv)
{
    tq_op *op = priv;
    redisReply *rep = reply;
    (void)ac;
    if (!op_reply(op, rep)) return;
    const char *what = rep->type == REDIS_REPLY_ARRAY && rep->elements ? rep->element[0]->str : "";
    if (!what) what = "";
    if (!strcmp(what, "missing")) {
        op_detail(op, 404, "Not Found");
    } else if (!strcmp(what, "ended")) {
        op_detail(op, 409, "task already finished");
    } else {
        json_t *t = rep->elements > 1 ? hash_json(op->q, rep->element[1], op->id) : NULL;
        if (t)
            op_answer(op, 200, t, NULL);
        else
            op_detail(op, 503, UNAVAILABLE);
    }
}

static int cancel_send(taskq *q, tq_op *op)
{
    char now[32], ttl[24], key[sizeof(TQ_KEY_PREFIX) + TASK_ID_LEN];
    tq_now(now, sizeof(now));
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)q->ttl_s);
    snprintf(key, sizeof(key), TQ_KEY_PREFIX "%s", op->id);
    const char *argv[] = {"EVAL",           TQ_LUA_CANCEL, "3", key,        TQ_STREAM[TQ_CPU],
                          TQ_STREAM[TQ_IO], now,           ttl, TQ_CHANNEL, op->id,
                          TQ_GROUP};
    return op_send(op, on_cancelled, 11, argv);
}

/* What the HMGET status owner of a DELETE says: 0 when the presented token
 * is the owner's, else the answer's status and detail. No task is 404; an
 * owner field that is missing or no hash (garbage read back) is 403: only
 * the admin token cancels that task; another token's hash is 403. */
static unsigned owner_check(const tq_op *op, const redisReply *rep, const char **detail)
{
    uint8_t stored[TASK_OWNER_HASH_BYTES];
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        *detail = UNAVAILABLE;
        return 503;
    }
    const redisReply *status = rep->element[0], *owner = rep->element[1];
    if (status->type != REDIS_REPLY_STRING) {
        *detail = "Not Found";
        return 404;
    }
    if (owner->type != REDIS_REPLY_STRING || owner->len != TASK_OWNER_HASH_HEX ||
        task_owner_parse(owner->str, stored) < 0) {
        *detail = "the task's record holds no valid owner: only the admin token can cancel it";
        return 403;
    }
    if (!task_owner_eq(stored, op->token_hash)) {
        *detail = TASK_NOT_OWNER;
        return 403;
    }
    return 0;
}

/* The owner check came back: the owner's DELETE goes on to the cancel. */
static void on_owner(redisAsyncContext *ac, void *reply, void *priv)
{
    tq_op *op = priv;
    redisReply *rep = reply;
    const char *detail = UNAVAILABLE;
    (void)ac;
    if (!op_reply(op, rep)) return;
    unsigned status = owner_check(op, rep, &detail);
    if (status == 0 && cancel_send(op->q, op) < 0) status = 503;
    if (status) op_detail(op, status, detail);
}

/* DELETE: the admin cancels at once; anyone else first shows the owner's token. */
static int cancel_start(taskq *q, tq_op *op)
{
    if (op->admin) return cancel_send(q, op);
    char key[sizeof(TQ_KEY_PREFIX) + TASK_ID_LEN];
    snprintf(key, sizeof(key), TQ_KEY_PREFIX "%s", op->id);
    const char *argv[] = {"HMGET", key, "status", "owner"};
    return op_send(op, on_owner, 4, argv);
}

/* GET /tasks */
static void on_listed(redisAsyncContext *ac, void *reply, void *priv)
{
    tq_op *op = priv;
    redisReply *rep = reply;
    (void)ac;
    if (!op_reply(op, rep)) return;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_ARRAY) {
        op_detail(op, 503, UNAVAILABLE);
        return;
    }
    json_t *list = json_array();
    const redisReply *items = rep->element[0];
    for (size_t i = 0; i < items->elements; i++) {
        const redisReply *it = items->element[i];
        if (it->type != REDIS_REPLY_ARRAY || it->elements != 2 || !it->element[0]->str) continue;
        json_t *t = hash_json(op->q, it->element[1], it->element[0]->str);
        if (t) json_array_append_new(list, t);
    }
    size_t n = json_array_size(list);
    op_answer(op, 200,
              json_pack("{s:o,s:I,s:I}", "tasks", list, "count", (json_int_t)n, "total",
                        (json_int_t)rep->element[1]->integer),
              NULL);
}

static int list_start(tq_op *op, uint64_t limit)
{
    char lim[24];
    snprintf(lim, sizeof(lim), "%llu", (unsigned long long)limit);
    const char *argv[] = {"EVAL", TQ_LUA_LIST, "1", TQ_INDEX, lim, TQ_KEY_PREFIX};
    return op_send(op, on_listed, 6, argv);
}

static int answer_now(task_wait *tw, unsigned status, const char *detail)
{
    tw->out.status = status;
    tw->out.body = json_pack("{s:s}", "detail", detail);
    tw->out.retry_after = status == 503;
    return 1;
}

int taskq_start(taskq *q, const task_request *r, task_wait *tw)
{
    if (r->op == TASK_OP_GET || r->op == TASK_OP_CANCEL) {
        uint8_t raw[TASK_ID_BYTES];
        if (task_id_parse(r->id, raw) < 0) return answer_now(tw, 404, "Not Found");
    }
    if (!taskq_ready(q)) return answer_now(tw, 503, UNAVAILABLE);
    tq_op *op = calloc(1, sizeof(*op));
    if (!op) return answer_now(tw, 500, "out of memory");
    op->q = q;
    op->tw = tw;
    op->op = r->op;
    op->wait = r->wait;
    int rc;
    switch (r->op) {
    case TASK_OP_CREATE:
        rc = create_start(q, op, &r->spec, &r->client, &r->trace);
        break;
    case TASK_OP_GET:
        memcpy(op->id, r->id, TASK_ID_LEN + 1);
        rc = get_start(q, op);
        break;
    case TASK_OP_CANCEL:
        memcpy(op->id, r->id, TASK_ID_LEN + 1);
        op->admin = r->admin;
        memcpy(op->token_hash, r->token_hash, sizeof(op->token_hash));
        rc = cancel_start(q, op);
        break;
    default:
        rc = list_start(op, r->limit);
        break;
    }
    if (rc < 0) { /* nothing was sent: answered here, never through tw->finish */
        op_free(op);
        if (rc == -EDQUOT) {
            task_quota_refusal(&tw->out, &r->client, q->per_client);
            return 1;
        }
        return answer_now(tw, 503, UNAVAILABLE);
    }
    tw->priv_ = op;
    return 0;
}

void taskq_wait_cancel(task_wait *tw)
{
    tq_op *op = tw->priv_;
    if (!op) return;
    tw->priv_ = NULL;
    op->tw = NULL;
    waiter_unlink(op);
    if (!op->inflight) op_free(op);
}

void taskq_wait_expire(task_wait *tw)
{
    tq_op *op = tw->priv_;
    if (!op) return;
    if (op->waiting && op->last) {
        json_t *t = op->last;
        op->last = NULL;
        op_answer(op, 200, t, NULL);
    } else {
        op_detail(op, 503, "server is shutting down");
    }
}

/* --- events and readiness ---------------------------------------------------- */

void tq_update_ready(taskq *q)
{
    atomic_store(&q->ready,
                 q->cmd.up && q->version_ok && q->subscribed && !q->closing && !q->stalled);
}

static void on_pong(redisAsyncContext *ac, void *reply, void *priv)
{
    taskq *q = priv;
    (void)ac;
    q->ping_sent_ns = 0;
    if (reply && q->stalled && !q->closing) {
        q->stalled = 0;
        tq_update_ready(q);
    }
}

/* Every --redis-timeout: a PING, so that a Redis that stopped answering
 * turns /readyz 503 even when no request waits on it. */
static void ping_tick(timer *t)
{
    taskq *q = t->data;
    uint64_t now = loop_now_ns();
    if (q->closing) return;
    if (q->ping_sent_ns && now - q->ping_sent_ns >= q->cmd_timeout_ns && !q->stalled) {
        q->stalled = 1;
        tq_update_ready(q);
    } else if (!q->ping_sent_ns) {
        const char *argv[] = {"PING"};
        if (tq_command(&q->cmd, on_pong, q, 1, argv) == 0) q->ping_sent_ns = now;
    }
    (void)loop_timer_start(q->l, &q->ping, q->cmd_timeout_ns, ping_tick, q);
}

void tq_on_event(taskq *q, const char *msg, size_t len)
{
    char id[TASK_ID_LEN + 1];
    if (len == 5 + TASK_ID_LEN && !strncmp(msg, "done ", 5)) {
        memcpy(id, msg + 5, TASK_ID_LEN);
        id[TASK_ID_LEN] = '\0';
        tq_owned_release(q, id); /* it ended: its client's share comes back */
        wake_waiters(q, id);
    } else if (len == 7 + TASK_ID_LEN && !strncmp(msg, "cancel ", 7)) {
        memcpy(id, msg + 7, TASK_ID_LEN);
        id[TASK_ID_LEN] = '\0';
        tq_run_event_cancel(q, id);
    }
}

static void on_message(redisAsyncContext *ac, void *reply, void *priv)
{
    taskq *q = priv;
    redisReply *rep = reply;
    (void)ac;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3) return;
    const char *kind = rep->element[0]->str;
    if (!kind) return;
    if (!strcmp(kind, "subscribe")) {
        q->subscribed = 1;
        tq_update_ready(q);
        refetch_waiters(q, 1); /* what ended while we were not listening */
        tq_owned_recheck(q);
    } else if (!strcmp(kind, "message") && rep->element[2]->str) {
        tq_on_event(q, rep->element[2]->str, rep->element[2]->len);
    }
}

static void events_up(redisconn *c)
{
    taskq *q = c->data;
    if (redisAsyncCommand(c->ac, on_message, q, "SUBSCRIBE %s", TQ_CHANNEL) != REDIS_OK)
        redisAsyncDisconnect(c->ac);
}

static void events_down(redisconn *c)
{
    taskq *q = c->data;
    q->subscribed = 0;
    tq_update_ready(q);
}

/* INFO server: the backend needs Redis >= 6.2 (XAUTOCLAIM); older stays not ready. */
static void on_info(redisAsyncContext *ac, void *reply, void *priv)
{
    taskq *q = priv;
    redisReply *rep = reply;
    (void)ac;
    if (!rep || q->closing || rep->type != REDIS_REPLY_STRING) return;
    const char *v = strstr(rep->str, "redis_version:");
    int major = 0, minor = 0;
    if (v) sscanf(v + 14, "%d.%d", &major, &minor);
    q->version_ok = major > 6 || (major == 6 && minor >= 2);
    if (!q->version_ok)
        fprintf(stderr,
                "iocpu: redis %d.%d is too old for the task backend (it needs 6.2 or newer); "
                "/readyz stays 503\n",
                major, minor);
    tq_update_ready(q);
}

static void cmd_up(redisconn *c)
{
    taskq *q = c->data;
    q->version_ok = 0;
    q->stalled = 0; /* a new connection that answered: no stall carried over from the old one */
    q->ping_sent_ns = 0;
    if (redisAsyncCommand(c->ac, on_info, q, "INFO server") != REDIS_OK) return;
    refetch_waiters(q, 0);                  /* events that came while commands were down */
    if (q->subscribed) tq_owned_recheck(q); /* a create's reply may have been lost */
    tq_run_cmd_up(q);
}

static void cmd_down(redisconn *c)
{
    taskq *q = c->data;
    q->version_ok = 0;
    q->ping_sent_ns = 0; /* its reply came back NULL */
    tq_update_ready(q);
}

static void claim_up(redisconn *c)
{
    taskq *q = c->data;
    tq_run_up(q, c == &q->claim[TQ_CPU] ? TQ_CPU : TQ_IO);
}

/* --- lifecycle ------------------------------------------------------------------ */

void taskq_metrics(const taskq *q, buf *b)
{
    taskq *m = (taskq *)q; /* atomics only */
    uint64_t up = (uint64_t)atomic_load(&m->ready);
    uint64_t local = atomic_load_explicit(&m->n_local, memory_order_relaxed);
    uint64_t v[] = {atomic_load_explicit(&m->n_claimed, memory_order_relaxed),
                    atomic_load_explicit(&m->n_reclaimed, memory_order_relaxed),
                    atomic_load_explicit(&m->n_requeued, memory_order_relaxed),
                    atomic_load_explicit(&m->n_lost, memory_order_relaxed)};
    prom_gauge_u64(b, "iocpu_task_backend_up",
                   "1 while the Redis task backend answers (and is 6.2 or newer), else 0.", up);
    prom_gauge_u64(b, "iocpu_task_backend_local_jobs",
                   "Jobs of the shared queue this replica has claimed and not yet reported.",
                   local);
    const char *names[] = {"claimed", "reclaimed", "requeued", "lost"};
    prom_family(b, "iocpu_task_backend_jobs_total", "counter",
                "Jobs of the shared queue by what this replica did: claimed (from the stream), "
                "reclaimed (from a silent replica), requeued (handed back: no free worker), "
                "lost (taken over by another replica before it reported).");
    for (size_t i = 0; i < 4; i++) {
        char lbl[64] = "";
        prom_label(lbl, sizeof(lbl), "event", names[i]);
        prom_sample_u64(b, "iocpu_task_backend_jobs_total", lbl, v[i]);
    }
    task_quota_stats qs; /* loop 0 (tasks_publish): the only thread that counts */
    task_quota_get_stats(q->quota, &qs);
    task_quota_render(&qs, b);
    prom_family(b, "iocpu_task_backend_dead_lettered_total", "counter",
                "Entries of the job streams that named no valid task (poison), moved by this "
                "replica to " TQ_DEAD ", by reason.");
    for (size_t i = 0; i < TQ_DL_NREASONS; i++) {
        char lbl[64] = "";
        prom_label(lbl, sizeof(lbl), "reason", TQ_DEAD_REASON[i]);
        prom_sample_u64(b, "iocpu_task_backend_dead_lettered_total", lbl,
                        atomic_load_explicit(&m->n_dead[i], memory_order_relaxed));
    }
}

int taskq_ready(const taskq *q)
{
    return atomic_load(&((taskq *)q)->ready);
}

/* The consumer name of this replica in the group, which tasks show as
 * their "runner": the replica id (or the host name) and 64 random bits, so
 * that each process is a consumer of its own (a restarted replica does not
 * take its predecessor's jobs for its own) and no process id shows. */
static void consumer_name(taskq *q, const char *replica_id)
{
    char host[64] = "";
    if (gethostname(host, sizeof(host) - 1) < 0) strcpy(host, "iocpu");
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        struct timespec a, b; /* no entropy yet (early boot): the clocks' noise */
        clock_gettime(CLOCK_REALTIME, &a);
        clock_gettime(CLOCK_MONOTONIC, &b);
        r = ((uint64_t)a.tv_sec << 32 ^ (uint64_t)a.tv_nsec) * 0x9e3779b97f4a7c15ull ^
            (uint64_t)b.tv_nsec;
    }
    snprintf(q->consumer, sizeof(q->consumer), "%s-%016llx", replica_id[0] ? replica_id : host,
             (unsigned long long)r);
}

/* Starts the four connections (each retries by itself). */
static void connect_all(taskq *q)
{
    redisconn *conns[] = {&q->cmd, &q->events, &q->claim[TQ_CPU], &q->claim[TQ_IO]};
    const char *names[] = {"commands", "events", "cpu jobs", "io jobs"};
    q->cmd.on_up = cmd_up;
    q->cmd.on_down = cmd_down;
    q->events.on_up = events_up;
    q->events.on_down = events_down;
    for (int k = 0; k < TQ_NKINDS; k++)
        q->claim[k].on_up = claim_up;
    for (size_t i = 0; i < 4; i++) {
        conns[i]->name = names[i];
        conns[i]->data = q;
        redisconn_start(conns[i], q->l, &q->url);
    }
}

int taskq_new(taskq **out, const task_env *env)
{
    taskq *q = calloc(1, sizeof(*q));
    if (!q) return -ENOMEM;
    list_init(&q->jobs);
    for (size_t b = 0; b < TQ_WAIT_BUCKETS; b++)
        list_init(&q->waiters[b]);
    for (size_t b = 0; b < TQ_OWNED_BUCKETS; b++)
        list_init(&q->owned[b]);
    q->per_client = env->max_per_client;
    if (task_quota_new(&q->quota, env->max_per_client) < 0) {
        free(q);
        return -ENOMEM;
    }
    if (redis_url_parse(env->url, &q->url) < 0) {
        task_quota_free(q->quota);
        free(q);
        return -EINVAL;
    }
    if (env->password && env->password[0])
        snprintf(q->url.password, sizeof(q->url.password), "%s", env->password);
    q->l = env->loop;
    q->ex = env->ex;
    q->channel = env->channel;
    q->alog = env->alog;
    q->attempts = env->attempts;
    q->claim_idle_s = env->claim_idle_s;
    q->lim = env->limits;
    q->cmd_timeout_ns = secs_to_ns(env->command_timeout_s > 0 ? env->command_timeout_s : 3);
    q->max_live = (long)env->max_live;
    q->keep = (long)env->keep;
    q->ttl_s = env->ttl_s < 1 ? 1 : (uint64_t)ceil(env->ttl_s);
    consumer_name(q, env->replica_id);
    lograte_init(&q->log, 10, 1000000000u);
    connect_all(q);
    (void)loop_timer_start(q->l, &q->ping, q->cmd_timeout_ns, ping_tick, q);
    *out = q;
    return 0;
}

void taskq_drain(taskq *q)
{
    if (q->draining) return;
    q->draining = 1;
    tq_run_stop(q);
}

void taskq_close(taskq *q)
{
    if (!q || q->closing) return;
    q->closing = 1;
    uint64_t hidden = lograte_flush(&q->log);
    if (hidden)
        fprintf(stderr, "iocpu: redis: %llu more lines about the queue suppressed\n",
                (unsigned long long)hidden);
    loop_timer_cancel(q->l, &q->ping);
    tq_update_ready(q);
    tq_run_close(q);
    redisconn_stop(&q->claim[TQ_CPU]);
    redisconn_stop(&q->claim[TQ_IO]);
    redisconn_stop(&q->events);
    redisconn_stop(&q->cmd); /* pending replies come back NULL: their ops end */
    tq_op *op;
    for (size_t b = 0; b < TQ_WAIT_BUCKETS; b++)
        while ((op = first_waiter(&q->waiters[b]))) {
            if (op->tw)
                op_detail(op, 503, "server is shutting down");
            else
                op_free(op);
        }
}

void taskq_free(taskq *q)
{
    if (!q) return;
    taskq_close(q);
    tq_run_free(q);
    tq_owned_free(q);
    free(q);
}
