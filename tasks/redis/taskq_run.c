/*
 * taskq_run.c - this replica's share of the Redis queue: it claims jobs,
 * runs them, reports them, keeps its claims alive and takes over the jobs
 * of replicas that went silent.
 *
 * DESIGN
 * Claiming: each stream has its own connection holding one blocking
 * XREADGROUP (BLOCK 2 s, then again). CPU jobs are asked for only when a
 * worker is free (COUNT = free workers), so a busy replica leaves the work
 * to the others; IO jobs (a loop timer each, no worker) up to IO_MAX at
 * once. When no worker is free, a 20 ms local timer looks again (no Redis
 * traffic). A claimed entry becomes a tq_job and runs the START script
 * (which counts the attempt and records this replica as the runner); it
 * then runs on the executor (cpu) or a loop timer (io), and FINISH records
 * the outcome, acknowledges and deletes the entry, and publishes "done".
 *
 * Failures: while a job runs, a heartbeat (every claim-idle / 3) resets the
 * idle time of our pending entries, so nobody takes them; every claim-idle
 * / 2 this replica runs XAUTOCLAIM for entries idle longer than claim-idle
 * (their replica died or lost Redis) and runs them again: START counts the
 * attempts and fails the task after --task-attempts. FINISH writes only if
 * this replica is still the task's runner at the same attempt, so a job
 * taken over never ends twice. A finish that cannot reach Redis stays here
 * (UNREPORTED) and is sent again when the connection is back; its entry
 * stays ours meanwhile, so nothing acknowledged runs again. Likewise a START
 * whose reply was lost is sent again (START recognises its own runner and
 * does not count the attempt twice).
 *
 * Poison: an entry of a job stream that names no valid task (no id, a
 * malformed id, fields besides it, no task hash at the id, another type at
 * the key, a record that fails validation, an entry deleted while pending)
 * is acknowledged and moved to iocpu:jobs:dead with its reason
 * (taskq_lua.c), counted and logged once (rate-limited) by
 * tq_dead_lettered(): it never stays pending, so XAUTOCLAIM never brings it
 * back, and it never holds a place under --max-tasks.
 *
 * Threads: loop 0 only, except a CPU job's work on an executor worker:
 * what the two share is the job's task_run (tasks/run.h says how).
 */
#define _GNU_SOURCE
#include "taskq_run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskq_lua.h"

#define IO_MAX 1024
#define CLAIM_BLOCK_MS "2000"
#define RETRY_CLAIM_NS 20000000ull
#define HEARTBEAT_BATCH 200

static void claim(taskq *q, int kind);
static void report(tq_job *j);

static uint64_t idle_ms(const taskq *q)
{
    return (uint64_t)llround(q->claim_idle_s * 1000);
}

/* --- jobs ----------------------------------------------------------------------- */

/* The latest job claimed, or NULL. */
static tq_job *first_job(const taskq *q)
{
    list_node *n = list_first(&q->jobs);
    return n ? list_entry(n, tq_job, link) : NULL;
}

/* The job claimed before j, or NULL. */
static tq_job *next_job(const taskq *q, const tq_job *j)
{
    list_node *n = list_next(&q->jobs, &j->link);
    return n ? list_entry(n, tq_job, link) : NULL;
}

static tq_job *job_new(taskq *q, int kind, const char *entry, const char *id)
{
    tq_job *j = calloc(1, sizeof(*j));
    if (!j) return NULL;
    j->q = q;
    j->kind = kind;
    snprintf(j->entry, sizeof(j->entry), "%s", entry);
    snprintf(j->id, sizeof(j->id), "%s", id);
    list_insert_head(&q->jobs, &j->link);
    q->njobs[kind]++;
    atomic_fetch_add_explicit(&q->n_local, 1, memory_order_relaxed);
    return j;
}

static void job_free(tq_job *j)
{
    taskq *q = j->q;
    if (j->state == J_STARTING && j->kind == TQ_CPU) q->starting--;
    list_remove(&j->link);
    q->njobs[j->kind]--;
    atomic_fetch_sub_explicit(&q->n_local, 1, memory_order_relaxed);
    if (j->kind == TQ_IO) task_run_cancel(&j->run);
    free(j);
}

