/*
 * Cancelling calls, started or not (manta_cancel_with). A call not started
 * is taken back and resolves to CANCELLED at once (mt_task_cancel_locked).
 * A running one cannot be stopped from outside without corrupting what it
 * holds, so it is asked: its cancel flag is set, which the function polls
 * (manta_cancelled) or hears of (manta_on_cancel; the Java binding
 * interrupts its thread), and whatever it returns, its ref resolves to
 * CANCELLED. A call sent to another node is cancelled there through the
 * cluster. Recursive cancels reach the calls a task submitted while it
 * ran, which it notes here as its children.
 */
#include "cluster_seam.h"
#include "task_context.h"

#include <stdatomic.h>
#include <stdlib.h>

/* ---- the part of a task few need (task_context.h) ----------------------- */

mt_task_extra *mt_task_extra_get_locked(mt_task *t) {
  if (!t->extra) {
    t->extra = calloc(1, sizeof *t->extra);
  }
  return t->extra;
}

void mt_task_extra_free(mt_task *t) {
  if (t->extra) {
    free(t->extra->kids);
    free(t->extra);
    t->extra = NULL;
  }
}

/* ---- children, outcome, handlers ------------------------------------------
 */

void mt_cancel_note_child_locked(mt_task *t) {
  mt_task *parent = mt_task_current();
  if (!parent || !t->result || parent == t) {
    return;
  }
  mt_task_extra *x = mt_task_extra_get_locked(parent);
  if (x && x->nkids == x->kids_cap) {
    size_t cap = x->kids_cap ? 2 * x->kids_cap : 4;
    uint64_t *grown = realloc(x->kids, cap * sizeof *grown);
    if (grown) {
      x->kids = grown;
      x->kids_cap = cap;
    } else {
      x = NULL;
    }
  }
  if (!x) {
    return; /* out of memory: this child is not reached by a recursive cancel */
  }
  x->kids[x->nkids++] = mt_slots_id(&mt_rt.objects, t->result);
}

manta_value *mt_cancel_outcome_slow_locked(mt_task *t, manta_value *v,
                                           mt_garbage *g) {
  if (t->cancelled || !(atomic_load(&t->cancel_req) & MT_CANCEL_SET) ||
      (v && manta_value_kind(v) == MANTA_KIND_ERROR &&
       manta_error_code(v) == MANTA_ERR_CANCELLED)) {
    return v; /* another node's answer may say more ("before it ran") */
  }
  manta_value *c =
      mt_task_error(t, MANTA_ERR_CANCELLED, "cancelled while it ran");
  if (!c) {
    return v;
  }
  mt_garbage_add(g, v);
  return c;
}

/* A manta_on_cancel handler to call once rt.mu is released. */
typedef struct handler_job {
  mt_call_job job;
  manta_cancel_fn fn;
  void *arg;
} handler_job;

static void run_handler(mt_call_job *job) {
  handler_job *h = (handler_job *)job;
  h->fn(h->arg);
  free(h);
}

static void queue_handler_locked(mt_task *t, mt_garbage *g) {
  mt_task_extra *x = t->extra;
  if (!x || !x->on_cancel) {
    return;
  }
  handler_job *h = calloc(1, sizeof *h);
  if (!h) {
    mt_log(MT_LOG_WARN, "out of memory: a cancel handler is not called");
    return;
  }
  h->job.fn = run_handler;
  h->fn = x->on_cancel;
  h->arg = x->on_cancel_arg;
  x->on_cancel = NULL; /* once */
  mt_garbage_add_call(g, &h->job);
}

static manta_err cancel_task_locked(mt_task *t, unsigned flags, mt_garbage *g);

static void cancel_kids_locked(mt_task *t, unsigned flags, mt_garbage *g) {
  for (size_t i = 0; t->extra && i < t->extra->nkids; i++) {
    mt_object *o = mt_obj_lookup_locked(t->extra->kids[i]);
    if (o && o->task) {
      (void)cancel_task_locked(o->task, flags, g); /* done ones: nothing */
    }
  }
}

/* Asks a running call (here or on another node) to stop; true the first
 * time it is asked. */
static bool flag_locked(mt_task *t, unsigned flags) {
  uint8_t bits = MT_CANCEL_SET;
  if (flags & MANTA_CANCEL_RECURSIVE) {
    bits |= MT_CANCEL_RECURSIVE;
  }
  uint8_t old = atomic_fetch_or(&t->cancel_req, bits);
  return old != (old | bits);
}

