/* Sending tasks to other nodes: where a call should run, the link to each
 * node that runs some, the results coming back, and what happens to the
 * tasks of a node that dies (they run again elsewhere, as their
 * max_retries allows: core/task_retry.c). */
#include "cluster.h"
#include "task_context.h"
#include "transfer_stats.h"

#include <stdlib.h>
#include <string.h>

static bool closing_all; /* under rt.mu: cluster stop under way */

/* ---- choosing a node -------------------------------------------------------
 */

static int cmp_name(const void *key, const void *item) {
  return strcmp((const char *)key, *(char *const *)item);
}

bool mt_view_offers(char *const *names, size_t n, const char *name) {
  return names && bsearch(name, names, n, sizeof *names, cmp_name) != NULL;
}

static double resource_qty(const mt_view_node *v, const char *name,
                           bool available) {
  for (int i = 0; i < v->nres; i++) {
    if (strcmp(v->res_names[i], name) == 0) {
      return available ? v->res_avail[i] : v->res_total[i];
    }
  }
  return 0;
}

bool mt_view_fits(const mt_view_node *v, const mt_resource_request *d,
                  bool now) {
  int index;
  uint64_t gid;
  for (int i = 0; i < d->n; i++) {
    /* A bundle's resources reach the view with the node's next heartbeat
     * after the head committed them; the node itself checks the call. */
    if (d->qty[i] > 0 && resource_qty(v, d->names[i], now) < d->qty[i] &&
        !mt_bundle_resource_parse(d->names[i], &index, &gid)) {
      return false;
    }
  }
  return true;
}

static mt_peer *peer_find_locked(uint64_t node_id) {
  return mt_u64map_get(&mt_cl.peer_index, node_id);
}

/* The calls a node holds as this node sees them (mt_view_load_locked). */
static int64_t view_work_locked(const mt_view_node *v) {
  mt_peer *p = peer_find_locked(v->node_id);
  /* The snapshot, less what this node heard back about since (so a node
   * that just finished a burst of ours is not taken as busy for a whole
   * heartbeat), plus what it sent since. */
  int64_t work = v->queued + v->running;
  if (p) {
    work -= p->answered_since_view;
    work = (work > 0 ? work : 0) + p->sent_since_view;
    /* The snapshot may predate calls of ours it already holds (a view
     * arriving just after a burst resets the counters above): it has at
     * least the calls this node sent and has not heard back about. */
    int64_t in_flight = (int64_t)p->pending.len;
    work = work > in_flight ? work : in_flight;
  }
  return work;
}

double mt_view_load_locked(const mt_view_node *v) {
  double cpus = resource_qty(v, "CPU", false);
  return (double)view_work_locked(v) / (cpus > 0 ? cpus : 0.5);
}

double mt_view_free_cpus_locked(const mt_view_node *v) {
  return resource_qty(v, "CPU", false) - (double)view_work_locked(v);
}

/* A task sent to p was answered (or forgotten). */
static void peer_answered_locked(mt_peer *p) {
  p->answered_since_view++;
}

void mt_peers_view_changed_locked(void) {
  for (mt_peer *p = mt_cl.peers; p; p = p->next) {
    p->sent_since_view = p->answered_since_view = 0;
  }
  mt_handoff_view_changed_locked(); /* tasks waiting here may go back */
}

static double local_load_locked(void) {
  double cpus = mt_rt.res_total[0];
  return (double)(mt_rt.tasks_queued + mt_rt.tasks_running) /
         (cpus > 0 ? cpus : 0.5);
}

/* The least loaded other node that can run the call, or NULL. *offered
 * tells whether any live node offers the name at all. Node `avoid` (0:
 * none), which handed the call back, is taken only if no other can. */
static const mt_view_node *choose_locked(const char *name,
                                         const mt_resource_request *d,
                                         uint64_t avoid, bool *offered) {
  const mt_view_node *best = NULL, *avoided = NULL;
  double best_load = 0;
  int64_t now = mt_now_ms();
  *offered = false;
  for (size_t i = 0; i < mt_cl.nview; i++) {
    const mt_view_node *v = &mt_cl.view[i];
    if (!v->alive || v->node_id == mt_rt.node_id ||
        !mt_view_offers(v->functions, v->nfunctions, name)) {
      continue;
    }
    *offered = true;
    mt_peer *p = peer_find_locked(v->node_id);
    if (!mt_view_fits(v, d, false) || (p && p->down_until_ms > now)) {
      continue;
    }
    if (v->node_id == avoid) {
      avoided = v;
      continue;
    }
    double load = mt_view_load_locked(v);
    if (!best || load < best_load) {
      best = v;
      best_load = load;
    }
  }
  return best ? best : avoided;
}

/* The default placement: local first, else the least loaded node. */
static bool route_default_locked(const char *name, bool local_ok,
                                 const mt_resource_request *demand,
                                 manta_value **fail) {
  /* Local first: while this node has a short queue, nothing leaves. */
  if (local_ok && local_load_locked() < 2.0) {
    return false;
  }
  bool offered;
  const mt_view_node *v = choose_locked(name, demand, 0, &offered);
  if (!v) {
    if (!local_ok && !offered) {
      /* Sent nowhere yet: dispatch waits for the next views (a node that
       * just joined may offer it) before it fails NOT_FOUND. */
      return true;
    }
    if (!local_ok) {
      *fail = mt_error_new(MANTA_ERR_INFEASIBLE, "cluster",
                           "no node offering '%s' has the resources it asks "
                           "for",
                           name);
    }
    return false;
  }
  return !local_ok || mt_view_load_locked(v) < local_load_locked();
}

