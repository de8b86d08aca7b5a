/*
 * test_memory_backend.c - the memory task backend (tasks/memory) through the
 * backend interface (tasks/backend.h) only, without HTTP: a real loop driven
 * from the test thread and a real executor. Outcomes (status, body,
 * Location, Retry-After), the replica prefix of ids, waits that finish,
 * detach or expire, the live cap and the metrics text.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/epoll.h>

#include "backend.h"
#include "buf.h"
#include "helpers.h"
#include "executor.h"
#include "loop.h"
#include "memory.h"

TestSuite(memory_backend, .timeout = 60);

static const task_backend_type *const TYPES[] = {&task_memory_type};

typedef struct env {
    loop *l;
    executor *ex;
    loop_watcher ex_w;
    task_backend *b;
} env;

static void on_executor(loop_watcher *w, uint32_t events)
{
    (void)events;
    executor_run_done(w->data);
}

static void env_start_with(env *e, const char *replica, size_t max_live)
{
    memset(e, 0, sizeof(*e));
    cr_assert_eq(loop_new(&e->l), 0);
    cr_assert_eq(executor_new(&e->ex, 1, 16, 0), 0);
    e->ex_w.fd = executor_fd(e->ex);
    e->ex_w.cb = on_executor;
    e->ex_w.data = e->ex;
    cr_assert_eq(loop_watch(e->l, &e->ex_w, EPOLLIN), 0);
    task_env te = {.loop = e->l,
                   .ex = e->ex,
                   .channel = 0,
                   .url = "memory",
                   .replica_id = replica,
                   .max_live = max_live,
                   .keep = 100,
                   .ttl_s = 60};
    int rc = task_backend_open(&e->b, TYPES, 1, &te);
    cr_assert_eq(rc, 0, "open: %d", rc);
    cr_assert_eq(e->b->type, &task_memory_type);
}

static void env_start(env *e)
{
    env_start_with(e, "", 16);
}

/* The server's order: close, the executor, free, the loop. */
static void env_stop(env *e)
{
    e->b->type->close(e->b);
    executor_free(e->ex);
    e->b->type->free(e->b);
    loop_free(e->l);
}

/* --- driving the loop --------------------------------------------------- */

/* Runs the loop until *flag (1) or max_secs (0); flag NULL: just run. */
static int run_until(env *e, const int *flag, double max_secs)
{
    return loop_run_until(e->l, flag, max_secs);
}

/* --- operations --------------------------------------------------------- */

typedef struct waiter {
    task_wait tw;
    int finished;
    uint64_t at_ns;
} waiter;

static void on_finish(task_wait *tw)
{
    waiter *w = tw->data;
    w->finished++;
    w->at_ns = loop_now_ns();
}

/* Runs q; expects an answer at once (returns tw->out's status). */
static unsigned op_now(env *e, const task_request *q, waiter *w)
{
    memset(w, 0, sizeof(*w));
    w->tw.finish = on_finish;
    w->tw.data = w;
    cr_assert_eq(task_backend_run(e->b, q, &w->tw), 1, "op %d answers at once", q->op);
    cr_assert_eq(w->finished, 0, "finish does not run for an answer at once");
    cr_assert_not_null(w->tw.out.body);
    return w->tw.out.status;
}

static const char *body_str(const waiter *w, const char *key)
{
    return json_string_value(json_object_get(w->tw.out.body, key));
}

/* Creates an IO task; its public id into id. */
static void create_io(env *e, double delay, char *id, size_t idlen)
{
    task_request q = {.op = TASK_OP_CREATE, .spec = {.kind = TASK_IO, .delay = delay}};
    waiter w;
    cr_assert_eq(op_now(e, &q, &w), 202, "create: %u", w.tw.out.status);
    const char *s = body_str(&w, "id");
    cr_assert_not_null(s);
    snprintf(id, idlen, "%s", s);
    task_outcome_free(&w.tw.out);
}

static task_request get_req(const char *id, double wait)
{
    task_request q = {.op = TASK_OP_GET, .wait = wait};
    snprintf(q.id, sizeof(q.id), "%s", id);
    return q;
}

/* A cancel by the admin (ownership has a test of its own). */
static task_request cancel_req(const char *id)
{
    task_request q = {.op = TASK_OP_CANCEL, .admin = 1};
    snprintf(q.id, sizeof(q.id), "%s", id);
    return q;
}

static int is_hex32(const char *s)
{
    return strlen(s) == TASK_ID_LEN && strspn(s, "0123456789abcdef") == TASK_ID_LEN;
}

