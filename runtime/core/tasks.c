/*
 * A task's life: built with its arguments, waiting for the refs among them,
 * queued, run by a worker, finished into its result object; or cancelled.
 * Also the public submit and cancel.
 */
#include "cluster_seam.h"
#include "errlog.h"
#include "rt.h"
#include "streams.h"
#include "task_context.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "node <id> (<address>)" while this node is in a cluster. Read without
 * rt.mu by workers making error values, so published by an atomic pointer.
 * The buffer is written only while the pointer is NULL: each init resets
 * it before any worker runs, and the cluster sets it once, as it starts. */
static char node_where_buf[128];
static _Atomic(const char *) node_where;
/* The address alone, published the same way (task_retry.c). */
static char node_address_buf[96];
static _Atomic(const char *) node_address;

void mt_task_set_node(uint64_t node_id, const char *address) {
  if (!address) {
    atomic_store_explicit(&node_where, NULL, memory_order_release);
    atomic_store_explicit(&node_address, NULL, memory_order_release);
    return;
  }
  snprintf(node_where_buf, sizeof node_where_buf, "node %016llx (%s)",
           (unsigned long long)node_id, address);
  atomic_store_explicit(&node_where, node_where_buf, memory_order_release);
  snprintf(node_address_buf, sizeof node_address_buf, "%s", address);
  atomic_store_explicit(&node_address, node_address_buf, memory_order_release);
}

const char *mt_task_node_address(void) {
  return atomic_load_explicit(&node_address, memory_order_acquire);
}

/* Appends " on node ..." in cluster mode: an error made here says which
 * node of the cluster made it. Embedded, origins stay as they were. */
static void append_node(char *buf, size_t size) {
  const char *where = atomic_load_explicit(&node_where, memory_order_acquire);
  size_t len = strlen(buf);
  if (where && len < size) {
    snprintf(buf + len, size - len, " on %s", where);
  }
}

static size_t count_deps(const manta_value *const *args, size_t nargs) {
  size_t n = 0;
  for (size_t i = 0; i < nargs; i++) {
    n += manta_value_kind(args[i]) == MANTA_KIND_REF;
  }
  return n;
}

mt_task *mt_task_alloc(mt_task_kind kind, const manta_value *const *args,
                       size_t nargs) {
  size_t ndeps = count_deps(args, nargs);
  mt_task *t = calloc(1, sizeof *t + nargs * sizeof(manta_value *) +
                             ndeps * sizeof(mt_listener));
  if (!t) {
    return NULL;
  }
  t->kind = (uint8_t)kind;
  t->nargs = nargs;
  t->ndeps = ndeps;
  t->deps = (mt_listener *)(void *)(t->args + nargs);
  t->stream = mt_stream_take_submitting();
  for (size_t i = 0; i < nargs; i++) {
    manta_value *a = (manta_value *)args[i];
    mt_value_freeze(a);
    t->args[i] = manta_value_ref(a);
  }
  return t;
}

void mt_task_discard(mt_task *t) {
  mt_stream_release(t->stream);
  for (size_t i = 0; i < t->nargs; i++) {
    manta_value_free(t->args[i]);
  }
  free(t);
}

void mt_task_list_push(mt_task_list *l, mt_task *t) {
  t->next = NULL;
  t->prev = l->tail;
  if (l->tail) {
    l->tail->next = t;
  } else {
    l->head = t;
  }
  l->tail = t;
  l->len++;
}

void mt_task_list_push_front(mt_task_list *l, mt_task *t) {
  t->prev = NULL;
  t->next = l->head;
  if (l->head) {
    l->head->prev = t;
  } else {
    l->tail = t;
  }
  l->head = t;
  l->len++;
}

void mt_task_list_unlink(mt_task_list *l, mt_task *t) {
  if (t->prev) {
    t->prev->next = t->next;
  } else {
    l->head = t->next;
  }
  if (t->next) {
    t->next->prev = t->prev;
  } else {
    l->tail = t->prev;
  }
  t->next = t->prev = NULL;
  l->len--;
}

