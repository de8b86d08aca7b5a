/*
 * config.h - run-time settings from flags, with IOCPU_* environment fallbacks.
 */
#ifndef IOCPU_CONFIG_H
#define IOCPU_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct config {
    char host[256];
    long port;        /* 0 = pick a free port */
    long workers;     /* executor threads */
    long queue;       /* executor queue bound */
    long io_threads;  /* IO thread pool (blocking calls), apart from the executor */
    long io_queue;    /* its queue bound */
    double max_delay; /* seconds: delay, timeout, after, wait */
    long max_list;    /* items in a list parameter */
    long long max_iterations;
    long max_ms; /* ms of CPU time per job */
    long max_connections;
    long conn_timeout; /* idle seconds before MHD drops a connection */
    long conn_memory;  /* bytes of MHD memory pool per connection */
    long worker_nice;  /* nice increment of worker threads */
    double grace;      /* seconds to drain on SIGTERM/SIGINT */
    long max_tasks;    /* tasks queued or running at once */
    long task_keep;    /* finished tasks kept for GET /tasks/<id> */
    double task_ttl;   /* seconds a finished task is kept */
    int access_log;
    long loops;            /* event-loop threads; 0 = one per core (resolved by server_new) */
    char replica_id[64];   /* "" or a DNS label (a pod name): prefixes task ids, X-Iocpu-Replica */
    long max_conn_per_ip;  /* open connections from one address; 0 = no limit */
    long max_url;          /* bytes of path + query (decoded); beyond: 414 */
    long max_params;       /* query parameters; beyond: 414 */
    long max_header_bytes; /* bytes of request headers; beyond: 431 */
    char tasks_backend[272]; /* "memory" or redis://HOST[:PORT][/DB] */
    long task_attempts;      /* Redis backend: runs of one task at most */
    double task_claim_idle;  /* Redis backend: seconds before a silent replica's job is reclaimed */
    double redis_timeout;    /* Redis backend: seconds a command may take before 503 */
    char redis_password_file[256]; /* Redis backend: where the password is ("" = none) */
    char redis_password[256];      /* from that file or IOCPU_REDIS_PASSWORD; a secret */
    char admin_token_file[256];    /* where the admin token is ("" = none) */
    char admin_token[256];         /* from that file or IOCPU_ADMIN_TOKEN; a secret; "" = none:
                                      GET /tasks is off, DELETE needs the task's owner token */
    double header_timeout; /* seconds from a request's first byte to its headers, then to its
                              body; 0 = off */
    long max_body_buffer;  /* request body bytes held at once (split across loops); beyond: 503 */
    long max_tasks_per_client;    /* CPU tasks queued or running per client address; 0 = no limit */
    double task_share;            /* share of the executor's workers and queue tasks may take */
    long admin_port;              /* the admin listener's port; 0 = none */
    char admin_host[256];         /* its address */
    long stream_buffer_bytes;     /* a stream's unsent bytes held for its client; beyond: cut off */
    double stream_write_timeout;  /* seconds a stream owing bytes may go without the client
                                     taking any; then cut off */
    char allowed_hosts[1024];     /* Host patterns (hostallow.h); "" = the default for host */
    char upstream_allow[1024];    /* host:port entries /io/fetch may reach (fetch/allow.h); "" =
                                     this server itself on loopback */
    long fetch_max_bytes;         /* response body bytes of one fetch; beyond: 502 */
    long fetch_max_inflight;      /* fetches in progress in the whole server; beyond: 503 */
    double fetch_connect_timeout; /* seconds a fetch may take to connect */
    long max_payload_bytes;       /* size= padding of an IO answer, at most */
    char inject_error[16];        /* --inject-error RATE[:CODE] (faults.h); "" = off */
    char inject_delay[128];       /* --inject-delay DIST (shape.h text form); "" = off */
    /* inject_error parsed: the share of requests answered with inject_code (0 = off) */
    double inject_rate;
    unsigned inject_code;
} config;

void config_defaults(config *c);

/*
 * Applies the environment, then argv. Returns 0 to run, 1 when --help or
 * --version was printed (exit 0), -1 on a bad flag or value (message on err).
 */
int config_parse(config *c, int argc, char **argv, FILE *out, FILE *err);

#endif