static bool route_locked(const char *name, bool local_ok,
                         const mt_resource_request *demand,
                         const mt_placement *p, uint64_t *target,
                         manta_value **fail) {
  uint64_t node = 0;
  *target = 0;
  if (p->strategy == MANTA_STRATEGY_NODE_AFFINITY && !p->soft &&
      p->node != mt_rt.node_id && !mt_view_find_locked(p->node)) {
    /* Not in this node's view (yet): dispatch waits for the next views
     * (view_wait_locked) before it fails. */
    *target = p->node;
    return true;
  }
  if (mt_strategy_pick_locked(p, name, false, demand, local_ok, "cluster",
                              &node, fail)) {
    *target = node == mt_rt.node_id ? 0 : node;
    return *target != 0;
  }
  return !*fail && route_default_locked(name, local_ok, demand, fail);
}

/* ---- links ------------------------------------------------------------------
 */

static void on_results(void *arg, mt_tp_stream *s, const uint8_t *body,
                       size_t len);
static bool peer_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out);
static void on_link_closed(void *arg, mt_tp_stream *s, int status,
                           const char *detail);
static const mt_tp_stream_handlers link_handlers = {
    .on_message = on_results, .fill = peer_fill, .on_closed = on_link_closed};

static mt_peer *peer_get_locked(const mt_view_node *v) {
  mt_peer *p = peer_find_locked(v->node_id);
  if (!p) {
    p = calloc(1, sizeof *p);
    if (!p) {
      return NULL;
    }
    p->node_id = v->node_id;
    if (!mt_u64map_put(&mt_cl.peer_index, p->node_id, p)) {
      free(p);
      return NULL;
    }
    mt_outbox_init(&p->out);
    p->next = mt_cl.peers;
    mt_cl.peers = p;
  }
  if (!p->ch) {
    snprintf(p->address, sizeof p->address, "%s", v->address);
    p->ch = mt_tp_channel_open(p->address, mt_cl.token, &mt_cl.tp_tls);
    p->dead = false;
  }
  if (p->ch && !p->stream) {
    mt_outbox_clear(&p->out); /* what was queued went with the old stream */
    p->stream = mt_tp_stream_open(p->ch, MT_NODE_TASKS, &link_handlers, p);
  }
  return p->ch && p->stream ? p : NULL;
}

static void peer_kick_job(void *p_, void *unused) {
  (void)unused;
  mt_peer *p = p_;
  mt_lock();
  mt_tp_stream *s = p->stream;
  if (s) {
    mt_tp_stream_retain(s);
  }
  mt_unlock();
  if (s) {
    mt_tp_stream_kick(s);
    mt_tp_stream_release(s);
  }
}

static bool peer_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  (void)s;
  mt_peer *p = arg;
  if (!mt_outbox_take(&p->out, out)) {
    return false;
  }
  /* Every batch names its sender (TaskBatch.sender_node, fixed64). */
  uint8_t *grown = realloc(out->data, out->len + 9);
  if (grown) {
    grown[out->len] = MT_PB_TAG(7, MT_PB_FIXED64);
    for (int i = 0; i < 8; i++) {
      grown[out->len + 1 + i] = (uint8_t)(mt_rt.node_id >> (8 * i));
    }
    out->data = grown;
    out->len += 9;
  }
  return true;
}

static const mt_view_node *view_find_locked(uint64_t node) {
  for (size_t i = 0; i < mt_cl.nview; i++) {
    if (mt_cl.view[i].node_id == node && mt_cl.view[i].alive) {
      return &mt_cl.view[i];
    }
  }
  return NULL;
}

mt_tp_channel *mt_peer_channel_locked(uint64_t node, char *address,
                                      size_t size) {
  const mt_view_node *v = closing_all ? NULL : view_find_locked(node);
  mt_peer *p = v ? peer_get_locked(v) : NULL;
  if (p && address) {
    snprintf(address, size, "%s", p->address);
  }
  return p ? p->ch : NULL;
}

bool mt_peer_send_locked(uint64_t node, uint8_t field, const uint8_t *body,
                         size_t len, mt_garbage *g) {
  const mt_view_node *v = closing_all ? NULL : view_find_locked(node);
  mt_peer *p = v ? peer_get_locked(v) : NULL;
  bool empty = false;
  if (!p || !mt_outbox_add(&p->out, field, body, len, &empty)) {
    return false;
  }
  if (empty) {
    mt_garbage_add_dtor(g, peer_kick_job, p, NULL);
  }
  return true;
}

/* ---- dispatch, results, failure ---------------------------------------------
 */

static void fail_locked(mt_task *t, manta_err code, const char *why,
                        mt_garbage *g) {
  mt_task_finish_locked(t, mt_task_error(t, code, "%s", why), g);
}

/* Packs spec into the link's outbox (kicking the stream if it was idle);
 * false on OOM. */
