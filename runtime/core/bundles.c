/*
 * The placement group bundles reserved on this node, as Ray keeps them:
 * each bundle adds resource kinds of its own, "<resource>_group_<i>_<group
 * id>" holding what it reserved (taken out of the node's free resources)
 * and a marker "bundle_group_<i>_<group id>" of 1000 units. A call in the
 * bundle asks for those instead of the node's own (pgroups.c renames its
 * demand, 0.001 of the marker included), so the scheduler runs it exactly
 * as any other call: from the bundle's reservation, never from the node's
 * free pool, and the marker ties every call (zero-CPU actors too) to its
 * bundle, here and on any node it is sent to.
 *
 * A bundle freed while calls still run in it cannot take their resources
 * back at once: its kinds are retired (total 0, available minus what runs)
 * and what those calls give back as they end goes on to the node's own
 * kind (mt_bundles_moved_locked), so the node never counts a CPU twice. A
 * retired kind is used again once nothing runs in it.
 */
#include "rt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MARKER "bundle"
#define MARKER_TOTAL 1000.0
#define EPS 1e-9

typedef struct bundle {
  uint64_t gid;
  int32_t index;
  bool committed;
  int n;                        /* kinds it added */
  int kind[MT_MAX_REQUEST + 1]; /* its kinds in mt_rt.res_* */
} bundle;

/* Under rt.mu. parent[k]: the node's own kind a retired kind gives back
 * to (-1: none, the marker); retired[k]: kind k of a freed bundle. */
static struct {
  uint8_t epoch; /* of the runtime these belong to */
  int base;      /* the node's own kinds: mt_rt.nres before any bundle */
  bundle *list;
  size_t n, cap;
  int parent[MT_MAX_RESOURCES];
  bool retired[MT_MAX_RESOURCES];
  int nretired;
} bs;

static void ensure_epoch_locked(void) {
  if (bs.epoch != mt_rt.epoch) {
    free(bs.list);
    memset(&bs, 0, sizeof bs);
    bs.epoch = mt_rt.epoch;
    bs.base = mt_rt.nres;
  }
}

bool mt_bundle_resource_name(const char *name, int i, uint64_t gid, char *out,
                             size_t size) {
  int len = snprintf(out, size, "%s_group_%d_%016" PRIx64, name, i, gid);
  return len > 0 && (size_t)len < size && (size_t)len < 64;
}

bool mt_bundle_resource_parse(const char *name, int *index, uint64_t *gid) {
  const char *g = strstr(name, "_group_");
  size_t len = strlen(name);
  char *end;
  if (!g || len < 17 || name[len - 17] != '_') {
    return false;
  }
  long i = strtol(g + 7, &end, 10);
  if (end != name + len - 17 || i < 0) {
    return false;
  }
  uint64_t id = strtoull(name + len - 16, &end, 16);
  if (*end || !id) {
    return false;
  }
  *index = (int)i;
  *gid = id;
  return true;
}

manta_err mt_missing_why(const char *missing, char *why, size_t size) {
  int i;
  uint64_t gid;
  if (mt_bundle_resource_parse(missing, &i, &gid)) {
    snprintf(why, size,
             "placement group %016" PRIx64 ": bundle %d is not reserved on "
             "node %016" PRIx64 " (the group was removed)",
             gid, i, mt_rt.node_id);
    return MANTA_ERR_CANCELLED;
  }
  snprintf(why, size, "asks for resource '%s', which this node lacks", missing);
  return MANTA_ERR_INFEASIBLE;
}

static int find_kind(const char *name) {
  for (int k = 0; k < bs.base; k++) {
    if (strcmp(mt_rt.res_names[k], name) == 0) {
      return k;
    }
  }
  return -1;
}

/* A kind for a bundle: a retired one nothing runs in any more, or a new
 * one; -1 when the node holds MT_MAX_RESOURCES kinds already. */
