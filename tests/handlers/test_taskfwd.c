/*
 * test_taskfwd.c - forwarding /tasks operations between loops
 * (handlers/taskfwd.c) without HTTP and without sockets: two bare "loops"
 * (an app with only its index, loop and mailboxes), the memory backend on
 * loop 0, each loop on a thread of its own. The asker is a mail run on loop
 * 1 that calls taskfwd_forward(); its outcome comes back through the done
 * callback, on loop 1's thread. Time bounds are wide (two noisy cores).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "app.h"
#include "backend.h"
#include "executor.h"
#include "loop.h"
#include "mailbox.h"
#include "memory.h"
#include "taskfwd.h"

TestSuite(taskfwd, .timeout = 60);

/* --- two loops ---------------------------------------------------------- */

typedef struct lane {
    app *a;
    loop_watcher ex_w; /* this loop's executor completion channel */
    pthread_t th;
    _Atomic(pthread_t) thread_id;
    int running;
} lane;

typedef struct env {
    lane ln[2];
    mailbox *mbs[2];
    executor *ex;
    task_backend *b;
    taskfwd f[2];
} env;

static env E;

static void on_channel(loop_watcher *w, uint32_t events)
{
    (void)events;
    lane *ln = w->data;
    executor_channel_run_done(ln->a->ex, ln->a->index);
}

static void *lane_main(void *p)
{
    lane *ln = p;
    atomic_store(&ln->thread_id, pthread_self());
    loop_run(ln->a->loop);
    return NULL;
}

static void lane_new(unsigned i)
{
    lane *ln = &E.ln[i];
    app *a = calloc(1, sizeof(*a));
    cr_assert_not_null(a);
    a->index = i;
    cr_assert_eq(loop_new(&a->loop), 0);
    cr_assert_eq(mailbox_new(&a->mbox, a->loop), 0);
    E.mbs[i] = a->mbox;
    a->mailboxes = E.mbs;
    a->ex = E.ex; /* not needed by taskfwd: the watcher below reaches it through a */
    ln->a = a;
    ln->ex_w.fd = executor_channel_fd(E.ex, i);
    ln->ex_w.cb = on_channel;
    ln->ex_w.data = ln;
    cr_assert_eq(loop_watch(a->loop, &ln->ex_w, EPOLLIN), 0);
}

static void lane_start(unsigned i)
{
    lane *ln = &E.ln[i];
    cr_assert_eq(pthread_create(&ln->th, NULL, lane_main, ln), 0);
    ln->running = 1;
    while (pthread_equal(atomic_load(&ln->thread_id), (pthread_t)0))
        usleep(1000);
}

static void lane_stop(unsigned i)
{
    lane *ln = &E.ln[i];
    if (!ln->running) return;
    loop_stop(ln->a->loop);
    pthread_join(ln->th, NULL);
    ln->running = 0;
}

static void env_start(size_t max_live)
{
    memset(&E, 0, sizeof(E));
    cr_assert_eq(executor_new_channels(&E.ex, 2, 16, 0, 2), 0);
    lane_new(0);
    lane_new(1);
    static const task_backend_type *const types[] = {&task_memory_type};
    task_env te = {.loop = E.ln[0].a->loop,
                   .ex = E.ex,
                   .channel = 0,
                   .url = "memory",
                   .replica_id = "",
                   .max_live = max_live,
                   .keep = 100,
                   .ttl_s = 60};
    cr_assert_eq(task_backend_open(&E.b, types, 1, &te), 0);
    taskfwd_init(&E.f[0], E.ln[0].a, &E.f[0], E.b);
    taskfwd_init(&E.f[1], E.ln[1].a, &E.f[0], NULL);
    lane_start(0);
    lane_start(1);
}

/* The server's order: loops stopped, forwarded calls and the backend let go,
 * the executor freed, then the backend, mailboxes (dropping what they hold)
 * and loops. */
static void env_stop(void)
{
    lane_stop(1);
    lane_stop(0);
    taskfwd_free_all(&E.f[0]);
    E.b->type->close(E.b);
    executor_free(E.ex);
    E.b->type->free(E.b);
    for (int i = 1; i >= 0; i--) {
        mailbox_free(E.ln[i].a->mbox);
        loop_free(E.ln[i].a->loop);
        free(E.ln[i].a);
    }
}

/* --- running something on a loop's thread and waiting for it ----------- */

typedef struct on_loop {
    mail m; /* first */
    void (*fn)(void *arg);
    void *arg;
    atomic_int done;
} on_loop;

