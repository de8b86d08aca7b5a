/*
 * faults.h - injected errors, the parsing side: a weighted list of status
 * codes (/status/200:0.9,503:0.1), the --inject-error flag (RATE[:CODE]),
 * and the choice of one code from a list given a uniform number.
 *
 * Pure functions.
 */
#ifndef IOCPU_FAULTS_H
#define IOCPU_FAULTS_H

#include <stddef.h>

/* Codes in one list, at most. */
#define FAULTS_MAX_CODES 16

typedef struct faults_list {
    size_t n;
    unsigned code[FAULTS_MAX_CODES];
    double weight[FAULTS_MAX_CODES]; /* finite, >= 0; their sum > 0 */
    double total;
} faults_list;

/* 1 when code may be answered: 200 to 599 (a 1xx is not a final answer). */
int faults_code_ok(long code);

/*
 * Parses "CODE[:WEIGHT][,CODE[:WEIGHT]]..." (1 to FAULTS_MAX_CODES items, each
 * code once; an item without a weight weighs 1; weights are finite, >= 0
 * and not all 0). 0, or -1 with the reason in msg[len].
 */
int faults_parse_list(const char *text, faults_list *out, char *msg, size_t len);

/* The code that u (uniform in [0, 1)) picks, each with its weight's share. */
unsigned faults_choose(const faults_list *l, double u);

/*
 * --inject-error: "RATE[:CODE]", RATE in (0, 1] (the share of requests
 * answered with the error), CODE 400 to 599 (503 when absent). 0, or -1 with
 * the reason in msg[len].
 */
int faults_parse_rate(const char *text, double *rate, unsigned *code, char *msg, size_t len);

#endif
