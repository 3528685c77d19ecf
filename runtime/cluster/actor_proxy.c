/*
 * Actors across nodes. An actor lives on one node, its host. Every other
 * node that holds a handle to it has a proxy: an mt_actor (in the same
 * table, so handles are ids as usual) whose mailbox keeps the calls made
 * here in submission order and sends the head of it, one ready call after
 * the other, to the host on the link's Tasks stream. The host enters the
 * calls of one stream into the actor's mailbox in arrival order, so each
 * caller's order holds end to end.
 *
 * Also here: where an actor goes when this node cannot host it, what a host
 * does with the actor operations it receives, the hold a host keeps on an
 * actor for the node that created it, and the proxies of a node that died.
 * Named actors are in actor_names_node.c; how a handle this node did not
 * create the actor through follows its restarts, in actor_locate.c.
 */
#include "cluster.h"
#include "task_context.h"

#include <stdlib.h>
#include <string.h>

/* Under rt.mu: proxies by (host, id), chained through remote->next. */
static mt_u64map proxies;

/* Under wire_mu (taken after rt.mu, or alone): the wire ids of proxies by
 * local id, for encoding, which runs with and without rt.mu. */
static pthread_mutex_t wire_mu = PTHREAD_MUTEX_INITIALIZER;
static mt_u64map wire_ids;

static bool proxy_wire(uint64_t id, uint8_t wire[16]) {
  pthread_mutex_lock(&wire_mu);
  const mt_actor_remote *r = mt_u64map_get(&wire_ids, id);
  if (r) {
    mt_wire_id_join(r->host, r->id, wire);
  }
  pthread_mutex_unlock(&wire_mu);
  return r != NULL;
}

void mt_node_label_locked(uint64_t node, char *buf, size_t size) {
  char hex[17];
  mt_wire_node_id_hex(node, hex);
  const mt_view_node *v = mt_view_find_locked(node);
  snprintf(buf, size, "%s%s%s%s", hex, v ? " (" : "", v ? v->address : "",
           v ? ")" : "");
}

typedef enum { HOST_ALIVE, HOST_DEAD, HOST_UNKNOWN } host_state;

/* A node missing from the view is gone once it has been missing for the
 * time after which the head declares a silent node dead: a node that just
 * joined may not be in this node's view yet. */
static host_state node_state_locked(uint64_t node, int64_t since_ms) {
  const mt_view_node *v = mt_view_find_locked(node);
  if (v) {
    return v->alive ? HOST_ALIVE : HOST_DEAD;
  }
  return mt_now_ms() - since_ms > mt_cl.dead_after_ms ? HOST_DEAD
                                                      : HOST_UNKNOWN;
}

/* ---- the proxy index ----------------------------------------------------- */

static uint64_t key_of(uint64_t host, uint64_t id) {
  uint64_t k = (host * 0x9E3779B97F4A7C15ULL) ^ id;
  return k == 0 || k == UINT64_MAX ? 1 : k;
}

static mt_actor *proxy_find_locked(uint64_t host, uint64_t id) {
  for (mt_actor *a = mt_u64map_get(&proxies, key_of(host, id)); a;
       a = a->remote->next) {
    if (a->remote->host == host && a->remote->id == id) {
      return a;
    }
  }
  return NULL;
}

/* Makes the proxy findable by its remote id and encodable as it. Without
 * (OOM), it still works: its handle then names this node's proxy, which
 * passes calls on. */
static void proxy_index_locked(mt_actor *a) {
  mt_actor_remote *r = a->remote;
  uint64_t key = key_of(r->host, r->id);
  /* Removed and put back: the map keeps one entry per key. */
  r->next = mt_u64map_remove(&proxies, key);
  if (!mt_u64map_put(&proxies, key, a)) {
    mt_u64map_put(&proxies, key, r->next); /* space was there a moment ago */
    r->next = NULL;
    mt_log(MT_LOG_WARN, "cluster: out of memory indexing an actor proxy");
    return;
  }
  pthread_mutex_lock(&wire_mu);
  if (!mt_u64map_put(&wire_ids, mt_actor_id(a), r)) {
    mt_log(MT_LOG_WARN, "cluster: out of memory indexing an actor proxy");
  }
  pthread_mutex_unlock(&wire_mu);
}