static bool outbox_spec_locked(mt_peer *p, const Manta__V1__TaskSpec *spec,
                               mt_garbage *g) {
  mt_tp_buf b;
  bool empty = false;
  if (!mt_wire_pack(&spec->base, &b)) {
    return false;
  }
  bool ok = mt_outbox_add(&p->out, 1, b.data, b.len, &empty);
  free(b.data);
  if (ok && empty) {
    mt_garbage_add_dtor(g, peer_kick_job, p, NULL);
  }
  return ok;
}

/* Whether the receiver may hand t back unstarted (TaskSpec.may_hand_back):
 * a function call placed by DEFAULT, by this node's view of the load,
 * handed back fewer than MT_HANDOFF_MAX times. A stream call, one in a
 * placement group's bundle and one with an affinity or SPREAD keep their
 * node. */
static bool may_hand_back(const mt_task *t) {
  const mt_remote *r = t->remote;
  if (t->kind != MT_TASK_FUNCTION || t->stream || t->pg ||
      r->placement.strategy != MANTA_STRATEGY_DEFAULT ||
      r->handoffs >= MT_HANDOFF_MAX) {
    return false;
  }
  int index;
  uint64_t gid;
  for (int i = 0; i < r->demand.n; i++) {
    if (mt_bundle_resource_parse(r->demand.names[i], &index, &gid)) {
      return false;
    }
  }
  return true;
}

/* What the receiver needs to number the task's runs and name it
 * (TaskSpec attempt, max_retries, retry_exceptions, task_id); task_id is
 * the buffer the spec points into. */
static void spec_retry_fill(const mt_task *t, Manta__V1__TaskSpec *spec,
                            uint8_t task_id[16]) {
  spec->attempt = (uint32_t)t->remote->attempts;
  spec->capture_child_tasks = t->pg_capture;
  if (t->kind == MT_TASK_FUNCTION) {
    spec->max_retries = t->max_retries;
    spec->retry_exceptions = t->retry_exceptions;
  }
  if (t->extra && t->extra->has_task_id) {
    memcpy(task_id, t->extra->task_id, 16); /* sent on: its first caller's */
  } else if (t->result) {
    mt_obj_to_wire(mt_slots_id(&mt_rt.objects, t->result), task_id);
  } else {
    return;
  }
  spec->task_id.data = task_id;
  spec->task_id.len = 16;
}

/* Encodes the task for its link; false on OOM or an argument that cannot
 * cross (the error says which). */
static bool queue_spec_locked(mt_peer *p, mt_task *t, manta_value **error,
                              mt_garbage *g) {
  Manta__V1__TaskSpec spec = MANTA__V1__TASK_SPEC__INIT;
  mt_actor_spec_store actor;
  ProtobufCBinaryData stack[16];
  ProtobufCBinaryData *args =
      t->nargs <= 16 ? stack : calloc(t->nargs, sizeof *args);
  if (!args) {
    return false;
  }
  size_t k = 0;
  manta_err err = MANTA_OK;
  mt_id_list refs;
  mt_refs_begin(&refs);
  for (; k < t->nargs && err == MANTA_OK; k++) {
    err = mt_wire_encode_value(t->args[k], &args[k]);
  }
  mt_refs_end(&refs);
  bool ok = err == MANTA_OK;
  if (ok && refs.len) {
    /* Refs to objects of the receiver itself need nothing: its own -n
     * for them would follow this task on the same link. */
    mt_borrow_out_locked(&refs, p->node_id, g);
  }
  mt_refs_free(&refs);
  if (ok) {
    spec.seq = t->remote->seq;
    if (t->kind == MT_TASK_FUNCTION) {
      spec.function = t->remote->function;
    } else {
      mt_actor_spec_fill(t, &spec, &actor);
    }
    spec.n_args = t->nargs;
    spec.args = args;
    uint8_t task_id[16];
    spec_retry_fill(t, &spec, task_id);
    spec.demand =
        mt_wire_resources((const char(*)[64])t->remote->demand.names,
                          t->remote->demand.qty, NULL, t->remote->demand.n);
    spec.n_demand = spec.demand ? (size_t)t->remote->demand.n : 0;
    mt_stream_spec_locked(t, &spec); /* a stream call (stream_link.c) */
    spec.may_hand_back = may_hand_back(t);
    ok = outbox_spec_locked(p, &spec, g);
    if (ok) {
      mt_stream_sent_locked(t, p->node_id, spec.seq, g);
    }
    mt_wire_resources_free(spec.demand, spec.n_demand);
  } else {
    *error = mt_task_error(t, err,
                           "argument %zu cannot be sent to another "
                           "node: %s",
                           k - 1, manta_strerror(err));
    k--;
  }
  mt_wire_free_binaries(args, k);
  if (args != stack) {
    free(args);
  }
  return ok;
}

/* Sends t to the node v: numbered on the link, remembered until its result
 * comes, encoded into the link's outbox. false with *error (to finish t
 * with) if it could not be. */
