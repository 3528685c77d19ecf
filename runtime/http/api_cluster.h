/* The cluster's API document (api_json.h says where the parts live). */
#ifndef MT_API_CLUSTER_H
#define MT_API_CLUSTER_H

#include "api_json.h"
#include "manta/v1/cluster_wire.pb-c.h"

/* At most this many errors in the cluster's document, newest first. */
#define MT_API_MAX_ERRORS 100

/*
 * The cluster's document from the head's status st and, for each node i of
 * st->nodes, its own document docs[i] (taken: released here; NULL when it
 * gave none) or why not, whys[i] (NULL or ""). nodes lists every node with
 * its report; functions, actors and errors gather the reports' (functions
 * summed by name, their quantiles from the summed histograms); totals add
 * them up. NULL on OOM.
 */
json_t *mt_api_cluster_json(const Manta__V1__ClusterStatusReply *st,
                            json_t **docs, const char *const *whys,
                            int64_t time_ms);

#endif
