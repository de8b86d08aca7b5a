/*
 * test_admit.c - the pure judges behind request admission: the Host header
 * and the --allowed-hosts list (config/hostallow.c), Fetch Metadata and the
 * Content-Type of a body (http/admit.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "admit.h"
#include "hostallow.h"

static int parses(const char *s)
{
    host_id h;
    return host_parse(s, strlen(s), &h) == 0;
}

Test(admit, host_headers_parse_strictly)
{
    static const char *const good[] = {
        "localhost",
        "localhost:8080",
        "LocalHost:1",
        "127.0.0.1",
        "127.0.0.1:65535",
        "[::1]",
        "[::1]:8080",
        "[0::1]",
        "[::ffff:1.2.3.4]",
        "a.b-c.d_e",
        "10.1.2.3:0",
        "x",
        "iocpu-0.iocpu.default.svc.cluster.local:8080",
        "1a.2b.3c.4d",
        "[FE80::1]",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_assert(parses(good[i]), "'%s' is a host", good[i]);
    static const char *const bad[] = {
        "",
        ":8080",
        "localhost:",
        "localhost:65536",
        "localhost:123456",
        "local host",
        "a..b",
        ".a",
        "a.",
        "[::1",
        "::1",
        "::1:8080",
        "[::1]8080",
        "[::1]:",
        "[fe80::1%25eth0]",
        "[v1.x]",
        "127.1",
        "1.2.3.999",
        "1.2.3.4.5",
        "0x7f.0.0.1",
        "a:b:c",
        "a/b",
        "a@b",
        "a:80:80",
        "a\tb",
        "[]",
        "localhost:+1",
        "localhost:-1",
        "localhost: 80",
        "01.2.3.4",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(parses(bad[i]), "'%s' is not a host", bad[i]);
    char label[80], name[300];
    memset(label, 'a', 64);
    label[64] = '\0';
    cr_assert_not(parses(label), "a label of 64 bytes");
    label[63] = '\0';
    cr_assert(parses(label), "a label of 63 bytes");
    snprintf(name, sizeof(name), "%s.%s.%s.%.61s", label, label, label, label);
    cr_assert(strlen(name) == 253 && parses(name), "253 bytes");
    strcat(name, "b");
    cr_assert_not(parses(name), "254 bytes");
    host_id h;
    cr_assert_eq(host_parse("localhost\0.evil", 15, &h), -1, "a NUL inside");
    cr_assert_eq(host_parse("Example.COM:80", 14, &h), 0);
    cr_assert_str_eq(h.name, "example.com", "names are lower-cased");
}

Test(admit, allowed_hosts_lists_validate_like_starlette)
{
    static const char *const good[] = {"*", "example.com", "*.example.com",
                                       "example.com,*.example.com,10.0.0.1,[::1]", "localhost,*"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_assert(hostallow_list_ok(good[i]), "'%s'", good[i]);
    /* Starlette: "Domain wildcard patterns must be like '*.example.com'." */
    static const char *const bad[] = {
        "",        "example.com:8080", "a,,b",     "a,", ",a",   "*example.com",
        "ex*.com", "*.*.com",          "*.",       "**", "a, b", "*.10.0.0.1",
        "127.1",   "[::1]:80",         "http://a", "a b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(hostallow_list_ok(bad[i]), "'%s'", bad[i]);
}

static int admits(const char *list, const char *bind, const char *host)
{
    return hostallow_admits(list, bind, host, host ? strlen(host) : 0);
}

Test(admit, hosts_match_exact_wildcard_and_star)
{
    const char *list = "example.com,*.iocpu.test,10.0.0.7,[::1]";
    cr_assert(admits(list, "0.0.0.0", "example.com"));
    cr_assert(admits(list, "0.0.0.0", "EXAMPLE.com:8080"), "case and port do not matter");
    cr_assert_not(admits(list, "0.0.0.0", "www.example.com"), "exact means exact");
    cr_assert(admits(list, "0.0.0.0", "a.iocpu.test"));
    cr_assert(admits(list, "0.0.0.0", "a.b.iocpu.test:1"));
    cr_assert_not(admits(list, "0.0.0.0", "iocpu.test"), "*.d is not d itself (as Starlette)");
    cr_assert_not(admits(list, "0.0.0.0", "xiocpu.test"));
    cr_assert(admits(list, "0.0.0.0", "10.0.0.7:8080"));
    cr_assert_not(admits(list, "0.0.0.0", "10.0.0.8"));
    cr_assert(admits(list, "0.0.0.0", "[0:0:0:0:0:0:0:1]:80"), "addresses compare as addresses");
    cr_assert_not(admits(list, "0.0.0.0", NULL), "no Host under a list");
    cr_assert_not(admits(list, "0.0.0.0", "example.com:"), "malformed");
    cr_assert(admits("*", "127.0.0.1", "anything.at.all:1"));
    cr_assert(admits("*", "127.0.0.1", NULL), "HTTP/1.0 without Host under '*'");
    cr_assert_not(admits("*", "127.0.0.1", "bad host"), "a malformed Host even under '*'");
}

