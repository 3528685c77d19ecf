/*
 * Actors: the actor table, creation, method calls through a mailbox kept in
 * submission order, turns on the worker pool, death and destruction.
 *
 * An actor's calls run one turn at a time: a worker pops a run of ready calls
 * from the head of the mailbox and runs them in order (max_concurrency 1), or
 * one call per worker up to max_concurrency. A call whose dependencies are
 * not ready holds back the calls behind it, so a caller's order is kept.
 */
#include "cluster_seam.h"
#include "rt.h"
#include "streams.h"
#include "task_context.h"
#include "timeline.h"

#include <stdlib.h>
#include <string.h>

#define TURN_MAX 32
/* Calls a proxy queues while its actor is created again after its node
 * died; beyond, a call fails at once (docs/fault-tolerance.md). */
#define MT_RESTART_CALLS_MAX 100000

uint64_t mt_actor_id(const mt_actor *a) {
  return mt_slots_id(&mt_rt.actors, a);
}

mt_actor *mt_actor_lookup_locked(uint64_t id) {
  return mt_slots_find(&mt_rt.actors, id);
}

static mt_actor *actor_new_locked(void) {
  mt_actor *a = mt_slots_alloc(&mt_rt.actors);
  if (!a) {
    return NULL;
  }
  a->refs = 1;
  a->max_concurrency = 1;
  mt_rt.live_actors++;
  return a;
}

void mt_actor_retain_locked(mt_actor *a) {
  a->refs++;
}

_Atomic(mt_proxy_wire_fn) mt_proxy_wire;

void mt_actor_to_wire(uint64_t id, uint8_t wire[16]) {
  mt_proxy_wire_fn proxy_wire =
      atomic_load_explicit(&mt_proxy_wire, memory_order_acquire);
  if (!proxy_wire || !proxy_wire(id, wire)) {
    mt_wire_id_join(mt_rt.node_id, id, wire);
  }
}

const char *mt_actor_class_name(const mt_actor *a) {
  if (a->cls) {
    return a->cls->name;
  }
  return a->remote && a->remote->class_name && a->remote->class_name[0]
             ? a->remote->class_name
             : "actor";
}

mt_actor *mt_actor_proxy_new_locked(uint64_t host, uint64_t id,
                                    const char *class_name) {
  mt_actor_remote *r = calloc(1, sizeof *r);
  if (!r || !(r->class_name = strdup(class_name ? class_name : ""))) {
    free(r);
    return NULL;
  }
  mt_actor *a = mt_slots_alloc(&mt_rt.actors);
  if (!a) {
    mt_actor_remote_free(r, NULL);
    return NULL;
  }
  /* A proxy is not an actor of this node: LIVE_ACTORS does not count it. */
  r->host = host;
  r->id = id;
  a->refs = 1;
  a->max_concurrency = 1;
  a->state = id ? MT_ACTOR_ALIVE : MT_ACTOR_PENDING;
  a->destroyed = true; /* no state here to destroy */
  a->remote = r;
  return a;
}

void mt_actor_remote_free(mt_actor_remote *r, mt_garbage *g) {
  if (r) {
    for (size_t i = 0; i < r->nargs; i++) {
      mt_garbage_add(g, r->args[i]);
    }
    free(r->args);
    free(r->class_name);
    free(r->name);
    free(r);
  }
}

/* ---- mailbox ------------------------------------------------------------ */

static void mbox_push_locked(mt_actor *a, mt_task *t) {
  mt_task_list_push(&a->mbox, t);
  t->in_mbox = true;
}

void mt_actor_unlink_call_locked(mt_actor *a, mt_task *t) {
  if (t->in_mbox) {
    mt_task_list_unlink(&a->mbox, t);
    t->in_mbox = false;
  }
}

void mt_actor_maybe_schedule_locked(mt_actor *a) {
  if (a->in_ready_queue || a->state != MT_ACTOR_ALIVE ||
      a->running >= a->max_concurrency || !a->mbox.head ||
      a->mbox.head->where != MT_WHERE_MAILBOX) {
    return;
  }
  a->in_ready_queue = true;
  a->ready_next = NULL;
  atomic_fetch_add_explicit(&mt_rt.work_seq, 1, memory_order_relaxed);
  if (mt_rt.ready_tail) {
    mt_rt.ready_tail->ready_next = a;
  } else {
    mt_rt.ready_head = a;
  }
  mt_rt.ready_tail = a;
  mt_actor_retain_locked(a); /* the ready queue's count */
  mt_sched_kick_locked();
}

void mt_actor_calls_changed_locked(mt_actor *a, mt_garbage *g) {
  if (!a->remote) {
    mt_actor_maybe_schedule_locked(a);
  } else if (mt_rt.cluster) {
    mt_rt.cluster->actor_flush_locked(a, g);
  }
}