static manta_err cancel_task_locked(mt_task *t, unsigned flags, mt_garbage *g) {
  if (t->cancelled || t->kind == MT_TASK_ACTOR_CREATE) {
    return MANTA_ERR_INVALID;
  }
  bool recursive = flags & MANTA_CANCEL_RECURSIVE;
  if (t->where == MT_WHERE_REMOTE) {
    if (!mt_rt.cluster || !mt_rt.cluster->cancel_remote_locked) {
      return MANTA_ERR_INVALID;
    }
    if (flag_locked(t, flags)) {
      mt_rt.cluster->cancel_remote_locked(t, recursive, g);
    }
    return MANTA_OK;
  }
  if (t->where == MT_WHERE_BATCH) {
    int expected = MT_CLAIM_FREE;
    if (!atomic_compare_exchange_strong(&t->claim, &expected,
                                        MT_CLAIM_CANCELLED)) {
      /* Running: asked to stop; its ref resolves as it returns. */
      if (flag_locked(t, flags)) {
        if (t->extra && t->extra->wait_cv) {
          /* Blocked in manta_get or manta_wait: it returns CANCELLED. */
          pthread_cond_broadcast(t->extra->wait_cv);
        }
        queue_handler_locked(t, g);
        if (recursive) {
          cancel_kids_locked(t, flags, g);
        }
      }
      return MANTA_OK;
    }
  }
  mt_task_cancel_locked(
      t, mt_task_error(t, MANTA_ERR_CANCELLED, "cancelled before it ran"), g);
  return MANTA_OK;
}

manta_err mt_cancel_object_locked(mt_object *o, unsigned flags, mt_garbage *g) {
  return o->task ? cancel_task_locked(o->task, flags, g) : MANTA_ERR_INVALID;
}

manta_err manta_cancel_with(manta_ref ref, unsigned flags) {
  if (flags & ~MANTA_CANCEL_RECURSIVE) {
    return MANTA_ERR_INVALID;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  manta_err err;
  mt_lock();
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else {
    mt_object *o = mt_obj_lookup_locked(ref.id);
    err = o ? mt_cancel_object_locked(o, flags, &g) : MANTA_ERR_BAD_HANDLE;
  }
  mt_unlock();
  mt_garbage_free(&g);
  return err;
}

manta_err manta_cancel(manta_ref ref) {
  return manta_cancel_with(ref, 0);
}

/* ---- an actor's creation ------------------------------------------------ */

/* Cancels a's first creation if its constructor has not started: the
 * creation task is taken back as a call not started would be, and the
 * actor dies (mt_task_cancel_locked -> mt_actor_not_created_locked). A
 * creation sent to another node is that node's to run: refused. */
static manta_err cancel_creation_locked(mt_actor *a, mt_garbage *g) {
  mt_task *t = a->creating;
  if (!t || t->cancelled || a->state != MT_ACTOR_PENDING ||
      t->where == MT_WHERE_REMOTE) {
    return MANTA_ERR_INVALID;
  }
  if (t->where == MT_WHERE_BATCH) {
    int expected = MT_CLAIM_FREE;
    if (!atomic_compare_exchange_strong(&t->claim, &expected,
                                        MT_CLAIM_CANCELLED)) {
      return MANTA_ERR_INVALID; /* its constructor runs */
    }
  }
  const char *cls = mt_actor_class_name(a);
  mt_task_cancel_locked(t,
                        mt_error_new(MANTA_ERR_CANCELLED, cls,
                                     "its creation was cancelled before its "
                                     "constructor ran (manta_actor_cancel)"),
                        g);
  return MANTA_OK;
}

manta_err manta_actor_cancel(manta_actor actor) {
  mt_garbage g;
  mt_garbage_init(&g);
  manta_err err;
  mt_lock();
  mt_actor *a = NULL;
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if (!(a = mt_actor_lookup_locked(actor.id))) {
    err = MANTA_ERR_BAD_HANDLE;
  } else {
    mt_actor_retain_locked(a);
    err = cancel_creation_locked(a, &g);
    mt_actor_release_locked(a, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return err;
}

manta_err manta_on_cancel(manta_cancel_fn fn, void *arg) {
  mt_task *t = mt_task_current();
  if (!t) {
    return MANTA_ERR_INVALID;
  }
  mt_lock();
  bool now = fn && (atomic_load(&t->cancel_req) & MT_CANCEL_SET);
  mt_task_extra *x =
      now || (!fn && !t->extra) ? t->extra : mt_task_extra_get_locked(t);
  if (x) {
    x->on_cancel = now ? NULL : fn;
    x->on_cancel_arg = now ? NULL : arg;
  }
  mt_unlock();
  if (!x && fn && !now) {
    return MANTA_ERR_NOMEM;
  }
  if (now) {
    fn(arg);
  }
  return MANTA_OK;
}
