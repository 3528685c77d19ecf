/*
 * Routes shared across a cluster (docs/serve.md, "Routes across the
 * cluster"): what is deployed through one node's ingress is announced to
 * the head, and every node's ingress follows the head's table, so each
 * serves every route. Runs while an ingress runs in a cluster; embedded
 * (no cluster) it does nothing.
 */
#ifndef MT_SERVE_SYNC_H
#define MT_SERVE_SYNC_H

#include "serve_routes.h"

/* Starts following the head (a thread polling it); nothing outside a
 * cluster or when already started. */
void mt_serve_sync_start(void);
void mt_serve_sync_stop(void);

/* Deploys (or redeploys) a checked spec here, taken, as
 * mt_serve_routes_put; when the sync runs, also announces it to the head
 * so every ingress serves it. */
manta_err mt_serve_sync_put(mt_serve_spec *spec, char *why, size_t why_size);
/* Deletes a route here and, when the sync runs, at the head (so every
 * ingress drops it). MANTA_ERR_NOT_FOUND when neither held it. */
manta_err mt_serve_sync_delete(const char *route);

#endif
