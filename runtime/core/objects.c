/*
 * The object table: slots holding objects (pending or ready), counted refs
 * to them, and the listeners waiting for them.
 *
 * A ref handle is the slot's id: epoch | generation | index + 1. The
 * generation changes when a slot is freed and the epoch when the runtime is
 * started again, so a stale or forged id is found out by a table lookup.
 */
#include "cluster_seam.h"
#include "rt.h"
#include "task_context.h"

#include <stdlib.h>
#include <string.h>

/* ---- slots -------------------------------------------------------------- */

mt_object *mt_obj_lookup_locked(uint64_t id) {
  return mt_slots_find(&mt_rt.objects, id);
}

uint64_t mt_obj_new_locked(mt_object **out) {
  mt_object *o = mt_slots_alloc(&mt_rt.objects);
  if (!o) {
    return 0;
  }
  o->refs = 1;
  o->state = MT_OBJ_PENDING;
  mt_rt.live_objects++;
  *out = o;
  return mt_slots_id(&mt_rt.objects, o);
}

void mt_obj_retain_locked(mt_object *o) {
  o->refs++;
}

void mt_obj_release_locked(mt_object *o, mt_garbage *g) {
  if (--o->refs > 0) {
    return;
  }
  if ((o->proxy || o->lent) && mt_rt.cluster) {
    mt_rt.cluster->object_freed_locked(o, g); /* clears both */
  }
  /* Nothing can be listening: waiters and dependent tasks hold counts. */
  mt_store_forget_locked(o);
  mt_garbage_add(g, o->value);
  mt_rt.live_objects--;
  o->value = NULL;
  o->bytes = 0;
  o->state = MT_OBJ_FREE;
  mt_slots_free(&mt_rt.objects, o);
}

void mt_listener_add_locked(mt_listener *l, mt_object *o) {
  l->obj = o;
  l->prev = NULL;
  l->next = o->listeners;
  if (o->listeners) {
    o->listeners->prev = l;
  }
  o->listeners = l;
  /* Someone waits for it now: an object of another node starts moving
   * here (never completed before this returns). */
  mt_obj_want_locked(o);
}

void mt_listener_remove_locked(mt_listener *l) {
  if (!l->obj) {
    return;
  }
  if (l->prev) {
    l->prev->next = l->next;
  } else {
    l->obj->listeners = l->next;
  }
  if (l->next) {
    l->next->prev = l->prev;
  }
  l->obj = NULL;
  l->next = l->prev = NULL;
}

void mt_obj_when_ready_locked(mt_object *o, mt_listener *l, mt_ready_fn fn,
                              void *ctx, mt_garbage *g) {
  l->kind = MT_L_CALLBACK;
  l->fn = fn;
  l->owner = ctx;
  l->obj = NULL;
  if (o->state == MT_OBJ_READY) {
    fn(ctx, o, g);
  } else {
    mt_listener_add_locked(l, o);
  }
}

void mt_obj_want_locked(mt_object *o) {
  if (o->proxy && !o->proxy->fetch && o->state == MT_OBJ_PENDING &&
      mt_rt.cluster) {
    mt_rt.cluster->fetch_locked(o);
  }
}

void mt_obj_ready_afar_locked(mt_object *o, mt_garbage *g) {
  mt_listener *l = o->listeners;
  while (l) {
    mt_listener *next = l->next;
    mt_task *t = l->kind == MT_L_TASK ? l->owner : NULL;
    if (t && t->remote) {
      /* Passed on as a ref (mt_task_ready_locked keeps a proxy's ref). */
      mt_listener_remove_locked(l);
      if (--t->deps_pending == 0) {
        mt_task_ready_locked(t, g);
      }
    }
    l = next;
  }
}

