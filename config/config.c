/*
 * config.c - one table describes every option: flag, environment variable,
 * type, bounds and help line. Bad values are rejected, never clamped.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults.h"
#include "allow.h"
#include "hostallow.h"
#include "numparse.h"
#include "redisurl.h"
#include "shape.h"

#define IOCPU_VERSION "0.1.0"

enum opt_type { T_STR, T_LONG, T_LLONG, T_DOUBLE, T_FLAG };

typedef struct opt {
    const char *flag, *env;
    enum opt_type type;
    size_t off;
    double lo, hi;
    const char *help;
} opt;

#define OFF(f) offsetof(config, f)
static const opt OPTS[] = {
    {"host", "IOCPU_HOST", T_STR, OFF(host), 0, 0, "address to listen on (default 127.0.0.1)"},
    {"port", "IOCPU_PORT", T_LONG, OFF(port), 0, 65535, "TCP port; 0 picks a free one (8080)"},
    {"workers", "IOCPU_WORKERS", T_LONG, OFF(workers), 1, 1024,
     "executor threads (default: number of cores)"},
    {"queue", "IOCPU_QUEUE", T_LONG, OFF(queue), 1, 1000000,
     "executor queue bound; beyond it 503 (1024)"},
    {"io-threads", "IOCPU_IO_THREADS", T_LONG, OFF(io_threads), 1, 4096,
     "IO threads for blocking calls (/io/threadpool), apart from the executor (40, as anyio)"},
    {"io-queue", "IOCPU_IO_QUEUE", T_LONG, OFF(io_queue), 1, 1000000,
     "blocking calls waiting for an IO thread; beyond it 503 (4096)"},
    {"max-delay", "IOCPU_MAX_DELAY", T_DOUBLE, OFF(max_delay), 0, 86400,
     "max seconds for delay/timeout/after/wait (60)"},
    {"max-list", "IOCPU_MAX_LIST", T_LONG, OFF(max_list), 1, 10000,
     "max items in a list parameter (100)"},
    {"max-iterations", "IOCPU_MAX_ITERATIONS", T_LLONG, OFF(max_iterations), 0, 1e15,
     "max cpu_heavy iterations (5000000000)"},
    {"max-ms", "IOCPU_MAX_MS", T_LONG, OFF(max_ms), 0, 86400000,
     "max CPU milliseconds per job (60000)"},
    {"max-connections", "IOCPU_MAX_CONNECTIONS", T_LONG, OFF(max_connections), 1, 1000000,
     "max open connections (16384)"},
    {"conn-timeout", "IOCPU_CONN_TIMEOUT", T_LONG, OFF(conn_timeout), 1, 86400,
     "seconds an idle connection is kept (30)"},
    {"conn-memory", "IOCPU_CONN_MEMORY", T_LONG, OFF(conn_memory), 2048, 1048576,
     "bytes of buffer per connection; caps request line + headers (32768)"},
    {"worker-nice", "IOCPU_WORKER_NICE", T_LONG, OFF(worker_nice), 0, 19,
     "nice increment of executor threads vs the loop (10)"},
    {"grace", "IOCPU_GRACE", T_DOUBLE, OFF(grace), 0, 3600,
     "seconds to drain on SIGTERM/SIGINT (10)"},
    {"max-tasks", "IOCPU_MAX_TASKS", T_LONG, OFF(max_tasks), 1, 1000000,
     "tasks queued or running at once; beyond it POST /tasks gets 503 (10000)"},
    {"task-keep", "IOCPU_TASK_KEEP", T_LONG, OFF(task_keep), 0, 1000000,
     "finished tasks kept; the oldest is forgotten first (1000)"},
    {"task-ttl", "IOCPU_TASK_TTL", T_DOUBLE, OFF(task_ttl), 0, 604800,
     "seconds a finished task is kept (300)"},
    {"access-log", "IOCPU_ACCESS_LOG", T_FLAG, OFF(access_log), 0, 1,
     "JSON access log lines on stdout (off)"},
    {"loops", "IOCPU_LOOPS", T_LONG, OFF(loops), 0, 256,
     "event-loop threads sharing the port (SO_REUSEPORT); 0 = one per core (1)"},
    {"replica-id", "IOCPU_REPLICA_ID", T_STR, OFF(replica_id), 0, 63,
     "this replica's name, a DNS label: prefixes task ids, sent as X-Iocpu-Replica (none)"},
    {"max-connections-per-ip", "IOCPU_MAX_CONNECTIONS_PER_IP", T_LONG, OFF(max_conn_per_ip), 0,
     1000000, "open connections from one client address; 0 = no limit (0)"},
    {"max-url", "IOCPU_MAX_URL", T_LONG, OFF(max_url), 16, 1048576,
     "bytes of path + query; beyond it 414 (2048)"},
    {"max-params", "IOCPU_MAX_PARAMS", T_LONG, OFF(max_params), 1, 100000,
     "query parameters per request; beyond it 414 (32)"},
    {"max-header-bytes", "IOCPU_MAX_HEADER_BYTES", T_LONG, OFF(max_header_bytes), 64, 1048576,
     "bytes of request headers; beyond it 431 (8192)"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", T_STR, OFF(tasks_backend), 0, 0,
     "memory, or redis://HOST[:PORT][/DB] to share tasks between replicas (Redis >= 6.2; "
     "7.0 tested) (memory)"},
    {"task-attempts", "IOCPU_TASK_ATTEMPTS", T_LONG, OFF(task_attempts), 1, 100,
     "Redis backend: runs of a task whose replica died before it is failed (3)"},
    {"redis-password-file", "IOCPU_REDIS_PASSWORD_FILE", T_STR, OFF(redis_password_file), 0, 0,
     "Redis backend: a file whose first line is the password (else IOCPU_REDIS_PASSWORD, else "
     "the URL's), so that it is in no command line (none)"},
    {"admin-token-file", "IOCPU_ADMIN_TOKEN_FILE", T_STR, OFF(admin_token_file), 0, 0,
     "a file whose first line is the admin token (else IOCPU_ADMIN_TOKEN): it lists tasks "
     "(GET /tasks) and cancels any; none: listing is off (none)"},
    {"redis-timeout", "IOCPU_REDIS_TIMEOUT", T_DOUBLE, OFF(redis_timeout), 0.05, 600,
     "Redis backend: seconds a command may take; then 503 with Retry-After, and /readyz 503 "
     "while Redis does not answer (3)"},
    {"task-claim-idle", "IOCPU_TASK_CLAIM_IDLE", T_DOUBLE, OFF(task_claim_idle), 0.3, 86400,
     "Redis backend: seconds a replica may be silent before its jobs are reclaimed (30)"},
    {"header-timeout", "IOCPU_HEADER_TIMEOUT", T_DOUBLE, OFF(header_timeout), 0, 86400,
     "seconds a request has for its headers from its first byte, then as long for its body; "
     "then the connection is closed; 0 = off (10)"},
    {"max-body-buffer", "IOCPU_MAX_BODY_BUFFER", T_LONG, OFF(max_body_buffer), 65536, 68719476736.0,
     "bytes of request bodies held at once (each loop its share); beyond it 503 (16777216)"},
    {"max-task-queue-per-client", "IOCPU_MAX_TASK_QUEUE_PER_CLIENT", T_LONG,
     OFF(max_tasks_per_client), 0, 1000000,
     "CPU tasks queued or running per client (IPv4 address, IPv6 /64); beyond it POST /tasks "
     "gets 429; 0 = no limit (256)"},
    {"task-share", "IOCPU_TASK_SHARE", T_DOUBLE, OFF(task_share), 0.01, 1,
     "share of the executor's workers and queue that CPU tasks may take; the rest stays for "
     "/cpu requests (0.75)"},
    {"admin-port", "IOCPU_ADMIN_PORT", T_LONG, OFF(admin_port), 0, 65535,
     "port of the admin listener (/healthz, /readyz, /metrics, /loop on connections of its own); "
     "0 = none (0)"},
    {"admin-host", "IOCPU_ADMIN_HOST", T_STR, OFF(admin_host), 0, 0,
     "address of the admin listener (default 127.0.0.1)"},
    {"stream-buffer-bytes", "IOCPU_STREAM_BUFFER_BYTES", T_LONG, OFF(stream_buffer_bytes), 4096,
     1073741824,
     "bytes a stream may hold for a client that does not read; beyond it the stream "
     "is cut off (65536)"},
    {"stream-write-timeout", "IOCPU_STREAM_WRITE_TIMEOUT", T_DOUBLE, OFF(stream_write_timeout), 0.1,
     86400,
     "seconds a stream with bytes unsent may go without its client taking any; then it is cut "
     "off (30)"},
    {"allowed-hosts", "IOCPU_ALLOWED_HOSTS", T_STR, OFF(allowed_hosts), 0, 0,
     "Host header patterns served, comma-separated: name, address, *.domain, or * for any; "
     "others get 400 (loopback names and addresses when --host is loopback, else any)"},
    {"max-payload-bytes", "IOCPU_MAX_PAYLOAD_BYTES", T_LONG, OFF(max_payload_bytes), 0, 67108864,
     "bytes of padding an IO endpoint's size= may ask for (1048576)"},
    {"inject-error", "IOCPU_INJECT_ERROR", T_STR, OFF(inject_error), 0, 0,
     "RATE[:CODE]: answer that share of the work endpoints' requests (/io, /cpu, /tasks, "
     "/status) with CODE, 400-599 (503); off by default"},
    {"inject-delay", "IOCPU_INJECT_DELAY", T_STR, OFF(inject_delay), 0, 0,
     "DIST:PARAM=V[,PARAM=V], e.g. exponential:mean=0.05: delay every work endpoint's request "
     "by a draw, inside [0, --max-delay]; off by default"},
    {"upstream-allow", "IOCPU_UPSTREAM_ALLOW", T_STR, OFF(upstream_allow), 0, 0,
     "host:port entries /io/fetch may connect to, comma-separated: name, IPv4 or [IPv6] address "
     "(default: this server itself, 127.0.0.1, [::1] and localhost at --port)"},
    {"fetch-max-bytes", "IOCPU_FETCH_MAX_BYTES", T_LONG, OFF(fetch_max_bytes), 1, 1073741824,
     "response body bytes one fetch may receive; beyond it 502 (1048576)"},
    {"fetch-max-inflight", "IOCPU_FETCH_MAX_INFLIGHT", T_LONG, OFF(fetch_max_inflight), 1, 1000000,
     "outbound fetches in progress at once; beyond it 503 (1024)"},
    {"fetch-connect-timeout", "IOCPU_FETCH_CONNECT_TIMEOUT", T_DOUBLE, OFF(fetch_connect_timeout),
     0.001, 3600, "seconds an outbound fetch may take to connect; then 504 (3)"},
};
#define NOPTS (sizeof(OPTS) / sizeof(OPTS[0]))

void config_defaults(config *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->host, "127.0.0.1");
    c->port = 8080;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->workers = cores > 0 ? cores : 1;
    c->queue = 1024;
    c->io_threads = 40;
    c->io_queue = 4096;
    c->max_delay = 60;
    c->max_list = 100;
    c->max_iterations = 5000000000LL;
    c->max_ms = 60000;
    c->max_connections = 16384;
    c->conn_timeout = 30;
    c->conn_memory = 32768;
    c->worker_nice = 10;
    c->grace = 10;
    c->max_tasks = 10000;
    c->task_keep = 1000;
    c->task_ttl = 300;
    c->loops = 1;
    c->max_conn_per_ip = 0;
    c->max_url = 2048;
    c->max_params = 32;
    c->max_header_bytes = 8192;
    strcpy(c->tasks_backend, "memory");
    c->task_attempts = 3;
    c->task_claim_idle = 30;
    c->redis_timeout = 3;
    c->header_timeout = 10;
    c->max_body_buffer = 16L << 20;
    c->max_tasks_per_client = 256;
    c->task_share = 0.75;
    c->admin_port = 0;
    strcpy(c->admin_host, "127.0.0.1");
    c->stream_buffer_bytes = 65536;
    c->stream_write_timeout = 30;
    c->max_payload_bytes = 1L << 20;
    c->fetch_max_bytes = 1048576;
    c->fetch_max_inflight = 1024;
    c->fetch_connect_timeout = 3;
}

/* A replica id is a DNS label (RFC 1123, like a pod name): 1 to 63 of
 * [a-z0-9-], no '-' at either end. Safe in a URL path, a header and a regex. */
