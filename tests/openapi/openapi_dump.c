/*
 * openapi_dump.c - prints the document a real iocpu server serves at
 * /openapi.json (default configuration, port 0) to stdout, for the OpenAPI
 * validator test. Exits non-zero when the server or the request fails.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>

#include "config.h"
#include "handlers.h"
#include "server.h"

static void *run(void *s)
{
    server_run(s);
    return NULL;
}

static size_t out(char *data, size_t size, size_t n, void *arg)
{
    return fwrite(data, size, n, arg) * size;
}

int main(void)
{
    config cfg;
    config_defaults(&cfg);
    cfg.port = 0;
    server *s;
    if (server_new(&s, &cfg, handlers_all()) < 0) {
        fprintf(stderr, "openapi_dump: cannot start a server\n");
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, run, s);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/openapi.json", server_port(s));
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, out);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, stdout);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    server_stop(s);
    pthread_join(th, NULL);
    server_free(s);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "openapi_dump: GET /openapi.json: %s, status %ld\n", curl_easy_strerror(rc),
                status);
        return 1;
    }
    return 0;
}
