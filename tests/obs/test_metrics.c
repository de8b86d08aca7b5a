/*
 * test_metrics.c - the metrics module (obs/metrics.c) and its parts:
 * histogram buckets (obs/histogram.c), the exposition writer (obs/prom.c),
 * and the strict exposition reader the HTTP tests rely on
 * (tests/lib/prom_check.c), which must itself reject malformed text.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "histogram.h"
#include "metrics.h"
#include "prom.h"
#include "prom_check.h"

TestSuite(metrics, .timeout = 30);

static const double BOUNDS[] = {0.1, 0.5, 1.0};

Test(metrics, histogram_rejects_bad_bounds)
{
    histogram h;
    static const double unsorted[] = {1, 0.5};
    static const double dup[] = {1, 1};
    static const double inf[] = {1, INFINITY};
    static double many[HISTOGRAM_MAX_BOUNDS + 1];
    for (size_t i = 0; i < HISTOGRAM_MAX_BOUNDS + 1; i++)
        many[i] = (double)i;
    cr_assert_eq(histogram_init(&h, unsorted, 2), -EINVAL);
    cr_assert_eq(histogram_init(&h, dup, 2), -EINVAL);
    cr_assert_eq(histogram_init(&h, inf, 2), -EINVAL);
    cr_assert_eq(histogram_init(&h, many, HISTOGRAM_MAX_BOUNDS + 1), -EINVAL);
    cr_assert_eq(histogram_init(&h, many, HISTOGRAM_MAX_BOUNDS), 0);
}

Test(metrics, histogram_buckets_use_le)
{
    histogram h;
    cr_assert_eq(histogram_init(&h, BOUNDS, 3), 0);
    double obs[] = {0.05, 0.1, 0.10001, 0.5, 0.7, 1.0, 2.0, 1e9, -1, NAN};
    for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
        histogram_observe(&h, obs[i]);
    /* a value equal to a bound is in that bound's bucket; NaN is not counted */
    cr_assert_eq(h.counts[0], 3, "-1, 0.05, 0.1");
    cr_assert_eq(h.counts[1], 2, "0.10001, 0.5");
    cr_assert_eq(h.counts[2], 2, "0.7, 1.0");
    cr_assert_eq(h.counts[3], 2, "2.0, 1e9 (+Inf)");
    cr_assert_eq(h.count, 9);
    cr_assert_float_eq(h.sum, 0.05 + 0.1 + 0.10001 + 0.5 + 0.7 + 1.0 + 2.0 + 1e9 - 1, 1e-6);
    cr_assert_eq(histogram_cumulative(&h, 0.1), 3);
    cr_assert_eq(histogram_cumulative(&h, 0.5), 5);
    cr_assert_eq(histogram_cumulative(&h, 1.0), 7);
    cr_assert_eq(histogram_cumulative(&h, INFINITY), 9);
}

Test(metrics, histogram_exposition_is_cumulative)
{
    histogram h;
    histogram_init(&h, BOUNDS, 3);
    histogram_observe(&h, 0.2);
    histogram_observe(&h, 0.3);
    histogram_observe(&h, 5);
    buf b = BUF_INIT;
    histogram_write(&h, &b, "x_seconds", "route=\"/a\"");
    cr_assert_str_eq(b.p, "x_seconds_bucket{route=\"/a\",le=\"0.1\"} 0\n"
                          "x_seconds_bucket{route=\"/a\",le=\"0.5\"} 2\n"
                          "x_seconds_bucket{route=\"/a\",le=\"1.0\"} 2\n"
                          "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
                          "x_seconds_sum{route=\"/a\"} 5.5\n"
                          "x_seconds_count{route=\"/a\"} 3\n");
    buf_free(&b);
    histogram_write(&h, &b, "y", NULL);
    cr_assert(strstr(b.p, "y_bucket{le=\"+Inf\"} 3\ny_sum 5.5\ny_count 3\n"), "%s", b.p);
    buf_free(&b);
}

