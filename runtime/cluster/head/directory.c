/* The directory: the Head service. Which nodes exist, what they offer, how
 * busy they are, which ones stopped heartbeating, and the named actors
 * (actor_names.c). It is never on the path of a task or an object. */
#include "cluster.h"
#include "head_store.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct dir_node {
  Manta__V1__NodeInfo *info; /* unpacked copies, freed by protobuf-c */
  Manta__V1__NodeLoad *load;
  int64_t last_seen_ms;
  bool alive;
  bool is_head;
  bool restored;    /* from the store, not registered again yet */
  uint64_t changed; /* the view version its entry last changed at */
  /* Its heartbeats come on this open stream (0: none, or unary): then
   * next_within_ms, the longest it said it may wait before the next one,
   * lengthens its timeout. */
  uint64_t stream;
  int64_t next_within_ms;
} dir_node;

struct mt_directory {
  pthread_mutex_t mu;
  dir_node *nodes;
  size_t n, cap;
  uint64_t head_id;
  uint64_t view;   /* bumped when a node joins, changes, dies or leaves */
  mt_view_log log; /* for heartbeat deltas (view_log.c) */
  int64_t heartbeat_ms, dead_after_ms;
  mt_actor_names *names;
  mt_pg_table *pgs;      /* placement groups (pg_head.c) */
  mt_serve_table *serve; /* Serve routes (serve_routes.c) */
  mt_head_store *store;  /* NULL: the state lives in memory only */
};

static void store_node_put_locked(mt_directory *d, const dir_node *n);
static void store_node_del_locked(mt_directory *d, uint64_t id);
static void store_pgs_locked(mt_directory *d);
static void store_node_registered_locked(mt_directory *d, dir_node *n);

mt_directory *mt_directory_new(uint64_t head_node_id, int64_t heartbeat_ms,
                               int64_t dead_after_ms) {
  mt_directory *d = calloc(1, sizeof *d);
  if (!d || !(d->names = mt_actor_names_new()) ||
      !(d->pgs = mt_pg_table_new()) || !(d->serve = mt_serve_table_new())) {
    if (d) {
      mt_actor_names_free(d->names);
      mt_pg_table_free(d->pgs);
    }
    free(d);
    return NULL;
  }
  pthread_mutex_init(&d->mu, NULL);
  d->head_id = head_node_id;
  d->view = 1;
  mt_view_log_init(&d->log);
  d->heartbeat_ms = heartbeat_ms;
  d->dead_after_ms = dead_after_ms;
  return d;
}

void mt_directory_free(mt_directory *d) {
  if (!d) {
    return;
  }
  for (size_t i = 0; i < d->n; i++) {
    protobuf_c_message_free_unpacked(&d->nodes[i].info->base, NULL);
    if (d->nodes[i].load) {
      protobuf_c_message_free_unpacked(&d->nodes[i].load->base, NULL);
    }
  }
  free(d->nodes);
  mt_head_store_close(d->store); /* the last writes first */
  mt_actor_names_free(d->names);
  mt_pg_table_free(d->pgs);
  mt_serve_table_free(d->serve);
  pthread_mutex_destroy(&d->mu);
  free(d);
}

/* A deep copy of a message (pack, unpack): NULL on OOM. */
static ProtobufCMessage *copy_msg(const ProtobufCMessage *m) {
  mt_tp_buf b;
  if (!mt_wire_pack(m, &b)) {
    return NULL;
  }
  ProtobufCMessage *c =
      protobuf_c_message_unpack(m->descriptor, NULL, b.len, b.data);
  free(b.data);
  return c;
}

static dir_node *find_locked(mt_directory *d, uint64_t id) {
  for (size_t i = 0; i < d->n; i++) {
    if (d->nodes[i].info->node_id == id) {
      return &d->nodes[i];
    }
  }
  return NULL;
}