static size_t free_slots(taskq *q, int kind)
{
    if (kind == TQ_IO) return q->njobs[TQ_IO] >= IO_MAX ? 0 : IO_MAX - q->njobs[TQ_IO];
    executor_stats st;
    executor_get_stats(q->ex, &st);
    /* free workers, within the share tasks may take (--task-share) */
    size_t used = st.busy + st.queued + q->starting;
    size_t mine = st.bg_busy + st.bg_queued + q->starting;
    if (used >= st.workers || mine >= st.bg_max) return 0;
    size_t any = st.workers - used, share = st.bg_max - mine;
    return any < share ? any : share;
}

/* The work is over (run.h): an IO job's delay passed, a CPU job came back. */
static void run_done(task_run *r, int status)
{
    tq_job *j = r->data;
    taskq *q = j->q;
    if (j->kind == TQ_IO) {
        report(j);
        return;
    }
    if (q->closing) { /* abandoned: the entry stays pending, another replica reclaims it */
        job_free(j);
        return;
    }
    if (status == -ECANCELED) j->cancelled = 1;
    report(j);
    claim(q, TQ_CPU);
}

/* Starts j's work; a CPU job the executor has no room for (other endpoints
 * use it too) is not held, and on_retry_claim submits it again. */
static void submit(tq_job *j)
{
    j->run.done = run_done;
    j->run.data = j;
    int rc = task_run_start(&j->run, j->q->l, j->q->ex, j->q->channel, &j->spec);
    if (rc < 0 && j->kind == TQ_IO) report(j);
}

static void run(tq_job *j)
{
    j->state = J_RUNNING;
    j->started_ns = loop_now_ns();
    task_run_log(j->q->alog, j->id, &j->spec, (unsigned)strtoul(j->attempt, NULL, 10), &j->trace);
    submit(j);
}

/* --- START: the job is ours to run ----------------------------------------------- */

static const char *elem(const redisReply *r, size_t i)
{
    return i < r->elements && r->element[i]->str ? r->element[i]->str : "";
}

/* The spec START returned (kind, delay, n, iterations, ms), checked as
 * strictly as a request: a record changed in Redis by anyone else must not
 * run 2^64 iterations or wait NaN seconds. -1 with j->invalid set. */
static int read_spec(tq_job *j, const redisReply *rep)
{
    static const char *const names[] = {"kind", "delay", "n", "iterations", "ms"};
    memset(&j->spec, 0, sizeof(j->spec));
    char why[96];
    if (task_spec_field(&j->spec, "kind", elem(rep, 2), &j->q->lim, why, sizeof(why)) < 0) goto bad;
    int io = j->spec.kind == TASK_IO;
    for (size_t i = 1; i < 5; i++) {
        const char *text = elem(rep, i + 2);
        int wanted = io ? i == 1 : i >= 2, required = io ? i == 1 : i == 2;
        if (!wanted) continue;
        if (!*text && !required) continue; /* iterations or ms: one of them is set */
        if (task_spec_field(&j->spec, names[i], text, &j->q->lim, why, sizeof(why)) < 0) goto bad;
    }
    return 0;
bad:
    snprintf(j->invalid, sizeof(j->invalid), "%s", why);
    tq_log(j->q, "iocpu: task %s not run: %s\n", j->id, why);
    return -1;
}

