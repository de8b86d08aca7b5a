/*
 * headscreen.h - a request's head (request line and headers) judged by
 * prescreen() before libmicrohttpd parses it, also when it arrives in pieces.
 *
 * The first piece is peeked (MSG_PEEK) before libmicrohttpd reads it: the
 * loop dispatches socket events before it runs libmicrohttpd (loop.c), so
 * a piece is normally still in the socket when its event is handled. Two
 * things can defeat that: a piece that arrives between the poll and
 * libmicrohttpd's run (it reads it unseen), and a pipelining client (it
 * reads the next request with the last one). Peeked bytes then start in the
 * middle of a request, and judging them would refuse a good one. So a head
 * is judged only from where it is known to start: positions in the
 * connection's byte stream, where libmicrohttpd has read to (TCP_INFO's
 * bytes received less the bytes unread) against where the request must
 * begin (0 on a new connection, then each request's head and declared body
 * after the last). Reading the position costs three system calls, paid only
 * when a head is not passed at first sight; a request whose start is not
 * known (after a chunked body, or a piece read unseen) is left to
 * libmicrohttpd (docs/limits.md), and http.lost_heads counts it.
 *
 * A head that is incomplete at first sight is kept, and each later piece is
 * found by position and added, until the head is complete, judged, or longer
 * than libmicrohttpd's buffer. It costs its bytes (at most --conn-memory + 1)
 * only while it is incomplete; a head that comes whole costs nothing.
 * Threads: loop thread only.
 */
#ifndef IOCPU_HEADSCREEN_H
#define IOCPU_HEADSCREEN_H

#include <stddef.h>
#include <stdint.h>

#include "prescreen.h"

typedef struct headscreen {
    char *buf;           /* the head so far while it comes in pieces, else NULL */
    size_t len;          /* bytes in buf */
    uint64_t start;      /* the position of its first byte in the connection's stream */
    uint64_t next;       /* where the next request begins, if next_known */
    unsigned next_known; /* 1 from the start of a connection until a framing is unknown */
} headscreen;

/* What a look at the socket found. */
typedef enum headscreen_verdict {
    HEAD_NOTHING, /* no byte in the socket */
    HEAD_PASS,    /* complete and fine, or nothing more will be judged */
    HEAD_PENDING, /* fine so far, more to come: look again at the next bytes */
    HEAD_REFUSE,  /* *status and detail say why */
    HEAD_LOST,    /* a piece was read before it was seen: left to libmicrohttpd */
} headscreen_verdict;

/* Bytes of a new request are in socket fd (peek: cap bytes of scratch). */
headscreen_verdict headscreen_first(headscreen *hs, int fd, char *peek, size_t cap,
                                    const prescreen_limits *lim, unsigned *status, char *detail,
                                    size_t len);
/* More bytes of a head headscreen_first() left HEAD_PENDING. */
headscreen_verdict headscreen_more(headscreen *hs, int fd, char *peek, size_t cap,
                                   const prescreen_limits *lim, unsigned *status, char *detail,
                                   size_t len);
/* Forgets the head kept (it was judged, or the connection ends). */
void headscreen_reset(headscreen *hs);
/* libmicrohttpd has the request's headers while a head was kept: where the
 * next request begins is no longer known. */
void headscreen_overtaken(headscreen *hs);

#endif
