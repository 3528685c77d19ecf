/*
 * The ingress's admin routes under /-/ (docs/serve.md, "Admin API"), what
 * `manta serve deploy/status/delete` talk to:
 *   GET    /-/routes           the status (JSON list)
 *   PUT    /-/routes           deploy: a deployment, a list of them, or
 *                               {deployments: [...]}, as JSON or (with a
 *                               YAML Content-Type) YAML
 *   DELETE /-/routes/ROUTE     remove a route (/-/routes/echo -> /echo)
 * With a cluster token every admin request needs it (authorized false:
 * 401). Pure over the route table: the ingress passes the whole request.
 */
#ifndef MT_SERVE_ADMIN_H
#define MT_SERVE_ADMIN_H

#include "serve_message.h"

#include <stdbool.h>
#include <stddef.h>

/* Fills r; false only when memory runs out. */
bool mt_serve_admin(const char *method, const char *url, const char *type,
                    const char *body, size_t len, bool authorized,
                    mt_serve_response *r);

#endif
