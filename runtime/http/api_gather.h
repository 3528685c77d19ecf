/*
 * The cluster's document, gathered where it is asked for (any node; the
 * dashboard asks the head): the head's ClusterStatus for the node table,
 * then every live node's own /api/node through Node.Observe, all at once,
 * each bounded by a deadline. Over gRPC rather than each node's HTTP port:
 * the links, token and TLS the cluster already has, a port every node
 * serves (drivers serve no HTTP unless asked), and no HTTP client in the
 * runtime.
 */
#ifndef MT_API_GATHER_H
#define MT_API_GATHER_H

#include "api_json.h"

/* Deadlines: the head's status, then the nodes' documents (asked in
 * parallel). A node that does not answer in time is listed without its
 * report, with why. */
#define MT_API_STATUS_TIMEOUT_MS 2000
#define MT_API_NODE_TIMEOUT_MS 1500

/* The cluster's document (api_cluster.h); NULL with why[size] when the
 * head cannot be asked (and on OOM). Without a cluster (an embedded
 * runtime), a cluster of this node alone. */
json_t *mt_api_cluster_gather(char *why, size_t size);

/* path ("/api/node", ...) asked of every live node, each answer parsed as
 * JSON (NULL where a node gave none, why in whys[i], malloc'd). The head's
 * status goes to *st_out (free with
 * manta__v1__cluster_status_reply__free_unpacked). false with why when the
 * head cannot be asked. */
struct Manta__V1__ClusterStatusReply;
bool mt_api_ask_nodes(const char *path,
                      struct Manta__V1__ClusterStatusReply **st_out,
                      json_t ***docs, char ***whys, char *why, size_t size);
void mt_api_answers_free(struct Manta__V1__ClusterStatusReply *st,
                         json_t **docs, char **whys);

#endif
