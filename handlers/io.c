/*
 * io.c - IO-bound endpoints: every wait is a timer on the loop, so a waiting
 * request holds no thread (asyncio.sleep, gather, as_completed, cancel,
 * wait_for and a Semaphore, as in the seed).
 *
 * One io_call per request owns its timer slots. Slot callbacks run on the
 * loop thread; the call is freed with the request (http_set_ctx), which
 * cancels whatever timers are still armed (client gone, or the loser of a
 * cancel/wait_for race).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "handlers.h"
#include "shaping.h"

enum io_kind { IO_JOB, IO_GATHER, IO_SEQUENTIAL, IO_AS_COMPLETED, IO_CANCEL, IO_WAIT_FOR, IO_SEM };

typedef struct io_call io_call;

typedef struct io_slot {
    timer t;
    io_call *call;
    size_t index;
    double delay;
    uint64_t start_ns, end_ns;
} io_slot;

struct io_call {
    http_req *r;
    enum io_kind kind;
    uint64_t start_ns;
    uint64_t wait_ns;                       /* when the first timer was armed: the IO wait begins */
    size_t n;                               /* jobs */
    size_t started, finished;               /* counts */
    size_t limit, in_flight, max_in_flight; /* semaphore */
    double after;                           /* cancel's `after`, wait_for's `timeout` */
    size_t *order;                          /* indexes in finish order */
    char **names;
    shaping sh;      /* /io/job: its delay's shape, answer and padding */
    io_slot slots[]; /* n jobs (+1 racer for cancel/wait_for) */
};

static void call_free(void *p)
{
    io_call *c = p;
    loop *l = http_app(c->r)->loop;
    size_t nslots = c->n + (c->kind == IO_CANCEL || c->kind == IO_WAIT_FOR);
    for (size_t i = 0; i < nslots; i++)
        loop_timer_cancel(l, &c->slots[i].t);
    for (size_t i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    free(c->order);
    free(c);
}

static io_call *call_new(http_req *r, enum io_kind kind, size_t n, size_t nslots)
{
    io_call *c = calloc(1, sizeof(*c) + nslots * sizeof(io_slot));
    if (!c) return NULL;
    c->order = calloc(n, sizeof(*c->order));
    c->names = calloc(n, sizeof(*c->names));
    if (!c->order || !c->names) {
        free(c->order);
        free(c->names);
        free(c);
        return NULL;
    }
    c->r = r;
    c->kind = kind;
    c->n = n;
    c->start_ns = http_start_ns(r);
    for (size_t i = 0; i < nslots; i++) {
        c->slots[i].call = c;
        c->slots[i].index = i;
    }
    http_set_ctx(r, c, call_free);
    return c;
}

static void slot_fired(timer *t);

/* Arms slot i to fire its delay after from_ns (a loop_now_ns() reading). */
static int slot_start_from(io_call *c, size_t i, uint64_t from_ns)
{
    io_slot *s = &c->slots[i];
    s->start_ns = from_ns;
    if (!c->wait_ns) c->wait_ns = from_ns;
    c->started++;
    return loop_timer_start_at(http_app(c->r)->loop, &s->t, from_ns + secs_to_ns(s->delay),
                               slot_fired, s);
}

static int slot_start(io_call *c, size_t i)
{
    return slot_start_from(c, i, loop_now_ns());
}

static double elapsed(io_call *c)
{
    return secs_since(c->start_ns);
}

/* Server-Timing "wait": the time this request spent waiting on loop timers. */
static void add_wait_timing(io_call *c)
{
    if (c->wait_ns) http_add_timing(c->r, "wait", (double)(loop_now_ns() - c->wait_ns) / 1e6);
}

static json_t *done_string(io_call *c, size_t i)
{
    char prefix[96];
    snprintf(prefix, sizeof(prefix), "%s done after ", c->names[i]);
    return json_fmt_delay(prefix, c->slots[i].delay, "s");
}

static void respond_job(io_call *c)
{
    add_wait_timing(c);
    if (shaping_answer(c->r, &c->sh)) return; /* status= or error_rate= drew an error */
    json_t *o = json_pack("{s:s,s:f,s:o,s:f}", "name", c->names[0], "delay", c->slots[0].delay,
                          "result", done_string(c, 0), "elapsed", elapsed(c));
    shaping_decorate(&c->sh, o);
    http_respond_json(c->r, 200, o);
}

static void respond_gather(io_call *c)
{
    add_wait_timing(c);
    json_t *results = json_array(), *order = json_array();
    double sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        json_array_append_new(results, done_string(c, i));
        json_array_append_new(order, json_string(c->names[c->order[i]]));
        sum += c->slots[i].delay;
    }
    json_t *o = json_pack("{s:o,s:o,s:f,s:f}", "results", results, "finish_order", order, "elapsed",
                          elapsed(c), "sum_of_delays", sum);
    http_respond_json(c->r, 200, o);
}

