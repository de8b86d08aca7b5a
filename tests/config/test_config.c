/*
 * test_config.c - flags and IOCPU_* environment fallbacks (config/config.c).
 * Each test runs in its own process, so setenv/unsetenv stay local to it.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "redisurl.h"

static void clear_iocpu_env(void)
{
    char names[64][64];
    size_t n = 0;
    for (char **e = environ; *e && n < 64; e++)
        if (!strncmp(*e, "IOCPU_", 6)) {
            size_t len = strcspn(*e, "=");
            snprintf(names[n++], sizeof(names[0]), "%.*s", (int)len, *e);
        }
    for (size_t i = 0; i < n; i++)
        unsetenv(names[i]);
}

TestSuite(config, .init = clear_iocpu_env, .timeout = 30);

/* Captured output streams. */
typedef struct streams {
    FILE *out, *err;
    char out_text[8192], err_text[2048];
} streams;

static void streams_open(streams *s)
{
    s->out = tmpfile();
    s->err = tmpfile();
    cr_assert(s->out && s->err);
}

static const char *slurp(FILE *f, char *buf, size_t cap)
{
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    return buf;
}

static void streams_read(streams *s)
{
    slurp(s->out, s->out_text, sizeof(s->out_text));
    slurp(s->err, s->err_text, sizeof(s->err_text));
    fclose(s->out);
    fclose(s->err);
}

