/*
 * Handles that follow an actor's restarts. Only the node that created an
 * actor (its owner) restarts it (actor_proxy.c); every other node holding
 * a handle to it (passed as an argument or a value, or found by name) has
 * a proxy naming one instance. When that instance's node dies, or a call
 * to it is lost, such a proxy asks the owner where the actor lives now
 * (Node.LocateActor): the owner answers with the instance it restarted,
 * "being restarted" (ask again at the next view), or why it is dead. A
 * proxy that does not know its owner yet asks every live node: only the
 * owner says it is one. Calls lost with the old instance go to the new
 * one as the owner's max_task_retries allows, in their order.
 *
 * The owner side: the instances a restart replaced, so that a handle
 * naming one of them finds the proxy that knows the current one.
 */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

/* Deadline of one question to a node. */
#define LOCATE_CALL_MS 3000

/* ---- the owner side ------------------------------------------------------ */

/* Under rt.mu: instances a restart replaced, by key of (host, id). */
typedef struct former {
  uint64_t host, id;
  uint64_t proxy; /* the owning proxy's local id */
  struct former *next;
} former;

static mt_u64map formers;

static uint64_t former_key(uint64_t host, uint64_t id) {
  uint64_t k = (host * 0xC2B2AE3D27D4EB4FULL) ^ id;
  return k == 0 || k == UINT64_MAX ? 1 : k;
}

void mt_actor_locate_former_locked(mt_actor *a, uint64_t host, uint64_t id) {
  former *f = id ? calloc(1, sizeof *f) : NULL;
  if (!f) {
    return; /* OOM: handles naming it die with it, as before restarts */
  }
  f->host = host;
  f->id = id;
  f->proxy = mt_actor_id(a);
  uint64_t k = former_key(host, id);
  f->next = mt_u64map_remove(&formers, k);
  if (!mt_u64map_put(&formers, k, f)) {
    mt_u64map_put(&formers, k, f->next); /* the slot just freed */
    free(f);
    mt_log(MT_LOG_WARN, "cluster: out of memory recording a restart");
  }
}

void mt_actor_locate_forget_locked(mt_actor *a) {
  uint64_t proxy = mt_actor_id(a);
  size_t n = formers.len, k = 0;
  uint64_t *keys = calloc(n + 1, sizeof *keys);
  uint64_t key;
  void *val;
  for (size_t pos = 0; keys && mt_u64map_next(&formers, &pos, &key, &val);) {
    keys[k++] = key;
  }
  for (size_t i = 0; i < k; i++) {
    former *keep = NULL, *f = mt_u64map_remove(&formers, keys[i]);
    while (f) {
      former *next = f->next;
      if (f->proxy == proxy) {
        free(f);
      } else {
        f->next = keep;
        keep = f;
      }
      f = next;
    }
    if (keep) {
      mt_u64map_put(&formers, keys[i], keep); /* the slot just freed */
    }
  }
  free(keys);
}

void mt_actor_locate_stop_locked(void) {
  uint64_t key;
  void *val;
  for (size_t pos = 0; mt_u64map_next(&formers, &pos, &key, &val);) {
    for (former *f = val; f;) {
      former *next = f->next;
      free(f);
      f = next;
    }
  }
  mt_u64map_free(&formers);
}

/* The proxy through which this node created the instance (host, id), now
 * or before a restart replaced it. */
static mt_actor *owner_of_locked(uint64_t host, uint64_t id) {
  mt_actor *a = mt_proxy_owned_locked(host, id);
  if (a) {
    return a;
  }
  for (former *f = mt_u64map_get(&formers, former_key(host, id)); f;
       f = f->next) {
    if (f->host == host && f->id == id) {
      a = mt_actor_lookup_locked(f->proxy);
      return a && a->remote && a->remote->holds ? a : NULL;
    }
  }
  return NULL;
}