static void respond_race(io_call *c, int job_won)
{
    double d = c->slots[0].delay;
    json_t *o;
    add_wait_timing(c);
    if (c->kind == IO_CANCEL && !job_won)
        o = json_pack("{s:b,s:f,s:f,s:f,s:s}", "cancelled", 1, "delay", d, "after", c->after,
                      "elapsed", elapsed(c), "message", "slow task cancelled safely");
    else if (c->kind == IO_CANCEL)
        o = json_pack("{s:b,s:o,s:f,s:f,s:f}", "cancelled", 0, "result", done_string(c, 0), "delay",
                      d, "after", c->after, "elapsed", elapsed(c));
    else if (!job_won)
        o = json_pack("{s:b,s:f,s:f,s:f,s:s}", "timed_out", 1, "delay", d, "timeout", c->after,
                      "elapsed", elapsed(c), "message", "timeout!");
    else
        o = json_pack("{s:b,s:o,s:f,s:f,s:f}", "timed_out", 0, "result", done_string(c, 0), "delay",
                      d, "timeout", c->after, "elapsed", elapsed(c));
    http_respond_json(c->r, 200, o);
}

static void respond_semaphore(io_call *c)
{
    add_wait_timing(c);
    json_t *results = json_array(), *tl = json_array();
    for (size_t i = 0; i < c->n; i++) {
        io_slot *s = &c->slots[i];
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "job %zu after ", i);
        json_array_append_new(results, json_fmt_delay(prefix, s->delay, "s"));
        json_array_append_new(tl, json_pack("{s:I,s:f,s:f}", "job", (json_int_t)i, "start",
                                            secs_between(c->start_ns, s->start_ns), "end",
                                            secs_between(c->start_ns, s->end_ns)));
    }
    json_t *o = json_pack("{s:I,s:o,s:I,s:f,s:o}", "limit", (json_int_t)c->limit, "results",
                          results, "max_in_flight", (json_int_t)c->max_in_flight, "elapsed",
                          elapsed(c), "timeline", tl);
    http_respond_json(c->r, 200, o);
}

static void stream_json_line(http_req *r, json_t *o)
{
    buf b = BUF_INIT;
    json_out_append(&b, o);
    buf_append(&b, "\n", 1);
    json_decref(o);
    http_stream_write(r, b.p, b.len);
    buf_free(&b);
}

static void fail_timer(io_call *c)
{
    http_respond_detail(c->r, 500, "cannot arm a timer");
}

/*
 * cancel and wait_for: slot 0 is the job, slot 1 the canceller or the timeout.
 * wait_for answers as soon as either fires (asyncio.wait_for returns when the
 * task is done, raises when the timeout handle runs first). cancel answers
 * only when its canceller fires, as the seed's caller does: it sleeps `after`
 * whatever the task does, then task.cancel() finds the task either pending
 * (cancelled) or already done (its result).
 */
static void race_fired(io_call *c, io_slot *s)
{
    loop *l = http_app(c->r)->loop;
    if (s->index == 0) {
        c->finished = 1;
        if (c->kind == IO_CANCEL) return;
        loop_timer_cancel(l, &c->slots[1].t);
        respond_race(c, 1);
        return;
    }
    if (!c->finished) loop_timer_cancel(l, &c->slots[0].t);
    respond_race(c, c->finished != 0);
}

static void slot_fired(timer *t)
{
    io_slot *s = t->data;
    io_call *c = s->call;
    s->end_ns = loop_now_ns();
    if (c->kind == IO_CANCEL || c->kind == IO_WAIT_FOR) {
        race_fired(c, s);
        return;
    }
    c->order[c->finished++] = s->index;
    switch (c->kind) {
    case IO_JOB:
        respond_job(c);
        break;
    case IO_SEQUENTIAL:
        if (c->started < c->n) {
            if (slot_start(c, c->started) < 0) fail_timer(c);
            break;
        }
        /* fall through */
    case IO_GATHER:
        if (c->finished == c->n) respond_gather(c);
        break;
    case IO_AS_COMPLETED:
        stream_json_line(c->r, json_pack("{s:I,s:s,s:f,s:o,s:f}", "index", (json_int_t)s->index,
                                         "name", c->names[s->index], "delay", s->delay, "result",
                                         json_fmt_delay("res ", s->delay, ""), "at",
                                         secs_between(c->start_ns, s->end_ns)));
        if (c->finished == c->n) {
            stream_json_line(c->r, json_pack("{s:b,s:f}", "done", 1, "elapsed", elapsed(c)));
            add_wait_timing(c); /* reaches the client in the stream's trailer */
            http_stream_end(c->r);
        }
        break;
    case IO_SEM:
        c->in_flight--;
        if (c->started < c->n) {
            if (++c->in_flight > c->max_in_flight) c->max_in_flight = c->in_flight;
            if (slot_start(c, c->started) < 0) fail_timer(c);
        }
        if (c->finished == c->n) respond_semaphore(c);
        break;
    default:
        break;
    }
}