/* Adds or replaces a node; false on OOM. */
static bool upsert_locked(mt_directory *d, const Manta__V1__NodeInfo *info,
                          bool is_head) {
  Manta__V1__NodeInfo *copy = (Manta__V1__NodeInfo *)copy_msg(&info->base);
  if (!copy) {
    return false;
  }
  dir_node *n = find_locked(d, info->node_id);
  if (!n) {
    if (d->n == d->cap) {
      size_t cap = d->cap ? 2 * d->cap : 8;
      dir_node *grown = realloc(d->nodes, cap * sizeof *grown);
      if (!grown) {
        protobuf_c_message_free_unpacked(&copy->base, NULL);
        return false;
      }
      d->nodes = grown;
      d->cap = cap;
    }
    n = &d->nodes[d->n++];
    memset(n, 0, sizeof *n);
    mt_log(MT_LOG_INFO, "head: node %016llx joined from %s (%s)",
           (unsigned long long)info->node_id, info->address,
           info->is_driver ? "driver" : "node");
  } else {
    protobuf_c_message_free_unpacked(&n->info->base, NULL);
    if (!n->alive) {
      mt_log(MT_LOG_INFO, "head: node %016llx (%s) is back",
             (unsigned long long)info->node_id, info->address);
    }
  }
  n->info = copy;
  n->alive = true;
  n->is_head = is_head;
  n->last_seen_ms = mt_now_ms();
  n->changed = ++d->view;
  store_node_put_locked(d, n);
  return true;
}

/* How long a node may stay silent: dead_after, plus however much longer
 * than the interval it said its next heartbeat may take (a node at rest),
 * while its heartbeat stream is open. A stream that closes (the process
 * died, the link broke) brings the plain dead_after back. */
static int64_t silence_allowed(const mt_directory *d, const dir_node *n) {
  int64_t extra = n->stream ? n->next_within_ms - d->heartbeat_ms : 0;
  return d->dead_after_ms + (extra > 0 ? extra : 0);
}

/* Nodes silent for longer than they may be are dead. */
static void reap_locked(mt_directory *d) {
  int64_t now = mt_now_ms();
  for (size_t i = 0; i < d->n; i++) {
    dir_node *n = &d->nodes[i];
    if (n->alive && !n->is_head &&
        now - n->last_seen_ms > silence_allowed(d, n)) {
      n->alive = false;
      n->changed = ++d->view;
      mt_actor_names_node_gone(d->names, n->info->node_id);
      store_node_del_locked(d, n->info->node_id);
      n->restored = false;
      mt_log(MT_LOG_WARN,
             "head: node %016llx (%s) sent no heartbeat for %lld ms: "
             "declared dead",
             (unsigned long long)n->info->node_id, n->info->address,
             (long long)(now - n->last_seen_ms));
    }
  }
  /* Names from the store their hosts did not announce again. */
  mt_actor_names_expire(d->names, now);
}

/* NodeStatus of every node, pointing into the directory (valid while the
 * lock is held); NULL on OOM. */
static Manta__V1__NodeStatus **statuses_locked(mt_directory *d,
                                               Manta__V1__NodeStatus **store) {
  Manta__V1__NodeStatus **ptrs = calloc(d->n + 1, sizeof *ptrs);
  *store = calloc(d->n + 1, sizeof **store);
  if (!ptrs || !*store) {
    free(ptrs);
    free(*store);
    *store = NULL;
    return NULL;
  }
  int64_t now = mt_now_ms();
  for (size_t i = 0; i < d->n; i++) {
    Manta__V1__NodeStatus *st = &(*store)[i];
    manta__v1__node_status__init(st);
    st->info = d->nodes[i].info;
    st->load = d->nodes[i].load;
    st->state = d->nodes[i].alive ? MANTA__V1__NODE_STATE__NODE_STATE_ALIVE
                                  : MANTA__V1__NODE_STATE__NODE_STATE_DEAD;
    st->last_heartbeat_ms_ago = now - d->nodes[i].last_seen_ms;
    st->is_head = d->nodes[i].is_head;
    ptrs[i] = st;
  }
  return ptrs;
}

void mt_directory_register_self(mt_directory *d, Manta__V1__NodeInfo *info) {
  pthread_mutex_lock(&d->mu);
  if (!upsert_locked(d, info, true)) {
    mt_log(MT_LOG_ERROR, "head: out of memory registering itself");
  }
  pthread_mutex_unlock(&d->mu);
}

