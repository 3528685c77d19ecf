/* Between protobuf-c messages (cluster_wire.proto) and manta values. Values
 * inside messages are carried as their own encoding (value_codec.c). */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

manta_err mt_wire_encode_value(const manta_value *v, ProtobufCBinaryData *out) {
  void *buf = NULL;
  size_t len = 0;
  manta_err err = manta_value_encode(v, &buf, &len);
  if (err != MANTA_OK) {
    return err;
  }
  out->data = buf;
  out->len = len;
  return MANTA_OK;
}

manta_value *mt_wire_decode_value(const ProtobufCBinaryData *in,
                                  const char *what) {
  manta_value *v = NULL;
  manta_err err = manta_value_decode(in->data, in->len, &v);
  if (err != MANTA_OK) {
    return mt_error_new(err, "cluster", "cannot decode %s: %s", what,
                        manta_strerror(err));
  }
  return v;
}

void mt_wire_free_binaries(ProtobufCBinaryData *items, size_t n) {
  for (size_t i = 0; i < n; i++) {
    manta_free(items[i].data);
  }
}

Manta__V1__TaskBatch *mt_wire_batch(mt_tp_stream *s, const uint8_t *body,
                                    size_t len) {
  Manta__V1__TaskBatch *b = manta__v1__task_batch__unpack(NULL, len, body);
  if (!b) {
    mt_log(MT_LOG_WARN, "cluster: malformed TaskBatch from %s; stream closed",
           mt_tp_stream_peer(s));
    mt_tp_stream_close(s, MT_TP_INVALID_ARGUMENT, "malformed TaskBatch");
  }
  return b;
}

bool mt_wire_pack(const ProtobufCMessage *msg, mt_tp_buf *out) {
  size_t len = protobuf_c_message_get_packed_size(msg);
  out->data = malloc(len ? len : 1);
  if (!out->data) {
    return false;
  }
  out->len = protobuf_c_message_pack(msg, out->data);
  return true;
}

Manta__V1__Resource **mt_wire_resources(const char names[][64],
                                        const double *total,
                                        const double *avail, int n) {
  Manta__V1__Resource **r = calloc((size_t)n + 1, sizeof *r);
  if (!r) {
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    /* The name is copied behind the message, one allocation: a node's
     * names change under rt.mu (placement group bundles come and go) while
     * the message is packed without it. */
    size_t len = strnlen(names[i], 63);
    r[i] = malloc(sizeof *r[i] + len + 1);
    if (!r[i]) {
      mt_wire_resources_free(r, (size_t)i);
      return NULL;
    }
    manta__v1__resource__init(r[i]);
    r[i]->name = (char *)(r[i] + 1);
    memcpy(r[i]->name, names[i], len);
    r[i]->name[len] = '\0';
    r[i]->total = total[i];
    r[i]->available = avail ? avail[i] : 0;
  }
  return r;
}

void mt_wire_resources_free(Manta__V1__Resource **r, size_t n) {
  if (!r) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    free(r[i]);
  }
  free(r);
}

void mt_wire_node_info_free(Manta__V1__NodeInfo *info) {
  if (!info) {
    return;
  }
  mt_wire_resources_free(info->resources, info->n_resources);
  for (size_t i = 0; i < info->n_functions; i++) {
    free(info->functions[i]);
  }
  free(info->functions);
  for (size_t i = 0; i < info->n_classes; i++) {
    free(info->classes[i]);
  }
  free(info->classes);
  free(info->address);
  free(info->hostname);
  if (info->metrics_address != protobuf_c_empty_string) {
    free(info->metrics_address);
  }
  free(info);
}

void mt_wire_node_load_free(Manta__V1__NodeLoad *load) {
  if (!load) {
    return;
  }
  mt_wire_resources_free(load->resources, load->n_resources);
  free(load);
}

bool mt_wire_id_get(const ProtobufCBinaryData *wire, uint64_t *node,
                    uint64_t *id) {
  *node = *id = 0;
  if (wire->len != 16) {
    return false;
  }
  mt_wire_id_split(wire->data, node, id);
  return true;
}

void mt_wire_node_id_hex(uint64_t id, char buf[17]) {
  snprintf(buf, 17, "%016llx", (unsigned long long)id);
}

/* ---- status as a value ----------------------------------------------------
 */

/* Inserting takes the reference (manta.h ownership rules). */
static void put(manta_value *map, const char *key, manta_value *v) {
  if (v) {
    manta_map_put(map, key, v);
  }
}

static void push(manta_value *list, manta_value *v) {
  if (v) {
    manta_list_push(list, v);
  }
}

static manta_value *string_list(char **items, size_t n) {
  manta_value *l = manta_list();
  for (size_t i = 0; l && i < n; i++) {
    push(l, manta_cstring(items[i]));
  }
  return l;
}

static manta_value *resources_value(const Manta__V1__NodeLoad *load,
                                    const Manta__V1__NodeInfo *info) {
  manta_value *m = manta_map();
  Manta__V1__Resource **r =
      load && load->n_resources ? load->resources : info->resources;
  size_t n = load && load->n_resources ? load->n_resources : info->n_resources;
  for (size_t i = 0; m && i < n; i++) {
    /* An empty name: a freed placement group bundle's kind. */
    manta_value *q = r[i]->name && r[i]->name[0] ? manta_map() : NULL;
    if (!q) {
      continue;
    }
    put(q, "total", manta_double(r[i]->total));
    put(q, "available", manta_double(r[i]->available));
    put(m, r[i]->name, q);
  }
  return m;
}