static bool send_locked(const mt_view_node *v, mt_task *t, manta_value **error,
                        mt_garbage *g) {
  mt_remote *r = t->remote;
  mt_peer *p = peer_get_locked(v);
  if (!p) {
    *error = mt_task_error(t, MANTA_ERR_NOMEM, "out of memory");
    return false;
  }
  r->peer = p;
  r->seq = ++p->next_seq;
  r->attempts++;
  if (!mt_u64map_put(&p->pending, r->seq, t)) {
    r->peer = NULL;
    *error = mt_task_error(t, MANTA_ERR_NOMEM, "out of memory");
    return false;
  }
  p->sent_since_view++;
  if (!queue_spec_locked(p, t, error, g)) {
    mt_u64map_remove(&p->pending, r->seq);
    p->sent_since_view--;
    r->peer = NULL;
    if (!*error) {
      *error = mt_task_error(t, MANTA_ERR_NOMEM, "out of memory");
    }
    return false;
  }
  return true;
}

/* ---- waiting for a node to enter the view -----------------------------------
 *
 * The head lists a node as soon as it registers; this node hears of it at
 * its next heartbeat. A call with hard affinity to a node not in the view
 * waits for that (docs/scheduling.md, "A node that just joined"): it is
 * parked, a heartbeat is asked for at once, and after each heartbeat the
 * parked calls are placed again, until the node is there or the wait is
 * over.
 */

typedef struct mt_view_wait {
  mt_task *t;
  int64_t since_ms; /* when it was first parked */
} mt_view_wait;

/* Two heartbeats, 1 s at least: enough for a node the head lists to reach
 * this node's view even when a heartbeat is slow; a node id that is not in
 * the cluster at all fails after that. */
static int64_t view_wait_ms(void) {
  int64_t ms = 2 * mt_cl.heartbeat_ms;
  return ms < 1000 ? 1000 : ms;
}

/* Parks t, first parked at since_ms (0: now); false when its wait is over,
 * the runtime is stopping, or on OOM (the caller fails it). */
static bool view_wait_locked(mt_task *t, int64_t since_ms) {
  int64_t now = mt_now_ms();
  if (closing_all || mt_rt.shutting_down ||
      (since_ms && now - since_ms > view_wait_ms())) {
    return false;
  }
  if (mt_cl.nview_waits == mt_cl.cap_view_waits) {
    size_t cap = mt_cl.cap_view_waits ? 2 * mt_cl.cap_view_waits : 16;
    mt_view_wait *grown = realloc(mt_cl.view_waits, cap * sizeof *grown);
    if (!grown) {
      return false;
    }
    mt_cl.view_waits = grown;
    mt_cl.cap_view_waits = cap;
  }
  mt_cl.view_waits[mt_cl.nview_waits++] =
      (mt_view_wait){t, since_ms ? since_ms : now};
  if (!since_ms) {
    mt_heartbeat_soon_locked(); /* once per call: the next ones in turn */
  }
  return true;
}

/* The node a task's placement asks for, if it can take it now; NULL for
 * the default choice. False: a hard affinity that cannot be kept (the
 * task is failed), or that waits for the view (the task is parked;
 * waited_since is when it was first parked, 0 if never). */
static bool placed_node_locked(mt_task *t, const mt_view_node **v,
                               int64_t waited_since, mt_garbage *g) {
  mt_remote *r = t->remote;
  manta_err code;
  char why[300];
  uint64_t next;
  *v = NULL;
  switch (r->placement.strategy) {
  case MANTA_STRATEGY_SPREAD:
    /* The node chosen at submit, unless it failed since: then the next. */
    *v = r->target && r->attempts == 0
             ? mt_affinity_node_locked(r->target, r->function, false,
                                       &r->demand, &code, why, sizeof why)
             : NULL;
    if (!*v &&
        mt_spread_next_locked(r->function, false, &r->demand, false, &next)) {
      *v = mt_view_find_locked(next);
    }
    return true;
  case MANTA_STRATEGY_NODE_AFFINITY:
    *v = mt_affinity_node_locked(r->target, r->function, false, &r->demand,
                                 &code, why, sizeof why);
    if (!*v && !r->placement.soft) {
      bool unknown = !mt_view_find_locked(r->target);
      if (unknown && view_wait_locked(t, waited_since)) {
        return false;
      }
      if (unknown) {
        size_t len = strlen(why);
        snprintf(why + len, sizeof why - len,
                 "; waited %lld ms for this node's view to list it",
                 (long long)(waited_since ? mt_now_ms() - waited_since : 0));
      }
      fail_locked(t, code, why, g);
      return false;
    }
    return true;
  default:
    return true;
  }
}

/* An actor's creation that will not be sent: its actor dies of error (the
 * cause its calls give, as a hard affinity refused at creation does). */
static void create_fail_locked(mt_task *t, manta_value *error, mt_garbage *g) {
  mt_actor_die_locked(t->actor, error, g);
  mt_task_finish_locked(t, NULL, g);
}

void mt_actor_create_send_locked(mt_task *t, int64_t waited_since,
                                 mt_garbage *g) {
  mt_actor_remote *r = t->actor->remote;
  manta_value *error = NULL;
  if (!mt_view_find_locked(r->host)) {
    if (view_wait_locked(t, waited_since)) {
      return; /* parked */
    }
    /* Its wait is over: it fails as the affinity would at creation,
     * naming the wait. */
    manta_err code = MANTA_ERR_NOT_FOUND;
    char why[300] = "";
    mt_affinity_node_locked(r->host, r->class_name, true, &r->demand, &code,
                            why, sizeof why);
    error =
        closing_all || mt_rt.shutting_down
            ? mt_task_error(t, MANTA_ERR_SHUTDOWN, "the runtime shut down")
            : mt_task_error(
                  t, code, "%s; waited %lld ms for this node's view to list it",
                  why,
                  (long long)(waited_since ? mt_now_ms() - waited_since : 0));
  }
  if (error) {
    create_fail_locked(t, error, g);
  } else if (!mt_peers_send_locked(r->host, t, &error, g)) {
    mt_actor_remote_created_locked(t, NULL, error, g);
  }
}

