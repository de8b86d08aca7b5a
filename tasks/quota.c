/*
 * quota.c - see quota.h. A table (base/keymap.h) from client key to count;
 * an entry lives while its count is above zero, so the table holds at most
 * one entry per live CPU task.
 */
#include "quota.h"

#include "keymap.h"
#include "prom.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(((task_client *)0)->key) == KEYMAP_KEY_BYTES, "a client key is a keymap key");

typedef struct entry {
    keymap_node node; /* first: an entry is its node */
    size_t held;
} entry;

struct task_quota {
    keymap map;
    size_t cap, peak;
    uint64_t refused;
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

int task_quota_new(task_quota **out, size_t cap)
{
    task_quota *q = calloc(1, sizeof(*q));
    if (!q) return -ENOMEM;
    if (keymap_init(&q->map) < 0) {
        free(q);
        return -ENOMEM;
    }
    q->cap = cap;
    *out = q;
    return 0;
}

void task_quota_free(task_quota *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->map.nbuckets; i++)
        for (keymap_node *e = keymap_bucket(&q->map, i), *next; e; e = next) {
            next = e->next;
            free(e);
        }
    keymap_dispose(&q->map);
    free(q);
}

static entry *find(const task_quota *q, const task_client *c)
{
    return (entry *)keymap_find(&q->map, c->key);
}

int task_quota_take(task_quota *q, const task_client *c)
{
    if (!c->known) return 0;
    entry *e = find(q, c);
    if (e && q->cap && e->held >= q->cap) {
        q->refused++;
        return -EDQUOT;
    }
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e) return -ENOMEM;
        memcpy(e->node.key, c->key, sizeof(e->node.key));
        keymap_insert(&q->map, &e->node);
    }
    if (++e->held > q->peak) q->peak = e->held;
    return 0;
}

void task_quota_give(task_quota *q, const task_client *c)
{
    if (!c->known) return;
    entry *e = find(q, c);
    if (!e) return; /* never taken: nothing to give */
    if (--e->held > 0) return;
    keymap_remove(&q->map, &e->node);
    free(e);
}

size_t task_quota_held(const task_quota *q, const task_client *c)
{
    if (!c->known) return 0;
    entry *e = find(q, c);
    return e ? e->held : 0;
}

void task_quota_get_stats(const task_quota *q, task_quota_stats *st)
{
    st->cap = q->cap;
    st->clients = q->map.n;
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