/* Parses argv (a NULL-terminated list after "iocpu") into c. */
static int parse(config *c, streams *s, const char *const *args)
{
    char *argv[32] = {(char *)"iocpu"};
    int argc = 1;
    for (; args && args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    streams_open(s);
    int rc = config_parse(c, argc, argv, s->out, s->err);
    streams_read(s);
    return rc;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(config, defaults)
{
    config c;
    config_defaults(&c);
    cr_assert_str_eq(c.host, "127.0.0.1");
    cr_assert_eq(c.port, 8080);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cr_assert_eq(c.workers, cores > 0 ? cores : 1);
    cr_assert_eq(c.queue, 1024);
    cr_assert_eq(c.max_delay, 60.0);
    cr_assert_eq(c.max_list, 100);
    cr_assert_eq(c.max_iterations, 5000000000LL);
    cr_assert_eq(c.max_ms, 60000);
    cr_assert_eq(c.max_connections, 16384);
    cr_assert_eq(c.conn_timeout, 30);
    cr_assert_eq(c.conn_memory, 32768);
    cr_assert_eq(c.worker_nice, 10);
    cr_assert_eq(c.grace, 10.0);
    cr_assert_eq(c.access_log, 0);

    /* No flags, no environment: nothing changes. */
    config d;
    config_defaults(&d);
    streams s;
    cr_assert_eq(parse(&d, &s, NULL), 0);
    cr_assert(memcmp(&c, &d, sizeof(c)) == 0);
    cr_assert_str_empty(s.out_text);
    cr_assert_str_empty(s.err_text);
}

Test(config, flags_set_every_field)
{
    config c;
    config_defaults(&c);
    streams s;
    int rc =
        parse(&c, &s,
              ARGS("--host", "0.0.0.0", "--port", "0", "--workers", "3", "--queue", "7",
                   "--max-delay", "2.5", "--max-list", "9", "--max-iterations", "1000000000000000",
                   "--max-ms", "86400000", "--max-connections", "11", "--conn-timeout", "86400",
                   "--conn-memory=2048", "--worker-nice", "0", "--grace", "0.25", "--access-log"));
    cr_assert_eq(rc, 0, "stderr: %s", s.err_text);
    cr_assert_str_eq(c.host, "0.0.0.0");
    cr_assert_eq(c.port, 0);
    cr_assert_eq(c.workers, 3);
    cr_assert_eq(c.queue, 7);
    cr_assert_eq(c.max_delay, 2.5);
    cr_assert_eq(c.max_list, 9);
    cr_assert_eq(c.max_iterations, 1000000000000000LL);
    cr_assert_eq(c.max_ms, 86400000);
    cr_assert_eq(c.max_connections, 11);
    cr_assert_eq(c.conn_timeout, 86400);
    cr_assert_eq(c.conn_memory, 2048);
    cr_assert_eq(c.worker_nice, 0);
    cr_assert_eq(c.grace, 0.25);
    cr_assert_eq(c.access_log, 1);
    cr_assert_str_empty(s.err_text);
}

Test(config, environment_alone)
{
    setenv("IOCPU_HOST", "::1", 1);
    setenv("IOCPU_PORT", "9000", 1);
    setenv("IOCPU_WORKERS", "2", 1);
    setenv("IOCPU_MAX_DELAY", "0.5", 1);
    setenv("IOCPU_MAX_ITERATIONS", "123456789012", 1);
    setenv("IOCPU_GRACE", "0", 1);
    setenv("IOCPU_ACCESS_LOG", "true", 1);
    config c;
    config_defaults(&c);
    streams s;
    cr_assert_eq(parse(&c, &s, NULL), 0, "stderr: %s", s.err_text);
    cr_assert_str_eq(c.host, "::1");
    cr_assert_eq(c.port, 9000);
    cr_assert_eq(c.workers, 2);
    cr_assert_eq(c.max_delay, 0.5);
    cr_assert_eq(c.max_iterations, 123456789012LL);
    cr_assert_eq(c.grace, 0.0);
    cr_assert_eq(c.access_log, 1);
    cr_assert_eq(c.queue, 1024, "untouched");

    static const char *const off[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        setenv("IOCPU_ACCESS_LOG", off[i], 1);
        c.access_log = 1;
        cr_assert_eq(parse(&c, &s, NULL), 0);
        cr_assert_eq(c.access_log, 0, "%s", off[i]);
    }
}

Test(config, flags_override_environment)
{
    setenv("IOCPU_PORT", "9000", 1);
    setenv("IOCPU_HOST", "10.0.0.1", 1);
    setenv("IOCPU_MAX_DELAY", "5", 1);
    setenv("IOCPU_ACCESS_LOG", "0", 1);
    config c;
    config_defaults(&c);
    streams s;
    cr_assert_eq(parse(&c, &s, ARGS("--port", "9001", "--max-delay", "7.5", "--access-log")), 0);
    cr_assert_eq(c.port, 9001);
    cr_assert_eq(c.max_delay, 7.5);
    cr_assert_eq(c.access_log, 1);
    cr_assert_str_eq(c.host, "10.0.0.1", "the environment still applies where no flag is given");
}

static const struct {
    const char *flag, *env, *value;
} BAD[] = {
    {"port", "IOCPU_PORT", "abc"},
    {"port", "IOCPU_PORT", "-1"},
    {"port", "IOCPU_PORT", "65536"},
    {"port", "IOCPU_PORT", "1e3"},
    {"port", "IOCPU_PORT", "80.0"},
    {"port", "IOCPU_PORT", ""},
    {"port", "IOCPU_PORT", " 80"},
    {"workers", "IOCPU_WORKERS", "0"},
    {"workers", "IOCPU_WORKERS", "1025"},
    {"queue", "IOCPU_QUEUE", "0"},
    {"queue", "IOCPU_QUEUE", "1000001"},
    {"max-delay", "IOCPU_MAX_DELAY", "-0.5"},
    {"max-delay", "IOCPU_MAX_DELAY", "86400.5"},
    {"max-delay", "IOCPU_MAX_DELAY", "nan"},
    {"max-delay", "IOCPU_MAX_DELAY", "inf"},
    {"max-delay", "IOCPU_MAX_DELAY", "ten"},
    {"max-list", "IOCPU_MAX_LIST", "10001"},
    {"max-iterations", "IOCPU_MAX_ITERATIONS", "1000000000000001"},
    {"max-iterations", "IOCPU_MAX_ITERATIONS", "-1"},
    {"max-iterations", "IOCPU_MAX_ITERATIONS", "5e9"},
    {"max-ms", "IOCPU_MAX_MS", "86400001"},
    {"max-connections", "IOCPU_MAX_CONNECTIONS", "0"},
    {"conn-timeout", "IOCPU_CONN_TIMEOUT", "0"},
    {"conn-memory", "IOCPU_CONN_MEMORY", "2047"},
    {"worker-nice", "IOCPU_WORKER_NICE", "20"},
    {"worker-nice", "IOCPU_WORKER_NICE", "-1"},
    {"grace", "IOCPU_GRACE", "3600.001"},
    {"grace", "IOCPU_GRACE", "-1"},
    {"host", "IOCPU_HOST", ""},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://host:0"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://host:65536"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://host:63a79"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://user@host"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://user:@host"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://:p%zz@host"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://:p%00@host"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://host/db"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://host/1?x=y"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "redis://[::1"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "http://host:6379"},
    {"tasks-backend", "IOCPU_TASKS_BACKEND", "Memory"},
    {"task-attempts", "IOCPU_TASK_ATTEMPTS", "0"},
    {"task-claim-idle", "IOCPU_TASK_CLAIM_IDLE", "0.1"},
    {"allowed-hosts", "IOCPU_ALLOWED_HOSTS", ""},
    {"allowed-hosts", "IOCPU_ALLOWED_HOSTS", "example.com:8080"},
    {"allowed-hosts", "IOCPU_ALLOWED_HOSTS", "*example.com"},
    {"allowed-hosts", "IOCPU_ALLOWED_HOSTS", "a,,b"},
    {"allowed-hosts", "IOCPU_ALLOWED_HOSTS", "a, b"},
    {"allowed-hosts", "IOCPU_ALLOWED_HOSTS", "::1"},
    {"upstream-allow", "IOCPU_UPSTREAM_ALLOW", ""},
    {"upstream-allow", "IOCPU_UPSTREAM_ALLOW", "127.0.0.1"},
    {"upstream-allow", "IOCPU_UPSTREAM_ALLOW", "127.0.0.1:0"},
    {"upstream-allow", "IOCPU_UPSTREAM_ALLOW", "127.1:8080"},
    {"upstream-allow", "IOCPU_UPSTREAM_ALLOW", "::1:8080"},
    {"upstream-allow", "IOCPU_UPSTREAM_ALLOW", "http://127.0.0.1:8080"},
    {"upstream-allow", "IOCPU_UPSTREAM_ALLOW", "127.0.0.1:8080,"},
    {"upstream-allow", "IOCPU_UPSTREAM_ALLOW", "*:8080"},
    {"fetch-max-bytes", "IOCPU_FETCH_MAX_BYTES", "0"},
    {"fetch-max-bytes", "IOCPU_FETCH_MAX_BYTES", "1073741825"},
    {"fetch-max-inflight", "IOCPU_FETCH_MAX_INFLIGHT", "0"},
    {"fetch-max-inflight", "IOCPU_FETCH_MAX_INFLIGHT", "1000001"},
    {"fetch-connect-timeout", "IOCPU_FETCH_CONNECT_TIMEOUT", "0"},
    {"fetch-connect-timeout", "IOCPU_FETCH_CONNECT_TIMEOUT", "3600.5"},
};

Test(config, redis_urls)
{
    static const struct {
        const char *in, *host;
        int port, db;
    } GOOD[] = {
        {"redis://redis", "redis", 6379, 0},
        {"redis://127.0.0.1:6390", "127.0.0.1", 6390, 0},
        {"redis://redis-0.redis.default.svc:6379/3", "redis-0.redis.default.svc", 6379, 3},
        {"redis://[::1]:7000/15", "::1", 7000, 15},
    };
    for (size_t i = 0; i < sizeof(GOOD) / sizeof(GOOD[0]); i++) {
        redis_url u;
        cr_assert_eq(redis_url_parse(GOOD[i].in, &u), 0, "%s", GOOD[i].in);
        cr_assert_str_eq(u.host, GOOD[i].host);
        cr_assert_eq(u.port, GOOD[i].port, "%s", GOOD[i].in);
        cr_assert_eq(u.db, GOOD[i].db, "%s", GOOD[i].in);
        config c;
        config_defaults(&c);
        streams s;
        cr_assert_eq(parse(&c, &s, ARGS("--tasks-backend", GOOD[i].in)), 0);
        cr_assert_str_eq(c.tasks_backend, GOOD[i].in);
    }
    config c;
    config_defaults(&c);
    cr_assert_str_eq(c.tasks_backend, "memory");
    cr_assert_eq(c.task_attempts, 3);
    cr_assert_float_eq(c.task_claim_idle, 30, 1e-9);
}

/* redis://[[USER]:PASSWORD@]HOST...: before, any user info was refused (exit 2), so a
 * Redis with requirepass or an ACL user could not be used. */
Test(config, redis_urls_with_credentials)
{
    redis_url u;
    cr_assert_eq(redis_url_parse("redis://:s3cret@127.0.0.1:6380/2", &u), 0);
    cr_assert_str_eq(u.user, "");
    cr_assert_str_eq(u.password, "s3cret");
    cr_assert_eq(u.port, 6380);
    cr_assert_eq(u.db, 2);
    cr_assert_eq(redis_url_parse("redis://alice:p%40ss%3Aw%2F%25@redis", &u), 0);
    cr_assert_str_eq(u.user, "alice");
    cr_assert_str_eq(u.password, "p@ss:w/%");
    char shown[300];
    redis_url_text(&u, shown, sizeof(shown));
    cr_assert_str_eq(shown, "redis://alice:***@redis:6379/0");
    cr_assert_null(strstr(shown, "p@ss"));

    config c;
    config_defaults(&c);
    streams s;
    cr_assert_eq(parse(&c, &s, ARGS("--tasks-backend", "redis://bob:hunter2@h:1/")), -1);
    cr_assert_null(strstr(s.err_text, "hunter2"), "the password was echoed: %s", s.err_text);

    config_defaults(&c);
    setenv("IOCPU_REDIS_PASSWORD", "from-env", 1);
    cr_assert_eq(parse(&c, &s, ARGS("--tasks-backend", "redis://h")), 0);
    cr_assert_str_eq(c.redis_password, "from-env");
    char path[] = "/tmp/iocpu-pw-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_eq(write(fd, "from-file\n", 10), 10);
    close(fd);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, ARGS("--redis-password-file", path)), 0);
    cr_assert_str_eq(c.redis_password, "from-file", "the file wins over the environment");
    unsetenv("IOCPU_REDIS_PASSWORD");
    unlink(path);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, ARGS("--redis-password-file", path)), -1, "a missing file");
}

