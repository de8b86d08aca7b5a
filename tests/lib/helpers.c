/*
 * helpers.c - see helpers.h.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "prom_check.h"

/*
 * LeakSanitizer asks this hook at exit whether to check the process. Criterion
 * runs every test (with its init and fini) in a child process; the runner
 * itself runs only criterion's own code, and with --jobs > 1 it sometimes
 * loses a 48-byte block of its own when suites overlap, which fails the whole
 * binary. So: no check in the runner (no current test), checks everywhere our
 * code runs.
 */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
    return criterion_current_test == NULL;
}

const route *const *test_routes(size_t *n)
{
    static router *rt;
    if (!rt) cr_assert_eq(router_new(&rt, handlers_all()), 0);
    return router_all(rt, n);
}

typedef struct poller {
    loop *l;
    const int *flag;
    uint64_t deadline;
    int met;
    timer t;
} poller;

static void poll_tick(timer *t)
{
    poller *p = t->data;
    if (p->flag && *p->flag) {
        p->met = 1;
        loop_stop(p->l);
    } else if (loop_now_ns() >= p->deadline) {
        loop_stop(p->l);
    } else {
        loop_timer_start(p->l, &p->t, 1000000, poll_tick, p);
    }
}

int loop_run_until(loop *l, const int *flag, double max_secs)
{
    poller p = {.l = l, .flag = flag, .deadline = loop_now_ns() + secs_to_ns(max_secs)};
    cr_assert_eq(loop_timer_start(l, &p.t, 0, poll_tick, &p), 0);
    cr_assert_eq(loop_run(l), 0);
    loop_timer_cancel(l, &p.t);
    return p.met;
}

static void *run_loop(void *p)
{
    test_server *t = p;
    server_run(t->s);
    return NULL;
}

void ts_start(test_server *t, void (*cfg_edit)(config *c))
{
    memset(t, 0, sizeof(*t));
    config_defaults(&t->cfg);
    t->cfg.port = 0;
    t->cfg.workers = 2;
    strcpy(t->cfg.admin_token, TEST_ADMIN_TOKEN);
    /* the raw-socket suites send made-up Host names ("Host: t"); the allow
     * list and its default are tested with their own settings (test_http_admit.c) */
    strcpy(t->cfg.allowed_hosts, "*");
    if (cfg_edit) cfg_edit(&t->cfg);
    int rc = server_new(&t->s, &t->cfg, handlers_all());
    cr_assert_eq(rc, 0, "server_new failed: %d", rc);
    t->port = server_port(t->s);
    cr_assert_neq(t->port, 0);
    cr_assert_eq(pthread_create(&t->thread, NULL, run_loop, t), 0);
}

int ts_returned_within(test_server *t, double secs)
{
    double t0 = now_secs();
    while (now_secs() - t0 < secs) {
        if (pthread_tryjoin_np(t->thread, NULL) == 0) return 1;
        usleep(10000);
    }
    return 0;
}

void ts_stop(test_server *t)
{
    server_stop(t->s);
    pthread_join(t->thread, NULL);
    server_free(t->s);
    t->s = NULL;
}

double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct sink {
    char *p;
    size_t len;
} sink;

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t add = size * n;
    char *p = realloc(s->p, s->len + add + 1);
    if (!p) return 0;
    memcpy(p + s->len, data, add);
    s->p = p;
    s->len += add;
    s->p[s->len] = '\0';
    return add;
}

/* One request; len < 0: body is a C string. extra: header lines joined by
 * "\n", or NULL. A body goes as application/json unless extra names a
 * Content-Type (curl's own default, a form, is refused: admit.h). */