/* Whether a heartbeat's load differs from the one held (their encodings
 * do): a node at rest reports the same load every time, and that must not
 * count as a change sent to every other node. */
static bool load_differs(const Manta__V1__NodeLoad *held,
                         const Manta__V1__NodeLoad *got) {
  mt_tp_buf a, b;
  if (!held || !mt_wire_pack(&held->base, &a)) {
    return true;
  }
  if (!mt_wire_pack(&got->base, &b)) {
    free(a.data);
    return true;
  }
  bool differ = a.len != b.len || memcmp(a.data, b.data, a.len) != 0;
  free(a.data);
  free(b.data);
  return differ;
}

/* Keeps in r (every node's status, index for index with the table) only
 * the entries changed after known_view, and names the nodes that left
 * since: the delta of docs/protocol.md. On OOM r stays the whole table. */
static void delta_locked(mt_directory *d, Manta__V1__HeartbeatReply *r,
                         uint64_t known_view) {
  r->gone = malloc(MT_VIEW_GONE_KEPT * sizeof *r->gone);
  if (!r->gone) {
    return;
  }
  r->n_gone = mt_view_log_gone_since(&d->log, known_view, r->gone);
  size_t k = 0;
  for (size_t i = 0; i < r->n_nodes; i++) {
    if (d->nodes[i].changed > known_view) {
      r->nodes[k++] = r->nodes[i];
    }
  }
  r->n_nodes = k;
  r->delta = true;
}

/* Applies a heartbeat; the reply is built under the lock and packed by the
 * caller (free with free_heartbeat_reply). */
static Manta__V1__HeartbeatReply *
heartbeat_locked(mt_directory *d, const Manta__V1__HeartbeatRequest *req,
                 uint64_t stream, Manta__V1__NodeStatus **store) {
  Manta__V1__HeartbeatReply *r = malloc(sizeof *r);
  if (!r) {
    return NULL;
  }
  manta__v1__heartbeat_reply__init(r);
  reap_locked(d);
  dir_node *n = find_locked(d, req->node_id);
  if (!n || !n->alive || n->restored) {
    /* A node known from the store registers again once, and announces
     * its named actors again, which confirms those the store had. */
    r->known = false;
    return r;
  }
  n->last_seen_ms = mt_now_ms();
  n->stream = stream;
  n->next_within_ms = req->next_within_ms;
  r->rest_ok = stream != 0;
  if (req->load && load_differs(n->load, req->load)) {
    Manta__V1__NodeLoad *load =
        (Manta__V1__NodeLoad *)copy_msg(&req->load->base);
    if (load) {
      if (n->load) {
        protobuf_c_message_free_unpacked(&n->load->base, NULL);
      }
      n->load = load;
      n->changed = ++d->view;
    }
  }
  r->known = true;
  r->view = d->view;
  r->epoch = d->log.epoch;
  r->nodes = statuses_locked(d, store);
  r->n_nodes = r->nodes ? d->n : 0;
  if (r->nodes && mt_view_log_can_delta(&d->log, req->known_epoch,
                                        req->known_view, d->view)) {
    delta_locked(d, r, req->known_view);
  }
  return r;
}

static void free_heartbeat_reply(Manta__V1__HeartbeatReply *r,
                                 Manta__V1__NodeStatus *store) {
  if (r) {
    free(r->nodes);
    free(r->gone);
    free(r);
  }
  free(store);
}

Manta__V1__HeartbeatReply *
mt_directory_heartbeat(mt_directory *d,
                       const Manta__V1__HeartbeatRequest *req) {
  /* The head's own heartbeat: the reply is copied so that it outlives the
   * lock, as one received over the network would. */
  Manta__V1__NodeStatus *store = NULL;
  pthread_mutex_lock(&d->mu);
  Manta__V1__HeartbeatReply *r = heartbeat_locked(d, req, 0, &store);
  Manta__V1__HeartbeatReply *copy =
      r ? (Manta__V1__HeartbeatReply *)copy_msg(&r->base) : NULL;
  pthread_mutex_unlock(&d->mu);
  free_heartbeat_reply(r, store);
  return copy;
}

