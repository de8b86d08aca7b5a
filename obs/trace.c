/*
 * trace.c - see trace.h.
 */
#define _GNU_SOURCE
#include "trace.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* --- ids --------------------------------------------------------------------- */

static _Thread_local uint64_t rng[4];
static _Thread_local int rng_ready;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64: spreads a fallback seed over the state */
static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void seed(void)
{
    if (getrandom(rng, sizeof(rng), 0) != (ssize_t)sizeof(rng)) {
        /* no getrandom (very old kernel): time, thread and address, still distinct */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        x ^= (uint64_t)gettid() << 32 ^ (uint64_t)(uintptr_t)&rng;
        for (int i = 0; i < 4; i++)
            rng[i] = splitmix(&x);
    }
    if (!(rng[0] | rng[1] | rng[2] | rng[3])) rng[0] = 1; /* xoshiro's one bad state */
    rng_ready = 1;
}

/* xoshiro256** (Blackman and Vigna) */
static uint64_t next64(void)
{
    if (!rng_ready) seed();
    uint64_t r = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return r;
}

void trace_random(uint8_t *out, size_t n)
{
    while (n) {
        uint64_t r = next64();
        size_t k = n < 8 ? n : 8;
        memcpy(out, &r, k);
        out += k;
        n -= k;
    }
}

static int all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* A random id that is not all zero (which would be invalid). */
static void new_id(uint8_t *out, size_t n)
{
    do
        trace_random(out, n);
    while (all_zero(out, n));
}

/* --- the header ------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* uppercase too: the spec's hex is lowercase */
}

/* n bytes from 2n lowercase hex characters at s. 0 or -1. */
static int unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int trace_parse(const char *v, size_t n, trace_ctx *t)
{
    uint8_t version, id[TRACE_ID_BYTES], parent[TRACE_SPAN_BYTES], flags;
    if (!v || n < TRACEPARENT_LEN) return -1;
    if (unhex(v, &version, 1) < 0 || version == 0xff) return -1;
    if (version == 0 && n != TRACEPARENT_LEN) return -1;
    if (n > TRACEPARENT_LEN && v[TRACEPARENT_LEN] != '-') return -1; /* a later version's fields */
    if (v[2] != '-' || v[35] != '-' || v[52] != '-') return -1;
    if (unhex(v + 3, id, sizeof(id)) < 0 || unhex(v + 36, parent, sizeof(parent)) < 0 ||
        unhex(v + 53, &flags, 1) < 0)
        return -1;
    if (all_zero(id, sizeof(id)) || all_zero(parent, sizeof(parent))) return -1;
    memcpy(t->trace_id, id, sizeof(id));
    memcpy(t->parent_id, parent, sizeof(parent));
    t->flags = flags & TRACE_FLAG_SAMPLED;
    return 0;
}

int trace_begin(trace_ctx *t, const char *header, size_t n)
{
    int continued = header && trace_parse(header, n, t) == 0;
    if (!continued) {
        new_id(t->trace_id, sizeof(t->trace_id));
        memset(t->parent_id, 0, sizeof(t->parent_id));
        t->flags = TRACE_FLAG_SAMPLED;
    }
    new_id(t->span_id, sizeof(t->span_id));
    return continued;
}

void trace_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void trace_format(const trace_ctx *t, char out[TRACEPARENT_LEN + 1])
{
    out[0] = '0'; /* version 00 */
    out[1] = '0';
    out[2] = '-';
    trace_hex(t->trace_id, sizeof(t->trace_id), out + 3);
    out[35] = '-';
    trace_hex(t->span_id, sizeof(t->span_id), out + 36);
    out[52] = '-';
    trace_hex(&t->flags, 1, out + 53);
}

void trace_child(const trace_ctx *t, trace_ctx *child, char out[TRACEPARENT_LEN + 1])
{
    trace_ctx c = *t;
    memcpy(c.parent_id, t->span_id, sizeof(c.parent_id));
    new_id(c.span_id, sizeof(c.span_id));
    *child = c;
    if (out) trace_format(child, out);
}

int trace_valid(const trace_ctx *t)
{
    return !all_zero(t->trace_id, sizeof(t->trace_id));
}