void mt_task_free_locked(mt_task *t, mt_garbage *g) {
  for (size_t i = 0; i < t->ndeps; i++) {
    mt_listener_remove_locked(&t->deps[i]);
  }
  for (size_t i = 0; i < t->nargs; i++) {
    mt_garbage_add(g, t->args[i]);
  }
  mt_garbage_add(g, t->dep_error);
  mt_stream_release_locked(t->stream, g);
  if (t->actor && t->actor->creating == t) {
    t->actor->creating = NULL;
  }
  if (t->actor) {
    mt_actor_release_locked(t->actor, g);
  }
  if (t->remote) {
    free(t->remote->function);
    free(t->remote);
  }
  if (t->pg_call) {
    free(t->pg_call->name);
    free(t->pg_call);
  }
  if (t->extra) {
    mt_task_extra_free(t); /* task_context.h */
  }
  free(t);
}

const char *mt_task_callee(const mt_task *t) {
  return t->method    ? t->method->name
         : t->fn      ? t->fn->name
         : t->remote  ? t->remote->function
         : t->pg_call ? t->pg_call->name
                      : NULL;
}

/* Where an error of this task happened, for error values. */
static void task_origin(const mt_task *t, char *buf, size_t size) {
  const char *callee = mt_task_callee(t);
  switch (t->kind) {
  case MT_TASK_FUNCTION:
    snprintf(buf, size, "function %s", callee ? callee : "?");
    break;
  case MT_TASK_ACTOR_CREATE:
    snprintf(buf, size, "actor %s constructor",
             t->actor ? mt_actor_class_name(t->actor) : "?");
    break;
  default:
    snprintf(buf, size, "actor %s.%s",
             t->actor ? mt_actor_class_name(t->actor) : "?",
             callee ? callee : "?");
  }
}