/* A parked call that will not be placed: failed (an actor's creation
 * fails its actor). */
static void parked_fail_locked(mt_task *t, manta_err code, const char *why,
                               mt_garbage *g) {
  if (t->kind == MT_TASK_ACTOR_CREATE) {
    create_fail_locked(t, mt_task_error(t, code, "%s", why), g);
  } else {
    fail_locked(t, code, why, g);
  }
}

static void dispatch_waited_locked(mt_task *t, int64_t waited_since,
                                   mt_garbage *g) {
  mt_remote *r = t->remote;
  if (t->kind == MT_TASK_ACTOR_CREATE) {
    mt_actor_create_send_locked(t, waited_since, g);
    return;
  }
  if (closing_all || mt_rt.shutting_down) {
    fail_locked(t, MANTA_ERR_SHUTDOWN, "the runtime shut down", g);
    return;
  }
  const mt_view_node *v;
  if (!placed_node_locked(t, &v, waited_since, g)) {
    return;
  }
  bool offered = true;
  if (!v) {
    v = choose_locked(r->function, &r->demand, r->avoid, &offered);
    if (v && r->avoid && v->node_id == r->avoid) {
      r->handoffs = MT_HANDOFF_MAX; /* back where it was: it stays there */
    }
  }
  if (!v && !offered && r->attempts == 0 && view_wait_locked(t, waited_since)) {
    return; /* parked: a node that just joined may offer it */
  }
  if (!v) {
    char why[300];
    snprintf(why, sizeof why,
             r->attempts > 0 ? "the node running it died and no other node "
                               "offering '%s' is left"
             : offered       ? "no node offering '%s' has the resources "
                               "it asks for"
                             : "no node in the cluster offers a function "
                               "named '%s'",
             r->function);
    if (!offered && r->attempts == 0 && waited_since) {
      size_t len = strlen(why);
      snprintf(why + len, sizeof why - len,
               " (waited %lld ms for this node's view to list one)",
               (long long)(mt_now_ms() - waited_since));
    }
    fail_locked(t,
                r->attempts > 0 ? MANTA_ERR_NODE_DIED
                : offered       ? MANTA_ERR_INFEASIBLE
                                : MANTA_ERR_NOT_FOUND,
                why, g);
    return;
  }
  if (mt_log_enabled(MT_LOG_DEBUG)) {
    mt_log(MT_LOG_DEBUG, "cluster: %s -> %s (load %.2f, %zu nodes in view)",
           r->function, v->address, mt_view_load_locked(v), mt_cl.nview);
  }
  manta_value *error = NULL;
  if (!send_locked(v, t, &error, g)) {
    mt_task_finish_locked(t, error, g);
  }
}

static void dispatch_locked(mt_task *t, mt_garbage *g) {
  dispatch_waited_locked(t, 0, g);
}

/* Fails every parked call (the runtime stops). */
static void view_waits_fail_locked(mt_garbage *g) {
  for (size_t i = 0; i < mt_cl.nview_waits; i++) {
    parked_fail_locked(mt_cl.view_waits[i].t, MANTA_ERR_SHUTDOWN,
                       "the runtime shut down", g);
  }
  free(mt_cl.view_waits);
  mt_cl.view_waits = NULL;
  mt_cl.nview_waits = mt_cl.cap_view_waits = 0;
}

void mt_view_waits_retry(void) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_view_wait *w = mt_cl.view_waits;
  size_t n = mt_cl.nview_waits;
  mt_cl.view_waits = NULL;
  mt_cl.nview_waits = mt_cl.cap_view_waits = 0;
  for (size_t i = 0; i < n; i++) {
    mt_task *t = w[i].t;
    if (atomic_load(&t->cancel_req) & MT_CANCEL_SET) {
      parked_fail_locked(
          t, MANTA_ERR_CANCELLED,
          "cancelled while it waited for its node to enter the view", &g);
    } else {
      dispatch_waited_locked(t, w[i].since_ms, &g);
    }
  }
  mt_unlock();
  mt_garbage_free(&g);
  free(w);
}

bool mt_peers_send_locked(uint64_t node_id, mt_task *t, manta_value **error,
                          mt_garbage *g) {
  const mt_view_node *v = mt_view_find_locked(node_id);
  if (!v || !v->alive) {
    char hex[17];
    mt_wire_node_id_hex(node_id, hex);
    *error = mt_task_error(t, MANTA_ERR_NODE_DIED, "node %s is not alive", hex);
    return false;
  }
  return send_locked(v, t, error, g);
}

bool mt_peers_down_locked(uint64_t node_id) {
  mt_peer *p = peer_find_locked(node_id);
  return p && p->down_until_ms > mt_now_ms();
}

bool mt_peers_post_locked(uint64_t node_id, const Manta__V1__TaskSpec *spec,
                          mt_garbage *g) {
  const mt_view_node *v = mt_view_find_locked(node_id);
  mt_peer *p = v && v->alive && !closing_all ? peer_get_locked(v) : NULL;
  return p && outbox_spec_locked(p, spec, g);
}

