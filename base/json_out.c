/*
 * json_out.c - JSON serializer over jansson values.
 */
#include "json_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pyfloat.h"

void json_out_string(buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, len + 2);
    buf_append(b, "\"", 1);
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            buf_append(b, "\\\"", 2);
            break;
        case '\\':
            buf_append(b, "\\\\", 2);
            break;
        case '\n':
            buf_append(b, "\\n", 2);
            break;
        case '\r':
            buf_append(b, "\\r", 2);
            break;
        case '\t':
            buf_append(b, "\\t", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, u, 6);
        }
        }
    }
    buf_append(b, s + run, len - run);
    buf_append(b, "\"", 1);
}

void json_out_append(buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        int first = 1;
        buf_append(b, "{", 1);
        json_object_foreach((json_t *)v, key, val)
        {
            if (!first) buf_append(b, ",", 1);
            first = 0;
            json_out_string(b, key, strlen(key));
            buf_append(b, ":", 1);
            json_out_append(b, val);
        }
        buf_append(b, "}", 1);
        break;
    }
    case JSON_ARRAY: {
        buf_append(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) buf_append(b, ",", 1);
            json_out_append(b, json_array_get(v, i));
        }
        buf_append(b, "]", 1);
        break;
    }
    case JSON_STRING:
        json_out_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: {
        char t[PYFLOAT_MAX];
        size_t n = pyfloat_format(json_real_value(v), t);
        buf_append(b, t, n);
        break;
    }
    case JSON_TRUE:
        buf_append(b, "true", 4);
        break;
    case JSON_FALSE:
        buf_append(b, "false", 5);
        break;
    case JSON_NULL:
        buf_append(b, "null", 4);
        break;
    }
}

char *json_out(const json_t *v, size_t *len)
{
    buf b = BUF_INIT;
    json_out_append(&b, v);
    if (b.oom) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, len);
}

json_t *json_fmt_delay(const char *prefix, double d, const char *suffix)
{
    char f[PYFLOAT_MAX], s[160];
    pyfloat_format(d, f);
    snprintf(s, sizeof(s), "%s%s%s", prefix, f, suffix);
    return json_string(s);
}