static int new_kind_locked(const char *name, double qty, int parent) {
  int k = -1;
  for (int j = bs.base; j < mt_rt.nres && k < 0; j++) {
    if (bs.retired[j] && mt_rt.res_avail[j] > -EPS) {
      k = j;
    }
  }
  if (k < 0) {
    if (mt_rt.nres >= MT_MAX_RESOURCES) {
      return -1;
    }
    k = mt_rt.nres++;
  } else {
    bs.retired[k] = false;
    bs.nretired--;
  }
  snprintf(mt_rt.res_names[k], 64, "%s", name);
  mt_rt.res_total[k] = mt_rt.res_avail[k] = qty;
  bs.parent[k] = parent;
  return k;
}

/* Retires kind k: its unused part goes back to its parent now, the rest as
 * the calls holding it end. */
static void retire_kind_locked(int k) {
  if (bs.parent[k] >= 0) {
    mt_rt.res_avail[bs.parent[k]] += mt_rt.res_avail[k];
  }
  mt_rt.res_avail[k] -= mt_rt.res_total[k];
  mt_rt.res_total[k] = 0;
  mt_rt.res_names[k][0] = '\0';
  bs.retired[k] = true;
  bs.nretired++;
}

static void bundle_free_locked(bundle *b) {
  for (int j = 0; j < b->n; j++) {
    retire_kind_locked(b->kind[j]);
  }
  *b = bs.list[--bs.n];
}

/* Adds bundle idx of gid holding r here; false (with why) if the node
 * lacks room for its kinds. Its resources are already known to be free. */
static bool add_bundle_locked(uint64_t gid, int32_t idx,
                              const mt_resource_request *r, bool committed,
                              char *why, size_t size) {
  if (bs.n == bs.cap) {
    size_t cap = bs.cap ? 2 * bs.cap : 8;
    bundle *grown = realloc(bs.list, cap * sizeof *grown);
    if (!grown) {
      snprintf(why, size, "out of memory");
      return false;
    }
    bs.list = grown;
    bs.cap = cap;
  }
  bundle *b = &bs.list[bs.n++];
  memset(b, 0, sizeof *b);
  b->gid = gid;
  b->index = idx;
  b->committed = committed;
  char name[64];
  for (int j = 0; j <= r->n; j++) {
    const char *base = j < r->n ? r->names[j] : MARKER;
    double qty = j < r->n ? r->qty[j] : MARKER_TOTAL;
    int parent = j < r->n ? find_kind(base) : -1;
    int k = -1;
    if (mt_bundle_resource_name(base, idx, gid, name, sizeof name)) {
      k = new_kind_locked(name, qty, parent);
    }
    if (k < 0) {
      snprintf(why, size,
               "this node cannot hold more bundle resources (%d kinds at "
               "most, or a resource name too long)",
               MT_MAX_RESOURCES);
      bundle_free_locked(b);
      return false;
    }
    if (parent >= 0) {
      mt_rt.res_avail[parent] -= qty;
    }
    b->kind[b->n++] = k;
  }
  return true;
}

manta_err mt_bundles_prepare_locked(uint64_t gid, const int32_t *idx,
                                    const mt_resource_request *b, size_t n,
                                    bool committed, char *why, size_t size) {
  ensure_epoch_locked();
  /* All of them must fit the free resources together, or none is taken. */
  double need[MT_MAX_RESOURCES] = {0};
  for (size_t i = 0; i < n; i++) {
    for (int j = 0; j < b[i].n; j++) {
      int k = find_kind(b[i].names[j]);
      if (k < 0 && b[i].qty[j] > 0) {
        snprintf(why, size,
                 "bundle %d asks for resource '%s', which node "
                 "%016" PRIx64 " lacks",
                 idx[i], b[i].names[j], mt_rt.node_id);
        return MANTA_ERR_INFEASIBLE;
      }
      if (k >= 0) {
        need[k] += b[i].qty[j];
      }
    }
  }
  for (int k = 0; k < bs.base; k++) {
    if (need[k] > mt_rt.res_avail[k] + EPS) {
      snprintf(why, size,
               "node %016" PRIx64 " has %s %g free, the bundles ask %g",
               mt_rt.node_id, mt_rt.res_names[k], mt_rt.res_avail[k], need[k]);
      return MANTA_ERR_INFEASIBLE;
    }
  }
  size_t first = bs.n; /* the group's bundles held before are kept */
  for (size_t i = 0; i < n; i++) {
    if (!add_bundle_locked(gid, idx[i], &b[i], committed, why, size)) {
      while (bs.n > first) {
        bundle_free_locked(&bs.list[bs.n - 1]);
      }
      return MANTA_ERR_INFEASIBLE;
    }
  }
  mt_rt.bundles_watch = true;
  return MANTA_OK;
}

