/*
 * When the ingress runs a route's call inside libmicrohttpd's access
 * handler and answers it in the same pass (serve_ingress.c), and when it
 * runs it after the loop as usual (serve_pollers.c takes the turn over
 * from a poller whose call lasts). docs/serve.md, "Inline calls".
 */
#ifndef MT_SERVE_INLINE_H
#define MT_SERVE_INLINE_H

#include "serve_routes.h"

#include <stdbool.h>
#include <stdint.h>

/* The route's next call may run inline. */
bool mt_serve_inline_ok(mt_serve_dep *d);
/* A call run the usual way answered took_ns after its submission. */
void mt_serve_inline_learn(mt_serve_dep *d, int64_t took_ns);
/* A call ran inline for took_ns, blocked or not: a slow one sends the
 * route back to the usual way for longer each time. */
void mt_serve_inline_ran(mt_serve_dep *d, int64_t took_ns, bool blocked);

#endif