static void forget_locked(mt_task *t) {
  mt_peer *p = t->remote->peer;
  if (p && mt_u64map_remove(&p->pending, t->remote->seq)) {
    peer_answered_locked(p);
  }
  t->remote->peer = NULL;
}

/* The node a task was sent to is gone: run it elsewhere, or fail it. An
 * actor's task is never run again (the actor has state): it fails. */
static void retry_locked(mt_task *t, const char *why, mt_garbage *g) {
  char where[96] = "?"; /* the node it was lost with, for the error */
  if (t->remote->peer) {
    snprintf(where, sizeof where, "%s", t->remote->peer->address);
  }
  forget_locked(t);
  if (t->kind != MT_TASK_FUNCTION) {
    mt_actor_remote_lost_locked(t,
                                closing_all || mt_rt.shutting_down
                                    ? MANTA_ERR_SHUTDOWN
                                    : MANTA_ERR_ACTOR_DEAD,
                                why, g);
  } else if (closing_all || mt_rt.shutting_down) {
    fail_locked(t, MANTA_ERR_SHUTDOWN, "the runtime shut down", g);
  } else if (atomic_load(&t->cancel_req) & MT_CANCEL_SET) {
    fail_locked(t, MANTA_ERR_CANCELLED, "cancelled; its node was lost", g);
  } else if (!mt_retry_allowed(t->remote->attempts, t->max_retries)) {
    char msg[500], tail[200];
    t->attempt = (int16_t)t->remote->attempts;
    mt_retry_describe(tail, sizeof tail, t->remote->attempts, t->max_retries,
                      where);
    snprintf(msg, sizeof msg, "%s%s", why, tail);
    fail_locked(t, MANTA_ERR_NODE_DIED, msg, g);
  } else {
    mt_log(MT_LOG_INFO, "cluster: task %s: %s; running it again elsewhere",
           t->remote->function, why);
    mt_note_retry_locked(t->remote->function); /* manta_tasks_retried_total */
    dispatch_locked(t, g);
  }
}

/* manta_cancel_with of a task sent to a node: the node is told on the same
 * link, after the task (TaskBatch.cancels); its answer resolves the ref. */
static void cancel_remote_locked(mt_task *t, bool recursive, mt_garbage *g) {
  mt_peer *p = t->remote->peer;
  if (!p) {
    return; /* between two nodes: retry_locked sees the flag */
  }
  Manta__V1__TaskCancel c = MANTA__V1__TASK_CANCEL__INIT;
  c.seq = t->remote->seq;
  c.recursive = recursive;
  mt_tp_buf b;
  bool empty = false;
  if (!mt_wire_pack(&c.base, &b)) {
    return;
  }
  if (mt_outbox_add(&p->out, 13, b.data, b.len, &empty) && empty) {
    mt_garbage_add_dtor(g, peer_kick_job, p, NULL);
  }
  free(b.data);
}

/* Every task sent to p and not answered: retried or failed. */
static void fail_over_locked(mt_peer *p, const char *why, mt_garbage *g) {
  size_t n = p->pending.len, k = 0;
  if (n == 0) {
    return;
  }
  mt_task **tasks = calloc(n, sizeof *tasks);
  if (!tasks) {
    return; /* keep them; a later check retries */
  }
  uint64_t key;
  void *val;
  for (size_t pos = 0;
       k < n && mt_u64map_next(&p->pending, &pos, &key, &val);) {
    tasks[k++] = val;
  }
  mt_outbox_clear(&p->out);
  for (size_t i = 0; i < k; i++) {
    retry_locked(tasks[i], why, g);
  }
  free(tasks);
}

/* A large result stayed where it was made: the task's result object
 * becomes its proxy (the node counted one borrow for us). */
static void stays_locked(mt_peer *p, mt_task *t, const ProtobufCBinaryData *id,
                         mt_garbage *g) {
  uint64_t node, local;
  (void)mt_wire_id_get(id, &node, &local); /* zeros if malformed */
  /* A call cancelled meanwhile resolves to CANCELLED whatever its size:
   * its object is not adopted, and the borrow goes back below. */
  mt_object *o = t && t->result && !t->cancelled && !mt_cancel_requested(t)
                     ? t->result
                     : NULL;
  /* What rebuilds it if that node dies (lineage.c). */
  mt_lineage *lineage = o ? mt_lineage_take_locked(t) : NULL;
  if (t) {
    peer_answered_locked(p);
    t->remote->peer = NULL;
    if (o) {
      t->result = NULL; /* its count is ours now */
    }
    mt_task_finish_locked(t, NULL, g);
  }
  if (o && node == p->node_id && mt_proxy_adopt_locked(o, node, local, g)) {
    mt_lineage_keep_locked(o, lineage, g);
    mt_obj_release_locked(o, g);
    return;
  }
  mt_lineage_drop_locked(lineage, g);
  if (o) {
    mt_obj_complete_locked(
        o,
        mt_error_new(MANTA_ERR_INTERNAL, "cluster",
                     "node %s sent a bad object id for a result", p->address),
        g);
    mt_obj_release_locked(o, g);
  }
  if (node == p->node_id) {
    /* Not kept: hand the borrow back. */
    Manta__V1__BorrowUpdate u = MANTA__V1__BORROW_UPDATE__INIT;
    u.id = *id;
    u.node_id = mt_rt.node_id;
    u.delta = -1;
    mt_tp_buf b;
    if (mt_wire_pack(&u.base, &b)) {
      mt_peer_send_locked(node, 3, b.data, b.len, g);
      free(b.data);
    }
  }
}