/* ---- death -------------------------------------------------------------- */

static void destroy_state_locked(mt_actor *a, mt_garbage *g) {
  if (a->destroyed) {
    return;
  }
  a->destroyed = true;
  if (a->constructed) {
    mt_garbage_add_dtor(g, a->cls->dtor, a->state_ptr, a->cls->data);
  }
  a->state_ptr = NULL;
  if (a->holds_demand) {
    mt_demand_release_locked(&a->demand);
    a->holds_demand = false;
    mt_sched_kick_locked(); /* freed resources may let queued work run */
  }
}

static manta_value *dead_error(const mt_actor *a, const char *method) {
  const char *cls = mt_actor_class_name(a);
  manta_value *e = mt_error_new(
      MANTA_ERR_ACTOR_DEAD, cls, "actor %s is dead; call of %s not run: %s",
      cls, method ? method : "?",
      a->death ? manta_error_message(a->death) : "killed");
  if (e && a->death) {
    manta_error_set_cause(e, manta_value_ref(a->death));
  }
  return e;
}

void mt_actor_die_locked(mt_actor *a, manta_value *why, mt_garbage *g) {
  if (a->state == MT_ACTOR_DEAD) {
    mt_garbage_add(g, why);
    return;
  }
  bool constructed = a->state == MT_ACTOR_ALIVE;
  a->state = MT_ACTOR_DEAD;
  if (a->remote && a->remote->name && !a->remote->id && mt_rt.cluster) {
    /* The name was reserved for an actor that will not be made now. */
    mt_rt.cluster->actor_name_locked(a->remote->name, mt_actor_class_name(a),
                                     a->remote->host, 0, false, g);
  }
  atomic_store(&a->killed, true);
  a->death = why;
  mt_log(MT_LOG_DEBUG, "actor %s died: %s", mt_actor_class_name(a),
         why ? manta_error_message(why) : "");
  mt_actor_retain_locked(a); /* cancelling calls drops their counts */
  while (a->mbox.head) {
    mt_task *t = a->mbox.head;
    mt_task_cancel_locked(t, dead_error(a, mt_task_callee(t)), g);
  }
  if (a->name) {
    if (mt_strmap_get(&mt_rt.actor_names, a->name) == a) {
      mt_strmap_remove(&mt_rt.actor_names, a->name);
      if (mt_rt.cluster) {
        mt_rt.cluster->actor_name_locked(a->name, mt_actor_class_name(a),
                                         mt_rt.node_id, mt_actor_id(a), false,
                                         g);
      }
      mt_actor_release_locked(a, g); /* the name's count */
    }
  }
  /* A pending actor is destroyed once its constructor has returned. */
  if (constructed && a->running == 0) {
    destroy_state_locked(a, g);
  }
  mt_actor_release_locked(a, g);
}

void mt_actor_release_locked(mt_actor *a, mt_garbage *g) {
  if (--a->refs > 0) {
    return;
  }
  if (a->remote) {
    /* A proxy: no call is queued (each holds a count); the host hears. */
    if (mt_rt.cluster) {
      mt_rt.cluster->proxy_free_locked(a, g);
    }
    mt_actor_remote_free(a->remote, g);
    a->remote = NULL;
    mt_garbage_add(g, a->death);
    a->death = NULL;
    mt_slots_free(&mt_rt.actors, a);
    return;
  }
  /* No handle, call, turn or name is left. */
  if (a->state != MT_ACTOR_DEAD) {
    a->refs = 1; /* held while it dies */
    mt_actor_die_locked(a,
                        mt_error_new(MANTA_ERR_ACTOR_DEAD, "actor",
                                     "no handle to the actor is left"),
                        g);
    if (--a->refs > 0) {
      return;
    }
  }
  destroy_state_locked(a, g);
  mt_garbage_add(g, a->death);
  a->death = NULL;
  free(a->name);
  a->name = NULL;
  mt_slots_free(&mt_rt.actors, a);
  mt_rt.live_actors--;
}

/* ---- construction ------------------------------------------------------- */

void mt_actor_not_created_locked(mt_actor *a, const manta_value *why,
                                 mt_garbage *g) {
  const char *cls = mt_actor_class_name(a);
  manta_value *e =
      mt_error_new(MANTA_ERR_ACTOR_DEAD, cls, "actor %s was not created: %s",
                   cls, why ? manta_error_message(why) : "cancelled");
  if (e && why) {
    manta_error_set_cause(e, manta_value_ref((manta_value *)why));
  }
  a->destroyed = true; /* no constructor will run */
  mt_actor_die_locked(a, e, g);
}

