/*
 * owner.h - who may cancel a task: its owner token. Creating a task makes a
 * bearer secret (256 bits from the kernel's CSPRNG, the source of the task
 * ids), shown once in the 202 answer; the backend keeps only its SHA-256
 * (nettle). A DELETE presents the token; its hash is compared with the
 * stored one in constant time. The same hash-and-compare checks the admin
 * token (handlers/tasks.c), so no comparison of a secret depends on where
 * the bytes first differ, nor on their length.
 *
 * Pure functions: any thread.
 */
#ifndef IOCPU_OWNER_H
#define IOCPU_OWNER_H

#include <stddef.h>
#include <stdint.h>

#define TASK_OWNER_BYTES 32                         /* random bytes of a token */
#define TASK_OWNER_TOKEN_LEN (2 * TASK_OWNER_BYTES) /* as lowercase hex */
#define TASK_OWNER_HASH_BYTES 32                    /* SHA-256 */
#define TASK_OWNER_HASH_HEX (2 * TASK_OWNER_HASH_BYTES)

/* A new token (64 lowercase hex characters and a NUL) and its hash.
 * 0 or -errno (getrandom). */
int task_owner_new(char token[TASK_OWNER_TOKEN_LEN + 1], uint8_t hash[TASK_OWNER_HASH_BYTES]);

/* The SHA-256 of the len bytes of a presented token. */
void task_owner_hash(const char *token, size_t len, uint8_t hash[TASK_OWNER_HASH_BYTES]);

/* 1 when the two hashes are equal, else 0; in time independent of the bytes. */
int task_owner_eq(const uint8_t a[TASK_OWNER_HASH_BYTES], const uint8_t b[TASK_OWNER_HASH_BYTES]);

/* A hash as 64 lowercase hex characters and a NUL (how Redis keeps it). */
void task_owner_hex(const uint8_t hash[TASK_OWNER_HASH_BYTES], char hex[TASK_OWNER_HASH_HEX + 1]);
/* A hash read back from outside: 0 when text is exactly 64 lowercase hex
 * characters (then hash holds it), else -1. */
int task_owner_parse(const char *text, uint8_t hash[TASK_OWNER_HASH_BYTES]);

#endif
