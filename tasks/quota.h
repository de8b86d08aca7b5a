/*
 * quota.h - how many CPU tasks each client has queued or running, and a cap
 * on it (--max-task-queue-per-client), so that one client cannot take every
 * worker and queue slot of the server.
 *
 * A client is its address: an IPv4 address, or the /64 prefix of an IPv6
 * address (one host usually holds a whole /64, and its privacy addresses
 * change within it); an IPv4-mapped IPv6 address counts as its IPv4 address.
 * Behind a proxy or NAT every client of that address shares one count.
 *
 * Threads: the loop that owns the task backend (loop 0), only.
 */
#ifndef IOCPU_QUOTA_H
#define IOCPU_QUOTA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"

/* A client's key: 16 bytes (IPv4 as ::ffff:a.b.c.d, IPv6 cut to /64). */
typedef struct task_client {
    uint8_t key[16];
    uint8_t known; /* 0: no address (a test's direct call): never counted */
} task_client;

/* The key of the client at sa (AF_INET or AF_INET6; anything else: unknown). */
void task_client_from_addr(task_client *c, const struct sockaddr *sa);
/* The key as text ("192.0.2.1", "2001:db8::/64") into out[len >= 48]. */
const char *task_client_text(const task_client *c, char *out, size_t len);

typedef struct task_quota task_quota;

/* A quota of `cap` tasks per client (0: no cap, counts are still kept).
 * 0 or -ENOMEM. */
int task_quota_new(task_quota **out, size_t cap);
void task_quota_free(task_quota *q);

/* One more task for c: 0, -EDQUOT when c holds cap already (nothing
 * counted), -ENOMEM. An unknown client is never counted (0). */
int task_quota_take(task_quota *q, const task_client *c);
/* One task of c is over (each take is given back once). */
void task_quota_give(task_quota *q, const task_client *c);

/* What c holds now. */
size_t task_quota_held(const task_quota *q, const task_client *c);

typedef struct task_quota_stats {
    size_t cap;       /* 0: no cap */
    size_t clients;   /* clients holding at least one task */
    size_t peak;      /* the most one client has held at once since the start */
    uint64_t refused; /* takes refused at the cap */
} task_quota_stats;
void task_quota_get_stats(const task_quota *q, task_quota_stats *st);
/* Its Prometheus families: iocpu_task_clients, iocpu_task_client_peak,
 * iocpu_task_client_refused_total. */
void task_quota_render(const task_quota_stats *st, buf *b);

#endif