void mt_actor_construct(mt_task *t) {
  mt_actor *a = t->actor;
  if (atomic_load(&a->killed)) {
    return;
  }
  manta_value *err = NULL;
  void *state = a->cls->ctor ? a->cls->ctor((const manta_value *const *)t->args,
                                            t->nargs, a->cls->data, &err)
                             : NULL;
  t->ctor_state = state;
  /* Its error says where it happened, as a failed task's does. */
  t->ctor_error = err ? mt_task_result(t, err) : NULL;
  t->ctor_ran = err == NULL;
}

bool mt_actor_constructed_locked(mt_task *t, mt_garbage *g) {
  mt_actor *a = t->actor;
  bool keeps_demand = false;
  if (a->state == MT_ACTOR_DEAD) {
    /* Killed while it was being built: destroy what the constructor made. */
    if (t->ctor_ran) {
      mt_garbage_add_dtor(g, a->cls->dtor, t->ctor_state, a->cls->data);
    }
    a->destroyed = true;
    mt_garbage_add(g, t->ctor_error);
  } else if (!t->ctor_ran) {
    manta_value *why = mt_error_new(
        MANTA_ERR_ACTOR_DEAD, a->cls->name, "constructor of %s failed: %s",
        a->cls->name,
        t->ctor_error ? manta_error_message(t->ctor_error) : "no error given");
    if (why && t->ctor_error) {
      manta_error_set_cause(why, t->ctor_error);
    } else {
      mt_garbage_add(g, t->ctor_error);
    }
    a->destroyed = true; /* nothing was built */
    mt_actor_die_locked(a, why, g);
  } else {
    a->state_ptr = t->ctor_state;
    a->state = MT_ACTOR_ALIVE;
    a->constructed = true;
    a->demand = t->cls->demand;
    for (int k = 0; k < mt_rt.nres; k++) {
      keeps_demand |= a->demand.q[k] > 0;
    }
    a->holds_demand = keeps_demand;
    mt_actor_maybe_schedule_locked(a);
  }
  t->ctor_error = NULL;
  mt_task_finish_locked(t, NULL, g);
  return keeps_demand;
}

/* ---- turns -------------------------------------------------------------- */

static manta_value *run_method(mt_actor *a, mt_task *t) {
  if (atomic_load(&a->killed)) {
    return mt_error_new(MANTA_ERR_ACTOR_DEAD, a->cls->name,
                        "actor %s was killed before %s ran", a->cls->name,
                        t->method->name);
  }
  mt_stream *outer = mt_stream_enter(t->stream); /* for manta_emit */
  manta_value *r = mt_task_invoke(t);            /* task_context.c */
  mt_stream_leave(outer);
  return r;
}

void mt_actor_turn_locked(mt_worker *w, mt_actor *a, mt_garbage *g) {
  (void)w;
  mt_task *calls[TURN_MAX];
  manta_value *results[TURN_MAX];
  size_t n = 0, max = a->max_concurrency == 1 ? TURN_MAX : 1;
  mt_rt.ready_head = a->ready_next;
  if (!mt_rt.ready_head) {
    mt_rt.ready_tail = NULL;
  }
  a->in_ready_queue = false; /* its count passes to this turn */
  while (n < max && a->mbox.head && a->mbox.head->where == MT_WHERE_MAILBOX) {
    mt_task *t = a->mbox.head;
    mt_actor_unlink_call_locked(a, t);
    t->where = MT_WHERE_BATCH;
    calls[n++] = t;
  }
  mt_rt.tasks_queued -= (int64_t)n;
  mt_rt.tasks_running += (int64_t)n;
  a->running++;
  mt_actor_maybe_schedule_locked(a); /* max_concurrency > 1 */
  mt_sched_kick_locked();            /* other ready actors: another worker */
  mt_unlock();
  /* Calls of this turn not started when a kill comes do not run: they end
   * as those still in the mailbox do. */
  size_t ran = 0;
  bool timed = mt_timeline_on(); /* off: this load is all it costs */
  mt_tl_run run = {0};
  int64_t turn_start = timed ? mt_timeline_now() : 0;
  for (; ran < n && !atomic_load(&a->killed); ran++) {
    int expected = MT_CLAIM_FREE;
    bool claimed = atomic_compare_exchange_strong(&calls[ran]->claim, &expected,
                                                  MT_CLAIM_STARTED);
    if (claimed && timed) {
      mt_timeline_call(&run, calls[ran], turn_start);
    }
    results[ran] = claimed ? run_method(a, calls[ran]) : NULL;
  }
  if (timed) {
    mt_timeline_end(&run, mt_timeline_now());
  }
  mt_lock();
  for (size_t i = 0; i < n; i++) {
    mt_rt.tasks_running--;
    mt_task *t = calls[i];
    if (i < ran) {
      a->cls->calls += results[i] != NULL; /* NULL: cancelled, not run */
      a->calls += results[i] != NULL;
      mt_task_finish_locked(t, results[i], g);
    } else {
      mt_task_finish_locked(
          t, dead_error(a, t->method ? t->method->name : NULL), g);
    }
  }
  a->running--;
  if (a->state == MT_ACTOR_DEAD && a->running == 0) {
    destroy_state_locked(a, g);
  }
  mt_actor_maybe_schedule_locked(a);
  mt_actor_release_locked(a, g); /* the turn's count */
}

