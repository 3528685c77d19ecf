/*
 * Where the bundles of a placement group go: a pure function of the
 * bundles, the strategy and the nodes' total and free resources, so that
 * the embedded runtime (one node) and the head (every live node) decide
 * alike and the tests can reason about it. First whether the group can
 * ever fit (by totals: else it is infeasible, and says which bundle and
 * why), then whether it fits now (by free resources: else it waits).
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

/* Quantities are compared with this slack: sums of fractions must fit. */
#define EPS 1e-9

const char *mt_pg_strategy_name(int strategy) {
  switch (strategy) {
  case MANTA_PG_PACK:
    return "PACK";
  case MANTA_PG_SPREAD:
    return "SPREAD";
  case MANTA_PG_STRICT_PACK:
    return "STRICT_PACK";
  case MANTA_PG_STRICT_SPREAD:
    return "STRICT_SPREAD";
  default:
    return "?";
  }
}

static double node_qty(const mt_plan_node *n, const char *name, bool total) {
  for (int k = 0; k < n->nres; k++) {
    if (strcmp(n->names[k], name) == 0) {
      return total ? n->total[k] : n->avail[k];
    }
  }
  return 0;
}

/* The planner's working state: node x resource matrices over the names
 * the bundles use. */
typedef struct plan {
  size_t nb, nn, nr;
  char (*names)[64];
  double *q;     /* nb x nr: what each bundle asks */
  double *total; /* nn x nr */
  double *free;  /* nn x nr, decremented as bundles are placed */
} plan;

static int name_index(plan *p, const char *name) {
  for (size_t r = 0; r < p->nr; r++) {
    if (strcmp(p->names[r], name) == 0) {
      return (int)r;
    }
  }
  snprintf(p->names[p->nr], 64, "%s", name);
  return (int)p->nr++;
}

static bool plan_init(plan *p, const mt_resource_request *b, size_t nb,
                      const mt_plan_node *nodes, size_t nn) {
  memset(p, 0, sizeof *p);
  p->nb = nb;
  p->nn = nn;
  size_t maxr = nb * MT_MAX_REQUEST + 1;
  p->names = calloc(maxr, sizeof *p->names);
  p->q = calloc(nb * maxr + 1, sizeof *p->q);
  if (!p->names || !p->q) {
    return false;
  }
  for (size_t i = 0; i < nb; i++) {
    for (int j = 0; j < b[i].n; j++) {
      int r = name_index(p, b[i].names[j]);
      p->q[i * maxr + (size_t)r] += b[i].qty[j];
    }
  }
  /* Compact q to nb x nr now that nr is known. */
  for (size_t i = 0; i < nb; i++) {
    memmove(p->q + i * p->nr, p->q + i * maxr, p->nr * sizeof *p->q);
  }
  p->total = calloc(nn * p->nr + 1, sizeof *p->total);
  p->free = calloc(nn * p->nr + 1, sizeof *p->free);
  if (!p->total || !p->free) {
    return false;
  }
  for (size_t j = 0; j < nn; j++) {
    for (size_t r = 0; r < p->nr; r++) {
      p->total[j * p->nr + r] = node_qty(&nodes[j], p->names[r], true);
      p->free[j * p->nr + r] = node_qty(&nodes[j], p->names[r], false);
    }
  }
  return true;
}

static void plan_free(plan *p) {
  free(p->names);
  free(p->q);
  free(p->total);
  free(p->free);
}

/* Whether bundle i fits in row (total or free) of node j. */
static bool fits(const plan *p, const double *row, size_t i, size_t j) {
  for (size_t r = 0; r < p->nr; r++) {
    if (p->q[i * p->nr + r] > row[j * p->nr + r] + EPS) {
      return false;
    }
  }
  return true;
}