Test(metrics, prom_labels_and_values)
{
    char l[64] = "";
    cr_assert_eq(prom_label(l, sizeof(l), "a", "x"), 0);
    cr_assert_eq(prom_label(l, sizeof(l), "b", "q\"\\\nz"), 0);
    cr_assert_str_eq(l, "a=\"x\",b=\"q\\\"\\\\\\nz\"");
    char small[12] = "";
    cr_assert_eq(prom_label(small, sizeof(small), "k", "0123456789"), -1);
    cr_assert_str_eq(small, "", "a label that does not fit leaves the list unchanged");

    buf b = BUF_INIT;
    double v[] = {INFINITY, -INFINITY, NAN, 0.5, 1e-7, 3};
    for (size_t i = 0; i < 6; i++) {
        prom_value(&b, v[i]);
        buf_puts(&b, " ");
    }
    cr_assert_str_eq(b.p, "+Inf -Inf NaN 0.5 1e-07 3.0 ");
    buf_free(&b);
    prom_family(&b, "m_total", "counter", "a \\ b\nc");
    cr_assert_str_eq(b.p, "# HELP m_total a \\\\ b\\nc\n# TYPE m_total counter\n");
    buf_free(&b);
}

static const metrics_route ROUTES[] = {{"GET", "/a"}, {"POST", "/b/{id}"}};

static void render(metrics *m, const metrics_live *live, prom_doc *doc)
{
    buf b = BUF_INIT;
    metrics_render(m, live, &b);
    char err[256];
    int rc = prom_parse(b.p, doc, err, sizeof(err));
    cr_assert_eq(rc, 0, "invalid exposition: %s\n%s", err, b.p);
    buf_free(&b);
}

Test(metrics, requests_by_route_template_and_status)
{
    metrics *m;
    cr_assert_eq(metrics_new(&m, ROUTES, 2), 0);
    metrics_request(m, 0, 200, 0.003);
    metrics_request(m, 0, 200, 0.2);
    metrics_request(m, 0, 422, 0.0001);
    metrics_request(m, 1, 202, 0.01);
    size_t get = metrics_unmatched_slot(m, "GET"), brew = metrics_unmatched_slot(m, "BREW");
    cr_assert_neq(get, brew);
    cr_assert_eq(metrics_unmatched_slot(m, "XYZ"), brew, "unknown methods share one slot");
    metrics_request(m, get, 404, 0.0001);
    metrics_request(m, brew, 404, 0.0001);
    cr_assert_eq(metrics_requests(m, 0, 200), 2);
    cr_assert_eq(metrics_requests(m, 0, 422), 1);
    cr_assert_eq(metrics_requests(m, 0, 500), 0);

    metrics_live live = {.connections = 3, .active_timers = 7};
    live.ex.workers = 2;
    live.ex.rejected = 5;
    prom_doc d;
    render(m, &live, &d);
    const char *c = "iocpu_http_requests_total";
    cr_assert_str_eq(prom_type_of(&d, c), "counter");
    cr_assert_eq(prom_value_of(&d, c, "method=\"GET\",route=\"/a\",code=\"200\""), 2);
    cr_assert_eq(prom_value_of(&d, c, "method=\"GET\",route=\"/a\",code=\"422\""), 1);
    cr_assert_eq(prom_value_of(&d, c, "method=\"POST\",route=\"/b/{id}\",code=\"202\""), 1);
    cr_assert_eq(prom_value_of(&d, c, "method=\"GET\",route=\"unmatched\",code=\"404\""), 1);
    cr_assert_eq(prom_value_of(&d, c, "method=\"other\",route=\"unmatched\",code=\"404\""), 1);
    const char *h = "iocpu_http_request_duration_seconds";
    cr_assert_str_eq(prom_type_of(&d, h), "histogram");
    cr_assert_eq(prom_value_of(&d, "iocpu_http_request_duration_seconds_count",
                               "method=\"GET\",route=\"/a\""),
                 3);
    cr_assert_eq(prom_value_of(&d, "iocpu_http_request_duration_seconds_bucket",
                               "method=\"GET\",route=\"/a\",le=\"0.005\""),
                 2);
    cr_assert_eq(prom_value_of(&d, "iocpu_http_request_duration_seconds_count",
                               "method=\"POST\",route=\"/b/{id}\""),
                 1);
    cr_assert_eq(prom_value_of(&d, "iocpu_http_open_connections", ""), 3);
    cr_assert_eq(prom_value_of(&d, "iocpu_loop_active_timers", ""), 7);
    cr_assert_eq(prom_value_of(&d, "iocpu_executor_workers", ""), 2);
    cr_assert_eq(prom_value_of(&d, "iocpu_executor_jobs_rejected_total", ""), 5);
    prom_doc_free(&d);
    metrics_free(m);
}

