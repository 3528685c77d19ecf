/*
 * Named actors, from a node's side: a name reserved at the head before its
 * actor is created (so a clash is known at once), completed by the node
 * hosting the actor once it exists and dropped when it dies (those updates
 * go one at a time, in order), and looked up by any node. The head's table
 * is head/actor_names.c.
 */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long a lookup waits for a name whose actor is being created. */
#define LOOKUP_PENDING_MS 5000
/* Deadline of a call to the head. */
#define HEAD_CALL_MS 5000

/* ---- calls to the head ------------------------------------------------- */

int mt_head_call(const char *method, const ProtobufCMessage *req,
                 mt_tp_buf *reply, char *detail, size_t size) {
  reply->data = NULL;
  reply->len = 0;
  mt_tp_buf body;
  if (!mt_wire_pack(req, &body)) {
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  int st = MT_TP_CANCELLED;
  snprintf(detail, size, "the cluster is stopping");
  if (mt_head_enter()) {
    st = mt_cl.dir
             ? mt_directory_call(mt_cl.dir, method, body.data, body.len, reply,
                                 detail, size)
             : mt_tp_unary_sync(mt_head_channel(), method, body.data, body.len,
                                HEAD_CALL_MS, reply, detail, size);
    mt_head_exit();
  }
  free(body.data);
  return st;
}

manta_err mt_head_ask(const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *reply, const char *what,
                      ProtobufCMessage **out) {
  mt_tp_buf body;
  char detail[300] = "";
  int st = mt_head_call(method, req, &body, detail, sizeof detail);
  *out = st == MT_TP_OK
             ? protobuf_c_message_unpack(reply, NULL, body.len, body.data)
             : NULL;
  free(body.data);
  if (*out) {
    return MANTA_OK;
  }
  mt_log(MT_LOG_WARN, "cluster: %s: the head at %s answered status %d: %s",
         what, mt_head_address(), st,
         st == MT_TP_OK ? "a malformed reply" : detail);
  return st == MT_TP_CANCELLED ? MANTA_ERR_SHUTDOWN : MANTA_ERR_NODE_DIED;
}

/* Whether an entry the head holds for this node names no live named actor
 * here: its drop is still on the way (killed a moment ago). */
static bool stale_here(const char *name, const Manta__V1__NamedActor *holder) {
  uint64_t node, local;
  if (!holder || holder->node_id != mt_rt.node_id || !holder->actor ||
      !mt_wire_id_get(&holder->actor->id, &node, &local)) {
    return false; /* someone else's, or a reservation under way */
  }
  mt_lock();
  mt_actor *a = mt_actor_lookup_locked(local);
  bool stale = !a || a->state == MT_ACTOR_DEAD ||
               mt_strmap_get(&mt_rt.actor_names, name) != a;
  mt_unlock();
  return stale;
}

static void drop_now(const char *name, const Manta__V1__NamedActor *holder) {
  Manta__V1__DropActorNameRequest req =
      MANTA__V1__DROP_ACTOR_NAME_REQUEST__INIT;
  req.name = (char *)name;
  req.node_id = holder->node_id;
  req.actor_id = holder->actor->id;
  mt_tp_buf reply;
  char detail[200];
  mt_head_call(MT_HEAD_DROP_ACTOR_NAME, &req.base, &reply, detail,
               sizeof detail);
  free(reply.data);
}

manta_err mt_actor_reserve_name(const char *name, const char *cls,
                                uint64_t host) {
  Manta__V1__NamedActor actor = MANTA__V1__NAMED_ACTOR__INIT;
  actor.name = (char *)name;
  actor.class_name = (char *)cls;
  actor.node_id = host;
  Manta__V1__RegisterActorNameRequest req =
      MANTA__V1__REGISTER_ACTOR_NAME_REQUEST__INIT;
  req.actor = &actor;
  req.creator_node_id = mt_rt.node_id;
  for (int attempt = 0;; attempt++) {
    Manta__V1__RegisterActorNameReply *r;
    manta_err err =
        mt_head_ask(MT_HEAD_REGISTER_ACTOR_NAME, &req.base,
                    &manta__v1__register_actor_name_reply__descriptor,
                    "reserving an actor name", (ProtobufCMessage **)(void *)&r);
    if (err != MANTA_OK) {
      return err;
    }
    bool registered = r->registered;
    bool retry = !registered && attempt == 0 && stale_here(name, r->holder);
    if (retry) {
      drop_now(name, r->holder);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (!retry) {
      return registered ? MANTA_OK : MANTA_ERR_EXISTS;
    }
  }
}

/* A handle to the actor `id` of node `host` (local if it is this node's). */
static manta_err handle_of(uint64_t host, uint64_t id, const char *cls,
                           manta_actor *out) {
  manta_err err = MANTA_OK;
  mt_lock();
  mt_actor *a = NULL;
  if (!mt_rt.initialized || !mt_rt.cluster) {
    err = MANTA_ERR_SHUTDOWN;
  } else if (host == mt_rt.node_id) {
    a = mt_actor_lookup_locked(id);
    if (a) {
      mt_actor_retain_locked(a);
    }
  } else if ((a = mt_proxy_get_locked(host, id)) && cls && cls[0] &&
             !a->remote->class_name[0]) {
    char *copy = strdup(cls);
    if (copy) {
      free(a->remote->class_name);
      a->remote->class_name = copy;
    }
  }
  if (err == MANTA_OK) {
    if (a) {
      out->id = mt_actor_id(a);
    } else {
      err = host == mt_rt.node_id ? MANTA_ERR_NOT_FOUND : MANTA_ERR_NOMEM;
    }
  }
  mt_unlock();
  return err;
}

manta_err mt_actor_lookup_cluster(const char *name, manta_actor *out) {
  Manta__V1__LookupActorRequest req = MANTA__V1__LOOKUP_ACTOR_REQUEST__INIT;
  req.name = (char *)name;
  int64_t deadline = mt_now_ms() + LOOKUP_PENDING_MS;
  for (;;) {
    Manta__V1__LookupActorReply *r;
    manta_err err =
        mt_head_ask(MT_HEAD_LOOKUP_ACTOR, &req.base,
                    &manta__v1__lookup_actor_reply__descriptor,
                    "looking up an actor", (ProtobufCMessage **)(void *)&r);
    if (err != MANTA_OK) {
      return err;
    }
    uint64_t host, id;
    err = MANTA_ERR_NOT_FOUND;
    bool pending = r->pending;
    if (r->actor && r->actor->actor &&
        mt_wire_id_get(&r->actor->actor->id, &host, &id)) {
      err = handle_of(host, id, r->actor->class_name, out);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (!pending || mt_now_ms() >= deadline) {
      return err;
    }
    /* Its creation is under way: it is named in a moment. */
    nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
  }
}

/* ---- updates from hosts, in order --------------------------------------- */

/* A completion or drop for the head. They go one at a time, so the head
 * sees them in the order they happened (a drop never overtakes the
 * completion it undoes). */
typedef struct name_update {
  struct name_update *next;
  bool named;
  char *name, *cls;
  uint64_t host, id;
} name_update;

static pthread_mutex_t updates_mu = PTHREAD_MUTEX_INITIALIZER;
static name_update *updates_head, *updates_tail;
static bool updates_busy; /* one sends; the others only queue */

static void update_free(name_update *u) {
  free(u->name);
  free(u->cls);
  free(u);
}

/* The packed request of an update; false on OOM. */
static bool update_pack(const name_update *u, const char **method,
                        mt_tp_buf *body) {
  uint8_t id[16];
  mt_wire_id_join(u->host, u->id, id);
  if (u->named) {
    Manta__V1__ActorRef ref = MANTA__V1__ACTOR_REF__INIT;
    ref.id.data = id;
    ref.id.len = sizeof id;
    Manta__V1__NamedActor actor = MANTA__V1__NAMED_ACTOR__INIT;
    actor.name = u->name;
    actor.class_name = u->cls;
    actor.node_id = u->host;
    actor.actor = &ref;
    Manta__V1__RegisterActorNameRequest req =
        MANTA__V1__REGISTER_ACTOR_NAME_REQUEST__INIT;
    req.actor = &actor;
    req.creator_node_id = mt_rt.node_id;
    *method = MT_HEAD_REGISTER_ACTOR_NAME;
    return mt_wire_pack(&req.base, body);
  }
  Manta__V1__DropActorNameRequest req =
      MANTA__V1__DROP_ACTOR_NAME_REQUEST__INIT;
  req.name = u->name;
  req.node_id = u->host;
  if (u->id) {
    req.actor_id.data = id;
    req.actor_id.len = sizeof id;
  }
  *method = MT_HEAD_DROP_ACTOR_NAME;
  return mt_wire_pack(&req.base, body);
}

static void updates_pump(void);

static void update_sent(void *arg, int status, const char *detail,
                        const uint8_t *body, size_t len) {
  (void)body, (void)len;
  name_update *u = arg;
  if (status != MT_TP_OK) {
    mt_log(MT_LOG_WARN,
           "cluster: telling the head about actor name '%s' "
           "failed: %s",
           u->name, detail);
  }
  update_free(u);
  mt_head_exit();
  updates_pump();
}

/* Sends queued updates until none is left or one is on the network (its
 * answer calls this again). */
static void updates_pump(void) {
  for (;;) {
    pthread_mutex_lock(&updates_mu);
    name_update *u = updates_head;
    if (u) {
      updates_head = u->next;
      if (!updates_head) {
        updates_tail = NULL;
      }
    } else {
      updates_busy = false;
    }
    pthread_mutex_unlock(&updates_mu);
    if (!u) {
      return;
    }
    const char *method;
    mt_tp_buf body;
    if (!update_pack(u, &method, &body)) {
      mt_log(MT_LOG_WARN,
             "cluster: out of memory telling the head about "
             "actor name '%s'",
             u->name);
      update_free(u);
      continue;
    }
    if (!mt_head_enter()) {
      update_free(u); /* stopping: the head forgets this node anyway */
    } else if (mt_cl.dir) {
      mt_tp_buf reply;
      char detail[200];
      mt_directory_call(mt_cl.dir, method, body.data, body.len, &reply, detail,
                        sizeof detail);
      free(reply.data);
      update_free(u);
      mt_head_exit();
    } else {
      mt_tp_unary(mt_head_channel(), method, body.data, body.len, HEAD_CALL_MS,
                  update_sent, u);
      free(body.data);
      return;
    }
    free(body.data);
  }
}

static void updates_pump_job(void *unused1, void *unused2) {
  (void)unused1, (void)unused2;
  updates_pump();
}

void mt_actor_name_locked(const char *name, const char *cls, uint64_t host,
                          uint64_t id, bool named, mt_garbage *g) {
  name_update *u = calloc(1, sizeof *u);
  if (!u || !(u->name = strdup(name)) || !(u->cls = strdup(cls ? cls : ""))) {
    if (u) {
      update_free(u);
    }
    mt_log(MT_LOG_WARN,
           "cluster: out of memory: actor name '%s' not "
           "updated at the head",
           name);
    return;
  }
  u->named = named;
  u->host = host;
  u->id = id;
  pthread_mutex_lock(&updates_mu);
  if (updates_tail) {
    updates_tail->next = u;
  } else {
    updates_head = u;
  }
  updates_tail = u;
  bool start = !updates_busy;
  updates_busy = true;
  pthread_mutex_unlock(&updates_mu);
  if (start) {
    mt_garbage_add_dtor(g, updates_pump_job, NULL, NULL);
  }
}

void mt_actor_names_reannounce(void) {
  mt_garbage g;
  mt_garbage_init(&g);
  size_t n = 0;
  mt_lock();
  for (size_t i = 0; i < mt_rt.actors.used; i++) {
    mt_actor *a = mt_slots_at(&mt_rt.actors, i);
    if (a->refs > 0 && !a->remote && a->name && a->state != MT_ACTOR_DEAD) {
      mt_actor_name_locked(a->name, mt_actor_class_name(a), mt_rt.node_id,
                           mt_actor_id(a), true, &g);
      n++;
    }
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (n) {
    mt_log(MT_LOG_INFO,
           "cluster: %zu named actor(s) announced again to the head", n);
  }
}

void mt_actor_names_updates_drop(void) {
  pthread_mutex_lock(&updates_mu);
  while (updates_head) {
    name_update *u = updates_head;
    updates_head = u->next;
    update_free(u);
  }
  updates_tail = NULL;
  updates_busy = false;
  pthread_mutex_unlock(&updates_mu);
}
