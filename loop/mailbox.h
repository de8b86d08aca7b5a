/*
 * mailbox.h - calls from any thread into one event loop: a thread posts a
 * mail, and the mail's fn runs later on the loop thread that owns the
 * mailbox. This is how the loops of a multi-loop server talk to each other
 * (a request on loop 3 hands its task operation to loop 0, which owns the
 * task store, and loop 0 hands the answer back).
 *
 * Threads: mailbox_post() may be called from any thread; every fn runs on
 * the owning loop's thread, in posting order. A mail belongs to the mailbox
 * from mailbox_post() until its fn is called: the poster must not touch it
 * meanwhile. The mutex inside orders everything the poster wrote before
 * posting before everything fn reads.
 */
#ifndef IOCPU_MAILBOX_H
#define IOCPU_MAILBOX_H

#include "loop.h"

typedef struct mailbox mailbox;
typedef struct mail mail;

struct mail {
    /* Runs once, on the owning loop (dropped == 0), or from mailbox_free()
     * on the thread that frees the mailbox (dropped == 1: the loop is gone,
     * only release what the mail holds). */
    void (*fn)(mail *m, int dropped);
    mail *next_; /* private */
};

/* A mailbox whose mails run on loop l (its eventfd is watched there). 0 or -errno. */
int mailbox_new(mailbox **out, loop *l);
/* Drops every mail still waiting (fn with dropped = 1), then frees. The
 * loop must not run any more. */
void mailbox_free(mailbox *mb);
/* Queues m and wakes the loop; any thread. Wake-ups coalesce. */
void mailbox_post(mailbox *mb, mail *m);
/* Runs every mail waiting now, on the calling (owning) thread; how many ran. */
size_t mailbox_run(mailbox *mb);

#endif
