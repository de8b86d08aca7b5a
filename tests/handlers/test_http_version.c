/*
 * test_http_version.c - GET /version says what was built (version, commit,
 * build type) and the libraries it runs with; GET /docs serves the API page
 * (one self-contained document under a CSP of its own origin); the index
 * links both pages.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <microhttpd.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static test_server ts;

static void setup(void)
{
    ts_start(&ts, NULL);
}

static void teardown(void)
{
    ts_stop(&ts);
}

TestSuite(http_version, .init = setup, .fini = teardown, .timeout = 60);

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int matches(const char *re, const char *s)
{
    regex_t rx;
    cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    int ok = s && regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

Test(http_version, version_names_the_build_and_the_libraries)
{
    http_res r;
    http_get(&ts, "/version", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(str(r.json, "service"), "iocpu");
    cr_assert(matches("^[0-9]+\\.[0-9]+\\.[0-9]+$", str(r.json, "version")), "%s", r.body);
    cr_assert(matches("^([0-9a-f]{40}|[0-9a-f]{64}|unknown)$", str(r.json, "commit")), "%s",
              r.body);
    cr_assert(str(r.json, "build_type") && str(r.json, "build_type")[0], "%s", r.body);
    json_t *libs = json_object_get(r.json, "libraries");
    cr_assert_str_eq(str(libs, "libmicrohttpd"), MHD_get_version());
    cr_assert_str_eq(str(libs, "jansson"), jansson_version_str());
    char hiredis[32];
    snprintf(hiredis, sizeof(hiredis), "%d.%d.%d", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
    cr_assert_str_eq(str(libs, "hiredis"), hiredis);
    cr_assert_str_eq(str(libs, "libcurl"), curl_version_info(CURLVERSION_NOW)->version);
    http_res_free(&r);
}

/* The commit of the source tree (IOCPU_SOURCE_DIR, set by ctest) when it is
 * a git checkout of its own, else "" (a tarball). */
static void checkout_commit(char *out, size_t len)
{
    out[0] = '\0';
    const char *src = getenv("IOCPU_SOURCE_DIR");
    if (!src) return;
    char cmd[4200];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' 2>/dev/null && [ \"$(git rev-parse --show-toplevel 2>/dev/null)\" = "
             "\"$(pwd -P)\" ] && git rev-parse HEAD",
             src);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (!fgets(out, (int)len, p)) out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

/* The binary was built from the checkout it is tested in: the commit is
 * HEAD's, read at build time. */
Test(http_version, version_commit_is_the_checkout_s)
{
    char want[128];
    checkout_commit(want, sizeof(want));
    if (!want[0]) cr_skip_test("the source tree is no git checkout");
    http_res r;
    http_get(&ts, "/version", &r);
    cr_assert_str_eq(str(r.json, "commit"), want, "%s", r.body);
    http_res_free(&r);
}

Test(http_version, index_links_the_pages)
{
    http_res r;
    http_get(&ts, "/", &r);
    cr_assert_str_eq(str(r.json, "ui"), "/ui");
    cr_assert_str_eq(str(r.json, "docs"), "/docs");
    http_res_free(&r);
}

Test(http_version, docs_page_is_one_self_contained_document)
{
    http_res r;
    http_get(&ts, "/docs", &r);
    cr_assert_eq(r.status, 200);
    char ct[64];
    cr_assert_eq(http_header(&r, "Content-Type", ct, sizeof(ct)), 0);
    cr_assert_str_eq(ct, "text/html; charset=utf-8");
    cr_assert(strstr(r.body, "connect-src 'self'"), "its CSP allows its own origin only");
    cr_assert(strstr(r.body, "/openapi.json"));
    cr_assert_null(strstr(r.body, "<script src"), "scripts are inlined");
    cr_assert_null(strstr(r.body, "<link rel=\"stylesheet\""), "styles are inlined");
    cr_assert_null(strstr(r.body, "http://"), "nothing from elsewhere");
    cr_assert_null(strstr(r.body, "https://"), "nothing from elsewhere");
    http_res_free(&r);
    /* and /ui links it */
    http_get(&ts, "/ui", &r);
    cr_assert(strstr(r.body, "href=\"/docs\""), "/ui links /docs");
    http_res_free(&r);
}

/* A cross-site top-level navigation may open the page (a link from elsewhere),
 * like /ui; a cross-site fetch of it may not. */
Test(http_version, docs_is_navigable_cross_site_but_not_fetchable)
{
    http_res r;
    http_do_headers(
        &ts, NULL, "/docs", NULL,
        "Sec-Fetch-Site: cross-site\nSec-Fetch-Mode: navigate\nSec-Fetch-Dest: document", &r);
    cr_assert_eq(r.status, 200);
    http_res_free(&r);
    http_do_headers(&ts, NULL, "/docs", NULL,
                    "Sec-Fetch-Site: cross-site\nSec-Fetch-Mode: cors\nSec-Fetch-Dest: empty", &r);
    cr_assert_eq(r.status, 403);
    http_res_free(&r);
}