static int replica_id_ok(const char *v)
{
    size_t n = strlen(v);
    if (n < 1 || n > 63 || v[0] == '-' || v[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
            return 0;
    return 1;
}

/* A numeric IPv4 or IPv6 address, or "localhost" (what the listener binds). */
static int address_ok(const char *v)
{
    unsigned char a[sizeof(struct in6_addr)];
    return !strcmp(v, "localhost") || inet_pton(AF_INET, v, a) == 1 ||
           inet_pton(AF_INET6, v, a) == 1;
}

/* --inject-error RATE[:CODE] (faults.h): also keeps the parsed rate and code. */
static int inject_error_ok(config *c, const char *v)
{
    char msg[96];
    return strlen(v) < sizeof(c->inject_error) &&
           faults_parse_rate(v, &c->inject_rate, &c->inject_code, msg, sizeof(msg)) == 0;
}

/* --inject-delay DIST (shape.h), checked against the largest --max-delay here
 * and against the one given once every flag is read (config_parse). */
static int inject_delay_ok(const config *c, const char *v)
{
    char msg[256];
    shape s;
    return strlen(v) < sizeof(c->inject_delay) && shape_parse(v, 86400, &s, msg, sizeof(msg)) == 0;
}

/* "memory" or a Redis URL (redisurl.h). */
static int tasks_backend_ok(const char *v)
{
    redis_url u;
    return strlen(v) < sizeof(((config *)0)->tasks_backend) &&
           (!strcmp(v, "memory") || redis_url_parse(v, &u) == 0);
}

/* Why an --inject-* value was refused, after the refusal's first words. */
static void inject_hint(const opt *o, const char *v, FILE *err)
{
    char msg[256] = "too long";
    double rate;
    unsigned code;
    shape s;
    if (o->off == OFF(inject_error) && strlen(v) < sizeof(((config *)0)->inject_error))
        faults_parse_rate(v, &rate, &code, msg, sizeof(msg));
    else if (o->off == OFF(inject_delay) && strlen(v) < sizeof(((config *)0)->inject_delay))
        shape_parse(v, 86400, &s, msg, sizeof(msg));
    else if (o->off != OFF(inject_error) && o->off != OFF(inject_delay))
        return;
    fprintf(err, ": %s", msg);
}

/* host:port entries (fetch/allow.h), syntax only: names resolve at startup. */
static int upstream_allow_ok(const char *v)
{
    fetch_allow al;
    return strlen(v) < sizeof(((config *)0)->upstream_allow) && fetch_allow_parse(v, &al) == 0;
}

static int set_value(config *c, const opt *o, const char *v, const char *src, FILE *err)
{
    char *field = (char *)c + o->off;
    double d;
    int64_t i;
    switch (o->type) {
    case T_STR:
        if (o->off == OFF(replica_id)      ? !replica_id_ok(v)
            : o->off == OFF(tasks_backend) ? !tasks_backend_ok(v)
            : o->off == OFF(admin_host)    ? !address_ok(v)
            : o->off == OFF(inject_error)  ? !inject_error_ok(c, v)
            : o->off == OFF(inject_delay)  ? !inject_delay_ok(c, v)
            : o->off == OFF(allowed_hosts)
                ? strlen(v) >= sizeof(c->allowed_hosts) || !hostallow_list_ok(v)
            : o->off == OFF(upstream_allow) ? !upstream_allow_ok(v)
                                            : !*v || strlen(v) >= sizeof(c->host))
            goto bad;
        strcpy(field, v);
        return 0;
    case T_FLAG:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
            *(int *)field = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
            *(int *)field = 0;
        else
            goto bad;
        return 0;
    case T_DOUBLE:
        if (parse_double(v, &d) < 0 || d < o->lo || d > o->hi) goto bad;
        *(double *)field = d;
        return 0;
    case T_LONG:
    case T_LLONG:
        if (parse_int64(v, &i) < 0 || (double)i < o->lo || (double)i > o->hi) goto bad;
        if (o->type == T_LONG)
            *(long *)field = (long)i;
        else
            *(long long *)field = (long long)i;
        return 0;
    }
bad:
    if (o->off == OFF(tasks_backend)) { /* it may hold a password: never echoed */
        fprintf(err,
                "iocpu: invalid value for %s%s: not memory or "
                "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (the value is not shown)\n",
                src, o->flag);
        return -1;
    }
    fprintf(err, "iocpu: invalid value '%s' for %s%s", v, src, o->flag);
    if (o->type != T_STR && o->type != T_FLAG)
        fprintf(err, " (expected a number in [%g, %g])", o->lo, o->hi);
    inject_hint(o, v, err);
    fputc('\n', err);
    return -1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iocpu [options]\n"
            "An HTTP server that shows why IO-bound work belongs on an event loop and\n"
            "CPU-bound work on a worker pool.\n\noptions (environment variable in brackets):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s", OPTS[i].flag, OPTS[i].type == T_FLAG ? "" : " V");
        fprintf(out, "  %-22s %s [%s]\n", left, OPTS[i].help, OPTS[i].env);
    }
    fprintf(out, "  %-22s %s\n  %-22s %s\n", "--help", "show this help and exit", "--version",
            "print the version and exit");
}

