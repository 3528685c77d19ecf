/*
 * The head's placement groups: which groups exist, their state, and the
 * work of reserving and freeing them (docs/scheduling.md).
 *
 * The head decides where every bundle of a group goes from its view of the
 * nodes (totals from registration, free resources from heartbeats), with
 * the planner the embedded runtime uses (pg_plan.c). That view is up to a
 * heartbeat old, so a node may have less free than the head believes:
 * the head never reserves by itself, it asks each chosen node to PREPARE
 * its bundles, which the node grants only from what is free there and
 * then (all of that node's bundles or none). Only when every node said yes
 * does the head COMMIT them all; if any said no, it RETURNs the prepared
 * ones and the group stays pending, tried again at the next heartbeat. So
 * no group is ever half reserved for longer than one round of calls, and
 * no node ever over-commits.
 *
 * A node that dies takes its bundles with it: the group goes RESCHEDULING
 * and those bundles alone are planned and reserved again on live nodes,
 * the same way (the bundles kept are not touched: a PREPARE or RETURN
 * names the bundles it is about).
 *
 * One job at a time runs, on the head's heartbeat thread, without the
 * directory's mutex; the table is under that mutex.
 */
#include "cluster.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Deadline of one PREPARE, COMMIT or RETURN call. */
#define BUNDLE_CALL_MS 3000

typedef struct head_pg {
  uint64_t id, creator;
  int strategy;
  size_t nb;
  mt_resource_request *bundles;
  uint64_t *nodes; /* per bundle, once created (or being prepared) */
  bool *lost;      /* per bundle: not reserved (all while pending, those of a
                      dead node while rescheduling) */
  int state;       /* Manta__V1__PlacementGroupState */
  char message[400];
  int64_t committed_ms; /* when its bundles were committed */
  bool busy;            /* a job for it runs */
  bool to_return;       /* removed: its nodes must free its bundles */
} head_pg;

struct mt_pg_table {
  head_pg *list;
  size_t n, cap;
};

enum job_kind { JOB_PLACE, JOB_RETURN };

struct mt_pg_job {
  enum job_kind kind;
  uint64_t id;
  size_t nb;
  mt_resource_request *bundles; /* copies */
  uint64_t *nodes;
  char (*addresses)[64];
  bool ok;
  char why[300];
};

mt_pg_table *mt_pg_table_new(void) {
  return calloc(1, sizeof(mt_pg_table));
}

#define PG_STATE(s) MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_##s

static void pg_clear(head_pg *g) {
  free(g->bundles);
  free(g->nodes);
  free(g->lost);
}

/* Whether some bundle of g is reserved on a node (or a job is on it). */
static bool holds_bundles(const head_pg *g) {
  for (size_t i = 0; i < g->nb && !g->busy; i++) {
    if (!g->lost[i] && g->nodes[i]) {
      return true;
    }
  }
  return g->busy;
}

void mt_pg_table_free(mt_pg_table *t) {
  if (!t) {
    return;
  }
  for (size_t i = 0; i < t->n; i++) {
    pg_clear(&t->list[i]);
  }
  free(t->list);
  free(t);
}

bool mt_pg_table_is_method(const char *method) {
  return strcmp(method, MT_HEAD_PG_CREATE) == 0 ||
         strcmp(method, MT_HEAD_PG_GET) == 0 ||
         strcmp(method, MT_HEAD_PG_REMOVE) == 0;
}

static head_pg *find(mt_pg_table *t, uint64_t id) {
  for (size_t i = 0; i < t->n; i++) {
    if (t->list[i].id == id) {
      return &t->list[i];
    }
  }
  return NULL;
}

/* ---- messages ------------------------------------------------------------ */

void mt_pg_bundle_request(const Manta__V1__Bundle *b, mt_resource_request *r) {
  memset(r, 0, sizeof *r);
  for (size_t j = 0; j < b->n_resources && r->n < MT_MAX_REQUEST - 2; j++) {
    snprintf(r->names[r->n], 64, "%s", b->resources[j]->name);
    r->qty[r->n++] = b->resources[j]->total;
  }
}