static void proxy_unindex_locked(mt_actor *a) {
  mt_actor_remote *r = a->remote;
  uint64_t key = key_of(r->host, r->id);
  mt_actor *first = mt_u64map_remove(&proxies, key);
  if (first == a) {
    first = r->next;
  } else {
    for (mt_actor *p = first; p; p = p->remote->next) {
      if (p->remote->next == a) {
        p->remote->next = r->next;
        break;
      }
    }
  }
  if (first) {
    mt_u64map_put(&proxies, key, first); /* the slot just freed */
  }
  r->next = NULL;
  pthread_mutex_lock(&wire_mu);
  mt_u64map_remove(&wire_ids, mt_actor_id(a));
  pthread_mutex_unlock(&wire_mu);
}

mt_actor *mt_proxy_get_locked(uint64_t host, uint64_t id) {
  mt_actor *a = proxy_find_locked(host, id);
  if (a) {
    mt_actor_retain_locked(a);
    return a;
  }
  a = mt_actor_proxy_new_locked(host, id, "");
  if (a) {
    a->remote->since_ms = mt_now_ms();
    proxy_index_locked(a);
  }
  return a;
}

mt_actor *mt_proxy_owned_locked(uint64_t host, uint64_t id) {
  mt_actor *a = proxy_find_locked(host, id);
  while (a && !(a->remote->holds && a->remote->host == host &&
                a->remote->id == id)) {
    a = a->remote->next;
  }
  return a;
}

void mt_proxy_move_locked(mt_actor *a, uint64_t host, uint64_t id,
                          mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  if (r->id) {
    proxy_unindex_locked(a);
  }
  r->host = host;
  r->id = id;
  r->since_ms = mt_now_ms();
  r->lost_ms = 0;
  proxy_index_locked(a);
  mt_actor_flush_locked(a, g);
}

/* ---- messages to the host ----------------------------------------------- */

/* Tells the host about the actor r names (KILL or RELEASE); best effort:
 * a host that is gone needs no telling. */
static void post_locked(const mt_actor_remote *r, Manta__V1__ActorOp op,
                        mt_garbage *g) {
  Manta__V1__TaskSpec spec = MANTA__V1__TASK_SPEC__INIT;
  uint8_t id[16];
  mt_wire_id_join(r->host, r->id, id);
  spec.actor_op = op;
  spec.actor_id.data = id;
  spec.actor_id.len = sizeof id;
  spec.sender_node_id = mt_rt.node_id;
  if (!mt_peers_post_locked(r->host, &spec, g)) {
    mt_log(MT_LOG_DEBUG, "cluster: actor %s: %s not sent (node gone)",
           r->class_name,
           op == MANTA__V1__ACTOR_OP__ACTOR_OP_KILL ? "kill" : "release");
  }
}

void mt_actor_spec_fill(const mt_task *t, Manta__V1__TaskSpec *spec,
                        mt_actor_spec_store *st) {
  const mt_actor_remote *r = t->actor->remote;
  spec->sender_node_id = mt_rt.node_id;
  if (t->kind == MT_TASK_ACTOR_CREATE) {
    manta__v1__actor_create__init(&st->create);
    st->create.class_name = r->class_name;
    st->create.name = r->name ? r->name : "";
    st->create.max_concurrency = r->max_concurrency;
    spec->actor_op = MANTA__V1__ACTOR_OP__ACTOR_OP_CREATE;
    spec->create = &st->create;
  } else {
    mt_wire_id_join(r->host, r->id, st->id);
    spec->actor_op = t->remote->ready_probe
                         ? MANTA__V1__ACTOR_OP__ACTOR_OP_READY
                         : MANTA__V1__ACTOR_OP__ACTOR_OP_CALL;
    spec->actor_id.data = st->id;
    spec->actor_id.len = sizeof st->id;
    spec->method = t->remote->function;
  }
}

/* ---- placement ----------------------------------------------------------- */

/* Better: the demand fits what is free now, then fewer actors, then less
 * work per CPU. */
static bool better_host(bool now, const mt_view_node *v, double load,
                        bool best_now, const mt_view_node *best,
                        double best_load) {
  if (now != best_now) {
    return now;
  }
  if (v->actors != best->actors) {
    return v->actors < best->actors;
  }
  return load < best_load;
}

