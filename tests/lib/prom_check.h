/*
 * prom_check.h - a strict reader of the Prometheus text exposition format
 * 0.0.4 for tests: every line must be valid, families must be grouped with at
 * most one # HELP and # TYPE before their samples, series must be unique, and
 * histograms must be complete (cumulative _bucket series ending in le="+Inf",
 * equal to _count, plus _sum).
 */
#ifndef IOCPU_TEST_PROM_CHECK_H
#define IOCPU_TEST_PROM_CHECK_H

#include <stddef.h>

typedef struct prom_series {
    char name[128];
    char labels[512]; /* as written, without braces: a="x",b="y" */
    double value;
} prom_series;

typedef struct prom_family_info {
    char name[128];
    char type[16]; /* "" when no # TYPE line */
    int has_help;
} prom_family_info;

typedef struct prom_doc {
    prom_series *s;
    size_t n;
    prom_family_info *f;
    size_t nf;
} prom_doc;

/*
 * Parses and checks text. Returns 0, or -1 with the first problem (and its
 * line number) in err. doc is filled either way; free it with prom_doc_free.
 */
int prom_parse(const char *text, prom_doc *doc, char *err, size_t errlen);
void prom_doc_free(prom_doc *doc);

/* The value of series name{labels} (labels exactly as written, "" for none); -1 if absent. */
double prom_value_of(const prom_doc *doc, const char *name, const char *labels);
/* The family's type ("" if untyped), or NULL when there is no such family. */
const char *prom_type_of(const prom_doc *doc, const char *name);

#endif