/* Writes text to a new temp file; its path in path (a mkstemp template). */
static void temp_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

Test(config, admin_token_from_a_file_or_the_environment_never_shown)
{
    config c;
    streams s;
    config_defaults(&c);
    unsetenv("IOCPU_ADMIN_TOKEN");
    cr_assert_eq(parse(&c, &s, ARGS("--port", "1")), 0);
    cr_assert_str_empty(c.admin_token, "none by default: listing is off");

    setenv("IOCPU_ADMIN_TOKEN", "env-token-0123456789", 1);
    cr_assert_eq(parse(&c, &s, ARGS("--port", "1")), 0);
    cr_assert_str_eq(c.admin_token, "env-token-0123456789");
    char path[] = "/tmp/iocpu-admin-XXXXXX";
    temp_file(path, "file-token-0123456789/+=\nsecond line\n");
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, ARGS("--admin-token-file", path)), 0);
    cr_assert_str_eq(c.admin_token, "file-token-0123456789/+=", "the file wins over the env");
    unlink(path);
    config_defaults(&c);
    setenv("IOCPU_ADMIN_TOKEN_FILE", path, 1);
    cr_assert_eq(parse(&c, &s, ARGS("--port", "1")), -1, "a missing file (from the env)");
    unsetenv("IOCPU_ADMIN_TOKEN_FILE");

    /* too short, a byte a bearer token cannot carry, padding in the middle, empty */
    const char *bad[] = {"short-token-123",   "has space 0123456789", "abc=def0123456789abc",
                         "=================", "token\"0123456789abc", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char file[] = "/tmp/iocpu-admin-XXXXXX", text[64];
        snprintf(text, sizeof(text), "%s\n", bad[i]);
        temp_file(file, text);
        config_defaults(&c);
        cr_assert_eq(parse(&c, &s, ARGS("--admin-token-file", file)), -1, "'%s'", bad[i]);
        cr_assert_str_empty(c.admin_token);
        if (bad[i][0]) cr_assert_null(strstr(s.err_text, bad[i]), "echoed: %s", s.err_text);
        unlink(file);
        if (!bad[i][0]) continue; /* an empty variable is no token */
        setenv("IOCPU_ADMIN_TOKEN", bad[i], 1);
        config_defaults(&c);
        cr_assert_eq(parse(&c, &s, ARGS("--port", "1")), -1, "env '%s'", bad[i]);
        cr_assert_null(strstr(s.err_text, bad[i]), "echoed: %s", s.err_text);
    }
    char longer[300];
    memset(longer, 'a', 256);
    longer[256] = '\0';
    setenv("IOCPU_ADMIN_TOKEN", longer, 1);
    cr_assert_eq(parse(&c, &s, ARGS("--port", "1")), -1, "256 bytes is too long");
    longer[255] = '\0';
    setenv("IOCPU_ADMIN_TOKEN", longer, 1);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, ARGS("--port", "1")), 0, "255 bytes is not");
    unsetenv("IOCPU_ADMIN_TOKEN");
    const char *flags[] = {"--admin-token", "--admin-token=x0123456789abcdefg", "--admin"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(parse(&c, &s, ARGS(flags[i], "x0123456789abcdefg")), -1,
                     "%s: no flag takes the token itself (it would show in ps)", flags[i]);
        cr_assert_null(strstr(s.err_text, "x0123456789abcdefg"), "echoed: %s", s.err_text);
        cr_assert(strstr(s.err_text, "IOCPU_ADMIN_TOKEN"), "%s", s.err_text);
    }
}

