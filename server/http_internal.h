/*
 * http_internal.h - the parts of http.c that only server.c uses.
 */
#ifndef IOCPU_HTTP_INTERNAL_H
#define IOCPU_HTTP_INTERNAL_H

#include <microhttpd.h>

#include "app.h"
#include "http.h"

/* Request bodies above this get 413; one that goes on past HTTP_BODY_DROP
 * (chunked, with no Content-Length to refuse it up front) is cut off. */
#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_BODY_DROP (16 * HTTP_BODY_MAX)

enum MHD_Result http_internal_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                         const char *method, const char *version,
                                         const char *upload, size_t *upload_size, void **con_cls);
void http_internal_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                                enum MHD_RequestTerminationCode toe);
/* MHD_OPTION_NOTIFY_CONNECTION: a connection's own state (http_conn.c). */
void http_internal_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                                 enum MHD_ConnectionNotificationCode code);
/* The client of a suspended request hung up: the request ends (aborted). */
void http_internal_client_gone(http_req *r);
/* The request's connection state is gone (MHD closes the connection). */
void http_internal_detach(http_req *r);
/* Resumes a suspended request (no-op otherwise). */
void http_internal_resume(http_req *r);
/* Drain deadline: 503 to every request still waiting, streams ended. */
void http_internal_expire_all(app *a);
/* Marks every request aborted and resumes the suspended ones (shutdown). */
void http_internal_abort_all(app *a);

#endif
