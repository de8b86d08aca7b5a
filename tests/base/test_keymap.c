/*
 * test_keymap.c - the 16-byte-keyed table: every node found after growth,
 * removal of heads and of nodes deep in a chain, absent keys.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "keymap.h"

typedef struct item {
    int value;
    keymap_node node;
} item;

static void key_of(uint8_t key[KEYMAP_KEY_BYTES], unsigned i)
{
    memset(key, 0xa5, KEYMAP_KEY_BYTES);
    memcpy(key + 3, &i, sizeof(i)); /* keys that differ in a few middle bytes only */
}

static item *find(const keymap *m, unsigned i)
{
    uint8_t key[KEYMAP_KEY_BYTES];
    key_of(key, i);
    keymap_node *n = keymap_find(m, key);
    return n ? (item *)(void *)((char *)n - offsetof(item, node)) : NULL;
}

Test(keymap, finds_every_node_across_growth_and_removal)
{
    enum { N = 5000 };
    keymap m;
    cr_assert_eq(keymap_init(&m), 0);
    size_t first_buckets = m.nbuckets;
    item *items = calloc(N, sizeof(*items));
    cr_assert_not_null(items);
    for (unsigned i = 0; i < N; i++) {
        items[i].value = (int)i;
        key_of(items[i].node.key, i);
        keymap_insert(&m, &items[i].node);
    }
    cr_assert_eq(m.n, N);
    cr_assert_gt(m.nbuckets, first_buckets, "the table grew");
    cr_assert_geq(m.nbuckets, m.n, "load factor <= 1");
    for (unsigned i = 0; i < N; i++) {
        item *it = find(&m, i);
        cr_assert(it == &items[i], "key %u", i);
    }
    cr_assert_null(find(&m, N + 1), "an absent key");
    for (unsigned i = 0; i < N; i += 2)
        keymap_remove(&m, &items[i].node);
    cr_assert_eq(m.n, N / 2);
    for (unsigned i = 0; i < N; i++)
        cr_assert((find(&m, i) != NULL) == (i % 2 == 1), "key %u after removing evens", i);
    keymap_remove(&m, &items[0].node); /* not in the table any more: a no-op */
    cr_assert_eq(m.n, N / 2);
    size_t walked = 0;
    for (size_t b = 0; b < m.nbuckets; b++)
        for (keymap_node *n = keymap_bucket(&m, b); n; n = n->next)
            walked++;
    cr_assert_eq(walked, N / 2, "a walk over the buckets sees every node once");
    keymap_dispose(&m);
    free(items);
}

Test(keymap, two_tables_hash_differently)
{
    /* the per-table seed: the same keys land in other buckets, so a client
     * cannot learn one process's chains and reuse them on another */
    keymap a, b;
    cr_assert_eq(keymap_init(&a), 0);
    cr_assert_eq(keymap_init(&b), 0);
    cr_assert_neq(a.seed, b.seed);
    keymap_dispose(&a);
    keymap_dispose(&b);
}
