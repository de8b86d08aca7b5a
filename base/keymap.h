/*
 * keymap.h - a chained hash table of caller-owned nodes, each keyed by 16
 * bytes (a task id, a client address). Intrusive: a node is embedded in the
 * caller's struct and found back with container_of-style offsets; the table
 * allocates only its bucket array, grown by doubling (load factor <= 1).
 *
 * The hash is FNV-1a over the key, started from a per-table random seed, so
 * that a client cannot choose keys that share a chain. Single-threaded: each
 * table belongs to one loop.
 */
#ifndef IOCPU_KEYMAP_H
#define IOCPU_KEYMAP_H
#include <stddef.h>
#include <stdint.h>

#define KEYMAP_KEY_BYTES 16

typedef struct keymap_node {
    struct keymap_node *next;
    uint8_t key[KEYMAP_KEY_BYTES];
} keymap_node;

typedef struct keymap {
    keymap_node **buckets;
    size_t nbuckets, n; /* a power of two; nodes */
    uint64_t seed;
} keymap;

/* An empty table. 0 or -ENOMEM. */
int keymap_init(keymap *m);
/* Frees the bucket array (the nodes are the caller's). */
void keymap_dispose(keymap *m);
keymap_node *keymap_find(const keymap *m, const uint8_t key[KEYMAP_KEY_BYTES]);
/* Adds n (its key set, not already in m). When the table cannot grow, chains
 * get longer: still correct, so this cannot fail. */
void keymap_insert(keymap *m, keymap_node *n);
/* Removes n; a no-op if it is not in m. */
void keymap_remove(keymap *m, keymap_node *n);
/* The first node of bucket i (for walking every node: i < m->nbuckets). */
static inline keymap_node *keymap_bucket(const keymap *m, size_t i)
{
    return m->buckets[i];
}
#endif