static void on_loop_fn(mail *m, int dropped)
{
    on_loop *o = (on_loop *)m;
    if (!dropped) o->fn(o->arg);
    atomic_store(&o->done, dropped ? 2 : 1);
}

static int wait_flag(atomic_int *f, int want, double secs)
{
    uint64_t end = loop_now_ns() + secs_to_ns(secs);
    while (atomic_load(f) < want && loop_now_ns() < end)
        usleep(1000);
    return atomic_load(f) >= want;
}

/* Runs fn(arg) on loop i's thread; returns once it ran. */
static void run_on(unsigned i, void (*fn)(void *), void *arg)
{
    on_loop o = {.m.fn = on_loop_fn, .fn = fn, .arg = arg};
    mailbox_post(E.mbs[i], &o.m);
    cr_assert(wait_flag(&o.done, 1, 20), "loop %u ran the mail", i);
    cr_assert_eq(atomic_load(&o.done), 1);
}

static void read_ncalls(void *arg)
{
    *(size_t *)arg = E.f[0].ncalls; /* loop 0's field, read on loop 0 */
}

static size_t owner_ncalls(void)
{
    size_t n = 99;
    run_on(0, read_ncalls, &n);
    return n;
}

/* Waits until loop 0 holds want forwarded calls. */
static int wait_ncalls(size_t want, double secs)
{
    uint64_t end = loop_now_ns() + secs_to_ns(secs);
    while (owner_ncalls() != want && loop_now_ns() < end)
        usleep(2000);
    return owner_ncalls() == want;
}

/* --- the asker on loop 1 ----------------------------------------------- */

typedef struct asker {
    task_request q;
    taskfwd_call *call;
    int detach_now;
    /* what done() saw; published by `calls` */
    unsigned status;
    json_t *body;
    char location[TASK_PATH_ID_MAX + 16];
    pthread_t thread;
    uint64_t at_ns;
    atomic_int calls;
} asker;

static void asker_done(void *data, task_outcome *o)
{
    asker *k = data;
    k->status = o->status;
    json_decref(k->body);
    k->body = o->body; /* ours to take */
    o->body = NULL;
    snprintf(k->location, sizeof(k->location), "%s", o->location);
    k->thread = pthread_self();
    k->at_ns = loop_now_ns();
    atomic_fetch_add(&k->calls, 1);
}

static void do_forward(void *arg)
{
    asker *k = arg;
    k->call = taskfwd_forward(&E.f[1], &k->q, asker_done, k);
    if (k->call && k->detach_now) taskfwd_detach(k->call);
}

static void do_detach(void *arg)
{
    asker *k = arg;
    taskfwd_detach(k->call);
}

static void ask(asker *k, task_request q)
{
    json_t *old = k->body;
    memset(k, 0, sizeof(*k));
    json_decref(old);
    k->q = q;
    run_on(1, do_forward, k);
    cr_assert_not_null(k->call);
}

static void asker_free(asker *k)
{
    json_decref(k->body);
    k->body = NULL;
}

static const char *body_str(const asker *k, const char *key)
{
    return json_string_value(json_object_get(k->body, key));
}

static int on_loop1(const asker *k)
{
    return pthread_equal(k->thread, atomic_load(&E.ln[1].thread_id));
}

static task_request create_io(double delay)
{
    return (task_request){.op = TASK_OP_CREATE, .spec = {.kind = TASK_IO, .delay = delay}};
}

static task_request get_req(const char *id, double wait)
{
    task_request q = {.op = TASK_OP_GET, .wait = wait};
    snprintf(q.id, sizeof(q.id), "%s", id);
    return q;
}

/* Creates an IO task through loop 1; its id into id. */
static void create_via_loop1(double delay, char *id, size_t idlen)
{
    asker k = {0};
    ask(&k, create_io(delay));
    cr_assert(wait_flag(&k.calls, 1, 10), "the create came back");
    cr_assert_eq(k.status, 202);
    snprintf(id, idlen, "%s", body_str(&k, "id"));
    asker_free(&k);
}

/* --- tests ------------------------------------------------------------ */

