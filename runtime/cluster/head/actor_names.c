/* The head's named actors: which name belongs to which actor on which node,
 * cluster-wide. A creator reserves a name before its actor exists (so a
 * clash is known at once), the node hosting the actor completes the entry,
 * and the entry goes when that node drops it or leaves. Guarded by the
 * directory's mutex (directory.c calls in with it held). */
#include "cluster.h"
#include "head_store.h"

#include <stdlib.h>
#include <string.h>

typedef struct name_entry {
  char *class_name;
  uint64_t host;    /* where the actor lives (or is to) */
  uint64_t creator; /* who reserved it */
  uint8_t id[16];   /* ActorRef.id, once complete */
  bool pending;     /* reserved, actor not yet made */
  /* From the store, its host registered again: dropped after this time
   * unless the host announces it again (0: confirmed). */
  int64_t confirm_by_ms;
} name_entry;

struct mt_actor_names {
  mt_strmap by_name;    /* name -> name_entry */
  mt_head_store *store; /* complete entries are recorded there, or NULL */
};

static void store_put(mt_actor_names *n, const char *name, name_entry *e);

mt_actor_names *mt_actor_names_new(void) {
  mt_actor_names *n = calloc(1, sizeof *n);
  if (n) {
    mt_strmap_init(&n->by_name);
  }
  return n;
}

static void entry_free(name_entry *e) {
  free(e->class_name);
  free(e);
}

void mt_actor_names_free(mt_actor_names *n) {
  if (!n) {
    return;
  }
  size_t pos = 0;
  const char *key;
  void *val;
  while (mt_strmap_next(&n->by_name, &pos, &key, &val)) {
    entry_free(val);
  }
  mt_strmap_destroy(&n->by_name);
  free(n);
}

bool mt_actor_names_is_method(const char *method) {
  return strcmp(method, MT_HEAD_REGISTER_ACTOR_NAME) == 0 ||
         strcmp(method, MT_HEAD_DROP_ACTOR_NAME) == 0 ||
         strcmp(method, MT_HEAD_LOOKUP_ACTOR) == 0;
}

static void drop(mt_actor_names *n, const char *name, const char *why) {
  name_entry *e = mt_strmap_remove(&n->by_name, name);
  if (e) {
    mt_log(MT_LOG_INFO, "head: actor name '%s' dropped (%s)", name, why);
    if (!e->pending) {
      mt_head_store_del(n->store, MT_STORE_ACTORS, name);
    }
    entry_free(e);
  }
}

void mt_actor_names_node_gone(mt_actor_names *n, uint64_t node_id) {
  /* Collected first: removing while iterating would skip entries. */
  size_t pos = 0, k = 0;
  const char *key;
  void *val;
  char **gone = calloc(n->by_name.len + 1, sizeof *gone);
  while (gone && mt_strmap_next(&n->by_name, &pos, &key, &val)) {
    name_entry *e = val;
    if (e->host == node_id || (e->pending && e->creator == node_id)) {
      gone[k] = strdup(key);
      k += gone[k] != NULL;
    }
  }
  for (size_t i = 0; i < k; i++) {
    drop(n, gone[i], "its node is gone");
    free(gone[i]);
  }
  free(gone);
}

/* An entry as a message pointing into it (valid while it lives). */
static void entry_message(const char *name, name_entry *e,
                          Manta__V1__NamedActor *m, Manta__V1__ActorRef *ref) {
  manta__v1__named_actor__init(m);
  m->name = (char *)name;
  m->class_name = e->class_name;
  m->node_id = e->host;
  if (!e->pending) {
    manta__v1__actor_ref__init(ref);
    ref->id.data = e->id;
    ref->id.len = sizeof e->id;
    m->actor = ref;
  }
}

Manta__V1__NamedActor **mt_actor_names_list(mt_actor_names *n, size_t *count) {
  /* One block: the pointer array, then the messages, then the refs. */
  size_t cap = n->by_name.len;
  size_t size =
      cap * (sizeof(Manta__V1__NamedActor *) + sizeof(Manta__V1__NamedActor) +
             sizeof(Manta__V1__ActorRef));
  Manta__V1__NamedActor **list = malloc(size ? size : 1);
  *count = 0;
  if (!list) {
    return NULL;
  }
  Manta__V1__NamedActor *msgs = (Manta__V1__NamedActor *)(void *)(list + cap);
  Manta__V1__ActorRef *refs = (Manta__V1__ActorRef *)(void *)(msgs + cap);
  size_t pos = 0, k = 0;
  const char *key;
  void *val;
  while (k < cap && mt_strmap_next(&n->by_name, &pos, &key, &val)) {
    name_entry *e = val;
    if (!e->pending) {
      entry_message(key, e, &msgs[k], &refs[k]);
      list[k] = &msgs[k];
      k++;
    }
  }
  *count = k;
  return list;
}