static bool tried_locked(const mt_actor_remote *r, uint64_t node) {
  for (int i = 0; r && i < r->nrestart_tried; i++) {
    if (r->restart_tried[i] == node) {
      return true;
    }
  }
  return false;
}

/* The default placement of an actor this node cannot host; nodes a
 * restart under way failed on (skip, may be NULL) are not chosen. */
static bool place_default_locked(const char *cls,
                                 const mt_resource_request *demand,
                                 const mt_actor_remote *skip, uint64_t *host,
                                 manta_value **fail) {
  const mt_view_node *best = NULL;
  bool best_now = false, offered = mt_strmap_get(&mt_rt.classes, cls) != NULL;
  double best_load = 0;
  for (size_t i = 0; i < mt_cl.nview; i++) {
    const mt_view_node *v = &mt_cl.view[i];
    if (!v->alive || v->node_id == mt_rt.node_id ||
        !mt_view_offers(v->classes, v->nclasses, cls) ||
        tried_locked(skip, v->node_id)) {
      continue;
    }
    offered = true;
    if (!mt_view_fits(v, demand, false) || mt_peers_down_locked(v->node_id)) {
      continue;
    }
    bool now = mt_view_fits(v, demand, true);
    double load = mt_view_load_locked(v);
    if (!best || better_host(now, v, load, best_now, best, best_load)) {
      best = v;
      best_now = now;
      best_load = load;
    }
  }
  if (!best) {
    *fail = offered ? mt_error_new(MANTA_ERR_INFEASIBLE, cls,
                                   "no node offering actor class '%s' has the "
                                   "resources it asks for",
                                   cls)
                    : mt_error_new(MANTA_ERR_NOT_FOUND, "actor_create",
                                   "no node in the cluster offers an actor "
                                   "class named '%s'",
                                   cls);
    return false;
  }
  *host = best->node_id;
  return true;
}

bool mt_actor_place_locked(const char *cls, bool local_ok,
                           const mt_resource_request *demand,
                           const mt_placement *p, uint64_t *host,
                           manta_value **fail) {
  *host = 0;
  if (p->strategy == MANTA_STRATEGY_NODE_AFFINITY && !p->soft &&
      p->node != mt_rt.node_id && !mt_view_find_locked(p->node)) {
    /* Not in this node's view (yet): the creation waits for the next
     * views before it fails (mt_actor_create_send_locked). */
    *host = p->node;
    return true;
  }
  if (mt_strategy_pick_locked(p, cls, true, demand, local_ok, cls, host,
                              fail)) {
    if (*host == mt_rt.node_id) {
      *host = 0;
    }
    return true;
  }
  return !*fail &&
         (local_ok || place_default_locked(cls, demand, NULL, host, fail));
}

/* Where a restart of r's actor goes: the node its creation asked for
 * (node affinity, or its placement group bundle's node) when it can host
 * it; else, for a soft affinity or none, the default placement (nodes the
 * restart failed on, in skip, left out). A hard affinity that cannot be
 * honoured fails, *why saying why. */
static bool restart_place_locked(const mt_actor_remote *r,
                                 const mt_actor_remote *skip, uint64_t *host,
                                 manta_value **why) {
  const mt_placement *p = &r->placement;
  if (p->strategy == MANTA_STRATEGY_NODE_AFFINITY) {
    const mt_view_node *v = mt_view_find_locked(p->node);
    const char *lack =
        !v || !v->alive            ? "is dead"
        : p->node == mt_rt.node_id ? "is its owner, which hosts no restart"
        : !mt_view_offers(v->classes, v->nclasses, r->class_name)
            ? "does not offer its class"
        : tried_locked(skip, p->node) ? "failed this restart already"
        : !mt_view_fits(v, &r->demand, false) || mt_peers_down_locked(p->node)
            ? "cannot take it now"
            : NULL;
    if (!lack) {
      *host = p->node;
      return true;
    }
    if (!p->soft) {
      char node[120];
      mt_node_label_locked(p->node, node, sizeof node);
      *why = mt_error_new(
          MANTA_ERR_ACTOR_DEAD, r->class_name, "%s node %s, which %s",
          r->in_group ? "its placement group bundle is on"
                      : "it was created with a hard node affinity to",
          node, lack);
      return false;
    }
  }
  return place_default_locked(r->class_name, &r->demand, skip, host, why);
}