/* p handed t back unstarted (TaskResult.handed_back): it never ran, so
 * it is placed again as new (same attempt), by this node's view, on
 * another node if one can take it (docs/scheduling.md, "Handing a task
 * back"). Its result and ownership stay as they were. */
static void handed_back_locked(mt_peer *p, mt_task *t, mt_garbage *g) {
  if (t->kind != MT_TASK_FUNCTION) {
    /* Never asked of an actor operation: answered as a lost node would. */
    t->remote->peer = p;
    retry_locked(t, "its node handed it back", g);
    return;
  }
  peer_answered_locked(p);
  t->remote->peer = NULL;
  if (!may_hand_back(t)) {
    /* Not marked when sent (unchanged since): the node broke the protocol,
     * and placing it again could loop. */
    fail_locked(t, MANTA_ERR_INTERNAL,
                "its node handed it back though it was not sent with "
                "may_hand_back",
                g);
    return;
  }
  t->remote->attempts--; /* that dispatch did not run it */
  t->remote->handoffs++;
  t->remote->avoid = p->node_id;
  if (atomic_load(&t->cancel_req) & MT_CANCEL_SET) {
    fail_locked(t, MANTA_ERR_CANCELLED, "cancelled before it ran", g);
    return;
  }
  dispatch_locked(t, g);
}

