/*
 * Lineage: how this process rebuilds an object it owns whose only copy was
 * on a node that died (docs/fault-tolerance.md, "Lost objects rebuilt").
 *
 * A task this process sent to another node whose result is too large to
 * travel inline leaves the result there (task_send.c, stays_locked); the
 * local result object becomes a proxy of it. Before the task is freed, its
 * function, demand, placement, dispatch count and arguments (as they were
 * sent: values, refs to local objects, refs to objects of other nodes) are
 * kept here, keyed by the proxy's local id. When fetching the object fails
 * because its node is dead, the proxy is dropped, the object becomes
 * pending again and the task is sent once more with the same arguments,
 * its result going to the same object; an argument that was lost with a
 * node too is rebuilt first, the same way (so a chain comes back link by
 * link).
 *
 * Memory: what a record keeps (the arguments' payload bytes, the name, a
 * fixed overhead) counts against MANTA_LINEAGE_MEMORY (64 MiB by default;
 * 0 keeps none). Beyond it the oldest records give up their arguments
 * (evicted: the object can no longer be rebuilt, and says why when lost).
 * Arguments that are refs keep their objects alive while the record holds
 * them, as in Ray; those objects count against the object store, not here.
 *
 * Everything here runs under rt.mu; values dropped go to the garbage list.
 */
#include "cluster.h"

#include "size.h"

#include <stdlib.h>
#include <string.h>

#define LINEAGE_DEFAULT (64ull << 20)
#define LINEAGE_OVERHEAD 256  /* a record's own bytes, roughly */
#define LINEAGE_MAX_DEPTH 256 /* arguments rebuilt inside each other */

struct mt_lineage {
  uint64_t obj; /* the local object it rebuilds (0 until kept) */
  char *function;
  mt_resource_request demand;
  mt_placement placement;
  uint64_t target;
  int attempts;       /* dispatches of the task so far */
  manta_value **args; /* NULL once evicted */
  size_t nargs;
  size_t bytes; /* counted against the limit while kept */
  bool evicted;
  bool too_large;  /* evicted because it alone exceeds the limit */
  int64_t lost_ms; /* first failed fetch since its copy was made */
  struct mt_lineage *older, *newer; /* records holding arguments */
};

static uint64_t limit_bytes = LINEAGE_DEFAULT;
static mt_u64map records; /* local object id -> mt_lineage (rt.mu) */
static mt_lineage *oldest, *newest;
static uint64_t kept_bytes;

void mt_lineage_start(void) {
  const char *env = getenv("MANTA_LINEAGE_MEMORY");
  limit_bytes = LINEAGE_DEFAULT;
  if (env && *env) {
    uint64_t v;
    if (mt_parse_size(env, &v) == 0) {
      limit_bytes = v;
    } else {
      mt_log(MT_LOG_WARN,
             "cluster: MANTA_LINEAGE_MEMORY=%s is not a size (such as "
             "64MiB); keeping the default 64 MiB of lineage",
             env);
    }
  }
}

static void unlink_kept(mt_lineage *l) {
  if (l->older) {
    l->older->newer = l->newer;
  } else if (oldest == l) {
    oldest = l->newer;
  }
  if (l->newer) {
    l->newer->older = l->older;
  } else if (newest == l) {
    newest = l->older;
  }
  l->older = l->newer = NULL;
}

/* Gives up the arguments: the object can no longer be rebuilt. */
static void evict_locked(mt_lineage *l, mt_garbage *g) {
  if (l->evicted) {
    return;
  }
  if (l->obj) {
    unlink_kept(l);
    kept_bytes -= l->bytes;
  }
  for (size_t i = 0; i < l->nargs; i++) {
    mt_garbage_add(g, l->args[i]);
  }
  free(l->args);
  l->args = NULL;
  l->evicted = true;
}

static void free_locked(mt_lineage *l, mt_garbage *g) {
  if (l) {
    evict_locked(l, g);
    free(l->function);
    free(l);
  }
}

