/*
 * Work running on a thread, seen from inside: the context manta_current_*
 * and manta_cancelled read (task_context.c), cancelling work that already
 * runs (cancel.c), and how many times a call may run (task_retry.c).
 */
#ifndef MT_TASK_CONTEXT_H
#define MT_TASK_CONTEXT_H

#include "rt.h"

/* Bits of mt_task.cancel_req. */
enum { MT_CANCEL_SET = 1, MT_CANCEL_RECURSIVE = 2 };

/* What few tasks need, allocated on first use so that the others do not
 * grow: the calls it submitted while running, its cancel handler, and its
 * id at a caller on another node. Written under rt.mu. */
typedef struct mt_task_extra {
  uint64_t *kids; /* result object ids: ids, so a child freed is not found */
  size_t nkids, kids_cap;
  manta_cancel_fn on_cancel;
  void *on_cancel_arg;
  bool has_task_id;
  uint8_t task_id[16];
  /* Set while the call waits in manta_get or manta_wait (objects.c): what
   * a cancel broadcasts so that the wait returns at once. */
  pthread_cond_t *wait_cv;
} mt_task_extra;

/* t's extra part, made if need be (rt.mu); NULL on OOM. */
mt_task_extra *mt_task_extra_get_locked(mt_task *t);
/* Frees it (with the task). */
void mt_task_extra_free(mt_task *t);

/* ---- the running task (task_context.c) ---------------------------------- */

/* Runs t's function or actor method on this thread (its worker claimed
 * it) with t as the thread's current task, running a function again after
 * an application error while its retry options allow. Returns what the
 * call returned, as mt_task_result made it. */
manta_value *mt_task_invoke(mt_task *t);
/* The task running on this thread, or NULL (valid while it runs). */
mt_task *mt_task_current(void);

/* ---- cancelling (cancel.c) ---------------------------------------------- */

/* A function call t was just submitted (rt.mu held): if a task runs on
 * this thread, t is noted as its child, for a recursive cancel. */
void mt_cancel_note_child_locked(mt_task *t);
/* What a task ends with (v taken): its own result, or CANCELLED when it
 * was cancelled while it ran, whatever it returned. */
manta_value *mt_cancel_outcome_slow_locked(mt_task *t, manta_value *v,
                                           mt_garbage *g);
/* The check inline, the rest out of line: every task passes here. */
static inline manta_value *mt_cancel_outcome_locked(mt_task *t, manta_value *v,
                                                    mt_garbage *g) {
  return atomic_load_explicit(&t->cancel_req, memory_order_relaxed)
             ? mt_cancel_outcome_slow_locked(t, v, g)
             : v;
}
/* Whether t (NULL: none) was asked to stop. */
static inline bool mt_cancel_requested(const mt_task *t) {
  return t && (atomic_load(&((mt_task *)t)->cancel_req) & MT_CANCEL_SET);
}
/* Cancels the task making object o (manta_cancel_with flags): not
 * started, it resolves to CANCELLED now; running, its flag is set (and,
 * recursive, its children's). MANTA_ERR_INVALID when there is nothing to
 * cancel (done, a put object, a creation). */
manta_err mt_cancel_object_locked(mt_object *o, unsigned flags, mt_garbage *g);

/* ---- retries (task_retry.c) --------------------------------------------- */

/* Default max_retries of a call: re-runs after its node died. */
#define MT_DEFAULT_MAX_RETRIES 3

/* Copies a call's retry options (NULL: defaults) into its task. */
void mt_retry_init_locked(mt_task *t, const manta_call_options *opts);
/* Whether a call that ran `attempts` times may run once more. */
bool mt_retry_allowed(int attempts, int max_retries);
/* " (attempt K of N on node WHERE)" into buf, for a final error. */
void mt_retry_describe(char *buf, size_t size, int attempt, int max_retries,
                       const char *where);
/* err (taken) with mt_retry_describe appended to its message, for the
 * attempt of t that ended with it; where NULL: this node. */
manta_value *mt_retry_annotate(const mt_task *t, manta_value *err,
                               const char *where);

#endif
