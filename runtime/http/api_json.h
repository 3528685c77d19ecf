/*
 * The dashboard's JSON API (/api/, docs/observability.md): documents built
 * with Jansson from snapshots taken elsewhere, so that each builder is a
 * pure function a unit test can feed.
 *
 * api_json.c: one node's document (/api/node) and the run-time quantiles.
 * api_cluster.c: the cluster's document (/api/cluster and its slices),
 * from the head's status and every node's own document.
 * api_gather.c: asks the head and the nodes for those (gRPC, Node.Observe).
 * api_routes.c: the HTTP routes, and what Node.Observe answers.
 */
#ifndef MT_API_JSON_H
#define MT_API_JSON_H

#include "node_report.h"

#include <jansson.h>
#include <stdint.h>

/* The q-quantile (0 < q < 1) of a run-time histogram (per-bucket counts,
 * MT_RUN_BUCKETS + 1 of them, the last +Inf), in seconds, interpolated
 * linearly inside the bucket it falls in, as Prometheus's
 * histogram_quantile does; the largest finite bound when it falls in +Inf;
 * -1 when the histogram is empty. */
double mt_api_quantile(const uint64_t *bucket, double q);

/* A node id as the API writes it: 16 hex digits. */
void mt_api_node_id(uint64_t id, char out[17]);

/* This node's document; NULL when memory runs out. */
json_t *mt_api_node_json(const mt_node_report *r);

/* Sets key of o to the new value v; false when memory ran out (v is
 * released then, as Jansson's _new calls do). */
bool mt_api_set(json_t *o, const char *key, json_t *v);
/* Adds the new container v to o under key: v borrowed (o holds it), or
 * NULL when memory ran out. */
json_t *mt_api_child(json_t *o, const char *key, json_t *v);

/* j as compact JSON text (malloc'd, *len set), j released; NULL on OOM. */
char *mt_api_dump(json_t *j, size_t *len);

#endif
