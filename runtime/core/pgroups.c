/*
 * Placement groups as a program sees them (manta_placement_group_*): a
 * table of checked ids, each naming a group, its bundles and its state.
 * Embedded, this node is the whole cluster: a group is planned against its
 * resources (pg_plan.c) and reserved here (bundles.c) at once, or waits in
 * creation order until resources free up. In a cluster the head decides
 * (mt_rt.cluster->pg_*): this file keeps the handle and asks.
 *
 * Also what a call in a group runs with: its demand renamed into the
 * bundle's resources and a hard affinity to the bundle's node, so that the
 * rest of the runtime places and runs it as any other call.
 *
 * A node that runs a captured call of a group it did not create keeps a
 * *shadow* of the group (asked of the head once), so that the call's own
 * children go into the group too; a shadow has no handle a program holds,
 * and is forgotten when the node's bundles of the group are freed.
 */
#include "cluster_seam.h"
#include "rt.h"
#include "task_context.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef enum pg_state {
  PG_PENDING = 0,
  PG_CREATED = 1,
  PG_INFEASIBLE = 2,
  PG_REMOVED = 3
} pg_state;

typedef struct mt_pg {
  mt_slot slot; /* first: the table's header */
  uint64_t gid; /* the group's id in the cluster */
  int strategy;
  size_t nb;
  mt_resource_request *bundles;
  uint64_t *nodes; /* per bundle, once created */
  pg_state state;
  manta_value *why; /* infeasible: the error */
  unsigned turn;    /* bundle -1: where the last call went */
  unsigned waiters;
  struct mt_pg *next_pending; /* embedded, waiting for resources */
  mt_task_list queued;        /* tasks waiting for it to be reserved */
  bool release_due;           /* decided where queued could not be let go */
  bool moving;  /* a bundle's node died: the head places it again */
  bool shadow;  /* another node's group, for captured calls running here */
  bool capture; /* calls made by its tasks go into it (mt_pg_capture) */
} mt_pg;

/* Under rt.mu. */
static struct {
  uint8_t epoch;
  mt_slots table;
  mt_pg *pending_head; /* embedded: in creation order */
  pthread_cond_t cv;   /* a group changed state */
  uint64_t seq;        /* makes group ids */
} pgs;

static void ensure_table_locked(void) {
  if (pgs.epoch != mt_rt.epoch) {
    if (pgs.epoch) {
      pthread_cond_destroy(&pgs.cv);
    }
    memset(&pgs, 0, sizeof pgs);
    mt_slots_init(&pgs.table, sizeof(mt_pg), 6, mt_rt.epoch);
    mt_cond_init(&pgs.cv);
    pgs.epoch = mt_rt.epoch;
  }
}

static mt_pg *lookup_locked(uint64_t id) {
  ensure_table_locked();
  return mt_slots_find(&pgs.table, id);
}

/* A group a program holds a handle to (never a shadow). */
static mt_pg *lookup_user_locked(uint64_t id) {
  mt_pg *pg = lookup_locked(id);
  return pg && !pg->shadow ? pg : NULL;
}

/* ---- bundles from a value ----------------------------------------------- */

static manta_err bundles_from_value(const manta_value *v,
                                    mt_resource_request **out, size_t *n) {
  size_t len = 0;
  if (manta_value_kind(v) != MANTA_KIND_LIST || manta_len(v, &len) ||
      len == 0 || len > 4096) {
    return MANTA_ERR_INVALID;
  }
  mt_resource_request *b = calloc(len, sizeof *b);
  if (!b) {
    return MANTA_ERR_NOMEM;
  }
  for (size_t i = 0; i < len; i++) {
    const manta_value *m = NULL;
    size_t keys = 0;
    manta_list_at(v, i, &m);
    if (manta_value_kind(m) != MANTA_KIND_MAP || manta_len(m, &keys) ||
        keys == 0 || keys > MT_MAX_REQUEST - 2) {
      free(b);
      return MANTA_ERR_INVALID;
    }
    for (size_t j = 0; j < keys; j++) {
      const char *key;
      const manta_value *q;
      double qty;
      int64_t iq;
      manta_map_at(m, j, &key, &q);
      if (manta_get_double(q, &qty) != MANTA_OK) {
        if (manta_get_int(q, &iq) != MANTA_OK) {
          free(b);
          return MANTA_ERR_INVALID;
        }
        qty = (double)iq;
      }
      if (!(qty > 0) || qty > 1e15 || !key[0] || strlen(key) > 40) {
        free(b);
        return MANTA_ERR_INVALID;
      }
      snprintf(b[i].names[b[i].n], 64, "%s", key);
      b[i].qty[b[i].n++] = qty;
    }
  }
  *out = b;
  *n = len;
  return MANTA_OK;
}