/* --- tests ------------------------------------------------------------ */

Test(memory_backend, open_picks_memory_only_for_its_url)
{
    loop *l;
    cr_assert_eq(loop_new(&l), 0);
    task_env te = {.loop = l, .url = "redis://localhost", .replica_id = "", .max_live = 1};
    task_backend *b = NULL;
    cr_assert_eq(task_backend_open(&b, TYPES, 1, &te), -EINVAL);
    cr_assert_null(b);
    loop_free(l);
}

Test(memory_backend, create_answers_202_with_location)
{
    env e;
    env_start(&e);
    task_request q = {.op = TASK_OP_CREATE, .spec = {.kind = TASK_IO, .delay = 30}};
    waiter w;
    cr_assert_eq(op_now(&e, &q, &w), 202);
    const char *id = body_str(&w, "id");
    cr_assert(id && is_hex32(id), "id %s", id ? id : "(none)");
    char want[80];
    snprintf(want, sizeof(want), "/tasks/%s", id);
    cr_assert_str_eq(w.tw.out.location, want);
    cr_assert_str_eq(body_str(&w, "status"), "running", "an IO task runs at once");
    cr_assert_str_eq(body_str(&w, "kind"), "io");
    cr_assert_eq(w.tw.out.retry_after, 0);
    cr_assert_null(w.tw.priv_);
    task_outcome_free(&w.tw.out);
    cr_assert_null(w.tw.out.body);
    env_stop(&e);
}

Test(memory_backend, get_known_and_unknown_ids)
{
    env e;
    env_start(&e);
    char id[TASK_PATH_ID_MAX];
    create_io(&e, 30, id, sizeof(id));
    waiter w;
    task_request q = get_req(id, 0);
    cr_assert_eq(op_now(&e, &q, &w), 200);
    cr_assert_str_eq(body_str(&w, "id"), id);
    cr_assert_str_eq(body_str(&w, "status"), "running");
    task_outcome_free(&w.tw.out);
    /* a well-formed id that is not there, a malformed one, an empty one */
    const char *unknown[] = {"0123456789abcdef0123456789abcdef", "nope", "", "../etc"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        q = get_req(unknown[i], 0);
        cr_assert_eq(op_now(&e, &q, &w), 404, "GET %s: %u", unknown[i], w.tw.out.status);
        cr_assert_str_eq(body_str(&w, "detail"), "Not Found");
        task_outcome_free(&w.tw.out);
        q = cancel_req(unknown[i]);
        cr_assert_eq(op_now(&e, &q, &w), 404, "cancel %s", unknown[i]);
        task_outcome_free(&w.tw.out);
    }
    env_stop(&e);
}

Test(memory_backend, replica_prefix_on_ids)
{
    env e;
    env_start_with(&e, "r1", 16);
    char id[TASK_PATH_ID_MAX];
    create_io(&e, 30, id, sizeof(id));
    cr_assert_eq(strncmp(id, "r1-", 3), 0, "id %s", id);
    cr_assert(is_hex32(id + 3), "id %s", id);
    waiter w;
    task_request q = get_req(id, 0);
    cr_assert_eq(op_now(&e, &q, &w), 200);
    cr_assert_str_eq(body_str(&w, "id"), id, "the body shows the prefixed id");
    task_outcome_free(&w.tw.out);
    /* without the prefix, another replica's, a prefix without the dash */
    char other[TASK_PATH_ID_MAX];
    const char *bad[4];
    bad[0] = id + 3;
    snprintf(other, sizeof(other), "r2-%s", id + 3);
    bad[1] = other;
    char nodash[TASK_PATH_ID_MAX];
    snprintf(nodash, sizeof(nodash), "r1%s", id + 3);
    bad[2] = nodash;
    char longer[TASK_PATH_ID_MAX];
    snprintf(longer, sizeof(longer), "r11-%s", id + 3);
    bad[3] = longer;
    for (int i = 0; i < 4; i++) {
        q = get_req(bad[i], 0);
        cr_assert_eq(op_now(&e, &q, &w), 404, "GET %s: %u", bad[i], w.tw.out.status);
        task_outcome_free(&w.tw.out);
    }
    /* create's Location carries the prefix too */
    q = (task_request){.op = TASK_OP_CREATE, .spec = {.kind = TASK_IO, .delay = 30}};
    cr_assert_eq(op_now(&e, &q, &w), 202);
    char want[80];
    snprintf(want, sizeof(want), "/tasks/%s", body_str(&w, "id"));
    cr_assert_str_eq(w.tw.out.location, want);
    cr_assert_eq(strncmp(w.tw.out.location, "/tasks/r1-", 10), 0);
    task_outcome_free(&w.tw.out);
    env_stop(&e);
}