Test(config, bad_flag_values_are_rejected_not_clamped)
{
    config fresh;
    config_defaults(&fresh);
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        config c;
        config_defaults(&c);
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s", BAD[i].flag);
        streams s;
        int rc = parse(&c, &s, ARGS(flag, BAD[i].value));
        cr_assert_eq(rc, -1, "%s '%s' accepted", flag, BAD[i].value);
        cr_assert(memcmp(&c, &fresh, sizeof(c)) == 0, "%s '%s' changed the config", flag,
                  BAD[i].value);
        cr_assert(strstr(s.err_text, BAD[i].flag), "%s: message '%s'", flag, s.err_text);
        cr_assert_str_empty(s.out_text);
    }
}

Test(config, bad_environment_values_are_rejected)
{
    config fresh;
    config_defaults(&fresh);
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        clear_iocpu_env();
        setenv(BAD[i].env, BAD[i].value, 1);
        config c;
        config_defaults(&c);
        streams s;
        cr_assert_eq(parse(&c, &s, NULL), -1, "%s='%s' accepted", BAD[i].env, BAD[i].value);
        cr_assert(memcmp(&c, &fresh, sizeof(c)) == 0, "%s='%s' changed the config", BAD[i].env,
                  BAD[i].value);
        cr_assert(strstr(s.err_text, BAD[i].flag), "%s: message '%s'", BAD[i].env, s.err_text);
    }
    clear_iocpu_env();
    setenv("IOCPU_ACCESS_LOG", "maybe", 1);
    config c;
    config_defaults(&c);
    streams s;
    cr_assert_eq(parse(&c, &s, NULL), -1);
    cr_assert_eq(c.access_log, 0);
}

Test(config, allowed_hosts)
{
    config c;
    config_defaults(&c);
    cr_assert_str_empty(c.allowed_hosts, "the default depends on --host (hostallow.h)");
    streams s;
    cr_assert_eq(parse(&c, &s, ARGS("--allowed-hosts", "iocpu.test,*.iocpu.test,10.0.0.1,[::1]")),
                 0, "%s", s.err_text);
    cr_assert_str_eq(c.allowed_hosts, "iocpu.test,*.iocpu.test,10.0.0.1,[::1]");
    setenv("IOCPU_ALLOWED_HOSTS", "*", 1);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, NULL), 0, "%s", s.err_text);
    cr_assert_str_eq(c.allowed_hosts, "*");
    char list[1100];
    memset(list, 'a', sizeof(list) - 1);
    list[sizeof(list) - 1] = '\0';
    for (size_t i = 60; i < sizeof(list) - 1; i += 61)
        list[i] = ',';
    unsetenv("IOCPU_ALLOWED_HOSTS");
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, ARGS("--allowed-hosts", list)), -1, "longer than the field");
    cr_assert_str_empty(c.allowed_hosts);
}