bool mt_bundles_commit_locked(uint64_t gid) {
  ensure_epoch_locked();
  bool any = false;
  for (size_t i = 0; i < bs.n; i++) {
    if (bs.list[i].gid == gid) {
      bs.list[i].committed = any = true;
    }
  }
  return any;
}

bool mt_bundles_live_locked(uint64_t gid) {
  ensure_epoch_locked();
  for (size_t i = 0; i < bs.n; i++) {
    if (bs.list[i].gid == gid && bs.list[i].committed) {
      return true;
    }
  }
  return false;
}

/* The bundle owning kind k, or NULL. */
static bundle *bundle_of_kind(int k) {
  for (size_t i = 0; i < bs.n; i++) {
    for (int j = 0; j < bs.list[i].n; j++) {
      if (bs.list[i].kind[j] == k) {
        return &bs.list[i];
      }
    }
  }
  return NULL;
}

uint64_t mt_bundles_of_locked(const mt_demand *d, manta_value **fail) {
  ensure_epoch_locked();
  *fail = NULL;
  for (int k = bs.base; k < mt_rt.nres; k++) {
    if (d->q[k] <= 0) {
      continue;
    }
    bundle *b = bundle_of_kind(k);
    if (!b || !b->committed) {
      *fail = mt_error_new(MANTA_ERR_CANCELLED, "placement group",
                           "its bundle is not reserved on node %016" PRIx64
                           " (the group was removed, or is not ready)",
                           mt_rt.node_id);
      return 0;
    }
    return b->gid;
  }
  return 0;
}

/* Which bundles of a group: those of `n` indices idx, or all (n == 0). */
typedef struct which {
  uint64_t gid;
  const int32_t *idx;
  size_t n;
} which;

static bool bundle_is(const bundle *b, const which *w) {
  if (b->gid != w->gid) {
    return false;
  }
  for (size_t i = 0; i < w->n; i++) {
    if (w->idx[i] == b->index) {
      return true;
    }
  }
  return w->n == 0;
}

/* Whether demand d takes from a kind of the bundles w. */
static bool demand_in_group(const mt_demand *d, const which *w) {
  for (int k = bs.base; k < mt_rt.nres; k++) {
    if (d->q[k] > 0) {
      bundle *b = bundle_of_kind(k);
      if (b && bundle_is(b, w)) {
        return true;
      }
    }
  }
  return false;
}

static manta_value *removed_error(const mt_task *t, uint64_t gid,
                                  const char *what) {
  return mt_task_error(t, MANTA_ERR_CANCELLED,
                       "placement group %016" PRIx64 " was removed %s", gid,
                       what);
}

static manta_value *actor_removed_error(uint64_t gid) {
  return mt_error_new(
      MANTA_ERR_ACTOR_DEAD, "placement group",
      "placement group %016" PRIx64 " was removed: its actors are killed", gid);
}

/* Queued tasks and creations of the group fail; those a worker popped and
 * did not start too; those running have their refs resolved now. */