static int perform(const test_server *t, const char *method, const char *path, const char *body,
                   long len, const char *extra, http_res *res)
{
    memset(res, 0, sizeof(*res));
    char url[4096];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", t->port, path);
    CURL *c = curl_easy_init();
    sink b = {0}, h = {0};
    struct curl_slist *hdrs = NULL;
    for (const char *p = extra; p && *p;) {
        char line[512];
        size_t n = strcspn(p, "\n");
        snprintf(line, sizeof(line), "%.*s", (int)n, p);
        hdrs = curl_slist_append(hdrs, line);
        p += n + (p[n] == '\n');
    }
    if (body && !(extra && strcasestr(extra, "Content-Type:")))
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (hdrs) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (method) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (method && !strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (body && len >= 0) curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, len);
    double t0 = now_secs();
    CURLcode rc = curl_easy_perform(c);
    res->secs = now_secs() - t0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    res->body = b.p ? b.p : strdup("");
    res->body_len = b.len;
    res->headers = h.p ? h.p : strdup("");
    if (res->body_len && res->body[0] == '{') res->json = json_loads(res->body, 0, NULL);
    return rc == CURLE_OK ? 0 : -1;
}

int http_do(const test_server *t, const char *method, const char *path, const char *body,
            http_res *res)
{
    return perform(t, method, path, body, -1, NULL, res);
}

int http_do_headers(const test_server *t, const char *method, const char *path, const char *body,
                    const char *headers, http_res *res)
{
    return perform(t, method, path, body, -1, headers, res);
}

int http_get(const test_server *t, const char *path, http_res *res)
{
    return http_do(t, NULL, path, NULL, res);
}

int http_do_auth(const test_server *t, const char *method, const char *path, const char *body,
                 const char *token, http_res *res)
{
    char hdr[512];
    if (token) snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
    return perform(t, method, path, body, -1, token ? hdr : NULL, res);
}

int http_do_hdr(const test_server *t, const char *method, const char *path, const char *body,
                const char *header, http_res *res)
{
    return perform(t, method, path, body, -1, header, res);
}

int http_get_admin(const test_server *t, const char *path, http_res *res)
{
    return http_do_auth(t, NULL, path, NULL, TEST_ADMIN_TOKEN, res);
}

void http_res_free(http_res *res)
{
    free(res->body);
    free(res->headers);
    json_decref(res->json);
    memset(res, 0, sizeof(*res));
}

int http_header(const http_res *res, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *line = res->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end) break;
        if (!strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t n = (size_t)(end - v);
            if (n >= outlen) n = outlen - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 0;
        }
        line = end + 2;
    }
    return -1;
}

static void *async_main(void *p)
{
    http_async *a = p;
    http_get(a->t, a->path, &a->res);
    return NULL;
}

void http_get_async(http_async *a, const test_server *t, const char *path)
{
    a->t = t;
    a->path = path;
    cr_assert_eq(pthread_create(&a->th, NULL, async_main, a), 0);
}

void http_join(http_async *a)
{
    pthread_join(a->th, NULL);
}

int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 2;
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

int http_get_many(const test_server *t, const char *path, int n, double *secs)
{
    return http_get_many_matching(t, path, n, NULL, secs);
}

