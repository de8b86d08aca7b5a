/*
 * test_router.c - the route table (http/router.c) without sockets: routers
 * built from small handler-group tables of our own, then one pass over the
 * real table of handlers_all().
 */
#include <criterion/criterion.h>
#include <string.h>

#include "handlers.h"
#include "router.h"

TestSuite(router, .timeout = 30);

/* Distinct handlers, so a match can be told apart by its fn too. */
static void h_items_get(http_req *r)
{
    (void)r;
}
static void h_items_post(http_req *r)
{
    (void)r;
}
static void h_item_get(http_req *r)
{
    (void)r;
}
static void h_item_delete(http_req *r)
{
    (void)r;
}
static void h_health(http_req *r)
{
    (void)r;
}
static void h_dup_get(http_req *r)
{
    (void)r;
}

static const route G1_ROUTES[] = {
    {"GET", "/items", h_items_get, "list items"},
    {"POST", "/items", h_items_post, "add an item"},
    {"GET", "/items/{id}", h_item_get, "one item"},
    {"DELETE", "/items/{id}", h_item_delete, "remove an item"},
};
static const route G2_ROUTES[] = {
    {"GET", "/healthz", h_health, "alive"},
    /* a second GET of the same path: never reached, and no second GET in Allow */
    {"GET", "/items/{id}", h_dup_get, "shadowed"},
    {"PUT", "/healthz", h_health, "put health"},
};
static const http_group G1 = {.name = "g1", .routes = G1_ROUTES, .nroutes = 4};
static const http_group G2 = {.name = "g2", .routes = G2_ROUTES, .nroutes = 3};
static const http_group *const BOTH[] = {&G1, &G2};
static const http_groups GROUPS = {BOTH, 2};

static router *build(const http_groups *g)
{
    router *rt = NULL;
    cr_assert_eq(router_new(&rt, g), 0);
    cr_assert_not_null(rt);
    return rt;
}

typedef struct match {
    const route *r;
    char allow[64];
    char id[16];
} match;

static match do_match(const router *rt, const char *method, const char *path)
{
    match m;
    memset(&m, 'x', sizeof(m)); /* garbage in: the router must set both strings */
    m.r = router_match(rt, method, path, m.allow, sizeof(m.allow), m.id, sizeof(m.id));
    return m;
}

Test(router, exact_match_picks_method_and_path)
{
    router *rt = build(&GROUPS);
    match m = do_match(rt, "GET", "/items");
    cr_assert_eq(m.r, &G1_ROUTES[0]);
    cr_assert_eq(m.r->fn, h_items_get);
    cr_assert_str_eq(m.allow, "");
    cr_assert_str_eq(m.id, "");
    m = do_match(rt, "POST", "/items");
    cr_assert_eq(m.r, &G1_ROUTES[1]);
    m = do_match(rt, "GET", "/healthz");
    cr_assert_eq(m.r, &G2_ROUTES[0]);
    /* no prefix or suffix matching of plain paths */
    cr_assert_null(do_match(rt, "GET", "/item").r);
    cr_assert_null(do_match(rt, "GET", "/items/").r);
    cr_assert_null(do_match(rt, "GET", "/healthzz").r);
    cr_assert_null(do_match(rt, "GET", "/HEALTHZ").r);
    router_free(rt);
}

Test(router, id_segment_fills_id)
{
    router *rt = build(&GROUPS);
    match m = do_match(rt, "GET", "/items/abc123");
    cr_assert_eq(m.r, &G1_ROUTES[2]);
    cr_assert_str_eq(m.id, "abc123");
    m = do_match(rt, "DELETE", "/items/z");
    cr_assert_eq(m.r, &G1_ROUTES[3]);
    cr_assert_str_eq(m.id, "z");
    /* exactly idlen-1 bytes (15) still fit */
    m = do_match(rt, "GET", "/items/123456789012345");
    cr_assert_eq(m.r, &G1_ROUTES[2]);
    cr_assert_str_eq(m.id, "123456789012345");
    router_free(rt);
}