Test(metrics, lag_and_job_histograms)
{
    metrics *m;
    cr_assert_eq(metrics_new(&m, ROUTES, 2), 0);
    metrics_loop_lag(m, 0.00005);
    metrics_loop_lag(m, 0.7);
    metrics_job(m, 0.002, 0.3);
    metrics_live live = {0};
    prom_doc d;
    render(m, &live, &d);
    cr_assert_eq(prom_value_of(&d, "iocpu_loop_lag_seconds_count", ""), 2);
    cr_assert_eq(prom_value_of(&d, "iocpu_loop_lag_seconds_bucket", "le=\"0.0001\""), 1);
    cr_assert_eq(prom_value_of(&d, "iocpu_loop_lag_seconds_bucket", "le=\"0.5\""), 1);
    cr_assert_eq(prom_value_of(&d, "iocpu_loop_lag_seconds_bucket", "le=\"1.0\""), 2);
    cr_assert_float_eq(prom_value_of(&d, "iocpu_loop_lag_seconds_sum", ""), 0.70005, 1e-9);
    cr_assert_eq(prom_value_of(&d, "iocpu_executor_queue_wait_seconds_bucket", "le=\"0.001\""), 0);
    cr_assert_eq(prom_value_of(&d, "iocpu_executor_queue_wait_seconds_bucket", "le=\"0.005\""), 1);
    cr_assert_eq(prom_value_of(&d, "iocpu_executor_run_seconds_bucket", "le=\"0.25\""), 0);
    cr_assert_eq(prom_value_of(&d, "iocpu_executor_run_seconds_bucket", "le=\"0.5\""), 1);
    prom_doc_free(&d);
    metrics_free(m);
}

Test(metrics, many_status_codes_stay_bounded)
{
    metrics *m;
    cr_assert_eq(metrics_new(&m, ROUTES, 2), 0);
    for (unsigned code = 200; code < 240; code++)
        metrics_request(m, 0, code, 0.001);
    metrics_live live = {0};
    prom_doc d;
    render(m, &live, &d);
    size_t series = 0;
    for (size_t i = 0; i < d.n; i++)
        series += !strcmp(d.s[i].name, "iocpu_http_requests_total");
    cr_assert_eq(series, 17, "16 codes, then one code=\"other\"");
    cr_assert_eq(prom_value_of(&d, "iocpu_http_requests_total",
                               "method=\"GET\",route=\"/a\",code=\"other\""),
                 24);
    prom_doc_free(&d);
    metrics_free(m);
}

static void expect_invalid(const char *text, const char *why)
{
    prom_doc d;
    char err[256];
    cr_assert_eq(prom_parse(text, &d, err, sizeof(err)), -1, "accepted: %s", why);
    cr_assert(err[0], "no reason given for: %s", why);
    prom_doc_free(&d);
}

Test(metrics, checker_rejects_malformed_text)
{
    const char *ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n"
                     "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                     "h_sum 3\nh_count 2\n";
    prom_doc d;
    char err[256];
    cr_assert_eq(prom_parse(ok, &d, err, sizeof(err)), 0, "%s", err);
    prom_doc_free(&d);
    expect_invalid("a 1", "no final newline");
    expect_invalid("a{x=\"\\q\"} 1\n", "bad escape");
    expect_invalid("a{x=\"1\",x=\"2\"} 1\n", "repeated label");
    expect_invalid("a{x=1} 1\n", "unquoted label value");
    expect_invalid("1a 1\n", "bad metric name");
    expect_invalid("a one\n", "bad value");
    expect_invalid("a  1\n", "two spaces");
    expect_invalid("a 1\na 2\n", "duplicate series");
    expect_invalid("a 1\n# TYPE a gauge\n", "TYPE after samples");
    expect_invalid("# TYPE a gauge\n# TYPE a gauge\na 1\n", "second TYPE");
    expect_invalid("# TYPE a wat\na 1\n", "unknown type");
    expect_invalid("a 1\nb 1\na{x=\"y\"} 1\n", "family not grouped");
    expect_invalid("# TYPE c counter\nc 1\n", "counter without _total");
    expect_invalid("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                   "h_sum 1\nh_count 1\n",
                   "buckets not cumulative");
    expect_invalid("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "no +Inf");
    expect_invalid("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "no _sum");
    expect_invalid("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
                   "+Inf != count");
}