manta_value *mt_task_error(const mt_task *t, manta_err code, const char *fmt,
                           ...) {
  char origin[300], msg[512];
  task_origin(t, origin, sizeof origin);
  /* A task sent elsewhere fails here only for reasons of its own (a dead
   * node, shutdown), which its message names: this node is not where. */
  if (!t->remote) {
    append_node(origin, sizeof origin);
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return mt_error_new(code, origin, "%s", msg);
}

manta_value *mt_task_result(const mt_task *t, manta_value *r) {
  if (!r) {
    r = manta_null();
    if (!r) {
      return mt_task_error(t, MANTA_ERR_NOMEM, "out of memory");
    }
  }
  /* Room in the object store first (it may wait a bounded time): a result
   * that does not fit becomes an error the caller sees, not memory the
   * kernel would kill the process for. */
  manta_value *full = NULL;
  if (mt_store_admit(mt_value_payload_bytes(r), &full) != MANTA_OK) {
    manta_value_free(r);
    r = mt_task_error(t, MANTA_ERR_OBJECT_STORE_FULL, "its result: %s",
                      full ? manta_error_message(full) : "no room");
    manta_value_free(full);
    return r;
  }
  /* An error made by the function itself says where it happened (an origin
   * it set, a binding's "java function f", gains the node); one it passed
   * on (frozen: shared already) keeps its own origin. */
  if (manta_value_kind(r) == MANTA_KIND_ERROR && !mt_value_frozen(r)) {
    char origin[400];
    const char *own = manta_error_origin(r);
    if (own[0] == '\0') {
      task_origin(t, origin, sizeof origin);
      append_node(origin, sizeof origin);
      manta_error_set_origin(r, origin);
    } else if (strlen(own) < 200 && !strstr(own, " on node ")) {
      snprintf(origin, sizeof origin, "%s", own);
      append_node(origin, sizeof origin);
      if (strcmp(origin, own) != 0) {
        manta_error_set_origin(r, origin);
      }
    }
  }
  return r;
}

void mt_task_finish_locked(mt_task *t, manta_value *v, mt_garbage *g) {
  v = mt_cancel_outcome_locked(t, v, g); /* cancelled while it ran */
  if (t->kind == MT_TASK_FUNCTION && t->fn && t->where == MT_WHERE_BATCH &&
      !t->cancelled) {
    /* It ran here (a worker's batch); its run time went to the histogram
     * when the batch was measured. */
    t->fn->stats.finished++;
    t->fn->stats.failed += v && manta_value_kind(v) == MANTA_KIND_ERROR;
  }
  if (v && t->where == MT_WHERE_BATCH && !t->cancelled &&
      manta_value_kind(v) == MANTA_KIND_ERROR) {
    mt_errlog_note_locked(t, v); /* recent errors, for the dashboard */
  }
  if (t->result) {
    if (!t->cancelled) {
      mt_obj_complete_locked(t->result, v, g);
      v = NULL;
    }
    mt_obj_release_locked(t->result, g);
  }
  mt_garbage_add(g, v);
  mt_rt.tasks_finished++;
  mt_task_free_locked(t, g);
  if (mt_rt.cluster && mt_rt.tasks_running == 0 && mt_rt.tasks_queued == 0) {
    mt_rt.cluster->idle_locked();
  }
}

void mt_task_cancel_locked(mt_task *t, manta_value *err, mt_garbage *g) {
  if (t->kind == MT_TASK_ACTOR_CREATE && t->actor && !t->cancelled) {
    mt_actor_not_created_locked(t->actor, err, g);
  }
  /* The result resolves now, whatever happens to the task struct. */
  if (t->result && !t->cancelled) {
    mt_obj_complete_locked(t->result, err, g);
    err = NULL;
  }
  mt_garbage_add(g, err);
  t->cancelled = true;
  switch (t->where) {
  case MT_WHERE_DEPS:
  case MT_WHERE_MAILBOX:
    if (t->kind == MT_TASK_ACTOR_CALL) {
      /* The calls it held back may run now. */
      mt_actor *a = t->actor;
      mt_actor_retain_locked(a);
      mt_actor_unlink_call_locked(a, t);
      mt_rt.tasks_queued -= t->where == MT_WHERE_MAILBOX;
      mt_task_finish_locked(t, NULL, g);
      mt_actor_calls_changed_locked(a, g);
      mt_actor_release_locked(a, g);
    } else {
      mt_task_finish_locked(t, NULL, g);
    }
    break;
  case MT_WHERE_CLASS:
    mt_class_unlink_locked(t);
    mt_rt.tasks_queued--;
    mt_task_finish_locked(t, NULL, g);
    break;
  case MT_WHERE_REMOTE:
    mt_rt.cluster->forget_locked(t);
    mt_task_finish_locked(t, NULL, g);
    break;
  case MT_WHERE_GROUP:
    mt_pg_unqueue_locked(t);
    mt_task_finish_locked(t, NULL, g);
    break;
  default:
    /* In a worker's batch: the worker frees it when it sees the claim. */
    break;
  }
}

/* A large argument given by value to a task going to another node becomes
 * an object here that the node fetches, as if it had been put: task
 * messages stay small whatever the arguments. */
void mt_task_wrap_large_args_locked(mt_task *t, mt_garbage *g) {
  for (size_t i = 0; i < t->nargs; i++) {
    if (manta_value_kind(t->args[i]) == MANTA_KIND_REF ||
        mt_value_payload_bytes(t->args[i]) <= MT_INLINE_MAX) {
      continue;
    }
    mt_object *o;
    uint64_t id = mt_obj_new_locked(&o);
    manta_value *ref = id ? mt_value_wrap_id(MANTA_KIND_REF, id) : NULL;
    if (!ref) {
      if (id) {
        mt_obj_release_locked(o, g);
      }
      continue; /* sent inline after all */
    }
    mt_obj_complete_locked(o, t->args[i], g); /* takes the task's count */
    t->args[i] = ref;
  }
}

void mt_task_ready_locked(mt_task *t, mt_garbage *g) {
  if (t->dep_error) {
    const char *msg = manta_error_message(t->dep_error);
    manta_value *err = mt_task_error(
        t, MANTA_ERR_DEPENDENCY, "argument %zu failed: %s: %s",
        t->dep_error_arg, manta_errname(manta_error_code(t->dep_error)), msg);
    if (err) {
      manta_error_set_cause(err, t->dep_error);
      t->dep_error = NULL;
    }
    mt_task_cancel_locked(t, err, g);
    return;
  }
  if (mt_rt.shutting_down) {
    mt_task_cancel_locked(
        t, mt_task_error(t, MANTA_ERR_SHUTDOWN, "the runtime shut down"), g);
    return;
  }
  if (t->pg && !mt_bundles_live_locked(t->pg)) {
    mt_task_cancel_locked(t,
                          mt_task_error(t, MANTA_ERR_CANCELLED,
                                        "placement group %016llx was removed "
                                        "before it ran",
                                        (unsigned long long)t->pg),
                          g);
    return;
  }
  /* Top-level refs are replaced by the values they name; a task going to
   * another node keeps refs to large objects and to objects of other nodes,
   * which move straight to where it runs. */
  for (size_t i = 0; i < t->nargs; i++) {
    if (manta_value_kind(t->args[i]) == MANTA_KIND_REF) {
      mt_object *o = mt_obj_lookup_locked(mt_value_ref_id(t->args[i]));
      if (t->remote && (o->proxy || o->bytes > MT_INLINE_MAX)) {
        continue;
      }
      mt_garbage_add(g, t->args[i]);
      t->args[i] = mt_obj_value_locked(o, g); /* read back if spilled */
    }
  }
  if (t->remote) {
    mt_task_wrap_large_args_locked(t, g);
    t->where = MT_WHERE_REMOTE;
    if (t->kind == MT_TASK_FUNCTION) {
      mt_rt.cluster->dispatch_locked(t, g);
    } else {
      mt_rt.cluster->actor_dispatch_locked(t, g);
    }
    return;
  }
  mt_rt.tasks_queued++;
  if (t->kind == MT_TASK_ACTOR_CALL) {
    t->where = MT_WHERE_MAILBOX;
    mt_actor_maybe_schedule_locked(t->actor);
  } else {
    t->where = MT_WHERE_CLASS;
    mt_class_push_locked(t->cls, t);
    mt_sched_kick_locked();
  }
}

void mt_task_start_deps_locked(mt_task *t, mt_garbage *g) {
  size_t k = 0;
  t->where = MT_WHERE_DEPS;
  t->deps_pending = 0;
  for (size_t i = 0; i < t->nargs; i++) {
    if (manta_value_kind(t->args[i]) != MANTA_KIND_REF) {
      continue;
    }
    mt_listener *l = &t->deps[k++];
    l->kind = MT_L_TASK;
    l->owner = t;
    l->arg_index = (uint32_t)i;
    mt_object *o = mt_obj_lookup_locked(mt_value_ref_id(t->args[i]));
    if (!o) {
      /* A ref value holds a count, so this is a ref from a past runtime. */
      if (!t->dep_error) {
        t->dep_error = mt_error_new(MANTA_ERR_BAD_HANDLE, "submit",
                                    "argument %zu is a stale ref", i);
        t->dep_error_arg = i;
      }
    } else if (o->state == MT_OBJ_PENDING && t->remote && o->proxy) {
      /* It lives on another node: the node running the task fetches it
       * from there, not through this one. */
    } else if (o->state == MT_OBJ_PENDING) {
      mt_listener_add_locked(l, o);
      t->deps_pending++;
    } else if (o->is_error && !t->dep_error) {
      t->dep_error = manta_value_ref(o->value);
      t->dep_error_arg = i;
    }
  }
  if (t->deps_pending == 0) {
    mt_task_ready_locked(t, g);
  }
}

manta_err mt_task_attach_result_locked(mt_task *t, manta_ref *out) {
  mt_object *o;
  uint64_t id = mt_obj_new_locked(&o);
  if (!id) {
    return MANTA_ERR_NOMEM;
  }
  mt_obj_retain_locked(o); /* the task's own count */
  o->task = t;
  t->result = o;
  out->id = id;
  return MANTA_OK;
}

/* Resolves the function and checks what can be checked before queuing; an
 * error value (taken by the caller) when the call cannot run. */
static manta_value *check_function_locked(mt_task *t, const char *name,
                                          const mt_demand *demand,
                                          const char *missing) {
  if (!t->fn) {
    return mt_error_new(MANTA_ERR_NOT_FOUND, "submit",
                        "no function named '%s' is registered", name);
  }
  if (t->fn->nargs >= 0 && (size_t)t->fn->nargs != t->nargs) {
    return mt_task_error(t, MANTA_ERR_ARITY, "takes %d arguments, got %zu",
                         t->fn->nargs, t->nargs);
  }
  if (missing[0]) {
    char why[200];
    manta_err code = mt_missing_why(missing, why, sizeof why);
    return mt_task_error(t, code, "%s", why);
  }
  if (!mt_demand_fits_total(demand)) {
    return mt_task_error(t, MANTA_ERR_INFEASIBLE,
                         "asks for more resources than this node has "
                         "(CPU %g of %g)",
                         demand->q[0], mt_rt.res_total[0]);
  }
  return NULL;
}

bool mt_args_valid(const manta_value *const *args, size_t nargs) {
  if (nargs > 0 && !args) {
    return false;
  }
  for (size_t i = 0; i < nargs; i++) {
    if (!args[i]) {
      return false;
    }
  }
  return true;
}

manta_err mt_call_prepare(const manta_value *const *args, size_t nargs,
                          const manta_call_options *opts, double default_cpus,
                          mt_demand *demand, char *missing, size_t size) {
  if (!mt_args_valid(args, nargs)) {
    return MANTA_ERR_INVALID;
  }
  double cpus = opts && opts->num_cpus >= 0 ? opts->num_cpus : default_cpus;
  if (opts && opts->resources.n > 0) {
    /* Named resources are resolved under rt.mu (mt_call_resolve_locked):
     * placement group bundles add and retire names meanwhile. */
    memset(demand, 0, sizeof *demand);
    return cpus >= 0 ? MANTA_OK : MANTA_ERR_INVALID;
  }
  return mt_demand_resolve(NULL, cpus, demand, missing, size);
}

void mt_call_resolve_locked(const manta_call_options *opts, double default_cpus,
                            mt_demand *demand, char *missing, size_t size) {
  if (opts && opts->resources.n > 0) {
    mt_demand_resolve(&opts->resources,
                      opts->num_cpus >= 0 ? opts->num_cpus : default_cpus,
                      demand, missing, size);
  }
}

void mt_demand_request(const manta_call_options *opts, double cpus,
                       mt_resource_request *out) {
  out->n = 0;
  if (opts) {
    *out = opts->resources;
  }
  if (out->n < MT_MAX_REQUEST) {
    strcpy(out->names[out->n], "CPU");
    out->qty[out->n++] = cpus;
  }
}

bool mt_task_make_remote(mt_task *t, const char *name,
                         const manta_call_options *opts, double cpus) {
  t->remote = calloc(1, sizeof *t->remote);
  if (!t->remote || !(t->remote->function = strdup(name))) {
    free(t->remote);
    t->remote = NULL;
    return false;
  }
  mt_demand_request(opts, cpus, &t->remote->demand);
  return true;
}

/* Where the call goes, as its placement says: stays here (NULL, or fail as
 * it was: why it cannot run here), made a task of another node (NULL), or
 * fails (the error returned). fail, this node's own reason, is taken. */
static manta_value *place_locked(mt_task *t, const char *name,
                                 const manta_call_options *opts, double cpus,
                                 manta_value *fail, mt_garbage *g) {
  mt_placement via;
  manta_value *nowhere = NULL;
  mt_place_step step = mt_placement_step_locked(opts ? &opts->placement : NULL,
                                                fail, &via, &nowhere);
  if (step == MT_PLACE_FAIL) {
    mt_garbage_add(g, fail);
    return nowhere ? nowhere
                   : mt_task_error(t, MANTA_ERR_NOMEM, "out of memory");
  }
  if (step == MT_PLACE_HERE || !mt_rt.cluster) {
    return fail;
  }
  mt_resource_request req;
  uint64_t target = 0;
  mt_demand_request(opts, cpus, &req);
  if (mt_rt.cluster->route_locked(name, fail == NULL, &req, &via, &target,
                                  &nowhere)) {
    mt_garbage_add(g, fail);
    if (!mt_task_make_remote(t, name, opts, cpus)) {
      return mt_task_error(t, MANTA_ERR_NOMEM, "out of memory");
    }
    t->remote->placement = via;
    t->remote->target = target;
    return NULL;
  }
  if (nowhere) {
    mt_garbage_add(g, fail);
    return nowhere;
  }
  return fail;
}

/* The rest of a submission, under rt.mu, once its result is attached:
 * which function, where it runs, then into its class (or away) when its
 * dependencies are ready. opts are the effective ones (a group's already
 * renamed); pg_fail, taken, is why its group cannot take it. */
static void submit_placed_locked(mt_task *t, const char *name,
                                 const manta_call_options *opts, bool route,
                                 mt_demand *demand, char *missing,
                                 size_t missing_size, manta_value *pg_fail,
                                 mt_garbage *g) {
  double cpus = opts && opts->num_cpus >= 0 ? opts->num_cpus : 1.0;
  t->fn = mt_strmap_get(&mt_rt.functions, name);
  mt_call_resolve_locked(opts, 1.0, demand, missing, missing_size);
  if (t->fn) {
    t->fn->stats.submitted++;
  } else {
    mt_rt.submitted_other++; /* a label per unknown name would be unbounded */
  }
  manta_value *fail = check_function_locked(t, name, demand, missing);
  if (pg_fail) {
    mt_garbage_add(g, fail);
    fail = pg_fail;
  } else if (route) {
    fail = place_locked(t, name, opts, cpus, fail, g);
  }
  if (!fail && !t->remote) {
    t->pg = mt_bundles_of_locked(demand, &fail);
  }
  t->pg_capture = opts && opts->pg_capture; /* its children join its group */
  if (fail) {
    t->where = MT_WHERE_DEPS;
    mt_task_cancel_locked(t, fail, g);
  } else {
    t->cls = t->remote ? NULL : mt_class_for_locked(demand);
    if (!t->remote && !t->cls) {
      t->where = MT_WHERE_DEPS;
      mt_task_cancel_locked(
          t, mt_task_error(t, MANTA_ERR_NOMEM, "out of memory"), g);
    } else {
      mt_task_start_deps_locked(t, g);
    }
  }
}

void mt_submit_resume_locked(mt_task *t, const mt_pg_call *c, mt_garbage *g) {
  manta_call_options eff;
  manta_value *pg_fail = mt_pg_call_options_locked(&c->opts, false, &eff);
  mt_demand demand;
  char missing[64] = "";
  if (mt_call_prepare((const manta_value *const *)t->args, t->nargs, &eff, 1.0,
                      &demand, missing, sizeof missing) != MANTA_OK) {
    memset(&demand, 0, sizeof demand); /* checked at submit: cannot be */
  }
  t->where = MT_WHERE_DEPS;
  submit_placed_locked(t, c->name, &eff, c->route, &demand, missing,
                       sizeof missing, pg_fail, g);
}

manta_err mt_submit(const char *name, const manta_value *const *args,
                    size_t nargs, const manta_call_options *opts, bool route,
                    manta_ref *out) {
  if (!name || !out) {
    return MANTA_ERR_INVALID;
  }
  manta_call_options eff, captured;
  manta_value *pg_fail = NULL;
  if (route && mt_pg_capture(opts, &captured)) {
    /* Into its parent's group (manta_placement_group_set_capture_child_
     * tasks); a call another node sent (!route) was decided there. */
    opts = &captured;
  }
  const manta_call_options *given = opts;
  bool wait_group = opts && opts->pg && mt_pg_pending(opts);
  if (opts && opts->pg && !wait_group) {
    /* In a placement group: its bundle's resources, on its node. */
    pg_fail = mt_pg_call_options(opts, false, &eff);
    opts = &eff;
  }
  mt_demand demand;
  char missing[64] = "";
  manta_err err =
      mt_call_prepare(args, nargs, opts, 1.0, &demand, missing, sizeof missing);
  mt_task *t =
      err == MANTA_OK ? mt_task_alloc(MT_TASK_FUNCTION, args, nargs) : NULL;
  if (!t) {
    manta_value_free(pg_fail);
    return err == MANTA_OK ? MANTA_ERR_NOMEM : err;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (!mt_rt.initialized || mt_rt.shutting_down) {
    err = mt_rt.initialized ? MANTA_ERR_SHUTDOWN : MANTA_ERR_NOT_INITIALIZED;
  } else {
    err = mt_task_attach_result_locked(t, out);
  }
  if (err != MANTA_OK) {
    mt_unlock();
    mt_task_discard(t);
    manta_value_free(pg_fail);
    return err;
  }
  mt_retry_init_locked(t, given);
  mt_cancel_note_child_locked(t); /* for a recursive cancel of its caller */
  if (wait_group) {
    mt_pg_queue_locked(t, name, given, route, &g);
  } else {
    submit_placed_locked(t, name, opts, route, &demand, missing, sizeof missing,
                         pg_fail, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return MANTA_OK;
}

manta_err manta_submit(const char *name, const manta_value *const *args,
                       size_t nargs, const manta_call_options *opts,
                       manta_ref *out) {
  if (opts && opts->num_returns > 1) {
    return MANTA_ERR_INVALID; /* N refs: manta_submit_returns */
  }
  return mt_submit(name, args, nargs, opts, true, out);
}