/* --- parameters ----------------------------------------------------------- */

static double max_delay(http_req *r)
{
    return http_app(r)->cfg.max_delay;
}

/* Fills names from `names` (must match n) or with A, B, C... */
static int fill_names(http_req *r, params *p, io_call *c)
{
    const char *raw = http_arg(r, "names");
    if (raw) {
        long k = param_name_list(p, "names", raw, c->n, c->names);
        if (k < 0) return -1;
        if ((size_t)k != c->n) {
            char msg[128];
            snprintf(msg, sizeof(msg),
                     "Value error, names must have as many items as delays (%zu), not %ld", c->n,
                     k);
            params_error(p, "names", -1, "value_error", msg, json_string(raw), NULL);
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < c->n; i++) {
        char name[8];
        default_name(i, name);
        if (!(c->names[i] = strdup(name))) return -1;
    }
    return 0;
}

static void respond_oom(http_req *r)
{
    http_respond_detail(r, 500, "out of memory");
}

/* gather, sequential and as_completed share their parameters. */
static void run_list(http_req *r, enum io_kind kind, const char *def)
{
    app *a = http_app(r);
    size_t max = (size_t)a->cfg.max_list;
    double *delays = calloc(max, sizeof(double));
    params p;
    params_init(&p, "query");
    long n = delays ? param_double_list(&p, "delays", http_arg(r, "delays"), def, max, 0,
                                        max_delay(r), delays)
                    : -1;
    io_call *c = n > 0 ? call_new(r, kind, (size_t)n, (size_t)n) : NULL;
    if (c) {
        for (size_t i = 0; i < c->n; i++)
            c->slots[i].delay = delays[i];
        fill_names(r, &p, c);
    }
    free(delays);
    if (!params_ok(&p)) {
        http_respond_invalid(r, &p);
    } else if (!c) {
        respond_oom(r);
    } else {
        int rc = 0;
        if (kind == IO_AS_COMPLETED) rc = http_stream_begin(r, 200, "application/x-ndjson");
        size_t first = kind == IO_SEQUENTIAL ? 1 : c->n;
        for (size_t i = 0; i < first && rc == 0; i++)
            rc = slot_start(c, i);
        if (rc < 0)
            respond_oom(r);
        else
            http_defer(r);
    }
    params_free(&p);
}

static void io_gather(http_req *r)
{
    run_list(r, IO_GATHER, "1.0,0.5,0.2");
}

static void io_sequential(http_req *r)
{
    run_list(r, IO_SEQUENTIAL, "1.0,0.5,0.2");
}

static void io_as_completed(http_req *r)
{
    run_list(r, IO_AS_COMPLETED, "0.3,0.1,0.2");
}

static void io_job(http_req *r)
{
    params p;
    params_init(&p, "query");
    char *name = NULL;
    shaping sh;
    param_name(&p, "name", http_arg(r, "name"), "job", &name);
    shaping_parse(r, &p, 1.0, &sh); /* delay=, or dist= and the rest of shaping.h */
    io_call *c = params_ok(&p) ? call_new(r, IO_JOB, 1, 1) : NULL;
    if (!params_ok(&p)) {
        free(name);
        http_respond_invalid(r, &p);
    } else if (!c) {
        free(name);
        respond_oom(r);
    } else {
        c->names[0] = name;
        c->sh = sh;
        c->slots[0].delay = sh.delay;
        if (slot_start(c, 0) < 0)
            respond_oom(r);
        else
            http_defer(r);
    }
    params_free(&p);
}

/* cancel and wait_for: a job racing a second timer. */
static void run_race(http_req *r, enum io_kind kind, const char *job_name, const char *racer,
                     double def_delay, double def_racer)
{
    params p;
    params_init(&p, "query");
    double delay, after;
    param_double(&p, "delay", http_arg(r, "delay"), def_delay, 0, max_delay(r), &delay);
    param_double(&p, racer, http_arg(r, racer), def_racer, 0, max_delay(r), &after);
    io_call *c = params_ok(&p) ? call_new(r, kind, 1, 2) : NULL;
    if (!params_ok(&p)) {
        http_respond_invalid(r, &p);
    } else if (!c || !(c->names[0] = strdup(job_name))) {
        respond_oom(r);
    } else {
        c->slots[0].delay = delay;
        c->slots[1].delay = after;
        c->after = after;
        /* Both deadlines count from one instant and the racer is armed first,
         * so on equal deadlines it fires first, as in asyncio: wait_for calls
         * loop.call_later(timeout) before the task it wraps has run its first
         * step (which arms the job's sleep), and the seed's create_task() only
         * schedules that step, so the caller's sleep(after) is armed first. */
        uint64_t now = loop_now_ns();
        if (slot_start_from(c, 1, now) < 0 || slot_start_from(c, 0, now) < 0)
            respond_oom(r);
        else
            http_defer(r);
    }
    params_free(&p);
}

static void io_cancel(http_req *r)
{
    run_race(r, IO_CANCEL, "slow", "after", 5.0, 0.7);
}

static void io_wait_for(http_req *r)
{
    run_race(r, IO_WAIT_FOR, "maybe-slow", "timeout", 2.0, 0.8);
}

static void io_semaphore(http_req *r)
{
    app *a = http_app(r);
    size_t max = (size_t)a->cfg.max_list;
    params p;
    params_init(&p, "query");
    uint64_t jobs = 0, limit = 0;
    const char *raw_jobs = http_arg(r, "jobs"), *raw_delays = http_arg(r, "delays");
    param_uint64(&p, "jobs", raw_jobs, 6, 1, max, &jobs);
    param_uint64(&p, "limit", http_arg(r, "limit"), 2, 1, max, &limit);
    double *delays = calloc(max, sizeof(double));
    long n = params_ok(&p) ? (long)jobs : -1; /* jobs <= max_list once valid */
    if (!delays) {
        n = -1;
    } else if (raw_delays) {
        n = param_double_list(&p, "delays", raw_delays, NULL, max, 0, max_delay(r), delays);
        if (n > 0 && raw_jobs && params_ok(&p) && (uint64_t)n != jobs) {
            char msg[128];
            snprintf(msg, sizeof(msg),
                     "Value error, delays must have as many items as jobs (%llu), not %ld",
                     (unsigned long long)jobs, n);
            params_error(&p, "delays", -1, "value_error", msg, json_string(raw_delays), NULL);
        }
    } else {
        for (long i = 0; i < n; i++) /* the seed's formula, in the same double arithmetic */
            delays[i] = (double)(i % 3) * 0.2 + 0.1;
    }
    io_call *c = params_ok(&p) && n > 0 ? call_new(r, IO_SEM, (size_t)n, (size_t)n) : NULL;
    if (!params_ok(&p)) {
        http_respond_invalid(r, &p);
    } else if (!c) {
        respond_oom(r);
    } else {
        c->limit = limit;
        for (size_t i = 0; i < c->n; i++)
            c->slots[i].delay = delays[i];
        int rc = 0;
        for (size_t i = 0; i < c->n && i < c->limit && rc == 0; i++) {
            c->in_flight++;
            rc = slot_start(c, i);
        }
        c->max_in_flight = c->in_flight;
        if (rc < 0)
            respond_oom(r);
        else
            http_defer(r);
    }
    free(delays);
    params_free(&p);
}

static const route ROUTES[] = {
    {"GET", "/io/job", io_job,
     "await asyncio.sleep(delay): the request waits on a loop timer, "
     "no thread is held"},
    {"GET", "/io/gather", io_gather,
     "asyncio.gather: jobs wait together, total time = the "
     "longest, results in submission order"},
    {"GET", "/io/sequential", io_sequential,
     "await one after another: total time = the sum "
     "(what gather saves you)"},
    {"GET", "/io/as_completed", io_as_completed,
     "asyncio.as_completed: each result is streamed "
     "the moment its job finishes"},
    {"GET", "/io/cancel", io_cancel,
     "task.cancel(): a slow task is cancelled after `after` "
     "seconds and the CancelledError handled"},
    {"GET", "/io/wait_for", io_wait_for,
     "asyncio.wait_for: give up on a job after `timeout` "
     "seconds"},
    {"GET", "/io/semaphore", io_semaphore,
     "asyncio.Semaphore: at most `limit` jobs in flight "
     "at once"},
};

const http_group io_group = {
    .name = "io",
    .routes = ROUTES,
    .nroutes = sizeof(ROUTES) / sizeof(ROUTES[0]),
};