static void on_started(redisAsyncContext *ac, void *reply, void *priv)
{
    tq_job *j = priv;
    taskq *q = j->q;
    redisReply *rep = reply;
    (void)ac;
    if (!rep && !q->closing) { /* did START run? Ask again when commands are back: START */
        j->unsent = 1;         /* knows its own runner and does not count a second attempt */
        return;
    }
    if (j->kind == TQ_CPU) q->starting--;
    j->state = J_RUNNING; /* not STARTING any more (job_free's count) */
    if (rep && rep->type == REDIS_REPLY_ARRAY && !strcmp(elem(rep, 0), "dead") &&
        rep->elements == 3 && rep->element[2]->integer == 1)
        tq_dead_lettered(q, elem(rep, 1), TQ_STREAM[j->kind], j->entry);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || strcmp(elem(rep, 0), "run") || q->closing ||
        rep->elements < 7) {
        if (rep && rep->type == REDIS_REPLY_ERROR) fprintf(stderr, "iocpu: redis: %s\n", rep->str);
        int kind = j->kind;
        job_free(j); /* not run here: ended, gone, failed, or back to the pending list */
        claim(q, kind);
        return;
    }
    snprintf(j->attempt, sizeof(j->attempt), "%s", elem(rep, 1));
    /* the creating request's span, as create_start() wrote it (trace_format):
     * read back from Redis, so parsed as strictly as a header; one that does
     * not parse is no trace. Its id field is that span's own id. */
    if (trace_parse(elem(rep, 7), strlen(elem(rep, 7)), &j->trace) == 0)
        memcpy(j->trace.span_id, j->trace.parent_id, TRACE_SPAN_BYTES);
    else
        memset(&j->trace, 0, sizeof(j->trace));
    /* invalid (reported failed), or a cancel overtook the START reply */
    if (read_spec(j, rep) < 0 || j->cancelled) {
        report(j);
        return;
    }
    run(j);
}

/* Runs START for j; without a connection, j waits (unsent) for the next one. */
static void send_start(tq_job *j)
{
    taskq *q = j->q;
    char key[sizeof(TQ_KEY_PREFIX) + TASK_ID_LEN + 8], now[32], attempts[24], ttl[24];
    snprintf(key, sizeof(key), TQ_KEY_PREFIX "%s", j->id);
    tq_now(now, sizeof(now));
    snprintf(attempts, sizeof(attempts), "%ld", q->attempts);
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)q->ttl_s);
    const char *argv[] = {"EVAL",   TQ_LUA_START, "3",        key,         TQ_STREAM[j->kind],
                          TQ_DEAD,  j->entry,     TQ_GROUP,   q->consumer, now,
                          attempts, ttl,          TQ_CHANNEL, j->id};
    j->unsent = tq_command(&q->cmd, on_started, j, 14, argv) < 0;
}

static void job_claimed(taskq *q, int kind, const char *entry, const char *id)
{
    if (q->closing) return;
    tq_job *j = job_new(q, kind, entry, id);
    if (!j) return; /* stays pending: reclaimed after claim-idle */
    j->state = J_STARTING;
    if (kind == TQ_CPU) q->starting++;
    send_start(j);
}

/* The answer of TQ_LUA_REQUEUE when it dead-lettered: {"dead", reason, 1|0, entry}. */
static void on_maybe_dead(redisAsyncContext *ac, void *reply, void *priv)
{
    redisconn *c = ac->data;
    taskq *q = c ? c->data : NULL;
    const redisReply *rep = reply;
    int kind = (int)(intptr_t)priv;
    if (!q || !rep || q->closing || rep->type != REDIS_REPLY_ARRAY) return;
    if (rep->elements == 4 && !strcmp(elem(rep, 0), "dead") && rep->element[2]->integer == 1)
        tq_dead_lettered(q, elem(rep, 1), TQ_STREAM[kind], elem(rep, 3));
}

/* Gives an entry we cannot run now back to the stream (TQ_LUA_REQUEUE). */
static void requeue(taskq *q, int kind, const char *entry, const char *id)
{
    char key[sizeof(TQ_KEY_PREFIX) + TASK_ID_LEN + 8];
    snprintf(key, sizeof(key), TQ_KEY_PREFIX "%s", id);
    const char *argv[] = {"EVAL",  TQ_LUA_REQUEUE, "3",      key, TQ_STREAM[kind],
                          TQ_DEAD, entry,          TQ_GROUP, id};
    atomic_fetch_add_explicit(&q->n_requeued, 1, memory_order_relaxed);
    /* if it fails, reclaimed after claim-idle */
    tq_command(&q->cmd, on_maybe_dead, (void *)(intptr_t)kind, 9, argv);
}

