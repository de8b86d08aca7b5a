/*
 * owner.c - owner tokens (owner.h): CSPRNG bytes, SHA-256 and a
 * constant-time comparison, the last two from nettle.
 */
#define _GNU_SOURCE
#include "owner.h"

#include <errno.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

static const char HEX[] = "0123456789abcdef";

static void to_hex(const uint8_t *raw, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[raw[i] >> 4];
        out[2 * i + 1] = HEX[raw[i] & 15];
    }
    out[2 * n] = '\0';
}

int task_owner_new(char token[TASK_OWNER_TOKEN_LEN + 1], uint8_t hash[TASK_OWNER_HASH_BYTES])
{
    uint8_t raw[TASK_OWNER_BYTES];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t r = getrandom(raw + got, sizeof(raw) - got, 0);
        if (r < 0 && errno != EINTR) return -errno;
        if (r > 0) got += (size_t)r;
    }
    to_hex(raw, sizeof(raw), token);
    memset(raw, 0, sizeof(raw));
    task_owner_hash(token, TASK_OWNER_TOKEN_LEN, hash);
    return 0;
}

void task_owner_hash(const char *token, size_t len, uint8_t hash[TASK_OWNER_HASH_BYTES])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, (const uint8_t *)token);
    sha256_digest(&ctx, TASK_OWNER_HASH_BYTES, hash);
}

int task_owner_eq(const uint8_t a[TASK_OWNER_HASH_BYTES], const uint8_t b[TASK_OWNER_HASH_BYTES])
{
    return memeql_sec(a, b, TASK_OWNER_HASH_BYTES) != 0;
}

void task_owner_hex(const uint8_t hash[TASK_OWNER_HASH_BYTES], char hex[TASK_OWNER_HASH_HEX + 1])
{
    to_hex(hash, TASK_OWNER_HASH_BYTES, hex);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int task_owner_parse(const char *text, uint8_t hash[TASK_OWNER_HASH_BYTES])
{
    if (!text || strlen(text) != TASK_OWNER_HASH_HEX) return -1;
    for (size_t i = 0; i < TASK_OWNER_HASH_BYTES; i++) {
        int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        hash[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