/* A group as a message pointing into g (and into store, which must hold
 * nb bundles and their resource pointers); free with msg_free. */
typedef struct msg_store {
  Manta__V1__PlacementGroup pg;
  Manta__V1__Bundle *bundles;
  Manta__V1__Bundle **ptrs;
  Manta__V1__Resource *res;
  Manta__V1__Resource **res_ptrs;
} msg_store;

static Manta__V1__PlacementGroup *msg_build(const head_pg *g, msg_store *s) {
  memset(s, 0, sizeof *s);
  manta__v1__placement_group__init(&s->pg);
  s->pg.id = g->id;
  s->pg.strategy = (Manta__V1__PlacementStrategy)g->strategy;
  s->pg.state = (Manta__V1__PlacementGroupState)g->state;
  s->pg.message = (char *)g->message;
  s->pg.creator_node_id = g->creator;
  s->bundles = calloc(g->nb + 1, sizeof *s->bundles);
  s->ptrs = calloc(g->nb + 1, sizeof *s->ptrs);
  s->res = calloc(g->nb * MT_MAX_REQUEST + 1, sizeof *s->res);
  s->res_ptrs = calloc(g->nb * MT_MAX_REQUEST + 1, sizeof *s->res_ptrs);
  if (!s->bundles || !s->ptrs || !s->res || !s->res_ptrs) {
    return NULL;
  }
  for (size_t i = 0; i < g->nb; i++) {
    Manta__V1__Bundle *b = &s->bundles[i];
    manta__v1__bundle__init(b);
    b->index = (uint32_t)i;
    b->node_id =
        (g->state == PG_STATE(CREATED) || g->state == PG_STATE(RESCHEDULING)) &&
                !g->lost[i]
            ? g->nodes[i]
            : 0;
    b->resources = &s->res_ptrs[i * MT_MAX_REQUEST];
    for (int j = 0; j < g->bundles[i].n; j++) {
      Manta__V1__Resource *r = &s->res[i * MT_MAX_REQUEST + (size_t)j];
      manta__v1__resource__init(r);
      r->name = (char *)g->bundles[i].names[j];
      r->total = g->bundles[i].qty[j];
      b->resources[b->n_resources++] = r;
    }
    s->ptrs[i] = b;
  }
  s->pg.bundles = s->ptrs;
  s->pg.n_bundles = g->nb;
  return &s->pg;
}

static void msg_free(msg_store *s) {
  free(s->bundles);
  free(s->ptrs);
  free(s->res);
  free(s->res_ptrs);
}

/* Packs a reply holding g (NULL: none) as field `group` of msg. */
static bool pack_group_reply(ProtobufCMessage *msg,
                             Manta__V1__PlacementGroup **field,
                             const head_pg *g, mt_tp_buf *reply) {
  msg_store s;
  memset(&s, 0, sizeof s);
  *field = g ? msg_build(g, &s) : NULL;
  bool ok = (!g || *field) && mt_wire_pack(msg, reply);
  msg_free(&s);
  return ok;
}

Manta__V1__PlacementGroup **mt_pg_table_list(mt_pg_table *t, size_t *count) {
  *count = 0;
  Manta__V1__PlacementGroup **list = calloc(t->n + 1, sizeof *list);
  msg_store *stores = calloc(t->n + 1, sizeof *stores);
  if (!list || !stores) {
    free(list);
    free(stores);
    return NULL;
  }
  for (size_t i = 0; i < t->n; i++) {
    if (t->list[i].to_return) {
      continue;
    }
    Manta__V1__PlacementGroup *m = msg_build(&t->list[i], &stores[*count]);
    if (!m) {
      msg_free(&stores[*count]);
      continue;
    }
    list[(*count)++] = m; /* first member of its store */
  }
  if (*count == 0) {
    free(stores);
  }
  return list;
}

void mt_pg_table_list_free(Manta__V1__PlacementGroup **list, size_t count) {
  if (!list) {
    return;
  }
  for (size_t i = 0; i < count; i++) {
    msg_free((msg_store *)(void *)list[i]);
  }
  if (count) {
    free(list[0]); /* the stores' array: its first store is list[0] */
  }
  free(list);
}

/* ---- the methods --------------------------------------------------------- */