/* The answer of TQ_LUA_DEAD: {reason, 1|0, entry}. */
static void on_dead(redisAsyncContext *ac, void *reply, void *priv)
{
    redisconn *c = ac->data;
    taskq *q = c ? c->data : NULL;
    const redisReply *rep = reply;
    int kind = (int)(intptr_t)priv;
    if (!q || !rep || q->closing) return;
    if (rep->type == REDIS_REPLY_ERROR) tq_log(q, "iocpu: redis: %s\n", rep->str);
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 && rep->element[1]->integer == 1)
        tq_dead_lettered(q, elem(rep, 0), TQ_STREAM[kind], elem(rep, 2));
}

/* Moves a poison entry (not ours, or deleted while pending) to TQ_DEAD. */
static void dead_letter(taskq *q, int kind, const char *entry)
{
    const char *argv[] = {"EVAL", TQ_LUA_DEAD, "2", TQ_STREAM[kind], TQ_DEAD, entry};
    /* if it fails, it is still pending: reclaimed after claim-idle and sent again */
    tq_command(&q->cmd, on_dead, (void *)(intptr_t)kind, 6, argv);
}

/* Our own entries have exactly one field: id <32 lowercase hex> (the
 * scripts' shape() says the same). The id, or NULL for poison. */
static const char *entry_task_id(const redisReply *f)
{
    if (f->type != REDIS_REPLY_ARRAY || f->elements != 2) return NULL;
    const redisReply *k = f->element[0], *v = f->element[1];
    uint8_t raw[TASK_ID_BYTES];
    if (k->type != REDIS_REPLY_STRING || k->len != 2 || memcmp(k->str, "id", 2)) return NULL;
    if (v->type != REDIS_REPLY_STRING || v->len != TASK_ID_LEN) return NULL;
    return task_id_parse(v->str, raw) == 0 ? v->str : NULL;
}

/* One stream entry of an XREADGROUP / XAUTOCLAIM reply: [entry, [field, value...]]
 * (the fields nil: deleted while pending). Poison goes to the dead-letter
 * stream. A blocked XREADGROUP asked when a worker was free; if the worker
 * has been taken since (by /cpu/executor, say), the job goes back to the others. */
static void take_entry(taskq *q, int kind, const redisReply *e, int reclaimed)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *entry = e->element[0]->str, *id = entry_task_id(e->element[1]);
    if (!id) {
        dead_letter(q, kind, entry);
        return;
    }
    if (reclaimed)
        tq_log(q, "iocpu: reclaiming %s job %s (its replica went silent)\n",
               kind == TQ_CPU ? "cpu" : "io", entry);
    if (free_slots(q, kind)) {
        atomic_fetch_add_explicit(reclaimed ? &q->n_reclaimed : &q->n_claimed, 1,
                                  memory_order_relaxed);
        job_claimed(q, kind, entry, id);
    } else {
        requeue(q, kind, entry, id);
    }
}

/* --- FINISH: the outcome back to Redis ------------------------------------------- */

static void on_finished(redisAsyncContext *ac, void *reply, void *priv)
{
    tq_job *j = priv;
    taskq *q = j->q;
    redisReply *rep = reply;
    (void)ac;
    if (!rep || q->closing) {
        j->state = J_UNREPORTED; /* sent again when the connection is back */
        if (q->closing) job_free(j);
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR) fprintf(stderr, "iocpu: redis: %s\n", rep->str);
    if (rep->type == REDIS_REPLY_STRING && !strcmp(rep->str, "lost"))
        atomic_fetch_add_explicit(&q->n_lost, 1, memory_order_relaxed);
    if (rep->type == REDIS_REPLY_STRING && !strcmp(rep->str, "dead"))
        tq_dead_lettered(q, TQ_DEAD_REASON[TQ_DL_INVALID_TASK], TQ_STREAM[j->kind], j->entry);
    int kind = j->kind;
    job_free(j);
    claim(q, kind);
}