void mt_obj_complete_locked(mt_object *o, manta_value *v, mt_garbage *g) {
  mt_value_freeze(v);
  o->value = v;
  o->state = MT_OBJ_READY;
  o->is_error = manta_value_kind(v) == MANTA_KIND_ERROR;
  o->bytes = mt_value_payload_bytes(v);
  o->task = NULL;
  o->spillable = mt_store_spillable(v, o->bytes);
  o->used = ++mt_rt.store.clock;
  mt_rt.live_bytes += (int64_t)o->bytes;
  mt_listener *l = o->listeners;
  while (l) {
    mt_listener *next = l->next;
    if (l->kind == MT_L_WAITER) {
      mt_waiter *w = l->owner;
      /* Atomic because a spinning waiter reads it without the lock. */
      if (__atomic_add_fetch(&w->ready, 1, __ATOMIC_RELEASE) == w->needed) {
        pthread_cond_signal(&w->cv);
      }
    } else if (l->kind == MT_L_CALLBACK) {
      mt_listener_remove_locked(l);
      l->fn(l->owner, o, g);
    } else {
      mt_task *t = l->owner;
      mt_listener_remove_locked(l);
      if (o->is_error && !t->dep_error) {
        t->dep_error = manta_value_ref(v);
        t->dep_error_arg = l->arg_index;
      }
      if (--t->deps_pending == 0) {
        mt_task_ready_locked(t, g);
      }
    }
    l = next;
  }
}

_Thread_local mt_id_list *mt_ref_capture;
_Atomic int64_t mt_proxies_live;

void mt_wire_id_join(uint64_t node, uint64_t local, uint8_t wire[16]) {
  for (int i = 0; i < 8; i++) {
    wire[i] = (uint8_t)(node >> (56 - 8 * i));
    wire[8 + i] = (uint8_t)(local >> (56 - 8 * i));
  }
}

void mt_wire_id_split(const uint8_t wire[16], uint64_t *node, uint64_t *local) {
  *node = *local = 0;
  for (int i = 0; i < 8; i++) {
    *node = (*node << 8) | wire[i];
    *local = (*local << 8) | wire[8 + i];
  }
}

static void capture_id(mt_id_list *c, uint64_t id) {
  if (c->len == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 16;
    uint64_t *ids = realloc(c->ids, cap * sizeof *ids);
    if (!ids) {
      c->oom = true;
      return;
    }
    c->ids = ids;
    c->cap = cap;
  }
  c->ids[c->len++] = id;
}

/* Reached from the value codec both with and without rt.mu held. */
void mt_obj_to_wire(uint64_t id, uint8_t wire[16]) {
  uint64_t node = mt_rt.node_id, local = id;
  if (atomic_load_explicit(&mt_proxies_live, memory_order_acquire) > 0) {
    bool held = mt_lock_held();
    if (!held) {
      mt_lock();
    }
    mt_object *o = mt_obj_lookup_locked(id);
    if (o && o->proxy) {
      /* A ref is named by where its object lives. */
      node = o->proxy->owner_node;
      local = o->proxy->owner_id;
    }
    if (!held) {
      mt_unlock();
    }
  }
  if (mt_ref_capture) {
    capture_id(mt_ref_capture, id);
  }
  mt_wire_id_join(node, local, wire);
}

void mt_objects_destroy(mt_garbage *g) {
  for (size_t i = 0; i < mt_rt.objects.used; i++) {
    mt_object *o = mt_slots_at(&mt_rt.objects, i);
    if (o->state != MT_OBJ_FREE) {
      mt_store_forget_locked(o); /* removes its spill file */
    }
    mt_garbage_add(g, o->value); /* NULL for free slots */
    o->value = NULL;
  }
  mt_slots_destroy(&mt_rt.objects);
  mt_store_destroy_locked();
  mt_rt.live_objects = mt_rt.live_bytes = 0;
}

/* ---- refs: the public API ----------------------------------------------- */

manta_err manta_ref_clone(manta_ref ref, manta_ref *out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  mt_lock();
  if (!mt_rt.initialized) {
    mt_unlock();
    return MANTA_ERR_NOT_INITIALIZED;
  }
  mt_object *o = mt_obj_lookup_locked(ref.id);
  if (o) {
    mt_obj_retain_locked(o);
  }
  mt_unlock();
  if (!o) {
    return MANTA_ERR_BAD_HANDLE;
  }
  *out = ref;
  return MANTA_OK;
}