/* The planner's view of the nodes: their free resources less what groups
 * committed since each node last reported them. */
static mt_plan_node *plan_nodes(mt_pg_table *t, const mt_pg_node *nodes,
                                size_t nn, double (*avail)[MT_MAX_RESOURCES]) {
  mt_plan_node *p = calloc(nn + 1, sizeof *p);
  if (!p) {
    return NULL;
  }
  for (size_t j = 0; j < nn; j++) {
    memcpy(avail[j], nodes[j].avail, sizeof avail[j]);
    for (size_t i = 0; i < t->n; i++) {
      head_pg *g = &t->list[i];
      bool held = g->state == PG_STATE(CREATED) ||
                  g->state == PG_STATE(RESCHEDULING) || g->to_return;
      if (!held || g->committed_ms < nodes[j].load_ms) {
        continue; /* in the node's report already */
      }
      for (size_t b = 0; b < g->nb; b++) {
        if (g->lost[b]) {
          continue;
        }
        for (int r = 0; g->nodes[b] == nodes[j].id && r < g->bundles[b].n;
             r++) {
          for (int k = 0; k < nodes[j].nres; k++) {
            if (strcmp(nodes[j].names[k], g->bundles[b].names[r]) == 0) {
              avail[j][k] -= g->bundles[b].qty[r];
            }
          }
        }
      }
    }
    p[j] = (mt_plan_node){nodes[j].id, nodes[j].nres,
                          (const char(*)[64])nodes[j].names, nodes[j].total,
                          avail[j]};
  }
  return p;
}

/* Plans g: INFEASIBLE and PENDING are recorded; true (with where) when it
 * fits now. */
static bool plan_group(mt_pg_table *t, head_pg *g, const mt_pg_node *nodes,
                       size_t nn, size_t *where) {
  double(*avail)[MT_MAX_RESOURCES] = calloc(nn + 1, sizeof *avail);
  mt_plan_node *p = avail ? plan_nodes(t, nodes, nn, avail) : NULL;
  char why[300] = "out of memory";
  mt_plan_result r = p ? mt_pg_plan(g->strategy, g->bundles, g->nb, p, nn,
                                    where, why, sizeof why)
                       : MT_PLAN_WAIT;
  free(p);
  free(avail);
  snprintf(g->message, sizeof g->message, "%s", why);
  if (r == MT_PLAN_INFEASIBLE) {
    g->state =
        MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_INFEASIBLE;
    mt_log(MT_LOG_INFO,
           "head: placement group %016" PRIx64 " is infeasible: %s", g->id,
           why);
  }
  return r == MT_PLAN_OK;
}

/* Plans the lost bundles of a RESCHEDULING group g around those it kept:
 * STRICT_SPREAD keeps them off the nodes holding its other bundles,
 * STRICT_PACK on the node holding them; PACK and SPREAD place them as the
 * planner would place a group of their own. true (with where, for the
 * lost bundles) when they fit now; else g waits, with why (a node may
 * join or free resources: never infeasible while it holds bundles). */