/* ---- a proxy's calls ----------------------------------------------------- */

/* " (restarted 2 times, no restart left)" for messages; "" for an actor
 * created without restarts. */
static void restarts_label(const mt_actor_remote *r, char *buf, size_t size) {
  buf[0] = '\0';
  if (r->restarts_done > 0 || r->restarts_left != 0) {
    snprintf(buf, size, " (restarted %d time%s%s)", r->restarts_done,
             r->restarts_done == 1 ? "" : "s",
             r->restarts_left == 0 ? ", no restart left" : "");
  }
}

/* Sends the creation of a again, with the same arguments, to host (a
 * restart's node). False on OOM (*why says so). */
static bool create_on_locked(mt_actor *a, uint64_t host, manta_value **why,
                             mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  mt_task *t = mt_task_alloc(MT_TASK_ACTOR_CREATE,
                             (const manta_value *const *)r->args, r->nargs);
  if (!t || !mt_task_make_remote(t, r->class_name, NULL, 0)) {
    if (t) {
      mt_task_free_locked(t, g);
    }
    *why = mt_error_new(MANTA_ERR_NOMEM, r->class_name, "out of memory");
    return false;
  }
  t->remote->demand = r->demand;
  r->host = host;
  r->id = 0;
  r->confirming = false;
  r->probing = false;
  r->since_ms = mt_now_ms();
  r->lost_ms = 0;
  if (r->nrestart_tried < (int)(sizeof r->restart_tried / sizeof(uint64_t))) {
    r->restart_tried[r->nrestart_tried++] = host;
  }
  a->state = MT_ACTOR_PENDING;
  t->actor = a;
  mt_actor_retain_locked(a); /* the creation task's count */
  mt_task_start_deps_locked(t, g);
  return true;
}

/* The host of a (a proxy this node created the actor through) died and a
 * restart is left: creates the actor again, with the same arguments, on
 * another node offering its class. Calls in the mailbox wait for it; the
 * handle (this proxy's id) stays the same. False: no node can host it
 * (*why says so). */
static bool restart_locked(mt_actor *a, const char *node, manta_value **why,
                           mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  uint64_t host = 0;
  if (!restart_place_locked(r, NULL, &host, why)) {
    return false;
  }
  mt_actor_locate_former_locked(a, r->host, r->id); /* for other handles */
  proxy_unindex_locked(a);
  r->nrestart_tried = 0;
  if (!create_on_locked(a, host, why, g)) {
    return false;
  }
  if (r->restarts_left > 0) {
    r->restarts_left--;
  }
  r->restarts_done++;
  char to[120];
  mt_node_label_locked(host, to, sizeof to);
  mt_log(MT_LOG_INFO,
         "cluster: node %s, where actor %s lived, died; creating it again on "
         "%s (restart %d)",
         node, r->class_name, to, r->restarts_done);
  return true;
}

/* A restart's creation failed on its node (the node died before answering,
 * or refused it): the same restart tries another node offering the class
 * that it has not tried yet (at most 4 in all). False: none is left (or
 * the actor was killed meanwhile), and the actor dies. */
static bool restart_elsewhere_locked(mt_actor *a, const char *failure,
                                     mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  uint64_t host = 0;
  manta_value *why = NULL;
  if (r->restarts_done == 0 || !r->holds || a->state != MT_ACTOR_PENDING ||
      mt_rt.shutting_down ||
      r->nrestart_tried >= (int)(sizeof r->restart_tried / sizeof(uint64_t)) ||
      !restart_place_locked(r, r, &host, &why)) {
    mt_garbage_add(g, why);
    return false;
  }
  char from[120], to[120];
  mt_node_label_locked(r->host, from, sizeof from);
  mt_node_label_locked(host, to, sizeof to);
  if (!create_on_locked(a, host, &why, g)) {
    mt_garbage_add(g, why);
    return false;
  }
  mt_log(MT_LOG_INFO,
         "cluster: creating actor %s again on node %s failed (%s); trying "
         "node %s (restart %d)",
         r->class_name, from, failure, to, r->restarts_done);
  return true;
}