Test(config, upstream_allow_and_fetch_limits)
{
    config c;
    config_defaults(&c);
    cr_assert_str_empty(c.upstream_allow, "the default is the server itself (fetch/allow.h)");
    cr_assert_eq(c.fetch_max_bytes, 1048576);
    cr_assert_eq(c.fetch_max_inflight, 1024);
    cr_assert_eq(c.fetch_connect_timeout, 3);
    streams s;
    cr_assert_eq(parse(&c, &s,
                       ARGS("--upstream-allow", "127.0.0.1:8080,[::1]:8080,api.internal:443",
                            "--fetch-max-bytes", "4096", "--fetch-max-inflight", "2",
                            "--fetch-connect-timeout", "0.5")),
                 0, "%s", s.err_text);
    cr_assert_str_eq(c.upstream_allow, "127.0.0.1:8080,[::1]:8080,api.internal:443");
    cr_assert_eq(c.fetch_max_bytes, 4096);
    cr_assert_eq(c.fetch_max_inflight, 2);
    cr_assert_eq(c.fetch_connect_timeout, 0.5);
    setenv("IOCPU_UPSTREAM_ALLOW", "localhost:9000", 1);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, NULL), 0, "%s", s.err_text);
    cr_assert_str_eq(c.upstream_allow, "localhost:9000");
    unsetenv("IOCPU_UPSTREAM_ALLOW");
}

Test(config, long_host_is_rejected)
{
    char host[300];
    memset(host, 'h', sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    config c;
    config_defaults(&c);
    streams s;
    cr_assert_eq(parse(&c, &s, ARGS("--host", host)), -1);
    cr_assert_str_eq(c.host, "127.0.0.1");
}

Test(config, unknown_incomplete_and_extra_arguments)
{
    config c;
    config_defaults(&c);
    streams s;
    cr_assert_eq(parse(&c, &s, ARGS("--bogus")), -1);
    cr_assert(strstr(s.err_text, "--bogus"), "%s", s.err_text);
    cr_assert_eq(parse(&c, &s, ARGS("--port")), -1, "missing value");
    cr_assert_eq(parse(&c, &s, ARGS("-x")), -1);
    cr_assert_eq(parse(&c, &s, ARGS("--access-log=1")), -1, "a switch takes no value");
    cr_assert_eq(parse(&c, &s, ARGS("--port", "81", "extra")), -1);
    cr_assert(strstr(s.err_text, "extra"), "%s", s.err_text);
}

Test(config, help_lists_every_flag)
{
    static const char *const names[] = {
        "--host",          "--port",           "--workers",  "--queue",           "--max-delay",
        "--max-list",      "--max-iterations", "--max-ms",   "--max-connections", "--conn-timeout",
        "--conn-memory",   "--worker-nice",    "--grace",    "--access-log",      "--help",
        "--version",       "IOCPU_HOST",       "IOCPU_PORT", "IOCPU_WORKERS",     "IOCPU_GRACE",
        "IOCPU_ACCESS_LOG"};
    config c;
    config_defaults(&c);
    streams s;
    cr_assert_eq(parse(&c, &s, ARGS("--port", "1", "--help", "--bogus")), 1);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_assert(strstr(s.out_text, names[i]), "--help does not mention %s", names[i]);
    cr_assert_str_empty(s.err_text);
    cr_assert_eq(parse(&c, &s, ARGS("-h")), 1);
    cr_assert(strstr(s.out_text, "--max-iterations"));
}

Test(config, version)
{
    config c;
    config_defaults(&c);
    streams s;
    cr_assert_eq(parse(&c, &s, ARGS("--version")), 1);
    cr_assert_eq(strncmp(s.out_text, "iocpu ", 6), 0, "%s", s.out_text);
    cr_assert(strchr(s.out_text, '.'), "a version number: %s", s.out_text);
    cr_assert_str_empty(s.err_text);
    cr_assert_eq(parse(&c, &s, ARGS("-V")), 1);
}

Test(config, parse_can_run_again)
{
    config c;
    config_defaults(&c);
    streams s;
    /* Stops inside a cluster of short options: getopt must not resume there. */
    cr_assert_eq(parse(&c, &s, ARGS("-hV")), 1);
    cr_assert_eq(parse(&c, &s, ARGS("--port", "5")), 0, "out: %s", s.out_text);
    cr_assert_eq(c.port, 5);
    cr_assert_eq(parse(&c, &s, ARGS("--bogus", "--port", "6")), -1);
    cr_assert_eq(parse(&c, &s, ARGS("--port", "7")), 0);
    cr_assert_eq(c.port, 7);
}

Test(config, loops_and_replica_id)
{
    config c;
    config_defaults(&c);
    cr_assert_eq(c.loops, 1, "one loop unless asked (the asyncio picture)");
    cr_assert_str_empty(c.replica_id);
    streams s;
    cr_assert_eq(parse(&c, &s, ARGS("--loops", "0", "--replica-id", "iocpu-5c9d-x2x9k")), 0, "%s",
                 s.err_text);
    cr_assert_eq(c.loops, 0);
    cr_assert_str_eq(c.replica_id, "iocpu-5c9d-x2x9k");
    clear_iocpu_env();
    setenv("IOCPU_LOOPS", "3", 1);
    setenv("IOCPU_REPLICA_ID", "iocpu1", 1);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, NULL), 0, "%s", s.err_text);
    cr_assert_eq(c.loops, 3);
    cr_assert_str_eq(c.replica_id, "iocpu1");
}