/* Whether every bundle fits on node j at once (row: total or free). */
static bool fits_all(const plan *p, const double *row, size_t j) {
  for (size_t r = 0; r < p->nr; r++) {
    double sum = 0;
    for (size_t i = 0; i < p->nb; i++) {
      sum += p->q[i * p->nr + r];
    }
    if (sum > row[j * p->nr + r] + EPS) {
      return false;
    }
  }
  return true;
}

static void take(plan *p, size_t i, size_t j) {
  for (size_t r = 0; r < p->nr; r++) {
    p->free[j * p->nr + r] -= p->q[i * p->nr + r];
  }
}

/* Kuhn's augmenting paths: bundle i gets a node of its own. */
static bool augment(const plan *p, const double *row, size_t i, bool *seen,
                    size_t *owner) {
  for (size_t j = 0; j < p->nn; j++) {
    if (seen[j] || !fits(p, row, i, j)) {
      continue;
    }
    seen[j] = true;
    if (owner[j] == SIZE_MAX || augment(p, row, owner[j], seen, owner)) {
      owner[j] = i;
      return true;
    }
  }
  return false;
}

/* Each bundle on a different node (row: total or free): how many bundles
 * got one; out[i] set when all did. */
static size_t match_distinct(const plan *p, const double *row, size_t *out) {
  size_t *owner = malloc((p->nn + 1) * sizeof *owner);
  bool *seen = malloc(p->nn + 1);
  size_t matched = 0;
  if (!owner || !seen) {
    free(owner);
    free(seen);
    return 0;
  }
  for (size_t j = 0; j < p->nn; j++) {
    owner[j] = SIZE_MAX;
  }
  for (size_t i = 0; i < p->nb; i++) {
    memset(seen, 0, p->nn + 1);
    matched += augment(p, row, i, seen, owner);
  }
  for (size_t j = 0; j < p->nn && matched == p->nb; j++) {
    if (owner[j] != SIZE_MAX) {
      out[owner[j]] = j;
    }
  }
  free(owner);
  free(seen);
  return matched;
}

/* The largest total of resource r on one node. */
static double most_on_one(const plan *p, size_t r) {
  double best = 0;
  for (size_t j = 0; j < p->nn; j++) {
    double t = p->total[j * p->nr + r];
    best = t > best ? t : best;
  }
  return best;
}

/* Why the group can never fit (by totals), or false if it can. */
static bool infeasible(const plan *p, int strategy, char *why, size_t size) {
  if (p->nn == 0) {
    snprintf(why, size, "no live node to reserve it on");
    return true;
  }
  for (size_t i = 0; i < p->nb; i++) {
    bool any = false;
    for (size_t j = 0; j < p->nn && !any; j++) {
      any = fits(p, p->total, i, j);
    }
    if (any) {
      continue;
    }
    for (size_t r = 0; r < p->nr; r++) {
      double most = most_on_one(p, r);
      if (p->q[i * p->nr + r] > most + EPS) {
        snprintf(why, size,
                 "bundle %zu asks %s %g; no node has that much (the most "
                 "on one node is %g)",
                 i, p->names[r], p->q[i * p->nr + r], most);
        return true;
      }
    }
    snprintf(why, size, "bundle %zu fits no node", i);
    return true;
  }
  if (strategy == MANTA_PG_STRICT_PACK) {
    for (size_t j = 0; j < p->nn; j++) {
      if (fits_all(p, p->total, j)) {
        return false;
      }
    }
    for (size_t r = 0; r < p->nr; r++) {
      double sum = 0;
      for (size_t i = 0; i < p->nb; i++) {
        sum += p->q[i * p->nr + r];
      }
      if (sum > most_on_one(p, r) + EPS) {
        snprintf(why, size,
                 "STRICT_PACK puts all %zu bundles on one node: they ask %s "
                 "%g in all; the most on one node is %g",
                 p->nb, p->names[r], sum, most_on_one(p, r));
        return true;
      }
    }
    snprintf(why, size, "STRICT_PACK: no node can hold all %zu bundles", p->nb);
    return true;
  }
  if (strategy == MANTA_PG_STRICT_SPREAD) {
    size_t *out = malloc((p->nb + 1) * sizeof *out);
    size_t m = out ? match_distinct(p, p->total, out) : 0;
    free(out);
    if (m < p->nb) {
      snprintf(why, size,
               "STRICT_SPREAD puts each of its %zu bundles on a different "
               "node: only %zu of them can be (%zu node%s in the cluster)",
               p->nb, m, p->nn, p->nn == 1 ? "" : "s");
      return true;
    }
    return false;
  }
  /* PACK, SPREAD: the sum of what they ask must not exceed the cluster. */
  for (size_t r = 0; r < p->nr; r++) {
    double sum = 0, have = 0;
    for (size_t i = 0; i < p->nb; i++) {
      sum += p->q[i * p->nr + r];
    }
    for (size_t j = 0; j < p->nn; j++) {
      have += p->total[j * p->nr + r];
    }
    if (sum > have + EPS) {
      snprintf(why, size,
               "the %zu bundles ask %s %g in all; the cluster has %g", p->nb,
               p->names[r], sum, have);
      return true;
    }
  }
  return false;
}

