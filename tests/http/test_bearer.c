/*
 * test_bearer.c - reading "Authorization: Bearer <token>" (http/bearer.h):
 * the shapes RFC 6750 allows, and everything else refused.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "bearer.h"

static int parse(const char *v, char *out)
{
    const char *tok = NULL;
    size_t len = 0;
    int rc = bearer_parse(v, strlen(v), &tok, &len);
    if (rc == 0) {
        memcpy(out, tok, len);
        out[len] = '\0';
    }
    return rc;
}

Test(bearer, good_shapes)
{
    char t[128];
    const char *in[][2] = {
        {"Bearer abc", "abc"},
        {"bearer abc", "abc"},
        {"BEARER abc", "abc"},
        {"Bearer   abc", "abc"},
        {"Bearer abc  ", "abc"},
        {"Bearer abc\t", "abc"},
        {"Bearer a-b.c_d~e+f/g", "a-b.c_d~e+f/g"},
        {"Bearer dGVzdA==", "dGVzdA=="},
        {"Bearer 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
    };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        cr_assert_eq(parse(in[i][0], t), 0, "%s", in[i][0]);
        cr_assert_str_eq(t, in[i][1], "%s", in[i][0]);
    }
}

Test(bearer, everything_else_is_refused)
{
    char t[128];
    const char *bad[] = {"",          "Bearer",     "Bearer ",     "Bearer  ",  "Bearerabc",
                         "Basic abc", "Bearer a b", "Bearer a=b",  "Bearer =",  "Bearer a\"",
                         " Bearer a", "Bearer a,b", "Bearer\tabc", "Bearer a;", "Bearer é"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(parse(bad[i], t), -1, "'%s'", bad[i]);
    const char *tok;
    size_t len;
    cr_assert_eq(bearer_parse(NULL, 0, &tok, &len), -1);
    cr_assert_eq(bearer_parse("Bearer abc", 7, &tok, &len), -1, "only n bytes are read");
    cr_assert_eq(bearer_parse("Bearer abc", 8, &tok, &len), 0);
    cr_assert_eq(len, 1);
    cr_assert_eq(bearer_parse("Bearer abc", 10, &tok, &len), 0);
    const char nul[] = "Bearer a\0b";
    cr_assert_eq(bearer_parse(nul, sizeof(nul) - 1, &tok, &len), -1, "a NUL is not a token byte");
}
