/*
 * fuzz_admit.c - the admission parsers on arbitrary bytes: the Host header
 * and the --allowed-hosts list (config/hostallow.c), and a body's
 * Content-Type (http/admit.c). Each reads only data[0..size); a Host parses
 * exactly when "*" admits it; a valid exact pattern admits itself; a parsed
 * name is lower case and at most 253 bytes; a Content-Type is 0 or 415, and
 * a refusal says why.
 */
#include <string.h>

#include "admit.h"
#include "fuzz.h"
#include "hostallow.h"

static void check_host(const char *in, size_t size)
{
    host_id h;
    int ok = host_parse(in, size, &h) == 0;
    FUZZ_CHECK(ok == hostallow_admits("*", "127.0.0.1", in, size));
    if (ok && h.kind == HOST_NAME) {
        size_t n = strlen(h.name);
        FUZZ_CHECK(n >= 1 && n <= 253);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(!(h.name[i] >= 'A' && h.name[i] <= 'Z'));
    }
    if (!ok) FUZZ_CHECK(!hostallow_admits("", "127.0.0.1", in, size));
}

static void check_list(const char *in, size_t size)
{
    char *list = malloc(size + 1);
    memcpy(list, in, size);
    list[size] = '\0';
    size_t n = strlen(list); /* a NUL ends the list, as it ends a flag's value */
    if (hostallow_list_ok(list)) {
        FUZZ_CHECK(n > 0);
        if (!strpbrk(list, ",*")) /* one exact pattern: the host it names passes */
            FUZZ_CHECK(hostallow_admits(list, "127.0.0.1", list, n));
        hostallow_admits(list, "0.0.0.0", "a.b", 3);
    }
    free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
    memcpy(in, data, size);
    check_host(in, size);
    check_list(in, size);
    char detail[128];
    memset(detail, 'X', sizeof(detail));
    unsigned st = admit_content_type(in, size, detail, sizeof(detail));
    FUZZ_CHECK(st == 0 || st == 415);
    if (st) FUZZ_CHECK(memchr(detail, '\0', sizeof(detail)) && detail[0] != '\0');
    free(in);
    return 0;
}