static void host_died_locked(mt_actor *a, mt_garbage *g) {
  char node[120], restarts[80];
  mt_actor_remote *r = a->remote;
  mt_node_label_locked(r->host, node, sizeof node);
  manta_value *nowhere = NULL;
  /* A handle that did not create the actor asks the node that did where
   * it lives now; that answer decides. */
  if (!r->holds && a->state == MT_ACTOR_ALIVE && !mt_rt.shutting_down &&
      (r->locating || mt_actor_locate_locked(a, g))) {
    return;
  }
  /* Not while a creation is on its way (PENDING): its loss ends the actor,
   * and a second creation beside it would leave two instances. */
  if (r->restarts_left != 0 && r->holds &&
      (a->state == MT_ACTOR_ALIVE || r->confirming) &&
      restart_locked(a, node, &nowhere, g)) {
    return;
  }
  restarts_label(r, restarts, sizeof restarts);
  manta_value *why =
      mt_error_new(MANTA_ERR_ACTOR_DEAD, "cluster",
                   "node %s, where actor %s lived, died%s%s%s", node,
                   mt_actor_class_name(a), restarts, nowhere ? "; " : "",
                   nowhere ? manta_error_message(nowhere) : "");
  mt_garbage_add(g, nowhere);
  mt_actor_die_locked(a, why, g);
}

/* Asks the host of a restart's instance whether its constructor
 * succeeded (ACTOR_OP_READY); its calls wait in the mailbox meanwhile. */
static void probe_locked(mt_actor *a, mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  mt_task *t = mt_task_alloc(MT_TASK_ACTOR_CALL, NULL, 0);
  if (!t || !mt_task_make_remote(t, "", NULL, 0)) {
    if (t) {
      mt_task_free_locked(t, g);
    }
    return; /* OOM: tried again at the next view */
  }
  t->remote->ready_probe = true;
  t->remote->demand.n = 0;
  t->actor = a;
  mt_actor_retain_locked(a); /* the probe's count */
  t->where = MT_WHERE_REMOTE;
  r->probing = true;
  manta_value *error = NULL;
  if (!mt_peers_send_locked(r->host, t, &error, g)) {
    r->probing = false;
    mt_task_finish_locked(t, error, g);
  }
}

/* The constructor of a restart's instance failed on its host (why): that
 * counts as one restart, and the actor is created again, on another node
 * offering its class if there is one, while restarts are left; else it
 * dies, its error naming the cause. */
static void ctor_failed_locked(mt_actor *a, manta_value *why, mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  char node[120], to[120], restarts[80];
  mt_node_label_locked(r->host, node, sizeof node);
  /* The host's answer says the probe did not run; its cause, why the
   * instance died (its constructor's error). */
  const manta_value *cause = manta_error_cause(why);
  const char *because = manta_error_message(cause ? cause : why);
  post_locked(r, MANTA__V1__ACTOR_OP__ACTOR_OP_RELEASE, g); /* its hold */
  r->confirming = false;
  uint64_t host = 0;
  manta_value *nowhere = NULL;
  bool placed = false;
  if (r->restarts_left != 0 && !mt_rt.shutting_down) {
    /* Another node if one can take it, else the same one again. */
    placed = restart_place_locked(r, r, &host, &nowhere);
    if (!placed) {
      mt_garbage_add(g, nowhere);
      nowhere = NULL;
      placed = restart_place_locked(r, NULL, &host, &nowhere);
    }
  }
  if (placed) {
    proxy_unindex_locked(a);
    if (create_on_locked(a, host, &nowhere, g)) {
      if (r->restarts_left > 0) {
        r->restarts_left--;
      }
      r->restarts_done++;
      mt_node_label_locked(host, to, sizeof to);
      mt_log(MT_LOG_INFO,
             "cluster: the constructor of actor %s failed on node %s (%s); "
             "creating it again on %s (restart %d)",
             r->class_name, node, because, to, r->restarts_done);
      mt_garbage_add(g, why);
      return;
    }
  }
  restarts_label(r, restarts, sizeof restarts);
  manta_value *dead = mt_error_new(
      MANTA_ERR_ACTOR_DEAD, r->class_name,
      "actor %s was restarted, and its constructor failed on node %s%s: "
      "%s%s%s",
      r->class_name, node, restarts, because, nowhere ? "; " : "",
      nowhere ? manta_error_message(nowhere) : "");
  mt_garbage_add(g, nowhere);
  if (dead) {
    manta_error_set_cause(dead, why);
  } else {
    mt_garbage_add(g, why);
  }
  mt_actor_die_locked(a, dead, g);
}