/* A password as Redis takes it: 1..255 bytes, no NUL, CR or LF. */
static int password_ok(const char *p)
{
    size_t n = strlen(p);
    return n > 0 && n < sizeof(((config *)0)->redis_password) && !strpbrk(p, "\r\n");
}

/* The first line of path as the password. 0, or -1 (err says why, not what). */
static int read_password_file(config *c, const char *path, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "iocpu: cannot read --redis-password-file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[sizeof(c->redis_password) + 2] = "";
    int got = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!got || !password_ok(line)) {
        fprintf(err,
                "iocpu: --redis-password-file %s: the first line must be a password of 1 "
                "to 255 bytes\n",
                path);
        return -1;
    }
    strcpy(c->redis_password, line);
    memset(line, 0, sizeof(line));
    return 0;
}

/* The Redis password from a file, else IOCPU_REDIS_PASSWORD (else the URL's). */
static int load_redis_password(config *c, FILE *err)
{
    if (c->redis_password_file[0]) return read_password_file(c, c->redis_password_file, err);
    const char *env = getenv("IOCPU_REDIS_PASSWORD");
    if (!env || !*env) return 0;
    if (!password_ok(env)) {
        fprintf(err, "iocpu: IOCPU_REDIS_PASSWORD must be 1 to 255 bytes on one line\n");
        return -1;
    }
    strcpy(c->redis_password, env);
    return 0;
}