Test(taskfwd, create_comes_back_202_on_loop_1)
{
    env_start(16);
    asker k = {0};
    ask(&k, create_io(30));
    cr_assert(wait_flag(&k.calls, 1, 10), "done ran");
    cr_assert_eq(atomic_load(&k.calls), 1);
    cr_assert(on_loop1(&k), "done ran on loop 1's thread");
    cr_assert_eq(k.status, 202);
    const char *id = body_str(&k, "id");
    cr_assert(id && strlen(id) == TASK_ID_LEN, "id %s", id ? id : "(none)");
    char want[80];
    snprintf(want, sizeof(want), "/tasks/%s", id);
    cr_assert_str_eq(k.location, want);
    cr_assert_str_eq(body_str(&k, "status"), "running");
    cr_assert_eq(owner_ncalls(), 0, "an immediate answer is not held on loop 0");
    /* the task lives on loop 0's backend: a GET through loop 1 sees it */
    asker g = {0};
    ask(&g, get_req(id, 0));
    cr_assert(wait_flag(&g.calls, 1, 10));
    cr_assert_eq(g.status, 200);
    cr_assert_str_eq(body_str(&g, "id"), id);
    asker_free(&g);
    asker_free(&k);
    env_stop();
}

/* A DELETE carries the hash of the token it presented, never the token; it
 * is compared on loop 0, where the task's owner hash is. */
Test(taskfwd, a_forwarded_cancel_is_checked_where_the_owner_hash_is)
{
    env_start(16);
    asker k = {0};
    ask(&k, create_io(30));
    cr_assert(wait_flag(&k.calls, 1, 10));
    cr_assert_eq(k.status, 202);
    char id[TASK_PATH_ID_MAX], token[TASK_OWNER_TOKEN_LEN + 1];
    snprintf(id, sizeof(id), "%s", body_str(&k, "id"));
    snprintf(token, sizeof(token), "%s", body_str(&k, "owner_token"));
    cr_assert_eq(strlen(token), TASK_OWNER_TOKEN_LEN, "the token came back to loop 1");
    task_request c = {.op = TASK_OP_CANCEL};
    snprintf(c.id, sizeof(c.id), "%s", id);
    task_owner_hash("someone else", 12, c.token_hash);
    asker d = {0};
    ask(&d, c);
    cr_assert(wait_flag(&d.calls, 1, 10));
    cr_assert_eq(d.status, 403);
    cr_assert_str_eq(body_str(&d, "detail"), TASK_NOT_OWNER);
    cr_assert(on_loop1(&d));
    task_owner_hash(token, strlen(token), c.token_hash);
    ask(&d, c);
    cr_assert(wait_flag(&d.calls, 1, 10));
    cr_assert_eq(d.status, 200);
    cr_assert_str_eq(body_str(&d, "status"), "cancelled");
    asker_free(&d);
    asker_free(&k);
    env_stop();
}

Test(taskfwd, unknown_id_comes_back_404)
{
    env_start(16);
    asker k = {0};
    ask(&k, get_req("0123456789abcdef0123456789abcdef", 5));
    cr_assert(wait_flag(&k.calls, 1, 10));
    cr_assert_eq(k.status, 404);
    cr_assert_str_eq(body_str(&k, "detail"), "Not Found");
    cr_assert(on_loop1(&k));
    asker_free(&k);
    env_stop();
}

Test(taskfwd, get_wait_comes_back_when_the_task_ends)
{
    env_start(16);
    uint64_t t0 = loop_now_ns();
    char id[TASK_PATH_ID_MAX];
    create_via_loop1(0.2, id, sizeof(id));
    asker k = {0};
    ask(&k, get_req(id, 5));
    cr_assert(wait_flag(&k.calls, 1, 10), "done ran");
    double took = secs_between(t0, k.at_ns);
    cr_assert_geq(took, 0.19, "not before the task ended: %.3f s", took);
    cr_assert_lt(took, 3.0, "when the task ended, not after the 5 s wait: %.3f s", took);
    cr_assert_eq(k.status, 200);
    cr_assert_str_eq(body_str(&k, "status"), "done");
    cr_assert(on_loop1(&k), "on loop 1's thread");
    cr_assert_eq(owner_ncalls(), 0, "loop 0 no longer holds it");
    usleep(100000);
    cr_assert_eq(atomic_load(&k.calls), 1, "done runs once");
    asker_free(&k);
    env_stop();
}

static void nop(void *arg)
{
    (void)arg;
}

Test(taskfwd, detached_get_never_calls_done)
{
    env_start(16);
    char id[TASK_PATH_ID_MAX];
    create_via_loop1(0.3, id, sizeof(id));
    asker k = {0};
    ask(&k, get_req(id, 5));
    cr_assert(wait_ncalls(1, 5), "the GET waits on loop 0");
    run_on(1, do_detach, &k); /* the asker leaves while it waits */
    /* the task ends (0.3 s): loop 0 lets go of the call and sends it back */
    cr_assert(wait_ncalls(0, 10), "the wait ended on loop 0");
    run_on(1, nop, NULL); /* posted after the call came back: runs after it */
    cr_assert_eq(atomic_load(&k.calls), 0, "done never ran");
    cr_assert_null(k.body);
    env_stop(); /* and the call was freed (ASan) */
}

