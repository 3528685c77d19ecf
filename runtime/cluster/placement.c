/*
 * The scheduling strategies across nodes (docs/scheduling.md): which node
 * SPREAD takes next, and whether the node a node affinity names can run a
 * call. Tasks (task_send.c) and actors (actor_proxy.c) share both; the
 * default placement stays with each of them.
 */
#include "cluster.h"

#include <string.h>

/* Under rt.mu: the node SPREAD chose last. Round-robin goes on from it in
 * node id order, so nodes joining or leaving do not upset the turn of the
 * others. */
static uint64_t spread_last;

static bool offers(const mt_view_node *v, const char *name, bool is_class) {
  return is_class ? mt_view_offers(v->classes, v->nclasses, name)
                  : mt_view_offers(v->functions, v->nfunctions, name);
}

/* Whether the other node v can take the call now: alive, offering it,
 * having the demand in total, its link not failed a moment ago. */
static bool can_take(const mt_view_node *v, const char *name, bool is_class,
                     const mt_resource_request *d) {
  return v->alive && v->node_id != mt_rt.node_id && offers(v, name, is_class) &&
         mt_view_fits(v, d, false) && !mt_peers_down_locked(v->node_id);
}

bool mt_spread_next_locked(const char *name, bool is_class,
                           const mt_resource_request *d, bool local_ok,
                           uint64_t *node) {
  /* The smallest candidate id after the last one chosen, else the
   * smallest of all (the turn wraps). */
  uint64_t after = 0, first = 0;
  if (local_ok) {
    first = mt_rt.node_id;
    after = mt_rt.node_id > spread_last ? mt_rt.node_id : 0;
  }
  for (size_t i = 0; i < mt_cl.nview; i++) {
    const mt_view_node *v = &mt_cl.view[i];
    if (!can_take(v, name, is_class, d)) {
      continue;
    }
    uint64_t id = v->node_id;
    if (!first || id < first) {
      first = id;
    }
    if (id > spread_last && (!after || id < after)) {
      after = id;
    }
  }
  *node = after ? after : first;
  if (*node) {
    spread_last = *node;
  }
  return *node != 0;
}

/* The first resource of d that v lacks in total, as "CPU 8 asked, 2
 * there". */
static void first_unfit(const mt_view_node *v, const mt_resource_request *d,
                        char *buf, size_t size) {
  snprintf(buf, size, "the resources asked");
  for (int i = 0; i < d->n; i++) {
    double have = 0;
    for (int k = 0; k < v->nres; k++) {
      if (strcmp(v->res_names[k], d->names[i]) == 0) {
        have = v->res_total[k];
      }
    }
    if (d->qty[i] > 0 && have < d->qty[i]) {
      snprintf(buf, size, "%s %g asked, %g there", d->names[i], d->qty[i],
               have);
      return;
    }
  }
}

const mt_view_node *mt_affinity_node_locked(uint64_t node, const char *name,
                                            bool is_class,
                                            const mt_resource_request *d,
                                            manta_err *code, char *why,
                                            size_t size) {
  const mt_view_node *v = mt_view_find_locked(node);
  char unfit[160];
  if (v && can_take(v, name, is_class, d)) {
    return v;
  }
  if (!v) {
    *code = MANTA_ERR_NOT_FOUND;
    snprintf(why, size,
             "hard node affinity: node %016llx is not in the cluster "
             "(unknown, or it left)",
             (unsigned long long)node);
  } else if (!v->alive) {
    *code = MANTA_ERR_NODE_DIED;
    snprintf(why, size, "hard node affinity: node %016llx (%s) is dead",
             (unsigned long long)node, v->address);
  } else if (!offers(v, name, is_class)) {
    *code = MANTA_ERR_NOT_FOUND;
    snprintf(why, size,
             "hard node affinity: node %016llx (%s) does not offer %s named "
             "'%s'",
             (unsigned long long)node, v->address,
             is_class ? "an actor class" : "a function", name);
  } else if (!mt_view_fits(v, d, false)) {
    first_unfit(v, d, unfit, sizeof unfit);
    *code = MANTA_ERR_INFEASIBLE;
    snprintf(why, size,
             "hard node affinity: node %016llx (%s) can never fit the "
             "demand (%s)",
             (unsigned long long)node, v->address, unfit);
  } else {
    *code = MANTA_ERR_NODE_DIED;
    snprintf(why, size,
             "hard node affinity: node %016llx (%s) is unreachable: the "
             "link to it failed a moment ago",
             (unsigned long long)node, v->address);
  }
  return NULL;
}

bool mt_strategy_pick_locked(const mt_placement *p, const char *name,
                             bool is_class, const mt_resource_request *d,
                             bool local_ok, const char *origin, uint64_t *node,
                             manta_value **fail) {
  if (p->strategy == MANTA_STRATEGY_SPREAD) {
    return mt_spread_next_locked(name, is_class, d, local_ok, node);
  }
  if (p->strategy != MANTA_STRATEGY_NODE_AFFINITY) {
    return false;
  }
  manta_err code;
  char why[300];
  if (mt_affinity_node_locked(p->node, name, is_class, d, &code, why,
                              sizeof why)) {
    *node = p->node;
    return true;
  }
  if (!p->soft) {
    *fail = mt_error_new(code, origin, "%s", why);
  }
  return false;
}