/* An admin token: 16 to 255 characters of an RFC 6750 b64token (A-Z a-z 0-9
 * - . _ ~ + /, then '=' only at the end), so that it can be sent as
 * "Authorization: Bearer <token>" as it is. */
static int admin_token_ok(const char *t)
{
    size_t n = strlen(t), i = 0;
    if (n < 16 || n >= sizeof(((config *)0)->admin_token)) return 0;
    while (i < n && (isalnum((unsigned char)t[i]) || strchr("-._~+/", t[i])))
        i++;
    if (i == 0) return 0;
    while (i < n && t[i] == '=')
        i++;
    return i == n;
}

#define ADMIN_TOKEN_RULE "16 to 255 characters of A-Z a-z 0-9 - . _ ~ + / (then '=' padding)"

/* The admin token from --admin-token-file, else IOCPU_ADMIN_TOKEN, else none.
 * 0, or -1 (err says why, never what). */
static int load_admin_token(config *c, FILE *err)
{
    const char *path = c->admin_token_file;
    if (!path[0]) {
        const char *env = getenv("IOCPU_ADMIN_TOKEN");
        if (!env || !*env) return 0;
        if (!admin_token_ok(env)) {
            fprintf(err, "iocpu: IOCPU_ADMIN_TOKEN must be " ADMIN_TOKEN_RULE "\n");
            return -1;
        }
        strcpy(c->admin_token, env);
        return 0;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "iocpu: cannot read --admin-token-file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[sizeof(c->admin_token) + 2] = "";
    int got = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    int ok = got && admin_token_ok(line);
    if (ok) strcpy(c->admin_token, line);
    memset(line, 0, sizeof(line));
    if (!ok)
        fprintf(err, "iocpu: --admin-token-file %s: the first line must be " ADMIN_TOKEN_RULE "\n",
                path);
    return ok ? 0 : -1;
}

/* "--admin-token" (or any abbreviation of --admin-token-file, which getopt
 * would take for it) is refused, its value not echoed: a token on the
 * command line shows in ps, so no flag takes one. 0, or -1. */
static int refuse_admin_token_flag(int argc, char **argv, FILE *err)
{
    static const char FULL[] = "admin-token-file";
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--a", 3)) continue;
        const char *name = argv[i] + 2;
        size_t n = strcspn(name, "=");
        if (n >= 5 && n < sizeof(FULL) - 1 && !strncmp(name, FULL, n)) {
            fprintf(err, "iocpu: no flag takes the admin token (it would show in ps): use "
                         "--admin-token-file PATH or IOCPU_ADMIN_TOKEN\n");
            return -1;
        }
    }
    return 0;
}

