/*
 * quota.c - see quota.h. A chained hash table from client key to count,
 * grown by doubling (load factor <= 1); an entry lives while its count is
 * above zero, so the table holds at most one entry per live CPU task. The
 * hash is FNV-1a over the key with a random seed, so that clients cannot
 * pick keys that share a chain.
 */
#define _GNU_SOURCE
#include "quota.h"

#include "prom.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MIN_BUCKETS 64

typedef struct entry {
    struct entry *next;
    uint8_t key[16];
    size_t held;
} entry;

struct task_quota {
    entry **buckets;
    size_t nbuckets, n; /* a power of two; entries */
    size_t cap, peak;
    uint64_t refused, seed;
};

void task_client_from_addr(task_client *c, const struct sockaddr *sa)
{
    memset(c, 0, sizeof(*c));
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        c->key[10] = c->key[11] = 0xff;
        memcpy(c->key + 12, &in4->sin_addr, 4);
        c->known = 1;
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *a = in6->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            memcpy(c->key, a, 16); /* the IPv4 client: ::ffff:a.b.c.d, as AF_INET above */
        else
            memcpy(c->key, a, 8); /* its /64 */
        c->known = 1;
    }
}

static int is_v4(const task_client *c)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return !memcmp(c->key, prefix, sizeof(prefix));
}

const char *task_client_text(const task_client *c, char *out, size_t len)
{
    char addr[INET6_ADDRSTRLEN] = "?";
    if (!c->known)
        snprintf(out, len, "unknown");
    else if (is_v4(c) && inet_ntop(AF_INET, c->key + 12, addr, sizeof(addr)))
        snprintf(out, len, "%s", addr);
    else if (inet_ntop(AF_INET6, c->key, addr, sizeof(addr)))
        snprintf(out, len, "%s/64", addr);
    else
        snprintf(out, len, "?");
    return out;
}

static size_t bucket_of(const task_quota *q, const uint8_t *key)
{
    uint64_t h = 14695981039346656037ull ^ q->seed;
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32)) & (q->nbuckets - 1);
}

static entry **slot_of(const task_quota *q, const uint8_t *key)
{
    entry **p = &q->buckets[bucket_of(q, key)];
    while (*p && memcmp((*p)->key, key, 16))
        p = &(*p)->next;
    return p;
}

int task_quota_new(task_quota **out, size_t cap)
{
    task_quota *q = calloc(1, sizeof(*q));
    if (!q) return -ENOMEM;
    q->nbuckets = MIN_BUCKETS;
    q->buckets = calloc(q->nbuckets, sizeof(*q->buckets));
    if (!q->buckets) {
        free(q);
        return -ENOMEM;
    }
    q->cap = cap;
    if (getrandom(&q->seed, sizeof(q->seed), GRND_NONBLOCK) != sizeof(q->seed))
        q->seed = (uint64_t)(uintptr_t)q; /* no entropy yet: still differs per process */
    *out = q;
    return 0;
}

void task_quota_free(task_quota *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->nbuckets; i++)
        for (entry *e = q->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(q->buckets);
    free(q);
}

/* Room for one more entry (load factor <= 1); on failure the table stays. */
static void grow(task_quota *q)
{
    if (q->n < q->nbuckets) return;
    entry **old = q->buckets;
    size_t oldn = q->nbuckets;
    entry **b = calloc(oldn * 2, sizeof(*b));
    if (!b) return; /* longer chains, still correct */
    q->buckets = b;
    q->nbuckets = oldn * 2;
    for (size_t i = 0; i < oldn; i++)
        for (entry *e = old[i], *next; e; e = next) {
            next = e->next;
            size_t k = bucket_of(q, e->key);
            e->next = b[k];
            b[k] = e;
        }
    free(old);
}

int task_quota_take(task_quota *q, const task_client *c)
{
    if (!c->known) return 0;
    entry **p = slot_of(q, c->key);
    if (*p && q->cap && (*p)->held >= q->cap) {
        q->refused++;
        return -EDQUOT;
    }
    if (!*p) {
        entry *e = calloc(1, sizeof(*e));
        if (!e) return -ENOMEM;
        memcpy(e->key, c->key, 16);
        grow(q);
        p = slot_of(q, c->key); /* the table may have moved */
        *p = e;
        q->n++;
    }
    if (++(*p)->held > q->peak) q->peak = (*p)->held;
    return 0;
}

void task_quota_give(task_quota *q, const task_client *c)
{
    if (!c->known) return;
    entry **p = slot_of(q, c->key);
    entry *e = *p;
    if (!e) return; /* never taken: nothing to give */
    if (--e->held > 0) return;
    *p = e->next;
    q->n--;
    free(e);
}

size_t task_quota_held(const task_quota *q, const task_client *c)
{
    if (!c->known) return 0;
    entry *e = *slot_of(q, c->key);
    return e ? e->held : 0;
}

void task_quota_get_stats(const task_quota *q, task_quota_stats *st)
{
    st->cap = q->cap;
    st->clients = q->n;
    st->peak = q->peak;
    st->refused = q->refused;
}

void task_quota_render(const task_quota_stats *st, buf *b)
{
    prom_family(b, "iocpu_task_clients", "gauge",
                "Clients (IPv4 address, IPv6 /64) with CPU tasks queued or running.");
    prom_sample_u64(b, "iocpu_task_clients", "", st->clients);
    prom_family(b, "iocpu_task_client_peak", "gauge",
                "The most CPU tasks one client has held queued or running at once.");
    prom_sample_u64(b, "iocpu_task_client_peak", "", st->peak);
    prom_family(b, "iocpu_task_client_refused_total", "counter",
                "POST /tasks refused with 429: the client held --max-task-queue-per-client.");
    prom_sample_u64(b, "iocpu_task_client_refused_total", "", st->refused);
}