Test(router, bad_id_segments_do_not_match)
{
    router *rt = build(&GROUPS);
    /* "/items/" is neither /items nor an item: empty id */
    match m = do_match(rt, "GET", "/items/");
    cr_assert_null(m.r);
    cr_assert_str_eq(m.allow, "");
    cr_assert_str_eq(m.id, "");
    /* 16 bytes do not fit 16 with the NUL */
    m = do_match(rt, "GET", "/items/1234567890123456");
    cr_assert_null(m.r);
    cr_assert_str_eq(m.allow, "");
    cr_assert_str_eq(m.id, "");
    /* a '/' inside the segment */
    m = do_match(rt, "GET", "/items/a/b");
    cr_assert_null(m.r);
    cr_assert_str_eq(m.allow, "");
    cr_assert_str_eq(m.id, "");
    /* the prefix must match exactly */
    cr_assert_null(do_match(rt, "GET", "/itemsX/a").r);
    router_free(rt);
}

Test(router, head_matches_get)
{
    router *rt = build(&GROUPS);
    match m = do_match(rt, "HEAD", "/items");
    cr_assert_eq(m.r, &G1_ROUTES[0]);
    m = do_match(rt, "HEAD", "/items/q7");
    cr_assert_eq(m.r, &G1_ROUTES[2]);
    cr_assert_str_eq(m.id, "q7");
    /* HEAD matches only GET routes, not any method */
    static const route ONLY_POST[] = {{"POST", "/p", h_items_post, "post"}};
    static const http_group GP = {.name = "p", .routes = ONLY_POST, .nroutes = 1};
    static const http_group *const VP[] = {&GP};
    static const http_groups P = {VP, 1};
    router *rp = build(&P);
    m = do_match(rp, "HEAD", "/p");
    cr_assert_null(m.r);
    cr_assert_str_eq(m.allow, "POST");
    router_free(rp);
    router_free(rt);
}

Test(router, other_method_gives_allow_list_in_table_order)
{
    router *rt = build(&GROUPS);
    /* /items/{id}: GET, DELETE (g1), then GET again (g2): no duplicate */
    match m = do_match(rt, "PUT", "/items/42");
    cr_assert_null(m.r);
    cr_assert_str_eq(m.allow, "GET, DELETE");
    cr_assert_str_eq(m.id, "", "a miss leaves no id behind");
    m = do_match(rt, "DELETE", "/items");
    cr_assert_null(m.r);
    cr_assert_str_eq(m.allow, "GET, POST");
    /* across groups */
    m = do_match(rt, "POST", "/healthz");
    cr_assert_null(m.r);
    cr_assert_str_eq(m.allow, "GET, PUT");
    router_free(rt);
}

Test(router, unknown_path_gives_empty_allow)
{
    router *rt = build(&GROUPS);
    match m = do_match(rt, "GET", "/nope");
    cr_assert_null(m.r);
    cr_assert_str_eq(m.allow, "");
    cr_assert_str_eq(m.id, "");
    m = do_match(rt, "DELETE", "/");
    cr_assert_null(m.r);
    cr_assert_str_eq(m.allow, "");
    router_free(rt);
}

Test(router, first_route_of_the_table_wins)
{
    router *rt = build(&GROUPS);
    /* GET /items/{id} is in both groups: g1's comes first */
    match m = do_match(rt, "GET", "/items/7");
    cr_assert_eq(m.r->fn, h_item_get);
    router_free(rt);
}

Test(router, index_group_and_all_follow_the_groups_order)
{
    router *rt = build(&GROUPS);
    size_t n = 0;
    const route *const *all = router_all(rt, &n);
    cr_assert_eq(n, 7);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(all[i], &G1_ROUTES[i], "route %zu", i);
        cr_assert_eq(router_index(rt, &G1_ROUTES[i]), i);
        cr_assert_eq(router_group(rt, i), 0);
    }
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(all[4 + i], &G2_ROUTES[i], "route %zu", 4 + i);
        cr_assert_eq(router_index(rt, &G2_ROUTES[i]), 4 + i);
        cr_assert_eq(router_group(rt, 4 + i), 1);
    }
    /* a route of no group: the count */
    static const route STRAY = {"GET", "/stray", h_health, "stray"};
    cr_assert_eq(router_index(rt, &STRAY), 7);
    /* a match returns a pointer into the table: its index is the route's */
    match m = do_match(rt, "PUT", "/healthz");
    cr_assert_eq(router_index(rt, m.r), 6);
    cr_assert_eq(router_group(rt, router_index(rt, m.r)), 1);
    router_free(rt);

    /* the other order of groups: the table follows it */
    static const http_group *const REV[] = {&G2, &G1};
    static const http_groups R = {REV, 2};
    rt = build(&R);
    all = router_all(rt, &n);
    cr_assert_eq(n, 7);
    cr_assert_eq(all[0], &G2_ROUTES[0]);
    cr_assert_eq(all[3], &G1_ROUTES[0]);
    cr_assert_eq(router_group(rt, 2), 0);
    cr_assert_eq(router_group(rt, 3), 1);
    cr_assert_eq(router_index(rt, &G1_ROUTES[3]), 6);
    /* now g2's shadowing GET comes first */
    cr_assert_eq(do_match(rt, "GET", "/items/7").r->fn, h_dup_get);
    router_free(rt);
}