static manta_value *node_value(const Manta__V1__NodeStatus *st) {
  const Manta__V1__NodeInfo *info = st->info;
  const Manta__V1__NodeLoad *load = st->load;
  manta_value *m = manta_map();
  if (!m || !info) {
    return m;
  }
  char hex[17];
  mt_wire_node_id_hex(info->node_id, hex);
  put(m, "node_id", manta_cstring(hex));
  put(m, "address", manta_cstring(info->address ? info->address : ""));
  put(m, "metrics_address",
      manta_cstring(info->metrics_address ? info->metrics_address : ""));
  put(m, "state",
      manta_cstring(st->state == MANTA__V1__NODE_STATE__NODE_STATE_ALIVE
                        ? "alive"
                        : "dead"));
  put(m, "is_head", manta_bool(st->is_head));
  put(m, "is_driver", manta_bool(info->is_driver));
  put(m, "pid", manta_int(info->pid));
  put(m, "hostname", manta_cstring(info->hostname ? info->hostname : ""));
  put(m, "resources", resources_value(load, info));
  put(m, "functions", string_list(info->functions, info->n_functions));
  put(m, "classes", string_list(info->classes, info->n_classes));
  put(m, "tasks_queued", manta_int(load ? load->tasks_queued : 0));
  put(m, "tasks_running", manta_int(load ? load->tasks_running : 0));
  put(m, "tasks_finished", manta_int(load ? load->tasks_finished : 0));
  put(m, "actors", manta_int(load ? load->actors : 0));
  put(m, "last_heartbeat_ms", manta_int(st->last_heartbeat_ms_ago));
  return m;
}

static const char *pg_state_name(Manta__V1__PlacementGroupState s) {
  switch (s) {
  case MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_PENDING:
    return "PENDING";
  case MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_CREATED:
    return "CREATED";
  case MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_INFEASIBLE:
    return "INFEASIBLE";
  case MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_REMOVED:
    return "REMOVED";
  case MANTA__V1__PLACEMENT_GROUP_STATE__PLACEMENT_GROUP_STATE_RESCHEDULING:
    return "RESCHEDULING";
  default:
    return "?";
  }
}

/* A placement group as manta_cluster_status lists it. */
static manta_value *pg_value(const Manta__V1__PlacementGroup *g) {
  manta_value *m = manta_map(), *bundles = manta_list();
  char hex[17];
  if (!m || !bundles) {
    manta_value_free(bundles);
    return m;
  }
  mt_wire_node_id_hex(g->id, hex);
  put(m, "id", manta_cstring(hex));
  put(m, "strategy", manta_cstring(mt_pg_strategy_name((int)g->strategy)));
  put(m, "state", manta_cstring(pg_state_name(g->state)));
  put(m, "message", manta_cstring(g->message ? g->message : ""));
  mt_wire_node_id_hex(g->creator_node_id, hex);
  put(m, "creator", manta_cstring(hex));
  for (size_t i = 0; i < g->n_bundles; i++) {
    const Manta__V1__Bundle *b = g->bundles[i];
    manta_value *e = manta_map(), *res = manta_map();
    for (size_t k = 0; res && k < b->n_resources; k++) {
      put(res, b->resources[k]->name, manta_double(b->resources[k]->total));
    }
    if (!e) {
      manta_value_free(res);
      continue;
    }
    put(e, "index", manta_int(b->index));
    put(e, "resources", res);
    mt_wire_node_id_hex(b->node_id, hex);
    put(e, "node_id", manta_cstring(b->node_id ? hex : ""));
    push(bundles, e);
  }
  put(m, "bundles", bundles);
  return m;
}

manta_value *mt_wire_status_value(const Manta__V1__ClusterStatusReply *r) {
  manta_value *m = manta_map(), *nodes = manta_list(), *actors = manta_list();
  if (!m || !nodes || !actors) {
    manta_value_free(m);
    manta_value_free(nodes);
    manta_value_free(actors);
    return NULL;
  }
  char hex[17];
  mt_wire_node_id_hex(r->head_node_id, hex);
  put(m, "protocol", manta_int(r->protocol));
  put(m, "head", manta_cstring(hex));
  for (size_t i = 0; i < r->n_nodes; i++) {
    push(nodes, node_value(r->nodes[i]));
  }
  for (size_t i = 0; i < r->n_actors; i++) {
    const Manta__V1__NamedActor *a = r->actors[i];
    manta_value *e = manta_map();
    if (!e) {
      continue;
    }
    put(e, "name", manta_cstring(a->name ? a->name : ""));
    put(e, "class", manta_cstring(a->class_name ? a->class_name : ""));
    mt_wire_node_id_hex(a->node_id, hex);
    put(e, "node_id", manta_cstring(hex));
    push(actors, e);
  }
  put(m, "nodes", nodes);
  put(m, "actors", actors);
  manta_value *pgs = manta_list();
  for (size_t i = 0; pgs && i < r->n_placement_groups; i++) {
    push(pgs, pg_value(r->placement_groups[i]));
  }
  put(m, "placement_groups", pgs);
  if (r->store) { /* the head's durable store (docs/head-store.md) */
    manta_value *st = manta_map();
    if (st) {
      put(st, "url", manta_cstring(r->store->url ? r->store->url : ""));
      put(st, "cluster_name",
          manta_cstring(r->store->cluster_name ? r->store->cluster_name : ""));
      put(st, "ok", manta_bool(r->store->ok));
      put(st, "error", manta_cstring(r->store->error ? r->store->error : ""));
      put(st, "down_for_ms", manta_int(r->store->down_for_ms));
      put(st, "pending_writes", manta_int(r->store->pending_writes));
      put(m, "store", st);
    }
  }
  return m;
}
