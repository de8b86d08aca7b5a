/*
 * faults.c - status code lists and the --inject-error flag (faults.h).
 */
#include "faults.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "numparse.h"

int faults_code_ok(long code)
{
    return code >= 200 && code <= 599;
}

/* A code from t[0..n): 3 digits, 200 to 599. */
static int code_of(const char *t, size_t n, unsigned *out)
{
    if (n != 3) return -1;
    long c = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9') return -1;
        c = c * 10 + (t[i] - '0');
    }
    if (!faults_code_ok(c)) return -1;
    *out = (unsigned)c;
    return 0;
}

/* A number from t[0..n) (strict syntax, numparse.h). */
static int number_of(const char *t, size_t n, double *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof(tmp)) return -1;
    memcpy(tmp, t, n);
    tmp[n] = '\0';
    return parse_double(tmp, out);
}

/* One "CODE[:WEIGHT]" item t[0..n) into l as item i. */
static int parse_item(const char *t, size_t n, faults_list *l, size_t i, char *msg, size_t len)
{
    const char *colon = memchr(t, ':', n);
    size_t cn = colon ? (size_t)(colon - t) : n;
    unsigned code;
    double w = 1;
    if (code_of(t, cn, &code) < 0) {
        snprintf(msg, len, "item %zu: the code must be 3 digits from 200 to 599", i);
        return -1;
    }
    if (colon && (number_of(colon + 1, n - cn - 1, &w) < 0 || w < 0)) {
        snprintf(msg, len, "item %zu: the weight after ':' must be a finite number >= 0", i);
        return -1;
    }
    for (size_t k = 0; k < i; k++)
        if (l->code[k] == code) {
            snprintf(msg, len, "item %zu: code %u is listed twice", i, code);
            return -1;
        }
    l->code[i] = code;
    l->weight[i] = w;
    return 0;
}

int faults_parse_list(const char *text, faults_list *out, char *msg, size_t len)
{
    faults_list l = {0};
    const char *t = text;
    for (;;) {
        const char *comma = strchr(t, ',');
        size_t n = comma ? (size_t)(comma - t) : strlen(t);
        if (l.n == FAULTS_MAX_CODES) {
            snprintf(msg, len, "at most %d codes", FAULTS_MAX_CODES);
            return -1;
        }
        if (parse_item(t, n, &l, l.n, msg, len) < 0) return -1;
        l.total += l.weight[l.n++];
        if (!comma) break;
        t = comma + 1;
    }
    if (!(l.total > 0) || !isfinite(l.total)) {
        snprintf(msg, len, "the weights must not all be 0");
        return -1;
    }
    *out = l;
    return 0;
}

unsigned faults_choose(const faults_list *l, double u)
{
    double x = u * l->total, acc = 0;
    for (size_t i = 0; i < l->n; i++) {
        acc += l->weight[i];
        if (x < acc) return l->code[i];
    }
    for (size_t i = l->n; i-- > 0;) /* rounding at the top: the last code that weighs */
        if (l->weight[i] > 0) return l->code[i];
    return l->code[0];
}

int faults_parse_rate(const char *text, double *rate, unsigned *code, char *msg, size_t len)
{
    const char *colon = strchr(text, ':');
    size_t rn = colon ? (size_t)(colon - text) : strlen(text);
    double r;
    unsigned c = 503;
    if (number_of(text, rn, &r) < 0 || !(r > 0 && r <= 1)) {
        snprintf(msg, len, "RATE must be a number in (0, 1]");
        return -1;
    }
    if (colon && (code_of(colon + 1, strlen(colon + 1), &c) < 0 || c < 400)) {
        snprintf(msg, len, "CODE must be 3 digits from 400 to 599");
        return -1;
    }
    *rate = r;
    *code = c;
    return 0;
}