static bool plan_lost(mt_pg_table *t, head_pg *g, const mt_pg_node *nodes,
                      size_t nn, size_t *where) {
  double(*avail)[MT_MAX_RESOURCES] = calloc(nn + 1, sizeof *avail);
  mt_plan_node *p = avail ? plan_nodes(t, nodes, nn, avail) : NULL;
  mt_resource_request *sub = calloc(g->nb, sizeof *sub);
  size_t *idx = calloc(g->nb, sizeof *idx);
  size_t *sub_where = calloc(g->nb, sizeof *sub_where);
  size_t *map = calloc(nn + 1, sizeof *map);
  char why[300] = "out of memory";
  mt_plan_result r = MT_PLAN_WAIT;
  size_t nl = 0, nc = 0;
  if (!p || !sub || !idx || !sub_where || !map) {
    goto out;
  }
  uint64_t kept_on = 0;
  for (size_t b = 0; b < g->nb; b++) {
    if (g->lost[b]) {
      idx[nl] = b;
      sub[nl++] = g->bundles[b];
    } else {
      kept_on = g->nodes[b];
    }
  }
  for (size_t j = 0; j < nn; j++) {
    bool holds = false;
    for (size_t b = 0; b < g->nb; b++) {
      holds |= !g->lost[b] && g->nodes[b] == nodes[j].id;
    }
    if ((g->strategy == MANTA_PG_STRICT_SPREAD && holds) ||
        (g->strategy == MANTA_PG_STRICT_PACK && kept_on &&
         nodes[j].id != kept_on)) {
      continue;
    }
    p[nc] = p[j]; /* nc <= j: compacted in place */
    map[nc++] = j;
  }
  if (nc == 0) {
    snprintf(why, sizeof why,
             "no live node may hold them (%s keeps them off the nodes "
             "holding its other bundles)",
             mt_pg_strategy_name(g->strategy));
  } else {
    r = mt_pg_plan(g->strategy, sub, nl, p, nc, sub_where, why, sizeof why);
  }
  for (size_t k = 0; r == MT_PLAN_OK && k < nl; k++) {
    where[idx[k]] = map[sub_where[k]];
  }
out:
  if (r != MT_PLAN_OK) {
    snprintf(g->message, sizeof g->message,
             "%zu bundle(s) lost with their node wait to be placed again: %s",
             nl, why);
  }
  free(avail);
  free(p);
  free(sub);
  free(idx);
  free(sub_where);
  free(map);
  return r == MT_PLAN_OK;
}