void mt_actors_shutdown_locked(mt_garbage *g) {
  for (size_t i = 0; i < mt_rt.actors.used; i++) {
    mt_actor *a = mt_slots_at(&mt_rt.actors, i);
    if (a->refs > 0 && a->state != MT_ACTOR_DEAD) {
      mt_actor_retain_locked(a);
      mt_actor_die_locked(
          a, mt_error_new(MANTA_ERR_SHUTDOWN, "actor", "the runtime shut down"),
          g);
      mt_actor_release_locked(a, g);
    }
  }
}

void mt_actors_destroy(mt_garbage *g) {
  /* Shutdown, with every worker gone: kill what lives, then free slots. */
  for (size_t i = 0; i < mt_rt.actors.used; i++) {
    mt_actor *a = mt_slots_at(&mt_rt.actors, i);
    if (a->refs > 0 && a->state != MT_ACTOR_DEAD) {
      mt_actor_retain_locked(a);
      mt_actor_die_locked(
          a, mt_error_new(MANTA_ERR_SHUTDOWN, "actor", "the runtime shut down"),
          g);
      if (!a->destroyed) {
        destroy_state_locked(a, g);
      }
      mt_actor_release_locked(a, g);
    }
    if (a->refs > 0) {
      destroy_state_locked(a, g);
      mt_garbage_add(g, a->death);
      a->death = NULL;
      free(a->name);
      a->name = NULL;
      mt_actor_remote_free(a->remote, g);
      a->remote = NULL;
    }
  }
  mt_slots_destroy(&mt_rt.actors);
  mt_rt.live_actors = 0;
  mt_rt.ready_head = mt_rt.ready_tail = NULL;
}

/* ---- the public API ----------------------------------------------------- */

/* Why an actor cannot be created now (MANTA_OK: it can). */
static manta_err create_check_locked(const char *name) {
  if (!mt_rt.initialized || mt_rt.shutting_down) {
    return mt_rt.initialized ? MANTA_ERR_SHUTDOWN : MANTA_ERR_NOT_INITIALIZED;
  }
  return name && mt_strmap_get(&mt_rt.actor_names, name) ? MANTA_ERR_EXISTS
                                                         : MANTA_OK;
}

/* Why this node cannot host an actor of class cls (NULL: it can). */
static manta_value *local_fail(const mt_class *cls, const char *class_name,
                               const char *missing, const mt_demand *demand) {
  if (!cls) {
    return mt_error_new(MANTA_ERR_NOT_FOUND, "actor_create",
                        "no actor class named '%s' is registered", class_name);
  }
  if (missing[0]) {
    char why[200];
    manta_err code = mt_missing_why(missing, why, sizeof why);
    return mt_error_new(code, class_name, "%s", why);
  }
  if (!mt_demand_fits_total(demand)) {
    return mt_error_new(MANTA_ERR_INFEASIBLE, class_name,
                        "asks for more resources than this node has");
  }
  return NULL;
}

/*
 * Where the actor goes (*host 0: here), as its placement says, and, for a
 * named one in a cluster, its name reserved there. *fail: why it can live
 * nowhere (an unkept hard affinity, or no node of the cluster can host
 * it). Waiting for the head releases rt.mu. *reserved tells whether a
 * reservation was made.
 */
static manta_err place_locked(const char *class_name, const char *name,
                              const manta_call_options *opts, double cpus,
                              const manta_value *here_fail, uint64_t *host,
                              bool *reserved, manta_value **fail) {
  mt_placement via;
  mt_place_step step = mt_placement_step_locked(opts ? &opts->placement : NULL,
                                                here_fail, &via, fail);
  if (step == MT_PLACE_FAIL && !*fail) {
    *fail = mt_error_new(MANTA_ERR_NOMEM, class_name, "out of memory");
  }
  if (!mt_rt.cluster) {
    return MANTA_OK;
  }
  if (step == MT_PLACE_ROUTE &&
      (here_fail || via.strategy != MANTA_STRATEGY_DEFAULT)) {
    mt_resource_request req;
    mt_demand_request(opts, cpus, &req);
    if (!mt_rt.cluster->actor_place_locked(class_name, here_fail == NULL, &req,
                                           &via, host, fail)) {
      *host = 0;
    }
  }
  if (!name || *fail) {
    return MANTA_OK;
  }
  manta_err (*reserve)(const char *, const char *, uint64_t) =
      mt_rt.cluster->actor_reserve_name;
  uint64_t where = *host ? *host : mt_rt.node_id;
  mt_unlock();
  manta_err err = reserve(name, class_name, where);
  mt_lock();
  *reserved = err == MANTA_OK;
  return err == MANTA_OK ? create_check_locked(name) : err;
}