Test(admit, the_default_depends_on_the_listening_address)
{
    static const char *const loopback[] = {"127.0.0.1", "127.1.2.3", "::1", "localhost",
                                           "::ffff:127.0.0.1"};
    static const char *const beyond[] = {"0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "fe80::1"};
    for (size_t i = 0; i < 5; i++) {
        cr_assert(hostallow_bind_loopback(loopback[i]), "%s", loopback[i]);
        cr_assert_not(hostallow_bind_loopback(beyond[i]), "%s", beyond[i]);
        /* bound beyond loopback: any well-formed host (probes send the pod's address) */
        cr_assert(admits("", beyond[i], "10.244.1.7:8080"));
        cr_assert(admits("", beyond[i], "iocpu.default.svc"));
        cr_assert(admits("", beyond[i], NULL));
        cr_assert(hostallow_any("", beyond[i]));
        /* bound to loopback: loopback names and addresses only */
        cr_assert_not(hostallow_any("", loopback[i]));
        static const char *const ok[] = {"localhost", "localhost:8080", "127.0.0.1:8080",
                                         "127.9.9.9", "[::1]:8080",     "app.localhost",
                                         "LOCALHOST"};
        for (size_t j = 0; j < sizeof(ok) / sizeof(ok[0]); j++)
            cr_assert(admits("", loopback[i], ok[j]), "%s on %s", ok[j], loopback[i]);
        static const char *const no[] = {"evil.test",     "evil.test:8080", "localhost.evil.test",
                                         "evillocalhost", "10.0.0.1",       "[::2]",
                                         "128.0.0.1:8080"};
        for (size_t j = 0; j < sizeof(no) / sizeof(no[0]); j++)
            cr_assert_not(admits("", loopback[i], no[j]), "%s on %s", no[j], loopback[i]);
        cr_assert_not(admits("", loopback[i], NULL), "no Host on loopback");
    }
}

static unsigned fetch(const char *site, const char *mode, const char *dest, const char *method,
                      const char *path)
{
    char detail[128] = "";
    unsigned st = admit_fetch_metadata(site, mode, dest, method, path, detail, sizeof(detail));
    if (st) cr_assert(strstr(detail, "cross-site"), "%s", detail);
    return st;
}

Test(admit, fetch_metadata_follows_the_resource_isolation_policy)
{
    cr_assert_eq(fetch(NULL, NULL, NULL, "POST", "/tasks"), 0, "no header: not a browser");
    cr_assert_eq(fetch("same-origin", "cors", "empty", "POST", "/tasks"), 0);
    cr_assert_eq(fetch("same-site", "no-cors", "image", "GET", "/cpu/blocking"), 0);
    cr_assert_eq(fetch("none", "navigate", "document", "GET", "/cpu/blocking"), 0, "typed URL");
    cr_assert_eq(fetch("cross-site", "no-cors", "image", "GET", "/cpu/blocking"), 403);
    cr_assert_eq(fetch("cross-site", "no-cors", "empty", "POST", "/tasks"), 403);
    cr_assert_eq(fetch("cross-site", "navigate", "document", "POST", "/tasks"), 403, "a form");
    cr_assert_eq(fetch("cross-site", "navigate", "document", "GET", "/ui"), 0,
                 "a link to the page");
    cr_assert_eq(fetch("cross-site", "navigate", "document", "HEAD", "/ui"), 0);
    cr_assert_eq(fetch("cross-site", "navigate", "document", "POST", "/ui"), 403);
    cr_assert_eq(fetch("cross-site", "navigate", "iframe", "GET", "/ui"), 403, "framed");
    cr_assert_eq(fetch("cross-site", "navigate", "document", "GET", "/cpu/blocking"), 403);
    cr_assert_eq(fetch("cross-site", "navigate", "document", "GET", "/ui/x"), 403);
    cr_assert_eq(fetch("cross-site", "cors", "document", "GET", "/ui"), 403);
    cr_assert_eq(fetch("Same-Origin", NULL, NULL, "GET", "/"), 403, "an unknown value");
    cr_assert_eq(fetch("", NULL, NULL, "GET", "/"), 403);
}

static unsigned ctype(const char *ct)
{
    char detail[128] = "";
    unsigned st = admit_content_type(ct, ct ? strlen(ct) : 0, detail, sizeof(detail));
    if (st) cr_assert(strstr(detail, "Unsupported Media Type"), "%s", detail);
    return st;
}

Test(admit, a_body_must_be_json)
{
    static const char *const json[] = {
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json ; charset=\"utf-8\"",
        "application/json; foo=bar; charset=utf-8",
        "application/json;",
        "application/json; ;charset=utf-8",
        "application/merge-patch+json",
        "application/vnd.api+json; q=\"a\\\"b\"",
        "application/json  ",
    };
    for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++)
        cr_assert_eq(ctype(json[i]), 0, "'%s'", json[i]);
    static const char *const not_json[] = {
        NULL,
        "",
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/json",
        "application/jsonx",
        "application/json-seq",
        "application/+json",
        "application/ json",
        "application /json",
        "application/json; charset=latin1",
        "application/json; charset=\"utf-8",
        "application/json; charset",
        "application/json; charset=",
        "application/json, text/plain",
        "application",
        "/json",
        "application/json\x01",
    };
    for (size_t i = 0; i < sizeof(not_json) / sizeof(not_json[0]); i++)
        cr_assert_eq(ctype(not_json[i]), 415, "'%s'", not_json[i] ? not_json[i] : "(none)");
    char d[128];
    cr_assert_eq(admit_content_type("application/json\0x", 18, d, sizeof(d)), 415, "a NUL inside");
    const char *latin = "application/json; charset=latin1";
    cr_assert_eq(admit_content_type(latin, strlen(latin), d, sizeof(d)), 415);
    cr_assert(strstr(d, "utf-8"), "%s", d);
}