manta_err manta_ref_release(manta_ref ref) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (!mt_rt.initialized) {
    mt_unlock();
    return MANTA_ERR_NOT_INITIALIZED;
  }
  mt_object *o = mt_obj_lookup_locked(ref.id);
  if (o) {
    mt_obj_release_locked(o, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return o ? MANTA_OK : MANTA_ERR_BAD_HANDLE;
}

manta_err manta_ref_string(manta_ref ref, char *buf, size_t size) {
  static const char hex[] = "0123456789abcdef";
  uint8_t wire[16];
  if (!buf || size < 37) {
    return MANTA_ERR_INVALID;
  }
  mt_lock();
  bool ok = mt_rt.initialized && mt_obj_lookup_locked(ref.id);
  if (ok) {
    mt_obj_to_wire(ref.id, wire);
  }
  mt_unlock();
  if (!ok) {
    return MANTA_ERR_BAD_HANDLE;
  }
  memcpy(buf, "obj-", 4);
  for (int i = 0; i < 16; i++) {
    buf[4 + 2 * i] = hex[wire[i] >> 4];
    buf[5 + 2 * i] = hex[wire[i] & 15];
  }
  buf[36] = '\0';
  return MANTA_OK;
}

manta_err manta_put(const manta_value *v, manta_ref *out) {
  if (!v || !out) {
    return MANTA_ERR_INVALID;
  }
  manta_value *mv = (manta_value *)v; /* frozen: shared read-only from now */
  mt_value_freeze(mv);
  manta_value *full = NULL;
  manta_err room = mt_store_admit(mt_value_payload_bytes(mv), &full);
  if (room != MANTA_OK) {
    /* put returns a code only: the reason goes to the log. */
    mt_log(MT_LOG_WARN, "put: %s", full ? manta_error_message(full) : "");
    manta_value_free(full);
    return room;
  }
  manta_value_ref(mv);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (!mt_rt.initialized) {
    mt_unlock();
    manta_value_free(mv);
    return MANTA_ERR_NOT_INITIALIZED;
  }
  mt_object *o;
  uint64_t id = mt_obj_new_locked(&o);
  if (id) {
    mt_obj_complete_locked(o, mv, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (!id) {
    manta_value_free(mv);
    return MANTA_ERR_NOMEM;
  }
  out->id = id;
  return MANTA_OK;
}

/* Whether a pending object is answered by another node: a proxy, or the
 * result of a task sent away. */
static bool answered_from_afar_locked(const mt_object *o) {
  return o->proxy || (o->task && o->task->where == MT_WHERE_REMOTE);
}

/* ---- get and wait ------------------------------------------------------- */

/*
 * Waits, with rt.mu held, until `needed` of the objects in objs that are
 * pending now become ready (SIZE_MAX: all of them) or the deadline passes. A
 * worker thread lends its slot meanwhile. Called from inside a task, the
 * wait also ends once that task is cancelled (cancel.c broadcasts the
 * task's wait_cv); returns whether it was.
 */
static bool wait_pending_locked(mt_object **objs, size_t n, size_t needed,
                                int64_t timeout_ms) {
  mt_task *self = mt_task_current();
  if (mt_cancel_requested(self)) {
    return true;
  }
  size_t npending = 0;
  for (size_t i = 0; i < n; i++) {
    npending += objs[i] && objs[i]->state == MT_OBJ_PENDING;
  }
  if (needed > npending) {
    needed = npending; /* "all of them" */
  }
  if (timeout_ms == 0) {
    /* A poll still starts what it asks about moving here. */
    for (size_t i = 0; i < n; i++) {
      if (objs[i]) {
        mt_obj_want_locked(objs[i]);
      }
    }
  }
  if (needed == 0 || timeout_ms == 0) {
    return false;
  }
  mt_listener stack_listeners[8];
  mt_listener *ls =
      npending <= 8 ? stack_listeners : calloc(npending, sizeof *ls);
  if (!ls) {
    return false; /* the caller reports the objects still pending */
  }
  mt_waiter w;
  mt_cond_init(&w.cv);
  w.needed = needed;
  w.ready = 0;
  size_t k = 0;
  bool from_afar = false;
  for (size_t i = 0; i < n; i++) {
    if (objs[i] && objs[i]->state == MT_OBJ_PENDING) {
      from_afar |= answered_from_afar_locked(objs[i]);
      ls[k].kind = MT_L_WAITER;
      ls[k].owner = &w;
      mt_listener_add_locked(&ls[k], objs[i]);
      k++;
    }
  }
  struct timespec deadline;
  mt_deadline(timeout_ms, &deadline);
  bool lent = mt_self && !mt_self->blocked;
  if (lent) {
    mt_worker_block_locked();
  }
  /* A task's wait is what its cancel wakes (no extra part: out of memory,
   * then it waits its time out). */
  mt_task_extra *x = self ? mt_task_extra_get_locked(self) : NULL;
  pthread_cond_t *outer_cv = x ? x->wait_cv : NULL;
  if (x) {
    x->wait_cv = &w.cv;
  }
  mt_rt.in_wait++;
  if (npending == 1 && !from_afar) {
    /* One answer expected soon (a sync call): spin for it. Bulk waits
     * sleep at once and leave the CPU to the workers; an answer from
     * another node takes longer than the spin (a network round trip), and
     * the spin would only take the CPU from the threads that receive it. */
    mt_spin_until_locked(&w.ready, w.needed, timeout_ms);
  }
  bool cancelled = false;
  while (__atomic_load_n(&w.ready, __ATOMIC_ACQUIRE) < w.needed &&
         !(cancelled = mt_cancel_requested(self))) {
    if (mt_cond_wait(&w.cv, timeout_ms < 0 ? NULL : &deadline) != 0) {
      break;
    }
  }
  if (x) {
    x->wait_cv = outer_cv;
  }
  if (--mt_rt.in_wait == 0 && mt_rt.shutting_down) {
    pthread_cond_broadcast(&mt_rt.exit_cv);
  }
  for (size_t i = 0; i < k; i++) {
    mt_listener_remove_locked(&ls[i]);
  }
  if (lent) {
    mt_worker_unblock_locked();
  }
  pthread_cond_destroy(&w.cv);
  if (ls != stack_listeners) {
    free(ls);
  }
  return cancelled;
}

/* Looks up and retains each ref; bad ones become NULL. */
static void retain_all_locked(const manta_ref *refs, size_t n,
                              mt_object **objs) {
  for (size_t i = 0; i < n; i++) {
    objs[i] = mt_obj_lookup_locked(refs[i].id);
    if (objs[i]) {
      mt_obj_retain_locked(objs[i]);
    }
  }
}

static void release_all_locked(mt_object **objs, size_t n, mt_garbage *g) {
  for (size_t i = 0; i < n; i++) {
    if (objs[i]) {
      mt_obj_release_locked(objs[i], g);
    }
  }
}

static manta_value *get_error(manta_err code, manta_ref ref,
                              int64_t timeout_ms) {
  switch (code) {
  case MANTA_ERR_TIMEOUT:
    return mt_error_new(code, "get", "object %016llx not ready after %lld ms",
                        (unsigned long long)ref.id, (long long)timeout_ms);
  case MANTA_ERR_CANCELLED:
    return mt_error_new(code, "get",
                        "the calling task was cancelled while object %016llx "
                        "was not ready",
                        (unsigned long long)ref.id);
  case MANTA_ERR_BAD_HANDLE:
    return mt_error_new(code, "get",
                        "ref %016llx is stale or unknown (released, or from "
                        "before a restart)",
                        (unsigned long long)ref.id);
  default:
    return mt_error_new(code, "get", "%s", manta_strerror(code));
  }
}

/* Reads back the spilled objects among objs (ready, counted, out[i] still
 * NULL) with rt.mu released during the reads: a file of many megabytes
 * takes milliseconds, which other threads would otherwise wait out.
 * Counted in in_wait, so shutdown waits for it; called and returns with
 * rt.mu held. */
static void read_back_unlocked(mt_object **objs, size_t n, manta_value **out,
                               mt_garbage *g) {
  for (size_t i = 0; i < n; i++) {
    mt_spill_read r;
    mt_object *o = objs[i];
    if (!o || o->state != MT_OBJ_READY || out[i]) {
      continue;
    }
    if (!mt_spill_read_prepare_locked(o, &r)) {
      out[i] = mt_obj_value_locked(o, g); /* read back meanwhile */
      continue;
    }
    mt_rt.in_wait++;
    mt_unlock();
    manta_value *v = mt_spill_read_file(&r);
    mt_lock();
    if (--mt_rt.in_wait == 0 && mt_rt.shutting_down) {
      pthread_cond_broadcast(&mt_rt.exit_cv);
    }
    out[i] = mt_spill_read_install_locked(o, &r, v, g);
  }
}

manta_err manta_get_many(const manta_ref *refs, size_t n, int64_t timeout_ms,
                         manta_value **out) {
  if ((!refs || !out) && n > 0) {
    return MANTA_ERR_INVALID;
  }
  mt_object *stack_objs[16];
  mt_object **objs = n <= 16 ? stack_objs : malloc(n * sizeof *objs);
  if (!objs) {
    return MANTA_ERR_NOMEM;
  }
  manta_err first = MANTA_OK;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (!mt_rt.initialized) {
    mt_unlock();
    for (size_t i = 0; i < n; i++) {
      out[i] = get_error(MANTA_ERR_NOT_INITIALIZED, refs[i], timeout_ms);
    }
    if (objs != stack_objs) {
      free(objs);
    }
    return MANTA_ERR_NOT_INITIALIZED;
  }
  retain_all_locked(refs, n, objs);
  bool cancelled = wait_pending_locked(objs, n, SIZE_MAX, timeout_ms);
  size_t spilled = 0;
  for (size_t i = 0; i < n; i++) {
    mt_object *o = objs[i];
    out[i] = NULL;
    if (o && o->state == MT_OBJ_READY) {
      if (o->value || !o->spill) {
        out[i] = mt_obj_value_locked(o, &g);
      } else {
        spilled++;
      }
    }
  }
  if (spilled) {
    read_back_unlocked(objs, n, out, &g);
  }
  for (size_t i = 0; i < n; i++) {
    if (out[i] && manta_value_kind(out[i]) == MANTA_KIND_ERROR &&
        first == MANTA_OK) {
      first = manta_error_code(out[i]);
    }
  }
  release_all_locked(objs, n, &g);
  mt_unlock();
  mt_garbage_free(&g);
  for (size_t i = 0; i < n; i++) {
    if (!out[i]) {
      manta_err code = !objs[i]    ? MANTA_ERR_BAD_HANDLE
                       : cancelled ? MANTA_ERR_CANCELLED
                                   : MANTA_ERR_TIMEOUT;
      out[i] = get_error(code, refs[i], timeout_ms);
      if (first == MANTA_OK) {
        first = code;
      }
    }
  }
  if (objs != stack_objs) {
    free(objs);
  }
  return first;
}

manta_err manta_get(manta_ref ref, int64_t timeout_ms, manta_value **out) {
  manta_value *v = NULL;
  manta_err err = manta_get_many(&ref, 1, timeout_ms, &v);
  if (out) {
    *out = v;
  } else {
    manta_value_free(v);
  }
  return err;
}

manta_err manta_wait(const manta_ref *refs, size_t n, size_t num_returns,
                     int64_t timeout_ms, manta_ref *ready, size_t *num_ready,
                     manta_ref *not_ready, size_t *num_not_ready) {
  if ((n > 0 && !refs) || num_returns > n || !num_ready || !num_not_ready ||
      (n > 0 && (!ready || !not_ready))) {
    return MANTA_ERR_INVALID;
  }
  mt_object *stack_objs[16];
  mt_object **objs = n <= 16 ? stack_objs : malloc(n * sizeof *objs);
  if (!objs) {
    return MANTA_ERR_NOMEM;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  manta_err err = MANTA_OK;
  mt_lock();
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
    goto out;
  }
  retain_all_locked(refs, n, objs);
  size_t now_ready = 0;
  for (size_t i = 0; i < n; i++) {
    if (!objs[i]) {
      err = MANTA_ERR_BAD_HANDLE;
    } else {
      now_ready += objs[i]->state == MT_OBJ_READY;
    }
  }
  bool cancelled = false;
  if (err == MANTA_OK && now_ready < num_returns) {
    cancelled =
        wait_pending_locked(objs, n, num_returns - now_ready, timeout_ms);
  }
  *num_ready = *num_not_ready = 0;
  for (size_t i = 0; err == MANTA_OK && i < n; i++) {
    if (objs[i]->state == MT_OBJ_READY) {
      ready[(*num_ready)++] = refs[i];
    } else {
      not_ready[(*num_not_ready)++] = refs[i];
    }
  }
  if (err == MANTA_OK && cancelled && *num_ready < num_returns) {
    err = MANTA_ERR_CANCELLED; /* the lists say what was ready meanwhile */
  }
  release_all_locked(objs, n, &g);
out:
  mt_unlock();
  mt_garbage_free(&g);
  if (objs != stack_objs) {
    free(objs);
  }
  return err;
}

/* ---- what refs inside values mean --------------------------------------- */

static void hook_ref_retain(uint64_t id) {
  mt_lock();
  mt_object *o = mt_rt.initialized ? mt_obj_lookup_locked(id) : NULL;
  if (o) {
    mt_obj_retain_locked(o);
  }
  mt_unlock();
}

static void hook_ref_release(uint64_t id) {
  (void)manta_ref_release((manta_ref){id});
}

static manta_err hook_ref_from_wire(const uint8_t wire[16], uint64_t *id) {
  uint64_t node, local;
  mt_wire_id_split(wire, &node, &local);
  manta_err err = MANTA_OK;
  mt_lock();
  mt_object *o = NULL;
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if (node != mt_rt.node_id && mt_rt.cluster) {
    err = mt_rt.cluster->proxy_from_wire_locked(node, local, id);
  } else if (node != mt_rt.node_id || !(o = mt_obj_lookup_locked(local)) ||
             o->proxy) {
    /* An object of another node, or one freed since it was encoded. */
    err = MANTA_ERR_OBJECT_LOST;
  } else {
    mt_obj_retain_locked(o);
    *id = local;
  }
  mt_unlock();
  return err;
}

static void hook_actor_retain(uint64_t id) {
  mt_lock();
  mt_actor *a = mt_rt.initialized ? mt_actor_lookup_locked(id) : NULL;
  if (a) {
    mt_actor_retain_locked(a);
  }
  mt_unlock();
}

static void hook_actor_release(uint64_t id) {
  (void)manta_actor_release((manta_actor){id});
}

static manta_err hook_actor_from_wire(const uint8_t wire[16], uint64_t *id) {
  uint64_t node, local;
  mt_wire_id_split(wire, &node, &local);
  manta_err err = MANTA_OK;
  mt_lock();
  mt_actor *a = NULL;
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if (node != mt_rt.node_id) {
    /* An actor of another node: its proxy here. */
    a = mt_rt.cluster ? mt_rt.cluster->proxy_get_locked(node, local) : NULL;
    if (a) {
      *id = mt_actor_id(a);
    } else {
      err = MANTA_ERR_ACTOR_DEAD;
    }
  } else if (!(a = mt_actor_lookup_locked(local))) {
    err = MANTA_ERR_ACTOR_DEAD;
  } else {
    mt_actor_retain_locked(a);
    *id = local;
  }
  mt_unlock();
  return err;
}

const mt_value_hooks mt_runtime_value_hooks = {
    .ref_retain = hook_ref_retain,
    .ref_release = hook_ref_release,
    .actor_retain = hook_actor_retain,
    .actor_release = hook_actor_release,
    .ref_to_wire = mt_obj_to_wire,
    .actor_to_wire = mt_actor_to_wire,
    .ref_from_wire = hook_ref_from_wire,
    .actor_from_wire = hook_actor_from_wire,
};
