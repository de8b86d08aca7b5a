/*
 * prom_check.c - see prom_check.h. Grammar (text format 0.0.4):
 *   line    = comment | sample | ""
 *   comment = "# HELP " name " " text | "# TYPE " name " " type | "#" anything
 *   sample  = name [ "{" [ label { "," label } [","] ] "}" ] " " value [ " " timestamp ]
 *   label   = lname "=" '"' { char | "\\\\" | "\\\"" | "\\n" } '"'
 */
#include "prom_check.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t len, int line,
                                                      const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, len, "line %d: ", line);
    va_start(ap, fmt);
    vsnprintf(err + n, len - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Length of a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name (no ':') at s. */
static size_t name_len(const char *s, int colon)
{
    size_t i = 0;
    while (isalpha((unsigned char)s[i]) || s[i] == '_' || (colon && s[i] == ':') ||
           (i > 0 && isdigit((unsigned char)s[i])))
        i++;
    return i;
}

/* A Go ParseFloat-style value: +Inf, -Inf, Inf, NaN or a decimal float. */
static int parse_value(const char *s, size_t len, double *out)
{
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp)) return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (!strcmp(tmp, "+Inf") || !strcmp(tmp, "Inf")) {
        *out = INFINITY;
        return 0;
    }
    if (!strcmp(tmp, "-Inf")) {
        *out = -INFINITY;
        return 0;
    }
    if (!strcmp(tmp, "NaN")) {
        *out = NAN;
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789+-.eE", tmp[i])) return -1;
    char *end;
    *out = strtod(tmp, &end);
    return *end == '\0' ? 0 : -1;
}

static prom_family_info *family(prom_doc *d, const char *name)
{
    for (size_t i = 0; i < d->nf; i++)
        if (!strcmp(d->f[i].name, name)) return &d->f[i];
    return NULL;
}

static prom_family_info *add_family(prom_doc *d, const char *name)
{
    d->f = realloc(d->f, (d->nf + 1) * sizeof(*d->f));
    prom_family_info *f = &d->f[d->nf++];
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    return f;
}

/* The family a sample belongs to: histogram/summary suffixes map to their base. */
static const char *family_of(prom_doc *d, const char *name, char *base, size_t len)
{
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    size_t n = strlen(name);
    for (size_t i = 0; i < 3; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && !strcmp(name + n - k, suffixes[i])) {
            snprintf(base, len, "%.*s", (int)(n - k), name);
            prom_family_info *f = family(d, base);
            if (f && (!strcmp(f->type, "histogram") || !strcmp(f->type, "summary"))) return base;
        }
    }
    snprintf(base, len, "%s", name);
    return base;
}

static int parse_comment(prom_doc *d, const char *line, int ln, const char **current, char *err,
                         size_t errlen)
{
    int help = !strncmp(line, "# HELP ", 7), type = !strncmp(line, "# TYPE ", 7);
    if (!help && !type) return 0; /* a plain comment */
    const char *name = line + 7;
    size_t nl = name_len(name, 1);
    if (nl == 0 || nl >= 128 || name[nl] != ' ')
        return fail(err, errlen, ln, "bad metric name in '%s'", line);
    char fname[128];
    snprintf(fname, sizeof(fname), "%.*s", (int)nl, name);
    const char *rest = name + nl + 1;
    prom_family_info *f = family(d, fname);
    if (f && (!*current || strcmp(*current, fname)))
        return fail(err, errlen, ln, "%s: metadata after the family's group ended", fname);
    if (!f) f = add_family(d, fname);
    *current = f->name;
    if (help) {
        if (f->has_help++) return fail(err, errlen, ln, "%s: second # HELP", fname);
        for (const char *p = rest; *p; p++)
            if (*p == '\\' && p[1] != '\\' && p[1] != 'n')
                return fail(err, errlen, ln, "%s: bad escape in HELP", fname);
        return 0;
    }
    if (f->type[0]) return fail(err, errlen, ln, "%s: second # TYPE", fname);
    for (size_t i = 0; i < d->n; i++) {
        char base[128];
        if (!strcmp(family_of(d, d->s[i].name, base, sizeof(base)), fname))
            return fail(err, errlen, ln, "%s: # TYPE after its samples", fname);
    }
    static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
    for (size_t i = 0; i < 5; i++)
        if (!strcmp(rest, types[i])) {
            snprintf(f->type, sizeof(f->type), "%s", rest);
            return 0;
        }
    return fail(err, errlen, ln, "%s: unknown type '%s'", fname, rest);
}

