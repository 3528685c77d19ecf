/*
 * Node.Observe: another node (the head, for its dashboard) asks for one of
 * this node's API documents over the cluster's own gRPC links, so the
 * token and TLS of the cluster cover it and no node needs an HTTP client.
 * The document is the one this node's HTTP server would answer
 * (runtime/http/api_routes.c); this file only carries it.
 */
#include "cluster.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic(mt_observe_source) observe_source;

void mt_observe_set_source(mt_observe_source source) {
  atomic_store(&observe_source, source);
}

void mt_observe_serve(mt_tp_incoming *in, const uint8_t *body, size_t len) {
  Manta__V1__ObserveRequest *req =
      manta__v1__observe_request__unpack(NULL, len, body);
  if (!req) {
    mt_tp_reply(in, MT_TP_INVALID_ARGUMENT, "malformed ObserveRequest", NULL,
                0);
    return;
  }
  mt_observe_source source = atomic_load(&observe_source);
  if (!source) {
    manta__v1__observe_request__free_unpacked(req, NULL);
    mt_tp_reply(in, MT_TP_UNIMPLEMENTED, "this node serves no API documents",
                NULL, 0);
    return;
  }
  struct {
    int status;
    const char *content_type;
    char *body;
    size_t len;
  } reply = {.status = 200, .content_type = "application/json"};
  source(req->path, &reply.status, &reply.content_type, &reply.body,
         &reply.len);
  manta__v1__observe_request__free_unpacked(req, NULL);
  if (!reply.body) {
    mt_tp_reply(in, MT_TP_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
    return;
  }
  Manta__V1__ObserveReply r = MANTA__V1__OBSERVE_REPLY__INIT;
  r.status = reply.status;
  r.content_type = (char *)reply.content_type;
  r.body.data = (uint8_t *)reply.body;
  r.body.len = reply.len;
  mt_tp_buf b = {0};
  bool packed = mt_wire_pack(&r.base, &b);
  free(reply.body);
  if (!packed) {
    mt_tp_reply(in, MT_TP_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
    return;
  }
  mt_tp_reply(in, MT_TP_OK, NULL, b.data, b.len);
  free(b.data);
}
