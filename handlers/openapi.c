/*
 * openapi.c - docs/openapi.json adjusted to the running server (see openapi.h).
 */
#include "openapi.h"

#include <ctype.h>
#include <string.h>

/* Generated at build time from docs/openapi.json (cmake/embed.cmake). */
extern const char iocpu_openapi_json[];
extern const unsigned long iocpu_openapi_json_len;

/* The value of a limit flag in cfg, as JSON; NULL for an unknown flag. */
static json_t *limit_value(const config *cfg, const char *flag)
{
    if (!strcmp(flag, "max-delay")) return json_real(cfg->max_delay);
    if (!strcmp(flag, "max-list")) return json_integer(cfg->max_list);
    if (!strcmp(flag, "max-iterations")) return json_integer(cfg->max_iterations);
    if (!strcmp(flag, "max-ms")) return json_integer(cfg->max_ms);
    if (!strcmp(flag, "max-payload-bytes")) return json_integer(cfg->max_payload_bytes);
    if (!strcmp(flag, "fetch-max-inflight")) return json_integer(cfg->fetch_max_inflight);
    return NULL;
}

/* Sets maximum (maxItems for arrays) wherever a schema names its limit flag. */
static void apply_limits(json_t *v, const config *cfg)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) apply_limits(item, cfg);
        return;
    }
    if (!json_is_object(v)) return;
    const char *flag = json_string_value(json_object_get(v, "x-iocpu-limit"));
    json_t *value = flag ? limit_value(cfg, flag) : NULL;
    if (value) {
        const char *type = json_string_value(json_object_get(v, "type"));
        json_object_set_new(v, type && !strcmp(type, "array") ? "maxItems" : "maximum", value);
    }
    const char *key;
    json_t *child;
    json_object_foreach(v, key, child) apply_limits(child, cfg);
}

/* Each operation's description is the lesson of the route it documents. */
static void apply_lessons(json_t *paths, const route *const *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char method[16];
        size_t k = 0;
        for (; routes[i]->method[k] && k < sizeof(method) - 1; k++)
            method[k] = (char)tolower((unsigned char)routes[i]->method[k]);
        method[k] = '\0';
        json_t *op = json_object_get(json_object_get(paths, routes[i]->path), method);
        if (json_is_object(op) && routes[i]->lesson)
            json_object_set_new(op, "description", json_string(routes[i]->lesson));
    }
}

json_t *openapi_document(const config *cfg, const route *const *routes, size_t n)
{
    json_error_t err;
    json_t *doc = json_loadb(iocpu_openapi_json, iocpu_openapi_json_len, 0, &err);
    if (!doc) return NULL;
    apply_limits(doc, cfg);
    apply_lessons(json_object_get(doc, "paths"), routes, n);
    return doc;
}