static void fail_tasks_locked(const which *wh, mt_garbage *g) {
  uint64_t gid = wh->gid;
  for (mt_sched_class *c = mt_rt.classes_list; c; c = c->next) {
    if (!demand_in_group(&c->demand, wh)) {
      continue;
    }
    while (c->queue.head) {
      mt_task *t = c->queue.head;
      mt_task_cancel_locked(t, removed_error(t, gid, "before it ran"), g);
    }
  }
  for (mt_worker *w = mt_rt.workers; w; w = w->next) {
    if (!w->batch_cls || !demand_in_group(&w->batch_cls->demand, wh)) {
      continue;
    }
    size_t first = atomic_load(&w->batch_next);
    for (size_t i = 0; i < w->batch_len; i++) {
      mt_task *t = w->batch[i];
      int expected = MT_CLAIM_FREE;
      if (i >= first && atomic_compare_exchange_strong(&t->claim, &expected,
                                                       MT_CLAIM_CANCELLED)) {
        mt_task_cancel_locked(t, removed_error(t, gid, "before it ran"), g);
      } else if (atomic_load(&t->claim) != MT_CLAIM_STARTED || t->cancelled) {
        continue;
      } else if (t->kind == MT_TASK_FUNCTION && t->result) {
        /* Running: a thread cannot be stopped; its result is dropped. */
        mt_obj_complete_locked(
            t->result, removed_error(t, gid, "while it ran (it ran on)"), g);
        t->cancelled = true;
      } else if (t->kind == MT_TASK_ACTOR_CREATE && t->actor) {
        /* Being constructed: dead now, destroyed once built. */
        mt_actor_die_locked(t->actor, actor_removed_error(gid), g);
      }
    }
  }
}

static void kill_actors_locked(const which *wh, mt_garbage *g) {
  uint64_t gid = wh->gid;
  for (size_t i = 0; i < mt_rt.actors.used; i++) {
    mt_actor *a = mt_slots_at(&mt_rt.actors, i);
    if (a->slot.live && !a->remote && a->state != MT_ACTOR_DEAD &&
        a->holds_demand && demand_in_group(&a->demand, wh)) {
      mt_actor_retain_locked(a);
      mt_actor_die_locked(a, actor_removed_error(gid), g);
      mt_actor_release_locked(a, g);
    }
  }
}

void mt_bundles_return_locked(uint64_t gid, mt_garbage *g) {
  mt_bundles_return_some_locked(gid, NULL, 0, g);
}

void mt_bundles_return_some_locked(uint64_t gid, const int32_t *idx, size_t n,
                                   mt_garbage *g) {
  ensure_epoch_locked();
  which w = {gid, idx, n};
  bool any = false;
  for (size_t i = 0; i < bs.n && !any; i++) {
    any = bundle_is(&bs.list[i], &w);
  }
  if (!any) {
    return;
  }
  fail_tasks_locked(&w, g);
  kill_actors_locked(&w, g);
  for (size_t i = bs.n; i-- > 0;) {
    if (bundle_is(&bs.list[i], &w)) {
      bundle_free_locked(&bs.list[i]);
    }
  }
  if (n == 0) {
    mt_pgs_bundles_gone_locked(gid, g); /* removed: a shadow goes too */
  }
  mt_pgs_retry_locked();
  mt_sched_kick_locked(); /* what the bundles held may let queued work run */
}

void mt_bundles_moved_locked(const mt_demand *d, int sign) {
  if (bs.epoch != mt_rt.epoch) {
    return;
  }
  bool freed = false;
  for (int k = bs.base; k < mt_rt.nres && bs.nretired > 0; k++) {
    if (bs.retired[k] && d->q[k] > 0 && bs.parent[k] >= 0) {
      mt_rt.res_avail[bs.parent[k]] += sign * d->q[k];
      freed |= sign > 0;
    }
  }
  for (int k = 0; k < bs.base && !freed && sign > 0; k++) {
    freed = d->q[k] > 0;
  }
  if (freed) {
    mt_pgs_retry_locked();
  }
}

void mt_bundles_shutdown_locked(mt_garbage *g) {
  (void)g;
  if (bs.epoch == mt_rt.epoch) {
    free(bs.list);
    memset(&bs, 0, sizeof bs);
  }
}
