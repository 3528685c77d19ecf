/*
 * The node's HTTP server as one service of the node (node_http.c): started
 * by manta_init after the cluster (it needs the cluster's token), stopped
 * first by manta_shutdown, both without rt.mu (runtime/api/init.c).
 */
#ifndef MT_NODE_HTTP_H
#define MT_NODE_HTTP_H

#include "manta.h"

manta_err mt_node_http_start(const manta_options *opts);
void mt_node_http_stop(void);

#endif