static int handle_create(mt_pg_table *t, const mt_pg_node *nodes, size_t nn,
                         const uint8_t *body, size_t len, mt_tp_buf *reply,
                         char *detail, size_t size) {
  Manta__V1__CreatePlacementGroupRequest *req =
      manta__v1__create_placement_group_request__unpack(NULL, len, body);
  const Manta__V1__PlacementGroup *in = req ? req->group : NULL;
  if (!in || in->id == 0 || in->n_bundles == 0 || in->strategy > 3) {
    snprintf(detail, size, "a group needs an id, a strategy and bundles");
    if (req) {
      manta__v1__create_placement_group_request__free_unpacked(req, NULL);
    }
    return MT_TP_INVALID_ARGUMENT;
  }
  head_pg *g = find(t, in->id);
  if (!g) {
    if (t->n == t->cap) {
      size_t cap = t->cap ? 2 * t->cap : 8;
      head_pg *grown = realloc(t->list, cap * sizeof *grown);
      if (!grown) {
        manta__v1__create_placement_group_request__free_unpacked(req, NULL);
        snprintf(detail, size, "out of memory");
        return MT_TP_RESOURCE_EXHAUSTED;
      }
      t->list = grown;
      t->cap = cap;
    }
    g = &t->list[t->n];
    memset(g, 0, sizeof *g);
    g->bundles = calloc(in->n_bundles, sizeof *g->bundles);
    g->nodes = calloc(in->n_bundles, sizeof *g->nodes);
    g->lost = calloc(in->n_bundles, sizeof *g->lost);
    if (!g->bundles || !g->nodes || !g->lost) {
      pg_clear(g);
      manta__v1__create_placement_group_request__free_unpacked(req, NULL);
      snprintf(detail, size, "out of memory");
      return MT_TP_RESOURCE_EXHAUSTED;
    }
    t->n++;
    g->id = in->id;
    g->creator = in->creator_node_id;
    g->strategy = (int)in->strategy;
    g->nb = in->n_bundles;
    for (size_t i = 0; i < g->nb; i++) {
      mt_pg_bundle_request(in->bundles[i], &g->bundles[i]);
      g->lost[i] = true; /* none reserved yet */
    }
    g->state = MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_PENDING;
    /* Infeasible is known at once; the reservation is the tick's work. */
    size_t *where = calloc(g->nb, sizeof *where);
    if (where) {
      plan_group(t, g, nodes, nn, where);
    }
    free(where);
    mt_log(MT_LOG_INFO,
           "head: placement group %016" PRIx64 " (%s, %zu bundles) from node "
           "%016" PRIx64 ": %s",
           g->id, mt_pg_strategy_name(g->strategy), g->nb, g->creator,
           g->message);
  }
  manta__v1__create_placement_group_request__free_unpacked(req, NULL);
  Manta__V1__CreatePlacementGroupReply r =
      MANTA__V1__CREATE_PLACEMENT_GROUP_REPLY__INIT;
  if (!pack_group_reply(&r.base, &r.group, g, reply)) {
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  mt_heartbeat_soon_locked(); /* the head's tick reserves it */
  return MT_TP_OK;
}

static int handle_get(mt_pg_table *t, const uint8_t *body, size_t len,
                      mt_tp_buf *reply, char *detail, size_t size) {
  Manta__V1__GetPlacementGroupRequest *req =
      manta__v1__get_placement_group_request__unpack(NULL, len, body);
  if (!req) {
    snprintf(detail, size, "malformed GetPlacementGroupRequest");
    return MT_TP_INVALID_ARGUMENT;
  }
  head_pg *g = find(t, req->id);
  manta__v1__get_placement_group_request__free_unpacked(req, NULL);
  Manta__V1__GetPlacementGroupReply r =
      MANTA__V1__GET_PLACEMENT_GROUP_REPLY__INIT;
  if (!pack_group_reply(&r.base, &r.group, g && !g->to_return ? g : NULL,
                        reply)) {
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  return MT_TP_OK;
}

/* Removed: forgotten at once if nothing is reserved, else after its nodes
 * freed it (the tick's RETURN job). */
static void remove_group(mt_pg_table *t, head_pg *g) {
  bool held = holds_bundles(g);
  g->state = MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_REMOVED;
  if (held) {
    g->to_return = true;
    mt_heartbeat_soon_locked();
  } else {
    pg_clear(g);
    *g = t->list[--t->n];
  }
}

static int handle_remove(mt_pg_table *t, const uint8_t *body, size_t len,
                         mt_tp_buf *reply, char *detail, size_t size) {
  Manta__V1__RemovePlacementGroupRequest *req =
      manta__v1__remove_placement_group_request__unpack(NULL, len, body);
  if (!req) {
    snprintf(detail, size, "malformed RemovePlacementGroupRequest");
    return MT_TP_INVALID_ARGUMENT;
  }
  head_pg *g = find(t, req->id);
  manta__v1__remove_placement_group_request__free_unpacked(req, NULL);
  if (g && !g->to_return) {
    mt_log(MT_LOG_INFO, "head: placement group %016" PRIx64 " removed", g->id);
    remove_group(t, g);
  }
  Manta__V1__RemovePlacementGroupReply r =
      MANTA__V1__REMOVE_PLACEMENT_GROUP_REPLY__INIT;
  if (!mt_wire_pack(&r.base, reply)) {
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  return MT_TP_OK;
}

int mt_pg_table_handle(mt_pg_table *t, const mt_pg_node *nodes, size_t nn,
                       const char *method, const uint8_t *body, size_t len,
                       mt_tp_buf *reply, char *detail, size_t size) {
  reply->data = NULL;
  reply->len = 0;
  if (strcmp(method, MT_HEAD_PG_CREATE) == 0) {
    return handle_create(t, nodes, nn, body, len, reply, detail, size);
  }
  if (strcmp(method, MT_HEAD_PG_GET) == 0) {
    return handle_get(t, body, len, reply, detail, size);
  }
  return handle_remove(t, body, len, reply, detail, size);
}

/* ---- the work ------------------------------------------------------------ */

static bool node_alive(const mt_pg_node *nodes, size_t nn, uint64_t id) {
  for (size_t j = 0; j < nn; j++) {
    if (nodes[j].id == id) {
      return true;
    }
  }
  return false;
}

static mt_pg_job *job_new(enum job_kind kind, const head_pg *g,
                          const mt_pg_node *nodes, size_t nn) {
  mt_pg_job *j = calloc(1, sizeof *j);
  if (!j || !(j->bundles = calloc(g->nb, sizeof *j->bundles)) ||
      !(j->nodes = calloc(g->nb, sizeof *j->nodes)) ||
      !(j->addresses = calloc(g->nb, sizeof *j->addresses))) {
    if (j) {
      free(j->bundles);
      free(j->nodes);
    }
    free(j);
    return NULL;
  }
  j->kind = kind;
  j->id = g->id;
  j->nb = g->nb;
  memcpy(j->bundles, g->bundles, g->nb * sizeof *j->bundles);
  memcpy(j->nodes, g->nodes, g->nb * sizeof *j->nodes);
  for (size_t i = 0; i < g->nb; i++) {
    for (size_t k = 0; k < nn; k++) {
      if (nodes[k].id == g->nodes[i]) {
        memcpy(j->addresses[i], nodes[k].address, 64);
      }
    }
  }
  return j;
}

mt_pg_job *mt_pg_table_next_job(mt_pg_table *t, const mt_pg_node *nodes,
                                size_t nn) {
  /* Groups whose creator left are removed (a group lives with its job). */
  for (size_t i = 0; i < t->n; i++) {
    head_pg *g = &t->list[i];
    if (!g->to_return && !node_alive(nodes, nn, g->creator)) {
      mt_log(MT_LOG_INFO,
             "head: placement group %016" PRIx64 " removed: its creator "
             "%016" PRIx64 " is gone",
             g->id, g->creator);
      remove_group(t, g);
      i--;
    }
  }
  /* Bundles on nodes gone: the group is placed again, those bundles only. */
  for (size_t i = 0; i < t->n; i++) {
    head_pg *g = &t->list[i];
    if (g->busy || g->to_return ||
        (g->state != PG_STATE(CREATED) && g->state != PG_STATE(RESCHEDULING))) {
      continue;
    }
    size_t lost = 0;
    for (size_t b = 0; b < g->nb; b++) {
      if (!g->lost[b] && !node_alive(nodes, nn, g->nodes[b])) {
        mt_log(MT_LOG_INFO,
               "head: placement group %016" PRIx64 ": bundle %zu lost with "
               "node %016" PRIx64 "; placing it again",
               g->id, b, g->nodes[b]);
        g->lost[b] = true;
        g->nodes[b] = 0;
        lost++;
      }
    }
    if (lost) {
      g->state = PG_STATE(RESCHEDULING);
      snprintf(g->message, sizeof g->message,
               "%zu bundle(s) lost with their node are being placed again",
               lost);
    }
  }
  for (size_t i = 0; i < t->n; i++) {
    head_pg *g = &t->list[i];
    if (g->to_return && !g->busy) {
      g->busy = true;
      return job_new(JOB_RETURN, g, nodes, nn);
    }
  }
  for (size_t i = 0; i < t->n; i++) {
    head_pg *g = &t->list[i];
    bool again = g->state == PG_STATE(RESCHEDULING);
    if (g->busy || (g->state != PG_STATE(PENDING) && !again)) {
      continue;
    }
    size_t *where = calloc(g->nb, sizeof *where);
    if (where && (again ? plan_lost(t, g, nodes, nn, where)
                        : plan_group(t, g, nodes, nn, where))) {
      for (size_t b = 0; b < g->nb; b++) {
        if (g->lost[b]) {
          g->nodes[b] = nodes[where[b]].id;
        }
      }
      free(where);
      mt_pg_job *j = job_new(JOB_PLACE, g, nodes, nn);
      for (size_t b = 0; j && b < g->nb; b++) {
        if (!g->lost[b]) {
          j->nodes[b] = 0; /* kept: not the job's */
        }
      }
      g->busy = j != NULL;
      return j;
    }
    free(where);
  }
  return NULL;
}

/* One BundleOp on one node, for the bundles of the job there (PREPARE) or
 * none; false with why. */
static bool node_op(mt_pg_job *j, size_t first, int op, char *why,
                    size_t size) {
  uint64_t node = j->nodes[first];
  Manta__V1__Bundle *bs = calloc(j->nb, sizeof *bs);
  Manta__V1__Bundle **ptrs = calloc(j->nb, sizeof *ptrs);
  Manta__V1__Resource *res = calloc(j->nb * MT_MAX_REQUEST + 1, sizeof *res);
  Manta__V1__Resource **rp = calloc(j->nb * MT_MAX_REQUEST + 1, sizeof *rp);
  bool ok = false;
  snprintf(why, size, "out of memory");
  if (!bs || !ptrs || !res || !rp) {
    goto out;
  }
  size_t n = 0;
  /* PREPARE, and RETURN of what a PLACE job prepared, name their bundles
   * (the node keeps the group's others); a removal's RETURN names none:
   * all of the group's bundles there. */
  bool listed =
      op == MANTA__V1__BUNDLE_OP__BUNDLE_OP_PREPARE || j->kind == JOB_PLACE;
  for (size_t i = 0; listed && i < j->nb; i++) {
    if (j->nodes[i] != node) {
      continue;
    }
    Manta__V1__Bundle *b = &bs[n];
    manta__v1__bundle__init(b);
    b->index = (uint32_t)i;
    b->node_id = node;
    b->resources = &rp[i * MT_MAX_REQUEST];
    for (int k = 0; k < j->bundles[i].n; k++) {
      Manta__V1__Resource *r = &res[i * MT_MAX_REQUEST + (size_t)k];
      manta__v1__resource__init(r);
      r->name = j->bundles[i].names[k];
      r->total = j->bundles[i].qty[k];
      b->resources[b->n_resources++] = r;
    }
    ptrs[n++] = b;
  }
  if (node == mt_rt.node_id) {
    ok = mt_bundles_apply(op, j->id, (const Manta__V1__Bundle *const *)ptrs, n,
                          why, size);
    goto out;
  }
  Manta__V1__BundlesRequest req = MANTA__V1__BUNDLES_REQUEST__INIT;
  req.op = (Manta__V1__BundleOp)op;
  req.group_id = j->id;
  req.bundles = ptrs;
  req.n_bundles = n;
  mt_tp_buf body, reply = {0};
  mt_tp_channel *ch = NULL;
  if (!mt_wire_pack(&req.base, &body) ||
      !(ch = mt_tp_channel_open(j->addresses[first], mt_cl.token,
                                &mt_cl.tp_tls))) {
    free(ch ? NULL : body.data);
    goto out;
  }
  char detail[200] = "";
  int st = mt_tp_unary_sync(ch, MT_NODE_BUNDLES, body.data, body.len,
                            BUNDLE_CALL_MS, &reply, detail, sizeof detail);
  mt_tp_channel_close(ch);
  free(body.data);
  Manta__V1__BundlesReply *r =
      st == MT_TP_OK
          ? manta__v1__bundles_reply__unpack(NULL, reply.len, reply.data)
          : NULL;
  free(reply.data);
  if (!r) {
    snprintf(why, size, "node %016" PRIx64 " (%s) did not answer: %s", node,
             j->addresses[first],
             st == MT_TP_OK ? "a malformed reply" : detail);
  } else {
    ok = r->ok;
    snprintf(why, size, "%s", r->message);
    manta__v1__bundles_reply__free_unpacked(r, NULL);
  }
out:
  free(bs);
  free(ptrs);
  free(res);
  free(rp);
  return ok;
}

/* Whether bundle i is the first of the job on its node. */
static bool first_on_node(const mt_pg_job *j, size_t i) {
  for (size_t k = 0; k < i; k++) {
    if (j->nodes[k] == j->nodes[i]) {
      return false;
    }
  }
  return true;
}

void mt_pg_job_run(mt_pg_job *j) {
  char why[300];
  if (j->kind == JOB_RETURN) {
    for (size_t i = 0; i < j->nb; i++) {
      if (j->nodes[i] && first_on_node(j, i) &&
          !node_op(j, i, MANTA__V1__BUNDLE_OP__BUNDLE_OP_RETURN, why,
                   sizeof why)) {
        mt_log(MT_LOG_WARN,
               "head: placement group %016" PRIx64 ": freeing its bundles: %s",
               j->id, why);
      }
    }
    j->ok = true;
    return;
  }
  /* Phase one: every node prepares its bundles, or we stop at the first
   * that cannot. */
  size_t prepared = 0;
  j->ok = true;
  for (size_t i = 0; i < j->nb && j->ok; i++, prepared = i) {
    if (j->nodes[i] && first_on_node(j, i)) {
      j->ok = node_op(j, i, MANTA__V1__BUNDLE_OP__BUNDLE_OP_PREPARE, j->why,
                      sizeof j->why);
    }
  }
  /* Phase two: commit them all, or give back what was prepared. */
  for (size_t i = 0; i < (j->ok ? j->nb : prepared); i++) {
    if (j->nodes[i] && first_on_node(j, i) &&
        !node_op(j, i,
                 j->ok ? MANTA__V1__BUNDLE_OP__BUNDLE_OP_COMMIT
                       : MANTA__V1__BUNDLE_OP__BUNDLE_OP_RETURN,
                 why, sizeof why) &&
        j->ok) {
      /* A node that prepared but cannot commit (it died between): the
       * group is freed everywhere and tried again. */
      snprintf(j->why, sizeof j->why, "%s", why);
      j->ok = false;
      prepared = j->nb;
      i = (size_t)-1;
    }
  }
}

void mt_pg_job_done(mt_pg_table *t, mt_pg_job *j) {
  head_pg *g = find(t, j->id);
  if (g && j->kind == JOB_RETURN) {
    pg_clear(g);
    *g = t->list[--t->n];
  } else if (g) {
    g->busy = false;
    for (size_t b = 0; b < g->nb; b++) {
      if (g->lost[b]) {
        g->lost[b] = !j->ok; /* reserved now, or still not */
        g->nodes[b] = j->ok ? g->nodes[b] : 0;
      }
    }
    if (g->to_return) {
      /* Removed while it was being reserved: the next job frees what it
       * holds; holding nothing, it is forgotten now. */
      if (!holds_bundles(g)) {
        pg_clear(g);
        *g = t->list[--t->n];
      }
    } else if (j->ok) {
      g->state =
          MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_CREATED;
      g->committed_ms = mt_now_ms();
      g->message[0] = '\0';
      mt_log(MT_LOG_INFO, "head: placement group %016" PRIx64 " reserved",
             g->id);
    } else {
      snprintf(g->message, sizeof g->message,
               "a node refused its bundles, tried again: %s", j->why);
      mt_log(MT_LOG_INFO, "head: placement group %016" PRIx64 ": %s", g->id,
             g->message);
    }
  }
  free(j->bundles);
  free(j->nodes);
  free(j->addresses);
  free(j);
}

/* ---- taken back from the head's store (directory.c, head_store.h) -------- */

bool mt_pg_table_restore(mt_pg_table *t, const Manta__V1__PlacementGroup *in) {
  /* A rescheduling group holds the bundles it kept (node_id set). */
  bool created =
      in->state == PG_STATE(CREATED) || in->state == PG_STATE(RESCHEDULING);
  if (in->id == 0 || in->n_bundles == 0 || in->strategy > 3 ||
      find(t, in->id)) {
    return false;
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 8;
    head_pg *grown = realloc(t->list, cap * sizeof *grown);
    if (!grown) {
      return false;
    }
    t->list = grown;
    t->cap = cap;
  }
  head_pg *g = &t->list[t->n];
  memset(g, 0, sizeof *g);
  g->bundles = calloc(in->n_bundles, sizeof *g->bundles);
  g->nodes = calloc(in->n_bundles, sizeof *g->nodes);
  g->lost = calloc(in->n_bundles, sizeof *g->lost);
  if (!g->bundles || !g->nodes || !g->lost) {
    pg_clear(g);
    return false;
  }
  t->n++;
  g->id = in->id;
  g->creator = in->creator_node_id;
  g->strategy = (int)in->strategy;
  g->nb = in->n_bundles;
  /* A created group's bundles are reserved on its nodes (their reports
   * count them: committed_ms stays 0); any other is planned again. */
  g->state =
      created ? (int)in->state
      : in->state ==
              MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_INFEASIBLE
          ? (int)in->state
          : MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_PENDING;
  snprintf(g->message, sizeof g->message, "%s", in->message ? in->message : "");
  for (size_t i = 0; i < g->nb; i++) {
    mt_pg_bundle_request(in->bundles[i], &g->bundles[i]);
    g->nodes[i] = created ? in->bundles[i]->node_id : 0;
    g->lost[i] = g->nodes[i] == 0;
  }
  return true;
}