static void report(tq_job *j)
{
    taskq *q = j->q;
    char key[sizeof(TQ_KEY_PREFIX) + TASK_ID_LEN + 8], now[32], ttl[24], elapsed[32], v1[32],
        v2[32];
    snprintf(key, sizeof(key), TQ_KEY_PREFIX "%s", j->id);
    tq_now(now, sizeof(now));
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)q->ttl_s);
    uint64_t t0 = j->started_ns, t1 = loop_now_ns();
    const executor_job *ej = &j->run.job;
    if (j->kind == TQ_CPU && ej->started_ns && ej->finished_ns >= ej->started_ns) {
        t0 = ej->started_ns;
        t1 = ej->finished_ns;
    }
    snprintf(elapsed, sizeof(elapsed), "%.6f", t0 ? (double)(t1 - t0) / 1e9 : 0.0);
    const char *argv[24] = {"EVAL",
                            TQ_LUA_FINISH,
                            "3",
                            key,
                            TQ_STREAM[j->kind],
                            TQ_DEAD,
                            j->entry,
                            TQ_GROUP,
                            q->consumer,
                            j->attempt,
                            now,
                            ttl,
                            TQ_CHANNEL,
                            j->id,
                            j->invalid[0] ? TQ_DEAD_REASON[TQ_DL_INVALID_TASK] : ""};
    int argc = 15;
    if (j->invalid[0]) {
        argv[argc++] = "failed";
        argv[argc++] = "error";
        argv[argc++] = j->invalid;
    } else if (j->cancelled) {
        argv[argc++] = "cancelled";
    } else if (j->kind == TQ_CPU && j->run.rc < 0) {
        argv[argc++] = "failed";
        argv[argc++] = "error";
        argv[argc++] = strerror(-j->run.rc);
    } else {
        argv[argc++] = "done";
        if (j->kind == TQ_CPU) {
            snprintf(v1, sizeof(v1), "%llu", (unsigned long long)j->run.out.sum);
            snprintf(v2, sizeof(v2), "%llu", (unsigned long long)j->run.out.iterations);
            argv[argc++] = "result";
            argv[argc++] = v1;
            argv[argc++] = "iterations_done";
            argv[argc++] = v2;
        }
    }
    argv[argc++] = "elapsed";
    argv[argc++] = elapsed;
    j->state = J_FINISHING;
    if (tq_command(&q->cmd, on_finished, j, argc, argv) < 0) j->state = J_UNREPORTED;
}

/* --- claiming ----------------------------------------------------------------------- */

static void on_retry_claim(timer *t)
{
    taskq *q = t->data;
    q->retry_armed = 0;
    for (tq_job *j = first_job(q); j; j = next_job(q, j)) /* jobs the executor had no room for */
        if (j->kind == TQ_CPU && j->state == J_RUNNING && !task_run_held(&j->run) && !j->cancelled)
            submit(j);
    claim(q, TQ_CPU);
}

static void arm_retry(taskq *q)
{
    if (q->retry_armed || q->closing) return;
    q->retry_armed = 1;
    loop_timer_start(q->l, &q->retry_claim, RETRY_CLAIM_NS, on_retry_claim, q);
}

static void on_claimed(redisAsyncContext *ac, void *reply, void *priv)
{
    redisconn *c = priv;
    taskq *q = c->data;
    int kind = c == &q->claim[TQ_CPU] ? TQ_CPU : TQ_IO;
    redisReply *rep = reply;
    (void)ac;
    q->claiming[kind] = 0;
    if (!rep || q->closing) return;       /* the connection went: claim_up starts again */
    if (rep->type == REDIS_REPLY_ERROR) { /* NOGROUP: Redis lost its data; make the group again */
        fprintf(stderr, "iocpu: redis: %s\n", rep->str);
        q->group_ok[kind] = 0;
        tq_run_up(q, kind);
        return;
    }
    if (rep->type == REDIS_REPLY_ARRAY && q->draining) {
        /* claimed after the drain began: not started here, reclaimed after claim-idle */
    } else if (rep->type == REDIS_REPLY_ARRAY) {
        for (size_t s = 0; s < rep->elements; s++) {
            const redisReply *st = rep->element[s];
            if (st->type != REDIS_REPLY_ARRAY || st->elements != 2) continue;
            const redisReply *entries = st->element[1];
            for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; i++)
                take_entry(q, kind, entries->element[i], 0);
        }
    }
    claim(q, kind);
}