void mt_actor_remote_ready_locked(mt_task *t, manta_value *v, mt_garbage *g) {
  mt_actor *a = t->actor;
  mt_actor_remote *r = a->remote;
  mt_actor_retain_locked(a);
  mt_task_finish_locked(t, NULL, g);
  r->probing = false;
  if (a->state != MT_ACTOR_PENDING || !r->confirming) {
    mt_garbage_add(g, v); /* killed, or moved on meanwhile */
  } else if (v && manta_value_kind(v) == MANTA_KIND_ERROR &&
             manta_error_code(v) == MANTA_ERR_ACTOR_DEAD) {
    ctor_failed_locked(a, v, g);
  } else {
    /* Constructed (or a host that predates the probe answered): calls go. */
    mt_garbage_add(g, v);
    r->confirming = false;
    a->state = MT_ACTOR_ALIVE;
    mt_actor_flush_locked(a, g);
  }
  mt_actor_release_locked(a, g);
}

/* Sends the ready calls at the head of the mailbox, in order. A call whose
 * arguments are pending holds back those behind it. */
void mt_actor_flush_locked(mt_actor *a, mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  if (r->confirming && !r->probing && a->state == MT_ACTOR_PENDING &&
      node_state_locked(r->host, r->since_ms) == HOST_ALIVE &&
      !mt_peers_down_locked(r->host)) {
    probe_locked(a, g); /* the last probe was lost with a link */
  }
  if (a->state != MT_ACTOR_ALIVE || !a->mbox.head ||
      a->mbox.head->where != MT_WHERE_MAILBOX) {
    return;
  }
  host_state st = node_state_locked(r->host, r->since_ms);
  if (st == HOST_UNKNOWN) {
    return; /* not in the view yet: the next view sends them */
  }
  if (st == HOST_DEAD) {
    host_died_locked(a, g);
    return;
  }
  if (mt_peers_down_locked(r->host) ||
      (r->lost_ms && mt_now_ms() - r->lost_ms <= 2 * mt_cl.dead_after_ms)) {
    /* The link failed a moment ago (or calls to be sent again were lost
     * with it): the calls wait here until it is tried again (the next
     * view), or until the head declares the node dead (a restart). */
    return;
  }
  mt_actor_retain_locked(a); /* finishing the last call drops a count */
  while (a->state == MT_ACTOR_ALIVE && a->mbox.head &&
         a->mbox.head->where == MT_WHERE_MAILBOX) {
    mt_task *t = a->mbox.head;
    mt_actor_unlink_call_locked(a, t);
    mt_rt.tasks_queued--;
    t->where = MT_WHERE_REMOTE;
    manta_value *error = NULL;
    if (!mt_peers_send_locked(r->host, t, &error, g)) {
      mt_task_finish_locked(t, error, g);
    }
  }
  mt_actor_release_locked(a, g);
}

void mt_actor_dispatch_locked(mt_task *t, mt_garbage *g) {
  mt_actor *a = t->actor;
  if (t->kind == MT_TASK_ACTOR_CREATE) {
    mt_actor_create_send_locked(t, 0, g); /* may wait for the view */
    return;
  }
  /* A ready call waits its turn in the mailbox, like a local one. */
  t->where = MT_WHERE_MAILBOX;
  mt_rt.tasks_queued++;
  mt_actor_flush_locked(a, g);
}