void mt_actor_names_list_free(Manta__V1__NamedActor **list, size_t count) {
  (void)count; /* one block */
  free(list);
}

/* ---- the methods ------------------------------------------------------- */

static int pack_reply(const ProtobufCMessage *m, mt_tp_buf *reply, char *detail,
                      size_t size) {
  if (!mt_wire_pack(m, reply)) {
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  return MT_TP_OK;
}

static int bad(const char *what, char *detail, size_t size) {
  mt_log(MT_LOG_WARN, "head: bad request: %s", what);
  snprintf(detail, size, "%s", what);
  return MT_TP_INVALID_ARGUMENT;
}

/*
 * A reservation (no actor id) takes a free name. A completion (with the
 * id) takes a free name too, or fills the reservation made for its node,
 * or repeats what is registered. Anything else is a clash.
 */
static int register_name(mt_actor_names *n, const uint8_t *body, size_t len,
                         mt_tp_buf *reply, char *detail, size_t size) {
  Manta__V1__RegisterActorNameRequest *req =
      manta__v1__register_actor_name_request__unpack(NULL, len, body);
  const Manta__V1__NamedActor *a = req ? req->actor : NULL;
  if (!a || !a->name || !a->name[0] || a->node_id == 0 ||
      (a->actor && a->actor->id.len != 16)) {
    if (req) {
      manta__v1__register_actor_name_request__free_unpacked(req, NULL);
    }
    return bad("RegisterActorName needs a name, a node_id and a 16-byte "
               "actor id (or none)",
               detail, size);
  }
  bool complete = a->actor != NULL;
  name_entry *e = mt_strmap_get(&n->by_name, a->name);
  Manta__V1__RegisterActorNameReply r =
      MANTA__V1__REGISTER_ACTOR_NAME_REPLY__INIT;
  Manta__V1__NamedActor holder;
  Manta__V1__ActorRef holder_ref;
  int st = MT_TP_OK;
  if (!e) {
    e = calloc(1, sizeof *e);
    bool oom = false;
    if (!e || !(e->class_name = strdup(a->class_name ? a->class_name : "")) ||
        !mt_strmap_insert(&n->by_name, a->name, e, &oom)) {
      if (e) {
        entry_free(e);
      }
      snprintf(detail, size, "out of memory");
      st = MT_TP_RESOURCE_EXHAUSTED;
    } else {
      e->host = a->node_id;
      e->creator = req->creator_node_id;
      e->pending = !complete;
      if (complete) {
        memcpy(e->id, a->actor->id.data, 16);
        store_put(n, a->name, e);
      }
      r.registered = true;
    }
  } else if (complete && e->host == a->node_id &&
             (e->pending || memcmp(e->id, a->actor->id.data, 16) == 0)) {
    memcpy(e->id, a->actor->id.data, 16);
    e->pending = false;
    e->confirm_by_ms = 0; /* announced again by its host */
    r.registered = true;
    store_put(n, a->name, e);
  } else {
    entry_message(a->name, e, &holder, &holder_ref);
    r.holder = &holder;
  }
  if (st == MT_TP_OK) {
    mt_log(MT_LOG_DEBUG, "head: actor name '%s' %s", a->name,
           !r.registered ? "taken already"
           : complete    ? "registered"
                         : "reserved");
    st = pack_reply(&r.base, reply, detail, size);
  }
  manta__v1__register_actor_name_request__free_unpacked(req, NULL);
  return st;
}

/* Dropped by the node hosting the actor: the reservation for it, or the
 * entry of that very actor (never a newer one of the same name). */
static int drop_name(mt_actor_names *n, const uint8_t *body, size_t len,
                     mt_tp_buf *reply, char *detail, size_t size) {
  Manta__V1__DropActorNameRequest *req =
      manta__v1__drop_actor_name_request__unpack(NULL, len, body);
  if (!req || !req->name) {
    if (req) {
      manta__v1__drop_actor_name_request__free_unpacked(req, NULL);
    }
    return bad("malformed DropActorNameRequest", detail, size);
  }
  name_entry *e = mt_strmap_get(&n->by_name, req->name);
  if (e && e->host == req->node_id &&
      (e->pending || (req->actor_id.len == 16 &&
                      memcmp(e->id, req->actor_id.data, 16) == 0))) {
    drop(n, req->name, "its actor is gone");
  }
  manta__v1__drop_actor_name_request__free_unpacked(req, NULL);
  Manta__V1__DropActorNameReply r = MANTA__V1__DROP_ACTOR_NAME_REPLY__INIT;
  return pack_reply(&r.base, reply, detail, size);
}

static int lookup(mt_actor_names *n, const uint8_t *body, size_t len,
                  mt_tp_buf *reply, char *detail, size_t size) {
  Manta__V1__LookupActorRequest *req =
      manta__v1__lookup_actor_request__unpack(NULL, len, body);
  if (!req || !req->name) {
    if (req) {
      manta__v1__lookup_actor_request__free_unpacked(req, NULL);
    }
    return bad("malformed LookupActorRequest", detail, size);
  }
  Manta__V1__LookupActorReply r = MANTA__V1__LOOKUP_ACTOR_REPLY__INIT;
  Manta__V1__NamedActor m;
  Manta__V1__ActorRef ref;
  name_entry *e = mt_strmap_get(&n->by_name, req->name);
  if (e && e->pending) {
    r.pending = true;
  } else if (e) {
    entry_message(req->name, e, &m, &ref);
    r.actor = &m;
  }
  int st = pack_reply(&r.base, reply, detail, size);
  manta__v1__lookup_actor_request__free_unpacked(req, NULL);
  return st;
}

int mt_actor_names_handle(mt_actor_names *n, const char *method,
                          const uint8_t *body, size_t len, mt_tp_buf *reply,
                          char *detail, size_t size) {
  reply->data = NULL;
  reply->len = 0;
  if (strcmp(method, MT_HEAD_REGISTER_ACTOR_NAME) == 0) {
    return register_name(n, body, len, reply, detail, size);
  }
  if (strcmp(method, MT_HEAD_DROP_ACTOR_NAME) == 0) {
    return drop_name(n, body, len, reply, detail, size);
  }
  return lookup(n, body, len, reply, detail, size);
}

/* ---- the durable store (head_store.h) --------------------------------------
 * Complete entries only: a reservation lives for the time of one creation,
 * and the host completes the name anyway (a completion takes a free name). */

static void store_put(mt_actor_names *n, const char *name, name_entry *e) {
  if (n->store) {
    Manta__V1__NamedActor m;
    Manta__V1__ActorRef ref;
    entry_message(name, e, &m, &ref);
    mt_head_store_put_msg(n->store, MT_STORE_ACTORS, name, &m.base);
  }
}

void mt_actor_names_set_store(mt_actor_names *n, mt_head_store *s) {
  n->store = s;
}

bool mt_actor_names_restore(mt_actor_names *n, const Manta__V1__NamedActor *a) {
  if (!a->name || !a->name[0] || !a->node_id || !a->actor ||
      a->actor->id.len != 16 || mt_strmap_get(&n->by_name, a->name)) {
    return false;
  }
  name_entry *e = calloc(1, sizeof *e);
  bool oom = false;
  if (!e || !(e->class_name = strdup(a->class_name ? a->class_name : "")) ||
      !mt_strmap_insert(&n->by_name, a->name, e, &oom)) {
    if (e) {
      entry_free(e);
    }
    return false;
  }
  e->host = a->node_id;
  memcpy(e->id, a->actor->id.data, 16);
  return true;
}

void mt_actor_names_unconfirm(mt_actor_names *n, uint64_t node_id,
                              int64_t by_ms) {
  size_t pos = 0;
  const char *key;
  void *val;
  while (mt_strmap_next(&n->by_name, &pos, &key, &val)) {
    name_entry *e = val;
    if (e->host == node_id && !e->pending) {
      e->confirm_by_ms = by_ms;
    }
  }
}

void mt_actor_names_expire(mt_actor_names *n, int64_t now_ms) {
  /* Collected first (at most 64 a call: the next reap takes the rest). */
  size_t pos = 0, k = 0;
  const char *key;
  void *val;
  char *gone[64];
  while (k < 64 && mt_strmap_next(&n->by_name, &pos, &key, &val)) {
    name_entry *e = val;
    if (e->confirm_by_ms && now_ms > e->confirm_by_ms &&
        (gone[k] = strdup(key))) {
      k++;
    }
  }
  for (size_t i = 0; i < k; i++) {
    drop(n, gone[i], "its host did not announce it again after a restart");
    free(gone[i]);
  }
}
