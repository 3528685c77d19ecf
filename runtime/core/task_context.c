/*
 * The call running on a thread: set by mt_task_invoke around each task or
 * actor method, read by manta_cancelled and manta_current_* from inside it.
 * The task struct outlives the call (it is freed when the worker finishes
 * it), so the thread may read it without rt.mu; what cancel writes into it
 * from other threads is atomic.
 */
#include "task_context.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static _Thread_local mt_task *current;

mt_task *mt_task_current(void) {
  return current;
}

/* One run of the call: its function, or its actor's method. */
static manta_value *run_once(mt_task *t) {
  const manta_value *const *args = (const manta_value *const *)t->args;
  if (t->kind == MT_TASK_ACTOR_CALL) {
    return mt_task_result(
        t, t->method->fn(t->actor->state_ptr, args, t->nargs, t->method->data));
  }
  return mt_task_result(t, t->fn->fn(args, t->nargs, t->fn->data));
}

static bool is_error(const manta_value *v) {
  return v && manta_value_kind(v) == MANTA_KIND_ERROR;
}

manta_value *mt_task_invoke(mt_task *t) {
  mt_task *outer = current;
  current = t;
  if (t->attempt < 1) {
    t->attempt = 1;
  }
  manta_value *r = run_once(t);
  bool cancelled = false;
  while (is_error(r) && t->kind == MT_TASK_FUNCTION && t->retry_exceptions &&
         !(cancelled = atomic_load(&t->cancel_req) & MT_CANCEL_SET) &&
         t->attempt < INT16_MAX &&
         mt_retry_allowed(t->attempt, t->max_retries)) {
    mt_log(MT_LOG_INFO, "task %s failed (attempt %d): %s; running it again",
           t->fn->name, (int)t->attempt, manta_error_message(r));
    manta_value_free(r);
    t->attempt++;
    mt_lock();
    mt_note_retry_locked(t->fn->name); /* manta_tasks_retried_total */
    mt_unlock();
    r = run_once(t);
  }
  if (is_error(r) && !cancelled && t->kind == MT_TASK_FUNCTION &&
      (t->retry_exceptions || t->attempt > 1)) {
    r = mt_retry_annotate(t, r, NULL);
  }
  current = outer;
  return r;
}

int manta_cancelled(void) {
  mt_task *t = current;
  return t && (atomic_load(&t->cancel_req) & MT_CANCEL_SET) ? 1 : 0;
}

int manta_current_attempt(void) {
  mt_task *t = current;
  return t ? (t->attempt < 1 ? 1 : (int)t->attempt) : 0;
}

static void write_hex_id(char *buf, const char *prefix, const uint8_t w[16]) {
  static const char hex[] = "0123456789abcdef";
  size_t k = strlen(prefix);
  memcpy(buf, prefix, k);
  for (int i = 0; i < 16; i++) {
    buf[k++] = hex[w[i] >> 4];
    buf[k++] = hex[w[i] & 15];
  }
  buf[k] = '\0';
}

manta_err manta_current_task_id(char *buf, size_t size) {
  mt_task *t = current;
  if (!buf || size < 37) {
    return MANTA_ERR_INVALID;
  }
  if (!t) {
    return MANTA_ERR_NOT_FOUND;
  }
  uint8_t wire[16];
  if (t->extra && t->extra->has_task_id) {
    /* Its id where it was called; the extra part is made before the task
     * is queued, and only this thread adds to it while it runs. */
    memcpy(wire, t->extra->task_id, sizeof wire);
  } else {
    mt_lock();
    bool ok = t->result != NULL;
    if (ok) {
      mt_obj_to_wire(mt_slots_id(&mt_rt.objects, t->result), wire);
    }
    mt_unlock();
    if (!ok) {
      return MANTA_ERR_NOT_FOUND;
    }
  }
  write_hex_id(buf, "obj-", wire);
  return MANTA_OK;
}

manta_err manta_current_actor_id(char *buf, size_t size) {
  mt_task *t = current;
  if (!buf || size < 39) {
    return MANTA_ERR_INVALID;
  }
  if (!t || t->kind != MT_TASK_ACTOR_CALL || !t->actor) {
    return MANTA_ERR_NOT_FOUND;
  }
  uint8_t wire[16];
  mt_lock();
  uint64_t id = mt_actor_id(t->actor);
  mt_unlock();
  mt_actor_to_wire(id, wire); /* a proxy's says where the actor lives */
  write_hex_id(buf, "actor-", wire);
  return MANTA_OK;
}
