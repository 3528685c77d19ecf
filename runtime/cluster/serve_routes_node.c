/* A node's side of the Serve routes the head holds: the three calls,
 * with the wire kept here so Serve (runtime/serve/serve_sync.c) sees plain
 * structs. Each waits for the head (not on a poller thread). */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

manta_err mt_serve_shared_put(const char *route, const char *spec_json,
                              uint64_t stamp, uint64_t node_id) {
  Manta__V1__ServeRoute r = MANTA__V1__SERVE_ROUTE__INIT;
  r.route = (char *)route;
  r.spec_json = (char *)spec_json;
  r.stamp = stamp;
  r.node_id = node_id;
  Manta__V1__PutServeRouteRequest req =
      MANTA__V1__PUT_SERVE_ROUTE_REQUEST__INIT;
  req.route = &r;
  Manta__V1__PutServeRouteReply *out = NULL;
  manta_err err = mt_head_ask(MT_HEAD_SERVE_PUT, &req.base,
                              &manta__v1__put_serve_route_reply__descriptor,
                              "announcing a serve route",
                              (ProtobufCMessage **)(void *)&out);
  if (out) {
    if (out->superseded) {
      err = MANTA_ERR_CANCELLED;
    }
    protobuf_c_message_free_unpacked(&out->base, NULL);
  }
  return err;
}

manta_err mt_serve_shared_drop(const char *route) {
  Manta__V1__DropServeRouteRequest req =
      MANTA__V1__DROP_SERVE_ROUTE_REQUEST__INIT;
  req.route = (char *)route;
  Manta__V1__DropServeRouteReply *r = NULL;
  manta_err err =
      mt_head_ask(MT_HEAD_SERVE_DROP, &req.base,
                  &manta__v1__drop_serve_route_reply__descriptor,
                  "deleting a serve route", (ProtobufCMessage **)(void *)&r);
  if (err != MANTA_OK) {
    return err;
  }
  err = r->dropped ? MANTA_OK : MANTA_ERR_NOT_FOUND;
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return err;
}

void mt_serve_shared_free(mt_serve_shared *list, size_t n) {
  for (size_t i = 0; list && i < n; i++) {
    free(list[i].route);
    free(list[i].spec_json);
  }
  free(list);
}

manta_err mt_serve_shared_list(mt_serve_shared **out, size_t *n,
                               uint64_t *incarnation) {
  *out = NULL;
  *n = 0;
  Manta__V1__ListServeRoutesRequest req =
      MANTA__V1__LIST_SERVE_ROUTES_REQUEST__INIT;
  /* Polled: a head away (restarting) is the caller's to report once,
   * not a warning per poll as mt_head_ask would log. */
  mt_tp_buf body;
  char detail[300];
  int st =
      mt_head_call(MT_HEAD_SERVE_LIST, &req.base, &body, detail, sizeof detail);
  Manta__V1__ListServeRoutesReply *r =
      st == MT_TP_OK ? manta__v1__list_serve_routes_reply__unpack(
                           NULL, body.len, body.data)
                     : NULL;
  free(body.data);
  if (!r) {
    return st == MT_TP_CANCELLED ? MANTA_ERR_SHUTDOWN : MANTA_ERR_NODE_DIED;
  }
  mt_serve_shared *list = calloc(r->n_routes + 1, sizeof *list);
  size_t k = 0;
  for (size_t i = 0; list && i < r->n_routes; i++) {
    const Manta__V1__ServeRoute *m = r->routes[i];
    if (!m->route || !m->spec_json) {
      continue;
    }
    list[k].route = strdup(m->route);
    list[k].spec_json = strdup(m->spec_json);
    list[k].stamp = m->stamp;
    list[k].node_id = m->node_id;
    if (!list[k].route || !list[k].spec_json) {
      k++;
      mt_serve_shared_free(list, k);
      list = NULL;
      break;
    }
    k++;
  }
  *incarnation = r->incarnation;
  protobuf_c_message_free_unpacked(&r->base, NULL);
  if (!list) {
    return MANTA_ERR_NOMEM;
  }
  *out = list;
  *n = k;
  return MANTA_OK;
}
