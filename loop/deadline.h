/*
 * deadline.h - many deadlines of one fixed length on a loop, behind one timer.
 *
 * Every entry is armed for "now + window", with the same window for all, so
 * entries armed later are never due earlier: appending to a FIFO keeps it
 * sorted by due time, and arm, disarm and the expiry of each entry are O(1)
 * (MHD keeps its idle-timeout list the same way). One loop timer is armed for
 * the head. It is left running when the head is disarmed; when it fires early
 * it re-arms for the new head. So a connection that arms and disarms an entry
 * for every request costs a few pointer writes, not a heap operation.
 *
 * Used for --header-timeout: the time a client has to deliver a request's
 * headers, then its body (http_conn.c).
 *
 * Threads: everything here runs on the loop thread.
 */
#ifndef IOCPU_DEADLINE_H
#define IOCPU_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "loop.h"

typedef struct deadline_entry deadline_entry;
typedef struct deadline_queue deadline_queue;

/* Runs once for an entry whose deadline passed; the entry is already disarmed. */
typedef void (*deadline_cb)(deadline_queue *q, deadline_entry *e);

/* Caller-allocated; zeroed before first use. */
struct deadline_entry {
    /* public, read-only */
    uint64_t due_ns; /* absolute CLOCK_MONOTONIC time, while armed */
    /* private */
    list_node link_; /* in the queue's FIFO while armed */
};

struct deadline_queue {
    /* public, read-write */
    void *data;
    /* private */
    loop *loop_;
    uint64_t window_ns_;
    deadline_cb cb_;
    list_node entries_; /* armed entries (deadline_entry.link_), oldest first */
    size_t n_;
    timer timer_;
};

/* A queue on loop l whose entries expire window_ns after they are armed; a
 * window of 0 turns it off (deadline_arm() does nothing). */
void deadline_init(deadline_queue *q, loop *l, uint64_t window_ns, deadline_cb cb, void *data);
/* Cancels the timer; armed entries are forgotten (never expire). */
void deadline_close(deadline_queue *q);

/* (Re)arms e to expire one window from now (it moves to the back). 0, or
 * -ENOMEM when the timer could not be armed (e is then not armed). */
int deadline_arm(deadline_queue *q, deadline_entry *e);
/* Disarms e; a no-op if it is not armed. */
void deadline_disarm(deadline_queue *q, deadline_entry *e);

static inline int deadline_armed(const deadline_entry *e)
{
    return list_linked(&e->link_);
}
/* Entries armed. */
static inline size_t deadline_count(const deadline_queue *q)
{
    return q->n_;
}
/* Whether the queue's timer is armed (it may outlive the last entry by one window). */
static inline int deadline_timer_armed(const deadline_queue *q)
{
    return timer_active(&q->timer_);
}

#endif