Test(router, empty_groups_give_an_empty_table)
{
    static const http_group EMPTY = {.name = "empty", .routes = NULL, .nroutes = 0};
    static const http_group *const V[] = {&EMPTY};
    static const http_groups E = {V, 1};
    router *rt = build(&E);
    size_t n = 99;
    router_all(rt, &n);
    cr_assert_eq(n, 0);
    cr_assert_null(do_match(rt, "GET", "/").r);
    router_free(rt);
    router_free(NULL);
}

Test(router, truncated_allow_stays_terminated)
{
    router *rt = build(&GROUPS);
    char allow[6], id[8];
    memset(allow, 'x', sizeof(allow));
    cr_assert_null(router_match(rt, "PATCH", "/items/1", allow, sizeof(allow), id, sizeof(id)));
    cr_assert_eq(strnlen(allow, sizeof(allow)), sizeof(allow) - 1);
    cr_assert_eq(strncmp(allow, "GET, ", 5), 0);
    router_free(rt);
}

/* ---- the real table ---- */

Test(router, real_table_has_unique_routes_with_lessons)
{
    const http_groups *g = handlers_all();
    router *rt = build(g);
    size_t n = 0, total = 0;
    const route *const *all = router_all(rt, &n);
    for (size_t i = 0; i < g->n; i++)
        total += g->v[i]->nroutes;
    cr_assert_eq(n, total);
    cr_assert_gt(n, 10, "the real table has every endpoint");
    for (size_t i = 0; i < n; i++) {
        const route *r = all[i];
        cr_assert_not_null(r->method);
        cr_assert_not_null(r->path);
        cr_assert_not_null(r->fn, "%s %s has no handler", r->method, r->path);
        cr_assert_eq(r->path[0], '/', "%s", r->path);
        cr_assert(r->lesson && r->lesson[0], "%s %s has no lesson", r->method, r->path);
        for (size_t j = i + 1; j < n; j++)
            cr_assert(strcmp(r->method, all[j]->method) || strcmp(r->path, all[j]->path),
                      "%s %s is routed twice (%zu, %zu)", r->method, r->path, i, j);
        /* every route is reachable: its own method and path find it (with
         * {id} replaced by a real segment) */
        char path[256], allow[64], id[64];
        const char *brace = strstr(r->path, "{id}");
        if (brace)
            snprintf(path, sizeof(path), "%.*sabc", (int)(brace - r->path), r->path);
        else
            snprintf(path, sizeof(path), "%s", r->path);
        const route *got = router_match(rt, r->method, path, allow, sizeof(allow), id, sizeof(id));
        cr_assert_eq(got, r, "%s %s matches route %zu", r->method, path, router_index(rt, got));
        cr_assert_str_eq(id, brace ? "abc" : "");
    }
    router_free(rt);
}

/* A {id} route that fits the path but not the method must not leave its id
 * behind when a later exact route of the table matches. */
static const route G3_ROUTES[] = {
    {"GET", "/x/{id}", h_item_get, "one x"},
    {"POST", "/x/new", h_items_post, "make an x"},
};
static const http_group G3 = {.name = "g3", .routes = G3_ROUTES, .nroutes = 2};
static const http_group *const ONLY3[] = {&G3};

Test(router, exact_match_after_an_id_route_has_no_id)
{
    http_groups g = {ONLY3, 1};
    router *rt = build(&g);
    match m = do_match(rt, "POST", "/x/new");
    cr_assert_eq(m.r, &G3_ROUTES[1]);
    cr_assert_str_eq(m.id, "", "the GET /x/{id} route left \"%s\" behind", m.id);
    router_free(rt);
}
