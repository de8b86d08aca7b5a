/*
 * prom.c - Prometheus text exposition format 0.0.4 (see prom.h).
 */
#include "prom.h"

#include <math.h>
#include <string.h>

#include "pyfloat.h"

/* HELP text escapes \ and newline; label values also escape ". */
static void escape(buf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(b, "\\\\");
        else if (*s == '\n')
            buf_puts(b, "\\n");
        else if (quote && *s == '"')
            buf_puts(b, "\\\"");
        else
            buf_append(b, s, 1);
    }
}

void prom_family(buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s ", name);
    escape(b, help, 0);
    buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

int prom_label(char *dst, size_t cap, const char *key, const char *value)
{
    buf v = BUF_INIT;
    escape(&v, value, 1);
    size_t len = strlen(dst);
    size_t need = len + (len ? 1 : 0) + strlen(key) + 3 + v.len;
    int rc = -1;
    if (!v.oom && need < cap) {
        char *p = dst + len;
        if (len) *p++ = ',';
        p += strlen(strcpy(p, key));
        *p++ = '=';
        *p++ = '"';
        memcpy(p, v.p ? v.p : "", v.len);
        p += v.len;
        *p++ = '"';
        *p = '\0';
        rc = 0;
    }
    buf_free(&v);
    return rc;
}

void prom_value(buf *b, double v)
{
    if (isnan(v)) {
        buf_puts(b, "NaN");
    } else if (isinf(v)) {
        buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    } else {
        char s[PYFLOAT_MAX];
        pyfloat_format(v, s);
        buf_puts(b, s);
    }
}

static void sample_head(buf *b, const char *name, const char *labels)
{
    buf_puts(b, name);
    if (labels && *labels) buf_printf(b, "{%s}", labels);
    buf_append(b, " ", 1);
}

void prom_sample(buf *b, const char *name, const char *labels, double value)
{
    sample_head(b, name, labels);
    prom_value(b, value);
    buf_append(b, "\n", 1);
}

void prom_sample_u64(buf *b, const char *name, const char *labels, uint64_t value)
{
    sample_head(b, name, labels);
    buf_printf(b, "%llu\n", (unsigned long long)value);
}

void prom_gauge(buf *b, const char *name, const char *help, double v)
{
    prom_family(b, name, "gauge", help);
    prom_sample(b, name, NULL, v);
}

void prom_gauge_u64(buf *b, const char *name, const char *help, uint64_t v)
{
    prom_family(b, name, "gauge", help);
    prom_sample_u64(b, name, NULL, v);
}

void prom_counter(buf *b, const char *name, const char *help, uint64_t v)
{
    prom_family(b, name, "counter", help);
    prom_sample_u64(b, name, NULL, v);
}