int http_get_many_matching(const test_server *t, const char *path, int n, const char *needle,
                           double *secs)
{
    char url[4096];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", t->port, path);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
    CURL **hs = calloc((size_t)n, sizeof(*hs));
    sink *bodies = calloc((size_t)n, sizeof(*bodies));
    for (int i = 0; i < n; i++) {
        hs[i] = curl_easy_init();
        curl_easy_setopt(hs[i], CURLOPT_URL, url);
        curl_easy_setopt(hs[i], CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(hs[i], CURLOPT_WRITEDATA, &bodies[i]);
        curl_easy_setopt(hs[i], CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(hs[i], CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(m, hs[i]);
    }
    double t0 = now_secs();
    int running = n;
    while (running > 0) {
        curl_multi_perform(m, &running);
        if (running) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    *secs = now_secs() - t0;
    int ok = 0;
    for (int i = 0; i < n; i++) {
        long st = 0;
        curl_easy_getinfo(hs[i], CURLINFO_RESPONSE_CODE, &st);
        ok += st == 200 && (!needle || (bodies[i].p && strstr(bodies[i].p, needle)));
        curl_multi_remove_handle(m, hs[i]);
        curl_easy_cleanup(hs[i]);
        free(bodies[i].p);
    }
    free(bodies);
    free(hs);
    curl_multi_cleanup(m);
    return ok;
}

typedef struct line_sink {
    char partial[4096];
    size_t plen;
    char **lines;
    double *at;
    int n, max;
    double t0;
} line_sink;

static size_t on_lines(char *data, size_t size, size_t n, void *arg)
{
    line_sink *s = arg;
    size_t len = size * n;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n') {
            if (s->plen < sizeof(s->partial) - 1) s->partial[s->plen++] = data[i];
            continue;
        }
        s->partial[s->plen] = '\0';
        if (s->n < s->max) {
            s->lines[s->n] = strdup(s->partial);
            s->at[s->n] = now_secs() - s->t0;
            s->n++;
        }
        s->plen = 0;
    }
    return len;
}

int http_get_lines(const test_server *t, const char *path, char **lines, double *at, int max)
{
    char url[4096];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", t->port, path);
    line_sink s = {.lines = lines, .at = at, .max = max, .t0 = now_secs()};
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_lines);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_perform(c);
    curl_easy_cleanup(c);
    return s.n;
}

int http_get_abandon(const test_server *t, const char *path, long ms)
{
    char url[4096];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", t->port, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    return rc == CURLE_OPERATION_TIMEDOUT ? 0 : -1;
}

void wait_loop_state(const test_server *t, const char *field, long long want, double timeout_s)
{
    char top[32];
    const char *sub = strchr(field, '.');
    snprintf(top, sizeof(top), "%.*s", sub ? (int)(sub - field) : (int)strlen(field), field);
    double t0 = now_secs();
    for (;;) {
        http_res r;
        http_get(t, "/loop", &r);
        json_t *v = json_object_get(r.json, top);
        if (sub) v = json_object_get(v, sub + 1);
        long long got = json_is_number(v) ? (long long)json_number_value(v) : -1;
        http_res_free(&r);
        if (got == want) return;
        cr_assert_lt(now_secs() - t0, timeout_s, "/loop %s stayed %lld, expected %lld", field, got,
                     want);
        usleep(10000);
    }
}

int http_post_chunked(const test_server *t, const char *path, const char *body, size_t len,
                      http_res *res)
{
    return perform(t, NULL, path, body, (long)len, "Transfer-Encoding: chunked", res);
}

json_int_t cpu_heavy_reference(int64_t n, int64_t it)
{
    json_int_t s = 0;
    for (int64_t i = 0; i < it; i++) {
        __int128 m = ((__int128)i * n) % 7;
        s += (json_int_t)(m < 0 ? m + 7 : m);
    }
    return s;
}

double ts_metric(const test_server *t, const char *name, const char *labels)
{
    http_res res;
    http_get(t, "/metrics", &res);
    cr_assert_eq(res.status, 200);
    prom_doc d;
    char err[256];
    cr_assert_eq(prom_parse(res.body, &d, err, sizeof(err)), 0, "%s", err);
    double v = prom_value_of(&d, name, labels);
    prom_doc_free(&d);
    http_res_free(&res);
    return v;
}

double ts_metric_becomes(const test_server *t, const char *name, const char *labels, double want,
                         double secs)
{
    double t0 = now_secs(), v;
    while ((v = ts_metric(t, name, labels)) != want && now_secs() - t0 < secs)
        usleep(20000);
    return v;
}

uint16_t free_port(void)
{
    /* Below the ephemeral range (32768-60999 on Linux): the servers of other
     * tests started in parallel with --port 0, and every outgoing connection,
     * take their ports from that range, so one picked there could be taken
     * between this check and the caller's bind. */
    char err[256];
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    for (int i = 0; i < 200; i++) {
        uint16_t p = (uint16_t)(20000 + rand_r(&seed) % 12000);
        int fd = listen_open("127.0.0.1", p, 0, 1, err, sizeof(err));
        if (fd >= 0) {
            close(fd);
            return p;
        }
    }
    cr_assert_fail("no free port in 20000-31999: %s", err);
    return 0;
}

double ts_healthz_during(const test_server *t, const char *path)
{
    http_async a;
    http_get_async(&a, t, path);
    usleep(150000);
    http_res h;
    http_get(t, "/healthz", &h);
    cr_assert_eq(h.status, 200);
    double secs = h.secs;
    http_res_free(&h);
    http_join(&a);
    cr_assert_eq(a.res.status, 200, "%s: %s", path, a.res.body);
    http_res_free(&a.res);
    return secs;
}
