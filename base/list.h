/*
 * list.h - an intrusive, circular, doubly linked list (in the spirit of
 * libuv's queue.h, written for this project).
 *
 * A list is a list_node used as its head (a sentinel): empty, it points to
 * itself. An element embeds a list_node and is found from it with
 * list_entry(). Insertion and removal are O(1) and need no allocation.
 *
 *     struct job { int id; list_node link; };
 *     list_node jobs;
 *     list_init(&jobs);
 *     list_insert_tail(&jobs, &j->link);
 *     list_foreach(n, &jobs) use(list_entry(n, struct job, link));
 *
 * Ownership: nodes and heads are allocated by the caller; the list only
 * links them and never frees anything. A head must be list_init()ed before
 * anything is inserted (a zeroed head reads as empty, nothing more). A node
 * needs no initialisation: a zeroed node is not linked, and list_remove()
 * leaves a node self-linked, so removing it again, or removing a node that
 * was never inserted, is harmless.
 *
 * Threads: not thread-safe: a list belongs to one thread (or to one lock).
 */
#ifndef IOCPU_LIST_H
#define IOCPU_LIST_H

#include <stddef.h>

typedef struct list_node {
    struct list_node *prev, *next;
} list_node;

/* The element of type `type` whose list_node member `member` is at ptr
 * (a list_node *: the helper checks the type). */
#define list_entry(ptr, type, member) ((type *)list_entry_at_((ptr), offsetof(type, member)))

/* Walks the nodes of head, first to last; pos must stay in the list. */
#define list_foreach(pos, head) for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/* Like list_foreach(), but the body may remove (or free) pos; tmp is scratch. */
#define list_foreach_safe(pos, tmp, head)                                                          \
    for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                               \
         (pos) = (tmp), (tmp) = (pos)->next)

static inline void *list_entry_at_(const list_node *n, size_t offset)
{
    return (char *)n - offset;
}

/* Makes head an empty list. */
static inline void list_init(list_node *head)
{
    head->prev = head->next = head;
}

/* Whether the list has no node (also true for a zeroed head). */
static inline int list_empty(const list_node *head)
{
    return !head->next || head->next == head;
}

/* Whether n is in a list (false for a zeroed or removed node). */
static inline int list_linked(const list_node *n)
{
    return n->next && n->next != n;
}

/* Inserts n (not linked) first in head. */
static inline void list_insert_head(list_node *head, list_node *n)
{
    n->prev = head;
    n->next = head->next;
    head->next->prev = n;
    head->next = n;
}

/* Inserts n (not linked) last in head. */
static inline void list_insert_tail(list_node *head, list_node *n)
{
    n->next = head;
    n->prev = head->prev;
    head->prev->next = n;
    head->prev = n;
}

/* Takes n out of its list and leaves it self-linked; a no-op when it is not linked. */
static inline void list_remove(list_node *n)
{
    if (list_linked(n)) {
        n->prev->next = n->next;
        n->next->prev = n->prev;
    }
    n->prev = n->next = n;
}

/* Moves every node of from, in order, to the end of head; from is left empty. */
static inline void list_splice_tail(list_node *head, list_node *from)
{
    if (list_empty(from)) return;
    from->next->prev = head->prev;
    head->prev->next = from->next;
    from->prev->next = head;
    head->prev = from->prev;
    list_init(from);
}

/* The first node of head, or NULL when it is empty. */
static inline list_node *list_first(const list_node *head)
{
    return list_empty(head) ? NULL : head->next;
}

/* The last node of head, or NULL when it is empty. */
static inline list_node *list_last(const list_node *head)
{
    return list_empty(head) ? NULL : head->prev;
}

/* The node after n in head, or NULL when n is the last. */
static inline list_node *list_next(const list_node *head, const list_node *n)
{
    return n->next == head ? NULL : n->next;
}

/* The node before n in head, or NULL when n is the first. */
static inline list_node *list_prev(const list_node *head, const list_node *n)
{
    return n->prev == head ? NULL : n->prev;
}

#endif