/* ---- embedded: planned and reserved here -------------------------------- */

static void set_state_locked(mt_pg *pg, pg_state st, manta_value *why,
                             mt_garbage *g) {
  pg->state = st;
  mt_garbage_add(g, pg->why);
  pg->why = why;
  pthread_cond_broadcast(&pgs.cv);
}

/* Plans pg against this node and reserves it if it fits now. */
static void try_local_locked(mt_pg *pg, mt_garbage *g) {
  mt_plan_node self = {mt_rt.node_id, mt_rt.nres,
                       (const char(*)[64])mt_rt.res_names, mt_rt.res_total,
                       mt_rt.res_avail};
  size_t *where = calloc(pg->nb, sizeof *where);
  int32_t *idx = calloc(pg->nb, sizeof *idx);
  char why[300];
  mt_plan_result r = where && idx
                         ? mt_pg_plan(pg->strategy, pg->bundles, pg->nb, &self,
                                      1, where, why, sizeof why)
                         : MT_PLAN_WAIT;
  if (r == MT_PLAN_INFEASIBLE) {
    set_state_locked(pg, PG_INFEASIBLE,
                     mt_error_new(MANTA_ERR_INFEASIBLE, "placement group",
                                  "placement group %016" PRIx64
                                  " (%s) can never be reserved: %s",
                                  pg->gid, mt_pg_strategy_name(pg->strategy),
                                  why),
                     g);
  } else if (r == MT_PLAN_OK) {
    for (size_t i = 0; i < pg->nb; i++) {
      idx[i] = (int32_t)i;
    }
    if (mt_bundles_prepare_locked(pg->gid, idx, pg->bundles, pg->nb, true, why,
                                  sizeof why) == MANTA_OK) {
      for (size_t i = 0; i < pg->nb; i++) {
        pg->nodes[i] = mt_rt.node_id;
      }
      set_state_locked(pg, PG_CREATED, NULL, g);
    }
  }
  free(where);
  free(idx);
}