Test(taskfwd, detach_right_after_forward_never_calls_done)
{
    env_start(16);
    asker k = {0};
    k.detach_now = 1;
    task_request q = create_io(30);
    k.q = q;
    run_on(1, do_forward, &k);
    cr_assert_not_null(k.call);
    run_on(0, nop, NULL); /* loop 0 ran the create (posted before) */
    usleep(50000);
    run_on(1, nop, NULL);
    cr_assert_eq(atomic_load(&k.calls), 0, "done never ran");
    env_stop();
}

static void expire_all(void *arg)
{
    size_t *after = arg;
    taskfwd_expire_all(&E.f[0]);
    *after = E.f[0].ncalls;
}

Test(taskfwd, expire_all_answers_a_waiting_get_at_once)
{
    env_start(16);
    char id[TASK_PATH_ID_MAX];
    create_via_loop1(30, id, sizeof(id));
    asker k = {0};
    ask(&k, get_req(id, 20));
    cr_assert(wait_ncalls(1, 5), "the GET waits on loop 0");
    usleep(50000);
    cr_assert_eq(atomic_load(&k.calls), 0, "still waiting");
    uint64_t t0 = loop_now_ns();
    size_t after = 99;
    run_on(0, expire_all, &after);
    cr_assert_eq(after, 0, "loop 0 holds no call after expire_all");
    cr_assert(wait_flag(&k.calls, 1, 5), "done ran");
    cr_assert_lt(secs_between(t0, k.at_ns), 2.0, "at once, not after the 20 s wait");
    cr_assert_eq(k.status, 200);
    cr_assert_str_eq(body_str(&k, "status"), "running", "the task as it is");
    cr_assert(on_loop1(&k));
    /* expire_all with nothing waiting is a no-op */
    run_on(0, expire_all, &after);
    cr_assert_eq(after, 0);
    usleep(50000);
    cr_assert_eq(atomic_load(&k.calls), 1);
    asker_free(&k);
    env_stop();
}

static void read_timers(void *arg)
{
    *(size_t *)arg = loop_timer_count(E.ln[0].a->loop);
}

Test(taskfwd, free_all_releases_waits_without_done)
{
    env_start(16);
    char id[TASK_PATH_ID_MAX];
    create_via_loop1(30, id, sizeof(id));
    size_t timers = 0;
    run_on(0, read_timers, &timers);
    asker k[3];
    memset(k, 0, sizeof(k));
    for (int i = 0; i < 3; i++)
        ask(&k[i], get_req(id, 20));
    cr_assert(wait_ncalls(3, 5), "three GETs wait on loop 0");
    lane_stop(1);
    lane_stop(0);
    cr_assert_eq(loop_timer_count(E.ln[0].a->loop), timers + 3, "each wait has its timer");
    taskfwd_free_all(&E.f[0]);
    cr_assert_eq(E.f[0].ncalls, 0);
    cr_assert_eq(loop_timer_count(E.ln[0].a->loop), timers, "the waits' timers are gone");
    cr_assert(list_empty(&E.f[0].calls));
    for (int i = 0; i < 3; i++)
        cr_assert_eq(atomic_load(&k[i].calls), 0, "done of %d never ran", i);
    taskfwd_free_all(&E.f[0]); /* twice: nothing left */
    env_stop();                /* ASan: every call freed, no wait timer left behind */
}

Test(taskfwd, a_call_loop_0_never_ran_is_dropped_at_free)
{
    env_start(16);
    lane_stop(0);
    asker k = {0};
    ask(&k, create_io(30)); /* sits in loop 0's mailbox */
    usleep(50000);
    run_on(1, nop, NULL);
    cr_assert_eq(atomic_load(&k.calls), 0);
    env_stop(); /* mailbox_free drops it: freed, done not called */
    cr_assert_eq(atomic_load(&k.calls), 0);
}

Test(taskfwd, many_forwards_all_come_back)
{
    enum { N = 40 };
    env_start(N);
    static asker k[N];
    memset(k, 0, sizeof(k));
    for (int i = 0; i < N; i++)
        ask(&k[i], create_io(30));
    for (int i = 0; i < N; i++) {
        cr_assert(wait_flag(&k[i].calls, 1, 10), "create %d came back", i);
        cr_assert_eq(k[i].status, 202);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(body_str(&k[i], "id"), body_str(&k[j], "id"));
    }
    /* one more is over max_live: the 503 travels back too */
    asker over = {0};
    ask(&over, create_io(30));
    cr_assert(wait_flag(&over.calls, 1, 10));
    cr_assert_eq(over.status, 503);
    cr_assert_str_eq(body_str(&over, "detail"), "too many tasks");
    asker_free(&over);
    for (int i = 0; i < N; i++)
        asker_free(&k[i]);
    env_stop();
}