static void on_results(void *arg, mt_tp_stream *s, const uint8_t *body,
                       size_t len) {
  mt_peer *p = arg;
  Manta__V1__TaskBatch *batch = mt_wire_batch(s, body, len);
  if (!batch) {
    return;
  }
  /* Stream items first: they precede the results of their calls. */
  mt_stream_items_in(p, batch);
  /* Values are decoded before taking the lock: refs inside take it. */
  size_t n = batch->n_results;
  manta_value *stack[64];
  manta_value **vals = n <= 64 ? stack : calloc(n, sizeof *vals);
  for (size_t i = 0; vals && i < n; i++) {
    vals[i] = batch->results[i]->stays_id.len
                  ? NULL
                  : mt_wire_decode_value(&batch->results[i]->value, "a result");
  }
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  for (size_t i = 0; vals && i < n; i++) {
    Manta__V1__TaskResult *r = batch->results[i];
    if (r->ack) {
      /* Decoded: its refs are counted here now; the sender may let go. */
      uint8_t seq[8];
      for (int b = 0; b < 8; b++) {
        seq[b] = (uint8_t)(r->seq >> (8 * b));
      }
      mt_peer_send_locked(p->node_id, 8, seq, sizeof seq, &g);
    }
    mt_task *t = mt_u64map_remove(&p->pending, r->seq);
    if (r->handed_back) {
      mt_garbage_add(&g, vals[i]);
      if (t) {
        handed_back_locked(p, t, &g);
      }
      continue;
    }
    if (r->stays_id.len) {
      stays_locked(p, t, &r->stays_id, &g);
      continue;
    }
    if (!t) {
      mt_garbage_add(&g, vals[i]); /* cancelled, or answered already */
      continue;
    }
    peer_answered_locked(p);
    t->remote->peer = NULL;
    if (t->kind == MT_TASK_ACTOR_CREATE) {
      mt_actor_remote_created_locked(t, &batch->results[i]->actor_id, vals[i],
                                     &g);
    } else if (t->remote->ready_probe) {
      mt_actor_remote_ready_locked(t, vals[i], &g); /* actor_proxy.c */
    } else {
      mt_task_finish_locked(t, vals[i], &g);
    }
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (vals != stack) {
    free(vals);
  }
  manta__v1__task_batch__free_unpacked(batch, NULL);
}

static void on_link_closed(void *arg, mt_tp_stream *s, int status,
                           const char *detail) {
  mt_peer *p = arg;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (p->stream == s) {
    p->stream = NULL;
    if (!closing_all) {
      /* A node that stops cleanly says so: nothing went wrong. */
      bool stopping = strcmp(detail, MT_TP_STOPPING) == 0;
      mt_log(stopping ? MT_LOG_INFO : MT_LOG_WARN,
             "cluster: link to node %016llx (%s) %s: %s",
             (unsigned long long)p->node_id, p->address,
             stopping ? "closed" : "failed", detail[0] ? detail : "closed");
      /* Not chosen for a moment; the head's view says if it is dead. */
      p->down_until_ms = mt_now_ms() + 1000;
    }
    char why[300];
    snprintf(why, sizeof why, "the link to node %s failed (status %d)",
             p->address, status);
    fail_over_locked(p, why, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  mt_tp_stream_release(s);
}

mt_tp_channel **mt_peers_check_locked(mt_garbage *g) {
  mt_tp_channel **closing = NULL;
  size_t n = 0;
  for (mt_peer *p = mt_cl.peers; p; p = p->next) {
    bool alive = false;
    for (size_t i = 0; i < mt_cl.nview; i++) {
      if (mt_cl.view[i].node_id == p->node_id) {
        alive = mt_cl.view[i].alive;
      }
    }
    if (alive || p->dead) {
      continue;
    }
    p->dead = true;
    mt_log(MT_LOG_WARN, "cluster: node %016llx (%s) is dead",
           (unsigned long long)p->node_id, p->address);
    p->down_until_ms = INT64_MAX; /* until it comes back in the view */
    char why[300];
    snprintf(why, sizeof why, "node %s died", p->address);
    fail_over_locked(p, why, g);
    if (p->ch) {
      mt_tp_channel **grown = realloc(closing, (n + 2) * sizeof *closing);
      if (grown) {
        closing = grown;
        closing[n++] = p->ch;
        closing[n] = NULL;
        p->ch = NULL; /* its stream ends through on_link_closed */
      }
    }
  }
  /* A dead node that came back is chosen again. */
  for (mt_peer *p = mt_cl.peers; p; p = p->next) {
    for (size_t i = 0; p->dead && i < mt_cl.nview; i++) {
      if (mt_cl.view[i].node_id == p->node_id && mt_cl.view[i].alive &&
          p->down_until_ms == INT64_MAX && !p->ch) {
        p->down_until_ms = 0;
      }
    }
  }
  return closing;
}

void mt_peers_close_all(void) {
  mt_handoff_stop(); /* nothing is handed back any more */
  mt_lock();
  closing_all = true;
  size_t n = 0;
  for (mt_peer *p = mt_cl.peers; p; p = p->next) {
    n++;
  }
  mt_tp_channel **chs = calloc(n + 1, sizeof *chs);
  size_t k = 0;
  for (mt_peer *p = mt_cl.peers; p && chs; p = p->next) {
    if (p->ch) {
      chs[k++] = p->ch;
      p->ch = NULL;
    }
  }
  mt_unlock();
  /* Closing cancels each link; on_link_closed fails what was sent. */
  for (size_t i = 0; i < k; i++) {
    mt_tp_channel_close(chs[i]);
  }
  free(chs);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_peer *p = mt_cl.peers;
  mt_cl.peers = NULL;
  mt_u64map_free(&mt_cl.peer_index);
  view_waits_fail_locked(&g);
  while (p) {
    mt_peer *next = p->next;
    fail_over_locked(p, "the runtime shut down", &g);
    mt_u64map_free(&p->pending);
    mt_outbox_destroy(&p->out);
    free(p);
    p = next;
  }
  closing_all = false;
  mt_unlock();
  mt_garbage_free(&g);
}

/* The peers of /metrics: every node of the view, this one included (a
 * dashboard joins on the node label). */
static void metrics_locked(mt_metrics *m) {
  _Static_assert(MT_METRICS_GRPC_CODES == MT_TP_CODES, "gRPC codes");
  mt_tp_counts grpc;
  mt_tp_counts_copy(&grpc);
  m->grpc_sent = grpc.messages_sent;
  m->grpc_received = grpc.messages_received;
  memcpy(m->grpc_calls, grpc.calls, sizeof m->grpc_calls);
  m->transfers = calloc(MT_TRANSFER_PEERS + 1, sizeof *m->transfers);
  if (m->transfers) {
    m->ntransfers = mt_transfer_copy(m->transfers, MT_TRANSFER_PEERS + 1);
  }
  m->peers = calloc(mt_cl.nview ? mt_cl.nview : 1, sizeof *m->peers);
  if (!m->peers) {
    return;
  }
  int64_t now = mt_now_ms();
  for (size_t i = 0; i < mt_cl.nview; i++) {
    const mt_view_node *v = &mt_cl.view[i];
    m->peers[i].node_id = v->node_id;
    m->peers[i].alive = v->alive;
    m->peers[i].heartbeat_age_s =
        (double)(v->heartbeat_ms_ago + (now - v->view_at_ms)) / 1e3;
  }
  m->npeers = mt_cl.nview;
}

const mt_cluster_ops mt_cluster_routing = {
    .metrics_locked = metrics_locked,
    .route_locked = route_locked,
    .dispatch_locked = dispatch_locked,
    .forget_locked = forget_locked,
    .registry_changed_locked = mt_heartbeat_soon_locked,
    .idle_locked = mt_node_idle_locked,
    .proxy_from_wire_locked = mt_proxy_from_wire_locked,
    .fetch_locked = mt_fetch_locked,
    .object_freed_locked = mt_object_freed_locked,
    .actor_place_locked = mt_actor_place_locked,
    .actor_dispatch_locked = mt_actor_dispatch_locked,
    .actor_flush_locked = mt_actor_flush_locked,
    .actor_kill_locked = mt_actor_kill_remote_locked,
    .proxy_free_locked = mt_proxy_free_locked,
    .proxy_get_locked = mt_proxy_get_locked,
    .actor_name_locked = mt_actor_name_locked,
    .actor_reserve_name = mt_actor_reserve_name,
    .actor_lookup = mt_actor_lookup_cluster,
    .pg_create = mt_pg_create_cluster,
    .pg_poll = mt_pg_poll_cluster,
    .pg_remove = mt_pg_remove_cluster,
    .pg_fetch = mt_pg_fetch_cluster,
    .cancel_remote_locked = cancel_remote_locked};
