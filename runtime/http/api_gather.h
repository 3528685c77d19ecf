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
#include "manta/v1/cluster_wire.pb-c.h"
#include "rt.h"
#include "tls.h"
#include "transport.h"

/* Deadlines: the head's status, then the nodes' documents (asked in
 * parallel). A node that does not answer in time is listed without its
 * report, with why. */
#define MT_API_STATUS_TIMEOUT_MS 2000
#define MT_API_NODE_TIMEOUT_MS 1500

/* The cluster's document (api_cluster.h); NULL with why[size] when the
 * head cannot be asked (and on OOM). Without a cluster (an embedded
 * runtime), a cluster of this node alone. */
json_t *mt_api_cluster_gather(char *why, size_t size);

/* Where to ask: a head by address with a token and TLS (a process outside
 * the cluster: `manta timeline`), or NULL for this process's own cluster
 * (its head, with its token and TLS; this node answers itself; without a
 * cluster, this node alone). */
typedef struct mt_api_link {
  const char *head;
  const char *token;
  const mt_tp_tls *tls;
} mt_api_link;

/* What every live node answered for a path. */
typedef struct mt_api_answers {
  Manta__V1__ClusterStatusReply *st; /* the head's status */
  bool alone;                        /* st made here: no cluster */
  json_t **docs;                     /* per st->nodes: the JSON, or NULL */
  char **whys;                       /* per st->nodes: why not, or NULL */
} mt_api_answers;

/* path ("/api/node", ...) asked of every live node at once, each bounded
 * by MT_API_NODE_TIMEOUT_MS. false with why when the head cannot be asked
 * (a is then empty). */
bool mt_api_ask_nodes(const mt_api_link *link, const char *path,
                      mt_api_answers *a, char *why, size_t size);
void mt_api_answers_free(mt_api_answers *a);

/* The head's status through link; NULL with why. */
Manta__V1__ClusterStatusReply *mt_api_head_status(const mt_api_link *link,
                                                  char *why, size_t size);

/* A link to a head from outside the cluster (a command, a program asking
 * for a timeline or a log): the token and TLS of opts found as
 * manta_cluster_status_with finds them, gRPC started. */
typedef struct mt_api_remote {
  mt_api_link link;
  char *token;
  mt_tls tls;
  mt_tp_tls tp;
  char head[64]; /* of a list, the head that answered (head_list.c) */
  bool open;
} mt_api_remote;
bool mt_api_remote_open(mt_api_remote *r, const char *address,
                        const manta_options *opts, char *why, size_t size);
void mt_api_remote_close(mt_api_remote *r);

#endif