mt_lineage *mt_lineage_take_locked(const mt_task *t) {
  if (!t || t->kind != MT_TASK_FUNCTION || !t->remote) {
    return NULL;
  }
  mt_lineage *l = calloc(1, sizeof *l);
  if (!l || !(l->function = strdup(t->remote->function))) {
    free(l);
    return NULL;
  }
  l->demand = t->remote->demand;
  l->placement = t->remote->placement;
  l->target = t->remote->target;
  l->attempts = t->remote->attempts;
  l->bytes = LINEAGE_OVERHEAD + strlen(l->function);
  for (size_t i = 0; i < t->nargs; i++) {
    l->bytes += mt_value_payload_bytes(t->args[i]);
  }
  l->args = t->nargs ? calloc(t->nargs, sizeof *l->args) : NULL;
  if (t->nargs && !l->args) {
    l->evicted = true; /* kept as a marker: the error says why */
    return l;
  }
  l->nargs = t->nargs;
  for (size_t i = 0; i < t->nargs; i++) {
    l->args[i] = manta_value_ref(t->args[i]);
  }
  return l;
}

void mt_lineage_drop_locked(mt_lineage *l, mt_garbage *g) {
  free_locked(l, g);
}

void mt_lineage_forget_locked(uint64_t obj, mt_garbage *g) {
  if (records.len) {
    free_locked(mt_u64map_remove(&records, obj), g);
  }
}

void mt_lineage_keep_locked(mt_object *o, mt_lineage *l, mt_garbage *g) {
  uint64_t id = mt_slots_id(&mt_rt.objects, o);
  mt_lineage_forget_locked(id, g);
  if (!l) {
    return;
  }
  if (!mt_u64map_put(&records, id, l)) {
    free_locked(l, g);
    return;
  }
  l->obj = id;
  if (l->evicted) {
    return;
  }
  if (l->bytes > limit_bytes) {
    l->too_large = true;
    l->obj = 0; /* not linked: nothing to unlink */
    evict_locked(l, g);
    l->obj = id;
    return;
  }
  l->older = newest;
  if (newest) {
    newest->newer = l;
  } else {
    oldest = l;
  }
  newest = l;
  kept_bytes += l->bytes;
  while (kept_bytes > limit_bytes && oldest) {
    evict_locked(oldest, g);
  }
}

int64_t mt_lineage_lost_since_locked(uint64_t obj) {
  mt_lineage *l = records.len ? mt_u64map_get(&records, obj) : NULL;
  if (!l) {
    return -1;
  }
  if (!l->lost_ms) {
    l->lost_ms = mt_now_ms();
  }
  return l->lost_ms;
}

/* Whether the node is alive in this node's view. */
static bool node_alive_locked(uint64_t node) {
  const mt_view_node *v = mt_view_find_locked(node);
  return v && v->alive;
}

static void lost_error_locked(mt_object *o, const mt_lineage *l,
                              const char *why, mt_garbage *g) {
  char limit[32];
  mt_format_size(limit, sizeof limit, limit_bytes);
  manta_value *e;
  if (l->evicted && limit_bytes == 0) {
    e = mt_error_new(MANTA_ERR_OBJECT_LOST, "cluster",
                     "%s; it cannot be rebuilt: no lineage is kept "
                     "(MANTA_LINEAGE_MEMORY=0)",
                     why);
  } else if (l->evicted) {
    e = mt_error_new(
        MANTA_ERR_OBJECT_LOST, "cluster",
        "%s; it cannot be rebuilt: the lineage of the task '%s' that made "
        "it was evicted, %s (lineage memory limit %s, MANTA_LINEAGE_MEMORY)",
        why, l->function,
        l->too_large ? "since its arguments alone exceed the limit"
                     : "oldest first, to keep the lineage of newer objects "
                       "under the limit",
        limit);
  } else {
    e = mt_error_new(MANTA_ERR_OBJECT_LOST, "cluster",
                     "%s; it cannot be rebuilt: the task '%s' that made it "
                     "was dispatched %d times already (at most %d, retries "
                     "and rebuilds together)",
                     why, l->function, l->attempts, MT_MAX_ATTEMPTS);
  }
  mt_obj_complete_locked(o, e, g);
}

static bool rebuild_locked(mt_object *o, uint64_t lost_node, const char *why,
                           int depth, mt_garbage *g);

/* Arguments of a rebuilt task that lived on a dead node: a copy fetched
 * here becomes this node's own; one not fetched is rebuilt too. NULL if
 * all can be had, else the error to resolve the object with. */
