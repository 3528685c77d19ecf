/*
 * What a call's placement option (manta_strategy, node affinity) means on
 * this node, before any cluster is asked: an affinity to this node keeps
 * the call here whatever the load; embedded, this node is the only one, so
 * SPREAD is the default and an affinity to another node is either dropped
 * (soft) or fails (hard). The rest is the cluster's (runtime/cluster/
 * placement.c), reached through mt_rt.cluster.
 */
#include "cluster_seam.h"
#include "rt.h"

/* An error of the kind of `why` (borrowed) saying that the hard affinity
 * to this node cannot be kept, and why. */
static manta_value *self_error(const manta_value *why) {
  return mt_error_new(manta_error_code(why), "submit",
                      "hard node affinity: node %016llx (this node) cannot "
                      "run it: %s",
                      (unsigned long long)mt_rt.node_id,
                      manta_error_message(why));
}

mt_place_step mt_placement_step_locked(const mt_placement *p,
                                       const manta_value *local_fail,
                                       mt_placement *via, manta_value **fail) {
  static const mt_placement by_default = {MANTA_STRATEGY_DEFAULT, false, 0};
  *via = p ? *p : by_default;
  if (via->strategy != MANTA_STRATEGY_NODE_AFFINITY) {
    return MT_PLACE_ROUTE;
  }
  if (via->node == mt_rt.node_id && !local_fail) {
    return MT_PLACE_HERE;
  }
  if (via->soft) {
    *via = by_default;
    return MT_PLACE_ROUTE;
  }
  if (via->node == mt_rt.node_id) {
    *fail = self_error(local_fail);
    return MT_PLACE_FAIL;
  }
  if (mt_rt.cluster) {
    return MT_PLACE_ROUTE; /* the cluster knows the other nodes */
  }
  *fail = mt_error_new(MANTA_ERR_NOT_FOUND, "submit",
                       "hard node affinity: node %016llx is not in the "
                       "cluster (the runtime is embedded: its only node is "
                       "%016llx)",
                       (unsigned long long)via->node,
                       (unsigned long long)mt_rt.node_id);
  return MT_PLACE_FAIL;
}
