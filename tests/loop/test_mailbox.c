/*
 * test_mailbox.c - the cross-thread mailbox (loop/mailbox.c) without
 * sockets: a real loop on a thread of its own, posters on others. Mails run
 * on the loop thread, in posting order, none lost however many threads post;
 * what is still queued at mailbox_free() runs there with dropped = 1.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "mailbox.h"

TestSuite(mailbox, .timeout = 60);

typedef struct box_env {
    loop *l;
    mailbox *mb;
    pthread_t th;
    _Atomic(pthread_t) loop_thread;
    atomic_int loop_rc;
} box_env;

static void *loop_main(void *p)
{
    box_env *e = p;
    atomic_store(&e->loop_thread, pthread_self());
    atomic_store(&e->loop_rc, loop_run(e->l));
    return NULL;
}

static void env_start(box_env *e)
{
    memset(e, 0, sizeof(*e));
    cr_assert_eq(loop_new(&e->l), 0);
    cr_assert_eq(mailbox_new(&e->mb, e->l), 0);
    cr_assert_eq(pthread_create(&e->th, NULL, loop_main, e), 0);
}

static void env_stop(box_env *e)
{
    loop_stop(e->l);
    pthread_join(e->th, NULL);
    cr_assert_eq(atomic_load(&e->loop_rc), 0);
    mailbox_free(e->mb);
    loop_free(e->l);
}

/* A mail that records where and when (in sequence) it ran. */
typedef struct rec_mail {
    mail m; /* first */
    int id;
    pthread_t ran_on;
    int seq; /* position among the mails that ran, -1 = not yet */
    int dropped;
    atomic_int *counter; /* the shared sequence */
} rec_mail;

static void rec_fn(mail *m, int dropped)
{
    rec_mail *r = (rec_mail *)m;
    r->ran_on = pthread_self();
    r->dropped = dropped;
    r->seq = atomic_fetch_add(r->counter, 1);
}

static int wait_count(atomic_int *c, int want, double secs)
{
    uint64_t end = loop_now_ns() + secs_to_ns(secs);
    while (atomic_load(c) < want && loop_now_ns() < end)
        usleep(1000);
    return atomic_load(c);
}

Test(mailbox, mails_run_on_the_loop_thread_in_posting_order)
{
    enum { N = 200 };
    box_env e;
    env_start(&e);
    atomic_int ran = 0;
    rec_mail *m = calloc(N, sizeof(*m));
    for (int i = 0; i < N; i++) {
        m[i] = (rec_mail){.m.fn = rec_fn, .id = i, .seq = -1, .counter = &ran};
        mailbox_post(e.mb, &m[i].m);
        if (i % 37 == 0) usleep(2000); /* let the loop take some batches on the way */
    }
    cr_assert_eq(wait_count(&ran, N, 20), N, "every mail ran");
    env_stop(&e);
    pthread_t lt = atomic_load(&e.loop_thread);
    cr_assert(!pthread_equal(lt, pthread_self()));
    for (int i = 0; i < N; i++) {
        cr_assert(pthread_equal(m[i].ran_on, lt), "mail %d ran on the loop thread", i);
        cr_assert_eq(m[i].seq, i, "mail %d ran in posting order", i);
        cr_assert_eq(m[i].dropped, 0);
    }
    free(m);
}

/* A mail whose fn posts another mail to the same box (allowed: fn runs unlocked). */
typedef struct chain_mail {
    mail m;
    mailbox *mb;
    int left;
    atomic_int *done;
} chain_mail;

static void chain_fn(mail *m, int dropped)
{
    chain_mail *c = (chain_mail *)m;
    if (dropped) return;
    if (c->left-- > 0)
        mailbox_post(c->mb, &c->m); /* the mail is the box's again */
    else
        atomic_store(c->done, 1);
}

Test(mailbox, a_mail_may_post_again_from_its_fn)
{
    box_env e;
    env_start(&e);
    atomic_int done = 0;
    chain_mail c = {.m.fn = chain_fn, .mb = e.mb, .left = 50, .done = &done};
    mailbox_post(e.mb, &c.m);
    cr_assert_eq(wait_count(&done, 1, 20), 1);
    env_stop(&e);
    cr_assert_eq(c.left, -1);
}