/* The creation of an actor that lives on another node: the proxy's first
 * task, sent there once its arguments are ready. */
static void create_remote_locked(mt_actor *a, mt_task *t, const char *name,
                                 const manta_call_options *opts, double cpus,
                                 bool in_group, mt_garbage *g) {
  mt_actor_remote *r = a->remote;
  r->holds = true;
  r->max_concurrency =
      opts && opts->max_concurrency ? opts->max_concurrency : 1;
  if ((name && !(r->name = strdup(name))) ||
      !mt_task_make_remote(t, r->class_name, opts, cpus)) {
    if (name && !r->name) {
      mt_rt.cluster->actor_name_locked(name, r->class_name, r->host, 0, false,
                                       g);
    }
    mt_actor_die_locked(
        a, mt_error_new(MANTA_ERR_NOMEM, r->class_name, "out of memory"), g);
    mt_task_free_locked(t, g);
    return;
  }
  /* What a restart takes: the constructor's arguments as given (refs
   * included, which keep their objects), the demand, the counts. */
  r->restarts_left = opts ? opts->max_restarts : 0;
  r->max_task_retries = opts ? opts->max_task_retries : 0;
  r->demand = t->remote->demand;
  if (opts) {
    r->placement = opts->placement; /* a group's: its bundle's node */
  }
  r->in_group = in_group;
  if (r->restarts_left != 0 && t->nargs > 0) {
    r->args = calloc(t->nargs, sizeof *r->args);
    if (!r->args) {
      r->restarts_left = 0; /* the actor works; it will not be restarted */
      mt_log(MT_LOG_WARN,
             "actor %s: out of memory keeping its arguments: "
             "it will not be restarted",
             r->class_name);
    }
    for (size_t i = 0; r->args && i < t->nargs; i++) {
      r->args[r->nargs++] = manta_value_ref(t->args[i]);
    }
  }
  t->actor = a;
  mt_actor_retain_locked(a); /* the creation task's count */
  a->creating = t;
  mt_task_start_deps_locked(t, g);
}

/* The creation task of a waits in its group's queue (a PENDING actor:
 * calls made meanwhile wait in its mailbox). */
static void queue_for_group_locked(mt_actor *a, mt_task *t,
                                   const char *class_name,
                                   const manta_call_options *given, bool route,
                                   mt_garbage *g) {
  t->actor = a;
  mt_actor_retain_locked(a); /* the creation task's count */
  a->creating = t;
  mt_pg_queue_locked(t, class_name, given, route, g);
}

/* a, made here while its group was pending, lives on another node: its
 * handle becomes a proxy (not yet sent: host 0 until the caller sets
 * it), and the calls in its mailbox become calls sent there, in order
 * (those whose arguments were ready already as they would have been
 * made ready for another node). A cluster only, where such an actor has
 * no name (mt_actor_create). False on OOM. */
static bool to_proxy_locked(mt_actor *a, const char *class_name,
                            mt_garbage *g) {
  mt_actor_remote *r = calloc(1, sizeof *r);
  if (!r || !(r->class_name = strdup(class_name))) {
    free(r);
    return false;
  }
  for (mt_task *t = a->mbox.head; t; t = t->next) {
    if (!t->remote && !mt_task_make_remote(t, t->method->name, NULL, 0)) {
      mt_actor_remote_free(r, NULL);
      return false; /* those made are freed with their calls */
    }
    t->remote->demand.n = 0;
    t->method = NULL;
    if (t->where == MT_WHERE_MAILBOX) {
      mt_task_wrap_large_args_locked(t, g);
    }
  }
  a->remote = r;
  a->cls = NULL;
  a->destroyed = true; /* no state here to destroy */
  mt_rt.live_actors--; /* a proxy is not an actor of this node */
  return true;
}

