/*
 * manta_when_ready: the program's completion callbacks, on top of the
 * object table's ready listeners (objects.c).
 *
 * The listener fires under rt.mu, where a user function must not run (it
 * may call back into the runtime), so it only takes the value and queues
 * the call on the garbage list of whoever completed the object; the call
 * runs once that thread released the lock. Callbacks still pending when the
 * runtime stops are called with MANTA_ERR_SHUTDOWN, so each runs once.
 */
#include "rt.h"

#include <stdlib.h>

typedef struct ready_cb {
  mt_listener l;                /* on the object while pending */
  mt_call_job job;              /* on a garbage list once ready */
  struct ready_cb *next, *prev; /* the pending ones (under rt.mu) */
  mt_object *obj;               /* counted while pending */
  manta_ready_fn fn;
  void *arg;
  manta_ref ref;
  manta_value *value; /* owned once ready */
} ready_cb;

static ready_cb *pending; /* under rt.mu */

static void run_callback(mt_call_job *job) {
  ready_cb *cb = (ready_cb *)((char *)job - offsetof(ready_cb, job));
  manta_err err = manta_value_kind(cb->value) == MANTA_KIND_ERROR
                      ? manta_error_code(cb->value)
                      : MANTA_OK;
  cb->fn(cb->arg, cb->ref, err, cb->value);
  manta_value_free(cb->value);
  free(cb);
}

static void unlink_pending_locked(ready_cb *cb) {
  if (cb->prev) {
    cb->prev->next = cb->next;
  } else if (pending == cb) {
    pending = cb->next;
  }
  if (cb->next) {
    cb->next->prev = cb->prev;
  }
  cb->next = cb->prev = NULL;
}

/* Under the lock, from whoever completed the object (or from
 * manta_when_ready itself when it was ready already). */
static void on_ready(void *ctx, mt_object *o, mt_garbage *g) {
  ready_cb *cb = ctx;
  unlink_pending_locked(cb);
  cb->value = mt_obj_value_locked(o, g); /* read back if spilled */
  cb->obj = NULL;
  mt_obj_release_locked(o, g);
  cb->job.fn = run_callback;
  mt_garbage_add_call(g, &cb->job);
}

manta_err manta_when_ready(manta_ref ref, manta_ready_fn fn, void *arg) {
  if (!fn) {
    return MANTA_ERR_INVALID;
  }
  ready_cb *cb = calloc(1, sizeof *cb);
  if (!cb) {
    return MANTA_ERR_NOMEM;
  }
  cb->fn = fn;
  cb->arg = arg;
  cb->ref = ref;
  mt_garbage g;
  mt_garbage_init(&g);
  manta_err err = MANTA_OK;
  mt_lock();
  mt_object *o = NULL;
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if (!(o = mt_obj_lookup_locked(ref.id))) {
    err = MANTA_ERR_BAD_HANDLE;
  } else {
    mt_obj_retain_locked(o);
    cb->obj = o;
    cb->next = pending;
    if (pending) {
      pending->prev = cb;
    }
    pending = cb;
    mt_obj_when_ready_locked(o, &cb->l, on_ready, cb, &g);
  }
  mt_unlock();
  mt_garbage_free(&g); /* runs fn now if the ref was ready */
  if (err != MANTA_OK) {
    free(cb);
  }
  return err;
}

void mt_ready_callbacks_shutdown_locked(mt_garbage *g) {
  while (pending) {
    ready_cb *cb = pending;
    unlink_pending_locked(cb);
    mt_listener_remove_locked(&cb->l);
    cb->value = mt_error_new(MANTA_ERR_SHUTDOWN, "when_ready",
                             "the runtime shut down before object %016llx "
                             "was ready",
                             (unsigned long long)cb->ref.id);
    cb->obj = NULL; /* its count goes with the table (mt_objects_destroy) */
    cb->job.fn = run_callback;
    mt_garbage_add_call(g, &cb->job);
  }
}
