/*
 * fuzz_router.c - the router (http/router.c) over the server's route table: "<method>\n<path>" on
 * arbitrary bytes. A match is a route of that method (HEAD matches GET)
 * whose pattern fits the path; a {id} is one non-empty segment that fits
 * its buffer; a miss lists only methods of routes that fit the path.
 */
#include <string.h>

#include "fuzz.h"
#include "handlers.h"
#include "router.h"

#define ID_MAX 80

/* The server's route table, built once from every endpoint group. */
static const router *table(void)
{
    static router *rt;
    if (!rt && router_new(&rt, handlers_all()) < 0) abort();
    return rt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    char *nl = strchr(in, '\n');
    const char *method = in, *path = "";
    if (nl) {
        *nl = '\0';
        path = nl + 1;
    }
    char allow[64], id[ID_MAX];
    memset(allow, 'X', sizeof(allow));
    memset(id, 'X', sizeof(id));
    const route *rt = router_match(table(), method, path, allow, sizeof(allow), id, sizeof(id));
    FUZZ_CHECK(memchr(allow, '\0', sizeof(allow)) && memchr(id, '\0', sizeof(id)));
    if (rt) {
        FUZZ_CHECK(!strcmp(rt->method, method) ||
                   (!strcmp(method, "HEAD") && !strcmp(rt->method, "GET")));
        const char *brace = strstr(rt->path, "{id}");
        if (!brace) {
            FUZZ_CHECK(!strcmp(rt->path, path) && id[0] == '\0');
        } else {
            size_t pre = (size_t)(brace - rt->path);
            FUZZ_CHECK(!strncmp(rt->path, path, pre) && !strcmp(id, path + pre));
            FUZZ_CHECK(id[0] && !strchr(id, '/') && strlen(id) < ID_MAX);
        }
    } else {
        FUZZ_CHECK(id[0] == '\0');
        size_t n;
        const route *const *all = router_all(table(), &n);
        for (char *m = allow, *save = NULL; (m = strtok_r(m, ", ", &save)); m = NULL) {
            int found = 0;
            for (size_t i = 0; i < n; i++)
                found |= !strcmp(all[i]->method, m);
            FUZZ_CHECK(found);
        }
    }
    free(in);
    return 0;
}