/* ---- many posters ---- */

enum { POSTERS = 4, PER_POSTER = 20000 };

typedef struct cnt_mail {
    mail m;
    int poster, seq;
} cnt_mail;

typedef struct tally {
    atomic_int total;
    int next[POSTERS]; /* loop thread only: the next seq expected of each poster */
    int out_of_order;
    atomic_int dropped;
    _Atomic(pthread_t) loop_thread;
    atomic_int wrong_thread;
} tally;

static tally T;

static void cnt_fn(mail *m, int dropped)
{
    cnt_mail *c = (cnt_mail *)m;
    if (dropped) {
        atomic_fetch_add(&T.dropped, 1);
        return;
    }
    if (!pthread_equal(pthread_self(), atomic_load(&T.loop_thread)))
        atomic_fetch_add(&T.wrong_thread, 1);
    if (c->seq != T.next[c->poster]) T.out_of_order++;
    T.next[c->poster] = c->seq + 1;
    atomic_fetch_add(&T.total, 1);
}

typedef struct poster_arg {
    mailbox *mb;
    int id;
    cnt_mail *mails;
} poster_arg;

static void *poster_main(void *p)
{
    poster_arg *a = p;
    for (int i = 0; i < PER_POSTER; i++) {
        a->mails[i] = (cnt_mail){.m.fn = cnt_fn, .poster = a->id, .seq = i};
        mailbox_post(a->mb, &a->mails[i].m);
        if ((i & 1023) == 0) sched_yield();
    }
    return NULL;
}

Test(mailbox, many_posts_from_four_threads_none_lost_wakeups_coalesce)
{
    box_env e;
    memset(&T, 0, sizeof(T));
    env_start(&e);
    while (pthread_equal(atomic_load(&e.loop_thread), (pthread_t)0))
        usleep(1000);
    atomic_store(&T.loop_thread, atomic_load(&e.loop_thread));
    pthread_t th[POSTERS];
    poster_arg args[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
        args[i] = (poster_arg){e.mb, i, calloc(PER_POSTER, sizeof(cnt_mail))};
        cr_assert_not_null(args[i].mails);
        cr_assert_eq(pthread_create(&th[i], NULL, poster_main, &args[i]), 0);
    }
    for (int i = 0; i < POSTERS; i++)
        pthread_join(th[i], NULL);
    int want = POSTERS * PER_POSTER;
    cr_assert_eq(wait_count(&T.total, want, 30), want, "no mail lost: %d of %d ran",
                 atomic_load(&T.total), want);
    env_stop(&e);
    cr_assert_eq(atomic_load(&T.wrong_thread), 0);
    cr_assert_eq(T.out_of_order, 0, "each poster's mails ran in its order");
    cr_assert_eq(atomic_load(&T.dropped), 0);
    for (int i = 0; i < POSTERS; i++) {
        cr_assert_eq(T.next[i], PER_POSTER);
        free(args[i].mails);
    }
}

/* Wake-ups coalesce: with the loop not running, many posts leave the eventfd
 * readable once and one mailbox_run takes them all (in order); a second run
 * finds nothing. */