void mt_pgs_retry_locked(void) {
  if (pgs.epoch != mt_rt.epoch || mt_rt.cluster) {
    return;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  /* In creation order; one that still waits does not hold back a later one
   * that fits (best effort, as the scheduler does for tasks). */
  for (mt_pg **p = &pgs.pending_head; *p;) {
    mt_pg *pg = *p;
    try_local_locked(pg, &g);
    if (pg->state != PG_PENDING) {
      *p = pg->next_pending;
      if (pg->queued.len > 0) {
        /* Let go by the next worker, which has a garbage list at hand
         * (this is called where resources move, without one). */
        pg->release_due = true;
        mt_rt.pg_release_due = true;
        mt_sched_kick_locked();
      }
    } else {
      p = &pg->next_pending;
    }
  }
  /* A pending group holds no error value, so nothing was replaced: g is
   * empty (it cannot be freed here, under rt.mu). */
  if (g.len) {
    mt_log(MT_LOG_ERROR, "placement groups: %zu values leaked", g.len);
  }
}

/* ---- calls waiting for their group ------------------------------------ */

/* Fails every call waiting for pg with code and msg. */
static void fail_queued_locked(mt_pg *pg, manta_err code, const char *msg,
                               mt_garbage *g) {
  while (pg->queued.head) {
    mt_task *t = pg->queued.head;
    mt_task_list_unlink(&pg->queued, t);
    t->where = MT_WHERE_DEPS; /* no longer queued; nothing to wait for */
    mt_task_cancel_locked(t, mt_task_error(t, code, "%s", msg), g);
  }
}

/* A call that waited for its group goes on as made now: a task is
 * submitted, an actor's creation placed. */
static void resume_locked(mt_task *t, const mt_pg_call *c, mt_garbage *g) {
  if (t->kind == MT_TASK_ACTOR_CREATE) {
    mt_actor_create_resume_locked(t, c, g);
  } else {
    mt_submit_resume_locked(t, c, g);
  }
}

/* pg was decided: its waiting calls are submitted into it (reserved), or
 * fail as a call into it now would. */
static void release_queued_locked(mt_pg *pg, mt_garbage *g) {
  pg->release_due = false;
  if (pg->state == PG_PENDING || !pg->queued.head) {
    return;
  }
  if (pg->state != PG_CREATED) {
    char msg[600];
    if (pg->state == PG_REMOVED) {
      snprintf(msg, sizeof msg,
               "placement group %016" PRIx64 " was removed before it ran",
               pg->gid);
    } else {
      snprintf(msg, sizeof msg, "%s",
               pg->why ? manta_error_message(pg->why)
                       : "its placement group can never be reserved");
    }
    fail_queued_locked(pg,
                       pg->state == PG_REMOVED ? MANTA_ERR_CANCELLED
                       : pg->why               ? manta_error_code(pg->why)
                                               : MANTA_ERR_INFEASIBLE,
                       msg, g);
    return;
  }
  while (pg->queued.head) {
    mt_task *t = pg->queued.head;
    mt_task_list_unlink(&pg->queued, t);
    resume_locked(t, t->pg_call, g);
  }
}

/* A head's answer about a pending group (cluster): reserved (nodes), still
 * waiting (MANTA_ERR_TIMEOUT), or never (*fail taken). About a reserved
 * group that lost a bundle with its node: pending again while the head
 * places it again (calls wait), or reserved with its new nodes. */
static void polled_locked(mt_pg *pg, manta_err err, const uint64_t *nodes,
                          manta_value **fail, mt_garbage *g) {
  if (pg->state == PG_CREATED) {
    if (err == MANTA_OK) {
      memcpy(pg->nodes, nodes, pg->nb * sizeof *nodes);
    } else if (err == MANTA_ERR_TIMEOUT) {
      pg->moving = true;
      set_state_locked(pg, PG_PENDING, NULL, g);
    }
    return; /* anything else (the head forgot it): kept as it was */
  }
  if (err == MANTA_OK) {
    memcpy(pg->nodes, nodes, pg->nb * sizeof *nodes);
    pg->moving = false;
    set_state_locked(pg, PG_CREATED, NULL, g);
  } else if (err != MANTA_ERR_TIMEOUT) {
    set_state_locked(pg, PG_INFEASIBLE, *fail, g);
    *fail = NULL;
  }
  release_queued_locked(pg, g);
}

bool mt_pg_pending(const manta_call_options *opts) {
  mt_lock();
  mt_pg *pg = mt_rt.initialized ? lookup_locked(opts->pg) : NULL;
  bool pending = pg && pg->state == PG_PENDING;
  mt_unlock();
  return pending;
}

void mt_pg_queue_locked(mt_task *t, const char *name,
                        const manta_call_options *opts, bool route,
                        mt_garbage *g) {
  mt_pg *pg = lookup_locked(opts->pg);
  mt_pg_call *c = calloc(1, sizeof *c);
  if (!c || !(c->name = strdup(name))) {
    free(c);
    t->where = MT_WHERE_DEPS;
    mt_task_cancel_locked(t, mt_task_error(t, MANTA_ERR_NOMEM, "out of memory"),
                          g);
    return;
  }
  c->opts = *opts;
  c->opts.name = NULL; /* an actor's; not kept past the call */
  c->route = route;
  t->pg_call = c;
  if (pg && pg->state == PG_PENDING) {
    t->where = MT_WHERE_GROUP;
    mt_task_list_push(&pg->queued, t);
    return;
  }
  /* Decided meanwhile: as a call made now. */
  resume_locked(t, c, g);
}

void mt_pg_unqueue_locked(mt_task *t) {
  mt_pg *pg = t->pg_call ? lookup_locked(t->pg_call->opts.pg) : NULL;
  if (pg) {
    mt_task_list_unlink(&pg->queued, t);
  }
}

void mt_pgs_release_due_locked(mt_garbage *g) {
  mt_rt.pg_release_due = false;
  if (pgs.epoch != mt_rt.epoch) {
    return;
  }
  for (size_t i = 0; i < pgs.table.used; i++) {
    mt_pg *pg = mt_slots_at(&pgs.table, i);
    if (pg->slot.live && pg->release_due) {
      release_queued_locked(pg, g);
    }
  }
}

/* Whether a bundle of pg is on a node alive_locked says is gone. */
static bool bundle_lost_locked(const mt_pg *pg,
                               bool (*alive_locked)(uint64_t node)) {
  for (size_t i = 0; alive_locked && i < pg->nb; i++) {
    if (pg->nodes[i] != mt_rt.node_id && !alive_locked(pg->nodes[i])) {
      return true;
    }
  }
  return false;
}

void mt_pgs_poll_queued(bool (*alive_locked)(uint64_t node)) {
  enum { MAX_POLL = 64 };
  uint64_t ids[MAX_POLL], gids[MAX_POLL];
  size_t nbs[MAX_POLL], n = 0;
  mt_lock();
  const mt_cluster_ops *cl = mt_rt.cluster;
  for (size_t i = 0;
       cl && pgs.epoch == mt_rt.epoch && i < pgs.table.used && n < MAX_POLL;
       i++) {
    mt_pg *pg = mt_slots_at(&pgs.table, i);
    if (pg->slot.live &&
        (pg->state == PG_PENDING ? pg->queued.head || pg->moving
                                 : pg->state == PG_CREATED &&
                                       bundle_lost_locked(pg, alive_locked))) {
      ids[n] = mt_slots_id(&pgs.table, pg);
      gids[n] = pg->gid;
      nbs[n++] = pg->nb;
    }
  }
  mt_unlock();
  for (size_t k = 0; k < n; k++) {
    uint64_t *nodes = calloc(nbs[k], sizeof *nodes);
    manta_value *fail = NULL;
    manta_err err =
        nodes ? cl->pg_poll(gids[k], nodes, nbs[k], &fail) : MANTA_ERR_TIMEOUT;
    mt_garbage g;
    mt_garbage_init(&g);
    mt_lock();
    mt_pg *pg = mt_rt.cluster ? lookup_locked(ids[k]) : NULL;
    if (pg && (pg->state == PG_PENDING || pg->state == PG_CREATED) && nodes) {
      polled_locked(pg, err, nodes, &fail, &g);
    }
    mt_unlock();
    mt_garbage_add(&g, fail);
    mt_garbage_free(&g);
    free(nodes);
  }
}

/* ---- the public API ----------------------------------------------------- */

manta_err manta_placement_group_create(const manta_value *bundles,
                                       manta_pg_strategy strategy,
                                       manta_placement_group *out) {
  if (!bundles || !out || strategy < MANTA_PG_PACK ||
      strategy > MANTA_PG_STRICT_SPREAD) {
    return MANTA_ERR_INVALID;
  }
  mt_resource_request *b;
  size_t nb;
  manta_err err = bundles_from_value(bundles, &b, &nb);
  if (err != MANTA_OK) {
    return err;
  }
  uint64_t *nodes = calloc(nb, sizeof *nodes);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_pg *pg = NULL;
  if (!mt_rt.initialized || mt_rt.shutting_down) {
    err = mt_rt.initialized ? MANTA_ERR_SHUTDOWN : MANTA_ERR_NOT_INITIALIZED;
  } else if (!nodes ||
             !(ensure_table_locked(), pg = mt_slots_alloc(&pgs.table))) {
    err = MANTA_ERR_NOMEM;
  }
  if (err != MANTA_OK) {
    mt_unlock();
    free(b);
    free(nodes);
    return err;
  }
  /* Unique in the cluster: this node's random id mixed with a count. */
  pg->gid = (mt_rt.node_id ^ (++pgs.seq * 0x9e3779b97f4a7c15ull)) | 1;
  pg->strategy = strategy;
  pg->nb = nb;
  pg->bundles = b;
  pg->nodes = nodes;
  out->id = mt_slots_id(&pgs.table, pg);
  const mt_cluster_ops *cl = mt_rt.cluster;
  if (!cl) {
    try_local_locked(pg, &g);
    if (pg->state == PG_PENDING) {
      mt_pg **p = &pgs.pending_head;
      while (*p) {
        p = &(*p)->next_pending;
      }
      *p = pg;
      mt_rt.bundles_watch = true;
    }
    mt_unlock();
    mt_garbage_free(&g);
    return MANTA_OK;
  }
  uint64_t gid = pg->gid;
  mt_unlock();
  manta_value *fail = NULL;
  err = cl->pg_create(gid, strategy, b, nb, &fail);
  mt_lock();
  pg = lookup_locked(out->id);
  if (pg && err != MANTA_OK) {
    if (!fail) {
      fail = mt_error_new(err, "placement group",
                          "the head did not take placement group %016" PRIx64
                          ": %s",
                          gid, manta_strerror(err));
    }
    set_state_locked(pg, PG_INFEASIBLE, fail, &g);
    release_queued_locked(pg, &g);
    fail = NULL;
  }
  mt_unlock();
  mt_garbage_add(&g, fail);
  mt_garbage_free(&g);
  return MANTA_OK;
}

/* An error value for the group's state (NULL for created or pending). */
static manta_value *state_error(const mt_pg *pg) {
  if (pg->state == PG_INFEASIBLE && pg->why) {
    return manta_value_ref(pg->why);
  }
  if (pg->state == PG_REMOVED) {
    return mt_error_new(MANTA_ERR_CANCELLED, "placement group",
                        "placement group %016" PRIx64 " was removed", pg->gid);
  }
  return NULL;
}

static manta_err state_code(const mt_pg *pg) {
  switch (pg->state) {
  case PG_CREATED:
    return MANTA_OK;
  case PG_INFEASIBLE:
    return pg->why ? manta_error_code(pg->why) : MANTA_ERR_INFEASIBLE;
  case PG_REMOVED:
    return MANTA_ERR_CANCELLED;
  default:
    return MANTA_ERR_TIMEOUT;
  }
}

/* Cluster: asks the head until the group is decided or the deadline. */
static manta_err wait_cluster(uint64_t id, uint64_t gid, size_t nb,
                              int64_t timeout_ms, manta_value **error) {
  int64_t waited = 0, step = 10;
  uint64_t *nodes = calloc(nb, sizeof *nodes);
  if (!nodes) {
    return MANTA_ERR_NOMEM;
  }
  for (;;) {
    mt_lock();
    mt_pg *pg = lookup_locked(id);
    const mt_cluster_ops *cl = mt_rt.cluster;
    manta_err err = !pg   ? MANTA_ERR_CANCELLED
                    : !cl ? MANTA_ERR_SHUTDOWN
                          : state_code(pg);
    if (err != MANTA_ERR_TIMEOUT) {
      if (error && pg) {
        *error = state_error(pg);
      }
      mt_unlock();
      free(nodes);
      return err;
    }
    mt_unlock();
    manta_value *fail = NULL;
    err = cl->pg_poll(gid, nodes, nb, &fail);
    mt_garbage g;
    mt_garbage_init(&g);
    mt_lock();
    pg = lookup_locked(id);
    if (pg && pg->state == PG_PENDING) {
      polled_locked(pg, err, nodes, &fail, &g);
    }
    mt_unlock();
    mt_garbage_add(&g, fail);
    mt_garbage_free(&g);
    if (err == MANTA_ERR_TIMEOUT) {
      if (timeout_ms >= 0 && waited >= timeout_ms) {
        if (error) {
          *error = mt_error_new(MANTA_ERR_TIMEOUT, "placement group",
                                "placement group %016" PRIx64
                                " is still waiting for resources after %lld "
                                "ms",
                                gid, (long long)timeout_ms);
        }
        free(nodes);
        return MANTA_ERR_TIMEOUT;
      }
      int64_t nap = timeout_ms >= 0 && timeout_ms - waited < step
                        ? timeout_ms - waited
                        : step;
      struct timespec ts = {nap / 1000, (long)(nap % 1000) * 1000000L};
      nanosleep(&ts, NULL);
      waited += nap;
      step = step < 100 ? step * 2 : 100;
    }
  }
}

manta_err manta_placement_group_wait(manta_placement_group handle,
                                     int64_t timeout_ms, manta_value **error) {
  if (error) {
    *error = NULL;
  }
  mt_lock();
  mt_pg *pg = mt_rt.initialized ? lookup_user_locked(handle.id) : NULL;
  if (!pg) {
    manta_err err =
        mt_rt.initialized ? MANTA_ERR_BAD_HANDLE : MANTA_ERR_NOT_INITIALIZED;
    mt_unlock();
    return err;
  }
  if (mt_rt.cluster) {
    uint64_t gid = pg->gid;
    size_t nb = pg->nb;
    mt_unlock();
    return wait_cluster(handle.id, gid, nb, timeout_ms, error);
  }
  struct timespec deadline;
  mt_deadline(timeout_ms, &deadline);
  pg->waiters++;
  mt_rt.in_wait++; /* shutdown waits for this thread to leave */
  while (pg->state == PG_PENDING && !mt_rt.shutting_down) {
    if (timeout_ms >= 0 && mt_cond_wait(&pgs.cv, &deadline) != 0) {
      break;
    } else if (timeout_ms < 0) {
      mt_cond_wait(&pgs.cv, NULL);
    }
  }
  pg->waiters--;
  if (--mt_rt.in_wait == 0 && mt_rt.shutting_down) {
    pthread_cond_broadcast(&mt_rt.exit_cv);
  }
  manta_err err = mt_rt.shutting_down && pg->state == PG_PENDING
                      ? MANTA_ERR_SHUTDOWN
                      : state_code(pg);
  if (error) {
    *error = state_error(pg);
    if (err == MANTA_ERR_TIMEOUT) {
      *error = mt_error_new(MANTA_ERR_TIMEOUT, "placement group",
                            "placement group %016" PRIx64
                            " is still waiting for resources after %lld ms",
                            pg->gid, (long long)timeout_ms);
    }
  }
  if (pg->state == PG_REMOVED && pg->waiters == 0) {
    mt_slots_free(&pgs.table, pg);
  }
  mt_unlock();
  return err;
}

static void pg_free_locked(mt_pg *pg, mt_garbage *g) {
  free(pg->bundles);
  free(pg->nodes);
  mt_garbage_add(g, pg->why);
  pg->bundles = NULL;
  pg->nodes = NULL;
  pg->why = NULL;
}

manta_err manta_placement_group_remove(manta_placement_group handle) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_pg *pg = mt_rt.initialized ? lookup_user_locked(handle.id) : NULL;
  if (!pg || pg->state == PG_REMOVED) {
    manta_err err =
        mt_rt.initialized ? MANTA_ERR_BAD_HANDLE : MANTA_ERR_NOT_INITIALIZED;
    mt_unlock();
    return err;
  }
  for (mt_pg **p = &pgs.pending_head; *p; p = &(*p)->next_pending) {
    if (*p == pg) {
      *p = pg->next_pending;
      break;
    }
  }
  uint64_t gid = pg->gid;
  const mt_cluster_ops *cl = mt_rt.cluster;
  /* Here first: calls of this node in the group fail at once, whoever
   * frees the other nodes' bundles. */
  mt_bundles_return_locked(gid, &g);
  set_state_locked(pg, PG_REMOVED, NULL, &g);
  release_queued_locked(pg, &g); /* they fail: CANCELLED */
  pg_free_locked(pg, &g);
  if (pg->waiters == 0) {
    mt_slots_free(&pgs.table, pg);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return cl ? cl->pg_remove(gid) : MANTA_OK;
}

manta_err
manta_placement_group_set_capture_child_tasks(manta_placement_group handle,
                                              int on) {
  mt_lock();
  mt_pg *pg = mt_rt.initialized ? lookup_user_locked(handle.id) : NULL;
  manta_err err =
      mt_rt.initialized ? MANTA_ERR_BAD_HANDLE : MANTA_ERR_NOT_INITIALIZED;
  if (pg && pg->state != PG_REMOVED) {
    pg->capture = on != 0;
    err = MANTA_OK;
  }
  mt_unlock();
  return err;
}

/* The live group entry (handle or shadow) of group gid, or NULL. */
static mt_pg *find_gid_locked(uint64_t gid) {
  for (size_t i = 0; gid && mt_rt.initialized && pgs.epoch == mt_rt.epoch &&
                     i < pgs.table.used;
       i++) {
    mt_pg *pg = mt_slots_at(&pgs.table, i);
    if (pg->slot.live && pg->gid == gid && pg->state != PG_REMOVED) {
      return pg;
    }
  }
  return NULL;
}

/* A shadow of group gid, asked of the head (without rt.mu); its table id,
 * or 0 if the head does not know the group. */
static uint64_t shadow_new(uint64_t gid) {
  mt_lock();
  manta_err (*fetch)(uint64_t, int *, mt_resource_request **, uint64_t **,
                     size_t *) = mt_rt.cluster ? mt_rt.cluster->pg_fetch : NULL;
  mt_unlock();
  int strategy = 0;
  mt_resource_request *bundles = NULL;
  uint64_t *nodes = NULL;
  size_t nb = 0;
  manta_err err =
      fetch ? fetch(gid, &strategy, &bundles, &nodes, &nb) : MANTA_ERR_INVALID;
  if (err != MANTA_OK && err != MANTA_ERR_TIMEOUT) {
    return 0;
  }
  uint64_t id = 0;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_pg *pg = find_gid_locked(gid); /* another thread's, meanwhile */
  if (!pg && mt_rt.initialized && !mt_rt.shutting_down &&
      (ensure_table_locked(), pg = mt_slots_alloc(&pgs.table))) {
    pg->gid = gid;
    pg->strategy = strategy;
    pg->nb = nb;
    pg->bundles = bundles;
    pg->nodes = nodes;
    pg->shadow = pg->capture = true;
    pg->moving = err != MANTA_OK; /* asked again at each heartbeat */
    set_state_locked(pg, err == MANTA_OK ? PG_CREATED : PG_PENDING, NULL, &g);
    bundles = NULL;
    nodes = NULL;
  }
  id = pg ? mt_slots_id(&pgs.table, pg) : 0;
  mt_unlock();
  mt_garbage_free(&g);
  free(bundles);
  free(nodes);
  return id;
}

void mt_pgs_bundles_gone_locked(uint64_t gid, mt_garbage *g) {
  mt_pg *pg = find_gid_locked(gid);
  if (pg && pg->shadow) {
    set_state_locked(pg, PG_REMOVED, NULL, g);
    release_queued_locked(pg, g); /* they fail: CANCELLED */
    pg_free_locked(pg, g);
    if (pg->waiters == 0) {
      mt_slots_free(&pgs.table, pg);
    }
  }
}

bool mt_pg_capture(const manta_call_options *opts, manta_call_options *out) {
  const mt_task *t = mt_task_current();
  if (!t || (!t->pg && t->kind != MT_TASK_ACTOR_CALL) ||
      (opts &&
       (opts->pg || opts->placement.strategy != MANTA_STRATEGY_DEFAULT))) {
    return false;
  }
  uint64_t handle = 0;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  /* A task knows the group it runs in (t->pg, written before it ran) and
   * whether the group captured it (t->pg_capture, the creating node's
   * switch when it was submitted); an actor's method runs in the bundle
   * its actor holds for its lifetime. */
  uint64_t gid = t->pg;
  bool captured = t->pg_capture;
  if (!gid && t->actor && t->actor->holds_demand) {
    manta_value *fail = NULL;
    gid = mt_bundles_of_locked(&t->actor->demand, &fail);
    captured = t->actor->pg_capture;
    mt_garbage_add(&g, fail); /* a group gone: no capture */
  }
  /* By the group's id, not the handle: the creating node holds the
   * handle, and its switch counts there; another node holds a shadow, or
   * makes one now if the call was captured (a scan: groups are few). */
  mt_pg *pg = find_gid_locked(gid);
  bool fresh = !pg && captured && gid;
  if (pg && (pg->shadow ? captured : pg->capture) &&
      (pg->state == PG_CREATED || (pg->state == PG_PENDING && pg->moving))) {
    handle = mt_slots_id(&pgs.table, pg);
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (fresh) {
    handle = shadow_new(gid);
  }
  if (!handle) {
    return false;
  }
  if (opts) {
    *out = *opts;
  } else {
    memset(out, 0, sizeof *out);
    out->num_cpus = -1;
    out->max_retries = MT_DEFAULT_MAX_RETRIES;
  }
  out->pg = handle;
  out->pg_bundle = -1; /* any bundle: the parent's may be full */
  return true;
}

static const char *state_name(pg_state s) {
  static const char *names[] = {"PENDING", "CREATED", "INFEASIBLE", "REMOVED"};
  return names[s];
}

manta_err manta_placement_group_info(manta_placement_group handle,
                                     manta_value **out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  mt_lock();
  mt_pg *pg = mt_rt.initialized ? lookup_user_locked(handle.id) : NULL;
  if (!pg || pg->state == PG_REMOVED) {
    mt_unlock();
    return mt_rt.initialized ? MANTA_ERR_BAD_HANDLE : MANTA_ERR_NOT_INITIALIZED;
  }
  char hex[17];
  manta_value *m = manta_map(), *list = manta_list();
  snprintf(hex, sizeof hex, "%016" PRIx64, pg->gid);
  bool ok = m && list && !manta_map_put(m, "id", manta_cstring(hex)) &&
            !manta_map_put(m, "strategy",
                           manta_cstring(mt_pg_strategy_name(pg->strategy))) &&
            !manta_map_put(m, "state", manta_cstring(state_name(pg->state)));
  for (size_t i = 0; ok && i < pg->nb; i++) {
    manta_value *b = manta_map(), *res = manta_map();
    ok = b && res;
    for (int j = 0; ok && j < pg->bundles[i].n; j++) {
      ok = !manta_map_put(res, pg->bundles[i].names[j],
                          manta_double(pg->bundles[i].qty[j]));
    }
    ok = ok && !manta_map_put(b, "resources", res);
    res = NULL;
    if (ok && pg->state == PG_CREATED) {
      snprintf(hex, sizeof hex, "%016" PRIx64, pg->nodes[i]);
      ok = !manta_map_put(b, "node_id", manta_cstring(hex));
    }
    ok = ok && !manta_list_push(list, b);
    if (!ok) {
      manta_value_free(b);
      manta_value_free(res);
    }
  }
  ok = ok && !manta_map_put(m, "bundles", list);
  mt_unlock();
  if (!ok) {
    manta_value_free(m);
    manta_value_free(list);
    return MANTA_ERR_NOMEM;
  }
  *out = m;
  return MANTA_OK;
}

/* ---- calls in a group --------------------------------------------------- */

/* The quantity of `name` bundle b holds (0: none). */
static double bundle_qty(const mt_resource_request *b, const char *name) {
  for (int j = 0; j < b->n; j++) {
    if (strcmp(b->names[j], name) == 0) {
      return b->qty[j];
    }
  }
  return 0;
}

/* What the call asks (resources and CPU), as one request. */
static void call_request(const manta_call_options *o, bool actor,
                         mt_resource_request *r) {
  mt_demand_request(o, o->num_cpus >= 0 ? o->num_cpus : actor ? 0.0 : 1.0, r);
}

/* The first resource of r that bundle b does not hold enough of, as
 * "CPU 2 asked, the bundle holds 1"; false if b holds all of it. */
static bool bundle_lacks(const mt_resource_request *b,
                         const mt_resource_request *r, char *buf, size_t size) {
  for (int j = 0; j < r->n; j++) {
    double have = bundle_qty(b, r->names[j]);
    if (r->qty[j] > 0 && r->qty[j] > have + 1e-9) {
      snprintf(buf, size, "%s %g asked, the bundle holds %g", r->names[j],
               r->qty[j], have);
      return true;
    }
  }
  return false;
}

manta_value *mt_pg_call_options(const manta_call_options *opts, bool actor,
                                manta_call_options *eff) {
  mt_lock();
  manta_value *fail = mt_pg_call_options_locked(opts, actor, eff);
  mt_unlock();
  return fail;
}

manta_value *mt_pg_call_options_locked(const manta_call_options *opts,
                                       bool actor, manta_call_options *eff) {
  *eff = *opts;
  mt_resource_request want;
  call_request(opts, actor, &want);
  char why[200];
  mt_pg *pg = mt_rt.initialized ? lookup_locked(opts->pg) : NULL;
  manta_value *fail = NULL;
  int i = opts->pg_bundle;
  if (!pg || pg->state == PG_REMOVED) {
    fail = mt_error_new(MANTA_ERR_BAD_HANDLE, "placement group",
                        "the placement group of the call is unknown or "
                        "removed");
  } else if (pg->state != PG_CREATED) {
    fail = mt_error_new(
        pg->state == PG_INFEASIBLE ? MANTA_ERR_INFEASIBLE : MANTA_ERR_INVALID,
        "placement group", "placement group %016" PRIx64 " is %s: %s", pg->gid,
        state_name(pg->state),
        pg->state == PG_INFEASIBLE && pg->why ? manta_error_message(pg->why)
                                              : "it is not reserved");
  } else if (i >= (int)pg->nb) {
    fail = mt_error_new(MANTA_ERR_RANGE, "placement group",
                        "bundle %d of placement group %016" PRIx64
                        ", which has %zu bundles",
                        i, pg->gid, pg->nb);
  } else if (i >= 0 && bundle_lacks(&pg->bundles[i], &want, why, sizeof why)) {
    fail = mt_error_new(MANTA_ERR_INFEASIBLE, "placement group",
                        "the call asks more than bundle %d of placement "
                        "group %016" PRIx64 " holds: %s",
                        i, pg->gid, why);
  } else if (i < 0) {
    /* Any bundle: one on this node first, else the next in turn that can
     * hold the call. */
    int found = -1;
    for (size_t k = 0; k < pg->nb && found < 0; k++) {
      size_t j = (pg->turn + k) % pg->nb;
      if (!bundle_lacks(&pg->bundles[j], &want, why, sizeof why) &&
          pg->nodes[j] == mt_rt.node_id) {
        found = (int)j;
      }
    }
    for (size_t k = 0; k < pg->nb && found < 0; k++) {
      size_t j = (pg->turn + k) % pg->nb;
      if (!bundle_lacks(&pg->bundles[j], &want, why, sizeof why)) {
        found = (int)j;
      }
    }
    if (found < 0) {
      fail = mt_error_new(
          MANTA_ERR_INFEASIBLE, "placement group",
          "the call asks more than any bundle of placement "
          "group %016" PRIx64 " holds (bundle 0: %s)",
          pg->gid,
          (bundle_lacks(&pg->bundles[0], &want, why, sizeof why), why));
    }
    pg->turn = (unsigned)(found + 1);
    i = found;
  }
  if (fail) {
    return fail;
  }
  /* Renamed into the bundle: every name the call asks, and its marker. */
  eff->num_cpus = 0;
  eff->resources.n = 0;
  for (int j = 0; j <= want.n && j < MT_MAX_REQUEST; j++) {
    const char *name = j < want.n ? want.names[j] : "bundle";
    double qty = j < want.n ? want.qty[j] : 0.001;
    if (qty <= 0) {
      continue;
    }
    int n = eff->resources.n;
    mt_bundle_resource_name(name, i, pg->gid, eff->resources.names[n], 64);
    eff->resources.qty[n] = qty;
    eff->resources.n++;
  }
  eff->placement =
      (mt_placement){MANTA_STRATEGY_NODE_AFFINITY, false, pg->nodes[i]};
  eff->pg = 0;
  eff->pg_capture = pg->capture; /* sent on with the call (TaskSpec) */
  return NULL;
}

void mt_pgs_wake_all_locked(void) {
  if (pgs.epoch == mt_rt.epoch) {
    pthread_cond_broadcast(&pgs.cv);
  }
}

void mt_pgs_shutdown_locked(mt_garbage *g) {
  if (pgs.epoch != mt_rt.epoch) {
    return;
  }
  for (size_t i = 0; i < pgs.table.used; i++) {
    mt_pg *pg = mt_slots_at(&pgs.table, i);
    if (pg->slot.live) {
      fail_queued_locked(pg, MANTA_ERR_SHUTDOWN, "the runtime shut down", g);
      pg_free_locked(pg, g);
    }
  }
  pthread_cond_broadcast(&pgs.cv);
  mt_slots_destroy(&pgs.table);
  pthread_cond_destroy(&pgs.cv);
  memset(&pgs, 0, sizeof pgs);
  mt_bundles_shutdown_locked(g);
}