Test(config, bad_loops_and_replica_ids_are_rejected)
{
    static const char *const bad[][2] = {
        {"--loops", "-1"},
        {"--loops", "257"},
        {"--loops", "1.5"},
        {"--replica-id", "A1"},
        {"--replica-id", "-r1"},
        {"--replica-id", "r1-"},
        {"--replica-id", "r/1"},
        {"--replica-id", "r 1"},
        {"--replica-id", "r_1"},
        {"--replica-id", "0123456789012345678901234567890123456789012345678901234567890123"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config c, fresh;
        config_defaults(&c);
        config_defaults(&fresh);
        streams s;
        cr_assert_eq(parse(&c, &s, ARGS(bad[i][0], bad[i][1])), -1, "%s '%s' accepted", bad[i][0],
                     bad[i][1]);
        cr_assert(memcmp(&c, &fresh, sizeof(c)) == 0, "%s '%s' changed the config", bad[i][0],
                  bad[i][1]);
        cr_assert(strstr(s.err_text, bad[i][0] + 2), "message: %s", s.err_text);
    }
}

Test(config, hardening_limits)
{
    config c;
    config_defaults(&c);
    cr_assert_eq(c.max_conn_per_ip, 0, "off by default");
    cr_assert_eq(c.max_url, 2048);
    cr_assert_eq(c.max_params, 32);
    cr_assert_eq(c.max_header_bytes, 8192);
    streams s;
    setenv("IOCPU_MAX_PARAMS", "7", 1);
    int rc = parse(
        &c, &s,
        ARGS("--max-connections-per-ip", "3", "--max-url", "100", "--max-header-bytes", "2000"));
    cr_assert_eq(rc, 0, "%s", s.err_text);
    cr_assert_eq(c.max_conn_per_ip, 3);
    cr_assert_eq(c.max_url, 100);
    cr_assert_eq(c.max_params, 7);
    cr_assert_eq(c.max_header_bytes, 2000);
    cr_assert_eq(parse(&c, &s, ARGS("--max-params", "0")), -1, "0 parameters is refused");
    cr_assert_eq(parse(&c, &s, ARGS("--max-url", "abc")), -1);
    cr_assert_eq(parse(&c, &s, ARGS("--help")), 1);
    const char *names[] = {"--max-connections-per-ip", "--max-url", "--max-params",
                           "--max-header-bytes"};
    for (size_t i = 0; i < 4; i++)
        cr_assert(strstr(s.out_text, names[i]), "--help does not mention %s", names[i]);
}

Test(config, slow_client_limits)
{
    config c;
    config_defaults(&c);
    cr_assert_eq(c.header_timeout, 10);
    cr_assert_eq(c.max_body_buffer, 16L << 20);
    streams s;
    setenv("IOCPU_MAX_BODY_BUFFER", "1048576", 1);
    cr_assert_eq(parse(&c, &s, ARGS("--header-timeout", "2.5")), 0, "%s", s.err_text);
    cr_assert_eq(c.header_timeout, 2.5);
    cr_assert_eq(c.max_body_buffer, 1048576);
    cr_assert_eq(parse(&c, &s, ARGS("--header-timeout", "0")), 0, "0 turns it off");
    cr_assert_eq(c.header_timeout, 0);
    setenv("IOCPU_HEADER_TIMEOUT", "7", 1);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, NULL), 0, "%s", s.err_text);
    cr_assert_eq(c.header_timeout, 7);
    static const char *const bad[][2] = {
        {"--header-timeout", "-1"},     {"--header-timeout", "86401"},
        {"--header-timeout", "nan"},    {"--max-body-buffer", "65535"},
        {"--max-body-buffer", "1.5e6"}, {"--max-body-buffer", "68719476737"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config fresh;
        config_defaults(&c);
        config_defaults(&fresh);
        cr_assert_eq(parse(&c, &s, ARGS(bad[i][0], bad[i][1])), -1, "%s '%s' accepted", bad[i][0],
                     bad[i][1]);
        cr_assert(strstr(s.err_text, bad[i][0] + 2), "message: %s", s.err_text);
    }
    cr_assert_eq(parse(&c, &s, ARGS("--help")), 1);
    const char *names[] = {"--header-timeout", "IOCPU_HEADER_TIMEOUT", "--max-body-buffer",
                           "IOCPU_MAX_BODY_BUFFER"};
    for (size_t i = 0; i < 4; i++)
        cr_assert(strstr(s.out_text, names[i]), "--help does not mention %s", names[i]);
}