static int parse_labels(const char **pp, char *out, size_t outlen, int ln, char *err, size_t errlen)
{
    const char *p = *pp + 1; /* after '{' */
    const char *start = p;
    char seen[16][64];
    int nseen = 0;
    while (*p != '}') {
        size_t nl = name_len(p, 0);
        if (nl == 0 || nl >= 64) return fail(err, errlen, ln, "bad label name at '%s'", p);
        for (int i = 0; i < nseen; i++)
            if (strlen(seen[i]) == nl && !strncmp(seen[i], p, nl))
                return fail(err, errlen, ln, "label %.*s repeated", (int)nl, p);
        if (nseen < 16) snprintf(seen[nseen++], 64, "%.*s", (int)nl, p);
        p += nl;
        if (p[0] != '=' || p[1] != '"')
            return fail(err, errlen, ln, "expected =\" after a label name");
        p += 2;
        while (*p != '"') {
            if (*p == '\0' || *p == '\n') return fail(err, errlen, ln, "unterminated label value");
            if (*p == '\\') {
                if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                    return fail(err, errlen, ln, "bad escape in a label value");
                p++;
            }
            p++;
        }
        p++;
        if (*p == ',')
            p++;
        else if (*p != '}')
            return fail(err, errlen, ln, "expected , or } after a label");
    }
    size_t len = (size_t)(p - start);
    if (len && start[len - 1] == ',') len--;
    if (len >= outlen) return fail(err, errlen, ln, "labels too long");
    memcpy(out, start, len);
    out[len] = '\0';
    *pp = p + 1;
    return 0;
}

static int parse_sample(prom_doc *d, const char *line, int ln, const char **current, char *err,
                        size_t errlen)
{
    prom_series s;
    memset(&s, 0, sizeof(s));
    size_t nl = name_len(line, 1);
    if (nl == 0 || nl >= sizeof(s.name))
        return fail(err, errlen, ln, "bad metric name in '%s'", line);
    memcpy(s.name, line, nl);
    const char *p = line + nl;
    if (*p == '{' && parse_labels(&p, s.labels, sizeof(s.labels), ln, err, errlen) < 0) return -1;
    if (*p != ' ')
        return fail(err, errlen, ln, "expected one space before the value in '%s'", line);
    p++;
    const char *sp = strchr(p, ' ');
    size_t vlen = sp ? (size_t)(sp - p) : strlen(p);
    if (parse_value(p, vlen, &s.value) < 0) return fail(err, errlen, ln, "bad value in '%s'", line);
    if (sp) { /* optional timestamp: an int64 of milliseconds */
        const char *t = sp + 1;
        if (*t == '-') t++;
        if (!*t) return fail(err, errlen, ln, "bad timestamp in '%s'", line);
        for (; *t; t++)
            if (!isdigit((unsigned char)*t))
                return fail(err, errlen, ln, "bad timestamp in '%s'", line);
    }
    char base[128];
    family_of(d, s.name, base, sizeof(base));
    prom_family_info *f = family(d, base);
    if (f && (!*current || strcmp(*current, f->name)))
        return fail(err, errlen, ln, "%s: samples not grouped with their family", s.name);
    if (!f) f = add_family(d, base);
    *current = f->name;
    if (!strcmp(f->type, "counter") &&
        (strlen(s.name) < 6 || strcmp(s.name + strlen(s.name) - 6, "_total")))
        return fail(err, errlen, ln, "counter %s does not end in _total", s.name);
    if (!strcmp(f->type, "histogram") && !strcmp(s.name, base))
        return fail(err, errlen, ln, "histogram %s: bare sample without a suffix", s.name);
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->s[i].name, s.name) && !strcmp(d->s[i].labels, s.labels))
            return fail(err, errlen, ln, "duplicate series %s{%s}", s.name, s.labels);
    d->s = realloc(d->s, (d->n + 1) * sizeof(*d->s));
    d->s[d->n++] = s;
    return 0;
}

