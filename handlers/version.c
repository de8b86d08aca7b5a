/*
 * version.c - GET /version: what this binary is and what it runs with.
 *
 * The version, commit and build type come from the build
 * (cmake/buildinfo.cmake); the libraries' versions are asked at run time
 * where the library can say (libmicrohttpd, jansson, libcurl), else taken from the
 * headers it was built against (hiredis). Runs on the loop thread.
 */
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>

#include "common.h"
#include "handlers.h"

/* Generated at build time (cmake/buildinfo.cmake). */
extern const char iocpu_build_version[];
extern const char iocpu_build_commit[];
extern const char iocpu_build_type[];

/* One entry per library linked into the binary (and one property each in
 * the VersionInfo schema of docs/openapi.json). */
static json_t *libraries(void)
{
    char hiredis[32];
    snprintf(hiredis, sizeof(hiredis), "%d.%d.%d", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
    json_t *o = json_object();
    json_object_set_new(o, "libmicrohttpd", json_string(MHD_get_version()));
    json_object_set_new(o, "jansson", json_string(jansson_version_str()));
    json_object_set_new(o, "hiredis", json_string(hiredis));
    json_object_set_new(o, "libcurl", json_string(curl_version_info(CURLVERSION_NOW)->version));
    return o;
}

static void version(http_req *r)
{
    http_respond_json(r, 200,
                      json_pack("{s:s,s:s,s:s,s:s,s:o}", "service", "iocpu", "version",
                                iocpu_build_version, "commit", iocpu_build_commit, "build_type",
                                iocpu_build_type, "libraries", libraries()));
}

static const route ROUTES[] = {
    {"GET", "/version", version,
     "what runs: the version, git commit and build type, and the libraries it runs with"},
};

const http_group version_group = {
    .name = "version",
    .routes = ROUTES,
    .nroutes = sizeof(ROUTES) / sizeof(ROUTES[0]),
};