Test(mailbox, wakeups_coalesce_into_one_run)
{
    enum { N = 1000 };
    loop *l;
    mailbox *mb;
    cr_assert_eq(loop_new(&l), 0);
    cr_assert_eq(mailbox_new(&mb, l), 0);
    atomic_int ran = 0;
    rec_mail *m = calloc(N, sizeof(*m));
    for (int i = 0; i < N; i++) {
        m[i] = (rec_mail){.m.fn = rec_fn, .id = i, .seq = -1, .counter = &ran};
        mailbox_post(mb, &m[i].m);
    }
    cr_assert_eq(atomic_load(&ran), 0, "posting runs nothing");
    cr_assert_eq(mailbox_run(mb), N);
    cr_assert_eq(atomic_load(&ran), N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(m[i].seq, i);
    cr_assert_eq(mailbox_run(mb), 0);
    /* the box still wakes for the next post after a run */
    rec_mail last = {.m.fn = rec_fn, .seq = -1, .counter = &ran};
    mailbox_post(mb, &last.m);
    cr_assert_eq(mailbox_run(mb), 1);
    cr_assert_eq(last.seq, N);
    mailbox_free(mb);
    loop_free(l);
    free(m);
}

/* Posts queued before the loop runs wake it once: its first iteration runs
 * them all (one batch), and a late post after a quiet spell wakes it again. */
typedef struct iter_mail {
    mail m;
    int *iteration; /* the loop's iteration counter (loop thread only) */
    int ran_in;
    atomic_int *counter;
} iter_mail;

static void iter_fn(mail *m, int dropped)
{
    iter_mail *im = (iter_mail *)m;
    im->ran_in = dropped ? -2 : *im->iteration;
    atomic_fetch_add(im->counter, 1);
}

static void count_iteration(void *arg)
{
    (*(int *)arg)++;
}

Test(mailbox, queued_posts_wake_the_loop_once)
{
    enum { N = 300 };
    box_env e;
    memset(&e, 0, sizeof(e));
    cr_assert_eq(loop_new(&e.l), 0);
    cr_assert_eq(mailbox_new(&e.mb, e.l), 0);
    int iteration = 0;
    loop_hooks hooks = {.after_poll = count_iteration, .arg = &iteration};
    loop_set_hooks(e.l, &hooks);
    atomic_int ran = 0;
    iter_mail *m = calloc(N, sizeof(*m));
    for (int i = 0; i < N; i++) {
        m[i] = (iter_mail){.m.fn = iter_fn, .iteration = &iteration, .ran_in = -1, .counter = &ran};
        mailbox_post(e.mb, &m[i].m);
    }
    cr_assert_eq(pthread_create(&e.th, NULL, loop_main, &e), 0);
    cr_assert_eq(wait_count(&ran, N, 20), N);
    /* a late single post after a quiet spell still wakes it */
    usleep(50000);
    iter_mail late = {.m.fn = iter_fn, .iteration = &iteration, .ran_in = -1, .counter = &ran};
    uint64_t t0 = loop_now_ns();
    mailbox_post(e.mb, &late.m);
    cr_assert_eq(wait_count(&ran, N + 1, 20), N + 1);
    cr_assert_lt(secs_since(t0), 2.0, "the post woke the loop");
    env_stop(&e);
    for (int i = 0; i < N; i++)
        cr_assert_eq(m[i].ran_in, 0, "mail %d ran in the first iteration, not %d", i, m[i].ran_in);
    cr_assert_gt(late.ran_in, 0);
    free(m);
}

Test(mailbox, mails_left_at_free_run_dropped)
{
    box_env e;
    env_start(&e);
    atomic_int ran = 0;
    /* one that runs while the loop runs */
    rec_mail first = {.m.fn = rec_fn, .seq = -1, .counter = &ran};
    mailbox_post(e.mb, &first.m);
    cr_assert_eq(wait_count(&ran, 1, 20), 1);
    loop_stop(e.l);
    pthread_join(e.th, NULL);
    /* the loop is gone: these wait until mailbox_free drops them */
    rec_mail left[3];
    for (int i = 0; i < 3; i++) {
        left[i] = (rec_mail){.m.fn = rec_fn, .id = i, .seq = -1, .counter = &ran};
        mailbox_post(e.mb, &left[i].m);
    }
    usleep(20000);
    cr_assert_eq(atomic_load(&ran), 1, "nothing runs without the loop");
    mailbox_free(e.mb);
    cr_assert_eq(atomic_load(&ran), 4);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(left[i].dropped, 1, "mail %d dropped", i);
        cr_assert_eq(left[i].seq, 1 + i, "dropped in posting order");
        cr_assert(pthread_equal(left[i].ran_on, pthread_self()), "on the freeing thread");
    }
    cr_assert_eq(first.dropped, 0);
    loop_free(e.l);
}