Test(memory_backend, list_counts_and_totals)
{
    env e;
    env_start(&e);
    char ids[3][TASK_PATH_ID_MAX];
    for (int i = 0; i < 3; i++)
        create_io(&e, 30, ids[i], sizeof(ids[i]));
    waiter w;
    task_request q = {.op = TASK_OP_LIST, .limit = 2};
    cr_assert_eq(op_now(&e, &q, &w), 200);
    json_t *b = w.tw.out.body;
    cr_assert_eq(json_integer_value(json_object_get(b, "count")), 2);
    cr_assert_eq(json_integer_value(json_object_get(b, "total")), 3);
    json_t *tasks = json_object_get(b, "tasks");
    cr_assert_eq(json_array_size(tasks), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tasks, 0), "id")), ids[2],
                     "newest first");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tasks, 1), "id")), ids[1]);
    task_outcome_free(&w.tw.out);
    /* a finished task still counts in total */
    task_request c = cancel_req(ids[0]);
    cr_assert_eq(op_now(&e, &c, &w), 200);
    task_outcome_free(&w.tw.out);
    q.limit = 100;
    cr_assert_eq(op_now(&e, &q, &w), 200);
    cr_assert_eq(json_integer_value(json_object_get(w.tw.out.body, "count")), 3);
    cr_assert_eq(json_integer_value(json_object_get(w.tw.out.body, "total")), 3);
    task_outcome_free(&w.tw.out);
    q.limit = 0;
    cr_assert_eq(op_now(&e, &q, &w), 200);
    cr_assert_eq(json_integer_value(json_object_get(w.tw.out.body, "count")), 0);
    cr_assert_eq(json_array_size(json_object_get(w.tw.out.body, "tasks")), 0);
    cr_assert_eq(json_integer_value(json_object_get(w.tw.out.body, "total")), 3);
    task_outcome_free(&w.tw.out);
    env_stop(&e);
}

Test(memory_backend, only_the_owner_token_or_the_admin_cancels)
{
    env e;
    env_start(&e);
    task_request q = {.op = TASK_OP_CREATE, .spec = {.kind = TASK_IO, .delay = 30}};
    waiter w;
    cr_assert_eq(op_now(&e, &q, &w), 202);
    char id[TASK_PATH_ID_MAX], token[TASK_OWNER_TOKEN_LEN + 1];
    snprintf(id, sizeof(id), "%s", body_str(&w, "id"));
    cr_assert_not_null(body_str(&w, "owner_token"), "the 202 shows the token");
    snprintf(token, sizeof(token), "%s", body_str(&w, "owner_token"));
    task_outcome_free(&w.tw.out);
    q = get_req(id, 0);
    cr_assert_eq(op_now(&e, &q, &w), 200);
    cr_assert_null(json_object_get(w.tw.out.body, "owner_token"), "a GET never does");
    task_outcome_free(&w.tw.out);

    task_request c = {.op = TASK_OP_CANCEL}; /* a token hash of all zeros: none */
    snprintf(c.id, sizeof(c.id), "%s", id);
    cr_assert_eq(op_now(&e, &c, &w), 403);
    cr_assert_str_eq(body_str(&w, "detail"), TASK_NOT_OWNER);
    task_outcome_free(&w.tw.out);
    char first = token[0];
    token[0] = first == '0' ? '1' : '0'; /* one character off */
    task_owner_hash(token, strlen(token), c.token_hash);
    cr_assert_eq(op_now(&e, &c, &w), 403);
    task_outcome_free(&w.tw.out);
    token[0] = first;
    task_owner_hash(token, strlen(token), c.token_hash);
    cr_assert_eq(op_now(&e, &c, &w), 200, "the owner's token");
    cr_assert_str_eq(body_str(&w, "status"), "cancelled");
    task_outcome_free(&w.tw.out);
    env_stop(&e);
}