/* Labels of a bucket without its le, and its le value; -1 if it has no le. */
static int split_le(const char *labels, char *rest, size_t len, double *le)
{
    const char *p = strstr(labels, "le=\"");
    while (p && p != labels && p[-1] != ',')
        p = strstr(p + 1, "le=\"");
    if (!p) return -1;
    const char *v = p + 4, *q = strchr(v, '"');
    if (!q || parse_value(v, (size_t)(q - v), le) < 0) return -1;
    size_t pre = (size_t)(p - labels);
    const char *after = q + 1;
    if (*after == ',')
        after++;
    else if (pre > 0)
        pre--; /* drop the comma before le */
    snprintf(rest, len, "%.*s%s", (int)pre, labels, after);
    return 0;
}

static int check_histograms(const prom_doc *d, char *err, size_t errlen)
{
    for (size_t fi = 0; fi < d->nf; fi++) {
        const prom_family_info *f = &d->f[fi];
        if (strcmp(f->type, "histogram")) continue;
        char bucket[160], sum[160], count[160];
        snprintf(bucket, sizeof(bucket), "%s_bucket", f->name);
        snprintf(sum, sizeof(sum), "%s_sum", f->name);
        snprintf(count, sizeof(count), "%s_count", f->name);
        for (size_t i = 0; i < d->n; i++) { /* every _count has its buckets and _sum */
            if (strcmp(d->s[i].name, count)) continue;
            const char *lbl = d->s[i].labels;
            if (prom_value_of(d, sum, lbl) < 0)
                return fail(err, errlen, 0, "%s{%s}: no _sum", f->name, lbl);
            double prev_le = -INFINITY, prev = 0, inf = -1;
            int nb = 0;
            for (size_t k = 0; k < d->n; k++) {
                char rest[512];
                double le;
                if (strcmp(d->s[k].name, bucket) ||
                    split_le(d->s[k].labels, rest, sizeof(rest), &le) < 0 || strcmp(rest, lbl))
                    continue;
                nb++;
                if (!(le > prev_le))
                    return fail(err, errlen, 0, "%s{%s}: le not ascending", f->name, lbl);
                if (d->s[k].value < prev)
                    return fail(err, errlen, 0, "%s{%s}: buckets not cumulative", f->name, lbl);
                prev_le = le;
                prev = d->s[k].value;
                if (isinf(le)) inf = d->s[k].value;
            }
            if (nb == 0 || inf < 0)
                return fail(err, errlen, 0, "%s{%s}: no le=\"+Inf\" bucket", f->name, lbl);
            if (inf != d->s[i].value)
                return fail(err, errlen, 0, "%s{%s}: +Inf bucket %g != _count %g", f->name, lbl,
                            inf, d->s[i].value);
        }
        for (size_t i = 0; i < d->n; i++) { /* and every bucket set has a _count */
            char rest[512];
            double le;
            if (!strcmp(d->s[i].name, bucket) &&
                (split_le(d->s[i].labels, rest, sizeof(rest), &le) < 0 ||
                 prom_value_of(d, count, rest) < 0))
                return fail(err, errlen, 0, "%s{%s}: bucket without le or _count", f->name,
                            d->s[i].labels);
        }
    }
    return 0;
}

int prom_parse(const char *text, prom_doc *doc, char *err, size_t errlen)
{
    memset(doc, 0, sizeof(*doc));
    err[0] = '\0';
    size_t len = strlen(text);
    if (len == 0 || text[len - 1] != '\n')
        return fail(err, errlen, 0, "the text must end with a newline");
    const char *current = NULL; /* the family whose group is open */
    int ln = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = (size_t)(nl - p);
        char *line = strndup(p, n);
        ln++;
        int rc = 0;
        if (n == 0)
            rc = 0;
        else if (line[0] == '#')
            rc = parse_comment(doc, line, ln, &current, err, errlen);
        else
            rc = parse_sample(doc, line, ln, &current, err, errlen);
        free(line);
        if (rc < 0) return -1;
        p = nl + 1;
    }
    return check_histograms(doc, err, errlen);
}

void prom_doc_free(prom_doc *doc)
{
    free(doc->s);
    free(doc->f);
    memset(doc, 0, sizeof(*doc));
}

double prom_value_of(const prom_doc *doc, const char *name, const char *labels)
{
    for (size_t i = 0; i < doc->n; i++)
        if (!strcmp(doc->s[i].name, name) && !strcmp(doc->s[i].labels, labels))
            return doc->s[i].value;
    return -1;
}

const char *prom_type_of(const prom_doc *doc, const char *name)
{
    for (size_t i = 0; i < doc->nf; i++)
        if (!strcmp(doc->f[i].name, name)) return doc->f[i].type;
    return NULL;
}
