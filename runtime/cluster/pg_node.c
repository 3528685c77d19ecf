/*
 * Placement groups from a node's side (docs/scheduling.md): the head's
 * PREPARE, COMMIT and RETURN of bundles on this node (ReserveBundles), and
 * what a program's manta_placement_group_* calls ask the head. Where the
 * bundles go is the head's decision (head/pg_head.c); what a bundle is on a
 * node is bundles.c's.
 */
#include "cluster.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

bool mt_bundles_apply(int op, uint64_t gid, const Manta__V1__Bundle *const *b,
                      size_t n, char *why, size_t size) {
  mt_resource_request *req = calloc(n + 1, sizeof *req);
  int32_t *idx = calloc(n + 1, sizeof *idx);
  bool ok = req && idx;
  snprintf(why, size, "%s", ok ? "" : "out of memory");
  for (size_t i = 0; ok && i < n; i++) {
    mt_pg_bundle_request(b[i], &req[i]);
    idx[i] = (int32_t)b[i]->index;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (ok && !mt_rt.initialized) {
    ok = false;
    snprintf(why, size, "the node is stopping");
  } else if (ok && op == MANTA__V1__BUNDLE_OP__BUNDLE_OP_PREPARE) {
    /* Bundles the head asks again (it did not hear our answer) start
     * afresh: never two reservations of one bundle. The group's other
     * bundles here stay (a rescheduling adds lost ones beside them). */
    mt_bundles_return_some_locked(gid, idx, n, &g);
    ok = mt_bundles_prepare_locked(gid, idx, req, n, false, why, size) ==
         MANTA_OK;
  } else if (ok && op == MANTA__V1__BUNDLE_OP__BUNDLE_OP_COMMIT) {
    ok = mt_bundles_commit_locked(gid);
    if (!ok) {
      snprintf(why, size,
               "node %016" PRIx64 " holds no prepared bundle of group "
               "%016" PRIx64,
               mt_rt.node_id, gid);
    }
  } else if (ok && op == MANTA__V1__BUNDLE_OP__BUNDLE_OP_RETURN) {
    mt_bundles_return_some_locked(gid, idx, n, &g); /* none named: all */
  } else if (ok) {
    ok = false;
    snprintf(why, size, "unknown bundle operation %d", op);
  }
  if (ok && op != MANTA__V1__BUNDLE_OP__BUNDLE_OP_RETURN) {
    mt_heartbeat_soon_locked(); /* the head sees the new free resources */
  }
  mt_unlock();
  mt_garbage_free(&g);
  free(req);
  free(idx);
  return ok;
}

void mt_bundles_serve(mt_tp_incoming *in, const uint8_t *body, size_t len) {
  Manta__V1__BundlesRequest *req =
      manta__v1__bundles_request__unpack(NULL, len, body);
  if (!req) {
    mt_log(MT_LOG_WARN, "cluster: bad ReserveBundles request");
    mt_tp_reply(in, MT_TP_INVALID_ARGUMENT, "malformed BundlesRequest", NULL,
                0);
    return;
  }
  char why[300];
  Manta__V1__BundlesReply r = MANTA__V1__BUNDLES_REPLY__INIT;
  r.ok = mt_bundles_apply((int)req->op, req->group_id,
                          (const Manta__V1__Bundle *const *)req->bundles,
                          req->n_bundles, why, sizeof why);
  r.message = why;
  manta__v1__bundles_request__free_unpacked(req, NULL);
  mt_tp_buf b;
  if (!mt_wire_pack(&r.base, &b)) {
    mt_tp_reply(in, MT_TP_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
    return;
  }
  mt_tp_reply(in, MT_TP_OK, NULL, b.data, b.len);
  free(b.data);
}

/* ---- asking the head ----------------------------------------------------- */

static manta_value *head_error(manta_err code, uint64_t gid, const char *why) {
  return mt_error_new(code, "placement group",
                      "placement group %016" PRIx64 " %s", gid, why);
}

manta_err mt_pg_create_cluster(uint64_t gid, int strategy,
                               const mt_resource_request *bundles, size_t n,
                               manta_value **fail) {
  Manta__V1__Bundle *bs = calloc(n + 1, sizeof *bs);
  Manta__V1__Bundle **ptrs = calloc(n + 1, sizeof *ptrs);
  Manta__V1__Resource *res = calloc(n * MT_MAX_REQUEST + 1, sizeof *res);
  Manta__V1__Resource **rp = calloc(n * MT_MAX_REQUEST + 1, sizeof *rp);
  manta_err err = MANTA_ERR_NOMEM;
  if (!bs || !ptrs || !res || !rp) {
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    manta__v1__bundle__init(&bs[i]);
    bs[i].index = (uint32_t)i;
    bs[i].resources = &rp[i * MT_MAX_REQUEST];
    for (int k = 0; k < bundles[i].n; k++) {
      Manta__V1__Resource *r = &res[i * MT_MAX_REQUEST + (size_t)k];
      manta__v1__resource__init(r);
      r->name = (char *)bundles[i].names[k];
      r->total = bundles[i].qty[k];
      bs[i].resources[bs[i].n_resources++] = r;
    }
    ptrs[i] = &bs[i];
  }
  Manta__V1__PlacementGroup pg = MANTA__V1__PLACEMENT_GROUP__INIT;
  pg.id = gid;
  pg.strategy = (Manta__V1__PlacementStrategy)strategy;
  pg.bundles = ptrs;
  pg.n_bundles = n;
  pg.creator_node_id = mt_rt.node_id;
  Manta__V1__CreatePlacementGroupRequest req =
      MANTA__V1__CREATE_PLACEMENT_GROUP_REQUEST__INIT;
  req.group = &pg;
  Manta__V1__CreatePlacementGroupReply *r;
  err = mt_head_ask(MT_HEAD_PG_CREATE, &req.base,
                    &manta__v1__create_placement_group_reply__descriptor,
                    "creating a placement group",
                    (ProtobufCMessage **)(void *)&r);
  if (err != MANTA_OK) {
    *fail = head_error(err, gid, "could not be asked of the head");
    goto out;
  }
  if (r->group &&
      r->group->state ==
          MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_INFEASIBLE) {
    char why[400];
    snprintf(why, sizeof why, "(%s) can never be reserved: %s",
             mt_pg_strategy_name(strategy), r->group->message);
    *fail = head_error(MANTA_ERR_INFEASIBLE, gid, why);
    err = MANTA_ERR_INFEASIBLE;
  }
  protobuf_c_message_free_unpacked(&r->base, NULL);
out:
  free(bs);
  free(ptrs);
  free(res);
  free(rp);
  return err;
}

/* GetPlacementGroup for gid; *r to free with
 * protobuf_c_message_free_unpacked when MANTA_OK. */
static manta_err ask_group(uint64_t gid,
                           Manta__V1__GetPlacementGroupReply **r) {
  Manta__V1__GetPlacementGroupRequest req =
      MANTA__V1__GET_PLACEMENT_GROUP_REQUEST__INIT;
  req.id = gid;
  return mt_head_ask(MT_HEAD_PG_GET, &req.base,
                     &manta__v1__get_placement_group_reply__descriptor,
                     "asking for a placement group",
                     (ProtobufCMessage **)(void *)r);
}

manta_err mt_pg_poll_cluster(uint64_t gid, uint64_t *nodes, size_t n,
                             manta_value **fail) {
  Manta__V1__GetPlacementGroupReply *r;
  manta_err err = ask_group(gid, &r);
  if (err != MANTA_OK) {
    *fail = head_error(err, gid, "could not be asked of the head");
    return err;
  }
  const Manta__V1__PlacementGroup *g = r->group;
  if (!g) {
    err = MANTA_ERR_CANCELLED;
    *fail = head_error(err, gid,
                       "is unknown to the head (removed, its creator left, "
                       "or the head restarted)");
  } else if (g->state ==
             MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_CREATED) {
    for (size_t i = 0; i < n && i < g->n_bundles; i++) {
      nodes[i] = g->bundles[i]->node_id;
    }
  } else if (
      g->state ==
      MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_INFEASIBLE) {
    char why[400];
    snprintf(why, sizeof why, "(%s) can never be reserved: %s",
             mt_pg_strategy_name((int)g->strategy), g->message);
    err = MANTA_ERR_INFEASIBLE;
    *fail = head_error(err, gid, why);
  } else {
    err = MANTA_ERR_TIMEOUT; /* pending */
  }
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return err;
}

manta_err mt_pg_remove_cluster(uint64_t gid) {
  Manta__V1__RemovePlacementGroupRequest req =
      MANTA__V1__REMOVE_PLACEMENT_GROUP_REQUEST__INIT;
  req.id = gid;
  Manta__V1__RemovePlacementGroupReply *r;
  manta_err err = mt_head_ask(
      MT_HEAD_PG_REMOVE, &req.base,
      &manta__v1__remove_placement_group_reply__descriptor,
      "removing a placement group", (ProtobufCMessage **)(void *)&r);
  if (err == MANTA_OK) {
    protobuf_c_message_free_unpacked(&r->base, NULL);
  }
  return err;
}

manta_err mt_pg_fetch_cluster(uint64_t gid, int *strategy,
                              mt_resource_request **bundles, uint64_t **nodes,
                              size_t *nb) {
  Manta__V1__GetPlacementGroupReply *r;
  manta_err err = ask_group(gid, &r);
  if (err != MANTA_OK) {
    return err;
  }
  const Manta__V1__PlacementGroup *g = r->group;
  size_t n = g ? g->n_bundles : 0;
  *bundles = n ? calloc(n, sizeof **bundles) : NULL;
  *nodes = n ? calloc(n, sizeof **nodes) : NULL;
  if (!g || n == 0 ||
      g->state ==
          MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_INFEASIBLE) {
    err = MANTA_ERR_NOT_FOUND;
  } else if (!*bundles || !*nodes) {
    err = MANTA_ERR_NOMEM;
  } else {
    *strategy = (int)g->strategy;
    *nb = n;
    for (size_t i = 0; i < n; i++) {
      mt_pg_bundle_request(g->bundles[i], &(*bundles)[i]);
      (*nodes)[i] = g->bundles[i]->node_id;
    }
    err =
        g->state ==
                MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_CREATED
            ? MANTA_OK
            : MANTA_ERR_TIMEOUT;
  }
  if (err != MANTA_OK && err != MANTA_ERR_TIMEOUT) {
    free(*bundles);
    free(*nodes);
    *bundles = NULL;
    *nodes = NULL;
  }
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return err;
}