Test(config, fair_share_and_admin_listener)
{
    config c;
    config_defaults(&c);
    cr_assert_eq(c.max_tasks_per_client, 256);
    cr_assert_eq(c.task_share, 0.75);
    cr_assert_eq(c.admin_port, 0, "no admin listener unless asked for");
    cr_assert_str_eq(c.admin_host, "127.0.0.1");
    streams s;
    setenv("IOCPU_ADMIN_PORT", "8081", 1);
    setenv("IOCPU_ADMIN_HOST", "0.0.0.0", 1);
    cr_assert_eq(parse(&c, &s,
                       ARGS("--max-task-queue-per-client", "0", "--task-share", "0.5",
                            "--admin-host", "::1")),
                 0, "%s", s.err_text);
    cr_assert_eq(c.max_tasks_per_client, 0);
    cr_assert_eq(c.task_share, 0.5);
    cr_assert_eq(c.admin_port, 8081);
    cr_assert_str_eq(c.admin_host, "::1", "the flag wins over the environment");
    unsetenv("IOCPU_ADMIN_PORT");
    unsetenv("IOCPU_ADMIN_HOST");
    static const char *const bad[][2] = {
        {"--max-task-queue-per-client", "-1"},
        {"--max-task-queue-per-client", "1000001"},
        {"--max-task-queue-per-client", "2x"},
        {"--task-share", "0"},
        {"--task-share", "1.01"},
        {"--task-share", "nan"},
        {"--admin-port", "65536"},
        {"--admin-port", "-1"},
        {"--admin-host", "example.org"},
        {"--admin-host", ""},
        {"--admin-host", "127.0.0.1:80"},
        {"--admin-host", "1.2.3"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config_defaults(&c);
        cr_assert_eq(parse(&c, &s, ARGS(bad[i][0], bad[i][1])), -1, "%s '%s' accepted", bad[i][0],
                     bad[i][1]);
        cr_assert(strstr(s.err_text, bad[i][0] + 2), "message: %s", s.err_text);
    }
    cr_assert_eq(parse(&c, &s, ARGS("--help")), 1);
    const char *names[] = {"--max-task-queue-per-client",
                           "IOCPU_MAX_TASK_QUEUE_PER_CLIENT",
                           "--task-share",
                           "IOCPU_TASK_SHARE",
                           "--admin-port",
                           "IOCPU_ADMIN_PORT",
                           "--admin-host",
                           "IOCPU_ADMIN_HOST"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_assert(strstr(s.out_text, names[i]), "--help does not mention %s", names[i]);
}

Test(config, io_pool)
{
    config c;
    config_defaults(&c);
    cr_assert_eq(c.io_threads, 40, "anyio's default limiter");
    cr_assert_eq(c.io_queue, 4096);
    streams s;
    setenv("IOCPU_IO_THREADS", "8", 1);
    setenv("IOCPU_IO_QUEUE", "16", 1);
    cr_assert_eq(parse(&c, &s, ARGS("--io-queue", "32")), 0, "%s", s.err_text);
    cr_assert_eq(c.io_threads, 8);
    cr_assert_eq(c.io_queue, 32, "the flag wins over the environment");
    unsetenv("IOCPU_IO_THREADS");
    unsetenv("IOCPU_IO_QUEUE");
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, ARGS("--io-threads", "4096", "--io-queue", "1")), 0, "%s",
                 s.err_text);
    cr_assert_eq(c.io_threads, 4096);
    cr_assert_eq(c.io_queue, 1);
    static const char *const bad[][2] = {
        {"--io-threads", "0"},  {"--io-threads", "4097"},  {"--io-threads", "-1"},
        {"--io-threads", "4x"}, {"--io-threads", ""},      {"--io-threads", "1e2"},
        {"--io-queue", "0"},    {"--io-queue", "1000001"}, {"--io-queue", "8.5"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config_defaults(&c);
        cr_assert_eq(parse(&c, &s, ARGS(bad[i][0], bad[i][1])), -1, "%s '%s' accepted", bad[i][0],
                     bad[i][1]);
        cr_assert(strstr(s.err_text, bad[i][0] + 2), "message: %s", s.err_text);
    }
    setenv("IOCPU_IO_THREADS", "0", 1);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, NULL), -1, "IOCPU_IO_THREADS=0 accepted");
    unsetenv("IOCPU_IO_THREADS");
    cr_assert_eq(parse(&c, &s, ARGS("--help")), 1);
    const char *names[] = {"--io-threads", "IOCPU_IO_THREADS", "--io-queue", "IOCPU_IO_QUEUE"};
    for (size_t i = 0; i < 4; i++)
        cr_assert(strstr(s.out_text, names[i]), "--help does not mention %s", names[i]);
}