static void claim(taskq *q, int kind)
{
    redisconn *c = &q->claim[kind];
    if (q->claiming[kind] || q->draining || q->closing || !c->up || !q->group_ok[kind]) return;
    size_t n = free_slots(q, kind);
    if (!n) {
        if (kind == TQ_CPU) arm_retry(q);
        return;
    }
    char count[24];
    snprintf(count, sizeof(count), "%zu", n);
    const char *argv[] = {"XREADGROUP", "GROUP",        TQ_GROUP,  q->consumer,     "COUNT", count,
                          "BLOCK",      CLAIM_BLOCK_MS, "STREAMS", TQ_STREAM[kind], ">"};
    if (tq_command(c, on_claimed, c, 11, argv) == 0) q->claiming[kind] = 1;
}

static void on_group_retry(timer *t)
{
    redisconn *c = t->data;
    taskq *q = c->data;
    if (!q->closing && !q->draining) tq_run_up(q, c == &q->claim[TQ_CPU] ? TQ_CPU : TQ_IO);
}

/* XGROUP CREATE answered. An error other than BUSYGROUP (the stream's key
 * holds another type): logged once, tried again every second until the key
 * is a stream again, with no claims meanwhile. */
static void on_group(redisAsyncContext *ac, void *reply, void *priv)
{
    redisconn *c = priv;
    taskq *q = c->data;
    int kind = c == &q->claim[TQ_CPU] ? TQ_CPU : TQ_IO;
    redisReply *rep = reply;
    (void)ac;
    if (!rep || q->closing) return;
    if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9)) {
        if (!q->group_failed[kind])
            tq_log(q,
                   "iocpu: redis: cannot make the consumer group of %s (trying every second): %s\n",
                   TQ_STREAM[kind], rep->str);
        q->group_failed[kind] = 1;
        (void)loop_timer_start(q->l, &q->group_retry[kind], 1000000000ull, on_group_retry, c);
        return;
    }
    if (q->group_failed[kind])
        tq_log(q, "iocpu: redis: the consumer group of %s is back\n", TQ_STREAM[kind]);
    q->group_failed[kind] = 0;
    q->group_ok[kind] = 1;
    claim(q, kind);
}

void tq_run_up(taskq *q, int kind)
{
    redisconn *c = &q->claim[kind];
    q->group_ok[kind] = 0;
    q->claiming[kind] = 0;
    const char *argv[] = {"XGROUP", "CREATE", TQ_STREAM[kind], TQ_GROUP, "0", "MKSTREAM"};
    tq_command(c, on_group, c, 6, argv);
}

/* --- heartbeat and reclaiming ---------------------------------------------------- */

static void heartbeat(timer *t)
{
    taskq *q = t->data;
    for (int k = 0; k < TQ_NKINDS; k++) {
        const char *argv[6 + HEARTBEAT_BATCH] = {"EVAL",       TQ_LUA_HEARTBEAT, "1",
                                                 TQ_STREAM[k], TQ_GROUP,         q->consumer};
        int argc = 6;
        for (tq_job *j = first_job(q); j; j = next_job(q, j)) {
            if (j->kind != k) continue;
            argv[argc++] = j->entry;
            if (argc == 6 + HEARTBEAT_BATCH) {
                tq_command(&q->cmd, NULL, NULL, argc, argv);
                argc = 6;
            }
        }
        if (argc > 6) tq_command(&q->cmd, NULL, NULL, argc, argv);
    }
    if (!q->closing) loop_timer_start(q->l, &q->heartbeat, idle_ms(q) * 1000000 / 3, heartbeat, q);
}