static manta_value *revive_args_locked(mt_lineage *l, uint64_t lost_node,
                                       int depth, mt_garbage *g) {
  for (size_t i = 0; i < l->nargs; i++) {
    if (manta_value_kind(l->args[i]) != MANTA_KIND_REF) {
      continue;
    }
    uint64_t id = mt_value_ref_id(l->args[i]);
    mt_object *a = mt_obj_lookup_locked(id);
    if (!a || !a->proxy) {
      continue; /* here, or being made again already */
    }
    uint64_t node = a->proxy->owner_node;
    if (node != lost_node && node_alive_locked(node)) {
      continue; /* fetched from where it lives by the node running it */
    }
    if (a->state == MT_OBJ_READY) {
      mt_rebuild_moved_locked(node, a->proxy->owner_id, id);
      mt_proxy_detach_locked(a, g); /* its copy here is the one left */
      mt_lineage_forget_locked(id, g);
      continue;
    }
    char sub[300];
    char hex[17];
    mt_wire_node_id_hex(node, hex);
    snprintf(sub, sizeof sub, "argument %zu of '%s' lived on node %s, lost too",
             i, l->function, hex);
    if (depth >= LINEAGE_MAX_DEPTH) {
      return mt_error_new(MANTA_ERR_OBJECT_LOST, "cluster",
                          "%s; it cannot be rebuilt: lost objects depend on "
                          "each other more than %d deep",
                          sub, LINEAGE_MAX_DEPTH);
    }
    if (!rebuild_locked(a, node, sub, depth + 1, g)) {
      return mt_error_new(MANTA_ERR_OBJECT_LOST, "cluster",
                          "%s; it cannot be rebuilt: this process did not "
                          "make it by a task (an object made by put, or "
                          "one owned by another process, is lost with its "
                          "node)",
                          sub);
    }
  }
  return NULL;
}

static bool rebuild_locked(mt_object *o, uint64_t lost_node, const char *why,
                           int depth, mt_garbage *g) {
  uint64_t id = mt_slots_id(&mt_rt.objects, o);
  mt_lineage *l = records.len ? mt_u64map_get(&records, id) : NULL;
  if (!l || o->state != MT_OBJ_PENDING || mt_cl.stopping ||
      mt_rt.shutting_down) {
    return false;
  }
  if (o->proxy) {
    /* A node asking for it by its old id finds it (rebuild_ask.c). */
    mt_rebuild_moved_locked(o->proxy->owner_node, o->proxy->owner_id, id);
    mt_proxy_detach_locked(o, g);
  }
  if (l->evicted || l->attempts >= MT_MAX_ATTEMPTS) {
    lost_error_locked(o, l, why, g);
    mt_lineage_forget_locked(id, g);
    return true;
  }
  mt_u64map_remove(&records, id);
  /* Kept until the task holds the arguments: rebuilding them may free
   * objects, never these. */
  manta_value *fail = revive_args_locked(l, lost_node, depth, g);
  mt_task *t =
      fail ? NULL
           : mt_task_alloc(MT_TASK_FUNCTION,
                           (const manta_value *const *)l->args, l->nargs);
  if (t) {
    t->remote = calloc(1, sizeof *t->remote);
    if (t->remote && (t->remote->function = strdup(l->function))) {
      t->remote->demand = l->demand;
      t->remote->placement = l->placement;
      t->remote->target = l->target;
      t->remote->attempts = l->attempts;
    } else {
      free(t->remote);
      t->remote = NULL;
      mt_task_free_locked(t, g);
      t = NULL;
    }
  }
  if (!t) {
    mt_obj_complete_locked(
        o,
        fail ? fail
             : mt_error_new(MANTA_ERR_NOMEM, "cluster",
                            "%s; rebuilding it ran out of memory", why),
        g);
    free_locked(l, g);
    return true;
  }
  mt_log(MT_LOG_INFO,
         "cluster: %s; rebuilding it by running '%s' again (dispatch %d of "
         "at most %d)",
         why, l->function, l->attempts + 1, MT_MAX_ATTEMPTS);
  free_locked(l, g);
  t->fn = mt_strmap_get(&mt_rt.functions, t->remote->function);
  mt_obj_retain_locked(o); /* the task's own count */
  o->task = t;
  t->result = o;
  mt_note_retry_locked(t->remote->function); /* manta_tasks_retried_total */
  mt_task_start_deps_locked(t, g);
  return true;
}

bool mt_lineage_rebuild_locked(mt_object *o, const char *why, mt_garbage *g) {
  uint64_t node = o->proxy ? o->proxy->owner_node : 0;
  return rebuild_locked(o, node, why, 0, g);
}

void mt_lineage_stop_locked(mt_garbage *g) {
  uint64_t key;
  void *val;
  for (size_t pos = 0; mt_u64map_next(&records, &pos, &key, &val);) {
    free_locked(val, g);
  }
  mt_u64map_free(&records);
  oldest = newest = NULL;
  kept_bytes = 0;
}