Test(config, stream_limits)
{
    config c;
    config_defaults(&c);
    cr_assert_eq(c.stream_buffer_bytes, 65536);
    cr_assert_eq(c.stream_write_timeout, 30);
    streams s;
    setenv("IOCPU_STREAM_BUFFER_BYTES", "8192", 1);
    cr_assert_eq(parse(&c, &s, ARGS("--stream-write-timeout", "1.5")), 0, "%s", s.err_text);
    cr_assert_eq(c.stream_write_timeout, 1.5);
    cr_assert_eq(c.stream_buffer_bytes, 8192);
    unsetenv("IOCPU_STREAM_BUFFER_BYTES");
    setenv("IOCPU_STREAM_WRITE_TIMEOUT", "4", 1);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, ARGS("--stream-buffer-bytes", "1073741824")), 0, "%s", s.err_text);
    cr_assert_eq(c.stream_write_timeout, 4);
    cr_assert_eq(c.stream_buffer_bytes, 1073741824);
    unsetenv("IOCPU_STREAM_WRITE_TIMEOUT");
    static const char *const bad[][2] = {
        {"--stream-buffer-bytes", "4095"}, {"--stream-buffer-bytes", "1073741825"},
        {"--stream-buffer-bytes", "64k"},  {"--stream-buffer-bytes", "-1"},
        {"--stream-write-timeout", "0"},   {"--stream-write-timeout", "0.09"},
        {"--stream-write-timeout", "nan"}, {"--stream-write-timeout", "86401"},
        {"--stream-write-timeout", "inf"}, {"--stream-write-timeout", ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config_defaults(&c);
        cr_assert_eq(parse(&c, &s, ARGS(bad[i][0], bad[i][1])), -1, "%s '%s' accepted", bad[i][0],
                     bad[i][1]);
        cr_assert(strstr(s.err_text, bad[i][0] + 2), "message: %s", s.err_text);
    }
    setenv("IOCPU_STREAM_WRITE_TIMEOUT", "0", 1);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, NULL), -1, "IOCPU_STREAM_WRITE_TIMEOUT=0 accepted");
    unsetenv("IOCPU_STREAM_WRITE_TIMEOUT");
    cr_assert_eq(parse(&c, &s, ARGS("--help")), 1);
    const char *names[] = {"--stream-buffer-bytes", "IOCPU_STREAM_BUFFER_BYTES",
                           "--stream-write-timeout", "IOCPU_STREAM_WRITE_TIMEOUT"};
    for (size_t i = 0; i < 4; i++)
        cr_assert(strstr(s.out_text, names[i]), "--help does not mention %s", names[i]);
}

Test(config, injection_and_payload_flags)
{
    config c;
    config_defaults(&c);
    cr_assert_eq(c.max_payload_bytes, 1048576);
    cr_assert_eq(c.inject_rate, 0, "injection is off by default");
    cr_assert_str_eq(c.inject_error, "");
    cr_assert_str_eq(c.inject_delay, "");
    streams s;
    cr_assert_eq(parse(&c, &s,
                       ARGS("--inject-error", "0.1", "--inject-delay", "exponential:mean=0.05",
                            "--max-payload-bytes", "0")),
                 0, "%s", s.err_text);
    cr_assert_float_eq(c.inject_rate, 0.1, 0);
    cr_assert_eq(c.inject_code, 503);
    cr_assert_str_eq(c.inject_delay, "exponential:mean=0.05");
    cr_assert_eq(c.max_payload_bytes, 0);
    setenv("IOCPU_INJECT_ERROR", "0.5:429", 1);
    setenv("IOCPU_INJECT_DELAY", "uniform:min=0.01,max=0.02", 1);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, NULL), 0, "%s", s.err_text);
    cr_assert_eq(c.inject_code, 429);
    cr_assert_str_eq(c.inject_delay, "uniform:min=0.01,max=0.02");
    unsetenv("IOCPU_INJECT_ERROR");
    unsetenv("IOCPU_INJECT_DELAY");
    static const char *const bad[][2] = {
        {"--inject-error", "0"},
        {"--inject-error", "1.1"},
        {"--inject-error", "0.1:200"},
        {"--inject-error", "0.1:600"},
        {"--inject-error", ""},
        {"--inject-error", "nan"},
        {"--inject-delay", "exponential"},
        {"--inject-delay", "gamma:k=1"},
        {"--inject-delay", "normal:mean=1"},
        {"--inject-delay", "exponential:mean=1e9"},
        {"--max-payload-bytes", "-1"},
        {"--max-payload-bytes", "67108865"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config_defaults(&c);
        cr_assert_eq(parse(&c, &s, ARGS(bad[i][0], bad[i][1])), -1, "%s '%s' accepted", bad[i][0],
                     bad[i][1]);
        cr_assert(strstr(s.err_text, bad[i][0] + 2), "message: %s", s.err_text);
    }
    /* checked against the --max-delay given, wherever it comes on the line */
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, ARGS("--inject-delay", "exponential:mean=1", "--max-delay", "0.5")),
                 -1, "most draws above --max-delay accepted");
    cr_assert(strstr(s.err_text, "--max-delay"), "message: %s", s.err_text);
    config_defaults(&c);
    cr_assert_eq(parse(&c, &s, ARGS("--max-delay", "5", "--inject-delay", "exponential:mean=1")), 0,
                 "%s", s.err_text);
    cr_assert_eq(parse(&c, &s, ARGS("--help")), 1);
    const char *names[] = {"--inject-error", "IOCPU_INJECT_ERROR", "--inject-delay",
                           "IOCPU_INJECT_DELAY", "--max-payload-bytes"};
    for (size_t i = 0; i < 5; i++)
        cr_assert(strstr(s.out_text, names[i]), "--help does not mention %s", names[i]);
}
