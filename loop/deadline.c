/*
 * deadline.c - fixed-window deadlines in a FIFO behind one loop timer (deadline.h).
 */
#include "deadline.h"

#include <errno.h>
#include <string.h>

static void unlink_entry(deadline_queue *q, deadline_entry *e)
{
    list_remove(&e->link_);
    q->n_--;
}

/* The entry armed first (due first), or NULL. */
static deadline_entry *head_entry(const deadline_queue *q)
{
    list_node *n = list_first(&q->entries_);
    return n ? list_entry(n, deadline_entry, link_) : NULL;
}

static void on_timer(timer *t);

/* Arms the timer for the head, unless it is already armed (then for an
 * earlier time: it re-arms itself when it fires). */
static int arm_timer(deadline_queue *q, uint64_t now)
{
    deadline_entry *h = head_entry(q);
    if (!h || timer_active(&q->timer_)) return 0;
    uint64_t due = h->due_ns;
    return loop_timer_start(q->loop_, &q->timer_, due > now ? due - now : 0, on_timer, q);
}

/* Expires every entry due by now (entries armed by a callback are due a
 * whole window later), then follows the new head. */
static void on_timer(timer *t)
{
    deadline_queue *q = t->data;
    uint64_t now = loop_now_ns();
    deadline_entry *e;
    while ((e = head_entry(q)) && e->due_ns <= now) {
        unlink_entry(q, e);
        q->cb_(q, e);
    }
    arm_timer(q, loop_now_ns()); /* on -ENOMEM the next deadline_arm() retries */
}

void deadline_init(deadline_queue *q, loop *l, uint64_t window_ns, deadline_cb cb, void *data)
{
    memset(q, 0, sizeof(*q));
    list_init(&q->entries_);
    q->loop_ = l;
    q->window_ns_ = window_ns;
    q->cb_ = cb;
    q->data = data;
}

void deadline_close(deadline_queue *q)
{
    if (q->loop_) loop_timer_cancel(q->loop_, &q->timer_);
    deadline_entry *e;
    while ((e = head_entry(q)))
        unlink_entry(q, e);
}

int deadline_arm(deadline_queue *q, deadline_entry *e)
{
    if (!q->window_ns_) return 0;
    if (deadline_armed(e)) unlink_entry(q, e);
    uint64_t now = loop_now_ns();
    e->due_ns = now + q->window_ns_;
    list_insert_tail(&q->entries_, &e->link_);
    q->n_++;
    if (arm_timer(q, now) < 0) {
        unlink_entry(q, e);
        return -ENOMEM;
    }
    return 0;
}

void deadline_disarm(deadline_queue *q, deadline_entry *e)
{
    if (deadline_armed(e)) unlink_entry(q, e);
}