Test(memory_backend, cancel_running_io_then_again)
{
    env e;
    env_start(&e);
    char id[TASK_PATH_ID_MAX];
    create_io(&e, 30, id, sizeof(id));
    waiter w;
    task_request q = cancel_req(id);
    cr_assert_eq(op_now(&e, &q, &w), 200);
    cr_assert_str_eq(body_str(&w, "status"), "cancelled");
    cr_assert_str_eq(body_str(&w, "id"), id);
    task_outcome_free(&w.tw.out);
    cr_assert_eq(op_now(&e, &q, &w), 409);
    cr_assert_str_eq(body_str(&w, "detail"), "task already finished");
    task_outcome_free(&w.tw.out);
    /* and a GET shows it cancelled */
    q = get_req(id, 0);
    cr_assert_eq(op_now(&e, &q, &w), 200);
    cr_assert_str_eq(body_str(&w, "status"), "cancelled");
    task_outcome_free(&w.tw.out);
    env_stop(&e);
}

/* Starts a GET ?wait= that must wait. */
static void get_waiting(env *e, const char *id, double wait, waiter *w)
{
    memset(w, 0, sizeof(*w));
    w->tw.finish = on_finish;
    w->tw.data = w;
    task_request q = get_req(id, wait);
    cr_assert_eq(task_backend_run(e->b, &q, &w->tw), 0, "the GET waits");
    cr_assert_eq(w->finished, 0);
    cr_assert_not_null(w->tw.priv_, "the backend holds the wait");
}

Test(memory_backend, get_wait_finishes_when_the_task_ends)
{
    env e;
    env_start(&e);
    char id[TASK_PATH_ID_MAX];
    uint64_t t0 = loop_now_ns();
    create_io(&e, 0.2, id, sizeof(id));
    waiter w;
    get_waiting(&e, id, 1.0, &w);
    cr_assert(run_until(&e, &w.finished, 10), "the wait finished");
    double took = secs_between(t0, w.at_ns);
    cr_assert_geq(took, 0.19, "not before the task ended: %.3f s", took);
    cr_assert_lt(took, 0.9, "when the task ended, not at the 1 s wait: %.3f s", took);
    cr_assert_eq(w.finished, 1);
    cr_assert_eq(w.tw.out.status, 200);
    cr_assert_str_eq(body_str(&w, "status"), "done");
    cr_assert_null(w.tw.priv_, "the wait is over");
    task_outcome_free(&w.tw.out);
    /* past the wait's own time: its timer was disarmed with it */
    double left = 1.2 - secs_since(t0);
    run_until(&e, NULL, left > 0.01 ? left : 0.01);
    cr_assert_eq(w.finished, 1, "finish runs once");
    cr_assert_null(w.tw.out.body);
    env_stop(&e);
}

Test(memory_backend, get_wait_times_out_with_the_task_running)
{
    env e;
    env_start(&e);
    char id[TASK_PATH_ID_MAX];
    create_io(&e, 30, id, sizeof(id));
    waiter w;
    uint64_t t0 = loop_now_ns();
    get_waiting(&e, id, 0.2, &w);
    cr_assert(run_until(&e, &w.finished, 10), "the wait finished");
    double took = secs_between(t0, w.at_ns);
    cr_assert_geq(took, 0.19, "%.3f s", took);
    cr_assert_lt(took, 3.0, "%.3f s", took);
    cr_assert_eq(w.tw.out.status, 200);
    cr_assert_str_eq(body_str(&w, "status"), "running");
    task_outcome_free(&w.tw.out);
    /* the task ending later wakes no one: the waiter left with the wait */
    waiter c;
    task_request q = cancel_req(id);
    cr_assert_eq(op_now(&e, &q, &c), 200);
    task_outcome_free(&c.tw.out);
    run_until(&e, NULL, 0.05);
    cr_assert_eq(w.finished, 1, "finish runs once");
    env_stop(&e);
}

Test(memory_backend, get_wait_on_an_ended_task_answers_at_once)
{
    env e;
    env_start(&e);
    char id[TASK_PATH_ID_MAX];
    create_io(&e, 30, id, sizeof(id));
    waiter w;
    task_request q = cancel_req(id);
    cr_assert_eq(op_now(&e, &q, &w), 200);
    task_outcome_free(&w.tw.out);
    q = get_req(id, 5);
    cr_assert_eq(op_now(&e, &q, &w), 200);
    cr_assert_str_eq(body_str(&w, "status"), "cancelled");
    cr_assert_null(w.tw.priv_);
    task_outcome_free(&w.tw.out);
    env_stop(&e);
}