bool mt_directory_is_method(const char *method) {
  return strcmp(method, MT_HEAD_REGISTER) == 0 ||
         strcmp(method, MT_HEAD_HEARTBEAT) == 0 ||
         strcmp(method, MT_HEAD_UNREGISTER) == 0 ||
         strcmp(method, MT_HEAD_STATUS) == 0 ||
         mt_actor_names_is_method(method) || mt_pg_table_is_method(method) ||
         mt_serve_table_is_method(method);
}

/* The live nodes with their resources, for placement groups (NULL on
 * OOM). */
static mt_pg_node *pg_nodes_locked(mt_directory *d, size_t *nn) {
  mt_pg_node *nodes = calloc(d->n + 1, sizeof *nodes);
  *nn = 0;
  for (size_t i = 0; nodes && i < d->n; i++) {
    dir_node *n = &d->nodes[i];
    if (!n->alive) {
      continue;
    }
    mt_pg_node *p = &nodes[(*nn)++];
    p->id = n->info->node_id;
    snprintf(p->address, sizeof p->address, "%s", n->info->address);
    p->load_ms = n->load ? n->last_seen_ms : 0;
    for (size_t k = 0; k < n->info->n_resources && p->nres < MT_MAX_RESOURCES;
         k++) {
      const Manta__V1__Resource *r = n->info->resources[k];
      snprintf(p->names[p->nres], 64, "%s", r->name);
      p->total[p->nres] = r->total;
      p->avail[p->nres] = r->total;
      /* Free now: from the last heartbeat, if one came. */
      for (size_t j = 0; n->load && j < n->load->n_resources; j++) {
        if (strcmp(n->load->resources[j]->name, r->name) == 0) {
          p->avail[p->nres] = n->load->resources[j]->available;
        }
      }
      p->nres++;
    }
  }
  return nodes;
}

int mt_directory_call(mt_directory *d, const char *method, const uint8_t *body,
                      size_t len, mt_tp_buf *reply, char *detail, size_t size) {
  pthread_mutex_lock(&d->mu);
  int st;
  if (mt_pg_table_is_method(method)) {
    size_t nn;
    reap_locked(d);
    mt_pg_node *nodes = pg_nodes_locked(d, &nn);
    st = mt_pg_table_handle(d->pgs, nodes, nn, method, body, len, reply, detail,
                            size);
    free(nodes);
    store_pgs_locked(d);
  } else if (mt_serve_table_is_method(method)) {
    st =
        mt_serve_table_handle(d->serve, method, body, len, reply, detail, size);
  } else {
    st =
        mt_actor_names_handle(d->names, method, body, len, reply, detail, size);
  }
  pthread_mutex_unlock(&d->mu);
  return st;
}

void mt_directory_pg_tick(mt_directory *d) {
  /* A few jobs per tick: a removal and a reservation need not wait for
   * the next heartbeat each. */
  for (int round = 0; round < 8; round++) {
    size_t nn;
    pthread_mutex_lock(&d->mu);
    reap_locked(d);
    mt_pg_node *nodes = pg_nodes_locked(d, &nn);
    mt_pg_job *j = nodes ? mt_pg_table_next_job(d->pgs, nodes, nn) : NULL;
    store_pgs_locked(d);
    pthread_mutex_unlock(&d->mu);
    free(nodes);
    if (!j) {
      return;
    }
    mt_pg_job_run(j);
    pthread_mutex_lock(&d->mu);
    mt_pg_job_done(d->pgs, j);
    store_pgs_locked(d);
    pthread_mutex_unlock(&d->mu);
  }
}

