/*
 * The node's API and dashboard routes on its HTTP server
 * (docs/observability.md), and the local answer Node.Observe carries to
 * other nodes.
 */
#ifndef MT_API_ROUTES_H
#define MT_API_ROUTES_H

#include "http.h"

/* Registers /api/... and the dashboard's files on s; false on OOM or a
 * full table. */
bool mt_api_routes_add(mt_http_server *s);

/* This node's answer for an API path that concerns it alone ("/api/node"):
 * JSON in reply (404 for a path it does not serve, 503 when the runtime
 * is not running); reply->body NULL on OOM. */
void mt_api_local(const char *path, mt_http_reply *reply);
/* mt_api_local in the shape Node.Observe asks for (an mt_observe_source of
 * cluster.h), registered by manta_init. */
void mt_api_observe(const char *path, int *status, const char **content_type,
                    char **body, size_t *len);

#endif
