/*
 * test_owner.c - owner tokens (tasks/owner.h): fresh 256-bit tokens whose
 * hash is what is kept, SHA-256 against a known answer, the constant-time
 * comparison, and the strict reading of a hash read back from outside.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "owner.h"

Test(owner, sha256_gives_the_known_answer)
{
    uint8_t h[TASK_OWNER_HASH_BYTES];
    char hex[TASK_OWNER_HASH_HEX + 1];
    task_owner_hash("abc", 3, h); /* FIPS 180-2, appendix B.1 */
    task_owner_hex(h, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    task_owner_hash("", 0, h);
    task_owner_hex(h, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(owner, new_tokens_are_fresh_hex_and_hashed)
{
    char a[TASK_OWNER_TOKEN_LEN + 1], b[TASK_OWNER_TOKEN_LEN + 1];
    uint8_t ha[TASK_OWNER_HASH_BYTES], hb[TASK_OWNER_HASH_BYTES], again[TASK_OWNER_HASH_BYTES];
    cr_assert_eq(task_owner_new(a, ha), 0);
    cr_assert_eq(task_owner_new(b, hb), 0);
    cr_assert_eq(strlen(a), 64);
    cr_assert_eq(strspn(a, "0123456789abcdef"), 64, "%s", a);
    cr_assert_str_neq(a, b);
    task_owner_hash(a, strlen(a), again);
    cr_assert(task_owner_eq(ha, again), "the hash kept is the token's");
    cr_assert_not(task_owner_eq(ha, hb));
    char hex[TASK_OWNER_HASH_HEX + 1];
    task_owner_hex(ha, hex);
    cr_assert_str_neq(hex, a, "the hash is not the token");
}

Test(owner, the_comparison_sees_every_byte)
{
    uint8_t a[TASK_OWNER_HASH_BYTES], b[TASK_OWNER_HASH_BYTES];
    for (size_t i = 0; i < sizeof(a); i++)
        a[i] = (uint8_t)(i * 7 + 1);
    memcpy(b, a, sizeof(a));
    cr_assert_eq(task_owner_eq(a, b), 1);
    for (size_t i = 0; i < sizeof(a); i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            cr_assert_eq(task_owner_eq(a, b), 0, "byte %zu bit %d", i, bit);
            b[i] ^= (uint8_t)(1u << bit);
        }
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    cr_assert_eq(task_owner_eq(a, b), 1);
}

Test(owner, a_hash_read_back_is_read_strictly)
{
    uint8_t h[TASK_OWNER_HASH_BYTES], back[TASK_OWNER_HASH_BYTES];
    char hex[TASK_OWNER_HASH_HEX + 1];
    task_owner_hash("x", 1, h);
    task_owner_hex(h, hex);
    cr_assert_eq(task_owner_parse(hex, back), 0);
    cr_assert_eq(memcmp(h, back, sizeof(h)), 0);
    char bad[TASK_OWNER_HASH_HEX + 2];
    const char *wrong[] = {"", "zz", "garbage", NULL};
    for (int i = 0; wrong[i]; i++)
        cr_assert_eq(task_owner_parse(wrong[i], back), -1, "%s", wrong[i]);
    cr_assert_eq(task_owner_parse(NULL, back), -1);
    strcpy(bad, hex);
    bad[63] = '\0'; /* one short */
    cr_assert_eq(task_owner_parse(bad, back), -1);
    snprintf(bad, sizeof(bad), "%s0", hex); /* one long */
    cr_assert_eq(task_owner_parse(bad, back), -1);
    strcpy(bad, hex);
    bad[10] = 'A'; /* upper case is not how it was written */
    cr_assert_eq(task_owner_parse(bad, back), -1);
    strcpy(bad, hex);
    bad[63] = 'g';
    cr_assert_eq(task_owner_parse(bad, back), -1);
}
