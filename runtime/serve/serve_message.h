/*
 * An HTTP request as the value a Serve target receives, and the value it
 * returns as an HTTP response (docs/serve.md, "Requests and responses").
 * Pure: no sockets, no runtime; the ingress feeds it and the unit test
 * test_serve_message drives it directly.
 */
#ifndef MT_SERVE_MESSAGE_H
#define MT_SERVE_MESSAGE_H

#include "manta.h"

#include <stdbool.h>
#include <stddef.h>

/* A response ready to send. Everything malloc'd; free with
 * mt_serve_response_clear. */
typedef struct mt_serve_response {
  int status;
  char *content_type;
  char *body;
  size_t len;
  size_t nheaders;
  char **names, **values; /* extra headers, as the target gave them */
} mt_serve_response;

/*
 * The request value: a map {method, path, route, query, headers, body}, plus
 * json (the body decoded) when the Content-Type is application/json. query
 * and headers are maps of strings (taken here, even on failure; header names
 * in lower case). NULL with why when the JSON body is not JSON (the ingress
 * answers 400 with it) or memory runs out.
 */
manta_value *mt_serve_request_value(const char *method, const char *path,
                                    const char *route, manta_value *query,
                                    manta_value *headers, const void *body,
                                    size_t len, char *why, size_t why_size);

/* Adds name: value to a headers map as the request value holds it: the name
 * in lower case, a repeated header joined to the first with ", ". */
manta_err mt_serve_headers_add(manta_value *headers, const char *name,
                               const char *value);

/* The response for what a target returned (v may be an error value). false
 * only when memory runs out. */
bool mt_serve_response_from_value(const manta_value *v, mt_serve_response *r);

/* A plain-text response: status and "message\n". */
bool mt_serve_response_text(mt_serve_response *r, int status, const char *fmt,
                            ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Adds a header to a response (copied); false when memory runs out. */
bool mt_serve_response_add_header(mt_serve_response *r, const char *name,
                                  const char *value);

/* The HTTP status an error kind maps to (the table in docs/serve.md). */
int mt_serve_error_status(manta_err code);

void mt_serve_response_clear(mt_serve_response *r);

#endif
