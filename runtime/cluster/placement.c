/*
 * The scheduling strategies across nodes (docs/scheduling.md): which node
 * SPREAD takes next, and whether the node a node affinity names can run a
 * call. Tasks (task_send.c) and actors (actor_proxy.c) share both; the
 * default placement stays with each of them.
 */
#include "cluster.h"
#include "strmap.h"
#include "turn.h"

#include <stdlib.h>
#include <string.h>

/* Under rt.mu: the node SPREAD chose last. Round-robin goes on from it in
 * node id order, so nodes joining or leaving do not upset the turn of the
 * others, and one turn is shared by every SPREAD call of the process. */
static uint64_t spread_last;

/* Per function (or actor class) that SPREAD placed: the live other nodes
 * that offer it, as of view generation `gen`. Rebuilt once per view (a
 * heartbeat), so that a SPREAD call does not scan the view: it takes the
 * next of these in turn (mt_turn), checking only that one fits and that
 * its link is up, O(1) amortised per call however many nodes there are. */
typedef struct spread_candidates {
  uint64_t gen;
  mt_turn turn;
} spread_candidates;

static mt_strmap spread_by_name; /* "f name" / "c name" -> candidates */
static bool spread_map_ready;

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

/* The candidates for name, rebuilt if the view changed; NULL on OOM. */
static spread_candidates *candidates_locked(const char *name, bool is_class) {
  char small[128];
  size_t len = strlen(name) + 3;
  char *key = len <= sizeof small ? small : malloc(len);
  if (!key) {
    return NULL;
  }
  snprintf(key, len, "%c %s", is_class ? 'c' : 'f', name);
  if (!spread_map_ready) {
    mt_strmap_init(&spread_by_name);
    spread_map_ready = true;
  }
  spread_candidates *c = mt_strmap_get(&spread_by_name, key);
  if (!c) {
    bool oom = false;
    c = calloc(1, sizeof *c);
    if (!c || !mt_strmap_insert(&spread_by_name, key, c, &oom)) {
      free(c);
      c = NULL;
    } else {
      c->gen = mt_cl.view_gen - 1; /* built below */
    }
  }
  if (key != small) {
    free(key);
  }
  if (!c) {
    return NULL;
  }
  if (c->gen != mt_cl.view_gen) {
    mt_turn_clear(&c->turn);
    for (size_t i = 0; i < mt_cl.nview; i++) {
      const mt_view_node *v = &mt_cl.view[i];
      if (v->alive && v->node_id != mt_rt.node_id &&
          offers(v, name, is_class) && !mt_turn_add(&c->turn, v->node_id)) {
        return NULL;
      }
    }
    mt_turn_sort(&c->turn);
    c->gen = mt_cl.view_gen;
  }
  return c;
}

typedef struct spread_check {
  const mt_resource_request *d;
} spread_check;

/* A candidate (alive, offering the name) that fits the demand in total and
 * whose link did not just fail. */
static bool spread_ok(uint64_t id, void *arg) {
  const spread_check *sc = arg;
  const mt_view_node *v = mt_view_find_locked(id);
  return v && mt_view_fits(v, sc->d, false) && !mt_peers_down_locked(id);
}

bool mt_spread_next_locked(const char *name, bool is_class,
                           const mt_resource_request *d, bool local_ok,
                           uint64_t *node) {
  spread_candidates *c = candidates_locked(name, is_class);
  spread_check sc = {d};
  *node = c ? mt_turn_next(&c->turn, spread_last, local_ok ? mt_rt.node_id : 0,
                           spread_ok, &sc, NULL)
          : local_ok ? mt_rt.node_id
                     : 0;
  if (*node) {
    spread_last = *node;
  }
  return *node != 0;
}

void mt_spread_forget_locked(void) {
  if (!spread_map_ready) {
    return;
  }
  size_t pos = 0;
  const char *key;
  void *val;
  while (mt_strmap_next(&spread_by_name, &pos, &key, &val)) {
    spread_candidates *c = val;
    mt_turn_free(&c->turn);
    free(c);
  }
  mt_strmap_destroy(&spread_by_name);
  spread_map_ready = false;
  spread_last = 0;
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