/* The node that fits bundle i now, preferring the fewest bundles of this
 * group already there (spread) or the most (pack), then the most free. */
static bool pick(plan *p, size_t i, const size_t *count, bool spread,
                 size_t *node) {
  bool found = false;
  for (size_t j = 0; j < p->nn; j++) {
    if (!fits(p, p->free, i, j)) {
      continue;
    }
    if (found) {
      size_t b = *node;
      bool better = spread ? count[j] < count[b] : count[j] > count[b];
      bool same = count[j] == count[b];
      if (!better && !(same && p->free[j * p->nr] > p->free[b * p->nr])) {
        continue;
      }
    }
    *node = j;
    found = true;
  }
  return found;
}

static mt_plan_result place_now(plan *p, int strategy, size_t *out) {
  if (strategy == MANTA_PG_STRICT_SPREAD) {
    return match_distinct(p, p->free, out) == p->nb ? MT_PLAN_OK : MT_PLAN_WAIT;
  }
  if (strategy == MANTA_PG_STRICT_PACK || strategy == MANTA_PG_PACK) {
    for (size_t j = 0; j < p->nn; j++) {
      if (fits_all(p, p->free, j)) {
        for (size_t i = 0; i < p->nb; i++) {
          out[i] = j;
        }
        return MT_PLAN_OK;
      }
    }
    if (strategy == MANTA_PG_STRICT_PACK) {
      return MT_PLAN_WAIT;
    }
  }
  size_t *count = calloc(p->nn + 1, sizeof *count);
  if (!count) {
    return MT_PLAN_WAIT;
  }
  mt_plan_result res = MT_PLAN_OK;
  for (size_t i = 0; i < p->nb; i++) {
    if (!pick(p, i, count, strategy == MANTA_PG_SPREAD, &out[i])) {
      res = MT_PLAN_WAIT;
      break;
    }
    take(p, i, out[i]);
    count[out[i]]++;
  }
  free(count);
  return res;
}

mt_plan_result mt_pg_plan(int strategy, const mt_resource_request *bundles,
                          size_t nb, const mt_plan_node *nodes, size_t nn,
                          size_t *out, char *why, size_t size) {
  plan p;
  mt_plan_result res = MT_PLAN_WAIT;
  why[0] = '\0';
  if (!plan_init(&p, bundles, nb, nodes, nn)) {
    snprintf(why, size, "out of memory planning the group");
  } else if (infeasible(&p, strategy, why, size)) {
    res = MT_PLAN_INFEASIBLE;
  } else {
    res = place_now(&p, strategy, out);
    if (res == MT_PLAN_WAIT) {
      snprintf(why, size, "waiting for resources to free up");
    }
  }
  plan_free(&p);
  return res;
}
