/*
 * fuzz_fetchallow.c - the --upstream-allow parser and the URL check of
 * /io/fetch (fetch/allow.c) on arbitrary bytes: the input's first line is the
 * list, the rest the URL. A list that parses has entries with a port and
 * lower-case names; a URL that passes goes only to addresses of entries with
 * its port, and the socket check agrees with them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "allow.h"
#include "fuzz.h"

static int listed(const fetch_allow *al, uint16_t port, const fetch_addr *a)
{
    for (size_t i = 0; i < al->n; i++)
        for (size_t k = 0; al->e[i].port == port && k < al->e[i].naddr; k++)
            if (al->e[i].addr[k].family == a->family &&
                !memcmp(al->e[i].addr[k].addr, a->addr, a->family == AF_INET ? 4 : 16))
                return 1;
    return 0;
}

static void check_list(const fetch_allow *al)
{
    FUZZ_CHECK(al->n >= 1 && al->n <= FETCH_ALLOW_MAX);
    for (size_t i = 0; i < al->n; i++) {
        FUZZ_CHECK(al->e[i].port >= 1);
        for (const char *c = al->e[i].name; *c; c++)
            FUZZ_CHECK(!(*c >= 'A' && *c <= 'Z'));
        FUZZ_CHECK(al->e[i].name[0] || al->e[i].naddr == 1);
    }
}

static void check_target(const fetch_allow *al, const fetch_target *t)
{
    FUZZ_CHECK(t->url && t->naddr >= 1);
    for (size_t i = 0; i < t->naddr; i++) {
        FUZZ_CHECK(listed(al, t->port, &t->addr[i]));
        struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(t->port)};
        struct sockaddr_in sa4 = {.sin_family = AF_INET, .sin_port = htons(t->port)};
        const struct sockaddr *sa = (const void *)&sa4;
        if (t->addr[i].family == AF_INET6) {
            memcpy(&sa6.sin6_addr, t->addr[i].addr, 16);
            sa = (const void *)&sa6;
        } else {
            memcpy(&sa4.sin_addr, t->addr[i].addr, 4);
        }
        FUZZ_CHECK(fetch_target_allows(t, sa));
        sa4.sin_port = sa6.sin6_port = htons((uint16_t)(t->port + 1));
        FUZZ_CHECK(!fetch_target_allows(t, sa)); /* the same address at another port */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n1 = nl ? (size_t)(nl - data) : size;
    size_t n2 = nl ? size - n1 - 1 : 0;
    char *list = malloc(n1 + 1), *url = malloc(n2 + 1);
    memcpy(list, data, n1);
    list[n1] = '\0';
    memcpy(url, nl ? nl + 1 : data, n2);
    url[n2] = '\0';
    fetch_allow al;
    if (fetch_allow_parse(list, &al) < 0) fetch_allow_default(8080, &al);
    check_list(&al);
    fetch_target t;
    char why[160];
    enum fetch_verdict v = fetch_target_check(&al, url, &t, why, sizeof(why));
    if (v == FETCH_URL_OK) {
        check_target(&al, &t);
        fetch_target_free(&t);
    } else {
        FUZZ_CHECK(t.url == NULL && why[0]);
    }
    free(list);
    free(url);
    return 0;
}