void mt_actor_locate_serve(mt_tp_incoming *in, const uint8_t *body,
                           size_t len) {
  Manta__V1__LocateActorRequest *req =
      manta__v1__locate_actor_request__unpack(NULL, len, body);
  uint64_t host = 0, id = 0;
  if (!req || !mt_wire_id_get(&req->actor_id, &host, &id)) {
    mt_tp_reply(in, MT_TP_INVALID_ARGUMENT,
                "malformed LocateActorRequest: it needs a 16-byte actor id",
                NULL, 0);
    if (req) {
      manta__v1__locate_actor_request__free_unpacked(req, NULL);
    }
    return;
  }
  manta__v1__locate_actor_request__free_unpacked(req, NULL);
  Manta__V1__LocateActorReply rep = MANTA__V1__LOCATE_ACTOR_REPLY__INIT;
  uint8_t now[16];
  char why[600] = "";
  mt_lock();
  mt_actor *a = owner_of_locked(host, id);
  if (a) {
    const mt_actor_remote *r = a->remote;
    rep.owner = true;
    rep.max_task_retries = r->max_task_retries;
    if (a->state == MT_ACTOR_DEAD) {
      rep.location = MANTA__V1__ACTOR_LOCATION__ACTOR_LOCATION_DEAD;
      snprintf(why, sizeof why, "%s",
               a->death ? manta_error_message(a->death) : "it was killed");
      rep.why = why;
    } else if (a->state == MT_ACTOR_ALIVE && r->id) {
      rep.location = MANTA__V1__ACTOR_LOCATION__ACTOR_LOCATION_ALIVE;
      mt_wire_id_join(r->host, r->id, now);
      rep.actor_id.data = now;
      rep.actor_id.len = sizeof now;
    } else {
      rep.location = MANTA__V1__ACTOR_LOCATION__ACTOR_LOCATION_RESTARTING;
    }
  }
  mt_unlock();
  mt_tp_buf out;
  if (!mt_wire_pack(&rep.base, &out)) {
    mt_tp_reply(in, MT_TP_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
    return;
  }
  mt_tp_reply(in, MT_TP_OK, NULL, out.data, out.len);
  free(out.data);
}

/* ---- the asking side ----------------------------------------------------- */

/* One round of questions about an instance, to one node or to all. */
typedef struct locate {
  uint64_t proxy;    /* the asking proxy's local id (retained) */
  uint64_t host, id; /* the instance it knows */
  int pending;       /* questions not answered, plus the starter's */
  bool decided;      /* an owner answered */
  bool to_owner;     /* asked the known owner only */
  char failure[200]; /* what went wrong asking, for the error */
} locate;

typedef struct question {
  locate *l;
  uint64_t node;
} question;

/* Set while a round starts, under rt.mu: an answer given at once (the
 * transport failed before sending) must not take the lock again. */
static _Thread_local bool starting;
static _Thread_local mt_garbage *starting_g;

bool mt_actor_locate_may_resend(const mt_task *t) {
  const mt_actor *a = t->actor;
  const mt_actor_remote *r = a->remote;
  return t->kind == MT_TASK_ACTOR_CALL && r && !r->holds &&
         a->state != MT_ACTOR_DEAD && !mt_rt.shutting_down &&
         (!r->owner_node || r->max_task_retries < 0 ||
          t->remote->attempts <= r->max_task_retries);
}

/* Calls lost with the instance (sent at least once) that the owner's
 * max_task_retries does not let go again fail now. */
static void prune_lost_locked(mt_actor *a, mt_garbage *g) {
  const mt_actor_remote *r = a->remote;
  if (r->max_task_retries < 0) {
    return;
  }
  /* A cancel flushes the mailbox: held back meanwhile, so that the calls
   * after the one cancelled stay where they are. */
  uint8_t state = a->state;
  a->state = MT_ACTOR_PENDING;
  for (mt_task *t = a->mbox.head, *next; t; t = next) {
    next = t->next;
    if (t->remote && t->remote->attempts > r->max_task_retries) {
      mt_task_cancel_locked(
          t,
          mt_task_error(t, MANTA_ERR_ACTOR_DEAD,
                        "the node actor %s lived on died or its link failed "
                        "with the call sent (%d time%s; max_task_retries %d); "
                        "it may or may not have run",
                        mt_actor_class_name(a), t->remote->attempts,
                        t->remote->attempts == 1 ? "" : "s",
                        r->max_task_retries),
          g);
    }
  }
  a->state = state;
}

static void die_locked(mt_actor *a, const char *owner, const char *because,
                       mt_garbage *g) {
  char node[120];
  mt_node_label_locked(a->remote->host, node, sizeof node);
  mt_actor_die_locked(
      a,
      mt_error_new(MANTA_ERR_ACTOR_DEAD, "cluster",
                   "node %s, where actor %s lived, died or cannot be reached; "
                   "%s%s%s",
                   node, mt_actor_class_name(a), owner, owner[0] ? ": " : "",
                   because),
      g);
}

/* The owner's answer about a's instance (l->host, l->id). */
static void apply_locked(mt_actor *a, const locate *l, uint64_t owner,
                         const Manta__V1__LocateActorReply *rep,
                         mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  if (a->state == MT_ACTOR_DEAD || r->host != l->host || r->id != l->id) {
    return; /* killed, or moved meanwhile */
  }
  r->owner_node = owner;
  r->max_task_retries = rep->max_task_retries;
  char who[160] = "its owner, node ";
  mt_node_label_locked(owner, who + strlen(who), sizeof who - strlen(who));
  uint64_t host = 0, id = 0;
  switch (rep->location) {
  case MANTA__V1__ACTOR_LOCATION__ACTOR_LOCATION_DEAD:
    die_locked(a, who, rep->why && rep->why[0] ? rep->why : "it is dead", g);
    return;
  case MANTA__V1__ACTOR_LOCATION__ACTOR_LOCATION_ALIVE:
    if (mt_wire_id_get(&rep->actor_id, &host, &id) &&
        (host != r->host || id != r->id)) {
      char to[120];
      mt_node_label_locked(host, to, sizeof to);
      mt_log(MT_LOG_INFO,
             "cluster: actor %s was restarted by its owner; this handle "
             "follows it to node %s",
             mt_actor_class_name(a), to);
      prune_lost_locked(a, g);
      mt_proxy_move_locked(a, host, id, g);
      return;
    }
    break; /* the owner has not seen the death yet: ask again later */
  default:
    break; /* being restarted: ask again at the next view */
  }
  prune_lost_locked(a, g);
}

/* A question was answered or its round's starter is done: the last one
 * ends the round. No owner answered: a handle that asked its known owner
 * asks every node next time; one that asked every node dies once its
 * instance's node is gone (none holds the handle it was created with). */
static void drop_locked(locate *l, mt_garbage *g) {
  if (--l->pending > 0) {
    return;
  }
  mt_actor *a = mt_actor_lookup_locked(l->proxy);
  mt_actor_remote *r = a ? a->remote : NULL;
  if (r && !l->decided) {
    r->locating = false;
    if (a->state == MT_ACTOR_DEAD || r->host != l->host || r->id != l->id ||
        mt_rt.shutting_down) {
      /* killed or moved meanwhile */
    } else if (l->to_owner) {
      r->owner_node = 0;
    } else if (mt_node_gone_locked(l->host, r->since_ms)) {
      die_locked(a, "",
                 l->failure[0] ? l->failure
                               : "no live node holds the handle it was "
                                 "created with (it was created without "
                                 "restarts, or its creator released it or is "
                                 "gone)",
                 g);
    }
  }
  if (a) {
    mt_actor_release_locked(a, g); /* the round's count */
  }
  free(l);
}

static void answered_locked(question *q, int status, const char *detail,
                            const uint8_t *body, size_t len, mt_garbage *g) {
  locate *l = q->l;
  mt_actor *a = mt_actor_lookup_locked(l->proxy);
  Manta__V1__LocateActorReply *rep =
      status == MT_TP_OK
          ? manta__v1__locate_actor_reply__unpack(NULL, len, body)
          : NULL;
  if (!rep && !l->failure[0]) {
    char node[120];
    mt_node_label_locked(q->node, node, sizeof node);
    snprintf(l->failure, sizeof l->failure, "asking node %s failed: %s", node,
             status == MT_TP_OK ? "a malformed reply" : detail);
  }
  if (a && rep && rep->owner && !l->decided) {
    l->decided = true;
    a->remote->locating = false;
    apply_locked(a, l, q->node, rep, g);
  }
  if (rep) {
    manta__v1__locate_actor_reply__free_unpacked(rep, NULL);
  }
  free(q);
  drop_locked(l, g);
}

static void on_answer(void *arg, int status, const char *detail,
                      const uint8_t *body, size_t len) {
  if (starting) {
    /* Answered at once, on the thread starting the round, under rt.mu. */
    answered_locked(arg, status, detail, body, len, starting_g);
    return;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  answered_locked(arg, status, detail, body, len, &g);
  mt_unlock();
  mt_garbage_free(&g);
}

/* Asks node about l's instance; false if no question could be sent. */
static bool ask_locked(locate *l, uint64_t node, const mt_tp_buf *body) {
  char address[128];
  mt_tp_channel *ch = mt_peer_channel_locked(node, address, sizeof address);
  question *q = ch ? calloc(1, sizeof *q) : NULL;
  if (!q) {
    return false;
  }
  q->l = l;
  q->node = node;
  l->pending++;
  mt_tp_unary(ch, MT_NODE_LOCATE, body->data, body->len, LOCATE_CALL_MS,
              on_answer, q);
  return true;
}

bool mt_actor_locate_locked(mt_actor *a, mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  if (r->holds || r->locating || !r->id || mt_cl.stopping) {
    return r->locating;
  }
  locate *l = calloc(1, sizeof *l);
  Manta__V1__LocateActorRequest req = MANTA__V1__LOCATE_ACTOR_REQUEST__INIT;
  uint8_t wire[16];
  mt_wire_id_join(r->host, r->id, wire);
  req.actor_id.data = wire;
  req.actor_id.len = sizeof wire;
  mt_tp_buf body;
  if (!l || !mt_wire_pack(&req.base, &body)) {
    free(l);
    return false;
  }
  l->proxy = mt_actor_id(a);
  l->host = r->host;
  l->id = r->id;
  l->pending = 1;            /* the starter's, dropped below */
  mt_actor_retain_locked(a); /* the round's count */
  r->locating = true;
  size_t asked = 0;
  bool was = starting;
  mt_garbage *was_g = starting_g;
  starting = true;
  starting_g = g;
  const mt_view_node *owner =
      r->owner_node ? mt_view_find_locked(r->owner_node) : NULL;
  if (owner && owner->alive) {
    l->to_owner = true;
    asked += ask_locked(l, r->owner_node, &body);
  } else {
    for (size_t i = 0; i < mt_cl.nview; i++) {
      const mt_view_node *v = &mt_cl.view[i];
      if (v->alive && v->node_id != mt_rt.node_id && v->node_id != r->host) {
        asked += ask_locked(l, v->node_id, &body);
      }
    }
  }
  free(body.data);
  mt_log(MT_LOG_DEBUG, "cluster: actor %s: asked %zu node%s where it lives",
         mt_actor_class_name(a), asked, asked == 1 ? "" : "s");
  drop_locked(l, g); /* the starter's count: with nothing asked, the end */
  starting = was;
  starting_g = was_g;
  return true;
}