void mt_actor_remote_created_locked(mt_task *t, const ProtobufCBinaryData *id,
                                    manta_value *v, mt_garbage *g) {
  mt_actor *a = t->actor;
  mt_actor_remote *r = a->remote;
  uint64_t host = 0, local = 0;
  if (id && mt_wire_id_get(id, &host, &local) && local && host == r->host) {
    mt_garbage_add(g, v);
    r->id = local;
    r->since_ms = mt_now_ms();
    proxy_index_locked(a);
    if (a->state == MT_ACTOR_DEAD) {
      post_locked(r, MANTA__V1__ACTOR_OP__ACTOR_OP_KILL, g); /* killed here */
    } else if (r->restarts_done > 0 && r->holds) {
      /* A restart: calls wait until the constructor is known to have
       * succeeded (a failure counts as a restart). */
      r->confirming = true;
      probe_locked(a, g);
    } else {
      a->state = MT_ACTOR_ALIVE;
      mt_actor_flush_locked(a, g);
    }
  } else if (restart_elsewhere_locked(
                 a, v ? manta_error_message(v) : "no answer", g)) {
    mt_garbage_add(g, v); /* a new creation is on its way */
  } else {
    char node[120];
    mt_node_label_locked(r->host, node, sizeof node);
    manta_value *why =
        mt_error_new(MANTA_ERR_ACTOR_DEAD, r->class_name,
                     "creating actor %s on node %s failed: %s", r->class_name,
                     node, v ? manta_error_message(v) : "no answer");
    if (why && v) {
      manta_error_set_cause(why, v);
    } else {
      mt_garbage_add(g, v);
    }
    mt_actor_die_locked(a, why, g); /* drops the name it reserved */
  }
  mt_task_finish_locked(t, NULL, g);
}

/* Puts a lost call back in its proxy's mailbox, before the calls not sent
 * yet and after the lost calls sent before it: each caller's order holds. */
static void requeue_locked(mt_actor *a, mt_task *t) {
  mt_task *after = NULL;
  for (mt_task *c = a->mbox.head; c && c->remote && c->remote->attempts > 0 &&
                                  c->remote->seq < t->remote->seq;
       c = c->next) {
    after = c;
  }
  if (!after) {
    mt_task_list_push_front(&a->mbox, t);
  } else {
    t->prev = after;
    t->next = after->next;
    if (after->next) {
      after->next->prev = t;
    } else {
      a->mbox.tail = t;
    }
    after->next = t;
    a->mbox.len++;
  }
  t->in_mbox = true;
  t->where = MT_WHERE_MAILBOX;
  mt_rt.tasks_queued++;
}

/* A call lost with its host is sent again when the actor may come back
 * (a restart is left) and its retries allow. */
static bool may_resend(const mt_task *t) {
  const mt_actor *a = t->actor;
  const mt_actor_remote *r = a->remote;
  return t->kind == MT_TASK_ACTOR_CALL && r && a->state != MT_ACTOR_DEAD &&
         !mt_rt.shutting_down && r->restarts_left != 0 && r->holds &&
         (r->max_task_retries < 0 ||
          t->remote->attempts <= r->max_task_retries);
}

void mt_actor_remote_lost_locked(mt_task *t, manta_err code, const char *why,
                                 mt_garbage *g) {
  mt_actor_remote *r = t->actor->remote;
  if (t->remote->ready_probe) {
    /* Sent again at the next view if the host lives; a restart if not. */
    r->probing = false;
    mt_task_finish_locked(t, NULL, g);
    return;
  }
  if (t->kind == MT_TASK_ACTOR_CALL && r && r->restarts_left != 0 && r->holds) {
    /* The host may be dead: later calls wait for the head to say so (a
     * restart) instead of following this one. */
    r->lost_ms = mt_now_ms();
  }
  if (t->kind == MT_TASK_ACTOR_CALL && mt_cancel_requested(t)) {
    /* Cancelled before its host was lost: never sent again. */
    mt_task_finish_locked(
        t, mt_task_error(t, MANTA_ERR_CANCELLED, "cancelled; %s", why), g);
    return;
  }
  if (code == MANTA_ERR_ACTOR_DEAD && may_resend(t)) {
    mt_log(MT_LOG_INFO,
           "cluster: actor %s: call of %s lost (%s); sending it again once "
           "the actor is back",
           r->class_name, t->remote->function, why);
    requeue_locked(t->actor, t);
    return;
  }
  if (code == MANTA_ERR_ACTOR_DEAD && mt_actor_locate_may_resend(t)) {
    /* A handle passed here: the owner says where the actor is and whether
     * the call may go there (mt_actor_locate_locked, at the latest when
     * the head declares the host dead). */
    mt_log(MT_LOG_INFO,
           "cluster: actor %s: call of %s lost (%s); asking its owner "
           "where the actor lives now",
           mt_actor_class_name(t->actor), t->remote->function, why);
    r->lost_ms = mt_now_ms();
    requeue_locked(t->actor, t);
    if (!r->locating) {
      mt_actor_locate_locked(t->actor, g);
    }
    return;
  }
  if (t->kind == MT_TASK_ACTOR_CREATE) {
    mt_actor_remote_created_locked(t, NULL,
                                   mt_error_new(code, "cluster", "%s", why), g);
    return;
  }
  mt_task_finish_locked(t,
                        mt_task_error(t, code,
                                      "%s; the call had been sent and may "
                                      "or may not have run",
                                      why),
                        g);
}

