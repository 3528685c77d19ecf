/*
 * manta_init and manta_shutdown: the layers started and stopped in order.
 * The core starts the local runtime and, through the seam registered here,
 * the cluster (core/cluster_seam.h); the node's HTTP server starts last,
 * since it serves with the cluster's token, and stops first.
 */
#include "api_routes.h"
#include "cluster.h"
#include "cluster_seam.h"
#include "node_http.h"
#include "rt.h"
#include "serve_api.h"

manta_err manta_init(const manta_options *opts) {
  /* The real cluster, unless a unit test registered a fake one first. */
  mt_cluster_seam_default(&mt_cluster_node_seam);
  /* What Node.Observe answers: the documents of this node's HTTP API. */
  mt_observe_set_source(mt_api_observe);
  manta_err err = mt_runtime_start(opts);
  if (err != MANTA_OK) {
    return err;
  }
  err = mt_node_http_start(opts);
  if (err != MANTA_OK) {
    manta_shutdown();
    return err;
  }
  return MANTA_OK;
}

manta_err manta_shutdown(void) {
  manta_err err = mt_runtime_stop_begin();
  if (err != MANTA_OK) {
    return err;
  }
  /* Scrapes take the lock: the server stops without it. */
  mt_node_http_stop();
  mt_serve_shutdown(); /* the ingress, before the cluster it calls into */
  return mt_runtime_stop_finish();
}