void mt_actor_create_resume_locked(mt_task *t, const mt_pg_call *c,
                                   mt_garbage *g) {
  mt_actor *a = t->actor;
  t->where = MT_WHERE_DEPS;
  if (a->state == MT_ACTOR_DEAD) {
    /* Killed while it waited: nothing to build. */
    mt_task_cancel_locked(t, NULL, g);
    return;
  }
  manta_call_options eff;
  manta_value *fail = mt_pg_call_options_locked(&c->opts, true, &eff);
  mt_demand demand;
  char missing[64] = "";
  if (fail ||
      mt_call_prepare((const manta_value *const *)t->args, t->nargs, &eff, 0.0,
                      &demand, missing, sizeof missing) != MANTA_OK) {
    memset(&demand, 0, sizeof demand); /* checked at create: cannot be */
  }
  mt_call_resolve_locked(&eff, 0.0, &demand, missing, sizeof missing);
  manta_value *here_fail =
      fail ? NULL : local_fail(a->cls, c->name, missing, &demand);
  uint64_t host = 0;
  bool reserved = false;
  if (!fail && c->route) {
    place_locked(c->name, NULL, &eff, 0.0, here_fail, &host, &reserved, &fail);
  }
  if (!fail && !host && here_fail) {
    fail = here_fail;
    here_fail = NULL;
  }
  mt_garbage_add(g, here_fail);
  if (!fail && host && !a->remote && !to_proxy_locked(a, c->name, g)) {
    fail = mt_error_new(MANTA_ERR_NOMEM, c->name, "out of memory");
  }
  if (!fail && !host && !(t->cls = mt_class_for_locked(&demand))) {
    fail = mt_error_new(MANTA_ERR_NOMEM, c->name, "out of memory");
  }
  if (!fail && !host) {
    t->pg = mt_bundles_of_locked(&demand, &fail);
  }
  if (fail) {
    mt_task_cancel_locked(t, fail, g); /* the actor dies: not created */
    return;
  }
  a->pg_capture = t->pg_capture = eff.pg_capture;
  if (!host) {
    mt_task_start_deps_locked(t, g);
    return;
  }
  /* Sent to the bundle's node as any creation there; the calls wait in
   * the proxy's mailbox until it answers. */
  a->remote->host = host;
  a->creating = NULL;
  t->actor = NULL;
  create_remote_locked(a, t, NULL, &eff, 0.0, true, g);
  mt_actor_release_locked(a, g); /* the count the waiting creation held */
}

manta_err mt_actor_create(const char *class_name,
                          const manta_value *const *args, size_t nargs,
                          const manta_call_options *opts, bool route,
                          manta_actor *out) {
  if (!class_name || !out) {
    return MANTA_ERR_INVALID;
  }
  manta_call_options eff, captured;
  manta_value *pg_fail = NULL;
  if (route && mt_pg_capture(opts, &captured)) {
    /* Created by a call in a group that captures its children. */
    opts = &captured;
  }
  bool in_group = opts && opts->pg;
  /* A group not reserved yet: the creation waits for it, as a task does
   * (pgroups.c); the handle is given now. */
  bool wait_group = in_group && mt_pg_pending(opts);
  const manta_call_options *given = opts;
  if (in_group && !wait_group) {
    /* In a placement group: its bundle's resources, on its node. */
    pg_fail = mt_pg_call_options(opts, true, &eff);
    opts = &eff;
  }
  mt_demand demand;
  char missing[64] = "";
  manta_err err =
      mt_call_prepare(args, nargs, opts, 0.0, &demand, missing, sizeof missing);
  mt_task *t =
      err == MANTA_OK ? mt_task_alloc(MT_TASK_ACTOR_CREATE, args, nargs) : NULL;
  if (!t) {
    manta_value_free(pg_fail);
    return err == MANTA_OK ? MANTA_ERR_NOMEM : err;
  }
  const char *name = opts && opts->name ? opts->name : NULL;
  double cpus = opts && opts->num_cpus >= 0 ? opts->num_cpus : 0.0;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_actor *a = NULL;
  mt_class *cls = mt_strmap_get(&mt_rt.classes, class_name);
  mt_call_resolve_locked(opts, 0.0, &demand, missing, sizeof missing);
  manta_value *here_fail = local_fail(cls, class_name, missing, &demand);
  uint64_t host = 0;
  bool reserved = false;
  manta_value *fail = NULL;
  err = create_check_locked(name);
  if (wait_group && name && mt_rt.cluster) {
    /* A cluster's name is reserved on the node the actor goes to, which
     * the group decides. */
    fail = mt_error_new(MANTA_ERR_INVALID, "placement group",
                        "named actor %s: its placement group is not "
                        "reserved yet; a named actor is created in a group "
                        "once it is (manta_placement_group_wait)",
                        name);
    wait_group = false;
  } else if (wait_group && !cls && !mt_rt.cluster) {
    wait_group = false; /* no class here: it fails below, as without */
  }
  if (pg_fail) {
    fail = pg_fail; /* dead from the start: the group cannot take it */
  } else if (wait_group || fail) {
    /* placed once its group is reserved (mt_actor_create_resume_locked) */
  } else if (err == MANTA_OK && route) {
    err = place_locked(class_name, name, opts, cpus, here_fail, &host,
                       &reserved, &fail);
  }
  if (err == MANTA_OK) {
    /* Waiting for its group, an actor whose class this node lacks can
     * only live elsewhere: a proxy of an actor not placed yet (host 0). */
    a = host || (wait_group && !cls)
            ? mt_actor_proxy_new_locked(host, 0, class_name)
            : actor_new_locked();
    err = a ? MANTA_OK : MANTA_ERR_NOMEM;
  }
  if (err != MANTA_OK) {
    if (reserved && mt_rt.cluster) {
      mt_rt.cluster->actor_name_locked(
          name, class_name, host ? host : mt_rt.node_id, 0, false, &g);
    }
    mt_garbage_add(&g, here_fail);
    mt_garbage_add(&g, fail);
    mt_unlock();
    mt_task_discard(t);
    mt_garbage_free(&g);
    return err;
  }
  out->id = mt_actor_id(a);
  /* Its methods' children join its group (and its creation says so). */
  a->pg_capture = t->pg_capture = opts && opts->pg_capture;
  if (host) {
    mt_garbage_add(&g, here_fail);
    create_remote_locked(a, t, name, opts, cpus, in_group, &g);
    mt_unlock();
    mt_garbage_free(&g);
    return MANTA_OK;
  }
  if (wait_group && a->remote) {
    mt_garbage_add(&g, here_fail);
    queue_for_group_locked(a, t, class_name, given, route, &g);
    mt_unlock();
    mt_garbage_free(&g);
    return MANTA_OK;
  }
  a->cls = cls;
  a->max_concurrency =
      opts && opts->max_concurrency ? opts->max_concurrency : 1;
  if (name) {
    bool oom;
    a->name = strdup(name);
    if (a->name && mt_strmap_insert(&mt_rt.actor_names, name, a, &oom)) {
      mt_actor_retain_locked(a); /* the name's count */
    }
  }
  if (wait_group) {
    /* Built here if its bundle is here, else moved (resume, below). */
    mt_garbage_add(&g, here_fail);
    queue_for_group_locked(a, t, class_name, given, route, &g);
    mt_unlock();
    mt_garbage_free(&g);
    return MANTA_OK;
  }
  if (fail) {
    /* From the placement: no node can host it. */
    mt_garbage_add(&g, here_fail);
  } else if (here_fail) {
    fail = here_fail;
  } else if (!(t->cls = mt_class_for_locked(&demand))) {
    fail = mt_error_new(MANTA_ERR_NOMEM, class_name, "out of memory");
  } else {
    t->pg = mt_bundles_of_locked(&demand, &fail);
  }
  if (fail) {
    a->destroyed = true; /* no constructor will run */
    mt_actor_die_locked(a, fail, &g);
    mt_unlock();
    mt_task_discard(t);
  } else {
    if (a->name && mt_rt.cluster) {
      mt_rt.cluster->actor_name_locked(a->name, class_name, mt_rt.node_id,
                                       out->id, true, &g);
    }
    t->actor = a;
    mt_actor_retain_locked(a); /* the creation task's count */
    a->creating = t;
    mt_task_start_deps_locked(t, &g);
    mt_unlock();
  }
  mt_garbage_free(&g);
  return MANTA_OK;
}