static void on_reclaimed(redisAsyncContext *ac, void *reply, void *priv)
{
    taskq *q = ac->data ? ((redisconn *)ac->data)->data : NULL;
    int kind = (int)(intptr_t)priv;
    redisReply *rep = reply;
    if (!q || !rep || q->closing || q->draining) return;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) return; /* NOGROUP etc.: next round */
    const redisReply *entries = rep->element[1];
    for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; i++)
        take_entry(q, kind, entries->element[i], 1);
}

static void reclaim(timer *t)
{
    taskq *q = t->data;
    if (q->closing) return;
    if (!q->draining) {
        for (int k = 0; k < TQ_NKINDS; k++) {
            size_t n = free_slots(q, k);
            if (!n) continue;
            char count[24], idle[24];
            snprintf(count, sizeof(count), "%zu", n > 100 ? 100 : n);
            snprintf(idle, sizeof(idle), "%llu", (unsigned long long)idle_ms(q));
            const char *argv[] = {"XAUTOCLAIM", TQ_STREAM[k], TQ_GROUP, q->consumer,
                                  idle,         "0-0",        "COUNT",  count};
            tq_command(&q->cmd, on_reclaimed, (void *)(intptr_t)k, 8, argv);
        }
    }
    loop_timer_start(q->l, &q->reclaim, idle_ms(q) * 1000000 / 2, reclaim, q);
}

void tq_run_cmd_up(taskq *q)
{
    for (tq_job *j = first_job(q); j; j = next_job(q, j))
        if (j->state == J_UNREPORTED)
            report(j);
        else if (j->state == J_STARTING && j->unsent)
            send_start(j);
    /* After an outage every replica's claims look idle: refresh ours at once,
     * and give the others a full claim-idle to do the same before reclaiming. */
    loop_timer_cancel(q->l, &q->heartbeat);
    loop_timer_start(q->l, &q->heartbeat, 0, heartbeat, q);
    loop_timer_cancel(q->l, &q->reclaim);
    if (!q->draining) loop_timer_start(q->l, &q->reclaim, idle_ms(q) * 1000000, reclaim, q);
}

void tq_run_event_cancel(taskq *q, const char *id)
{
    for (tq_job *j = first_job(q); j; j = next_job(q, j)) {
        if (strcmp(j->id, id) || j->cancelled) continue;
        j->cancelled = 1;
        if (j->state != J_RUNNING) return; /* STARTING: on_started reports it */
        if (j->kind == TQ_IO) {
            task_run_cancel(&j->run);
            report(j);
        } else if (task_run_held(&j->run)) {
            task_run_cancel(&j->run); /* its done() reports */
        } else {
            report(j);
        }
        return;
    }
}

void tq_run_stop(taskq *q)
{
    redisconn_stop(&q->claim[TQ_CPU]); /* a claim in flight is dropped: reclaimed later */
    redisconn_stop(&q->claim[TQ_IO]);
    loop_timer_cancel(q->l, &q->reclaim);
    for (int k = 0; k < TQ_NKINDS; k++)
        loop_timer_cancel(q->l, &q->group_retry[k]);
}

void tq_run_close(taskq *q)
{
    for (int k = 0; k < TQ_NKINDS; k++)
        loop_timer_cancel(q->l, &q->group_retry[k]);
    loop_timer_cancel(q->l, &q->heartbeat);
    loop_timer_cancel(q->l, &q->reclaim);
    loop_timer_cancel(q->l, &q->retry_claim);
    q->retry_armed = 0;
    tq_job *next;
    for (tq_job *j = first_job(q); j; j = next) {
        next = next_job(q, j);
        /* in the executor: its done() frees it; starting or finishing: the
         * NULL reply does; the rest (io timers, unreported) are dropped now */
        if (task_run_held(&j->run) || (j->state == J_STARTING && !j->unsent) ||
            j->state == J_FINISHING)
            continue;
        job_free(j);
    }
}

void tq_run_free(taskq *q)
{
    list_node *n, *next;
    list_foreach_safe (n, next, &q->jobs) /* job_free unlinks and frees only n */
        job_free(list_entry(n, tq_job, link));
}

size_t taskq_busy(const taskq *q)
{
    return q->njobs[TQ_CPU] + q->njobs[TQ_IO];
}