/* --inject-delay against the --max-delay finally set: 0, or -1 (err says why). */
static int check_inject_delay(const config *c, FILE *err)
{
    char msg[256];
    shape s;
    if (!c->inject_delay[0] ||
        shape_parse(c->inject_delay, c->max_delay, &s, msg, sizeof(msg)) == 0)
        return 0;
    fprintf(err, "iocpu: invalid value '%s' for --inject-delay: %s\n", c->inject_delay, msg);
    return -1;
}

int config_parse(config *c, int argc, char **argv, FILE *out, FILE *err)
{
    if (refuse_admin_token_flag(argc, argv, err) < 0) return -1;
    for (size_t i = 0; i < NOPTS; i++) {
        const char *v = getenv(OPTS[i].env);
        if (v && set_value(c, &OPTS[i], v, "environment for --", err) < 0) return -1;
    }
    struct option lopts[NOPTS + 3];
    for (size_t i = 0; i < NOPTS; i++)
        lopts[i] =
            (struct option){OPTS[i].flag, OPTS[i].type == T_FLAG ? no_argument : required_argument,
                            NULL, (int)i + 256};
    lopts[NOPTS] = (struct option){"help", no_argument, NULL, 'h'};
    lopts[NOPTS + 1] = (struct option){"version", no_argument, NULL, 'V'};
    lopts[NOPTS + 2] = (struct option){0};
    optind = 0; /* 0, not 1: glibc then also resets its state inside "-hV"-style clusters */
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "hV", lopts, NULL)) != -1) {
        if (ch == 'h') {
            usage(out);
            return 1;
        }
        if (ch == 'V') {
            fprintf(out, "iocpu %s\n", IOCPU_VERSION);
            return 1;
        }
        if (ch < 256) {
            fprintf(err, "iocpu: unknown or incomplete option '%s' (see --help)\n",
                    argv[optind - 1]);
            return -1;
        }
        const opt *o = &OPTS[ch - 256];
        if (set_value(c, o, o->type == T_FLAG ? "1" : optarg, "--", err) < 0) return -1;
    }
    if (optind < argc) {
        fprintf(err, "iocpu: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (load_redis_password(c, err) < 0) return -1;
    if (check_inject_delay(c, err) < 0) return -1;
    return load_admin_token(c, err);
}