/* --- an asker that leaves cancels its wait on loop 0 ---------------------- */

typedef struct owner_view {
    size_t ncalls, timers;
    uint64_t ncancelled;
} owner_view;

static void read_owner(void *arg)
{
    owner_view *v = arg;
    v->ncalls = E.f[0].ncalls;
    v->ncancelled = E.f[0].ncancelled;
    v->timers = loop_timer_count(E.ln[0].a->loop);
}

static owner_view owner_now(void)
{
    owner_view v;
    run_on(0, read_owner, &v);
    return v;
}

Test(taskfwd, a_detached_wait_ends_on_loop_0_at_once)
{
    env_start(16);
    char id[TASK_PATH_ID_MAX];
    create_via_loop1(30, id, sizeof(id));
    size_t timers0 = owner_now().timers; /* the task's own */
    asker k = {0};
    ask(&k, get_req(id, 20));
    cr_assert(wait_ncalls(1, 5), "the GET waits on loop 0");
    cr_assert_eq(owner_now().timers, timers0 + 1, "the wait's timer");
    uint64_t t0 = loop_now_ns();
    run_on(1, do_detach, &k);
    cr_assert(wait_ncalls(0, 5), "the wait ended on loop 0");
    cr_assert_lt(secs_between(t0, loop_now_ns()), 5.0, "long before its 20 s");
    owner_view v = owner_now();
    cr_assert_eq(v.timers, timers0, "loop 0 holds no timer for it");
    cr_assert_eq(v.ncancelled, 1);
    run_on(1, nop, NULL); /* posted after the call and its cancel came back */
    cr_assert_eq(atomic_load(&k.calls), 0, "done never ran");
    /* the task itself is untouched: another GET sees it running */
    asker g = {0};
    ask(&g, get_req(id, 0));
    cr_assert(wait_flag(&g.calls, 1, 10));
    cr_assert_str_eq(body_str(&g, "status"), "running");
    asker_free(&g);
    env_stop(); /* the call was freed once (ASan) */
}

Test(taskfwd, a_detach_after_the_answer_left_loop_0_cancels_nothing)
{
    env_start(16);
    char id[TASK_PATH_ID_MAX];
    create_via_loop1(30, id, sizeof(id));
    asker k = {0};
    ask(&k, get_req(id, 0.5));
    lane_stop(1); /* the answer will wait in loop 1's mailbox */
    cr_assert(wait_ncalls(0, 5), "the wait timed out on loop 0");
    taskfwd_detach(k.call); /* loop 1 is stopped: the test thread is its only thread */
    cr_assert(wait_ncalls(0, 5));
    cr_assert_eq(owner_now().ncancelled, 0, "nothing was waiting any more");
    env_stop(); /* loop 1's mailbox drops the call, then its cancel mail, which frees it */
    cr_assert_eq(atomic_load(&k.calls), 0);
}

/* Shutdown with a cancel mail that loop 0 never ran: the wait is released by
 * taskfwd_free_all() and the call by the dropped mail, once (ASan). */
Test(taskfwd, shutdown_with_a_cancel_still_in_loop_0s_mailbox)
{
    env_start(16);
    char id[TASK_PATH_ID_MAX];
    create_via_loop1(30, id, sizeof(id));
    asker k = {0};
    ask(&k, get_req(id, 20));
    cr_assert(wait_ncalls(1, 5));
    lane_stop(0);
    run_on(1, do_detach, &k);
    env_stop();
    cr_assert_eq(atomic_load(&k.calls), 0);
}

/* Shutdown with the call and its cancel both unread in loop 0's mailbox. */
Test(taskfwd, shutdown_with_the_call_and_its_cancel_in_loop_0s_mailbox)
{
    env_start(16);
    char id[TASK_PATH_ID_MAX];
    create_via_loop1(30, id, sizeof(id));
    lane_stop(0);
    asker k = {0};
    k.detach_now = 1;
    k.q = get_req(id, 20);
    run_on(1, do_forward, &k);
    cr_assert_not_null(k.call);
    env_stop();
    cr_assert_eq(atomic_load(&k.calls), 0);
}
