/*
 * buf.h - a growable byte buffer (always NUL-terminated). Single-threaded.
 */
#ifndef IOCPU_BUF_H
#define IOCPU_BUF_H

#include <stddef.h>

typedef struct buf {
    char *p;
    size_t len, cap;
    int oom; /* set once an allocation failed; later appends are dropped */
} buf;

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

int buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *data, size_t n);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void buf_consume(buf *b, size_t n);
/* Hands the memory to the caller (free() it); the buffer is left empty. */
char *buf_steal(buf *b, size_t *len);
void buf_free(buf *b);

#endif
