/*
 * keymap.c - see keymap.h.
 */
#define _GNU_SOURCE
#include "keymap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MIN_BUCKETS 64

static size_t bucket_of(const keymap *m, size_t nbuckets, const uint8_t *key)
{
    uint64_t h = 14695981039346656037ull ^ m->seed;
    for (int i = 0; i < KEYMAP_KEY_BYTES; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32)) & (nbuckets - 1);
}

int keymap_init(keymap *m)
{
    memset(m, 0, sizeof(*m));
    m->buckets = calloc(MIN_BUCKETS, sizeof(*m->buckets));
    if (!m->buckets) return -ENOMEM;
    m->nbuckets = MIN_BUCKETS;
    if (getrandom(&m->seed, sizeof(m->seed), GRND_NONBLOCK) != sizeof(m->seed))
        m->seed = (uint64_t)(uintptr_t)m; /* no entropy yet: still differs per table */
    return 0;
}

void keymap_dispose(keymap *m)
{
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->n = 0;
}

static keymap_node **slot_of(const keymap *m, const uint8_t *key)
{
    keymap_node **p = &m->buckets[bucket_of(m, m->nbuckets, key)];
    while (*p && memcmp((*p)->key, key, KEYMAP_KEY_BYTES))
        p = &(*p)->next;
    return p;
}

keymap_node *keymap_find(const keymap *m, const uint8_t key[KEYMAP_KEY_BYTES])
{
    return *slot_of(m, key);
}

/* Room for one more node (load factor <= 1); on failure the table stays. */
static void grow(keymap *m)
{
    if (m->n < m->nbuckets) return;
    size_t nb = m->nbuckets * 2;
    keymap_node **b = calloc(nb, sizeof(*b));
    if (!b) return;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (keymap_node *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t k = bucket_of(m, nb, e->key);
            e->next = b[k];
            b[k] = e;
        }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
}

void keymap_insert(keymap *m, keymap_node *n)
{
    grow(m);
    size_t k = bucket_of(m, m->nbuckets, n->key);
    n->next = m->buckets[k];
    m->buckets[k] = n;
    m->n++;
}

void keymap_remove(keymap *m, keymap_node *n)
{
    for (keymap_node **p = &m->buckets[bucket_of(m, m->nbuckets, n->key)]; *p; p = &(*p)->next)
        if (*p == n) {
            *p = n->next;
            m->n--;
            return;
        }
}