Test(memory_backend, wait_cancel_detaches_without_finish)
{
    env e;
    env_start(&e);
    char id[TASK_PATH_ID_MAX];
    create_io(&e, 0.1, id, sizeof(id));
    waiter w;
    get_waiting(&e, id, 0.3, &w);
    size_t timers = loop_timer_count(e.l);
    task_backend_wait_cancel(e.b, &w.tw);
    cr_assert_null(w.tw.priv_);
    cr_assert_eq(loop_timer_count(e.l), timers - 1, "the wait's timer is gone");
    task_backend_wait_cancel(e.b, &w.tw); /* a no-op once over */
    run_until(&e, NULL, 0.6);             /* past the task's end and the wait's time */
    cr_assert_eq(w.finished, 0, "finish never ran");
    cr_assert_null(w.tw.out.body);
    /* the task itself went on and ended */
    waiter g;
    task_request q = get_req(id, 0);
    cr_assert_eq(op_now(&e, &q, &g), 200);
    cr_assert_str_eq(body_str(&g, "status"), "done");
    task_outcome_free(&g.tw.out);
    env_stop(&e);
}

Test(memory_backend, wait_expire_answers_at_once)
{
    env e;
    env_start(&e);
    char id[TASK_PATH_ID_MAX];
    create_io(&e, 30, id, sizeof(id));
    waiter w;
    get_waiting(&e, id, 20, &w);
    size_t timers = loop_timer_count(e.l);
    task_backend_wait_expire(e.b, &w.tw);
    cr_assert_eq(w.finished, 1, "finish ran from wait_expire");
    cr_assert_eq(w.tw.out.status, 200);
    cr_assert_str_eq(body_str(&w, "status"), "running", "the task as it is");
    cr_assert_null(w.tw.priv_);
    cr_assert_eq(loop_timer_count(e.l), timers - 1, "the wait's timer is gone");
    task_outcome_free(&w.tw.out);
    task_backend_wait_expire(e.b, &w.tw); /* a no-op once over */
    cr_assert_eq(w.finished, 1);
    env_stop(&e);
}

Test(memory_backend, max_live_one_refuses_a_second_task)
{
    env e;
    env_start_with(&e, "", 1);
    char id[TASK_PATH_ID_MAX];
    create_io(&e, 30, id, sizeof(id));
    waiter w;
    task_request q = {.op = TASK_OP_CREATE, .spec = {.kind = TASK_IO, .delay = 1}};
    cr_assert_eq(op_now(&e, &q, &w), 503);
    cr_assert_str_eq(body_str(&w, "detail"), "too many tasks");
    cr_assert_eq(w.tw.out.retry_after, 1);
    cr_assert_str_eq(w.tw.out.location, "");
    task_outcome_free(&w.tw.out);
    /* a cancel frees the slot */
    task_request c = cancel_req(id);
    cr_assert_eq(op_now(&e, &c, &w), 200);
    task_outcome_free(&w.tw.out);
    cr_assert_eq(op_now(&e, &q, &w), 202);
    task_outcome_free(&w.tw.out);
    env_stop(&e);
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0')) return 1;
    return 0;
}

Test(memory_backend, metrics_count_tasks_by_status)
{
    env e;
    env_start(&e);
    char a[TASK_PATH_ID_MAX], b[TASK_PATH_ID_MAX], c[TASK_PATH_ID_MAX];
    create_io(&e, 30, a, sizeof(a));
    create_io(&e, 30, b, sizeof(b));
    create_io(&e, 0.05, c, sizeof(c));
    waiter w;
    task_request q = cancel_req(a);
    cr_assert_eq(op_now(&e, &q, &w), 200);
    task_outcome_free(&w.tw.out);
    get_waiting(&e, c, 5, &w);
    cr_assert(run_until(&e, &w.finished, 10));
    task_outcome_free(&w.tw.out);
    buf text = BUF_INIT;
    e.b->type->metrics(e.b, &text);
    const char *s = text.p;
    cr_assert(strstr(s, "# TYPE iocpu_tasks gauge"), "%s", s);
    cr_assert(has_line(s, "iocpu_tasks{status=\"queued\"} 0"), "%s", s);
    cr_assert(has_line(s, "iocpu_tasks{status=\"running\"} 1"), "%s", s);
    cr_assert(has_line(s, "iocpu_tasks{status=\"done\"} 1"), "%s", s);
    cr_assert(has_line(s, "iocpu_tasks{status=\"cancelled\"} 1"), "%s", s);
    cr_assert(has_line(s, "iocpu_tasks{status=\"failed\"} 0"), "%s", s);
    buf_free(&text);
    env_stop(&e);
}