manta_err manta_actor_create(const char *class_name,
                             const manta_value *const *args, size_t nargs,
                             const manta_call_options *opts, manta_actor *out) {
  return mt_actor_create(class_name, args, nargs, opts, true, out);
}

/* What the probe of a restart runs (mt_actor_ready_call): nothing. */
static manta_value *ready_fn(void *state, const manta_value *const *args,
                             size_t nargs, void *data) {
  (void)state, (void)args, (void)nargs, (void)data;
  return manta_null();
}

static mt_method ready_method = {"(ready)", ready_fn, 0, NULL};

/* A call of method (builtin, if given, instead of the class's), with the
 * caller's options (its task id and attempt; NULL: none). */
static manta_err actor_call(manta_actor actor, const char *method,
                            mt_method *builtin, const manta_value *const *args,
                            size_t nargs, const manta_call_options *opts,
                            manta_ref *out) {
  if (!method || !out || !mt_args_valid(args, nargs)) {
    return MANTA_ERR_INVALID;
  }
  mt_task *t = mt_task_alloc(MT_TASK_ACTOR_CALL, args, nargs);
  if (!t) {
    return MANTA_ERR_NOMEM;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  manta_err err = MANTA_OK;
  mt_lock();
  mt_actor *a = NULL;
  if (!mt_rt.initialized || mt_rt.shutting_down) {
    err = mt_rt.initialized ? MANTA_ERR_SHUTDOWN : MANTA_ERR_NOT_INITIALIZED;
  } else if (!(a = mt_actor_lookup_locked(actor.id))) {
    err = MANTA_ERR_BAD_HANDLE;
  } else {
    err = mt_task_attach_result_locked(t, out);
  }
  if (err != MANTA_OK) {
    mt_unlock();
    mt_task_discard(t);
    return err;
  }
  t->actor = a;
  mt_actor_retain_locked(a);
  t->where = MT_WHERE_DEPS;
  if (opts) {
    mt_retry_init_locked(t, opts); /* its attempt and id at its caller */
  }
  manta_value *fail = NULL;
  if (a->state == MT_ACTOR_DEAD) {
    fail = dead_error(a, method);
  } else if (a->remote && a->remote->restarts_done > 0 &&
             a->state == MT_ACTOR_PENDING &&
             a->mbox.len >= MT_RESTART_CALLS_MAX) {
    /* Being created again: calls wait, up to a bound. */
    fail = mt_error_new(MANTA_ERR_CANCELLED, mt_actor_class_name(a),
                        "actor %s is being restarted and %zu calls already "
                        "wait for it; call of %s not queued",
                        mt_actor_class_name(a), a->mbox.len, method);
  } else if (builtin && !a->remote) {
    t->method = builtin;
  } else if (a->remote) {
    /* Checked where the actor lives. */
    if (!mt_task_make_remote(t, method, NULL, 0)) {
      fail = mt_error_new(MANTA_ERR_NOMEM, method, "out of memory");
    } else {
      t->remote->demand.n = 0;
    }
  } else if (!(t->method = mt_strmap_get(&a->cls->methods, method))) {
    fail =
        mt_error_new(MANTA_ERR_NOT_FOUND, a->cls->name,
                     "actor class %s has no method '%s'", a->cls->name, method);
  } else if (t->method->nargs >= 0 && (size_t)t->method->nargs != nargs) {
    fail = mt_task_error(t, MANTA_ERR_ARITY, "takes %d arguments, got %zu",
                         t->method->nargs, nargs);
  }
  if (fail) {
    mt_task_cancel_locked(t, fail, &g);
  } else {
    mbox_push_locked(a, t);
    mt_task_start_deps_locked(t, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return MANTA_OK;
}

manta_err manta_actor_call(manta_actor actor, const char *method,
                           const manta_value *const *args, size_t nargs,
                           manta_ref *out) {
  return actor_call(actor, method, NULL, args, nargs, NULL, out);
}

manta_err mt_actor_call(manta_actor actor, const char *method,
                        const manta_value *const *args, size_t nargs,
                        const manta_call_options *opts, manta_ref *out) {
  return actor_call(actor, method, NULL, args, nargs, opts, out);
}

manta_err mt_actor_ready_call(manta_actor actor, manta_ref *out) {
  return actor_call(actor, ready_method.name, &ready_method, NULL, 0, NULL,
                    out);
}

/* The live actor a handle names, or why there is none. */
static manta_err actor_find_locked(manta_actor handle, mt_actor **out) {
  if (!mt_rt.initialized) {
    return MANTA_ERR_NOT_INITIALIZED;
  }
  *out = mt_actor_lookup_locked(handle.id);
  return *out ? MANTA_OK : MANTA_ERR_BAD_HANDLE;
}

manta_err manta_actor_lookup(const char *name, manta_actor *out) {
  if (!name || !out) {
    return MANTA_ERR_INVALID;
  }
  manta_err err = MANTA_OK;
  manta_err (*cluster_lookup)(const char *, manta_actor *) = NULL;
  mt_lock();
  mt_actor *a = NULL;
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if ((a = mt_strmap_get(&mt_rt.actor_names, name))) {
    mt_actor_retain_locked(a);
    out->id = mt_actor_id(a);
  } else if (mt_rt.cluster && !mt_rt.shutting_down) {
    cluster_lookup = mt_rt.cluster->actor_lookup; /* asks the head */
  } else {
    err = MANTA_ERR_NOT_FOUND;
  }
  mt_unlock();
  return cluster_lookup ? cluster_lookup(name, out) : err;
}

manta_err manta_actor_kill(manta_actor actor) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_actor *a = NULL;
  manta_err err = actor_find_locked(actor, &a);
  if (err == MANTA_OK) {
    mt_actor_retain_locked(a);
    if (a->remote && mt_rt.cluster && a->state != MT_ACTOR_DEAD) {
      mt_rt.cluster->actor_kill_locked(a, &g);
    }
    mt_actor_die_locked(a,
                        mt_error_new(MANTA_ERR_ACTOR_DEAD, "actor_kill",
                                     "killed by manta_actor_kill"),
                        &g);
    mt_actor_release_locked(a, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return err;
}

manta_err manta_actor_clone(manta_actor actor, manta_actor *out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  mt_lock();
  mt_actor *a = NULL;
  manta_err err = actor_find_locked(actor, &a);
  if (err == MANTA_OK) {
    mt_actor_retain_locked(a);
    *out = actor;
  }
  mt_unlock();
  return err;
}

manta_err manta_actor_release(manta_actor actor) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_actor *a = NULL;
  manta_err err = actor_find_locked(actor, &a);
  if (err == MANTA_OK) {
    mt_actor_release_locked(a, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return err;
}