static void reply_msg(mt_tp_incoming *in, const ProtobufCMessage *m) {
  mt_tp_buf b;
  if (!mt_wire_pack(m, &b)) {
    mt_tp_reply(in, MT_TP_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
    return;
  }
  mt_tp_reply(in, MT_TP_OK, NULL, b.data, b.len);
  free(b.data);
}

static void bad_request(mt_tp_incoming *in, const char *method,
                        const char *why) {
  mt_log(MT_LOG_WARN, "head: bad %s request: %s", method, why);
  mt_tp_reply(in, MT_TP_INVALID_ARGUMENT, why, NULL, 0);
}

bool mt_directory_register(mt_directory *d, const Manta__V1__NodeInfo *info) {
  pthread_mutex_lock(&d->mu);
  bool ok = info->node_id != d->head_id && upsert_locked(d, info, false);
  if (ok) {
    store_node_registered_locked(d, find_locked(d, info->node_id));
  }
  pthread_mutex_unlock(&d->mu);
  return ok;
}

void mt_directory_unregister(mt_directory *d, uint64_t node_id) {
  pthread_mutex_lock(&d->mu);
  dir_node *n = find_locked(d, node_id);
  if (n && !n->is_head) {
    /* Left on purpose: forgotten, not listed as dead. */
    mt_log(MT_LOG_INFO, "head: node %016llx (%s) left",
           (unsigned long long)n->info->node_id, n->info->address);
    mt_actor_names_node_gone(d->names, n->info->node_id);
    store_node_del_locked(d, n->info->node_id);
    protobuf_c_message_free_unpacked(&n->info->base, NULL);
    if (n->load) {
      protobuf_c_message_free_unpacked(&n->load->base, NULL);
    }
    *n = d->nodes[--d->n];
    mt_view_log_gone(&d->log, node_id, ++d->view);
  }
  pthread_mutex_unlock(&d->mu);
}

static bool refuse_if_fenced(mt_directory *d, mt_tp_incoming *in, int status);

static void handle_register(mt_directory *d, mt_tp_incoming *in,
                            const uint8_t *body, size_t len) {
  if (refuse_if_fenced(d, in, MT_TP_FAILED_PRECONDITION)) {
    return;
  }
  Manta__V1__RegisterRequest *req =
      manta__v1__register_request__unpack(NULL, len, body);
  if (!req) {
    bad_request(in, "RegisterNode", "malformed RegisterRequest");
    return;
  }
  if (req->protocol != MT_PROTOCOL_VERSION) {
    char why[120];
    snprintf(why, sizeof why,
             "protocol version %u is not served here (the head speaks %d)",
             req->protocol, MT_PROTOCOL_VERSION);
    mt_log(MT_LOG_WARN, "head: refused a node: %s", why);
    mt_tp_reply(in, MT_TP_FAILED_PRECONDITION, why, NULL, 0);
  } else if (!req->node || req->node->node_id == 0 || !req->node->address ||
             !strchr(req->node->address, ':')) {
    bad_request(in, "RegisterNode", "node_id and address (HOST:PORT) needed");
  } else {
    if (!mt_directory_register(d, req->node)) {
      mt_tp_reply(in, MT_TP_INVALID_ARGUMENT,
                  "node id taken by the head, or out of memory", NULL, 0);
    } else {
      Manta__V1__RegisterReply r = MANTA__V1__REGISTER_REPLY__INIT;
      r.head_node_id = d->head_id;
      r.heartbeat_interval_ms = d->heartbeat_ms;
      r.dead_after_ms = d->dead_after_ms;
      reply_msg(in, &r.base);
    }
  }
  manta__v1__register_request__free_unpacked(req, NULL);
}

int mt_directory_heartbeat_bytes(mt_directory *d, const uint8_t *body,
                                 size_t len, uint64_t stream, uint64_t *node_id,
                                 mt_tp_buf *reply, char *detail, size_t size) {
  *reply = (mt_tp_buf){0};
  if (mt_directory_fenced(d, detail, size)) {
    return MT_TP_UNAVAILABLE;
  }
  Manta__V1__HeartbeatRequest *req =
      manta__v1__heartbeat_request__unpack(NULL, len, body);
  if (!req) {
    snprintf(detail, size, "malformed HeartbeatRequest");
    mt_log(MT_LOG_WARN, "head: bad Heartbeat request: %s", detail);
    return MT_TP_INVALID_ARGUMENT;
  }
  if (node_id) {
    *node_id = req->node_id;
  }
  Manta__V1__NodeStatus *store = NULL;
  pthread_mutex_lock(&d->mu);
  Manta__V1__HeartbeatReply *r = heartbeat_locked(d, req, stream, &store);
  bool packed = r && mt_wire_pack(&r->base, reply);
  pthread_mutex_unlock(&d->mu);
  free_heartbeat_reply(r, store);
  manta__v1__heartbeat_request__free_unpacked(req, NULL);
  if (!packed) {
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  return MT_TP_OK;
}

static void handle_heartbeat(mt_directory *d, mt_tp_incoming *in,
                             const uint8_t *body, size_t len) {
  mt_tp_buf b;
  char detail[500] = "";
  int st = mt_directory_heartbeat_bytes(d, body, len, 0, NULL, &b, detail,
                                        sizeof detail);
  mt_tp_reply(in, st, st == MT_TP_OK ? NULL : detail, b.data, b.len);
  free(b.data);
}

void mt_directory_stream_closed(mt_directory *d, uint64_t node_id,
                                uint64_t stream) {
  pthread_mutex_lock(&d->mu);
  dir_node *n = find_locked(d, node_id);
  if (n && n->stream == stream) {
    n->stream = 0; /* silent for dead_after from its last heartbeat: dead */
  }
  pthread_mutex_unlock(&d->mu);
}

static void handle_unregister(mt_directory *d, mt_tp_incoming *in,
                              const uint8_t *body, size_t len) {
  Manta__V1__UnregisterRequest *req =
      manta__v1__unregister_request__unpack(NULL, len, body);
  if (!req) {
    bad_request(in, "UnregisterNode", "malformed UnregisterRequest");
    return;
  }
  mt_directory_unregister(d, req->node_id);
  manta__v1__unregister_request__free_unpacked(req, NULL);
  Manta__V1__UnregisterReply r = MANTA__V1__UNREGISTER_REPLY__INIT;
  reply_msg(in, &r.base);
}

static void handle_status(mt_directory *d, mt_tp_incoming *in,
                          const uint8_t *body, size_t len) {
  Manta__V1__ClusterStatusRequest *req =
      manta__v1__cluster_status_request__unpack(NULL, len, body);
  if (!req) {
    bad_request(in, "ClusterStatus", "malformed ClusterStatusRequest");
    return;
  }
  manta__v1__cluster_status_request__free_unpacked(req, NULL);
  Manta__V1__ClusterStatusReply r = MANTA__V1__CLUSTER_STATUS_REPLY__INIT;
  Manta__V1__NodeStatus *store = NULL;
  pthread_mutex_lock(&d->mu);
  reap_locked(d);
  r.protocol = MT_PROTOCOL_VERSION;
  r.head_node_id = d->head_id;
  r.nodes = statuses_locked(d, &store);
  r.n_nodes = r.nodes ? d->n : 0;
  r.actors = mt_actor_names_list(d->names, &r.n_actors);
  r.placement_groups = mt_pg_table_list(d->pgs, &r.n_placement_groups);
  Manta__V1__HeadStore store_status;
  if (d->store) {
    mt_head_store_status(d->store, &store_status);
    r.store = &store_status;
  }
  mt_tp_buf b = {0};
  bool packed = mt_wire_pack(&r.base, &b);
  pthread_mutex_unlock(&d->mu);
  if (r.store) {
    mt_head_store_status_free(&store_status);
  }
  mt_actor_names_list_free(r.actors, r.n_actors);
  mt_pg_table_list_free(r.placement_groups, r.n_placement_groups);
  free(r.nodes);
  free(store);
  if (!packed) {
    mt_tp_reply(in, MT_TP_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
    return;
  }
  mt_tp_reply(in, MT_TP_OK, NULL, b.data, b.len);
  free(b.data);
}

void mt_directory_handle(mt_directory *d, mt_tp_incoming *in,
                         const char *method, const uint8_t *body, size_t len) {
  if (strcmp(method, MT_HEAD_REGISTER) == 0) {
    handle_register(d, in, body, len);
  } else if (strcmp(method, MT_HEAD_HEARTBEAT) == 0) {
    handle_heartbeat(d, in, body, len);
  } else if (strcmp(method, MT_HEAD_UNREGISTER) == 0) {
    handle_unregister(d, in, body, len);
  } else if (strcmp(method, MT_HEAD_STATUS) == 0) {
    handle_status(d, in, body, len);
  } else {
    mt_tp_buf reply;
    char detail[200] = "";
    int st =
        mt_directory_call(d, method, body, len, &reply, detail, sizeof detail);
    mt_tp_reply(in, st, detail, reply.data, reply.len);
    free(reply.data);
  }
}

/* ---- the durable store (head_store.h, docs/head-store.md) ----------------
 *
 * Every change of the node table, the named actors (actor_names.c) and the
 * placement groups is recorded for the store; a head opened on a store
 * that has them starts from them: known nodes are alive until they have
 * been silent for the dead-after time (as if they had just sent a
 * heartbeat), named actors resolve to their hosts at once, placement
 * groups are listed and kept. The head's own entry is never stored: a new
 * head is a new node. */

static void node_key(uint64_t id, char key[17]) {
  snprintf(key, 17, "%016" PRIx64, id);
}

static void store_node_put_locked(mt_directory *d, const dir_node *n) {
  if (d->store && !n->is_head) {
    char key[17];
    node_key(n->info->node_id, key);
    mt_head_store_put_msg(d->store, MT_STORE_NODES, key, &n->info->base);
  }
}

static void store_node_del_locked(mt_directory *d, uint64_t id) {
  if (d->store) {
    char key[17];
    node_key(id, key);
    mt_head_store_del(d->store, MT_STORE_NODES, key);
  }
}

/* The groups change in pg_head.c (calls, the tick's jobs): the store's
 * table is set to the list of groups after each (a few records). */
static void store_pgs_locked(mt_directory *d) {
  if (!d->store) {
    return;
  }
  size_t n = 0;
  Manta__V1__PlacementGroup **list = mt_pg_table_list(d->pgs, &n);
  char(*keys)[17] = calloc(n + 1, sizeof *keys);
  const char **kp = calloc(n + 1, sizeof *kp);
  if (list && keys && kp) {
    for (size_t i = 0; i < n; i++) {
      node_key(list[i]->id, keys[i]);
      kp[i] = keys[i];
    }
    mt_head_store_sync(d->store, MT_STORE_PGS, kp,
                       (const ProtobufCMessage *const *)list, n);
  } else {
    mt_log(MT_LOG_ERROR, "head: out of memory recording placement groups "
                         "for the store");
  }
  free(keys);
  free(kp);
  mt_pg_table_list_free(list, n);
}

/* How long a node that registered again has to announce its named actors
 * again before the names the store had for it go (in heartbeats): its
 * announcements follow its registration at once, one call each. */
#define CONFIRM_HEARTBEATS 10

/* A node known from the store registered again: the names the store had
 * for it must be announced again (a live node does so at once) or go;
 * until then they resolve as before. */
static void store_node_registered_locked(mt_directory *d, dir_node *n) {
  if (n && n->restored) {
    n->restored = false;
    mt_actor_names_unconfirm(d->names, n->info->node_id,
                             mt_now_ms() +
                                 CONFIRM_HEARTBEATS * d->heartbeat_ms);
  }
}

typedef struct restore_ctx {
  mt_directory *d;
  size_t nodes, actors, pgs, routes, dropped;
} restore_ctx;

static void restore_one(void *arg, int table, const char *key,
                        const uint8_t *data, size_t len) {
  restore_ctx *c = arg;
  mt_directory *d = c->d;
  bool used = false;
  if (table == MT_STORE_NODES) {
    Manta__V1__NodeInfo *info = manta__v1__node_info__unpack(NULL, len, data);
    if (info && info->node_id && info->node_id != d->head_id && info->address &&
        upsert_locked(d, info, false)) {
      find_locked(d, info->node_id)->restored = true;
      used = true;
      c->nodes++;
    }
    if (info) {
      manta__v1__node_info__free_unpacked(info, NULL);
    }
  } else if (table == MT_STORE_ACTORS) {
    Manta__V1__NamedActor *a = manta__v1__named_actor__unpack(NULL, len, data);
    /* Its host must be a node known again (the old head is not one). */
    if (a && find_locked(d, a->node_id) &&
        mt_actor_names_restore(d->names, a)) {
      used = true;
      c->actors++;
    }
    if (a) {
      manta__v1__named_actor__free_unpacked(a, NULL);
    }
  } else if (table == MT_STORE_PGS) {
    Manta__V1__PlacementGroup *g =
        manta__v1__placement_group__unpack(NULL, len, data);
    if (g && mt_pg_table_restore(d->pgs, g)) {
      used = true;
      c->pgs++;
    }
    if (g) {
      manta__v1__placement_group__free_unpacked(g, NULL);
    }
  } else if (table == MT_STORE_ROUTES) {
    /* Kept whoever deployed it: a route outlives its node, as it does in
     * a head that keeps running. */
    Manta__V1__ServeRoute *r = manta__v1__serve_route__unpack(NULL, len, data);
    if (r && r->route && r->route[0] == '/' && r->spec_json &&
        r->spec_json[0] &&
        mt_serve_table_put(d->serve, r->route, r->spec_json, r->stamp,
                           r->node_id, &(bool){false})) {
      used = true;
      c->routes++;
    }
    if (r) {
      manta__v1__serve_route__free_unpacked(r, NULL);
    }
  }
  if (!used) {
    /* Unreadable, or naming what is gone: not kept. */
    mt_log(MT_LOG_WARN, "head: store record %s of table %d not restored", key,
           table);
    mt_head_store_del(d->store, table, key);
    c->dropped++;
  }
}

bool mt_directory_open_store(mt_directory *d, const char *url,
                             const char *cluster_name, const char *address,
                             char *why, size_t size) {
  mt_head_store *s = mt_head_store_open(url, cluster_name, why, size);
  if (!s) {
    return false;
  }
  /* A standby waits here, before reading anything: the active head's
   * state is only final once its lease is gone. */
  if (!mt_head_store_acquire(s, address, why, size)) {
    mt_head_store_close(s);
    return false;
  }
  pthread_mutex_lock(&d->mu);
  d->store = s;
  mt_actor_names_set_store(d->names, s);
  mt_serve_table_set_store(d->serve, s);
  restore_ctx c = {d, 0, 0, 0, 0, 0};
  bool ok = mt_head_store_load(s, restore_one, &c, why, size);
  pthread_mutex_unlock(&d->mu);
  if (!ok || !mt_head_store_start(s)) {
    if (ok) {
      snprintf(why, size, "cannot start the store's writer thread");
    }
    return false; /* mt_directory_free closes it */
  }
  mt_log(MT_LOG_INFO,
         "head: state from the store: %zu node(s), %zu named actor(s), %zu "
         "placement group(s), %zu Serve route(s)%s",
         c.nodes, c.actors, c.pgs, c.routes,
         c.dropped ? " (some records dropped)" : "");
  return true;
}

void mt_directory_store_address(mt_directory *d, const char *address) {
  mt_head_store_set_address(d->store, address);
}

/* A head that lost the store's lease to another refuses the calls that
 * bind nodes to it: heartbeats UNAVAILABLE (unary or on the stream), so
 * that nodes move to the next head of their list (the active one),
 * registrations FAILED_PRECONDITION (not a head that cannot be reached). */
bool mt_directory_fenced(mt_directory *d, char *why, size_t size) {
  char holder[300];
  if (!d->store || !mt_head_store_fenced(d->store, holder, sizeof holder)) {
    return false;
  }
  snprintf(why, size,
           "this head lost the store's lease to %s and serves the cluster "
           "no more: register with that head",
           holder);
  return true;
}

static bool refuse_if_fenced(mt_directory *d, mt_tp_incoming *in, int status) {
  char why[500];
  if (!mt_directory_fenced(d, why, sizeof why)) {
    return false;
  }
  mt_tp_reply(in, status, why, NULL, 0);
  return true;
}