void mt_actor_kill_remote_locked(mt_actor *a, mt_garbage *g) {
  if (a->remote->id) {
    post_locked(a->remote, MANTA__V1__ACTOR_OP__ACTOR_OP_KILL, g);
  }
  /* Else still being created: killed once its id comes back. */
}

void mt_proxy_free_locked(mt_actor *a, mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  if (r->holds && r->restarts_done > 0) {
    mt_actor_locate_forget_locked(a); /* its former instances */
  }
  if (!r->id) {
    return; /* never created: nothing there, nothing indexed */
  }
  proxy_unindex_locked(a);
  if (r->holds) {
    post_locked(r, MANTA__V1__ACTOR_OP__ACTOR_OP_RELEASE, g);
  }
}

/* ---- the view changed ---------------------------------------------------- */

/* The values of a map, collected so that the map may change meanwhile. */
static void **map_values(const mt_u64map *m, size_t *n) {
  void **out = calloc(m->len + 1, sizeof *out);
  size_t k = 0;
  uint64_t key;
  void *val;
  for (size_t pos = 0; out && mt_u64map_next(m, &pos, &key, &val);) {
    out[k++] = val;
  }
  *n = k;
  return out;
}

static void check_proxies_locked(mt_garbage *g) {
  size_t n = 0, k = 0;
  void **firsts = map_values(&proxies, &n);
  mt_actor **all = NULL;
  size_t total = 0;
  for (size_t i = 0; firsts && i < n; i++) {
    for (mt_actor *a = firsts[i]; a; a = a->remote->next) {
      total++;
    }
  }
  all = firsts ? calloc(total + 1, sizeof *all) : NULL;
  for (size_t i = 0; all && i < n; i++) {
    for (mt_actor *a = firsts[i]; a; a = a->remote->next) {
      mt_actor_retain_locked(a);
      all[k++] = a;
    }
  }
  free(firsts);
  for (size_t i = 0; i < k; i++) {
    mt_actor *a = all[i];
    if (a->state == MT_ACTOR_DEAD) {
      /* nothing to do */
    } else if (node_state_locked(a->remote->host, a->remote->since_ms) ==
               HOST_DEAD) {
      host_died_locked(a, g);
    } else {
      mt_actor_flush_locked(a,
                            g); /* calls that waited for the host to be known */
    }
    mt_actor_release_locked(a, g);
  }
  free(all);
}

bool mt_node_gone_locked(uint64_t node, int64_t since_ms) {
  return node_state_locked(node, since_ms) == HOST_DEAD;
}

void mt_actors_remote_check_locked(mt_garbage *g) {
  check_proxies_locked(g);
  mt_actor_holds_check_locked(g);
}

/* ---- start and stop ------------------------------------------------------ */

void mt_actors_remote_start(void) {
  atomic_store_explicit(&mt_proxy_wire, proxy_wire, memory_order_release);
}

void mt_actors_remote_stop_locked(mt_garbage *g) {
  atomic_store_explicit(&mt_proxy_wire, NULL, memory_order_release);
  size_t n = 0;
  void **firsts = map_values(&proxies, &n);
  for (size_t i = 0; firsts && i < n; i++) {
    mt_actor *a = firsts[i];
    while (a) {
      mt_actor *next = a->remote->next;
      a->remote->next = NULL;
      a = next;
    }
  }
  free(firsts);
  mt_u64map_free(&proxies);
  pthread_mutex_lock(&wire_mu);
  mt_u64map_free(&wire_ids);
  pthread_mutex_unlock(&wire_mu);
  mt_actor_holds_stop_locked(g);
  mt_actor_locate_stop_locked();
  mt_actor_names_updates_drop();
}
